// Distribution-based baselines: cross entropy and focal loss (Lin et al. 2017), as in the
// Unified Focal loss authors' code: sum over channels per voxel, mean over batch and voxels,
// on probabilities clipped to [1e-7, 1 − 1e-7].
import type * as tf from '@tensorflow/tfjs';
import { BaseSegmentationLoss } from './base';
import { NON_NEGATIVE, parseClassWeights, parseNumber, LossError, type CommonLossOptions, type Reduction } from './options';
import { distributionTermPerImage, type PreparedInputs } from './regions';

/** Options of {@link CrossEntropyLoss}. */
export type CrossEntropyLossOptions<R extends Reduction = Reduction> = CommonLossOptions<R>;

/**
 * Categorical cross entropy `mean_{b,v} Σ_c −y_c log p̂_c`.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - see {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new CrossEntropyLoss();
 * const value = loss.compute(yTrueOneHot, yPredProbabilities); // tf.Scalar
 */
export class CrossEntropyLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'cross-entropy' as const;

  constructor(options: CrossEntropyLossOptions<R> = {}) {
    super('CrossEntropyLoss', options, []);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    return distributionTermPerImage(prepared, {});
  }
}

/** Options of {@link FocalLoss}. */
export interface FocalLossOptions<R extends Reduction = Reduction> extends CommonLossOptions<R> {
  /** Per-class weights α_c (one per channel, >= 0); default none (all 1). */
  alpha?: number[] | null;
  /** Focusing exponent γf >= 0; default 2. */
  gamma?: number;
}

/**
 * Focal loss `mean_{b,v} Σ_c α_c (1−p̂_c)^γf (−y_c log p̂_c)` (Lin et al. 2017), the authors'
 * `focal_loss(alpha=None, gamma_f=2.)`.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `alpha` (default none), `gamma` (default 2), plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option; at compute time if `alpha` has not one weight per channel.
 * @example
 * const loss = new FocalLoss({ alpha: [0.25, 0.75], gamma: 2 });
 */
export class FocalLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'focal' as const;
  readonly alpha: readonly number[] | undefined;
  readonly gamma: number;

  constructor(options: FocalLossOptions<R> = {}) {
    super('FocalLoss', options, ['alpha', 'gamma']);
    this.alpha = parseClassWeights(this.owner, 'alpha', options.alpha);
    this.gamma = parseNumber(this.owner, 'gamma', options.gamma, 2, NON_NEGATIVE);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    if (this.alpha !== undefined && this.alpha.length !== prepared.numClasses) {
      throw new LossError(
        `${this.owner}: option 'alpha' has ${this.alpha.length} weights but yPred has ${prepared.numClasses} channels.`,
      );
    }
    return distributionTermPerImage(prepared, { classWeights: this.alpha, gamma: this.gamma });
  }
}
