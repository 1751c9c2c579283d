// The voxel-wise maps the host sends (a model's probability map, its flip-TTA uncertainty map, the
// brain a model was given when the skull of a head was stripped, another image fused over this one):
// one slot per kind, each on the GPU and on the CPU (for the readout), each toggled on its own (the
// maps also faded and thresholded).
import type { Data3DTexture, DataTexture } from 'three';
import type { OverlayKind, OverlayMessage, ProposalInfo } from '../src/protocol/messages';
import { colormapTable, heatTable, type ColormapName } from './colormaps';
import { createEmptyFloatVolume, createFloatVolume, createLutTexture } from './textures';

export const OVERLAY_KINDS: readonly OverlayKind[] = ['probability', 'uncertainty', 'brain', 'fusion'];

/** How one overlay map kind is shown: each kind is toggled, faded and thresholded on its own. */
export interface OverlayDisplay {
  show: boolean;
  /** 0…1. */
  opacity: number;
  /** Map values below this (in the map's own units) are not drawn. */
  threshold: number;
}

/** One voxel-wise map on the GPU. */
export interface OverlayMap {
  texture: Data3DTexture;
  /** The values (also the texture's source), for the readout. */
  data: Float32Array;
  range: [number, number];
  proposal: ProposalInfo | null;
  /** A fused image's file name. */
  name: string | null;
}

export class OverlayMaps {
  private readonly maps: Record<OverlayKind, OverlayMap | null> = { probability: null, uncertainty: null, brain: null, fusion: null };
  /** Display of each overlay kind (kept when a map is replaced or cleared). */
  readonly display: Record<OverlayKind, OverlayDisplay> = {
    probability: { show: true, opacity: 0.6, threshold: 0.5 },
    uncertainty: { show: true, opacity: 0.5, threshold: 0 },
    // Drawn as a dashed outline of the voxels at or above the threshold (inside the brain).
    brain: { show: true, opacity: 0.8, threshold: 0.5 },
    // Drawn where at or above the threshold, coloured over its range (set from each image's).
    fusion: { show: true, opacity: 0.5, threshold: 0 },
  };
  /** Outline the proposal (probability ≥ the proposal's threshold, else the display threshold). */
  proposalOutline = true;
  uncertaintyColormap: ColormapName = 'ice';
  fusionColormap: ColormapName = 'hot';
  /** The user set the uncertainty threshold; a new map then keeps it instead of the default. */
  private uncThresholdByUser = false;
  /** Colour lookup of the probability map (dark red → yellow). */
  readonly heatTexture: DataTexture = createLutTexture(heatTable());
  readonly uncertaintyTexture: DataTexture = createLutTexture(colormapTable(this.uncertaintyColormap));
  readonly fusionTexture: DataTexture = createLutTexture(colormapTable(this.fusionColormap));
  /** Bound in place of a missing map (samplers must be bound). */
  readonly emptyTexture: Data3DTexture = createEmptyFloatVolume();

  /** The map of `kind`, or null. */
  get(kind: OverlayKind): OverlayMap | null {
    return this.maps[kind];
  }

  /**
   * Shows a map in its slot, replacing only an earlier map of the same kind. A probability map
   * with `proposal` info takes the proposal's threshold. Returns why it was refused, or null.
   */
  set(m: OverlayMessage, dims: readonly number[]): string | null {
    const voxelCount = dims[0] * dims[1] * dims[2];
    if (m.voxels.byteLength % 4 !== 0) return `The ${m.kind} map has ${m.voxels.byteLength} bytes, not a whole number of float32 values; not shown.`;
    const data = new Float32Array(m.voxels);
    if (data.length !== voxelCount) return `The ${m.kind} map has ${data.length} voxels, expected ${voxelCount}; not shown.`;
    const lo = Number.isFinite(m.range[0]) ? m.range[0] : 0;
    const hi = Number.isFinite(m.range[1]) && m.range[1] > lo ? m.range[1] : lo + 1;
    const previousName = this.maps[m.kind]?.name ?? null;
    this.maps[m.kind]?.texture.dispose();
    this.maps[m.kind] = { texture: createFloatVolume(data, dims), data, range: [lo, hi], proposal: m.kind === 'probability' ? m.proposal : null, name: m.kind === 'fusion' ? (m.name ?? 'overlay') : null };
    const display = this.display[m.kind];
    display.show = true;
    if (m.kind === 'probability' && m.proposal) display.threshold = m.proposal.threshold;
    // Uncertainty has no natural cut-off: hide the lowest tenth of its range unless the user chose.
    if (m.kind === 'uncertainty' && !this.uncThresholdByUser) display.threshold = lo + 0.1 * (hi - lo);
    // A fused image starts coloured from the low end of its range (the host's robust range); the
    // same image again (registered, restored) keeps the lowest value the user chose.
    if (m.kind === 'fusion' && m.name !== previousName) display.threshold = lo;
    return null;
  }

  /** Removes the map of `kind` (both when no kind is given); the other kind stays. */
  clear(kind?: OverlayKind): void {
    for (const k of kind ? [kind] : OVERLAY_KINDS) {
      this.maps[k]?.texture.dispose();
      this.maps[k] = null;
    }
  }

  /** Whether any map is loaded (`kind`: that map). */
  has(kind?: OverlayKind): boolean {
    return kind ? this.maps[kind] !== null : OVERLAY_KINDS.some((k) => this.maps[k] !== null);
  }

  /** The values of the map of `kind` (voxel order of the image), or null when there is none. */
  values(kind: OverlayKind): Float32Array | null {
    return this.maps[kind]?.data ?? null;
  }

  /** Value range of the map of `kind`, or null when there is none. */
  range(kind: OverlayKind): [number, number] | null {
    const m = this.maps[kind];
    return m ? [m.range[0], m.range[1]] : null;
  }

  /** The proposal awaiting Accept / Reject (carried by the probability map), or null. */
  get proposal(): ProposalInfo | null {
    return this.maps.probability?.proposal ?? null;
  }

  /** Changes how one kind is shown; non-finite numbers are ignored, opacity is clamped to 0…1. */
  setDisplay(kind: OverlayKind, o: Partial<OverlayDisplay>): void {
    const d = this.display[kind];
    if (o.show !== undefined) d.show = o.show;
    if (o.opacity !== undefined && Number.isFinite(o.opacity)) d.opacity = Math.max(0, Math.min(1, o.opacity));
    if (o.threshold !== undefined && Number.isFinite(o.threshold)) {
      d.threshold = o.threshold;
      if (kind === 'uncertainty') this.uncThresholdByUser = true;
    }
  }

  setUncertaintyColormap(name: ColormapName): void {
    this.uncertaintyColormap = name;
    this.uncertaintyTexture.image.data = colormapTable(name);
    this.uncertaintyTexture.needsUpdate = true;
  }

  setFusionColormap(name: ColormapName): void {
    this.fusionColormap = name;
    this.fusionTexture.image.data = colormapTable(name);
    this.fusionTexture.needsUpdate = true;
  }

  /** The readout's part for the voxel `index`: "  p 0.912  uncertainty 0.03  pet.nii.gz 4.21  outside the brain". */
  readout(index: number, format: (v: number) => string): string {
    const prob = this.maps.probability;
    const unc = this.maps.uncertainty;
    const brain = this.maps.brain;
    const fusion = this.maps.fusion;
    const outside = brain !== null && brain.data[index] < this.display.brain.threshold;
    const fused = fusion ? `  ${fusion.name} ${Number.isNaN(fusion.data[index]) ? '(outside it)' : format(fusion.data[index])}` : '';
    return (prob ? `  p ${prob.data[index].toFixed(3)}` : '') + (unc ? `  uncertainty ${format(unc.data[index])}` : '') + fused + (outside ? '  outside the brain' : '');
  }

  dispose(): void {
    this.clear();
    this.heatTexture.dispose();
    this.uncertaintyTexture.dispose();
    this.fusionTexture.dispose();
    this.emptyTexture.dispose();
  }
}
