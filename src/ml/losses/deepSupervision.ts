// Deep supervision (as in nnU-Net and MONAI's DeepSupervisionLoss): the same loss on every
// output scale of a network, weighted 1, 1/2, 1/4, …, with the target brought down to each
// output's resolution.
import * as tf from '@tensorflow/tfjs';
import type { ReducedLoss, SegmentationLoss } from './base';
import { LossError, checkOptionsObject, describeValue, parseChoice, type Reduction } from './options';

/** How the full-resolution target is brought down to a coarser output. */
export const TARGET_DOWNSAMPLINGS = ['nearest', 'max-pool'] as const;
/**
 * `'nearest'`: the first voxel of each block (nnU-Net/MONAI "nearest" interpolation at integer
 * factors). `'max-pool'`: the highest class index present in the block, so a lesion voxel
 * anywhere in the block marks it as lesion (small lesions survive downsampling).
 */
export type TargetDownsampling = (typeof TARGET_DOWNSAMPLINGS)[number];

/** Options of {@link DeepSupervisionLoss}. */
export interface DeepSupervisionLossOptions<R extends Reduction> {
  /** The loss applied at every scale; its `target` format is also the wrapper's. */
  loss: SegmentationLoss<R>;
  /** One weight >= 0 per output, full resolution first; default 1, 1/2, 1/4, … (length from the outputs). */
  weights?: number[];
  /**
   * Divide by the sum of the weights, so the value stays on the single-output loss's scale
   * (a perfect match at every scale scores like the plain loss). Default true.
   */
  normalizeWeights?: boolean;
  /** Default `'nearest'`. */
  targetDownsampling?: TargetDownsampling;
}

/**
 * Applies a loss to multi-scale outputs: `Σ_i w_i·loss(down_i(yTrue), yPred_i)`, divided by
 * `Σ_i w_i` when `normalizeWeights` is true (the default). Output 0 is the full resolution;
 * every other output's spatial size must divide the target's exactly.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - see {@link DeepSupervisionLossOptions}.
 * @throws {LossError} on an ill option; at compute time on mismatched scales or weights.
 * @example
 * const loss = new DeepSupervisionLoss({ loss: new AsymmetricUnifiedFocalLoss() });
 * const value = loss.compute(yTrue, [fullResolution, halfResolution, quarterResolution]);
 */
export class DeepSupervisionLoss<R extends Reduction = 'mean'> {
  readonly loss: SegmentationLoss<R>;
  readonly weights: readonly number[] | undefined;
  readonly normalizeWeights: boolean;
  readonly targetDownsampling: TargetDownsampling;
  private readonly owner = 'DeepSupervisionLoss';

  constructor(options: DeepSupervisionLossOptions<R>) {
    checkOptionsObject(this.owner, options, ['loss', 'weights', 'normalizeWeights', 'targetDownsampling']);
    const loss: unknown = options.loss;
    if (loss === null || typeof loss !== 'object' || typeof (loss as { compute?: unknown }).compute !== 'function') {
      throw new LossError(`${this.owner}: option 'loss' is ${describeValue(loss)}; expected a loss object with compute().`);
    }
    this.loss = options.loss;
    const weights: unknown = options.weights;
    if (
      weights !== undefined &&
      (!Array.isArray(weights) ||
        weights.length === 0 ||
        !weights.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0) ||
        !weights.some((w) => (w as number) > 0))
    ) {
      throw new LossError(
        `${this.owner}: option 'weights' is ${describeValue(weights)}; expected a non-empty list of finite weights >= 0, not all 0.`,
      );
    }
    this.weights = weights === undefined ? undefined : [...(weights as number[])];
    if (options.normalizeWeights !== undefined && typeof options.normalizeWeights !== 'boolean') {
      throw new LossError(
        `${this.owner}: option 'normalizeWeights' is ${describeValue(options.normalizeWeights)}; expected true or false.`,
      );
    }
    this.normalizeWeights = options.normalizeWeights ?? true;
    this.targetDownsampling = parseChoice(
      this.owner,
      'targetDownsampling',
      options.targetDownsampling,
      TARGET_DOWNSAMPLINGS,
      'nearest',
    );
  }

  /** The weights actually applied to `count` outputs (after normalisation). */
  effectiveWeights(count: number): number[] {
    if (this.weights !== undefined && this.weights.length !== count) {
      throw new LossError(
        `${this.owner}: option 'weights' has ${this.weights.length} entries but ${count} outputs were given.`,
      );
    }
    const raw = this.weights !== undefined ? [...this.weights] : Array.from({ length: count }, (_, i) => 1 / 2 ** i);
    const total = raw.reduce((a, b) => a + b, 0);
    if (total === 0) {
      throw new LossError(`${this.owner}: every weight for the ${count} outputs is 0.`);
    }
    return this.normalizeWeights ? raw.map((w) => w / total) : raw;
  }

  /**
   * @param yTrue - full-resolution target in the wrapped loss's `target` format.
   * @param yPreds - outputs, full resolution first, each `[B,…spatial_i,C]`.
   * @returns the weighted loss, reduced like the wrapped loss.
   * @throws {LossError} when there are no outputs, or an output's size does not divide the target's.
   */
  compute(yTrue: tf.Tensor, yPreds: readonly tf.Tensor[]): ReducedLoss<R> {
    if (yPreds.length === 0) throw new LossError(`${this.owner}: no outputs were given (yPreds is empty).`);
    const weights = this.effectiveWeights(yPreds.length);
    return tf.tidy(() => {
      let total: tf.Tensor | undefined;
      yPreds.forEach((yPred, i) => {
        if (weights[i] === 0) return;
        const target = downsampleTarget(this.owner, yTrue, yPred.shape, this.loss.target, this.targetDownsampling);
        const term = this.loss.compute(target, yPred).mul(weights[i]!);
        total = total === undefined ? term : total.add(term);
      });
      return total as ReducedLoss<R>;
    });
  }
}

/**
 * Brings a target (one-hot `[B,…spatial,C]` or labels `[B,…spatial(,1)]`) down to the spatial
 * size of `predShape` by integer factors. Returns it in the same format. Call inside `tf.tidy`.
 */
export function downsampleTarget(
  owner: string,
  yTrue: tf.Tensor,
  predShape: readonly number[],
  format: 'one-hot' | 'index',
  method: TargetDownsampling,
): tf.Tensor {
  const spatialRank = predShape.length - 2;
  const targetSpatial = yTrue.shape.slice(1, 1 + spatialRank);
  const predSpatial = predShape.slice(1, 1 + spatialRank);
  if (spatialRank !== 2 && spatialRank !== 3) {
    throw new LossError(`${owner}: output of shape [${predShape.join(',')}] is neither [B,H,W,C] nor [B,D,H,W,C].`);
  }
  const factors = predSpatial.map((size, axis) => targetSpatial[axis]! / size);
  if (yTrue.shape[0] !== predShape[0] || !factors.every((f) => Number.isInteger(f) && f >= 1)) {
    throw new LossError(
      `${owner}: output of shape [${predShape.join(',')}] does not divide target of shape [${yTrue.shape.join(',')}]; ` +
        `every output's batch must match and its spatial sizes must divide the target's by whole factors.`,
    );
  }
  if (factors.every((f) => f === 1)) return yTrue;
  if (method === 'nearest') {
    const strides = [1, ...factors, ...yTrue.shape.slice(1 + spatialRank).map(() => 1)];
    return tf.stridedSlice(yTrue, yTrue.shape.map(() => 0), yTrue.shape, strides);
  }
  // Max-pool over class indices: one-hot → index, pool, then back to the caller's format.
  const numClasses = predShape[predShape.length - 1]!;
  const labels =
    format === 'one-hot'
      ? yTrue.argMax(-1).expandDims(-1)
      : yTrue.rank === spatialRank + 1
        ? yTrue.expandDims(-1)
        : yTrue;
  const asFloat = labels.toFloat();
  const pooled =
    spatialRank === 3
      ? tf.maxPool3d(asFloat as tf.Tensor5D, factors as [number, number, number], factors as [number, number, number], 'valid')
      : tf.maxPool(asFloat as tf.Tensor4D, factors as [number, number], factors as [number, number], 'valid');
  if (format === 'one-hot') return tf.oneHot(pooled.squeeze([pooled.rank - 1]).toInt(), numClasses).toFloat();
  const asInt = pooled.toInt();
  return yTrue.rank === spatialRank + 1 ? asInt.squeeze([asInt.rank - 1]) : asInt;
}
