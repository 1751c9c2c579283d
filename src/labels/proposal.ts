// Turning a model's lesion proposal into a label edit, and packing its maps for the overlay.
// Pure: typed arrays in, typed arrays out.

import { encodeDelta, labelBitsOf, type LabelArray, type LabelDelta } from '../protocol/labelDelta';
import type { LabelTableEntry } from '../protocol/messages';

/** Error for a proposal that does not fit the document. */
export class ProposalError extends Error {
  override name = 'ProposalError';
}

/** Options of {@link proposalLabels}. */
export interface ProposalLabelOptions {
  /** Label value written where the proposal says lesion (1…65535); default 1. */
  labelValue?: number;
  /** Label values never overwritten (the locked rows of the label table). */
  lockedValues?: ReadonlySet<number>;
}

/** Result of {@link proposalLabels}. */
export interface ProposedLabels {
  /** The labels after accepting: a copy of the current labels with the proposal written in. */
  labels: LabelArray;
  /** Background voxels that become the label. */
  addedVoxels: number;
  /** Voxels of another, unlocked label that become the label. */
  replacedVoxels: number;
  /** Proposed voxels left alone because their label is locked. */
  lockedVoxels: number;
  /** Proposed voxels that already carry the label. */
  unchangedVoxels: number;
}

/** The values of the locked rows of a label table. */
export function lockedLabelValues(table: readonly LabelTableEntry[]): Set<number> {
  return new Set(table.filter((e) => e.locked).map((e) => e.value));
}

/**
 * The labels that accepting a proposal gives: every voxel the proposal marks (value > 0) gets
 * `labelValue`, except voxels whose current label is locked. Voxels the proposal does not mark
 * keep their label (accepting adds lesions; it never erases what was drawn).
 *
 * @param current - the document's labels (not modified).
 * @param proposal - the thresholded proposal on the same grid (> 0 = lesion).
 * @throws ProposalError when the sizes differ or `labelValue` is not an integer in 1…65535.
 */
export function proposalLabels(current: LabelArray, proposal: ArrayLike<number>, opts: ProposalLabelOptions = {}): ProposedLabels {
  const labelValue = opts.labelValue ?? 1;
  if (!Number.isInteger(labelValue) || labelValue < 1 || labelValue > 65535) {
    throw new ProposalError(`option labelValue must be an integer from 1 to 65535, got ${String(opts.labelValue)}`);
  }
  if (proposal.length !== current.length) {
    throw new ProposalError(`the proposal has ${proposal.length} voxels but the labels have ${current.length}; was the image's grid changed?`);
  }
  const locked = opts.lockedValues ?? new Set<number>();
  // A label above 255 needs 16-bit labels; the document promotes its volume when it applies it.
  const labels: LabelArray = labelValue > 255 && labelBitsOf(current) === 8 ? Uint16Array.from(current) : current.slice();
  let addedVoxels = 0;
  let replacedVoxels = 0;
  let lockedVoxels = 0;
  let unchangedVoxels = 0;
  for (let i = 0; i < proposal.length; i++) {
    if (!(proposal[i] > 0)) continue;
    const now = current[i];
    if (now === labelValue) unchangedVoxels++;
    else if (locked.has(now)) lockedVoxels++;
    else {
      if (now === 0) addedVoxels++;
      else replacedVoxels++;
      labels[i] = labelValue;
    }
  }
  return { labels, addedVoxels, replacedVoxels, lockedVoxels, unchangedVoxels };
}

/**
 * The one undoable edit that accepts a proposal: {@link proposalLabels} encoded as a delta
 * against `current` (empty when the proposal changes nothing).
 */
export function proposalDelta(current: LabelArray, proposal: ArrayLike<number>, opts: ProposalLabelOptions = {}): ProposedLabels & { delta: LabelDelta } {
  const proposed = proposalLabels(current, proposal, opts);
  return { ...proposed, delta: encodeDelta(current, proposed.labels) };
}

/** A fresh ArrayBuffer holding exactly `values` (never a view's larger or shared backing store). */
export function float32Buffer(values: Float32Array): ArrayBuffer {
  const out = new ArrayBuffer(values.byteLength);
  new Float32Array(out).set(values);
  return out;
}

/**
 * Colour-scale range of a map: [min, max] of its finite values, widened to a non-empty
 * interval (an all-zero uncertainty map gives [0, 1e-6]).
 */
export function mapRange(values: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1e-6];
  return max > min ? [min, max] : [min, min + 1e-6];
}

/** Values sampled (every n-th finite one, up to this many) for the colour range. */
const RANGE_SAMPLES = 200_000;

/**
 * The colour range of a fused image: from the median of its finite values (so that a PET colours its
 * uptake, not the whole body) to the 99.5th percentile (a few hot voxels do not flatten the scale).
 */
export function fusionRange(values: Float32Array): [number, number] {
  let finite = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite++;
  if (finite === 0) return [0, 1];
  const step = Math.max(1, Math.floor(finite / RANGE_SAMPLES));
  const sample: number[] = [];
  for (let i = 0, n = 0; i < values.length; i++) if (Number.isFinite(values[i]) && n++ % step === 0) sample.push(values[i]);
  sample.sort((a, b) => a - b);
  const at = (q: number): number => sample[Math.min(sample.length - 1, Math.floor(q * (sample.length - 1)))];
  const lo = at(0.5);
  const hi = at(0.995);
  return hi > lo ? [lo, hi] : [lo, lo + Math.max(1e-6, Math.abs(lo) * 1e-6)];
}
