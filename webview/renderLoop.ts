// Rendering on demand: slice views and the 3-D view are marked dirty and drawn on the next
// animation frame. The 3-D ray-marcher is slow in software GL, so it waits while a gesture or a
// drag runs (batched every 300 ms) and follows the slices on the first frame.
import type { DataTexture, WebGLRenderer } from 'three';
import type { Vec3 } from './geometry';
import type { LabelLut } from './labelLut';
import type { OverlayMaps } from './overlayMaps';
import { LabelMode3D, type RenderMode3D } from './renderModes';
import type { SliceDrawState, SliceView } from './sliceView';
import type { Volume } from './types';
import type { VolumeView } from './volumeView';
import { windowRange, type WindowLevel } from './windowing';

/** What a frame draws, read from the viewer when the frame runs. */
export interface RenderScene {
  readonly vol: Volume | null;
  readonly renderer: WebGLRenderer | null;
  readonly sliceViews: readonly SliceView[];
  readonly volumeView: VolumeView | null;
  readonly viewsEl: HTMLElement;
  readonly overlayMaps: OverlayMaps;
  readonly labelLut: LabelLut;
  readonly colormapTexture: DataTexture;
  readonly crosshair: Vec3;
  readonly crosshairRgba: [number, number, number, number];
  readonly window: WindowLevel;
  readonly showLabels: boolean;
  readonly labelOpacity: number;
  readonly labelOutline: boolean;
  readonly mode3d: RenderMode3D;
  readonly labelMode3d: LabelMode3D;
  /** The brush preview in `view`, or null. */
  brushCursor(view: SliceView): { world: Vec3; radiusMm: number } | null;
  /** A gesture or a drag (not an orbit) is running: the 3-D view waits. */
  busy(): boolean;
  /** After the slices were drawn: view titles, prompt markers. */
  afterSlices(): void;
  /** The first frame after `init` is on the screen (GPU included). */
  firstFrameDrawn(ms: number): void;
}

/** The slice-view state shared by all views of one frame (no brush cursor). */
export function sliceDrawState(s: RenderScene, vol: Volume): SliceDrawState {
  const maps = s.overlayMaps;
  const prob = maps.get('probability');
  const unc = maps.get('uncertainty');
  const brain = maps.get('brain');
  const fusion = maps.get('fusion');
  const probDisplay = maps.display.probability;
  const uncDisplay = maps.display.uncertainty;
  const [windowLow, windowHigh] = windowRange(s.window);
  return {
    geometry: vol.geometry,
    crosshair: s.crosshair,
    image: vol.imageTexture.texture,
    labels: vol.labels.texture,
    prob: prob?.texture ?? maps.emptyTexture,
    unc: unc?.texture ?? maps.emptyTexture,
    brain: brain?.texture ?? maps.emptyTexture,
    fusion: fusion?.texture ?? maps.emptyTexture,
    fusionColormap: maps.fusionTexture,
    colormap: s.colormapTexture,
    labelColors: s.labelLut.texture,
    heatmap: maps.heatTexture,
    uncColormap: maps.uncertaintyTexture,
    windowLow,
    windowHigh,
    showLabels: s.showLabels,
    labelOpacity: s.labelOpacity,
    labelOutline: s.labelOutline,
    showProb: probDisplay.show && prob !== null,
    probOpacity: probDisplay.opacity,
    probThreshold: probDisplay.threshold,
    probRange: prob?.range ?? [0, 1],
    // The outline shows what Accept would write: the proposal's threshold, not the display's.
    probOutline: maps.proposalOutline && probDisplay.show && prob !== null,
    probOutlineThreshold: prob?.proposal?.threshold ?? probDisplay.threshold,
    showUnc: uncDisplay.show && unc !== null,
    uncOpacity: uncDisplay.opacity,
    uncThreshold: uncDisplay.threshold,
    uncRange: unc?.range ?? [0, 1],
    showFusion: maps.display.fusion.show && fusion !== null,
    fusionOpacity: maps.display.fusion.opacity,
    fusionThreshold: maps.display.fusion.threshold,
    fusionRange: fusion?.range ?? [0, 1],
    showBrain: maps.display.brain.show && brain !== null,
    brainThreshold: maps.display.brain.threshold,
    brainOpacity: maps.display.brain.opacity,
    showCrosshair: true,
    crosshairRgba: s.crosshairRgba,
    cursor: null,
  };
}

export class RenderLoop {
  private readonly dirtyViews = new Set<SliceView>();
  private dirty3d = false;
  private frameRequested = false;
  private timer3d: ReturnType<typeof setTimeout> | null = null;
  private startedAt = 0;
  /** The first frame after `init` is still to be drawn. */
  firstFramePending = false;

  constructor(private readonly scene: RenderScene) {}

  /** Times the next frame from now (call when `init` arrives) and marks it as the first. */
  startFirstFrame(startedAt: number): void {
    this.startedAt = startedAt;
    this.firstFramePending = true;
  }

  /** Schedules a redraw of the slice views (and of the 3-D view when `with3d`). */
  requestRender(with3d: boolean): void {
    for (const v of this.scene.sliceViews) this.dirtyViews.add(v);
    if (with3d) this.dirty3d = true;
    this.schedule();
  }

  /** Schedules a redraw of some slice views only. */
  requestViews(views: Iterable<SliceView | null>): void {
    for (const v of views) if (v) this.dirtyViews.add(v);
    this.schedule();
  }

  request3d(): void {
    this.dirty3d = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.renderNow();
    });
  }

  /** Draws what is dirty now. */
  renderNow(): void {
    const s = this.scene;
    const vol = s.vol;
    const renderer = s.renderer;
    if (!vol || !renderer) return;
    const h = Math.max(1, Math.floor(s.viewsEl.clientHeight));
    if (this.dirtyViews.size > 0) {
      const state = sliceDrawState(s, vol);
      for (const v of s.sliceViews) if (this.dirtyViews.has(v)) v.render(renderer, { ...state, cursor: s.brushCursor(v) }, h);
      this.dirtyViews.clear();
      s.afterSlices();
    }
    const view3d = s.volumeView && s.volumeView.rect.width > 0 ? s.volumeView : null;
    if (this.dirty3d && !view3d) this.dirty3d = false;
    if (this.dirty3d && view3d) {
      if (this.firstFramePending) {
        // Show the slices first; the 3-D view follows on the next frame.
        this.schedule();
      } else if (s.busy()) {
        if (!this.timer3d) this.timer3d = setTimeout(() => ((this.timer3d = null), this.schedule()), 300);
      } else {
        this.dirty3d = false;
        this.draw3d(renderer, view3d, vol, h);
      }
    }
    if (this.firstFramePending) {
      this.firstFramePending = false;
      // gl.finish() does not wait in Chromium; a 1-pixel readPixels does.
      this.syncGpu();
      s.firstFrameDrawn(performance.now() - this.startedAt);
    }
  }

  private draw3d(renderer: WebGLRenderer, view: VolumeView, vol: Volume, h: number): void {
    const s = this.scene;
    const r = view.rect;
    renderer.setScissor(r.x, h - r.y - r.height, r.width, r.height);
    renderer.setClearColor(0x000000, 1);
    renderer.clear();
    const slices = sliceDrawState(s, vol);
    view.render(
      renderer,
      {
        geometry: vol.geometry,
        image: vol.imageTexture.texture,
        labels: vol.labels.texture,
        colormap: s.colormapTexture,
        labelColors: s.labelLut.texture,
        windowLow: slices.windowLow,
        windowHigh: slices.windowHigh,
        mode: s.mode3d,
        labelMode: s.showLabels ? s.labelMode3d : LabelMode3D.none,
        labelOpacity: s.labelOpacity,
        fusion: slices.fusion,
        fusionColormap: slices.fusionColormap,
        showFusion: slices.showFusion,
        fusionOpacity: slices.fusionOpacity,
        fusionThreshold: slices.fusionThreshold,
        fusionRange: slices.fusionRange,
      },
      h,
    );
  }

  /** Waits for the GPU by reading one pixel back (for timings). */
  syncGpu(): void {
    const renderer = this.scene.renderer;
    if (!renderer) return;
    const gl = renderer.getContext() as WebGL2RenderingContext;
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  }

  dispose(): void {
    if (this.timer3d) clearTimeout(this.timer3d);
  }
}
