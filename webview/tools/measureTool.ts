// The Measure tool (D): drag on a slice to lay a ruler between two points; its length is in mm,
// true to anisotropic voxels (the display world keeps the file's voxel sizes; for an oblique image
// it drops only the rotation, which keeps lengths and angles). In angle mode the drag lays the
// first arm and a click (or a second drag) on the same slice ends the second arm, from the first
// arm's end: the angle between them in degrees. Measurements stay on the slice they were drawn on,
// as ITK-SNAP's do, and are kept with the view state; Backspace removes the last, Esc clears them.
// Drawn on the 2-D canvas over the views, with the prompt markers.
import type { Vec3 } from '../geometry';
import { drawInEachView, type ViewFrame } from './viewFrames';

/**
 * A ruler: two display-world points (mm) on one slice of views across voxel axis `normalAxis`; with
 * `c`, an angle at `b` between the arms b→a and b→c.
 */
export interface Ruler {
  a: Vec3;
  b: Vec3;
  c?: Vec3;
  normalAxis: number;
  slice: number;
}

/** What a drag lays: a ruler, or the arms of an angle. */
export type MeasureMode = 'distance' | 'angle';

/** What the tool needs from the viewer. */
export interface MeasureToolHooks {
  /** The rulers or the one being dragged changed: redraw. */
  changed(): void;
  status(text: string): void;
}

/** A press must move this many CSS px to lay a ruler (a click alone lays none). */
export const RULER_MIN_DRAG_PX = 3;
export const RULER_COLOR = 'rgb(250, 204, 21)';

/** Length of a ruler in mm. */
export function rulerLengthMm(r: Pick<Ruler, 'a' | 'b'>): number {
  return Math.hypot(r.b[0] - r.a[0], r.b[1] - r.a[1], r.b[2] - r.a[2]);
}

/** The angle at `b` between b→a and b→c, degrees (0 when an arm has no length). */
export function angleDeg(r: Pick<Ruler, 'a' | 'b'> & { c: Vec3 }): number {
  const u = [0, 1, 2].map((n) => r.a[n] - r.b[n]);
  const v = [0, 1, 2].map((n) => r.c[n] - r.b[n]);
  const nu = Math.hypot(u[0], u[1], u[2]);
  const nv = Math.hypot(v[0], v[1], v[2]);
  if (nu === 0 || nv === 0) return 0;
  const cos = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (nu * nv);
  return (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI;
}

/** What a measurement reads: "23.4 mm", or "37.5°" for an angle. */
export function measurementText(r: Ruler): string {
  return r.c ? `${angleDeg({ ...r, c: r.c }).toFixed(1)}°` : formatLengthMm(rulerLengthMm(r));
}

/** "23.4 mm" (two decimals under 10 mm, where voxels are sub-millimetre). */
export function formatLengthMm(mm: number): string {
  return `${mm < 10 ? mm.toFixed(2) : mm.toFixed(1)} mm`;
}

interface Press {
  x: number;
  y: number;
}

/** Rulers and gestures of one viewer. */
export class MeasureTool {
  rulers: Ruler[] = [];
  /** The ruler being dragged, or the angle whose second arm is awaited (drawn dashed). */
  dragRuler: Ruler | null = null;
  mode: MeasureMode = 'distance';
  private press: Press | null = null;
  /** The first arm of an angle is laid; the next press on its slice places the second arm's end. */
  private awaitingSecondArm = false;

  constructor(private readonly hooks: MeasureToolHooks) {}

  /** Whether a press is in progress (the viewer routes moves and releases here). */
  get pressing(): boolean {
    return this.press !== null;
  }

  /** A press at canvas (x, y), display-world `world`, on slice `slice` of a view across voxel axis `normalAxis`. */
  pointerDown(x: number, y: number, world: Vec3, normalAxis: number, slice: number): void {
    this.press = { x, y };
    const pending = this.dragRuler;
    if (this.awaitingSecondArm && pending && pending.normalAxis === normalAxis && pending.slice === slice) {
      // The second arm of the angle, from the first arm's end to here. The press counts as moved
      // already, so that any drag moves the arm's end (the first arm needed RULER_MIN_DRAG_PX).
      pending.c = [...world];
      this.press = { x: -Infinity, y: -Infinity };
      this.hooks.changed();
      return;
    }
    this.awaitingSecondArm = false;
    this.dragRuler = { a: [...world], b: [...world], normalAxis, slice };
  }

  /** A move during a press: the far end of the ruler, or of the angle's second arm, follows. */
  pointerMove(x: number, y: number, world: Vec3): void {
    const p = this.press;
    const r = this.dragRuler;
    if (!p || !r || Math.hypot(x - p.x, y - p.y) < RULER_MIN_DRAG_PX) return;
    if (r.c) r.c = [...world];
    else r.b = [...world];
    this.hooks.changed();
    this.hooks.status(`Measure: ${measurementText(r)}`);
  }

  /**
   * The release: a drag lays its ruler (in angle mode, the first arm) and a press that ends an
   * angle's second arm lays the angle; returns what was laid. A click alone lays nothing.
   */
  pointerUp(): Ruler | null {
    const r = this.dragRuler;
    this.press = null;
    if (!r) return null;
    if (!r.c && this.mode === 'angle' && rulerLengthMm(r) > 0) {
      this.awaitingSecondArm = true;
      this.hooks.changed();
      this.hooks.status(`Angle: first arm ${formatLengthMm(rulerLengthMm(r))}; click where the second arm from its end goes`);
      return null;
    }
    this.dragRuler = null;
    this.awaitingSecondArm = false;
    if (rulerLengthMm(r) === 0 || (r.c && rulerLengthMm({ a: r.b, b: r.c }) === 0)) {
      this.hooks.changed();
      return null;
    }
    this.rulers.push(r);
    this.hooks.changed();
    const n = this.rulers.length;
    this.hooks.status(`${r.c ? 'Angle' : 'Ruler'} ${n}: ${measurementText(r)} (Backspace removes the last measurement, Esc clears ${n === 1 ? 'it' : `all ${n}`})`);
    return r;
  }

  /** The press was cancelled: nothing is laid. */
  cancelPress(): void {
    this.press = null;
    this.awaitingSecondArm = false;
    if (this.dragRuler) {
      this.dragRuler = null;
      this.hooks.changed();
    }
  }

  /** Backspace: drops the angle being laid, else removes the last measurement. Returns whether there was one. */
  removeLast(): boolean {
    if (this.dragRuler) {
      this.cancelPress();
      return true;
    }
    if (this.rulers.length === 0) return false;
    this.rulers.pop();
    this.hooks.changed();
    return true;
  }

  /** Esc, or a new volume: removes every measurement. Returns whether there were any. */
  clear(): boolean {
    const pending = this.dragRuler !== null;
    this.cancelPress();
    if (this.rulers.length === 0) return pending;
    this.rulers = [];
    this.hooks.changed();
    return true;
  }

  /** Draws the rulers lying on each view's slice (and the one being dragged). */
  draw(ctx: CanvasRenderingContext2D, views: readonly ViewFrame[]): void {
    drawInEachView(ctx, views, (view) => {
      for (const ruler of this.rulers) if (onView(ruler, view)) drawRuler(ctx, view, ruler, false);
      if (this.dragRuler && onView(this.dragRuler, view)) drawRuler(ctx, view, this.dragRuler, true);
    });
  }
}

function onView(ruler: Ruler, view: ViewFrame): boolean {
  return ruler.normalAxis === view.normalAxis && ruler.slice === view.slice;
}

/** Half-length of the end ticks, CSS px. */
const TICK_PX = 5;

function drawRuler(ctx: CanvasRenderingContext2D, view: ViewFrame, ruler: Ruler, dragging: boolean): void {
  const [ax, ay] = view.worldToCanvas(ruler.a);
  const [bx, by] = view.worldToCanvas(ruler.b);
  if (ruler.c) {
    drawAngle(ctx, [ax, ay], [bx, by], view.worldToCanvas(ruler.c), measurementText(ruler), dragging);
    return;
  }
  const len = Math.hypot(bx - ax, by - ay);
  // Unit normal of the line on screen, for the end ticks (any direction for a zero-length line).
  const [nx, ny] = len > 0 ? [-(by - ay) / len, (bx - ax) / len] : [0, 1];
  strokeRimmed(
    ctx,
    () => {
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      for (const [x, y] of [
        [ax, ay],
        [bx, by],
      ]) {
        ctx.moveTo(x - nx * TICK_PX, y - ny * TICK_PX);
        ctx.lineTo(x + nx * TICK_PX, y + ny * TICK_PX);
      }
    },
    dragging,
  );
  // The length beside the far end, on the side away from the line.
  const dx = len > 0 ? (bx - ax) / len : 1;
  label(ctx, measurementText(ruler), bx + dx * 8, by, dx >= 0 ? 'left' : 'right');
}

/** Strokes `path` twice: a dark rim, then the ruler colour. */
function strokeRimmed(ctx: CanvasRenderingContext2D, path: () => void, dashed: boolean): void {
  ctx.setLineDash(dashed ? [6, 4] : []);
  ctx.lineCap = 'round';
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
  ctx.lineWidth = 4;
  path();
  ctx.stroke();
  ctx.strokeStyle = RULER_COLOR;
  ctx.lineWidth = 2;
  path();
  ctx.stroke();
  ctx.setLineDash([]);
}

/** Text in the ruler colour on a dark rim, at (x, y). */
function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, align: CanvasTextAlign): void {
  ctx.font = '12px sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = align;
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.9)';
  ctx.strokeText(text, x, y);
  ctx.fillStyle = RULER_COLOR;
  ctx.fillText(text, x, y);
}

/** The two arms of an angle from their common end `b`, with its value beside `b`, away from both arms. */
function drawAngle(ctx: CanvasRenderingContext2D, a: [number, number], b: [number, number], c: [number, number], text: string, dashed: boolean): void {
  strokeRimmed(
    ctx,
    () => {
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.lineTo(c[0], c[1]);
    },
    dashed,
  );
  const unit = (p: [number, number]): [number, number] => {
    const d = Math.hypot(p[0] - b[0], p[1] - b[1]);
    return d > 0 ? [(p[0] - b[0]) / d, (p[1] - b[1]) / d] : [0, 0];
  };
  const [ux, uy] = unit(a);
  const [vx, vy] = unit(c);
  // Opposite the bisector, so the text sits outside the angle.
  const bis = Math.hypot(ux + vx, uy + vy);
  const [ox, oy] = bis > 1e-6 ? [-(ux + vx) / bis, -(uy + vy) / bis] : [-vy, vx];
  label(ctx, text, b[0] + ox * 14, b[1] + oy * 14, ox >= 0 ? 'left' : 'right');
}
