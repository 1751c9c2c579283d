// Names of the files Lesion Lab keeps beside an image: the proposal (lesion probability) and its
// flip-TTA uncertainty map written by Segment All Unreviewed. Pure path logic.

import { dirname, join } from 'node:path';
import { imageStem } from '../labels/maskPath';

/** Suffix of the proposal's probability map: "case01.nii.gz" → "case01_proposal.nii.gz". */
export const PROPOSAL_SUFFIX = '_proposal.nii.gz';
/** Suffix of the proposal's uncertainty map: "case01.nii.gz" → "case01_uncertainty.nii.gz". */
export const UNCERTAINTY_SUFFIX = '_uncertainty.nii.gz';

/** Header description of a proposal's probability map (starts with "lesion-lab": ours to replace). */
export const PROPOSAL_DESCRIPTION = 'lesion-lab lesion probability';
/** Header description of a proposal's uncertainty map. */
export const UNCERTAINTY_DESCRIPTION = 'lesion-lab flip TTA std';

/** The proposal (probability map) beside `imagePath`. */
export function proposalPathFor(imagePath: string): string {
  return join(dirname(imagePath), imageStem(imagePath) + PROPOSAL_SUFFIX);
}

/** The uncertainty map beside `imagePath`. */
export function uncertaintyPathFor(imagePath: string): string {
  return join(dirname(imagePath), imageStem(imagePath) + UNCERTAINTY_SUFFIX);
}

/**
 * The stem of the image a proposal or uncertainty map belongs to ("case01_proposal.nii.gz" →
 * "case01"), or null when `fileName` is not named like one.
 */
export function ownerStemOfMap(fileName: string): string | null {
  const lower = fileName.toLowerCase();
  for (const suffix of [PROPOSAL_SUFFIX, UNCERTAINTY_SUFFIX]) {
    if (lower.endsWith(suffix) && fileName.length > suffix.length) return fileName.slice(0, -suffix.length);
  }
  return null;
}
