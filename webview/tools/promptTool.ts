// The Prompt tool (K): clicks, boxes, outlines and scribbles that tell the host which object to
// segment in 3-D. Left click = positive point, Shift+click or right click = negative point, drag =
// a box around the object on the slice of the view, Ctrl+drag (⌘ on macOS) = the object's outline
// on that slice (a lasso), Ctrl+Shift+drag or Ctrl+right drag = an outline of what is not the
// object there (a negative lasso), Alt+drag (Option on macOS) = a scribble through the object on
// that slice, Alt+Shift+drag or Alt+right drag = a scribble off it; Backspace removes the last
// prompt, Esc clears them. The "Drag draws" selector of the tool's options row (toolbar.ts) sets
// what a plain drag draws, a box (the default), an outline or a scribble, for those who cannot or
// would rather not hold Ctrl or Alt (Alt may open the menu bar, a window manager may take
// Alt+drag, trackpads want no chords): Shift or the right button still makes an outline or a
// scribble negative; Ctrl and Alt still override it.
// After every change the whole prompt list goes to the host (`prompt`), which answers with the
// object's mask as the proposal overlay. The markers are drawn on a 2-D canvas over the views.
import type { PromptBox, PromptLasso, PromptMessage, PromptPoint, PromptScribble, PromptTarget } from '../../src/protocol/messages';
import type { Vec3 } from '../geometry';
import { drawInEachView, type ViewFrame } from './viewFrames';

/** One prompt, in the order given (Backspace removes the last). */
export type PromptEntry =
  | { kind: 'point'; point: PromptPoint }
  | { kind: 'box'; box: PromptBox }
  | { kind: 'lasso'; lasso: PromptLasso }
  | { kind: 'scribble'; scribble: PromptScribble };

/** What a drag draws: a box, an outline (Ctrl or ⌘) or a scribble (Alt or Option); a plain drag draws what "Drag draws" says. */
export type PromptDrag = 'box' | 'lasso' | 'scribble';

/** What the tool needs from the viewer. */
export interface PromptToolHooks {
  post(message: PromptMessage): void;
  /** The label and overwrite policy selected now. */
  target(): PromptTarget;
  /** The prompts or the box being dragged changed: redraw the markers. */
  changed(): void;
  status(text: string): void;
}

/** A press moves this many CSS px before it becomes a drag (a box, an outline or a scribble). */
export const PROMPT_DRAG_PX = 4;
export const PROMPT_COLORS = {
  positive: 'rgb(34, 197, 94)',
  negative: 'rgb(239, 68, 68)',
  box: 'rgb(250, 204, 21)',
  lasso: 'rgb(56, 189, 248)',
} as const;

interface Press {
  x: number;
  y: number;
  voxel: Vec3;
  normalAxis: number;
  negative: boolean;
  drag: PromptDrag;
  dragging: boolean;
}

/** Prompt state and gestures of one viewer. */
export class PromptTool {
  entries: PromptEntry[] = [];
  /** Id of the object being prompted; a new one after Accept, Reject or Esc. */
  objectId = 0;
  /** The box being dragged (drawn dashed until release). */
  dragBox: PromptBox | null = null;
  /** The outline being drawn (dashed until release). */
  dragLasso: PromptLasso | null = null;
  /** The scribble being drawn (dashed until release). */
  dragScribble: PromptScribble | null = null;
  private press: Press | null = null;

  constructor(private readonly hooks: PromptToolHooks) {}

  /** Whether a press is in progress (the viewer routes moves and releases here). */
  get pressing(): boolean {
    return this.press !== null;
  }

  /**
   * A press on `voxel` of a view across voxel axis `normalAxis`; `negative` for Shift or the right
   * button; `drag` is what a drag from it draws.
   */
  pointerDown(x: number, y: number, voxel: Vec3, normalAxis: number, negative: boolean, drag: PromptDrag = 'box'): void {
    this.press = { x, y, voxel, normalAxis, negative, drag, dragging: false };
  }

  /** A move during a press: past PROMPT_DRAG_PX it is a box from the pressed voxel to `voxel`, or an outline or scribble through the voxels passed. */
  pointerMove(x: number, y: number, voxel: Vec3 | null): void {
    const p = this.press;
    if (!p || !voxel) return;
    if (!p.dragging && Math.hypot(x - p.x, y - p.y) < PROMPT_DRAG_PX) return;
    p.dragging = true;
    if (p.drag === 'box') this.dragBox = boxOnSlice(p.voxel, voxel, p.normalAxis);
    else {
      // On the pressed slice, one vertex per voxel entered.
      const onSlice = [0, 1, 2].map((a) => (a === p.normalAxis ? p.voxel[a] : voxel[a])) as [number, number, number];
      const path = p.drag === 'lasso' ? (this.dragLasso ??= { points: [[...p.voxel]], positive: !p.negative }) : (this.dragScribble ??= { points: [[...p.voxel]], positive: !p.negative });
      const last = path.points[path.points.length - 1];
      if (onSlice.some((v, a) => v !== last[a])) path.points.push(onSlice);
    }
    this.hooks.changed();
  }

  /** The release: a click adds a point, a drag adds its box, its outline (one of three or more vertices; a shorter one is dropped) or its scribble. */
  pointerUp(): void {
    const p = this.press;
    this.press = null;
    if (!p) return;
    if (!p.dragging) {
      this.add({ kind: 'point', point: { voxel: [...p.voxel], positive: !p.negative } });
      return;
    }
    const { dragBox: box, dragLasso: lasso, dragScribble: scribble } = this;
    this.dropDrag();
    if (scribble) this.add({ kind: 'scribble', scribble });
    else if (lasso && lasso.points.length >= 3) this.add({ kind: 'lasso', lasso });
    else if (box) this.add({ kind: 'box', box });
    else {
      this.hooks.status('Prompt: an outline needs a drag around the object, through three or more voxels');
      this.hooks.changed();
    }
  }

  /** The press was cancelled (pointercancel): nothing is added. */
  cancelPress(): void {
    this.press = null;
    if (this.dropDrag()) this.hooks.changed();
  }

  /** Drops the box, outline or scribble being drawn; returns whether there was one. */
  private dropDrag(): boolean {
    const had = this.dragBox !== null || this.dragLasso !== null || this.dragScribble !== null;
    this.dragBox = null;
    this.dragLasso = null;
    this.dragScribble = null;
    return had;
  }

  /** Backspace: removes the last prompt and recomputes. Returns whether there was one. */
  removeLast(): boolean {
    if (this.entries.length === 0) return false;
    this.entries.pop();
    this.send();
    return true;
  }

  /** Esc: drops every prompt (and the proposal) and starts a new object. Returns whether there were any. */
  clear(): boolean {
    this.press = null;
    this.dropDrag();
    if (this.entries.length === 0) return false;
    this.entries = [];
    this.send();
    this.objectId++;
    return true;
  }

  /** The host is done with the object (accepted, rejected, replaced): drop the markers, new object. */
  reset(): void {
    this.entries = [];
    this.press = null;
    this.dropDrag();
    this.objectId++;
    this.hooks.changed();
  }

  /** The `prompt` message for the current prompts. */
  message(): PromptMessage {
    const points: PromptPoint[] = [];
    const boxes: PromptBox[] = [];
    const lassos: PromptLasso[] = [];
    const scribbles: PromptScribble[] = [];
    for (const e of this.entries) {
      if (e.kind === 'point') points.push({ voxel: [...e.point.voxel], positive: e.point.positive });
      else if (e.kind === 'box') boxes.push({ min: [...e.box.min], max: [...e.box.max] });
      // Only a negative outline carries `positive` (absent = positive), so positive ones post as before.
      else if (e.kind === 'lasso') lassos.push({ points: e.lasso.points.map((p) => [...p]), ...(e.lasso.positive === false ? { positive: false } : {}) });
      else scribbles.push({ points: e.scribble.points.map((p) => [...p]), positive: e.scribble.positive });
    }
    return { type: 'prompt', objectId: this.objectId, points, boxes, lassos, scribbles, target: this.hooks.target() };
  }

  private add(entry: PromptEntry): void {
    this.entries.push(entry);
    this.send();
  }

  private send(): void {
    this.hooks.post(this.message());
    this.hooks.changed();
  }

  /** Draws the markers of every prompt lying on each view's slice (and the box, outline or scribble being drawn). */
  draw(ctx: CanvasRenderingContext2D, views: readonly ViewFrame[]): void {
    drawInEachView(ctx, views, (view) => {
      for (const e of this.entries) {
        if (e.kind === 'point') {
          if (e.point.voxel[view.normalAxis] === view.slice) drawPoint(ctx, view.voxelToCanvas(e.point.voxel), e.point.positive);
        } else if (e.kind === 'box') {
          drawBox(ctx, view, e.box, false);
        } else if (e.kind === 'lasso') {
          drawLasso(ctx, view, e.lasso, false);
        } else {
          drawScribble(ctx, view, e.scribble, false);
        }
      }
      if (this.dragBox) drawBox(ctx, view, this.dragBox, true);
      if (this.dragLasso) drawLasso(ctx, view, this.dragLasso, true);
      if (this.dragScribble) drawScribble(ctx, view, this.dragScribble, true);
    });
  }
}

/** The box with corners `a` and `b` on `a`'s slice across voxel axis `normalAxis` (inclusive voxel indices). */
export function boxOnSlice(a: Vec3, b: Vec3, normalAxis: number): PromptBox {
  const min = [0, 1, 2].map((x) => (x === normalAxis ? a[x] : Math.min(a[x], b[x]))) as Vec3;
  const max = [0, 1, 2].map((x) => (x === normalAxis ? a[x] : Math.max(a[x], b[x]))) as Vec3;
  return { min, max };
}

const ARM_PX = 7;

function drawPoint(ctx: CanvasRenderingContext2D, [x, y]: [number, number], positive: boolean): void {
  const stroke = (): void => {
    ctx.beginPath();
    ctx.moveTo(x - ARM_PX, y);
    ctx.lineTo(x + ARM_PX, y);
    if (positive) {
      ctx.moveTo(x, y - ARM_PX);
      ctx.lineTo(x, y + ARM_PX);
    }
    ctx.stroke();
  };
  ctx.lineCap = 'square';
  // A dark rim keeps the marker visible on bright tissue and on the proposal's colours.
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
  ctx.lineWidth = 5;
  stroke();
  ctx.strokeStyle = positive ? PROMPT_COLORS.positive : PROMPT_COLORS.negative;
  ctx.lineWidth = 3;
  stroke();
}

function drawBox(ctx: CanvasRenderingContext2D, view: ViewFrame, box: PromptBox, dashed: boolean): void {
  const n = view.normalAxis;
  if (box.min[n] !== box.max[n] || box.min[n] !== view.slice) return;
  // Outer voxel edges, so a one-voxel box still has an area.
  const a = view.voxelToCanvas([0, 1, 2].map((x) => (x === n ? box.min[x] : box.min[x] - 0.5)) as Vec3);
  const b = view.voxelToCanvas([0, 1, 2].map((x) => (x === n ? box.max[x] : box.max[x] + 0.5)) as Vec3);
  const x = Math.min(a[0], b[0]);
  const y = Math.min(a[1], b[1]);
  const w = Math.abs(b[0] - a[0]);
  const h = Math.abs(b[1] - a[1]);
  ctx.setLineDash(dashed ? [6, 4] : []);
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
  ctx.lineWidth = 4;
  ctx.strokeRect(x, y, w, h);
  ctx.strokeStyle = PROMPT_COLORS.box;
  ctx.lineWidth = 2;
  ctx.strokeRect(x, y, w, h);
  ctx.setLineDash([]);
}

/** Whether every vertex lies on the slice `view` shows (outlines and scribbles are drawn in their own view only). */
function onViewSlice(view: ViewFrame, points: readonly Vec3[]): boolean {
  return points.every((p) => p[view.normalAxis] === view.slice);
}

/** The outline on its slice's views, sky blue or (negative) red: closed once drawn, open and dashed while it is drawn. */
function drawLasso(ctx: CanvasRenderingContext2D, view: ViewFrame, lasso: PromptLasso, drawing: boolean): void {
  if (lasso.points.length < 2 || !onViewSlice(view, lasso.points)) return;
  strokePath(ctx, view, lasso.points, lasso.positive === false ? PROMPT_COLORS.negative : PROMPT_COLORS.lasso, 2, drawing, !drawing);
}

/** The scribble on its slice's views, in the colour of a point of its sign; dashed while it is drawn. */
function drawScribble(ctx: CanvasRenderingContext2D, view: ViewFrame, scribble: PromptScribble, drawing: boolean): void {
  if (!onViewSlice(view, scribble.points)) return;
  strokePath(ctx, view, scribble.points, scribble.positive ? PROMPT_COLORS.positive : PROMPT_COLORS.negative, 3, drawing, false);
}

/** A line `width` px wide through the vertices, over a dark rim that keeps it visible on bright tissue and on the proposal. */
function strokePath(ctx: CanvasRenderingContext2D, view: ViewFrame, points: readonly Vec3[], colour: string, width: number, dashed: boolean, closed: boolean): void {
  const xy = points.map((p) => view.voxelToCanvas(p));
  const trace = (): void => {
    ctx.beginPath();
    // A zero-length first segment: a one-vertex scribble shows as a dot (round caps).
    ctx.moveTo(...xy[0]);
    for (const [x, y] of xy) ctx.lineTo(x, y);
    if (closed) ctx.closePath();
    ctx.stroke();
  };
  ctx.setLineDash(dashed ? [6, 4] : []);
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
  ctx.lineWidth = width + 2;
  trace();
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  trace();
  ctx.setLineDash([]);
}
