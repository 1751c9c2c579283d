// Which shipped starter model suits an image: one per task we have permissive data for, in
// media/models/<task>/. Chosen from the image itself:
//  - CT (HU: air at the 1st percentile, or a little air and a soft-tissue median; detectModality) → sarcoma-ct
//  - PET (non-negative, mostly non-integer, voxels ≥ 1.5 mm, SUV-like range or, in activity
//    units, uptake-like contrast)                                     → sarcoma-pet
//  - MR on a brain-sized, near-isotropic fine grid (every axis ≥ 100 mm, spacing ≤ 1.5 mm and
//    within a factor 1.5 across axes, as MNI-registered FLAIR is), or a skull-stripped brain or a
//    head with its skull on thick slices (in-plane ≤ 1.5 mm, slices ≤ 7 mm) → ms-flair
//  - any other MR                                                     → sarcoma-mr-t1
// When the chosen folder is missing, media/models/starter (the historical MS FLAIR model) is used.
// Fine-tuning, which also knows the cases' masks, may take another starter for the same kind of
// image whose lesions are of the cases' size (brain tumours rather than MS lesions on FLAIR), and
// does not start heads with their skull from a starter that has seen skull-stripped brains only:
// see starterForCases.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectModality } from './autoConfig';
import { BrainExtractionError, extractBrain, HEAD_TISSUE_LEVEL } from './brainExtraction';
import { approximateQuantile } from './preprocess';
import { brainImagesOf, findModelsDir, readCard, type BrainImageCounts } from './modelStore';
import { NEW_LESION_TYPE_RATIO } from './training/lesionScale';
import type { Vec3 } from '../volume/vec3';

export const STARTER_TASKS = ['sarcoma-ct', 'sarcoma-mr-t1', 'sarcoma-pet', 'ms-flair'] as const;
export type StarterTask = (typeof STARTER_TASKS)[number];

/** Error raised when no starter model is installed. */
export class StarterChoiceError extends Error {
  override name = 'StarterChoiceError';
}

/** The task whose starter suits an image, and why. */
export function chooseStarterTask(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }): { task: StarterTask; reason: string } {
  const m = detectModality(image.data, image.spacingMm);
  if (m.modality === 'CT') return { task: 'sarcoma-ct', reason: `CT: ${m.reason}` };
  if (m.modality === 'PET') return { task: 'sarcoma-pet', reason: `PET: ${m.reason}` };
  const fov = image.dims.map((n, a) => n * image.spacingMm[a]);
  const sp = image.spacingMm;
  const grid = `${fov.map((f) => f.toFixed(0)).join('×')} mm at ${sp.map((s) => s.toFixed(2)).join('×')} mm`;
  const brain = fov.every((f) => f >= MIN_BRAIN_FOV_MM) && Math.max(...sp) <= 1.5 && Math.max(...sp) / Math.min(...sp) <= 1.5;
  if (brain) return { task: 'ms-flair', reason: `MR on a brain-sized near-isotropic grid (${grid}): ${m.reason}` };
  const thickSlices = Math.min(...sp) <= 1.5 && Math.max(...sp) <= MAX_BRAIN_SLICE_MM;
  const stripped = thickSlices ? skullStrippedBrainExtentMm(image) : null;
  if (stripped) {
    return { task: 'ms-flair', reason: `MR of a skull-stripped brain (${stripped.map((e) => e.toFixed(0)).join('×')} mm inside a constant background, ${grid}): ${m.reason}` };
  }
  const head = thickSlices ? headExtentMm(image) : null;
  if (head) {
    return { task: 'ms-flair', reason: `MR of a head (${head.map((e) => e.toFixed(0)).join('×')} mm in air, leaving the field of view through one face at most, ${grid}): ${m.reason}` };
  }
  return { task: 'sarcoma-mr-t1', reason: `MR (field of view ${grid}, not a whole brain): ${m.reason}` };
}

/**
 * The least field of view (mm, every axis) of a near-isotropic ≤ 1.5 mm MR taken for a brain: a
 * whole brain (about 140 × 170 × 130 mm), or a crop of 5 cm around a brain lesion, as the shared
 * sarcoma images are cropped (at 140 mm, crops around two of the 12 synthetic tumours were body MR).
 */
const MIN_BRAIN_FOV_MM = 100;
/** Thick-slice brain MR (2-D FLAIR: 3–6 mm slices) is still a brain; coarser slices are not taken for one. */
const MAX_BRAIN_SLICE_MM = 7;
/** A skull-stripped brain's extent on every axis, mm (adult brains: about 140 × 170 × 130; partial slice coverage allowed). */
const BRAIN_EXTENT_MM: readonly [number, number] = [90, 220];
/** Least share of voxels in the constant background around a skull-stripped brain (BraTS and our MS FLAIRs: 84 %). */
const MIN_BACKGROUND_SHARE = 0.4;

/**
 * The extent (mm per axis) of a skull-stripped brain: an object of brain size inside a constant
 * background (the value of the first voxel, or NaN, ≥ {@link MIN_BACKGROUND_SHARE} of the voxels) that
 * stays clear of the volume's faces on its two finest (in-plane) axes; null for anything else.
 * This tells a thick-slice brain FLAIR from a body MR cropped around a tumour, which fills its
 * field of view (one of the shared sarcoma T1s has 64 % background, but it touches every face).
 */
function skullStrippedBrainExtentMm(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }): Vec3 | null {
  const { data, dims, spacingMm } = image;
  // A masked brain's background is one value, or NaN where the pipeline wrote "no data" there.
  const background = data[0];
  const noData = !Number.isFinite(background);
  const { counts, backgroundCount } = objectCountsPerSlice(data, dims, (x) => (noData ? !Number.isFinite(x) : x === background));
  if (backgroundCount < MIN_BACKGROUND_SHARE * data.length) return null;
  const finest = [0, 1, 2].sort((a, b) => spacingMm[a] - spacingMm[b]).slice(0, 2);
  const extent: number[] = [];
  for (let a = 0; a < 3; a++) {
    const span = objectSpan(counts[a]);
    if (!span) return null;
    if (finest.includes(a) && (span.first === 0 || span.last === counts[a].length - 1)) return null;
    extent.push((span.last - span.first + 1) * spacingMm[a]);
  }
  return extent.every((e) => e >= BRAIN_EXTENT_MM[0] && e <= BRAIN_EXTENT_MM[1]) ? (extent as Vec3) : null;
}

/**
 * A head with its scalp, skull and neck, mm on every axis (adults: about 150 × 200 × 200 with the
 * neck). A limb resampled onto an oblique grid sits in air too (one shared sarcoma T1: 122 × 104 ×
 * 154 mm), but is narrower than a head on some axis.
 */
const HEAD_EXTENT_MM: readonly [number, number] = [120, 250];
/** Least share of air voxels around a head: a body MR cropped around its tumour has next to none. */
const MIN_AIR_SHARE = 0.2;
/**
 * An object leaves the field of view through a face when its section there holds at least this
 * share of its fullest section: a neck or a limb's cut end does; ears or a nose grazing a tight
 * (MNI-sized, 181 mm) field of view hold 2–5 %.
 */
const MIN_LEAVING_SECTION = 0.25;

/**
 * The extent (mm per axis) of a head imaged with its skull: a brain-sized object in air (values
 * above {@link HEAD_TISSUE_LEVEL} of the p1…p99 range, air ≥ {@link MIN_AIR_SHARE} of the voxels)
 * that leaves the field of view through one face at most ({@link MIN_LEAVING_SECTION}), since a
 * head ends at the vertex, the ears, the face and the occiput and leaves only through the neck. A
 * limb or a trunk crosses the field of view along its length, leaving through both faces of that
 * axis, and a crop around a tumour through two or more faces (the shared sarcoma T1s whose crop
 * has air in it: 2 and 3); null for those. This tells a 2-D FLAIR with 3–6 mm slices and its skull from a body MR.
 */
function headExtentMm(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }): Vec3 | null {
  const { data, dims, spacingMm } = image;
  const p1 = approximateQuantile(data, 0.01);
  const p99 = approximateQuantile(data, 0.99);
  if (!(p99 > p1)) return null;
  const level = p1 + HEAD_TISSUE_LEVEL * (p99 - p1);
  const { counts, backgroundCount: air } = objectCountsPerSlice(data, dims, (x) => !(x > level));
  if (air < MIN_AIR_SHARE * data.length) return null;
  const extent: number[] = [];
  let facesLeft = 0;
  for (let a = 0; a < 3; a++) {
    const c = counts[a];
    const span = objectSpan(c);
    if (!span) return null;
    const fullest = Math.max(...c);
    for (const face of [0, c.length - 1]) if (c[face] >= MIN_LEAVING_SECTION * fullest) facesLeft++;
    extent.push((span.last - span.first + 1) * spacingMm[a]);
  }
  if (facesLeft > 1) return null;
  return extent.every((e) => e >= HEAD_EXTENT_MM[0] && e <= HEAD_EXTENT_MM[1]) ? (extent as Vec3) : null;
}

/** The object's voxels (those not `isBackground`) counted per slice along i, j and k, and the background's count. */
function objectCountsPerSlice(data: ArrayLike<number>, dims: Vec3, isBackground: (value: number) => boolean): { counts: Float64Array[]; backgroundCount: number } {
  const [nx, ny, nz] = dims;
  const counts = [new Float64Array(nx), new Float64Array(ny), new Float64Array(nz)];
  let backgroundCount = 0;
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        if (isBackground(data[v])) {
          backgroundCount++;
          continue;
        }
        counts[0][i]++;
        counts[1][j]++;
        counts[2][k]++;
      }
    }
  }
  return { counts, backgroundCount };
}

/**
 * The first and last slices along an axis holding the object, from its voxel count per slice;
 * slices under 1 % of the fullest slice's count are specks (noise, ghosts), not the object.
 */
function objectSpan(counts: Float64Array): { first: number; last: number } | null {
  const floor = 0.01 * Math.max(...counts);
  let first = 0;
  while (first < counts.length && counts[first] <= floor) first++;
  if (first >= counts.length) return null;
  let last = counts.length - 1;
  while (last > first && counts[last] <= floor) last--;
  return { first, last };
}

/** What a brain MR shows: the brain alone (skull-stripped), or the head with its skull. */
export type BrainImageKind = 'skull-stripped' | 'with skull';

/**
 * Whether an MR on a brain-like grid (in-plane ≤ 1.5 mm, slices ≤ {@link MAX_BRAIN_SLICE_MM}) is a
 * skull-stripped brain (an object of brain size in a constant background) or a head with its skull
 * (a head-sized object in air, {@link headExtentMm}); null for anything else (a body MR, a crop,
 * CT, PET).
 */
export function brainImageKind(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }): BrainImageKind | null {
  const sp = image.spacingMm;
  if (Math.min(...sp) > 1.5 || Math.max(...sp) > MAX_BRAIN_SLICE_MM) return null;
  if (detectModality(image.data, sp).modality !== 'MR') return null;
  if (skullStrippedBrainExtentMm(image)) return 'skull-stripped';
  return headExtentMm(image) ? 'with skull' : null;
}

/**
 * Why a head with its skull does not suit a model trained on skull-stripped brains only, or
 * null. Such a model has never seen a scalp: the brain-tumour starter on the synthetic tumours
 * with Colin27's scalp and skull marks a 220–245 cm³ block of brain and scalp, Dice 0.000 on
 * two of two, against 0.917–0.940 on the same images skull-stripped.
 */
export function skullMismatch(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }, trainedOn: BrainImageCounts | undefined): string | null {
  if (!trainedOn || !seesSkullStrippedOnly(trainedOn)) return null;
  if (brainImageKind(image) !== 'with skull') return null;
  return `it shows a head with its skull, but the model was trained on skull-stripped brains only (${trainedOn.skullStripped} image${trainedOn.skullStripped === 1 ? '' : 's'}): expect false lesions in the scalp and across the brain; strip the skull first (e.g. SynthStrip, HD-BET or FSL BET), or fine-tune on corrected masks of images like it`;
}

/** How a head with its skull is given to a model trained on skull-stripped brains ({@link brainMaskFor}). */
export type SkullHandling = { brainMask: Uint8Array; note: string } | { brainMask: null; warning: string };

/**
 * For a head with its skull and a model trained on skull-stripped brains only
 * ({@link skullMismatch}): the head's brain (src/ml/brainExtraction.ts), which the model is then
 * given alone, and a note saying so; or, where no brain can be told from the head, the warning.
 * Null when the image suits the model as it is. On the synthetic tumours given Colin27's scalp
 * and skull the brain-tumour starter scores 0.000 on the heads and, with their skull stripped
 * this way, about what it scores on the skull-stripped originals (docs/training-recipe.md).
 */
export function brainMaskFor(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }, trainedOn: BrainImageCounts | undefined): SkullHandling | null {
  const mismatch = skullMismatch(image, trainedOn);
  if (!mismatch) return null;
  try {
    const { mask, volumeMm3 } = extractBrain(image);
    return {
      brainMask: mask,
      note: `it shows a head with its skull, and the model was trained on skull-stripped brains only, so it was given the brain alone (${(volumeMm3 / 1000).toFixed(0)} cm³, stripped by Lesion Lab); check the proposal near the brain's surface`,
    };
  } catch (e) {
    if (!(e instanceof BrainExtractionError)) throw e;
    return { brainMask: null, warning: `${mismatch}; its skull could not be stripped: ${e.message}` };
  }
}

/** Where a task's click model (src/ml/clickModel.ts) is shipped, under media/models: click/<task>. */
export function clickModelFolder(task: StarterTask): string {
  return `click/${task}`;
}

/**
 * The starter model folder for an image: media/models/<task>/ of {@link chooseStarterTask},
 * else media/models/starter.
 * @throws StarterChoiceError when neither exists.
 */
export function starterForImage(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }, from?: string): { dir: string; task: StarterTask; reason: string } {
  const choice = chooseStarterTask(image);
  const models = findModelsDir(from);
  if (models) {
    const dir = join(models, choice.task);
    if (existsSync(join(dir, 'card.json'))) return { dir, ...choice };
    const fallback = join(models, 'starter');
    if (existsSync(join(fallback, 'card.json'))) return { dir: fallback, task: choice.task, reason: `${choice.reason}; media/models/${choice.task} is missing, so the general starter is used` };
  }
  throw new StarterChoiceError(`no starter model for ${choice.task} (${choice.reason}): media/models/${choice.task} is missing; run npm run train:starter -- --task ${choice.task}`);
}

/** Other starters trained on the same kind of image, for lesions of another size. */
const SAME_IMAGE_STARTERS: Partial<Record<StarterTask, readonly string[]>> = { 'ms-flair': ['brain-tumour-flair'] };

/**
 * The starter for fine-tuning on cases whose typical lesion is `casesLesionMm3`
 * (typicalLesionVolumeMm3 of their masks): the image's starter ({@link starterForImage}), unless
 * its lesions are another kind ({@link NEW_LESION_TYPE_RATIO}× larger or smaller than the cases')
 * and a starter for the same kind of image has lesions nearer the cases' size (its card's
 * `training.typicalLesionMm3`): whole brain tumours on FLAIR start from the brain-tumour starter,
 * not from the MS lesion one. Heads with their skull do not start from a starter that has seen
 * skull-stripped brains only, but from the body MR one ({@link HEAD_STARTER_TASK}).
 */
export async function starterForCases(
  image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 },
  casesLesionMm3: number | null,
  from?: string,
): Promise<{ dir: string; task: string; reason: string }> {
  const pick = await starterForLesionSize(image, casesLesionMm3, from);
  const models = findModelsDir(from);
  const body = models ? join(models, HEAD_STARTER_TASK) : null;
  if (!body || pick.task === HEAD_STARTER_TASK || !existsSync(join(body, 'card.json'))) return pick;
  if (!seesSkullStrippedOnly(brainImagesOf(await readCard(pick.dir))) || brainImageKind(image) !== 'with skull') return pick;
  try {
    extractBrain(image);
    return { ...pick, reason: `${pick.reason}; the cases are heads with their skull, and ${pick.task} has seen skull-stripped brains only, so it is given their brains alone (stripped by Lesion Lab)` };
  } catch (e) {
    if (!(e instanceof BrainExtractionError)) throw e;
    return {
      dir: body,
      task: HEAD_STARTER_TASK,
      reason: `${pick.reason}; but the cases are heads with their skull, ${pick.task} has seen skull-stripped brains only, and no brain could be told in the first (${e.message}), so fine-tuning starts from ${HEAD_STARTER_TASK}`,
    };
  }
}

/** Whether a model's training images were skull-stripped brains and never heads with their skull. */
export function seesSkullStrippedOnly(trainedOn: BrainImageCounts | undefined): boolean {
  return !!trainedOn && trainedOn.skullStripped > 0 && trainedOn.withSkull === 0;
}

/**
 * The starter that heads with their skull are fine-tuned from when no brain can be told from
 * them. The brain-tumour starter, which has seen skull-stripped brains only, marks blocks of brain
 * and scalp on whole heads, and 15 minutes on 4 such heads do not unlearn it: on the synthetic
 * tumours given Colin27's scalp and skull (5 mm slices, two splits, 12 held-out cases) it scored
 * 0.000 on 5 of them, mean 0.50, against 0.62 from the body MR starter, which knows fat and muscle
 * (docs/training-recipe.md).
 */
const HEAD_STARTER_TASK: StarterTask = 'sarcoma-mr-t1';

/** {@link starterForCases} before the skull check: the image's starter, or one of the same kind of image for lesions of the cases' size. */
async function starterForLesionSize(
  image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 },
  casesLesionMm3: number | null,
  from?: string,
): Promise<{ dir: string; task: string; reason: string }> {
  const chosen = starterForImage(image, from);
  const models = findModelsDir(from);
  if (casesLesionMm3 === null || !(casesLesionMm3 > 0) || !models) return chosen;
  const scaleOf = async (dir: string): Promise<number | null> => {
    const v = (await readCard(dir)).training?.typicalLesionMm3;
    return typeof v === 'number' && v > 0 ? v : null;
  };
  const distance = (mm3: number): number => Math.abs(Math.log(mm3 / casesLesionMm3));
  const ownMm3 = await scaleOf(chosen.dir);
  if (ownMm3 === null || distance(ownMm3) < Math.log(NEW_LESION_TYPE_RATIO)) return chosen;
  let best: { dir: string; task: string; mm3: number } | null = null;
  for (const task of SAME_IMAGE_STARTERS[chosen.task] ?? []) {
    const dir = join(models, task);
    if (!existsSync(join(dir, 'card.json'))) continue;
    const mm3 = await scaleOf(dir);
    if (mm3 !== null && distance(mm3) < distance(best?.mm3 ?? ownMm3)) best = { dir, task, mm3 };
  }
  if (!best) return chosen;
  const fmt = (v: number): string => Math.round(v).toLocaleString('en-US');
  return {
    dir: best.dir,
    task: best.task,
    reason: `${chosen.reason}; the cases' lesions (typically ${fmt(casesLesionMm3)} mm³) are nearer in size to ${best.task}'s (${fmt(best.mm3)} mm³) than to ${chosen.task}'s (${fmt(ownMm3)} mm³)`,
  };
}
