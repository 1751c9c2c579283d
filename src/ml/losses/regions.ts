// Shared tensor maths of the loss family, written once: input preparation (activation,
// label-index → one-hot, shape checks), clipping, TP/FN/FP sums, the Tversky index and its
// complement, and the per-voxel (distribution) term. Layout is channels-last throughout:
// 2-D `[B,H,W,C]`, 3-D `[B,D,H,W,C]`; the channel is ALWAYS the last axis (the authors' Keras
// code slices axis 3, which on 5-D volumes is the width, not the channel).
import * as tf from '@tensorflow/tfjs';
import { LossError, type InputActivation, type RegionPooling, type TargetFormat } from './options';

/** Probability clip of the authors' code (`K.epsilon()`): `p̂ = clip(p, 1e-7, 1 − 1e-7)`. */
export const CLIP_EPSILON = 1e-7;

/**
 * Floor applied to the base of fractional powers such as `(1 − mTI)^(1−γ)`, so that neither the
 * value (0·∞ in the authors' product form) nor the gradient (x^(−γ) at x = 0) becomes non-finite.
 */
export const POWER_BASE_FLOOR = 1e-12;

/** Inputs after activation and target conversion, ready for the loss maths. */
export interface PreparedInputs {
  /** One-hot float32 target, same shape as `probabilities`. */
  readonly yTrue: tf.Tensor;
  /** Class probabilities (softmax output), channels-last. */
  readonly probabilities: tf.Tensor;
  /** Spatial axes: `[1,2]` for 2-D, `[1,2,3]` for 3-D. */
  readonly spatialAxes: number[];
  readonly batchSize: number;
  readonly numClasses: number;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Validates the tensors and converts them to one-hot targets and probabilities. Call inside `tf.tidy`. */
export function prepareInputs(
  owner: string,
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  input: InputActivation,
  target: TargetFormat,
): PreparedInputs {
  const shape = yPred.shape;
  if (shape.length !== 4 && shape.length !== 5) {
    throw new LossError(
      `${owner}: yPred has shape ${shapeText(shape)}; expected channels-last [B,H,W,C] (2-D) or [B,D,H,W,C] (3-D).`,
    );
  }
  if (yPred.dtype !== 'float32') {
    throw new LossError(`${owner}: yPred has dtype ${yPred.dtype}; expected float32.`);
  }
  const numClasses = shape[shape.length - 1]!;
  if (numClasses < 2) {
    throw new LossError(
      `${owner}: yPred has ${numClasses} channel(s); expected at least 2 (channel 0 = background, 1 = lesion).`,
    );
  }
  if (yPred.size === 0) throw new LossError(`${owner}: yPred of shape ${shapeText(shape)} is empty.`);
  const probabilities = input === 'logits' ? tf.softmax(yPred, -1) : yPred;
  const oneHot = target === 'index' ? indexToOneHot(owner, yTrue, shape) : yTrue.toFloat();
  if (target === 'one-hot' && !tf.util.arraysEqual(yTrue.shape, shape)) {
    throw new LossError(
      `${owner}: yTrue has shape ${shapeText(yTrue.shape)} but yPred has ${shapeText(shape)}; with target ` +
        `'one-hot' they must match (use target 'index' for label maps).`,
    );
  }
  return {
    yTrue: oneHot,
    probabilities,
    spatialAxes: shape.length === 5 ? [1, 2, 3] : [1, 2],
    batchSize: shape[0]!,
    numClasses,
  };
}

/**
 * Converts integer labels `[B,…spatial]` or `[B,…spatial,1]` to a float32 one-hot tensor of
 * `predShape`. Labels must be whole numbers in `[0, C)`; anything else is an error, not a
 * silent all-zero row.
 */
export function indexToOneHot(owner: string, labels: tf.Tensor, predShape: readonly number[]): tf.Tensor {
  const spatialShape = predShape.slice(0, -1);
  const numClasses = predShape[predShape.length - 1]!;
  let squeezed = labels;
  if (labels.rank === predShape.length && labels.shape[labels.rank - 1] === 1) {
    squeezed = labels.squeeze([labels.rank - 1]);
  }
  if (!tf.util.arraysEqual(squeezed.shape, spatialShape)) {
    throw new LossError(
      `${owner}: yTrue has shape ${shapeText(labels.shape)}; with target 'index' expected ` +
        `${shapeText(spatialShape)} or ${shapeText([...spatialShape, 1])} to match yPred ${shapeText(predShape)}.`,
    );
  }
  const asFloat = squeezed.toFloat();
  const [minLabel, maxLabel, fractional] = tf.tidy(() => [
    asFloat.min(),
    asFloat.max(),
    asFloat.sub(asFloat.round()).abs().max(),
  ]);
  const stats = [minLabel!.dataSync()[0]!, maxLabel!.dataSync()[0]!, fractional!.dataSync()[0]!];
  tf.dispose([minLabel!, maxLabel!, fractional!]);
  if (stats[2]! !== 0 || stats[0]! < 0 || stats[1]! > numClasses - 1 || !Number.isFinite(stats[1]!)) {
    throw new LossError(
      `${owner}: yTrue labels span [${stats[0]}, ${stats[1]}]${stats[2]! !== 0 ? ' and include non-integers' : ''}; ` +
        `expected integer class indices in [0, ${numClasses - 1}] for ${numClasses} channels.`,
    );
  }
  return tf.oneHot(squeezed.toInt(), numClasses).toFloat();
}

/**
 * Clipped probabilities `p̂ = clip(p, ε, 1−ε)` and their complement `1 − p̂`. The complement
 * is computed as `clip(1 − p, ε, 1−ε)`, which equals `1 − p̂` exactly in real arithmetic but keeps
 * float32 accuracy near p = 1 (`1 − float32(1 − 1e-7)` would be 1.19e-7, not 1e-7).
 */
export function clipProbabilities(probabilities: tf.Tensor): { probability: tf.Tensor; complement: tf.Tensor } {
  return {
    probability: tf.clipByValue(probabilities, CLIP_EPSILON, 1 - CLIP_EPSILON),
    complement: tf.clipByValue(tf.scalar(1).sub(probabilities), CLIP_EPSILON, 1 - CLIP_EPSILON),
  };
}

/** Soft confusion counts per class: `[B,C]` per image, or `[1,C]` pooled over the batch. */
export interface RegionCounts {
  readonly truePositive: tf.Tensor2D;
  readonly falseNegative: tf.Tensor2D;
  readonly falsePositive: tf.Tensor2D;
}

/**
 * TP = Σ y·p, FN = Σ y·(1−p), FP = Σ (1−y)·p over the spatial axes (and the batch when pooled).
 * @param complement - `1 − p` (passed in so clipped and unclipped variants share the code).
 */
export function regionCounts(
  yTrue: tf.Tensor,
  probability: tf.Tensor,
  complement: tf.Tensor,
  spatialAxes: number[],
  pooling: RegionPooling,
): RegionCounts {
  const axes = pooling === 'batch' ? [0, ...spatialAxes] : spatialAxes;
  const toBatchByClass = (t: tf.Tensor): tf.Tensor2D =>
    (pooling === 'batch' ? t.expandDims(0) : t) as tf.Tensor2D;
  return {
    truePositive: toBatchByClass(tf.sum(yTrue.mul(probability), axes)),
    falseNegative: toBatchByClass(tf.sum(yTrue.mul(complement), axes)),
    falsePositive: toBatchByClass(tf.sum(tf.scalar(1).sub(yTrue).mul(probability), axes)),
  };
}

/** Tversky index `(TP + s) / (TP + δ·FN + (1−δ)·FP + s)`, `[B,C]`; δ = 0.5 is the soft Dice. */
export function tverskyIndex(counts: RegionCounts, delta: number, smooth: number): tf.Tensor2D {
  return counts.truePositive.add(smooth).div(tverskyDenominator(counts, delta, smooth));
}

/**
 * `1 − TI` computed without cancellation as `(δ·FN + (1−δ)·FP) / (TP + δ·FN + (1−δ)·FP + s)`,
 * which stays accurate in float32 when TI is within 1e-7 of 1 (near-perfect predictions).
 */
export function tverskyComplement(counts: RegionCounts, delta: number, smooth: number): tf.Tensor2D {
  const errors = counts.falseNegative.mul(delta).add(counts.falsePositive.mul(1 - delta));
  return errors.div(counts.truePositive.add(errors).add(smooth));
}

function tverskyDenominator(counts: RegionCounts, delta: number, smooth: number): tf.Tensor2D {
  return counts.truePositive
    .add(counts.falseNegative.mul(delta))
    .add(counts.falsePositive.mul(1 - delta))
    .add(smooth);
}

/** `max(x, 1e-12)^exponent`: finite value and gradient for every x >= 0 and exponent >= 0. */
export function flooredPower(x: tf.Tensor, exponent: number): tf.Tensor {
  return tf.pow(tf.maximum(x, POWER_BASE_FLOOR), exponent);
}

/** Per-class role in the asymmetric losses: the background and non-listed classes are suppressed. */
export function rareClassMask(owner: string, numClasses: number, rareClasses: readonly number[] | undefined): boolean[] {
  const rare = rareClasses ?? Array.from({ length: numClasses - 1 }, (_, i) => i + 1);
  const tooLarge = rare.filter((c) => c >= numClasses);
  if (tooLarge.length > 0) {
    throw new LossError(
      `${owner}: option 'rareClasses' lists class ${tooLarge[0]} but yPred has only ${numClasses} channels ` +
        `(classes 0..${numClasses - 1}).`,
    );
  }
  return Array.from({ length: numClasses }, (_, c) => rare.includes(c));
}

/** Region loss with a per-class exponent: `mean_c f_c(1 − TI_c)`, `[B]` (or `[1]` when pooled). */
export function regionTermPerImage(
  prepared: PreparedInputs,
  settings: {
    delta: number;
    smooth: number;
    clip: boolean;
    pooling: RegionPooling;
    /** Exponent per class; 1 means the plain complement `1 − TI` (no floor applied). */
    exponents: readonly number[];
  },
): tf.Tensor1D {
  const { probability, complement } = settings.clip
    ? clipProbabilities(prepared.probabilities)
    : { probability: prepared.probabilities, complement: tf.scalar(1).sub(prepared.probabilities) };
  const counts = regionCounts(prepared.yTrue, probability, complement, prepared.spatialAxes, settings.pooling);
  const loss1MinusTi = tverskyComplement(counts, settings.delta, settings.smooth);
  let perClass: tf.Tensor = loss1MinusTi;
  const distinct = [...new Set(settings.exponents)];
  if (distinct.length === 1 && distinct[0] !== 1) {
    perClass = flooredPower(loss1MinusTi, distinct[0]!);
  } else if (distinct.length > 1) {
    const columns = tf.split(loss1MinusTi, prepared.numClasses, 1);
    perClass = tf.concat(
      columns.map((column, c) =>
        settings.exponents[c] === 1 ? column : flooredPower(column, settings.exponents[c]!),
      ),
      1,
    );
  }
  return perClass.mean(1) as tf.Tensor1D;
}

/**
 * Distribution term `mean_v Σ_c w_c · m_c · (−y_c log p̂_c)` per image, `[B]`, where the focal
 * modulation `m_c = (1 − p̂_c)^γ` applies to the classes flagged in `modulated` (all if omitted)
 * and `m_c = 1` when `gamma` is undefined.
 */
export function distributionTermPerImage(
  prepared: PreparedInputs,
  settings: { classWeights?: readonly number[]; gamma?: number; modulated?: readonly boolean[] },
): tf.Tensor1D {
  const { probability, complement } = clipProbabilities(prepared.probabilities);
  let perVoxelClass = prepared.yTrue.mul(tf.log(probability)).neg();
  if (settings.gamma !== undefined) {
    let modulation = tf.pow(complement, settings.gamma);
    if (settings.modulated !== undefined && !settings.modulated.every(Boolean)) {
      // m·1 + 0 and m·0 + 1 are exact, so unmodulated classes get exactly 1.
      const mask = tf.tensor1d(settings.modulated.map((m) => (m ? 1 : 0)));
      modulation = modulation.mul(mask).add(tf.scalar(1).sub(mask));
    }
    perVoxelClass = perVoxelClass.mul(modulation);
  }
  if (settings.classWeights !== undefined) {
    perVoxelClass = perVoxelClass.mul(tf.tensor1d([...settings.classWeights]));
  }
  const perVoxel = perVoxelClass.sum(-1);
  return perVoxel.mean(prepared.spatialAxes) as tf.Tensor1D;
}
