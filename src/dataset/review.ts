// Review bookkeeping in the sidecar: on every save, the lesion count, the proposal record kept and
// the correction effort against the accepted proposal; Mark Reviewed / Mark Not Reviewed on a
// saved mask without opening it. Never touches the image or the mask.

import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { readNifti, type NiftiImage } from '../nifti';
import { writeFileAtomic } from '../util/atomicWrite';
import { sidecarPathFor } from '../labels/maskPath';
import type { MaskSidecar } from '../labels/sidecar';
import { connectedComponents } from '../ml/metrics';
import { correctionEffort } from './correction';
import { loadProposal } from './proposalFiles';
import { parseSidecarObject, proposalRecordOf, setReviewedText, withDatasetFields, type CorrectionRecord } from './sidecarFields';

/** Thrown when a case cannot be marked; the message names the file and the way out. */
export class ReviewError extends Error {
  override name = 'ReviewError';
}

/** A proposal accepted in the editor, kept in memory until the mask is saved. */
export interface AcceptedProposal {
  modelVersion: string;
  /** 1 = proposed lesion, on the image grid. */
  labels: Uint8Array;
}

/** Lesions (26-connected components of voxels > 0) in a label map. */
export function lesionCountOf(labels: ArrayLike<number>, dims: [number, number, number]): number {
  return connectedComponents(labels, dims, 26).count;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The correction effort of `labels` against the proposal its provenance names: the accepted one
 * in memory when its model version matches, else the proposal saved beside the image when its
 * version matches; null when there is none (drawn by hand, or the proposal is gone).
 */
async function correctionFor(
  modelVersion: string | null,
  labels: ArrayLike<number>,
  grid: NiftiImage,
  imagePath: string,
  maskPath: string,
  accepted: AcceptedProposal | null,
  now: Date,
): Promise<CorrectionRecord | null> {
  if (modelVersion === null) return null;
  if (accepted && accepted.modelVersion === modelVersion && accepted.labels.length === labels.length) {
    return correctionEffort(modelVersion, accepted.labels, labels, now);
  }
  let saved;
  try {
    saved = await loadProposal(grid, imagePath, maskPath);
  } catch {
    // An unreadable proposal map cannot be compared; the save itself goes on.
    return null;
  }
  if (!saved || saved.record.modelVersion !== modelVersion) return null;
  return correctionEffort(modelVersion, saved.labels, labels, now);
}

/** What {@link completeSidecarForSave} needs from the editor's session. */
export interface SaveContext {
  image: NiftiImage;
  imagePath: string;
  /** The document's own mask path (its sidecar holds the proposal record). */
  maskPath: string;
  labels: ArrayLike<number>;
  accepted: AcceptedProposal | null;
  now?: Date;
}

/**
 * The sidecar a save writes, completed with the dataset fields: `lesionCount`, the `proposal`
 * record kept from the document's sidecar, and `correction` measured against the accepted
 * proposal when the mask is reviewed.
 */
export async function completeSidecarForSave(sidecar: MaskSidecar, ctx: SaveContext): Promise<MaskSidecar> {
  const previousText = await readText(sidecarPathFor(ctx.maskPath));
  const now = ctx.now ?? new Date();
  const correction = sidecar.reviewed
    ? await correctionFor(sidecar.provenance.modelVersion, ctx.labels, ctx.image, ctx.imagePath, ctx.maskPath, ctx.accepted, now)
    : null;
  return { ...withDatasetFields(sidecar, previousText, correction), lesionCount: lesionCountOf(ctx.labels, ctx.image.dims) } as MaskSidecar;
}

/**
 * Sets `reviewed` in the sidecar of a saved mask (Mark Reviewed / Mark Not Reviewed from the Cases
 * view), measuring the correction effort when marking reviewed. Every other field is kept.
 * @returns the correction measured, or null.
 * @throws ReviewError when there is no mask or no Lesion Lab sidecar, or the mask cannot be read.
 */
export async function setCaseReviewed(imagePath: string, maskPath: string, reviewed: boolean, now = new Date()): Promise<CorrectionRecord | null> {
  const sidecarPath = sidecarPathFor(maskPath);
  const text = await readText(sidecarPath);
  const hasMask = await fsp.access(maskPath).then(
    () => true,
    () => false,
  );
  if (!hasMask) {
    throw new ReviewError(`${basename(imagePath)} has no saved mask (${basename(maskPath)}); open it, accept or draw the lesions and save, then mark it reviewed`);
  }
  if (text === null) {
    throw new ReviewError(`${basename(maskPath)} has no Lesion Lab sidecar (${basename(sidecarPath)}); open ${basename(imagePath)} in Lesion Lab and save it once, then mark it`);
  }
  let obj: Record<string, unknown>;
  try {
    obj = parseSidecarObject(text, basename(sidecarPath));
  } catch (err) {
    throw new ReviewError(`${(err as Error).message}; it is left alone`);
  }
  let correction: CorrectionRecord | null = null;
  if (reviewed) {
    const prov = obj.provenance as { modelVersion?: unknown } | undefined;
    const modelVersion = typeof prov?.modelVersion === 'string' ? prov.modelVersion : null;
    if (modelVersion !== null && proposalRecordOf(obj)) {
      let mask: NiftiImage;
      try {
        mask = await readNifti(maskPath);
      } catch (err) {
        throw new ReviewError(`the mask ${basename(maskPath)} cannot be read: ${(err as Error).message}`);
      }
      // The mask is on the image's grid (the editor writes it so), so it serves as the grid.
      correction = await correctionFor(modelVersion, mask.data, mask, imagePath, maskPath, null, now);
    }
  }
  await writeFileAtomic(sidecarPath, setReviewedText(text, basename(sidecarPath), reviewed, correction, now));
  return correction;
}
