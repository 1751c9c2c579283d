// Where each view sits on the one canvas: 2×2 (axial, sagittal / coronal, 3-D), 1×3 (the three
// slice views) or a single view.
import type { WebGLRenderer } from 'three';
import type { ViewLayout } from '../src/protocol/messages';
import type { Rect, SliceView } from './sliceView';
import { rgbToHex, themeColor } from './theme';
import type { ViewSlot } from './types';
import type { VolumeView } from './volumeView';

/** Gap between views (CSS px), filled with the editor group border colour. */
const VIEW_GAP = 2;

/** The rectangles (CSS px) of the visible views of a layout in a w×h canvas. Pure. */
export function viewRects(layout: ViewLayout, single: ViewSlot, w: number, h: number): Map<ViewSlot, Rect> {
  const rects = new Map<ViewSlot, Rect>();
  const gap = VIEW_GAP;
  if (layout === '2x2') {
    const cw = Math.floor((w - gap) / 2);
    const chh = Math.floor((h - gap) / 2);
    rects.set('axial', { x: 0, y: 0, width: cw, height: chh });
    rects.set('sagittal', { x: cw + gap, y: 0, width: w - cw - gap, height: chh });
    rects.set('coronal', { x: 0, y: chh + gap, width: cw, height: h - chh - gap });
    rects.set('3d', { x: cw + gap, y: chh + gap, width: w - cw - gap, height: h - chh - gap });
  } else if (layout === '1x3') {
    const cw = Math.floor((w - 2 * gap) / 3);
    rects.set('axial', { x: 0, y: 0, width: cw, height: h });
    rects.set('coronal', { x: cw + gap, y: 0, width: cw, height: h });
    rects.set('sagittal', { x: 2 * (cw + gap), y: 0, width: w - 2 * (cw + gap), height: h });
  } else {
    rects.set(single, { x: 0, y: 0, width: w, height: h });
  }
  return rects;
}

/** What laying out the views touches. */
export interface LayoutTarget {
  renderer: WebGLRenderer;
  viewsEl: HTMLElement;
  promptLayer: HTMLCanvasElement;
  sliceViews: readonly SliceView[];
  volumeView: VolumeView | null;
  /** Title and orientation-letter overlays of each view slot. */
  viewOverlays: ReadonlyMap<ViewSlot, HTMLElement>;
  hasVolume: boolean;
  layout: ViewLayout;
  single: ViewSlot;
}

/**
 * Sizes the canvas and the prompt layer to the views' element, places every view and its
 * overlay, and clears the canvas in the theme's border colour. Returns the crosshair colour
 * (the theme's focus border) for the next frames.
 */
export function layoutViews(t: LayoutTarget): [number, number, number, number] {
  const w = Math.max(1, Math.floor(t.viewsEl.clientWidth));
  const h = Math.max(1, Math.floor(t.viewsEl.clientHeight));
  const dpr = window.devicePixelRatio || 1;
  t.renderer.setPixelRatio(dpr);
  t.renderer.setSize(w, h, true);
  t.promptLayer.width = Math.round(w * dpr);
  t.promptLayer.height = Math.round(h * dpr);
  Object.assign(t.promptLayer.style, { width: `${w}px`, height: `${h}px` });
  const none: Rect = { x: 0, y: 0, width: 0, height: 0 };
  const rects = viewRects(t.layout, t.single, w, h);
  for (const v of t.sliceViews) v.rect = rects.get(v.kind) ?? none;
  if (t.volumeView) t.volumeView.rect = rects.get('3d') ?? none;
  for (const [slot, o] of t.viewOverlays) {
    const r = rects.get(slot);
    o.hidden = !r || !t.hasVolume;
    if (r) Object.assign(o.style, { left: `${r.x}px`, top: `${r.y}px`, width: `${r.width}px`, height: `${r.height}px` });
  }
  // Clear the whole canvas once (gaps between views); the caller redraws everything.
  t.renderer.setScissor(0, 0, w, h);
  t.renderer.setClearColor(rgbToHex(themeColor('--vscode-editorGroup-border', [40, 40, 40])), 1);
  t.renderer.clear();
  const focus = themeColor('--vscode-focusBorder', [0, 122, 204]);
  return [focus[0] / 255, focus[1] / 255, focus[2] / 255, 0.85];
}
