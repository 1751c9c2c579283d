// Validation during fine-tuning: Dice and loss on fixed validation patches (cheap, every epoch),
// whole-volume Dice before and after (exact, slow), whether whole-volume validation fits the
// time budget, and the rule that says a validation improved.
import * as tf from '@tensorflow/tfjs';
import { patchGrid } from '../../volume/slidingWindow';
import type { Vec3 } from '../../volume/vec3';
import { segmentVolume, type SegmentationNetwork } from '../inference';
import type { SegmentationLoss } from '../losses';
import { overlapScores, pooledDice, type OverlapScores } from '../metrics';
import { samplePatch } from '../patchSampler';
import type { Preprocessing } from '../preprocess';
import { oneHot, type PreparedCase } from './cases';
import type { WholeVolumePrediction } from './postprocessingChoice';

/** A validation patch: image in patch layout and its {0, 1} labels. */
export interface ValidationPatch {
  image: Float32Array;
  labels: Uint8Array;
}

/** Dice and mean loss of one validation. */
export interface PatchValidation {
  dice: number;
  loss: number;
}

/**
 * The fixed validation patches: `perCase` from each validation case, half centred on lesions,
 * no augmentation, drawn from `random` (so the same seed gives the same patches).
 */
export function fixedValidationPatches(cases: readonly PreparedCase[], perCase: number, patchSize: Vec3, random: () => number): ValidationPatch[] {
  return cases.flatMap((c) =>
    Array.from({ length: perCase }, () =>
      samplePatch(c.values, c.labels, c.dims, random, { patchSize, lesionIndices: c.lesionIndices, foregroundFraction: 0.5, augmentation: null, padValue: c.padValue }),
    ),
  );
}

/** Dice pooled over fixed validation patches (predicted without augmentation) and their mean loss. */
export function validatePatches(network: SegmentationNetwork, loss: SegmentationLoss, patches: readonly ValidationPatch[], size: Vec3): PatchValidation {
  const scores: OverlapScores[] = [];
  let lossSum = 0;
  for (const p of patches) {
    const [probs, value] = tf.tidy(() => {
      const out = network.predict(tf.tensor5d(p.image, [1, size[2], size[1], size[0], 1]));
      const y = oneHot([p.labels], [1, size[2], size[1], size[0]]);
      return [tf.slice(out, [0, 0, 0, 0, 1], [1, size[2], size[1], size[0], 1]), loss.compute(y, out)];
    });
    const fg = probs.dataSync();
    lossSum += value.dataSync()[0];
    probs.dispose();
    value.dispose();
    const pred = new Uint8Array(fg.length);
    for (let i = 0; i < fg.length; i++) pred[i] = fg[i] >= 0.5 ? 1 : 0;
    scores.push(overlapScores(pred, p.labels));
  }
  return { dice: pooledDice(scores), loss: patches.length ? lossSum / patches.length : 0 };
}

/** Validation improved: higher Dice, or (Dice within 1e-4, e.g. still 0 early on) lower loss. */
export function improved(now: PatchValidation, best: PatchValidation): boolean {
  if (now.dice > best.dice + 1e-4) return true;
  return Math.abs(now.dice - best.dice) <= 1e-4 && now.loss < best.loss - 1e-4;
}

/**
 * Whole-volume predictions of the validation cases (prepared with their source kept; no
 * test-time augmentation), with their masks, on the source grid; windows overlap by `overlap`, as
 * Segment Lesion will run the model (src/ml/inference.ts defaultOverlap).
 */
export async function wholeVolumePredictions(
  network: SegmentationNetwork,
  cases: readonly PreparedCase[],
  patchSizeVoxels: Vec3,
  preprocessing: Preprocessing,
  overlap: number,
  signal: AbortSignal | undefined,
): Promise<WholeVolumePrediction[]> {
  const out = [];
  for (const c of cases) {
    if (!c.image || !c.sourceMask) throw new Error(`whole-volume validation of ${c.pair.imagePath}: the case was prepared without its source image`);
    const seg = await segmentVolume(c.image, { network, patchSizeVoxels, preprocessing }, { ttaFlips: [[]], overlap, signal });
    out.push({ labels: seg.labels, probability: seg.probability, reference: c.sourceMask, dims: c.image.dims });
  }
  return out;
}

/** Seconds one inference window takes (a forward pass of batch 1; the first call also warms up). */
function timeOneWindow(network: SegmentationNetwork, patchSizeVoxels: Vec3): number {
  const t = Date.now();
  tf.tidy(() => {
    const out = network.predict(tf.zeros([1, patchSizeVoxels[2], patchSizeVoxels[1], patchSizeVoxels[0], 1]) as tf.Tensor5D);
    out.dataSync();
  });
  return (Date.now() - t) / 1000;
}

/**
 * Whether whole-volume validation before and after fits the budget: its cost is estimated from
 * one window's measured time × the windows of the validation cases, twice; when that exceeds a
 * third of the seconds left it is skipped, and `skipped` says why.
 */
export function planWholeVolumeValidation(
  network: SegmentationNetwork,
  cases: readonly PreparedCase[],
  patchSizeVoxels: Vec3,
  overlap: number,
  secondsLeft: () => number,
): { run: boolean; skipped: string | null } {
  const windowS = timeOneWindow(network, patchSizeVoxels);
  const windows = cases.reduce((n, c) => n + patchGrid(c.dims, patchSizeVoxels, overlap).length, 0);
  const estimateS = 2 * (windowS * windows + 0.5 * cases.length);
  const leftS = secondsLeft();
  if (estimateS <= leftS / 3) return { run: true, skipped: null };
  return {
    run: false,
    skipped:
      `whole-volume validation before and after would take about ${estimateS.toFixed(1)} s (${windows} windows × ${windowS.toFixed(2)} s, twice), ` +
      `more than a third of the ${Math.max(0, leftS).toFixed(1)} s left of the budget; the fixed validation patches decide instead`,
  };
}
