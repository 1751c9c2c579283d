// The view state kept across webview reloads with vscode.setState: what is written, and the
// validation of what comes back (it may be from an older version or another file). Pure: no DOM,
// no WebGL (test/webview/persistedState.test.ts runs it in Node).
import type { ViewLayout } from '../src/protocol/messages';
import { COLORMAP_NAMES, UNCERTAINTY_COLORMAPS, type ColormapName } from './colormaps';
import { SLICE_VIEW_KINDS, type SliceViewKind, type Vec3 } from './geometry';
import { LabelMode3D, RenderMode3D } from './renderModes';
import type { BrushShape } from './tools/brush';
import type { Ruler } from './tools/measureTool';
import type { PromptDrag } from './tools/promptTool';
import { isToolName, type ToolName } from './tools/toolSet';
import { VIEW_SLOTS, type ViewSlot } from './types';
import type { WindowLevel } from './windowing';

/** Zoom and pan of one slice view. */
export interface SliceViewLook {
  zoom: number;
  panMm: [number, number];
}

/** How the overlay maps look (the maps themselves are re-sent by the host). */
export interface OverlayLook {
  probabilityOpacity: number;
  uncertaintyOpacity: number;
  proposalOutline: boolean;
  uncertaintyColormap: ColormapName;
}

/** State kept across webview reloads with vscode.setState. */
export interface PersistedViewerState {
  fileName: string;
  crosshair: Vec3;
  window: WindowLevel;
  colormap: ColormapName;
  layout: ViewLayout;
  single: ViewSlot;
  radiological: boolean;
  views: Record<SliceViewKind, SliceViewLook>;
  tool: ToolName;
  brushRadiusMm: number;
  brushShape: BrushShape;
  /** What a plain drag draws in the Prompt tool ("Drag draws"). */
  promptDrag: PromptDrag;
  activeLabel: number;
  mode3d: RenderMode3D;
  labelMode3d: LabelMode3D;
  overlayLook?: OverlayLook;
  frame: number;
  /** The Measure tool's rulers and angles (display-world mm, on their slices). */
  measurements?: Ruler[];
}

/** The valid parts of a saved state; a field that failed its check is absent. */
export type RestoredViewerState = Partial<Omit<PersistedViewerState, 'fileName' | 'views' | 'overlayLook'>> & {
  views?: Partial<Record<SliceViewKind, SliceViewLook>>;
  overlayLook?: Partial<OverlayLook>;
};

const LAYOUTS: readonly ViewLayout[] = ['2x2', '1x3', 'single'];
const PROMPT_DRAGS: readonly PromptDrag[] = ['box', 'lasso', 'scribble'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isOneOf<T>(values: readonly T[], v: unknown): v is T {
  return (values as readonly unknown[]).includes(v);
}

function isUnitInterval(v: unknown): v is number {
  return isFiniteNumber(v) && v >= 0 && v <= 1;
}

/**
 * Checks a state read back with vscode.getState for the document `fileName` with `frameCount`
 * frames. Returns null when it is not an object or belongs to another file; otherwise each
 * field that passes its check (a bad field is dropped, the rest still apply).
 */
export function parsePersistedState(raw: unknown, fileName: string, frameCount: number): RestoredViewerState | null {
  if (!isObject(raw) || raw.fileName !== fileName) return null;
  const out: RestoredViewerState = {};
  const c = raw.crosshair;
  if (Array.isArray(c) && c.length === 3 && c.every(isFiniteNumber)) out.crosshair = [c[0], c[1], c[2]];
  const w = raw.window;
  if (isObject(w) && isFiniteNumber(w.level) && isFiniteNumber(w.width) && w.width > 0) out.window = { level: w.level, width: w.width };
  if (isOneOf(COLORMAP_NAMES, raw.colormap)) out.colormap = raw.colormap;
  if (isOneOf(LAYOUTS, raw.layout)) out.layout = raw.layout;
  if (isOneOf(VIEW_SLOTS, raw.single)) out.single = raw.single;
  if (typeof raw.radiological === 'boolean') out.radiological = raw.radiological;
  if (isObject(raw.views)) {
    const views: Partial<Record<SliceViewKind, SliceViewLook>> = {};
    for (const kind of SLICE_VIEW_KINDS) {
      const z = raw.views[kind];
      if (isObject(z) && isFiniteNumber(z.zoom) && z.zoom > 0 && Array.isArray(z.panMm) && z.panMm.length === 2 && z.panMm.every(isFiniteNumber)) {
        views[kind] = { zoom: z.zoom, panMm: [z.panMm[0], z.panMm[1]] };
      }
    }
    out.views = views;
  }
  if (isToolName(raw.tool)) out.tool = raw.tool;
  if (isFiniteNumber(raw.brushRadiusMm) && raw.brushRadiusMm > 0) out.brushRadiusMm = raw.brushRadiusMm;
  if (raw.brushShape === 'disc' || raw.brushShape === 'sphere') out.brushShape = raw.brushShape;
  if (isOneOf(PROMPT_DRAGS, raw.promptDrag)) out.promptDrag = raw.promptDrag;
  if (Number.isInteger(raw.activeLabel) && (raw.activeLabel as number) > 0 && (raw.activeLabel as number) < 65536) out.activeLabel = raw.activeLabel as number;
  if (isOneOf(Object.values(RenderMode3D), raw.mode3d)) out.mode3d = raw.mode3d;
  if (isOneOf(Object.values(LabelMode3D), raw.labelMode3d)) out.labelMode3d = raw.labelMode3d;
  const look = raw.overlayLook;
  if (isObject(look)) {
    const l: Partial<OverlayLook> = {};
    if (isUnitInterval(look.probabilityOpacity)) l.probabilityOpacity = look.probabilityOpacity;
    if (isUnitInterval(look.uncertaintyOpacity)) l.uncertaintyOpacity = look.uncertaintyOpacity;
    if (typeof look.proposalOutline === 'boolean') l.proposalOutline = look.proposalOutline;
    if (isOneOf(UNCERTAINTY_COLORMAPS, look.uncertaintyColormap)) l.uncertaintyColormap = look.uncertaintyColormap;
    out.overlayLook = l;
  }
  if (Number.isInteger(raw.frame) && (raw.frame as number) >= 0 && (raw.frame as number) < frameCount) out.frame = raw.frame as number;
  if (Array.isArray(raw.measurements)) out.measurements = raw.measurements.filter(isRuler).map((r) => ({ ...r, a: [...r.a], b: [...r.b], ...(r.c ? { c: [...r.c] } : {}) }) as Ruler);
  return out;
}

function isVec3(v: unknown): v is Vec3 {
  return Array.isArray(v) && v.length === 3 && v.every(isFiniteNumber);
}

/** A saved ruler or angle (whether its slice lies in the volume is the viewer's check). */
function isRuler(v: unknown): v is Ruler {
  return isObject(v) && isVec3(v.a) && isVec3(v.b) && (v.c === undefined || isVec3(v.c)) && isOneOf([0, 1, 2], v.normalAxis) && Number.isInteger(v.slice) && (v.slice as number) >= 0;
}
