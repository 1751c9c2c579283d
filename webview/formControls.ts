// Small form controls for the toolbar: a word label before each control, a unit after it, a
// tooltip that names the shortcut key, and a `data-ctl` key that tests and `setValue` address.
import { codicon, type CodiconName } from './icons';

type Ctl = HTMLInputElement | HTMLSelectElement;

/** The controls made so far, by key. */
export class FormControls {
  private readonly controls = new Map<string, Ctl>();

  get(key: string): Ctl | undefined {
    return this.controls.get(key);
  }

  /** `<label title><span>Label</span><control><span>unit</span></label>`. */
  private field(parent: HTMLElement, key: string, label: string, title: string, control: Ctl, unit = ''): HTMLLabelElement {
    const wrap = document.createElement('label');
    wrap.className = 'll-field';
    wrap.title = title;
    wrap.dataset.field = key;
    if (label) {
      const text = document.createElement('span');
      text.className = 'll-field-label';
      text.textContent = label;
      wrap.appendChild(text);
    }
    control.dataset.ctl = key;
    wrap.appendChild(control);
    if (unit) {
      const u = document.createElement('span');
      u.className = 'll-unit';
      u.textContent = unit;
      wrap.appendChild(u);
    }
    parent.appendChild(wrap);
    this.controls.set(key, control);
    return wrap;
  }

  select(parent: HTMLElement, key: string, label: string, title: string, options: readonly (readonly [value: string, text: string, group?: string])[], onChange: (v: string) => void): HTMLSelectElement {
    const s = document.createElement('select');
    if (!label) s.setAttribute('aria-label', title);
    for (const [value, text, groupLabel] of options) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      // Options with a group label go into an <optgroup> of that label (made on first use).
      let parentEl: HTMLElement = s;
      if (groupLabel) {
        parentEl = [...s.querySelectorAll('optgroup')].find((g) => g.label === groupLabel) ?? s.appendChild(Object.assign(document.createElement('optgroup'), { label: groupLabel }));
      }
      parentEl.appendChild(o);
    }
    s.addEventListener('change', () => onChange(s.value));
    this.field(parent, key, label, title, s);
    return s;
  }

  /** A number field; `change` fires on Enter or leaving the field. */
  number(parent: HTMLElement, key: string, label: string, unit: string, title: string, attrs: Record<string, string>, onChange: (i: HTMLInputElement) => void): HTMLInputElement {
    const i = this.input('number', attrs, 'change', onChange);
    this.field(parent, key, label, title, i, unit);
    return i;
  }

  checkbox(parent: HTMLElement, key: string, label: string, title: string, onChange: (i: HTMLInputElement) => void): HTMLInputElement {
    const i = this.input('checkbox', {}, 'change', onChange);
    const wrap = this.field(parent, key, '', title, i);
    // The words follow the box, as in VS Code's settings.
    const text = document.createElement('span');
    text.className = 'll-field-label';
    text.textContent = label;
    wrap.appendChild(text);
    return i;
  }

  /** A slider; `input` fires while dragging. */
  range(parent: HTMLElement, key: string, label: string, title: string, attrs: Record<string, string>, onChange: (i: HTMLInputElement) => void): HTMLInputElement {
    const i = this.input('range', attrs, 'input', onChange);
    if (!label) i.setAttribute('aria-label', title);
    this.field(parent, key, label, title, i);
    return i;
  }

  private input(type: string, attrs: Record<string, string>, event: 'change' | 'input', onChange: (i: HTMLInputElement) => void): HTMLInputElement {
    const i = document.createElement('input');
    i.type = type;
    for (const [k, v] of Object.entries(attrs)) i.setAttribute(k, v);
    i.addEventListener(event, () => onChange(i));
    return i;
  }

  /** Sets a control unless the user is in it (a refresh must not fight typing). */
  setValue(key: string, value: string | boolean): void {
    const c = this.controls.get(key);
    if (!c || document.activeElement === c) return;
    if (typeof value === 'boolean') (c as HTMLInputElement).checked = value;
    else c.value = value;
  }
}

/** A button with words, an optional codicon before them, and a tooltip. */
export function textButton(parent: HTMLElement, text: string, title: string, onClick: () => void, icon?: CodiconName): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.title = title;
  if (icon) b.appendChild(codicon(icon));
  b.append(text);
  b.addEventListener('click', onClick);
  parent.appendChild(b);
  return b;
}

/** An icon-only button; `label` is its accessible name, `title` its tooltip. */
export function iconButton(parent: HTMLElement, icon: CodiconName, label: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'll-icon-button';
  b.title = title;
  b.setAttribute('aria-label', label);
  b.appendChild(codicon(icon));
  b.addEventListener('click', onClick);
  parent.appendChild(b);
  return b;
}

/** A titled group of controls (`data-group` names it for tests). */
export function group(parent: HTMLElement, name: string, label: string): HTMLElement {
  const g = document.createElement('div');
  g.className = 'll-group';
  g.dataset.group = name;
  g.setAttribute('role', 'group');
  g.setAttribute('aria-label', label);
  parent.appendChild(g);
  return g;
}
