// The label table beside the views: pick the label to paint with, rename, recolour, hide, lock;
// add a label. Every change goes to the host as one undoable edit of the table.
import type { LabelTableEntry } from '../src/protocol/messages';
import { defaultLabelColor } from './colormaps';
import { textButton } from './formControls';
import type { Viewer } from './viewer';

export class LabelTablePanel {
  private signature = '';
  /** The rows and the add button (rebuilt); the label display controls above them stay. */
  private readonly list: HTMLElement;

  constructor(
    private readonly viewer: Viewer,
    /** Called after the active label changed here (the controls refresh). */
    private readonly onActiveLabel: () => void,
  ) {
    const head = document.createElement('div');
    head.className = 'll-labels-head';
    head.textContent = 'Labels';
    this.list = document.createElement('div');
    this.list.className = 'll-labels-list';
    viewer.labelTableEl.prepend(head);
    viewer.labelTableEl.append(this.list);
  }

  /** Rebuilds the rows when the table, the active label or the present labels changed. */
  refresh(): void {
    const v = this.viewer;
    const sig = JSON.stringify([v.labelTable, v.activeLabel, v.readOnly, [...v.presentLabels]]);
    if (sig === this.signature) return;
    this.signature = sig;
    const root = this.list;
    root.replaceChildren();
    for (const e of this.rows()) root.appendChild(this.row(e));
    const add = textButton(root, '+ label', 'Add a label with the next free value', () => {
      const used = new Set(v.labelTable.map((e) => e.value));
      let value = 1;
      while (used.has(value)) value++;
      const [r, g, b] = defaultLabelColor(value);
      v.setLabelTable([...v.labelTable, { value, name: `Label ${value}`, color: [r, g, b], visible: true, locked: false }], true, 'Add label');
      v.activeLabel = value;
      this.onActiveLabel();
    });
    add.disabled = v.readOnly;
  }

  /** The table's labels, plus a default row for labels in the volume or selected but missing from it. */
  private rows(): LabelTableEntry[] {
    const v = this.viewer;
    const rows = v.labelTable.filter((e) => e.value !== 0);
    for (const value of new Set([...v.presentLabels, v.activeLabel])) {
      if (rows.some((e) => e.value === value)) continue;
      const [r, g, b] = defaultLabelColor(value);
      rows.push({ value, name: `Label ${value}`, color: [r, g, b], visible: true, locked: false });
    }
    return rows.sort((a, b) => a.value - b.value);
  }

  private commit(entry: LabelTableEntry, change: Partial<LabelTableEntry>, undoLabel: string): void {
    const v = this.viewer;
    const table = v.labelTable.filter((e) => e.value !== entry.value);
    table.push({ ...entry, ...change });
    table.sort((a, b) => a.value - b.value);
    v.setLabelTable(table, !v.readOnly, undoLabel);
  }

  private row(e: LabelTableEntry): HTMLElement {
    const v = this.viewer;
    const row = document.createElement('div');
    row.className = 'll-label-row';
    row.dataset.value = String(e.value);
    row.classList.toggle('ll-active', e.value === v.activeLabel);
    const pick = textButton(row, String(e.value), `Paint with label ${e.value}${e.value <= 9 ? ` (${e.value})` : ''}`, () => {
      v.activeLabel = e.value;
      this.onActiveLabel();
    });
    pick.setAttribute('aria-pressed', String(e.value === v.activeLabel));
    const color = input(row, 'color', 'Colour');
    color.value = `#${e.color.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
    color.addEventListener('change', () => {
      const hex = color.value.slice(1);
      this.commit(e, { color: [0, 2, 4].map((n) => parseInt(hex.slice(n, n + 2), 16)) as [number, number, number] }, 'Change label colour');
    });
    const name = input(row, 'text', 'Name');
    name.value = e.name;
    name.addEventListener('change', () => this.commit(e, { name: name.value }, 'Rename label'));
    const vis = input(row, 'checkbox', 'Visible');
    vis.checked = e.visible;
    vis.addEventListener('change', () => this.commit(e, { visible: vis.checked }, vis.checked ? 'Show label' : 'Hide label'));
    const lock = input(row, 'checkbox', 'Locked (tools never change it)');
    lock.checked = e.locked;
    lock.addEventListener('change', () => this.commit(e, { locked: lock.checked }, lock.checked ? 'Lock label' : 'Unlock label'));
    for (const i of [color, name, vis, lock]) i.disabled = v.readOnly;
    return row;
  }
}

function input(parent: HTMLElement, type: string, title: string): HTMLInputElement {
  const i = document.createElement('input');
  i.type = type;
  i.title = title;
  i.setAttribute('aria-label', title);
  parent.appendChild(i);
  return i;
}
