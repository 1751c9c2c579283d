// Proposals saved beside the image by Segment All Unreviewed: the probability map, the
// uncertainty map and the sidecar that announces them, written as one atomic set; and reading
// them back when the case is opened or reviewed. Never writes over a mask, a file that is not
// ours, or the image.

import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkSameGrid, encodeVolumeLike, readNifti, voxelVolumeMm3, type NiftiImage } from '../nifti';
import { isLesionLabNifti } from '../util/outputGuard';
import { nodeAtomicWriteFs, writeFilesAtomically, type AtomicWriteFs, type FileToWrite } from '../util/writeFilesAtomically';
import { sidecarPathFor } from '../labels/maskPath';
import type { LabelTableEntry } from '../protocol/messages';
import type { Lesion } from '../ml/metrics';
import { PROPOSAL_DESCRIPTION, proposalPathFor, UNCERTAINTY_DESCRIPTION, uncertaintyPathFor } from './caseFiles';
import { meanInside, proposalLabelsFromProbability } from './correction';
import { parseSidecarObject, proposalRecordOf, proposalSidecarText, type ProposalRecord } from './sidecarFields';

/** Thrown when a proposal cannot be saved or read; the message names the file and the problem. */
export class ProposalFileError extends Error {
  override name = 'ProposalFileError';
}

/** What {@link saveProposal} needs. */
export interface SaveProposalInput {
  image: NiftiImage;
  imagePath: string;
  maskPath: string;
  imageSha256: string;
  modelVersion: string;
  threshold: number;
  minLesionMm3: number;
  probability: Float32Array;
  /** null: no test-time augmentation, no uncertainty map. */
  uncertainty: Float32Array | null;
  /** The proposal after threshold and minimum lesion size (1 = lesion). */
  labels: Uint8Array;
  lesions: readonly Lesion[];
  labelTable: readonly LabelTableEntry[];
  now?: Date;
  fileOps?: AtomicWriteFs;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ProposalFileError(`${basename(path)} cannot be read (${(err as Error).message})`);
  }
}

async function existsPath(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Refuses to replace an existing file that is not a Lesion Lab map. */
async function checkReplaceable(path: string, imagePath: string): Promise<void> {
  if (!(await existsPath(path))) return;
  const { ours, description } = await isLesionLabNifti(path);
  if (!ours) {
    const what = description === null ? 'it is not a NIfTI-1 file' : `its header description is ${JSON.stringify(description)}`;
    throw new ProposalFileError(`${basename(path)} already exists and is not a Lesion Lab output (${what}); it is left alone, so no proposal was saved for ${basename(imagePath)}`);
  }
}

/**
 * Saves a proposal beside the image: `<stem>_proposal.nii.gz` (probability), optionally
 * `<stem>_uncertainty.nii.gz`, and the sidecar's `proposal` record, all or nothing.
 * @returns the record written.
 * @throws ProposalFileError when the image has a mask (the person's work is never replaced), a
 *   map path holds a file that is not ours, or the sidecar is not a Lesion Lab sidecar;
 *   AtomicWriteError naming the file when a write fails.
 */
export async function saveProposal(input: SaveProposalInput): Promise<ProposalRecord> {
  const { image, imagePath, maskPath } = input;
  if (await existsPath(maskPath)) {
    throw new ProposalFileError(`${basename(imagePath)} already has a mask (${basename(maskPath)}); its proposal is not saved so the mask's edits stay as they are`);
  }
  const proposalPath = proposalPathFor(imagePath);
  const uncertaintyPath = input.uncertainty ? uncertaintyPathFor(imagePath) : null;
  await checkReplaceable(proposalPath, imagePath);
  if (uncertaintyPath) await checkReplaceable(uncertaintyPath, imagePath);
  const sidecarPath = sidecarPathFor(maskPath);
  const previousText = await readIfExists(sidecarPath);
  const now = input.now ?? new Date();
  const voxelMm3 = voxelVolumeMm3(image.affine);
  const voxelCount = input.lesions.reduce((a, l) => a + l.voxelCount, 0);
  const record: ProposalRecord = {
    file: basename(proposalPath),
    uncertaintyFile: uncertaintyPath ? basename(uncertaintyPath) : null,
    modelVersion: input.modelVersion,
    threshold: input.threshold,
    minLesionMm3: input.minLesionMm3,
    lesionCount: input.lesions.length,
    voxelCount,
    volumeMm3: Math.round(voxelCount * voxelMm3 * 1000) / 1000,
    meanUncertainty: input.uncertainty ? meanInside(input.uncertainty, input.labels) : null,
    imageSha256: input.imageSha256,
    createdAt: now.toISOString(),
  };
  let text: string;
  try {
    text = proposalSidecarText({
      previousText,
      sidecarFileName: basename(sidecarPath),
      imageFile: basename(imagePath),
      maskFile: basename(maskPath),
      dims: [...image.dims],
      labelTable: input.labelTable,
      proposal: record,
      now,
    });
  } catch (err) {
    throw new ProposalFileError(`${(err as Error).message}; it is left alone, so no proposal was saved for ${basename(imagePath)}`);
  }
  const files: FileToWrite[] = [{ path: proposalPath, bytes: encodeVolumeLike(image, input.probability, proposalPath, { description: PROPOSAL_DESCRIPTION }) }];
  if (uncertaintyPath && input.uncertainty) files.push({ path: uncertaintyPath, bytes: encodeVolumeLike(image, input.uncertainty, uncertaintyPath, { description: UNCERTAINTY_DESCRIPTION }) });
  files.push({ path: sidecarPath, bytes: text });
  await writeFilesAtomically(files, input.fileOps ?? nodeAtomicWriteFs);
  return record;
}

/** A saved proposal read back on the image's grid. */
export interface LoadedProposal {
  record: ProposalRecord;
  probability: Float32Array;
  uncertainty: Float32Array | null;
  /** 1 = proposed lesion (threshold and minimum size applied as when it was made). */
  labels: Uint8Array;
  lesions: Lesion[];
}

/** The proposal record in the sidecar beside `maskPath`, or null (no sidecar, none recorded, unreadable). */
export async function readProposalRecord(maskPath: string): Promise<ProposalRecord | null> {
  const sidecarPath = sidecarPathFor(maskPath);
  let text: string | null;
  try {
    text = await readIfExists(sidecarPath);
  } catch {
    return null;
  }
  if (text === null) return null;
  try {
    return proposalRecordOf(parseSidecarObject(text, basename(sidecarPath)));
  } catch {
    return null;
  }
}

function asFloat32(data: ArrayLike<number>): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * Reads the proposal recorded for `image` (its probability map and, when recorded, uncertainty).
 * @returns null when no proposal is recorded or its file is gone.
 * @throws ProposalFileError naming the file when a map cannot be read or is not on the image's grid.
 */
export async function loadProposal(image: NiftiImage, imagePath: string, maskPath: string): Promise<LoadedProposal | null> {
  const record = await readProposalRecord(maskPath);
  if (!record) return null;
  const folder = dirname(imagePath);
  const probabilityPath = join(folder, record.file);
  if (!(await existsPath(probabilityPath))) return null;
  const readMap = async (path: string): Promise<Float32Array> => {
    let map: NiftiImage;
    try {
      map = await readNifti(path);
    } catch (err) {
      throw new ProposalFileError(`the proposal map ${basename(path)} cannot be read: ${(err as Error).message}`);
    }
    const grid = checkSameGrid(image, map);
    if (!grid.same) throw new ProposalFileError(`the proposal map ${basename(path)} is not on the grid of ${basename(imagePath)}: ${grid.differences.join('; ')}`);
    return asFloat32(map.data);
  };
  const probability = await readMap(probabilityPath);
  const uncertaintyPath = record.uncertaintyFile ? join(folder, record.uncertaintyFile) : null;
  const uncertainty = uncertaintyPath && (await existsPath(uncertaintyPath)) ? await readMap(uncertaintyPath) : null;
  const { labels, lesions } = proposalLabelsFromProbability(probability, image.dims, image.spacingMm, record.threshold, record.minLesionMm3, voxelVolumeMm3(image.affine));
  return { record, probability, uncertainty, labels, lesions };
}
