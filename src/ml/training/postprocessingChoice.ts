// nnU-Net-style choice of a new version's post-processing, made after training on the validation
// cases' whole-volume predictions: keep every lesion, or only the largest one or two. A whole
// brain tumour is one lesion, and a model adapted to it still marks scattered bright spots; MS
// lesions are many. So "keep the largest k" is a candidate only when the training masks are
// made that way (their largest k lesions hold nearly all lesion voxels), and it replaces the
// base's choice only when it scores clearly better on validation.
import type { Vec3 } from '../../volume/vec3';
import { keepLargestComponents, thresholdProbability, type ModelPostprocessing } from '../inference';
import { connectedComponents, pooledDice, overlapScores } from '../metrics';

/** Candidates: keep all (0), the largest lesion (1), the largest two (2). */
export const KEEP_LARGEST_CANDIDATES = [0, 1, 2] as const;
/** Share of the lesion voxels the largest k lesions must hold in every training mask. */
const MIN_SHARE_OF_LESION_VOXELS = 0.9;
/** A candidate replaces the base's choice only when its validation Dice is higher by this. */
const MIN_GAIN = 0.005;

export interface PostprocessingChoice {
  /** What the new version's card says. */
  postprocessing: ModelPostprocessing;
  /** Pooled validation Dice per candidate ("keepAll", "largest1", "largest2"); only allowed candidates. */
  validationDice: Record<string, number>;
  /** Why a candidate was not tried, if any was not. */
  notTried: string[];
}

/** A validation case's thresholded prediction, with its lesion probability where known (Segment Lesion ranks lesions by it). */
export interface WholeVolumePrediction {
  labels: Uint8Array;
  probability?: ArrayLike<number>;
  reference: Uint8Array;
  dims: Vec3;
}

const nameOf = (k: number): string => (k === 0 ? 'keepAll' : `largest${k}`);

/**
 * Pooled Dice of whole-volume predictions against their masks, after `postprocessing` (a card's;
 * default none). The labels were thresholded at 0.5; a card's other threshold re-thresholds the probability.
 */
export function predictionsDice(predictions: readonly WholeVolumePrediction[], postprocessing: ModelPostprocessing = {}): number {
  const k = postprocessing.keepLargestComponents ?? 0;
  const t = postprocessing.threshold;
  return pooledDice(
    predictions.map((p) => {
      const labels = t !== undefined && t !== 0.5 && p.probability ? thresholdProbability(p.probability, t) : p.labels;
      return overlapScores(k ? keepLargestComponents(labels, p.dims, k, p.probability) : labels, p.reference);
    }),
  );
}

/** The candidates the training masks allow: k whose largest k lesions hold ≥ 90 % of every mask's lesion voxels. */
export function candidatesForMasks(masks: readonly { labels: Uint8Array; dims: Vec3 }[]): { allowed: number[]; notTried: string[] } {
  const allowed: number[] = [0];
  const notTried: string[] = [];
  const sortedSizes = masks.map((m) => connectedComponents(m.labels, m.dims, 26).sizes.slice().sort((a, b) => b - a));
  for (const k of KEEP_LARGEST_CANDIDATES.filter((x) => x > 0)) {
    const shares = sortedSizes.map((s) => {
      const total = s.reduce((a, b) => a + b, 0);
      return total === 0 ? 1 : s.slice(0, k).reduce((a, b) => a + b, 0) / total;
    });
    const least = Math.min(...shares);
    if (least >= MIN_SHARE_OF_LESION_VOXELS) allowed.push(k);
    else notTried.push(`${nameOf(k)}: the largest ${k} lesion(s) hold only ${(100 * least).toFixed(0)} % of a training mask's lesion voxels`);
  }
  return { allowed, notTried };
}

/**
 * Pooled Dice of each allowed candidate on the validation predictions, and the choice: the base's
 * (`inherited`) unless another allowed candidate beats it by ≥ 0.005. The base's threshold is
 * kept, not chosen: one validation case cannot tell a threshold that generalises.
 */
export function choosePostprocessing(
  predictions: readonly WholeVolumePrediction[],
  allowed: readonly number[],
  inherited: ModelPostprocessing | undefined,
  notTried: string[] = [],
): PostprocessingChoice {
  const dice: Record<string, number> = {};
  const threshold = inherited?.threshold !== undefined ? { threshold: inherited.threshold } : {};
  for (const k of allowed) dice[nameOf(k)] = predictionsDice(predictions, { keepLargestComponents: k, ...threshold });
  const inheritedK = inherited?.keepLargestComponents ?? 0;
  // The base's choice is kept unless a candidate clearly beats it (or the base's is not allowed).
  let bestK = allowed.includes(inheritedK) ? inheritedK : 0;
  for (const k of allowed) if (dice[nameOf(k)] > dice[nameOf(bestK)] + MIN_GAIN) bestK = k;
  return { postprocessing: { ...(bestK ? { keepLargestComponents: bestK } : {}), ...threshold }, validationDice: dice, notTried };
}

/** One line for logs: what was chosen and the validation Dice it was chosen on. */
export function describePostprocessingChoice(choice: PostprocessingChoice): string {
  const k = choice.postprocessing.keepLargestComponents ?? 0;
  const t = choice.postprocessing.threshold;
  const what = `${k === 0 ? 'keep every lesion' : k === 1 ? 'keep the largest lesion' : `keep the largest ${k} lesions`}${t !== undefined ? ` at threshold ${t} (the base's)` : ''}`;
  const dice = Object.entries(choice.validationDice).map(([name, d]) => `${name} ${d.toFixed(3)}`).join(', ');
  return `post-processing: ${what} (validation Dice ${dice}${choice.notTried.length ? `; not tried: ${choice.notTried.join('; ')}` : ''})`;
}
