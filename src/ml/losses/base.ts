// The contract every loss honours, and the base class that validates inputs, manages tensor
// memory and applies the reduction, so each loss only writes its per-image maths.
import * as tf from '@tensorflow/tfjs';
import {
  checkOptionsObject,
  COMMON_OPTION_KEYS,
  parseCommonOptions,
  type CommonLossOptions,
  type InputActivation,
  type Reduction,
  type TargetFormat,
} from './options';
import { prepareInputs, type PreparedInputs } from './regions';
import type { LossName } from './names';

export { LOSS_NAMES, type LossName } from './names';

/** `tf.Scalar` for reduction `'mean'`, `tf.Tensor1D` of shape `[B]` for `'none'`. */
export type ReducedLoss<R extends Reduction> = R extends 'none' ? tf.Tensor1D : tf.Scalar;

/**
 * A segmentation loss on channels-last tensors: 2-D `[B,H,W,C]` or 3-D `[B,D,H,W,C]`, channel 0
 * the background. `compute` is differentiable with respect to `yPred` (use it inside
 * `tf.grad`/`optimizer.minimize`); it disposes its intermediate tensors.
 */
export interface SegmentationLoss<R extends Reduction = Reduction> {
  /** Registry name. */
  readonly name: LossName;
  readonly input: InputActivation;
  readonly target: TargetFormat;
  readonly reduction: R;
  /**
   * @param yTrue - one-hot target of `yPred`'s shape, or integer labels `[B,…spatial(,1)]` with target `'index'`.
   * @param yPred - probabilities (or logits with input `'logits'`), float32.
   * @returns the batch mean (scalar) or per-image values `[B]`.
   * @throws {LossError} on shapes, dtypes or labels that do not fit.
   */
  compute(yTrue: tf.Tensor, yPred: tf.Tensor): ReducedLoss<R>;
}

/** Base of every loss: parses the common options and runs `perImage` inside `tf.tidy`. */
export abstract class BaseSegmentationLoss<R extends Reduction> implements SegmentationLoss<R> {
  abstract readonly name: LossName;
  readonly input: InputActivation;
  readonly target: TargetFormat;
  readonly reduction: R;

  /**
   * @param owner - class name used in error messages.
   * @param options - the caller's options object.
   * @param extraKeys - option keys the subclass accepts besides the common ones.
   */
  protected constructor(
    protected readonly owner: string,
    options: CommonLossOptions<R>,
    extraKeys: readonly string[],
  ) {
    checkOptionsObject(owner, options, [...COMMON_OPTION_KEYS, ...extraKeys]);
    const common = parseCommonOptions(owner, options);
    this.input = common.input;
    this.target = common.target;
    this.reduction = common.reduction;
  }

  compute(yTrue: tf.Tensor, yPred: tf.Tensor): ReducedLoss<R> {
    return tf.tidy(() => {
      const prepared = prepareInputs(this.owner, yTrue, yPred, this.input, this.target);
      const perImage = this.perImage(prepared);
      // Region terms pooled over the batch come back as [1]; 'none' with pooling is rejected
      // in the constructor, so a [B] result is only requested where one exists.
      return (this.reduction === 'none' ? perImage : perImage.mean()) as ReducedLoss<R>;
    });
  }

  /** Per-image loss `[B]`, or `[1]` when the whole value is batch-pooled. */
  protected abstract perImage(prepared: PreparedInputs): tf.Tensor1D;
}
