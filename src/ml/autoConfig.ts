// Automatic configuration from the training data, nnU-Net style but sized for a CPU budget, and
// stored in the model card (preprocessing + patch size) so inference does exactly the same:
//  - modality detected from the intensities (or given): CT from the HU range, PET from SUV-like
//    non-negative non-integer values (or activity units with uptake-like contrast), MR otherwise;
//  - target spacing from the training cases' median spacing (kept anisotropic where the data
//    are), coarsened only where needed: no axis finer than a floor s, the smallest s ≥ the finest
//    median spacing for which the median case fits `caseVoxelBudget` voxels;
//  - patch size from the median case shape at that spacing, each axis a multiple of
//    2^(levels−1), shrunk (largest axis first) until it fits `patchVoxelBudget` voxels;
//  - intensity normalisation by modality: CT clipped to the 0.5–99.5 percentiles of the training
//    lesion voxels and z-scored with their mean and standard deviation; MR and PET z-scored per
//    image inside the foreground.
import { readNifti, readNiftiHeader } from '../nifti';
import { worldAxisGrid } from '../volume/orientation';
import type { Vec3 } from '../volume/vec3';
import { approximateQuantile, defaultPreprocessing, type Modality, type Preprocessing } from './preprocess';

/** Error raised for unusable inputs to the automatic configuration. */
export class AutoConfigError extends Error {
  override name = 'AutoConfigError';
}

/** PET reconstructions have voxels of 2–5.5 mm; an image with a finer axis is not taken as PET. */
export const PET_MIN_VOXEL_MM = 1.5;

/**
 * Air in Hounsfield units (−1000; −1024 where the scanner pads with it), as a CT resampled by
 * interpolation still shows it: its values are no longer integers, but its 1st percentile stays
 * at air's.
 */
const AIR_HU: readonly [number, number] = [-1100, -850];

/** Soft tissue lies within ±200 HU (fat −100, muscle +50, blood +40): the median of a CT cropped inside the body. */
const SOFT_TISSUE_MAX_ABS_HU = 200;

/** What {@link detectModality} found, and why. */
export interface ModalityGuess {
  modality: Modality;
  reason: string;
}

/**
 * Guesses the modality of an image from its intensities.
 * - CT: the 1st percentile is at or below −500 (air in Hounsfield units) and the values are
 *   integers (HU are stored as integers, possibly scaled), or the 1st percentile lies at air's
 *   −1000 HU ({@link AIR_HU}) while the values are not integers (a CT resampled by interpolation
 *   and stored as floats), or the values are integers whose 0.1st percentile is air's (−1100 to
 *   −500 HU) and whose median is soft tissue (±200 HU): a CT cropped close to its lesion, with
 *   little air left in it.
 * - PET: no value below −0.01, most non-zero values non-integer, 99.9th percentile below 200
 *   (standardised uptake values), and, when the voxel size is given, no axis finer than
 *   {@link PET_MIN_VOXEL_MM}: an MR rescaled to small floats (a preprocessed brain FLAIR with its
 *   negatives clipped, an image scaled to 0..1) has SUV-like values too, but on the scanner's
 *   fine grid, where PET reconstructions have voxels of 2–5.5 mm.
 * - PET in activity units (Bq/mL): no value below −0.1 % of the 99.9th percentile, which is at
 *   least {@link BQ_PER_ML_MIN_P999}, most values non-integer, no axis finer than
 *   {@link PET_MIN_VOXEL_MM}, and the body's 99.9th percentile at least
 *   {@link PET_MIN_TAIL_RATIO} times its median (uptake concentrated in few voxels).
 * - MR otherwise.
 */
export function detectModality(data: ArrayLike<number>, spacingMm?: Vec3): ModalityGuess {
  const stride = Math.max(1, Math.floor(data.length / 100_000));
  let n = 0;
  let nonZero = 0;
  let nonInteger = 0;
  let min = Infinity;
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    n++;
    if (v < min) min = v;
    if (v !== 0) {
      nonZero++;
      if (Math.abs(v - Math.round(v)) > 1e-3) nonInteger++;
    }
  }
  if (n === 0) return { modality: 'MR', reason: 'no finite values; MR assumed' };
  const p1 = approximateQuantile(data, 0.01);
  const p999 = approximateQuantile(data, 0.999);
  const fracNonInteger = nonZero > 0 ? nonInteger / nonZero : 0;
  if (p1 <= -500 && fracNonInteger < 0.05) {
    return { modality: 'CT', reason: `1st percentile ${p1.toFixed(0)} ≤ −500 (air in HU) and integer values` };
  }
  if (p1 >= AIR_HU[0] && p1 <= AIR_HU[1]) {
    return { modality: 'CT', reason: `1st percentile ${p1.toFixed(0)}, air in HU, with ${(100 * fracNonInteger).toFixed(0)} % non-integer values (a CT resampled by interpolation)` };
  }
  if (fracNonInteger < 0.05) {
    // A CT cropped close to its lesion keeps only a little air (or none at 1 %), but no MR has
    // air-like values at all, and its median is soft tissue.
    const p01 = approximateQuantile(data, 0.001);
    const p50 = approximateQuantile(data, 0.5);
    if (p01 >= AIR_HU[0] && p01 <= -500 && Math.abs(p50) <= SOFT_TISSUE_MAX_ABS_HU) {
      return { modality: 'CT', reason: `integer values, 0.1st percentile ${p01.toFixed(0)} (a little air in HU) and median ${p50.toFixed(0)} (soft tissue): a CT cropped close to its lesion` };
    }
  }
  const finestMm = spacingMm ? Math.min(...spacingMm) : Infinity;
  if (min >= -0.01 && fracNonInteger > 0.5 && p999 < 200) {
    if (finestMm < PET_MIN_VOXEL_MM) {
      return { modality: 'MR', reason: `SUV-like values (${(100 * fracNonInteger).toFixed(0)} % non-integer, 99.9th percentile ${p999.toFixed(1)}) but ${finestMm.toFixed(2)} mm voxels, finer than PET's (≥ ${PET_MIN_VOXEL_MM} mm): MR rescaled to floats` };
    }
    return { modality: 'PET', reason: `non-negative, ${(100 * fracNonInteger).toFixed(0)} % of non-zero values non-integer, 99.9th percentile ${p999.toFixed(1)} < 200 (SUV-like)` };
  }
  if (min >= -0.001 * p999 && p999 >= BQ_PER_ML_MIN_P999 && fracNonInteger > 0.5 && finestMm >= PET_MIN_VOXEL_MM) {
    const tail = foregroundTailRatio(data);
    if (tail >= PET_MIN_TAIL_RATIO) {
      return { modality: 'PET', reason: `non-negative, ${(100 * fracNonInteger).toFixed(0)} % non-integer, ${finestMm.toFixed(2)} mm voxels, 99.9th percentile ${p999.toFixed(0)}, and uptake-like contrast (the 99.9th percentile of the body ${tail.toFixed(1)} times its median ≥ ${PET_MIN_TAIL_RATIO}): PET in activity units (Bq/mL), not SUV` };
    }
  }
  return { modality: 'MR', reason: `neither HU-like (1st percentile ${p1.toFixed(1)}) nor SUV-like (${(100 * fracNonInteger).toFixed(0)} % non-integer, 99.9th percentile ${p999.toFixed(1)})` };
}

/**
 * Least ratio of the body's 99.9th percentile to its median ({@link foregroundTailRatio}) for PET
 * stored in activity units (Bq/mL, as DICOM converters write it: SUV needs the dose and weight,
 * which NIfTI does not keep). Uptake is concentrated: the shared SUV PETs reach 5.2–32 (40
 * patients); MR mostly stays below 4.5 (37 of the 38 sarcoma T1s 1.5–4.4, brain MR, a 3 mm body
 * MR 2.5), but a fatty T1 can exceed it ({@link BQ_PER_ML_MIN_P999}).
 */
const PET_MIN_TAIL_RATIO = 4.5;
/**
 * Least 99.9th percentile of PET in Bq/mL: uptake of SUV 5 or more at 2,000–6,000 Bq/mL per SUV
 * (185–400 MBq over 60–100 kg). MR rescaled to floats on a coarse grid rarely reaches it (the
 * sarcoma T1s: 1,100–1,300), and one of them (STS_019) has a tail of 7.3 from its fat.
 */
const BQ_PER_ML_MIN_P999 = 5000;

/**
 * The 99.9th percentile of the foreground (values above p1 + 5 % of p1…p99.5, the body) over
 * its median, on a sample of the voxels: scale-free, so it reads PET in any activity unit.
 */
export function foregroundTailRatio(data: ArrayLike<number>): number {
  const stride = Math.max(1, Math.floor(data.length / 200_000));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += stride) if (Number.isFinite(data[i])) sample.push(data[i]);
  const sorted = Float64Array.from(sample).sort();
  const at = (a: Float64Array, q: number): number => a[Math.min(a.length - 1, Math.max(0, Math.round(q * (a.length - 1))))];
  if (sorted.length === 0) return 0;
  const p1 = at(sorted, 0.01);
  const threshold = p1 + 0.05 * (at(sorted, 0.995) - p1);
  const first = sorted.findIndex((v) => v > threshold);
  if (first < 0) return 0;
  const foreground = sorted.subarray(first);
  const median = at(foreground, 0.5);
  return median > 0 ? at(foreground, 0.999) / median : 0;
}

/** Fat (−100 HU) and air (−1000 HU) lie below this: a CT in Hounsfield units has such values; MR and PET have none. */
const CT_LOW_HU = -50;

/** The rescale intercept most CT scanners store (raw 0 = −1024 HU); a converter that drops it leaves HU + 1024. */
const CT_STORED_OFFSET = 1024;
/**
 * Widest interquartile range (HU) of a CT's body: fat (−100) to muscle (+50) and blood; the 28 shared
 * sarcoma CTs 78–153, the TotalSegmentator examples 127–128. MR bodies spread far wider for their
 * level (the 40 sarcoma T1s 145–655 around medians of 318–839, 36 % of the median or more; MNI152
 * 331 around 850).
 */
const CT_BODY_MAX_IQR_HU = 250;

/**
 * Why an image that is not in Hounsfield units looks like a CT stored without its rescale
 * intercept (values HU + 1,024, as a converter that drops `scl_inter` leaves them), or null. Such an
 * image is taken for MR; segmenting warns (a model for MR or PET has not seen it, unless it was
 * fine-tuned on images stored the same way, so this is a warning and never a refusal).
 * Signs: integer values, a 0.1st percentile between air's −1,100 and −500 HU + 1,024, and a
 * body (the values above a quarter of the 0.1–99th percentile range) whose median is soft
 * tissue's ±200 HU + 1,024 with an interquartile range of at most {@link CT_BODY_MAX_IQR_HU}. Every
 * shared CT shifted so is named; no shared MR T1, PET, FLAIR or brain template is.
 */
export function ctWithoutInterceptSigns(data: ArrayLike<number>): string | null {
  const stride = Math.max(1, Math.floor(data.length / 200_000));
  const sample: number[] = [];
  let nonInteger = 0;
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    sample.push(v);
    if (Math.abs(v - Math.round(v)) > 1e-3) nonInteger++;
  }
  if (sample.length === 0 || nonInteger > 0.05 * sample.length) return null;
  const sorted = Float64Array.from(sample).sort();
  const at = (a: Float64Array, q: number): number => a[Math.min(a.length - 1, Math.max(0, Math.round(q * (a.length - 1))))];
  const p01 = at(sorted, 0.001);
  if (p01 < AIR_HU[0] + CT_STORED_OFFSET || p01 > -500 + CT_STORED_OFFSET) return null;
  const first = sorted.findIndex((v) => v > p01 + 0.25 * (at(sorted, 0.99) - p01));
  if (first < 0) return null;
  const body = sorted.subarray(first);
  const median = at(body, 0.5);
  const iqr = at(body, 0.75) - at(body, 0.25);
  if (Math.abs(median - CT_STORED_OFFSET) > SOFT_TISSUE_MAX_ABS_HU || iqr > CT_BODY_MAX_IQR_HU) return null;
  return (
    `it looks like a CT stored without its rescale intercept: integer values from ${p01.toFixed(0)} (air at −1,024 HU + ${CT_STORED_OFFSET}) and a body of median ` +
    `${median.toFixed(0)} with an interquartile range of ${iqr.toFixed(0)} (soft tissue in HU + ${CT_STORED_OFFSET}); if it is a CT, set its header's scl_slope to 1 and scl_inter to −${CT_STORED_OFFSET}`
  );
}

/**
 * Why an image does not suit a model's normalisation, or null. A model for CT clips to a HU
 * window: an image with no value below {@link CT_LOW_HU} (MR, PET, or an image already z-scored)
 * keeps next to nothing of itself there. A model for MR or PET given a CT in HU
 * ({@link detectModality}) was trained on another kind of image. (MR and PET share the
 * normalisation, and are not told apart here.)
 */
export function modalityMismatch(data: ArrayLike<number>, spacingMm: Vec3, p: { modality: Modality }): string | null {
  if (p.modality === 'CT') {
    const low = approximateQuantile(data, 0.001);
    if (low < CT_LOW_HU) return null;
    const stored = ctWithoutInterceptSigns(data);
    return `it has no values below ${CT_LOW_HU} (0.1st percentile ${low.toFixed(1)}), so it is not a CT in Hounsfield units, and the model works on CT${stored ? ` (${stored})` : ''}`;
  }
  const guess = detectModality(data, spacingMm);
  return guess.modality === 'CT' ? `it is a CT (${guess.reason}), and the model works on ${p.modality}` : null;
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new AutoConfigError('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Options of {@link planConfiguration}. */
export interface PlanOptions {
  /** U-Net levels: every patch axis is a multiple of 2^(levels−1); default 4. */
  levels?: number;
  /** Most voxels of the median case at the target spacing (a time budget); default 160 000. */
  caseVoxelBudget?: number;
  /** Most voxels of one patch (a memory / step-time budget); default 131 072 (64×64×32). */
  patchVoxelBudget?: number;
}

/** Result of {@link planConfiguration}. */
export interface Plan {
  medianSpacingMm: Vec3;
  /** Median case size in voxels at its own spacing. */
  medianShape: Vec3;
  targetSpacingMm: Vec3;
  /** Median case size at the target spacing. */
  targetShape: Vec3;
  patchSizeVoxels: Vec3;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * Plans the target spacing and patch size from the cases' grids (see the file comment).
 * @throws AutoConfigError for no cases or invalid budgets.
 */
export function planConfiguration(cases: { dims: Vec3; spacingMm: Vec3 }[], opts: PlanOptions = {}): Plan {
  if (cases.length === 0) throw new AutoConfigError('the automatic configuration needs at least one case');
  const levels = opts.levels ?? 4;
  const multiple = 2 ** (levels - 1);
  const caseBudget = opts.caseVoxelBudget ?? 160_000;
  const patchBudget = opts.patchVoxelBudget ?? 64 * 64 * 32;
  if (!(caseBudget >= multiple ** 3) || !(patchBudget >= multiple ** 3)) {
    throw new AutoConfigError(`voxel budgets must hold at least one ${multiple}³ block, got case ${caseBudget}, patch ${patchBudget}`);
  }
  const axes = [0, 1, 2] as const;
  const medianSpacingMm = axes.map((a) => round3(median(cases.map((c) => c.spacingMm[a])))) as unknown as Vec3;
  const medianShape = axes.map((a) => Math.round(median(cases.map((c) => c.dims[a])))) as unknown as Vec3;
  const extentMm = axes.map((a) => median(cases.map((c) => c.dims[a] * c.spacingMm[a])));
  const shapeAt = (t: number[]): Vec3 => axes.map((a) => Math.max(1, Math.round(extentMm[a] / t[a]))) as unknown as Vec3;
  const count = (v: Vec3): number => v[0] * v[1] * v[2];
  // Floor s on every axis' spacing, raised 2 % at a time until the median case fits.
  let floor = Math.min(...medianSpacingMm);
  let target = medianSpacingMm.map((m) => Math.max(m, floor));
  while (count(shapeAt(target)) > caseBudget) {
    floor *= 1.02;
    target = medianSpacingMm.map((m) => Math.max(m, floor));
  }
  const targetSpacingMm = target.map(round3) as unknown as Vec3;
  const targetShape = shapeAt(targetSpacingMm);
  const patch = targetShape.map((n) => Math.max(multiple, Math.ceil(n / multiple) * multiple));
  while (count(patch as Vec3) > patchBudget) {
    // Shrink the axis that is largest in millimetres (ties: in voxels) by one block.
    let a = 0;
    for (const b of axes) {
      if (patch[b] <= multiple) continue;
      const mmB = patch[b] * targetSpacingMm[b];
      const mmA = patch[a] * targetSpacingMm[a];
      if (patch[a] <= multiple || mmB > mmA || (mmB === mmA && patch[b] > patch[a])) a = b;
    }
    if (patch[a] <= multiple) break;
    patch[a] -= multiple;
  }
  return { medianSpacingMm, medianShape, targetSpacingMm, targetShape, patchSizeVoxels: patch as unknown as Vec3 };
}

/** Options of {@link autoConfigure}. */
export interface AutoConfigOptions extends PlanOptions {
  /** The modality; default detected from the images (the majority vote of the cases). */
  modality?: Modality;
  /** CT: clip to this HU window instead of the lesion voxels' 0.5–99.5 percentiles (the z-score still uses the lesion voxels). */
  ctClipHu?: [number, number];
}

/** Result of {@link autoConfigure}: what goes into the card, and how it was found. */
export interface AutoConfiguration {
  preprocessing: Preprocessing;
  patchSizeVoxels: Vec3;
  plan: Plan;
  modalityReason: string;
  /** Lines for a log or the card's notes. */
  summary: string[];
}

/**
 * Configures preprocessing and patch size from training pairs (images are read once).
 * @throws AutoConfigError when no pair is given or a CT's masks hold no lesion voxel.
 */
export async function autoConfigure(pairs: { imagePath: string; maskPath: string }[], opts: AutoConfigOptions = {}): Promise<AutoConfiguration> {
  if (pairs.length === 0) throw new AutoConfigError('the automatic configuration needs at least one image/mask pair');
  const grids: { dims: Vec3; spacingMm: Vec3 }[] = [];
  const votes = new Map<Modality, number>();
  const reasons: string[] = [];
  const lesionSamples: number[] = [];
  const images = [];
  for (const p of pairs) {
    const image = await readNifti(p.imagePath);
    // Planned on the axes the network will see (segmentVolume and training reorder them to world order).
    grids.push(worldAxisGrid(image));
    if (!opts.modality) {
      const g = detectModality(image.data, image.spacingMm);
      votes.set(g.modality, (votes.get(g.modality) ?? 0) + 1);
      reasons.push(g.reason);
    }
    images.push({ image, maskPath: p.maskPath });
  }
  let modality: Modality;
  let modalityReason: string;
  if (opts.modality) {
    modality = opts.modality;
    modalityReason = 'given';
  } else {
    modality = [...votes.entries()].sort((a, b) => b[1] - a[1])[0][0];
    modalityReason = `detected: ${votes.get(modality)} of ${pairs.length} cases look like ${modality} (${reasons[0]})`;
  }
  const plan = planConfiguration(grids, opts);
  const preprocessing: Preprocessing = { ...defaultPreprocessing(modality, plan.targetSpacingMm) };
  if (modality === 'CT') {
    for (const { image, maskPath } of images) {
      const mask = await readNifti(maskPath);
      const n = mask.data.length;
      let count = 0;
      for (let i = 0; i < n; i++) if (mask.data[i] > 0) count++;
      const stride = Math.max(1, Math.floor(count / 20_000));
      for (let i = 0, k = 0; i < n; i++) if (mask.data[i] > 0 && k++ % stride === 0 && Number.isFinite(image.data[i])) lesionSamples.push(image.data[i]);
    }
    if (lesionSamples.length === 0) throw new AutoConfigError('no lesion voxel in the CT masks: the CT normalisation needs lesion intensities');
    const [lo, hi] = opts.ctClipHu ?? [approximateQuantile(lesionSamples, 0.005), approximateQuantile(lesionSamples, 0.995)];
    if (!(lo < hi)) throw new AutoConfigError(`the CT clip window must be [low, high] HU with low < high, got [${lo}, ${hi}]`);
    let sum = 0;
    let sumSq = 0;
    for (const v0 of lesionSamples) {
      const v = Math.min(hi, Math.max(lo, v0));
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / lesionSamples.length;
    const std = Math.max(1, Math.sqrt(Math.max(0, sumSq / lesionSamples.length - mean * mean)));
    delete preprocessing.ctWindowHu;
    preprocessing.ctZScore = { clipHu: [round3(lo), round3(hi)], mean: round3(mean), std: round3(std) };
  }
  const summary = [
    `modality ${modality} (${modalityReason})`,
    `median spacing ${plan.medianSpacingMm.join('×')} mm, median shape ${plan.medianShape.join('×')}`,
    `target spacing ${plan.targetSpacingMm.join('×')} mm (median case ${plan.targetShape.join('×')} voxels), patch ${plan.patchSizeVoxels.join('×')}`,
    modality === 'CT'
      ? `CT: clip to [${preprocessing.ctZScore!.clipHu.join(', ')}] HU (${opts.ctClipHu ? 'given' : '0.5–99.5 % of lesion voxels'}), z-score with mean ${preprocessing.ctZScore!.mean} and std ${preprocessing.ctZScore!.std} HU`
      : `${modality}: z-score per image inside the foreground`,
  ];
  return { preprocessing, patchSizeVoxels: plan.patchSizeVoxels, plan, modalityReason, summary };
}

/**
 * A base model's working grid is kept for fine-tuning unless the new cases' median spacing is
 * more than this many times coarser along some axis: the base grid would then invent slices
 * (e.g. a 1 mm brain model fine-tuned on 3.3 mm sarcoma slices, 3× the voxels and the step time).
 */
export const REPLAN_SPACING_RATIO = 1.5;
/** Largest voxel size (mm, any axis) fine-tuning plans a grid for. */
export const MAX_PLANNED_SPACING_MM = 20;

/**
 * Why a base model's configuration does not suit new training cases, or null when it does:
 * another modality (its normalisation would be wrong), or median spacing more than
 * {@link REPLAN_SPACING_RATIO}× coarser than the base's working grid along some axis, unless
 * the cases hold the base's own kind of lesion (`sameLesionKind`): its weights know that lesion on
 * its grid only (whole brain tumours on 5 mm FLAIR slices, fine-tuned 15 minutes: the
 * brain-tumour starter's grid 0.887 held out, a grid planned from the cases 0.794).
 */
export function replanReason(base: Preprocessing, cases: { spacingMm: Vec3 }[], modality: Modality, sameLesionKind = false): string | null {
  if (modality !== base.modality) return `the cases look like ${modality}, the base model works on ${base.modality}`;
  const t = base.targetSpacingMm;
  if (!t || cases.length === 0 || sameLesionKind) return null;
  const med = [0, 1, 2].map((a) => round3(median(cases.map((c) => c.spacingMm[a]))));
  const coarse = [0, 1, 2].filter((a) => med[a] > REPLAN_SPACING_RATIO * t[a]);
  if (coarse.length === 0) return null;
  return (
    `the cases' median spacing ${med.join('×')} mm is over ${REPLAN_SPACING_RATIO}× coarser than the base model's ` +
    `${t.join('×')} mm grid along ${coarse.map((a) => 'xyz'[a]).join(', ')}`
  );
}

/** A configuration planned from new cases that a base model does not suit (see {@link replanForCases}). */
export interface FineTuneConfiguration {
  preprocessing: Preprocessing;
  patchSizeVoxels: Vec3;
  /** Why, and what was planned: lines for the log and the card. */
  summary: string[];
}

/**
 * Null when the base model suits the new pairs (the usual case), else a configuration planned from
 * the pairs as for a new model (`plan`: the new network's levels and budgets), with the reason
 * {@link replanReason} gives. Reads the headers and the first image; every image again only when
 * it plans.
 */
export async function replanForCases(
  base: { preprocessing: Preprocessing },
  pairs: { imagePath: string; maskPath: string }[],
  plan: PlanOptions = {},
  sameLesionKind = false,
): Promise<FineTuneConfiguration | null> {
  if (pairs.length === 0) return null;
  const grids = [];
  for (const p of pairs) grids.push(worldAxisGrid(await readNiftiHeader(p.imagePath)));
  const first = await readNifti(pairs[0].imagePath);
  const modality = detectModality(first.data, first.spacingMm).modality;
  const reason = replanReason(base.preprocessing, grids, modality, sameLesionKind);
  // Voxels over 20 mm are a broken header (pixdim), not a grid to plan for: the base's grid is
  // kept, and the working-grid check then names the image and its voxel size.
  if (reason === null || grids.some((g) => g.spacingMm.some((s) => !(s <= MAX_PLANNED_SPACING_MM)))) return null;
  const c = await autoConfigure(pairs, { ...plan, modality });
  return { preprocessing: c.preprocessing, patchSizeVoxels: c.patchSizeVoxels, summary: [`re-planned for the new cases: ${reason}`, ...c.summary] };
}
