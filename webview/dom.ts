// The viewer's DOM: toolbar, warning line, the views (one WebGL canvas, a 2-D layer for prompt
// markers, per-view titles and orientation letters, a message box), the label table and the
// status line.
import { VIEW_SLOTS, type ViewSlot } from './types';

export interface ViewerDom {
  root: HTMLElement;
  toolbarEl: HTMLElement;
  warningEl: HTMLElement;
  viewsEl: HTMLElement;
  canvas: HTMLCanvasElement;
  promptLayer: HTMLCanvasElement;
  messageEl: HTMLElement;
  labelTableEl: HTMLElement;
  statusEl: HTMLElement;
  viewOverlays: Map<ViewSlot, HTMLElement>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  return e;
}

/** Builds the viewer's elements inside `parent`. */
export function buildViewerDom(parent: HTMLElement): ViewerDom {
  const root = el('div', 'll-root');
  const toolbarEl = el('div', 'll-toolbar');
  const body = el('div', 'll-body');
  const viewsEl = el('div', 'll-views');
  const canvas = el('canvas', 'll-canvas');
  canvas.tabIndex = 0;
  canvas.setAttribute('aria-label', 'Image views');
  const promptLayer = el('canvas', 'll-prompt-layer');
  Object.assign(promptLayer.style, { position: 'absolute', left: '0', top: '0', pointerEvents: 'none' });
  const messageEl = el('div', 'll-message');
  messageEl.hidden = true;
  viewsEl.append(canvas, promptLayer, messageEl);
  const labelTableEl = el('div', 'll-labels');
  body.append(viewsEl, labelTableEl);
  const warningEl = el('div', 'll-warning');
  warningEl.hidden = true;
  const statusEl = el('div', 'll-status');
  root.append(toolbarEl, warningEl, body, statusEl);
  parent.appendChild(root);
  const viewOverlays = new Map<ViewSlot, HTMLElement>();
  for (const slot of VIEW_SLOTS) {
    const o = el('div', 'll-view-overlay');
    o.dataset.view = slot;
    o.innerHTML =
      '<span class="ll-title"></span><span class="ll-letter ll-left"></span><span class="ll-letter ll-right"></span>' +
      '<span class="ll-letter ll-top"></span><span class="ll-letter ll-bottom"></span>';
    viewsEl.appendChild(o);
    viewOverlays.set(slot, o);
  }
  return { root, toolbarEl, warningEl, viewsEl, canvas, promptLayer, messageEl, labelTableEl, statusEl, viewOverlays };
}
