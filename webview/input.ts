// Pointer and wheel input on the views' canvas: the crosshair, window/level (right drag), pan
// (middle or Shift drag), zoom (Ctrl+wheel), slice scrolling (wheel), 3-D orbit and zoom, and
// the tools' gestures. Keys are in keymap.ts.
import { transformPoint, voxelIndexAt, type SliceViewKind, type Vec3 } from './geometry';
import type { LabelEditing } from './labelEditing';
import type { RenderLoop } from './renderLoop';
import type { SliceView } from './sliceView';
import type { MeasureTool } from './tools/measureTool';
import type { PromptDrag, PromptTool } from './tools/promptTool';
import type { ToolName } from './tools/toolSet';
import type { Volume } from './types';
import type { VolumeView } from './volumeView';
import type { WindowLevel } from './windowing';

/** What pointer input reads and drives. */
export interface PointerTarget {
  readonly canvas: HTMLCanvasElement;
  readonly vol: Volume | null;
  readonly sliceViews: readonly SliceView[];
  readonly volumeView: VolumeView | null;
  readonly crosshair: Vec3;
  readonly window: WindowLevel;
  readonly tool: ToolName;
  readonly brushRadiusMm: number;
  readonly promptTool: PromptTool;
  /** What a plain drag draws in the Prompt tool ("Drag draws"). */
  readonly promptDrag: PromptDrag;
  readonly measureTool: MeasureTool;
  readonly editing: LabelEditing;
  readonly loop: RenderLoop;
  setCrosshair(world: readonly number[]): void;
  setWindow(w: WindowLevel): void;
  scrollSlice(kind: SliceViewKind, steps: number): void;
  fillAt(view: SliceView, voxel: Vec3, threeD: boolean): number;
  /** A slice view was panned or zoomed. */
  viewMoved(): void;
  showReadout(world: Vec3): void;
}

interface Drag {
  kind: 'crosshair' | 'wl' | 'pan' | 'orbit';
  view: SliceView | null;
  x: number;
  y: number;
}

function contains(r: { x: number; y: number; width: number; height: number }, x: number, y: number): boolean {
  return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
}

export class PointerInput {
  private drag: Drag | null = null;
  /** The slice view under the mouse last (keys scroll it; I interpolates across it). */
  hoverView: SliceView | null = null;
  private cursorWorld: Vec3 | null = null;
  private lastCursorView: SliceView | null = null;
  /** The slice view a Prompt tool press started in (its box stays on that view's slice). */
  private promptPressView: SliceView | null = null;
  /** The slice view a Measure tool press started in (its ruler stays on that view's slice). */
  private measurePressView: SliceView | null = null;

  constructor(private readonly t: PointerTarget) {}

  /** Adds the canvas listeners; returns what removes them. */
  bind(): () => void {
    const c = this.t.canvas;
    const listeners: [string, (e: Event) => void, AddEventListenerOptions?][] = [
      ['contextmenu', (e) => e.preventDefault()],
      ['pointerdown', (e) => this.onPointerDown(e as PointerEvent)],
      ['pointermove', (e) => this.onPointerMove(e as PointerEvent)],
      ['pointerup', (e) => this.onPointerUp(e as PointerEvent)],
      ['pointercancel', () => this.cancel()],
      ['pointerleave', () => ((this.cursorWorld = null), this.t.loop.requestRender(false))],
      ['wheel', (e) => this.onWheel(e as WheelEvent), { passive: false }],
    ];
    for (const [type, f, opts] of listeners) c.addEventListener(type, f, opts);
    return () => {
      for (const [type, f, opts] of listeners) c.removeEventListener(type, f, opts);
    };
  }

  /** The brush preview in `view` (only for the brush and the eraser), or null. */
  brushCursor(view: SliceView): { world: Vec3; radiusMm: number } | null {
    const tool = this.t.tool;
    if (!this.cursorWorld || this.hoverView !== view || (tool !== 'brush' && tool !== 'eraser')) return null;
    this.lastCursorView = view;
    return { world: this.cursorWorld, radiusMm: this.t.brushRadiusMm };
  }

  /** A drag other than an orbit is running (the 3-D view waits). */
  get dragging(): boolean {
    return this.drag !== null && this.drag.kind !== 'orbit';
  }

  /** Forgets views and positions (a new volume is loading). */
  reset(): void {
    this.drag = null;
    this.hoverView = null;
    this.lastCursorView = null;
    this.cursorWorld = null;
    this.promptPressView = null;
    this.measurePressView = null;
  }

  private cancel(): void {
    this.t.editing.cancel();
    this.drag = null;
    this.promptPressView = null;
    this.t.promptTool.cancelPress();
    this.measurePressView = null;
    this.t.measureTool.cancelPress();
  }

  private sliceViewAt(x: number, y: number): SliceView | null {
    return this.t.sliceViews.find((v) => contains(v.rect, x, y)) ?? null;
  }

  private in3d(x: number, y: number): boolean {
    const r = this.t.volumeView?.rect;
    return !!r && contains(r, x, y);
  }

  private localXY(e: MouseEvent): [number, number] {
    const r = this.t.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private capture(e: PointerEvent): void {
    try {
      this.t.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events (bench) have no active pointer to capture.
    }
  }

  private onPointerDown(e: PointerEvent): void {
    const t = this.t;
    const vol = t.vol;
    if (!vol) return;
    t.canvas.focus();
    const [x, y] = this.localXY(e);
    if (this.in3d(x, y)) {
      this.drag = { kind: 'orbit', view: null, x, y };
      this.capture(e);
      return;
    }
    const view = this.sliceViewAt(x, y);
    if (!view) return;
    this.hoverView = view;
    this.capture(e);
    if (t.tool === 'prompt' && e.button !== 1) {
      // Right click and Shift+click are negative points here, not window/level or pan; a plain
      // drag draws what "Drag draws" says, Ctrl+drag outlines, Alt+drag scribbles (outlines and
      // scribbles negative with Shift or the right button).
      const voxel = voxelIndexAt(vol.geometry, view.worldAtCanvas(vol.geometry, x, y, t.crosshair));
      if (!voxel) return;
      this.promptPressView = view;
      const drag = e.altKey ? 'scribble' : (e.button === 0 || e.button === 2) && (e.ctrlKey || e.metaKey) ? 'lasso' : t.promptDrag;
      t.promptTool.pointerDown(x, y, voxel, vol.geometry.voxelAxisOfWorldAxis[view.plane.normalAxis], e.button === 2 || e.shiftKey, drag);
      return;
    }
    if (e.button === 2) {
      this.drag = { kind: 'wl', view, x, y };
      return;
    }
    if (e.button === 1 || (e.button === 0 && e.shiftKey)) {
      this.drag = { kind: 'pan', view, x, y };
      return;
    }
    if (e.button !== 0) return;
    const world = view.worldAtCanvas(vol.geometry, x, y, t.crosshair);
    const voxel = voxelIndexAt(vol.geometry, world);
    switch (t.tool) {
      case 'navigate':
        this.drag = { kind: 'crosshair', view, x, y };
        t.setCrosshair(world);
        break;
      case 'brush':
      case 'eraser':
        if (voxel) t.editing.startStroke(view, voxel, t.tool === 'eraser');
        break;
      case 'fill2d':
      case 'grow3d':
        if (voxel) t.fillAt(view, voxel, t.tool === 'grow3d');
        break;
      case 'prompt':
        // Handled above, before the right-button and Shift checks.
        break;
      case 'measure': {
        const normalAxis = vol.geometry.voxelAxisOfWorldAxis[view.plane.normalAxis];
        const centre = voxelIndexAt(vol.geometry, t.crosshair);
        if (!centre) break;
        this.measurePressView = view;
        t.measureTool.pointerDown(x, y, world, normalAxis, centre[normalAxis]);
        break;
      }
      default: {
        const never: never = t.tool;
        throw new Error(`unknown tool ${String(never)}`);
      }
    }
  }

  private onPointerMove(e: PointerEvent): void {
    const t = this.t;
    const vol = t.vol;
    if (!vol) return;
    const [x, y] = this.localXY(e);
    const pressView = this.promptPressView;
    if (pressView) {
      t.promptTool.pointerMove(x, y, voxelIndexAt(vol.geometry, pressView.worldAtCanvas(vol.geometry, x, y, t.crosshair)));
      return;
    }
    const measureView = this.measurePressView;
    if (measureView) {
      t.measureTool.pointerMove(x, y, measureView.worldAtCanvas(vol.geometry, x, y, t.crosshair));
      return;
    }
    const d = this.drag;
    if (d) {
      const dx = x - d.x;
      const dy = y - d.y;
      d.x = x;
      d.y = y;
      if (d.kind === 'orbit') {
        t.volumeView?.orbitBy(dx, dy);
        t.loop.request3d();
        return;
      }
      const view = d.view;
      if (!view) return;
      if (d.kind === 'wl') {
        // Horizontal drag changes the width, vertical the level, scaled to the data range.
        const range = Math.max(1e-6, vol.stats.p99_5 - vol.stats.p1, t.window.width * 0.5);
        const k = range / 300;
        t.setWindow({ level: t.window.level - dy * k, width: Math.max(k, t.window.width + dx * k) });
      } else if (d.kind === 'pan') {
        view.panBy(vol.geometry, dx, dy);
        t.viewMoved();
      } else {
        t.setCrosshair(view.worldAtCanvas(vol.geometry, x, y, t.crosshair));
      }
      return;
    }
    const view = this.sliceViewAt(x, y);
    this.hoverView = view ?? this.hoverView;
    if (!view) return;
    const world = view.worldAtCanvas(vol.geometry, x, y, t.crosshair);
    const voxel = voxelIndexAt(vol.geometry, world);
    if (voxel) t.editing.continueStroke(view, voxel);
    // Brush preview at the voxel centre the brush would use.
    this.cursorWorld = voxel ? transformPoint(vol.geometry.displayAffine, voxel) : world;
    t.showReadout(world);
    if (t.tool === 'brush' || t.tool === 'eraser') t.loop.requestViews([view, this.lastCursorView]);
  }

  private onPointerUp(e: PointerEvent): void {
    const t = this.t;
    if (t.canvas.hasPointerCapture(e.pointerId)) t.canvas.releasePointerCapture(e.pointerId);
    t.editing.end();
    if (this.promptPressView) {
      this.promptPressView = null;
      t.promptTool.pointerUp();
    }
    if (this.measurePressView) {
      this.measurePressView = null;
      t.measureTool.pointerUp();
    }
    if (this.drag?.kind === 'orbit') t.loop.request3d();
    this.drag = null;
  }

  private onWheel(e: WheelEvent): void {
    const t = this.t;
    const vol = t.vol;
    if (!vol) return;
    e.preventDefault();
    const [x, y] = this.localXY(e);
    if (this.in3d(x, y)) {
      t.volumeView?.zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1);
      t.loop.request3d();
      return;
    }
    const view = this.sliceViewAt(x, y);
    if (!view) return;
    this.hoverView = view;
    if (e.ctrlKey || e.metaKey) {
      view.zoomAt(vol.geometry, e.deltaY < 0 ? 1.15 : 1 / 1.15, x, y);
      t.viewMoved();
      return;
    }
    t.scrollSlice(view.kind, e.deltaY < 0 ? 1 : -1);
  }
}
