// Finds the training pairs for "Fine-tune on Corrected Masks": every NIfTI image under the
// workspace folders whose mask (at the `lesionLab.maskPattern` path) was saved in the editor and
// whose provenance sidecar says `reviewed: true`. Pure file-system logic, no vscode.

import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { maskPathFor, maskPathsOf, sidecarPathFor, DEFAULT_MASK_PATTERN } from '../labels/maskPath';
import { parseSidecar } from '../labels/sidecar';
import { walkNiftiFiles, type NiftiWalkOptions } from './niftiWalk';

/** An image with its reviewed mask and the sidecar that says so. */
export interface ReviewedPair {
  imagePath: string;
  maskPath: string;
  sidecarPath: string;
}

/** An image that has a mask but cannot be used for training, and why (one sentence). */
export interface SkippedImage {
  imagePath: string;
  reason: string;
}

/** Result of {@link findReviewedTrainingPairs}. */
export interface TrainingPairSearch {
  /** Usable pairs, sorted by image path. */
  pairs: ReviewedPair[];
  /** Images with a mask that is not usable (no sidecar, unreadable sidecar, not reviewed). */
  skipped: SkippedImage[];
  /** NIfTI images looked at (masks of other images not counted). */
  imagesSeen: number;
  /** True when the walk stopped at `maxEntries` (the search is incomplete). */
  truncated: boolean;
}

/** Options of {@link findReviewedTrainingPairs}: the mask pattern and the bounds of the folder walk. */
export interface FindPairsOptions extends NiftiWalkOptions {
  /** The `lesionLab.maskPattern` setting; default `${name}_seg.nii.gz`. */
  maskPattern?: string;
}

/** Error for invalid search options. */
export class TrainingPairError extends Error {
  override name = 'TrainingPairError';
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}

/** `path` relative to the root that holds it (for messages), else as it is. */
export function displayPath(path: string, roots: readonly string[]): string {
  for (const root of roots) {
    const r = relative(resolve(root), path);
    if (r && !r.startsWith('..') && !isAbsolute(r)) return r;
  }
  return path;
}

/**
 * Walks `roots` for NIfTI images (`.nii`, `.nii.gz`) and returns those whose mask was saved and
 * reviewed in Lesion Lab. A file that is the mask of another image found is not an image.
 * Images without a mask are only counted; images with a mask that cannot be used are listed in
 * `skipped` with the reason.
 *
 * @param roots - folders to search (the workspace folders).
 * @param opts - see {@link FindPairsOptions}.
 * @throws MaskPathError for an unusable mask pattern; TrainingPairError for invalid options.
 * @example const { pairs } = await findReviewedTrainingPairs(['/data/study'], { maskPattern: '${name}_seg.nii.gz' });
 */
export async function findReviewedTrainingPairs(roots: readonly string[], opts: FindPairsOptions = {}): Promise<TrainingPairSearch> {
  const pattern = opts.maskPattern ?? DEFAULT_MASK_PATTERN;
  // An unusable pattern fails for every image: say so once, up front.
  maskPathFor(join(resolve(roots[0] ?? '.'), 'probe.nii.gz'), pattern);
  const walked = await walkNiftiFiles(roots, opts, (message) => new TrainingPairError(message));
  const images = new Set(walked.niftiPaths);
  const truncated = walked.truncated;
  // Every image's mask path first, so masks found by the walk are not taken for images.
  const { maskOf, masks } = maskPathsOf(images, pattern);

  const pairs: ReviewedPair[] = [];
  const skipped: SkippedImage[] = [];
  let imagesSeen = 0;
  for (const imagePath of [...images].sort()) {
    const maskPath = maskOf.get(imagePath);
    if (maskPath === undefined || masks.has(imagePath)) continue;
    imagesSeen++;
    if (!(await exists(maskPath))) continue;
    const sidecarPath = sidecarPathFor(maskPath);
    const rel = (p: string) => displayPath(p, roots);
    let text: string;
    try {
      text = await fsp.readFile(sidecarPath, 'utf8');
    } catch {
      skipped.push({ imagePath, reason: `${rel(maskPath)} has no sidecar ${rel(sidecarPath)}: it was not saved in Lesion Lab, so it is not marked reviewed` });
      continue;
    }
    let reviewed: boolean;
    try {
      reviewed = parseSidecar(text, rel(sidecarPath)).reviewed;
    } catch (err) {
      skipped.push({ imagePath, reason: (err as Error).message });
      continue;
    }
    if (!reviewed) {
      skipped.push({ imagePath, reason: `${rel(sidecarPath)} says the mask is not reviewed (save it in Lesion Lab after checking it)` });
      continue;
    }
    pairs.push({ imagePath, maskPath, sidecarPath });
  }
  return { pairs, skipped, imagesSeen, truncated };
}
