// The Measure tool (D): drag on a slice to lay a ruler between two points; its length is in mm,
// true to anisotropic voxels (the display world keeps the file's voxel sizes; for an oblique image
// it drops only the rotation, which keeps lengths). Rulers stay on the slice they were drawn on,
// as ITK-SNAP's do; Backspace removes the last, Esc clears them. Drawn on the 2-D canvas over the
// views, with the prompt markers.
import type { Vec3, VolumeGeometry } from '../geometry';
import type { SliceView } from '../sliceView';

/** A ruler: two display-world points (mm) on one slice of views across voxel axis `normalAxis`. */
export interface Ruler {
  a: Vec3;
  b: Vec3;
  normalAxis: number;
  slice: number;
}

/** A slice view as the ruler drawing sees it. */
export interface RulerViewFrame {
  /** CSS px, relative to the views' canvas. */
  rect: { x: number; y: number; width: number; height: number };
  /** Voxel axis across the view, and the slice index shown along it. */
  normalAxis: number;
  slice: number;
  /** Canvas CSS position of a display-world point. */
  toCanvas(world: readonly number[]): [number, number];
}

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
  /** The ruler being dragged (drawn dashed until release). */
  dragRuler: Ruler | null = null;
  private press: Press | null = null;

  constructor(private readonly hooks: MeasureToolHooks) {}

  /** Whether a press is in progress (the viewer routes moves and releases here). */
  get pressing(): boolean {
    return this.press !== null;
  }

  /** A press at canvas (x, y), display-world `world`, on slice `slice` of a view across voxel axis `normalAxis`. */
  pointerDown(x: number, y: number, world: Vec3, normalAxis: number, slice: number): void {
    this.press = { x, y };
    this.dragRuler = { a: [...world], b: [...world], normalAxis, slice };
  }

  /** A move during a press: the ruler's far end follows (on the pressed view's slice). */
  pointerMove(x: number, y: number, world: Vec3): void {
    const p = this.press;
    const r = this.dragRuler;
    if (!p || !r || Math.hypot(x - p.x, y - p.y) < RULER_MIN_DRAG_PX) return;
    r.b = [...world];
    this.hooks.changed();
    this.hooks.status(`Measure: ${formatLengthMm(rulerLengthMm(r))}`);
  }

  /** The release: a drag lays its ruler and returns it; a click lays none. */
  pointerUp(): Ruler | null {
    const r = this.dragRuler;
    this.press = null;
    this.dragRuler = null;
    if (!r || rulerLengthMm(r) === 0) {
      if (r) this.hooks.changed();
      return null;
    }
    this.rulers.push(r);
    this.hooks.changed();
    const n = this.rulers.length;
    this.hooks.status(`Ruler ${n}: ${formatLengthMm(rulerLengthMm(r))} (Backspace removes the last ruler, Esc clears ${n === 1 ? 'it' : `all ${n}`})`);
    return r;
  }

  /** The press was cancelled: nothing is laid. */
  cancelPress(): void {
    this.press = null;
    if (this.dragRuler) {
      this.dragRuler = null;
      this.hooks.changed();
    }
  }

  /** Backspace: removes the last ruler. Returns whether there was one. */
  removeLast(): boolean {
    if (this.rulers.length === 0) return false;
    this.rulers.pop();
    this.hooks.changed();
    return true;
  }

  /** Esc, or a new volume: removes every ruler. Returns whether there were any. */
  clear(): boolean {
    this.cancelPress();
    if (this.rulers.length === 0) return false;
    this.rulers = [];
    this.hooks.changed();
    return true;
  }

  /** Draws the rulers lying on each view's slice (and the one being dragged). */
  draw(ctx: CanvasRenderingContext2D, views: readonly RulerViewFrame[]): void {
    for (const view of views) {
      const r = view.rect;
      if (r.width <= 0 || r.height <= 0) continue;
      ctx.save();
      ctx.beginPath();
      ctx.rect(r.x, r.y, r.width, r.height);
      ctx.clip();
      for (const ruler of this.rulers) if (onView(ruler, view)) drawRuler(ctx, view, ruler, false);
      if (this.dragRuler && onView(this.dragRuler, view)) drawRuler(ctx, view, this.dragRuler, true);
      ctx.restore();
    }
  }
}

/**
 * Draws the rulers of `tool` on the 2-D `layer` over the views (after the prompt markers, which
 * clear it): one frame per visible slice view, at the crosshair voxel `centre`.
 */
export function drawRulers(layer: HTMLCanvasElement, tool: MeasureTool, g: VolumeGeometry | null, sliceViews: readonly SliceView[], centre: Vec3 | null): void {
  if (!g || !centre || (tool.rulers.length === 0 && !tool.dragRuler)) return;
  const ctx = layer.getContext('2d');
  if (!ctx) return;
  const frames: RulerViewFrame[] = sliceViews
    .filter((v) => v.rect.width > 0)
    .map((v) => {
      const normalAxis = g.voxelAxisOfWorldAxis[v.plane.normalAxis];
      return { rect: v.rect, normalAxis, slice: centre[normalAxis], toCanvas: (world) => v.canvasOfWorld(g, world) };
    });
  tool.draw(ctx, frames);
}

function onView(ruler: Ruler, view: RulerViewFrame): boolean {
  return ruler.normalAxis === view.normalAxis && ruler.slice === view.slice;
}

/** Half-length of the end ticks, CSS px. */
const TICK_PX = 5;

function drawRuler(ctx: CanvasRenderingContext2D, view: RulerViewFrame, ruler: Ruler, dragging: boolean): void {
  const [ax, ay] = view.toCanvas(ruler.a);
  const [bx, by] = view.toCanvas(ruler.b);
  const len = Math.hypot(bx - ax, by - ay);
  // Unit normal of the line on screen, for the end ticks (any direction for a zero-length line).
  const [nx, ny] = len > 0 ? [-(by - ay) / len, (bx - ax) / len] : [0, 1];
  const path = (): void => {
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
  };
  ctx.setLineDash(dragging ? [6, 4] : []);
  // A dark rim keeps the ruler visible on bright tissue and on the overlays' colours.
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
  // The length beside the far end, on the side away from the line.
  const text = formatLengthMm(rulerLengthMm(ruler));
  ctx.font = '12px sans-serif';
  ctx.textBaseline = 'middle';
  const dx = len > 0 ? (bx - ax) / len : 1;
  const tx = bx + dx * 8;
  ctx.textAlign = dx >= 0 ? 'left' : 'right';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.9)';
  ctx.strokeText(text, tx, by);
  ctx.fillStyle = RULER_COLOR;
  ctx.fillText(text, tx, by);
}
