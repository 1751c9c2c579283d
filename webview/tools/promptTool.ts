// The Prompt tool (K): clicks, boxes and outlines that tell the host which object to segment in
// 3-D. Left click = positive point, Shift+click or right click = negative point, drag = a box
// around the object on the slice of the view, Ctrl+drag (⌘ on macOS) = the object's outline on
// that slice (a lasso); Backspace removes the last prompt, Esc clears them.
// After every change the whole prompt list goes to the host (`prompt`), which answers with the
// object's mask as the proposal overlay. The markers are drawn on a 2-D canvas over the views.
import type { PromptBox, PromptLasso, PromptMessage, PromptPoint, PromptTarget } from '../../src/protocol/messages';
import type { Vec3 } from '../geometry';
import { drawInEachView, type ViewFrame } from './viewFrames';

/** One prompt, in the order given (Backspace removes the last). */
export type PromptEntry = { kind: 'point'; point: PromptPoint } | { kind: 'box'; box: PromptBox } | { kind: 'lasso'; lasso: PromptLasso };

/** What the tool needs from the viewer. */
export interface PromptToolHooks {
  post(message: PromptMessage): void;
  /** The label and overwrite policy selected now. */
  target(): PromptTarget;
  /** The prompts or the box being dragged changed: redraw the markers. */
  changed(): void;
  status(text: string): void;
}

/** A press moves this many CSS px before it becomes a box drag. */
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
  /** Ctrl+drag: an outline, not a box. */
  outline: boolean;
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
  private press: Press | null = null;

  constructor(private readonly hooks: PromptToolHooks) {}

  /** Whether a press is in progress (the viewer routes moves and releases here). */
  get pressing(): boolean {
    return this.press !== null;
  }

  /**
   * A press on `voxel` of a view across voxel axis `normalAxis`; `negative` for Shift or the right
   * button, `outline` for Ctrl (or ⌘): a drag then draws the object's outline.
   */
  pointerDown(x: number, y: number, voxel: Vec3, normalAxis: number, negative: boolean, outline = false): void {
    this.press = { x, y, voxel, normalAxis, negative, outline, dragging: false };
  }

  /** A move during a press: past PROMPT_DRAG_PX it is a box from the pressed voxel to `voxel`, or with Ctrl an outline through the voxels passed. */
  pointerMove(x: number, y: number, voxel: Vec3 | null): void {
    const p = this.press;
    if (!p || !voxel) return;
    if (!p.dragging && Math.hypot(x - p.x, y - p.y) < PROMPT_DRAG_PX) return;
    p.dragging = true;
    if (p.outline) {
      // On the pressed slice, one vertex per voxel entered.
      const onSlice = [0, 1, 2].map((a) => (a === p.normalAxis ? p.voxel[a] : voxel[a])) as [number, number, number];
      this.dragLasso ??= { points: [[...p.voxel]] };
      const last = this.dragLasso.points[this.dragLasso.points.length - 1];
      if (onSlice.some((v, a) => v !== last[a])) this.dragLasso.points.push(onSlice);
    } else this.dragBox = boxOnSlice(p.voxel, voxel, p.normalAxis);
    this.hooks.changed();
  }

  /** The release: a click adds a point, a drag adds its box or its outline (one of three or more vertices; a shorter one is dropped). */
  pointerUp(): void {
    const p = this.press;
    this.press = null;
    if (!p) return;
    if (!p.dragging) {
      this.add({ kind: 'point', point: { voxel: [...p.voxel], positive: !p.negative } });
      return;
    }
    const box = this.dragBox;
    const lasso = this.dragLasso;
    this.dragBox = null;
    this.dragLasso = null;
    if (lasso && lasso.points.length >= 3) this.add({ kind: 'lasso', lasso });
    else if (box) this.add({ kind: 'box', box });
    else {
      this.hooks.status('Prompt: an outline needs a drag around the object (Ctrl+drag)');
      this.hooks.changed();
    }
  }

  /** The press was cancelled (pointercancel): nothing is added. */
  cancelPress(): void {
    this.press = null;
    if (this.dragBox || this.dragLasso) {
      this.dragBox = null;
      this.dragLasso = null;
      this.hooks.changed();
    }
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
    this.dragBox = null;
    this.dragLasso = null;
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
    this.dragBox = null;
    this.dragLasso = null;
    this.objectId++;
    this.hooks.changed();
  }

  /** The `prompt` message for the current prompts. */
  message(): PromptMessage {
    const points: PromptPoint[] = [];
    const boxes: PromptBox[] = [];
    const lassos: PromptLasso[] = [];
    for (const e of this.entries) {
      if (e.kind === 'point') points.push({ voxel: [...e.point.voxel], positive: e.point.positive });
      else if (e.kind === 'box') boxes.push({ min: [...e.box.min], max: [...e.box.max] });
      else lassos.push({ points: e.lasso.points.map((p) => [...p]) });
    }
    return { type: 'prompt', objectId: this.objectId, points, boxes, lassos, target: this.hooks.target() };
  }

  private add(entry: PromptEntry): void {
    this.entries.push(entry);
    this.send();
  }

  private send(): void {
    this.hooks.post(this.message());
    this.hooks.changed();
  }

  /** Draws the markers of every prompt lying on each view's slice (and the box being dragged). */
  draw(ctx: CanvasRenderingContext2D, views: readonly ViewFrame[]): void {
    drawInEachView(ctx, views, (view) => {
      for (const e of this.entries) {
        if (e.kind === 'point') {
          if (e.point.voxel[view.normalAxis] === view.slice) drawPoint(ctx, view.voxelToCanvas(e.point.voxel), e.point.positive);
        } else if (e.kind === 'box') {
          drawBox(ctx, view, e.box, false);
        } else {
          drawLasso(ctx, view, e.lasso, false);
        }
      }
      if (this.dragBox) drawBox(ctx, view, this.dragBox, true);
      if (this.dragLasso) drawLasso(ctx, view, this.dragLasso, true);
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

/** The outline on its slice's views: closed once drawn, open and dashed while it is drawn. */
function drawLasso(ctx: CanvasRenderingContext2D, view: ViewFrame, lasso: PromptLasso, drawing: boolean): void {
  const n = view.normalAxis;
  const pts = lasso.points;
  if (pts.length < 2 || !pts.every((p) => p[n] === view.slice)) return;
  const trace = (): void => {
    ctx.beginPath();
    pts.forEach((p, q) => {
      const [x, y] = view.voxelToCanvas(p);
      if (q === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    if (!drawing) ctx.closePath();
    ctx.stroke();
  };
  ctx.setLineDash(drawing ? [6, 4] : []);
  ctx.lineJoin = 'round';
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
  ctx.lineWidth = 4;
  trace();
  ctx.strokeStyle = PROMPT_COLORS.lasso;
  ctx.lineWidth = 2;
  trace();
  ctx.setLineDash([]);
}
