// Label editing: gestures (a brush stroke, a fill, an operation) become one delta each, applied
// locally at once and sent to the host as one `edit` (one VS Code undo step); deltas from the
// host (undo/redo, other views) are applied here too. Only the changed box goes to the GPU.
import type { WebGLRenderer } from 'three';
import { LabelDeltaRecorder, applyDelta, type LabelArray, type LabelDelta } from '../src/protocol/labelDelta';
import { deltaFromWire, deltaToWire } from '../src/protocol/labelDeltaWire';
import type { ApplyDeltaMessage, WebviewToHostMessage } from '../src/protocol/messages';
import type { SliceViewKind, Vec3 } from './geometry';
import type { SliceView } from './sliceView';
import { LabelTexture, uploadVolumeInChunks } from './textures';
import { strokeVoxels } from './tools/brush';
import { interpolatedVoxels } from './tools/interpolate';
import { smallIslandVoxels } from './tools/islands';
import { marginChange, smoothChange } from './tools/morphology';
import { mayPaint, type PaintRule } from './tools/paintRule';
import { growRegion } from './tools/regionGrow';
import type { ToolSettings, Volume } from './types';

/** What label editing needs from the viewer. */
export interface LabelEditingHost {
  readonly settings: ToolSettings;
  volume(): Volume | null;
  renderer(): WebGLRenderer | null;
  sliceViews(): readonly SliceView[];
  crosshairVoxel(): Vec3 | null;
  post(message: WebviewToHostMessage, transfer?: Transferable[]): void;
  status(text: string): void;
  /** Redraw these slice views on the next frame. */
  redrawViews(views: Iterable<SliceView>): void;
  /** Redraw everything (the 3-D view too). */
  redrawAll(): void;
  /** The labels changed (a gesture ended or a host delta landed). */
  labelsChanged(): void;
}

interface Gesture {
  recorder: LabelDeltaRecorder;
  label: string;
  /** Dirty box not yet uploaded (voxel indices, inclusive). */
  lo: Vec3;
  hi: Vec3;
  lastVoxel: Vec3 | null;
  view: SliceView;
}

/** Voxel coordinates of a linear index. */
function voxelOfIndex(idx: number, nx: number, ny: number): Vec3 {
  return [idx % nx, Math.floor(idx / nx) % ny, Math.floor(idx / (nx * ny))];
}

/** The box (voxel indices, inclusive) holding every run of a delta: whole rows or slices where runs wrap. */
export function deltaBox(delta: LabelDelta, dims: readonly number[]): { lo: Vec3; hi: Vec3 } | null {
  if (delta.runs.length === 0) return null;
  const [nx, ny] = dims;
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let r = 0; r < delta.runs.length; r += 2) {
    const a = delta.runs[r];
    const [ia, ja, ka] = voxelOfIndex(a, nx, ny);
    const [ib, jb, kb] = voxelOfIndex(a + delta.runs[r + 1] - 1, nx, ny);
    const sameRow = ja === jb && ka === kb;
    lo[0] = Math.min(lo[0], sameRow ? ia : 0);
    hi[0] = Math.max(hi[0], sameRow ? ib : nx - 1);
    lo[1] = Math.min(lo[1], ka === kb ? Math.min(ja, jb) : 0);
    hi[1] = Math.max(hi[1], ka === kb ? Math.max(ja, jb) : ny - 1);
    lo[2] = Math.min(lo[2], ka);
    hi[2] = Math.max(hi[2], kb);
  }
  return { lo, hi };
}

export class LabelEditing {
  /** Label values present in the volume (scanned on load, extended by edits). */
  readonly presentLabels = new Set<number>();
  private gesture: Gesture | null = null;

  constructor(private readonly host: LabelEditingHost) {}

  /** Whether a gesture (a brush stroke) is in progress. */
  get active(): boolean {
    return this.gesture !== null;
  }

  /** Rescans the label values present (after a load or a whole-volume replace). */
  scanPresentLabels(): void {
    this.presentLabels.clear();
    const labels = this.host.volume()?.labels.data;
    if (!labels) return;
    const seen = new Uint8Array(labels instanceof Uint16Array ? 65536 : 256);
    for (let i = 0; i < labels.length; i++) seen[labels[i]] = 1;
    for (let v = 1; v < seen.length; v++) if (seen[v]) this.presentLabels.add(v);
  }

  /** The paint rule of the current tool settings, writing `value`. */
  paintRule(value: number): PaintRule {
    const s = this.host.settings;
    return {
      value,
      overwrite: s.overwrite,
      onlyLabel: s.overwriteLabel,
      locked: new Set(s.labelTable.filter((e) => e.locked).map((e) => e.value)),
      intensityRange: s.thresholdOn && value !== 0 ? { ...s.thresholdRange } : null,
      image: this.host.volume()?.image ?? null,
    };
  }

  /** Applies a delta from the host (undo/redo, another view's edit, a host command). */
  applyHostDelta(m: ApplyDeltaMessage): void {
    const vol = this.host.volume();
    if (!vol) return;
    let delta: LabelDelta;
    try {
      delta = deltaFromWire(m.delta, vol.labels.data.length);
      applyDelta(vol.labels.data, delta, 'redo');
    } catch (e) {
      this.host.post({ type: 'log', level: 'error', message: `applyDelta failed: ${(e as Error).message}; asking for a resync` });
      this.host.post({ type: 'requestResync' });
      return;
    }
    const box = deltaBox(delta, vol.geometry.dims);
    const renderer = this.host.renderer();
    if (box && renderer) vol.labels.uploadBox(renderer, box.lo, box.hi);
    this.notePresent(delta);
    this.host.labelsChanged();
  }

  /** Replaces the whole label volume (revert, resync); drops any gesture. */
  replaceAll(labels: LabelArray): void {
    const vol = this.host.volume();
    if (!vol) return;
    this.cancel();
    vol.labels.dispose();
    vol.labels = new LabelTexture(labels, vol.geometry.dims);
    const renderer = this.host.renderer();
    if (renderer) uploadVolumeInChunks(renderer, vol.labels.texture);
    this.scanPresentLabels();
  }

  /** Tells the viewer the labels changed. */
  notifyChanged(): void {
    this.host.labelsChanged();
  }

  /** Starts a brush or eraser stroke at `voxel` of `view`. */
  startStroke(view: SliceView, voxel: Vec3, erase: boolean): void {
    const g = this.begin(erase ? 'Eraser' : 'Brush', view);
    if (g) this.dab(g, voxel, this.paintRule(erase ? 0 : this.host.settings.activeLabel));
  }

  /** Continues the stroke to `voxel` when it was started in `view`. */
  continueStroke(view: SliceView, voxel: Vec3): void {
    const g = this.gesture;
    const s = this.host.settings;
    if (g && g.view === view && (s.tool === 'brush' || s.tool === 'eraser')) this.dab(g, voxel, this.paintRule(s.tool === 'brush' ? s.activeLabel : 0));
  }

  /** Finishes the gesture: one delta, applied locally already, sent to the host as one `edit`. */
  end(): void {
    const g = this.gesture;
    if (!g) return;
    this.gesture = null;
    this.flush(g);
    const delta = g.recorder.finish();
    this.notePresent(delta);
    if (delta.before.length > 0) {
      const wire = deltaToWire(delta);
      this.host.post({ type: 'edit', label: g.label, delta: wire }, [wire.runs, wire.before, wire.after]);
    }
    this.host.labelsChanged();
  }

  /** Drops the gesture in progress and restores the voxels it changed. */
  cancel(): void {
    const g = this.gesture;
    const vol = this.host.volume();
    if (!g || !vol) return;
    this.gesture = null;
    g.recorder.cancel();
    vol.labels.texture.needsUpdate = true;
    this.host.redrawAll();
  }

  /** Flood fill (2-D) or region grow (3-D) from a voxel, with the intensity tolerance. */
  fillAt(view: SliceView, voxel: Vec3, threeD: boolean): number {
    const vol = this.host.volume();
    if (!vol) return 0;
    const [nx, ny] = vol.geometry.dims;
    const rule = this.paintRule(this.host.settings.activeLabel);
    const labels = vol.labels.data;
    const region = growRegion({
      dims: vol.geometry.dims,
      seed: voxel[0] + nx * (voxel[1] + ny * voxel[2]),
      image: vol.image,
      tolerance: this.host.settings.fillTolerance,
      sliceAxis: threeD ? null : vol.geometry.voxelAxisOfWorldAxis[view.plane.normalAxis],
      accept: (idx) => mayPaint(rule, idx, labels[idx]) || labels[idx] === rule.value,
      maxVoxels: threeD ? 20_000_000 : undefined,
    });
    return this.applyOperation(threeD ? 'Region grow' : 'Fill', view, region, rule);
  }

  /** Interpolates the active label between the slices it is drawn on, across `view`'s normal. */
  interpolate(view: SliceView, kind: SliceViewKind): number {
    const vol = this.host.volume();
    if (!vol) return 0;
    const label = this.host.settings.activeLabel;
    const indices = interpolatedVoxels(vol.labels.data, {
      dims: vol.geometry.dims,
      spacingMm: vol.geometry.spacingMm,
      label,
      axis: vol.geometry.voxelAxisOfWorldAxis[view.plane.normalAxis],
    });
    const n = this.applyOperation('Interpolate', view, indices, this.paintRule(label));
    this.host.status(n > 0 ? `Interpolated label ${label}: ${n} voxels.` : `Nothing to interpolate: label ${label} needs two drawn ${kind} slices with a gap.`);
    return n;
  }

  /** Removes islands of the active label (or all labels) smaller than islandMinVoxels. */
  removeIslands(view: SliceView, allLabels: boolean): number {
    const vol = this.host.volume();
    if (!vol) return 0;
    const s = this.host.settings;
    const indices = smallIslandVoxels(vol.labels.data, { dims: vol.geometry.dims, minVoxels: s.islandMinVoxels, label: allLabels ? null : s.activeLabel });
    const rule: PaintRule = { ...this.paintRule(0), overwrite: 'all', intensityRange: null };
    const n = this.applyOperation('Remove islands', view, indices, rule);
    this.host.status(`Removed ${n} voxels in islands smaller than ${s.islandMinVoxels} voxels.`);
    return n;
  }

  /**
   * Grows or shrinks the active label by `marginMm` (negative shrinks), or smooths it with a
   * closing then an opening of `smoothMm`: one undoable edit. Growing follows the overwrite policy,
   * the intensity range and the locks, as painting does; shrinking clears only the label's voxels.
   */
  reshapeLabel(view: SliceView, how: { marginMm: number } | { smoothMm: number }): number {
    const vol = this.host.volume();
    if (!vol) return 0;
    const label = this.host.settings.activeLabel;
    const o = { dims: vol.geometry.dims, spacingMm: vol.geometry.spacingMm, label };
    const change = 'marginMm' in how ? marginChange(vol.labels.data, { ...o, marginMm: how.marginMm }) : smoothChange(vol.labels.data, { ...o, radiusMm: how.smoothMm });
    const name = 'marginMm' in how ? (how.marginMm > 0 ? 'Grow label' : 'Shrink label') : 'Smooth label';
    const g = this.begin(name, view);
    if (!g) return 0;
    this.paintIndices(g, change.add, this.paintRule(label));
    const added = g.recorder.touchedCount;
    this.paintIndices(g, change.remove, { ...this.paintRule(0), overwrite: 'all', intensityRange: null });
    const n = g.recorder.touchedCount;
    this.end();
    const what = 'marginMm' in how ? `by ${Math.abs(how.marginMm)} mm` : `with a ${how.smoothMm} mm closing and opening`;
    this.host.status(`${name} ${label} ${what}: ${added} voxels added, ${n - added} cleared.`);
    return n;
  }

  private notePresent(delta: LabelDelta): void {
    for (let n = 0; n < delta.after.length; n++) if (delta.after[n] !== 0) this.presentLabels.add(delta.after[n]);
  }

  private begin(label: string, view: SliceView): Gesture | null {
    const vol = this.host.volume();
    if (!vol) return null;
    const s = this.host.settings;
    if (s.readOnly) {
      this.host.status(`Read-only${s.readOnlyReason ? `: ${s.readOnlyReason}` : ''}; labels cannot be edited.`);
      return null;
    }
    this.cancel();
    this.gesture = { recorder: new LabelDeltaRecorder(vol.labels.data), label, lo: [Infinity, Infinity, Infinity], hi: [-Infinity, -Infinity, -Infinity], lastVoxel: null, view };
    return this.gesture;
  }

  /** Sets voxels (by linear index) under the paint rule, widening the dirty box. */
  private paintIndices(g: Gesture, indices: ArrayLike<number>, rule: PaintRule): void {
    const vol = this.host.volume();
    if (!vol) return;
    const [nx, ny] = vol.geometry.dims;
    const labels = vol.labels.data;
    for (let n = 0; n < indices.length; n++) {
      const idx = indices[n];
      if (!mayPaint(rule, idx, labels[idx])) continue;
      g.recorder.set(idx, rule.value);
      const i = idx % nx;
      const j = Math.floor(idx / nx) % ny;
      const k = Math.floor(idx / (nx * ny));
      if (i < g.lo[0]) g.lo[0] = i;
      if (j < g.lo[1]) g.lo[1] = j;
      if (k < g.lo[2]) g.lo[2] = k;
      if (i > g.hi[0]) g.hi[0] = i;
      if (j > g.hi[1]) g.hi[1] = j;
      if (k > g.hi[2]) g.hi[2] = k;
    }
  }

  /** Uploads the gesture's dirty box so far and redraws the slices it shows in. */
  private flush(g: Gesture): void {
    const vol = this.host.volume();
    const renderer = this.host.renderer();
    const views: SliceView[] = [g.view];
    if (renderer && vol && g.lo[0] <= g.hi[0]) {
      vol.labels.uploadBox(renderer, g.lo, g.hi);
      // Redraw only the views whose slice passes through the changed box.
      const c = this.host.crosshairVoxel();
      for (const v of this.host.sliceViews()) {
        const n = vol.geometry.voxelAxisOfWorldAxis[v.plane.normalAxis];
        if (v !== g.view && (!c || (g.lo[n] <= c[n] && c[n] <= g.hi[n]))) views.push(v);
      }
      g.lo = [Infinity, Infinity, Infinity];
      g.hi = [-Infinity, -Infinity, -Infinity];
    }
    this.host.redrawViews(views);
  }

  /** Runs a one-shot operation on a set of indices as one gesture (fill, grow, interpolate, islands). */
  private applyOperation(label: string, view: SliceView, indices: ArrayLike<number>, rule: PaintRule): number {
    const g = this.begin(label, view);
    if (!g) return 0;
    this.paintIndices(g, indices, rule);
    const n = g.recorder.touchedCount;
    this.end();
    return n;
  }

  private dab(g: Gesture, voxel: Vec3, rule: PaintRule): void {
    const vol = this.host.volume();
    if (!vol) return;
    const s = this.host.settings;
    const normalAxis = vol.geometry.voxelAxisOfWorldAxis[g.view.plane.normalAxis];
    const from = g.lastVoxel ?? voxel;
    const indices = strokeVoxels({ dims: vol.geometry.dims, spacingMm: vol.geometry.spacingMm, radiusMm: s.brushRadiusMm, shape: s.brushShape, normalAxis }, from, voxel);
    this.paintIndices(g, indices, rule);
    g.lastVoxel = voxel;
    this.flush(g);
  }
}
