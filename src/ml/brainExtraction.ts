// Brain extraction (skull stripping) of a head MR, so that a model trained on skull-stripped
// brains can be given a head with its scalp and skull. Morphological, no training: the brain is
// the largest bright body that an opening of a few millimetres separates from the scalp across
// the dark skull and CSF, grown back into the tissue it was opened from and closed over its sulci.
// Measured on Colin27 (1, 3, 5 and 6 mm slices, with and without Rician noise) against its BET
// mask, and on the synthetic tumours given Colin27's scalp and skull: docs/training-recipe.md
// "Skull stripping before a brain model".
import { distanceTransformMm } from '../interactive/distanceTransform';
import { fillHoles, labelComponents } from '../interactive/components';
import type { Vec3 } from '../volume/vec3';
import { approximateQuantile } from './preprocess';

/** Head tissue is brighter than this share of the image's p1…p99 range; air (noise, ghosts) is darker. */
export const HEAD_TISSUE_LEVEL = 0.1;
/** Opening radius that cuts the brain from the scalp where the skull between them is thin or blurred by thick slices, mm. */
const OPENING_RADIUS_MM = 4;
/** How far the opened brain may grow back into tissue darker than the Otsu level (grey matter on a T1), mm. */
const GROW_MM = 3;
/** That tissue is brighter than this share of the Otsu level. */
const GROW_LEVEL = 0.8;
/** Closing radius that puts the sulci and the CSF on the brain's surface back into the mask, mm. */
const CLOSING_RADIUS_MM = 12;
/**
 * The closed mask is then eroded by this much, mm: brain models were trained on tightly stripped
 * brains, and the dark CSF rim and the blurred edge of thick slices left in a looser mask look
 * like lesion to them (the brain-tumour starter on 5 mm heads: 4 of 12 tumours lost to a false
 * lesion on the brain's edge without it, 1 with it).
 */
const EROSION_MM = 2;
/** A brain mask outside this volume is not a brain (adult brains with their CSF: 1,100–1,900 cm³ here), mm³. */
const BRAIN_VOLUME_MM3: readonly [number, number] = [600_000, 2_600_000];

/** The brain of a head MR: 1 inside, on the image's grid. */
export interface BrainMask {
  mask: Uint8Array;
  volumeMm3: number;
}

/** Thrown when no brain can be told from the head (no head in air, or a body of implausible size). */
export class BrainExtractionError extends Error {
  override name = 'BrainExtractionError';
}

/**
 * The brain of a head MR with its skull (T1 or FLAIR; 1–7 mm slices). Steps, in mm on the grid:
 * 1. the head: the largest 6-connected body above air ({@link HEAD_TISSUE_LEVEL}), holes filled;
 * 2. tissue: head voxels above the Otsu level of the head's values (skull and CSF are below it);
 * 3. the brain's core: the largest body of that tissue after an opening of {@link OPENING_RADIUS_MM};
 * 4. grown back by the opening's radius into the tissue, then {@link GROW_MM} into tissue above
 *    {@link GROW_LEVEL} of the Otsu level, closed by {@link CLOSING_RADIUS_MM}, its holes
 *    filled (ventricles, a necrotic core), and eroded by {@link EROSION_MM}.
 * Bright lesions are tissue, so they stay in the brain however bright they are: no upper level is used.
 * @throws BrainExtractionError when there is no head in air, or the brain found is not brain-sized.
 */
export function extractBrain(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }): BrainMask {
  const { data, dims, spacingMm } = image;
  const n = dims[0] * dims[1] * dims[2];
  if (data.length !== n) throw new BrainExtractionError(`the image has ${data.length} voxels but its dims ${dims.join('×')} need ${n}`);
  const p1 = approximateQuantile(data, 0.01);
  const p99 = approximateQuantile(data, 0.99);
  if (!(p99 > p1)) throw new BrainExtractionError('the image is flat: no head can be told from the air');
  const airLevel = p1 + HEAD_TISSUE_LEVEL * (p99 - p1);
  const head = fillHoles(largestComponent(threshold(data, (x) => x > airLevel), dims), dims);
  const level = otsuLevel(data, head);
  const tissue = threshold(data, (x, v) => head[v] === 1 && x > level);
  const core = largestComponent(beyond(distanceTransformMm(tissue, dims, spacingMm, false), OPENING_RADIUS_MM), dims);
  const reach = OPENING_RADIUS_MM + Math.max(...spacingMm);
  let brain = largestComponent(withinOf(core, dims, spacingMm, reach, (v) => tissue[v] === 1), dims);
  const growLevel = GROW_LEVEL * level;
  brain = largestComponent(withinOf(brain, dims, spacingMm, GROW_MM, (v) => head[v] === 1 && data[v] > growLevel), dims);
  brain = fillHoles(closing(brain, dims, spacingMm, CLOSING_RADIUS_MM), dims);
  brain = beyond(distanceTransformMm(brain, dims, spacingMm, false), EROSION_MM);
  let count = 0;
  for (let v = 0; v < n; v++) count += brain[v];
  const volumeMm3 = count * spacingMm[0] * spacingMm[1] * spacingMm[2];
  if (volumeMm3 < BRAIN_VOLUME_MM3[0] || volumeMm3 > BRAIN_VOLUME_MM3[1]) {
    throw new BrainExtractionError(`the brain found is ${(volumeMm3 / 1000).toFixed(0)} cm³, outside ${BRAIN_VOLUME_MM3.map((b) => b / 1000).join('–')} cm³ (is this a whole head?)`);
  }
  return { mask: brain, volumeMm3 };
}

/**
 * The image with everything outside `brain` set to one background value, as skull-stripped
 * images are stored: 0, or the image's least value when that is negative.
 */
export function maskedToBrain(data: ArrayLike<number>, brain: Uint8Array): Float32Array {
  let least = 0;
  for (let v = 0; v < data.length; v++) if (data[v] < least) least = data[v];
  const out = new Float32Array(data.length);
  for (let v = 0; v < data.length; v++) out[v] = brain[v] ? data[v] : least;
  return out;
}

function threshold(data: ArrayLike<number>, keep: (x: number, v: number) => boolean): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let v = 0; v < data.length; v++) if (keep(data[v], v)) out[v] = 1;
  return out;
}

function beyond(distanceMm: Float32Array, radiusMm: number): Uint8Array {
  const out = new Uint8Array(distanceMm.length);
  for (let v = 0; v < distanceMm.length; v++) if (distanceMm[v] > radiusMm) out[v] = 1;
  return out;
}

/** `mask` grown by `radiusMm` into the voxels where `allowed` holds (`mask` itself is kept). */
function withinOf(mask: Uint8Array, dims: Vec3, spacingMm: Vec3, radiusMm: number, allowed: (v: number) => boolean): Uint8Array {
  const outside = new Uint8Array(mask.length);
  for (let v = 0; v < mask.length; v++) outside[v] = mask[v] ? 0 : 1;
  // Space beyond the grid is not the mask, so it must not count as a voxel next to it.
  const distance = distanceTransformMm(outside, dims, spacingMm, false);
  const out = new Uint8Array(mask.length);
  for (let v = 0; v < mask.length; v++) if (mask[v] || (distance[v] <= radiusMm && allowed(v))) out[v] = 1;
  return out;
}

/** Morphological closing by a ball of `radiusMm`; the grid's faces do not erode the mask (a neck leaving the field of view). */
function closing(mask: Uint8Array, dims: Vec3, spacingMm: Vec3, radiusMm: number): Uint8Array {
  const dilated = withinOf(mask, dims, spacingMm, radiusMm, () => true);
  return beyond(distanceTransformMm(dilated, dims, spacingMm, false), radiusMm);
}

/** The largest 6-connected component of `mask` (all zeros when it is empty). */
function largestComponent(mask: Uint8Array, dims: Vec3): Uint8Array {
  const { labels, sizes } = labelComponents(mask, dims, 6);
  const out = new Uint8Array(mask.length);
  if (sizes.length === 0) return out;
  let best = 0;
  for (let c = 1; c < sizes.length; c++) if (sizes[c] > sizes[best]) best = c;
  for (let v = 0; v < mask.length; v++) if (labels[v] === best + 1) out[v] = 1;
  return out;
}

/** Otsu's level (256 bins) of the values where `within` is 1: here it splits skull and CSF from tissue. */
function otsuLevel(data: ArrayLike<number>, within: Uint8Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let v = 0; v < data.length; v++) {
    if (!within[v]) continue;
    if (data[v] < lo) lo = data[v];
    if (data[v] > hi) hi = data[v];
  }
  if (!(hi > lo)) throw new BrainExtractionError('the head is flat: tissue cannot be told from skull and CSF');
  const bins = 256;
  const width = (hi - lo) / bins;
  const counts = new Float64Array(bins);
  for (let v = 0; v < data.length; v++) if (within[v]) counts[Math.min(bins - 1, Math.floor((data[v] - lo) / width))]++;
  let total = 0;
  let totalSum = 0;
  for (let b = 0; b < bins; b++) {
    total += counts[b];
    totalSum += counts[b] * (lo + (b + 0.5) * width);
  }
  let below = 0;
  let belowSum = 0;
  let best = -1;
  let level = lo;
  for (let b = 0; b < bins - 1; b++) {
    below += counts[b];
    belowSum += counts[b] * (lo + (b + 0.5) * width);
    const above = total - below;
    if (below === 0 || above === 0) continue;
    const between = below * above * (belowSum / below - (totalSum - belowSum) / above) ** 2;
    if (between > best) {
      best = between;
      level = lo + (b + 0.5) * width;
    }
  }
  return level;
}
