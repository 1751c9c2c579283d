// Correction effort (how much a person changed a model's proposal) and the numbers the Cases view
// ranks by: the proposal's labels rebuilt from its saved probability map, the mean uncertainty
// inside it, and per-model means of the correction effort. Pure.

import { overlapScores, removeSmallLesions, type Lesion } from '../ml/metrics';
import type { CorrectionRecord } from './sidecarFields';

type Vec3 = [number, number, number];

/** Thrown for inputs that do not fit together (lengths, options). */
export class CorrectionError extends Error {
  override name = 'CorrectionError';
}

/**
 * The proposal's lesion voxels from its probability map: probability ≥ threshold, then lesions
 * under `minLesionMm3` removed. This is what Segment Lesion computes from the same map
 * (src/ml/inference.ts), so a proposal saved as a probability map comes back voxel for voxel.
 * @returns 0/1 labels and the lesions, largest first.
 * @throws CorrectionError for a threshold outside (0, 1) or a map that does not fit `dims`.
 */
export function proposalLabelsFromProbability(
  probability: ArrayLike<number>,
  dims: Vec3,
  spacingMm: Vec3,
  threshold: number,
  minLesionMm3: number,
  voxelVolumeMm3?: number,
): { labels: Uint8Array; lesions: Lesion[] } {
  if (!(threshold > 0 && threshold < 1)) throw new CorrectionError(`threshold must lie in (0, 1), got ${threshold}`);
  const n = dims[0] * dims[1] * dims[2];
  if (probability.length !== n) throw new CorrectionError(`the probability map has ${probability.length} voxels but the grid ${dims.join('×')} has ${n}`);
  const raw = new Uint8Array(n);
  for (let v = 0; v < n; v++) raw[v] = probability[v] >= threshold ? 1 : 0;
  const { mask, lesions } = removeSmallLesions(raw, dims, { spacingMm, minLesionMm3, voxelVolumeMm3 });
  return { labels: mask, lesions };
}

/**
 * Mean of `uncertainty` over the voxels where `labels` is not 0 (the proposal), or null when the
 * proposal is empty. The Cases view's "most informative first" order ranks by it.
 * @throws CorrectionError when the lengths differ.
 */
export function meanInside(uncertainty: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  if (uncertainty.length !== labels.length) throw new CorrectionError(`uncertainty has ${uncertainty.length} voxels but the proposal has ${labels.length}`);
  let sum = 0;
  let count = 0;
  for (let v = 0; v < labels.length; v++) {
    if (labels[v] !== 0) {
      sum += uncertainty[v];
      count++;
    }
  }
  return count === 0 ? null : sum / count;
}

/**
 * Correction effort between an accepted proposal and the saved mask (any label > 0 counts as
 * lesion): Dice (1 when both are empty), voxels added and removed by hand.
 * @throws CorrectionError when the lengths differ.
 * @example correctionEffort('v2', proposal, maskLabels, new Date()).dice
 */
export function correctionEffort(modelVersion: string, proposal: ArrayLike<number>, mask: ArrayLike<number>, now: Date): CorrectionRecord {
  if (proposal.length !== mask.length) throw new CorrectionError(`the proposal has ${proposal.length} voxels but the mask has ${mask.length}`);
  // Dice is the one of src/ml/metrics.ts: the proposal as prediction, the saved mask as reference.
  const o = overlapScores(proposal, mask);
  return {
    modelVersion,
    dice: o.dice,
    addedVoxels: o.falseNegative,
    removedVoxels: o.falsePositive,
    proposalVoxels: o.truePositive + o.falsePositive,
    maskVoxels: o.truePositive + o.falseNegative,
    measuredAt: now.toISOString(),
  };
}

/** Mean correction effort of the reviewed cases one model version proposed. */
export interface ModelCorrectionSummary {
  modelVersion: string;
  cases: number;
  meanDice: number;
  /** Mean of added + removed voxels per case. */
  meanChangedVoxels: number;
}

/**
 * Groups correction records by model version, sorted by version name (v1, v2, … v10 in number
 * order, then others alphabetically).
 */
export function summarizeCorrections(records: readonly CorrectionRecord[]): ModelCorrectionSummary[] {
  const groups = new Map<string, CorrectionRecord[]>();
  for (const r of records) {
    const list = groups.get(r.modelVersion) ?? [];
    list.push(r);
    groups.set(r.modelVersion, list);
  }
  const versionKey = (v: string): [number, string] => {
    const m = /^v(\d+)$/.exec(v);
    return m ? [Number(m[1]), ''] : [Number.POSITIVE_INFINITY, v];
  };
  return [...groups.entries()]
    .map(([modelVersion, list]) => ({
      modelVersion,
      cases: list.length,
      meanDice: list.reduce((a, r) => a + r.dice, 0) / list.length,
      meanChangedVoxels: list.reduce((a, r) => a + r.addedVoxels + r.removedVoxels, 0) / list.length,
    }))
    .sort((a, b) => {
      const [na, sa] = versionKey(a.modelVersion);
      const [nb, sb] = versionKey(b.modelVersion);
      return na !== nb ? na - nb : sa < sb ? -1 : sa > sb ? 1 : 0;
    });
}

/** The "Correction effort" section of Show Model History: one table row per model version. */
export function correctionEffortMarkdown(records: readonly CorrectionRecord[]): string {
  const lines = ['', '## Correction effort of reviewed cases', ''];
  if (records.length === 0) {
    lines.push('No reviewed case has an accepted proposal yet (Segment All Unreviewed or Segment Lesion, Accept, correct, Mark Reviewed).', '');
    return lines.join('\n');
  }
  lines.push('How much people changed each model\'s accepted proposals before marking the case reviewed (Dice between proposal and saved mask; 1 = unchanged).', '');
  lines.push('| model | reviewed cases | mean Dice | mean voxels changed |', '|---|---|---|---|');
  for (const s of summarizeCorrections(records)) {
    lines.push(`| ${s.modelVersion} | ${s.cases} | ${s.meanDice.toFixed(3)} | ${Math.round(s.meanChangedVoxels).toLocaleString('en-US')} |`);
  }
  lines.push('');
  return lines.join('\n');
}
