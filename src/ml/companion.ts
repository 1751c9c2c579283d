// A second opinion from another modality: the same patient's image in the same scanner space (its
// PET under a CT, its CT under an MR T1) segmented by the shipped starter that suits it, the lesion
// probability resampled onto the grid of the image being segmented (src/volume/resampleWorld.ts).
// segmentVolume averages it with that image's own model (SegmentOptions.companion). On the
// held-out sarcoma patients this lifts every modality (docs/training-recipe.md, "A second
// modality's opinion"); two images that suit the same starter add nothing, so they are refused.
import type { NiftiImage } from '../nifti';
import { resampleOntoGrid } from '../volume/resampleWorld';
import { loadSegmentationModel, segmentVolume } from './inference';
import { brainMaskFor, chooseStarterTask, type StarterTask } from './starterChoice';

/** Another image could not give a second opinion; the message says why. */
export class CompanionError extends Error {
  override name = 'CompanionError';
}

/** What the companion image gave. */
export interface Companion {
  /** Lesion probability on the target grid, NaN where the companion image does not reach. */
  probability: Float32Array;
  /** The starter that segmented it, and its version. */
  task: StarterTask;
  version: string;
  /** Fraction of the target's voxels the companion image covers. */
  coverage: number;
}

type Image = Pick<NiftiImage, 'data' | 'dims' | 'spacingMm' | 'affine'>;

/**
 * The starter task of `other` when it differs from the one that suits `image` (so its opinion
 * is another modality's).
 * @throws CompanionError when both suit the same starter.
 */
export function companionTask(image: Image, other: Image, otherName: string): StarterTask {
  const own = chooseStarterTask(image);
  const theirs = chooseStarterTask(other);
  if (theirs.task === own.task) {
    throw new CompanionError(`${otherName} suits the same starter as the image (${own.task}: ${theirs.reason}); a second opinion must come from another modality (a PET, a CT, an MR T1)`);
  }
  return theirs.task;
}

/**
 * Segments `other` with the starter of its modality (`dirOf` finds its folder) and resamples its
 * lesion probability onto `image`'s grid. The backend must be initialised.
 * @throws CompanionError when the two images suit one starter or do not overlap in scanner space.
 */
export async function companionProbability(
  image: Image,
  other: Image,
  otherName: string,
  dirOf: (task: StarterTask) => string,
  opts: {
    ttaFlips?: number[][];
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    /** Where `other` lies in scanner space when a registration moved it (its voxel → world affine); else its own. */
    placedAffine?: ArrayLike<number>;
  } = {},
): Promise<Companion> {
  const task = companionTask(image, other, otherName);
  const placed = { dims: other.dims, affine: opts.placedAffine ?? other.affine };
  // Before the network runs: do the two images share any space at all?
  if (resampleOntoGrid(other.data, placed, { dims: image.dims, affine: image.affine }).coverage === 0) {
    throw new CompanionError(`${otherName} does not overlap the image in scanner coordinates: the two are not in one scanner space (register them first)`);
  }
  const model = await loadSegmentationModel(dirOf(task));
  try {
    const skull = brainMaskFor(other, model.brainImages);
    const seg = await segmentVolume(other, model, { ttaFlips: opts.ttaFlips, signal: opts.signal, onProgress: opts.onProgress, brainMask: skull?.brainMask ?? undefined });
    const { values, coverage } = resampleOntoGrid(seg.probability, placed, { dims: image.dims, affine: image.affine });
    return { probability: values, task, version: model.version ?? task, coverage };
  } finally {
    model.network.dispose();
  }
}
