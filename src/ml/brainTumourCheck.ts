// Whether a whole-brain MR shows a brain tumour rather than MS lesions. Both starters take the
// same images (FLAIR of a brain), so chooseStarterTask, which looks at the grid and intensities
// only, cannot tell them apart and suggests ms-flair. Here the brain-tumour starter is run once,
// without test-time flips, and its most confident lesion decides: a tumour is a large region the
// network is sure of; on MS brains and on images it was not trained for (T1) it marks small or
// wide, unsure regions (docs/training-recipe.md, "Brain tumour or MS lesions").
import { voxelVolumeMm3 } from '../nifti/affine';
import { keepLargestComponents, loadSegmentationModel, segmentVolume, type SegmentationModel, type VolumeInput } from './inference';
import { findModelsDir } from './modelStore';
import { brainMaskFor, starterForImage } from './starterChoice';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The starter for whole brain tumours, under media/models. */
export const BRAIN_TUMOUR_STARTER = 'brain-tumour-flair';

/**
 * The rule, set on 7 real and 24 synthetic tumours (1 and 5 mm slices) against the 3 MS brains
 * (1 and 5 mm) and 3 normal T1 brains. The most confident lesion's voxels at p ≥ 0.98: 5.1–133 cm³
 * and 29–75 % of the lesion on tumours; 1.1–22 cm³ but 6–21 % of it on the others (a thick-slice MS
 * brain or a T1 gives a wide region of which few voxels are sure). A lesion over 400 cm³ is no
 * tumour but most of a brain (a T1 head: 750–800 cm³; the largest real tumour here: 217 cm³).
 */
export const BRAIN_TUMOUR_RULE = { confidentProbability: 0.98, minConfidentMm3: 3000, minConfidentShare: 0.25, maxLesionMm3: 400_000 } as const;

/** What the brain-tumour starter found in an image. */
export interface BrainTumourFinding {
  tumour: boolean;
  /** The most confident lesion (keepLargestComponents' first), mm³; 0 when there is none. */
  lesionMm3: number;
  /** Its voxels at p ≥ {@link BRAIN_TUMOUR_RULE}.confidentProbability, mm³. */
  confidentMm3: number;
  /** One sentence: what was found and what it means. */
  reason: string;
}

/**
 * Decides from a segmentation by the brain-tumour starter (its labels at the card's threshold and
 * its probability, on the image's grid) whether the image shows a brain tumour.
 */
export function brainTumourVerdict(labels: Uint8Array, probability: ArrayLike<number>, dims: VolumeInput['dims'], voxelMm3: number): BrainTumourFinding {
  const lesion = keepLargestComponents(labels, dims, 1, probability);
  let voxels = 0;
  let confident = 0;
  for (let v = 0; v < lesion.length; v++) {
    if (!lesion[v]) continue;
    voxels++;
    if (probability[v] >= BRAIN_TUMOUR_RULE.confidentProbability) confident++;
  }
  const lesionMm3 = voxels * voxelMm3;
  const confidentMm3 = confident * voxelMm3;
  const share = voxels > 0 ? confident / voxels : 0;
  const tumour = confidentMm3 >= BRAIN_TUMOUR_RULE.minConfidentMm3 && share >= BRAIN_TUMOUR_RULE.minConfidentShare && lesionMm3 <= BRAIN_TUMOUR_RULE.maxLesionMm3;
  const cm3 = (mm3: number): string => `${(mm3 / 1000).toFixed(1)} cm³`;
  const found =
    voxels === 0
      ? `${BRAIN_TUMOUR_STARTER} finds no lesion`
      : `${BRAIN_TUMOUR_STARTER}'s most confident lesion is ${cm3(lesionMm3)}, ${cm3(confidentMm3)} (${(100 * share).toFixed(0)} %) of it at p ≥ ${BRAIN_TUMOUR_RULE.confidentProbability}`;
  const rule = `a tumour needs ≥ ${cm3(BRAIN_TUMOUR_RULE.minConfidentMm3)} and ≥ ${(100 * BRAIN_TUMOUR_RULE.minConfidentShare).toFixed(0)} % at that level, in a lesion of at most ${cm3(BRAIN_TUMOUR_RULE.maxLesionMm3)}`;
  return { tumour, lesionMm3, confidentMm3, reason: `${found}: ${tumour ? 'a brain tumour' : `not a brain tumour (${rule})`}` };
}

/** Runs the brain-tumour starter on `image` (no flips; given the brain alone for a head with its skull) and decides. */
export async function findBrainTumour(image: VolumeInput, model: SegmentationModel, signal?: AbortSignal): Promise<BrainTumourFinding> {
  const skull = brainMaskFor(image, model.brainImages);
  if (skull && !skull.brainMask) {
    return { tumour: false, lesionMm3: 0, confidentMm3: 0, reason: `${BRAIN_TUMOUR_STARTER} was not run: ${skull.warning}` };
  }
  const seg = await segmentVolume(image, model, { ttaFlips: [[]], brainMask: skull?.brainMask ?? undefined, signal });
  const voxelMm3 = image.affine ? voxelVolumeMm3(image.affine) : image.spacingMm[0] * image.spacingMm[1] * image.spacingMm[2];
  return brainTumourVerdict(seg.labels, seg.probability, image.dims, voxelMm3);
}

/** The brain-tumour starter's folder when an image given `task` by the grid alone is checked for a tumour (ms-flair), else null. */
export function brainTumourCheckDir(task: string, from?: string): string | null {
  const models = findModelsDir(from);
  const dir = models ? join(models, BRAIN_TUMOUR_STARTER) : null;
  return task === 'ms-flair' && dir && existsSync(join(dir, 'card.json')) ? dir : null;
}

/**
 * The shipped starter for an image, looking at what it shows where the grid alone cannot tell:
 * {@link starterForImage}, but a whole-brain MR in which the brain-tumour starter finds a tumour
 * ({@link findBrainTumour}) gets that starter instead of ms-flair. Needs a started backend.
 * @throws StarterChoiceError as starterForImage does.
 */
export async function starterForImageContent(
  image: VolumeInput,
  opts: { from?: string; signal?: AbortSignal } = {},
): Promise<{ dir: string; task: string; reason: string }> {
  const chosen = starterForImage(image, opts.from);
  const tumourDir = brainTumourCheckDir(chosen.task, opts.from);
  if (!tumourDir) return chosen;
  const model = await loadSegmentationModel(tumourDir);
  let finding: BrainTumourFinding;
  try {
    finding = await findBrainTumour(image, model, opts.signal);
  } finally {
    model.network.dispose();
  }
  return finding.tumour
    ? { dir: tumourDir, task: BRAIN_TUMOUR_STARTER, reason: `${chosen.reason}; ${finding.reason}` }
    : { ...chosen, reason: `${chosen.reason}; ${finding.reason}` };
}
