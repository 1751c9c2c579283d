// The dataset fields of the provenance sidecar (`<mask>.json`, src/labels/sidecar.ts): the
// proposal waiting beside the image (written by Segment All Unreviewed) and the correction effort
// measured when a case is reviewed. They are optional, so older sidecars stay valid and
// parseSidecar ignores them. Pure: parses and builds objects and text; the caller does the I/O.

import { buildSidecar, SIDECAR_FORMAT, type MaskSidecar } from '../labels/sidecar';
import type { LabelTableEntry } from '../protocol/messages';

/** A model proposal saved beside the image, waiting for Accept. */
export interface ProposalRecord {
  /** The probability map beside the image (file name only). */
  file: string;
  /** The uncertainty map beside the image, or null without test-time augmentation. */
  uncertaintyFile: string | null;
  modelVersion: string;
  /** Probability at or above which a voxel is proposed. */
  threshold: number;
  /** Proposed lesions smaller than this were dropped. */
  minLesionMm3: number;
  lesionCount: number;
  voxelCount: number;
  volumeMm3: number;
  /** Mean flip-TTA standard deviation inside the proposal; null when the proposal is empty. */
  meanUncertainty: number | null;
  /** SHA-256 of the image it was computed from. */
  imageSha256: string;
  /** ISO 8601 time. */
  createdAt: string;
}

/** How much a person changed an accepted proposal before the mask was reviewed. */
export interface CorrectionRecord {
  /** The model version whose proposal was accepted. */
  modelVersion: string;
  /** Dice between the accepted proposal (lesion voxels) and the saved mask (voxels > 0). */
  dice: number;
  /** Voxels in the mask but not in the proposal. */
  addedVoxels: number;
  /** Voxels in the proposal but not in the mask. */
  removedVoxels: number;
  proposalVoxels: number;
  maskVoxels: number;
  /** ISO 8601 time. */
  measuredAt: string;
}

/** Thrown for a sidecar whose dataset fields cannot be read or changed. */
export class SidecarFieldError extends Error {
  override name = 'SidecarFieldError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The proposal record of a parsed sidecar object, or null when absent or malformed. */
export function proposalRecordOf(sidecar: unknown): ProposalRecord | null {
  if (!isRecord(sidecar) || !isRecord(sidecar.proposal)) return null;
  const p = sidecar.proposal;
  const threshold = finiteOrNull(p.threshold);
  const lesionCount = finiteOrNull(p.lesionCount);
  const voxelCount = finiteOrNull(p.voxelCount);
  const volumeMm3 = finiteOrNull(p.volumeMm3);
  if (typeof p.file !== 'string' || p.file === '' || typeof p.modelVersion !== 'string' || threshold === null || lesionCount === null || voxelCount === null || volumeMm3 === null) {
    return null;
  }
  return {
    file: p.file,
    uncertaintyFile: typeof p.uncertaintyFile === 'string' && p.uncertaintyFile !== '' ? p.uncertaintyFile : null,
    modelVersion: p.modelVersion,
    threshold,
    minLesionMm3: finiteOrNull(p.minLesionMm3) ?? 0,
    lesionCount,
    voxelCount,
    volumeMm3,
    meanUncertainty: finiteOrNull(p.meanUncertainty),
    imageSha256: typeof p.imageSha256 === 'string' ? p.imageSha256 : '',
    createdAt: typeof p.createdAt === 'string' ? p.createdAt : '',
  };
}

/** The correction record of a parsed sidecar object, or null when absent or malformed. */
export function correctionRecordOf(sidecar: unknown): CorrectionRecord | null {
  if (!isRecord(sidecar) || !isRecord(sidecar.correction)) return null;
  const c = sidecar.correction;
  const dice = finiteOrNull(c.dice);
  const added = finiteOrNull(c.addedVoxels);
  const removed = finiteOrNull(c.removedVoxels);
  if (typeof c.modelVersion !== 'string' || dice === null || added === null || removed === null) return null;
  return {
    modelVersion: c.modelVersion,
    dice,
    addedVoxels: added,
    removedVoxels: removed,
    proposalVoxels: finiteOrNull(c.proposalVoxels) ?? 0,
    maskVoxels: finiteOrNull(c.maskVoxels) ?? 0,
    measuredAt: typeof c.measuredAt === 'string' ? c.measuredAt : '',
  };
}

/**
 * Parses sidecar text into an object whose `format` is ours.
 * @throws SidecarFieldError naming the file (bad JSON, not a Lesion Lab sidecar).
 */
export function parseSidecarObject(text: string, fileName: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SidecarFieldError(`${fileName}: not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(raw)) throw new SidecarFieldError(`${fileName}: expected a JSON object`);
  if (raw.format !== SIDECAR_FORMAT) {
    throw new SidecarFieldError(`${fileName}: not a Lesion Lab sidecar (format is ${JSON.stringify(raw.format ?? null)}, expected "${SIDECAR_FORMAT}")`);
  }
  return raw;
}

/**
 * The sidecar a save writes, keeping what only the dataset tools write: the previous sidecar's
 * `proposal` record, and `correction` (the new one when given, else the previous one when its
 * model version is still the mask's). `previousText` null or unreadable: nothing is kept.
 */
export function withDatasetFields(sidecar: MaskSidecar, previousText: string | null, correction: CorrectionRecord | null): MaskSidecar & { proposal?: ProposalRecord; correction?: CorrectionRecord } {
  let previous: Record<string, unknown> | null = null;
  if (previousText !== null) {
    try {
      previous = parseSidecarObject(previousText, 'previous sidecar');
    } catch {
      previous = null;
    }
  }
  const out: MaskSidecar & { proposal?: ProposalRecord; correction?: CorrectionRecord } = { ...sidecar };
  const proposal = proposalRecordOf(previous);
  if (proposal) out.proposal = proposal;
  const keptCorrection = correctionRecordOf(previous);
  const chosen = correction ?? (keptCorrection && keptCorrection.modelVersion === sidecar.provenance.modelVersion ? keptCorrection : null);
  if (chosen) out.correction = chosen;
  return out;
}

/**
 * Sidecar text with `reviewed` set (and `correction` replaced when given), every other field kept
 * as it was (Mark Reviewed / Mark Not Reviewed on a saved mask).
 * @throws SidecarFieldError naming the file when it is not a Lesion Lab sidecar.
 */
export function setReviewedText(text: string, fileName: string, reviewed: boolean, correction: CorrectionRecord | null, now: Date): string {
  const obj = parseSidecarObject(text, fileName);
  obj.reviewed = reviewed;
  obj.reviewedAt = reviewed ? now.toISOString() : null;
  if (correction) obj.correction = correction;
  return JSON.stringify(obj, null, 2) + '\n';
}

/** Inputs of {@link proposalSidecarText}. */
export interface ProposalSidecarInput {
  /** The existing sidecar's text (no mask yet), or null. */
  previousText: string | null;
  sidecarFileName: string;
  imageFile: string;
  maskFile: string;
  dims: [number, number, number];
  labelTable: readonly LabelTableEntry[];
  proposal: ProposalRecord;
  now: Date;
}

/**
 * The sidecar text that announces a proposal for an image that has no mask yet: an existing
 * sidecar keeps its fields (label table…) and gets the new `proposal`; otherwise a fresh sidecar
 * with the label table, no labelled voxels and `reviewed: false`.
 * @throws SidecarFieldError when `previousText` is not a Lesion Lab sidecar (it is never replaced).
 */
export function proposalSidecarText(input: ProposalSidecarInput): string {
  if (input.previousText !== null) {
    const obj = parseSidecarObject(input.previousText, input.sidecarFileName);
    obj.proposal = input.proposal;
    obj.reviewed = false;
    return JSON.stringify(obj, null, 2) + '\n';
  }
  const base = buildSidecar({
    imageFile: input.imageFile,
    imageSha256: input.proposal.imageSha256,
    maskFile: input.maskFile,
    dims: input.dims,
    bits: 8,
    voxelVolumeMm3: 0,
    labelTable: input.labelTable,
    voxelCounts: new Map(),
    modelVersion: null,
    handEditedVoxels: 0,
    reviewed: false,
    savedAt: input.now,
  });
  return JSON.stringify({ ...base, proposal: input.proposal }, null, 2) + '\n';
}
