// Region-based baselines: Dice, Tversky (Salehi et al. 2017), focal Tversky (Abraham & Khan
// 2019) and Combo (Taghanaki et al. 2019), as in the Unified Focal loss authors' code: TP/FN/FP
// summed over the spatial axes per image and class, then averaged over batch and classes.
import * as tf from '@tensorflow/tfjs';
import { BaseSegmentationLoss } from './base';
import {
  parseNumber,
  parseRegionPooling,
  POSITIVE,
  UNIT_INTERVAL,
  type CommonLossOptions,
  type Reduction,
  type RegionPooling,
  type RegionPoolingOptions,
} from './options';
import {
  distributionTermPerImage,
  regionCounts,
  regionTermPerImage,
  tverskyIndex,
  type PreparedInputs,
} from './regions';

/** Options of {@link DiceLoss}. */
export interface DiceLossOptions<R extends Reduction = Reduction> extends CommonLossOptions<R>, RegionPoolingOptions {
  /** Smoothing s > 0 added to numerator and denominator; default 1e-6. */
  smooth?: number;
}

/**
 * Soft Dice loss `mean_{b,c} [1 − TI(δ=0.5, s)]` on unclipped probabilities.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `smooth` (default 1e-6), `regionPooling` (default `'per-image'`), plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new DiceLoss({ regionPooling: 'batch' });
 */
export class DiceLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'dice' as const;
  readonly smooth: number;
  readonly regionPooling: RegionPooling;

  constructor(options: DiceLossOptions<R> = {}) {
    super('DiceLoss', options, ['smooth', 'regionPooling']);
    this.smooth = parseNumber(this.owner, 'smooth', options.smooth, 1e-6, POSITIVE);
    this.regionPooling = parseRegionPooling(this.owner, options.regionPooling, this.reduction);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    return regionTermPerImage(prepared, {
      delta: 0.5,
      smooth: this.smooth,
      clip: false,
      pooling: this.regionPooling,
      exponents: [1],
    });
  }
}

/** Options of {@link TverskyLoss}. */
export interface TverskyLossOptions<R extends Reduction = Reduction> extends DiceLossOptions<R> {
  /** Weight δ in [0,1] of false negatives (1−δ weighs false positives); default 0.7. */
  delta?: number;
}

/**
 * Tversky loss `mean_{b,c} [1 − TI(δ, s)]`, `TI = (TP+s)/(TP + δ·FN + (1−δ)·FP + s)`, on
 * unclipped probabilities.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `delta` (default 0.7), `smooth` (default 1e-6), `regionPooling`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new TverskyLoss({ delta: 0.7 });
 */
export class TverskyLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'tversky' as const;
  readonly delta: number;
  readonly smooth: number;
  readonly regionPooling: RegionPooling;

  constructor(options: TverskyLossOptions<R> = {}) {
    super('TverskyLoss', options, ['delta', 'smooth', 'regionPooling']);
    this.delta = parseNumber(this.owner, 'delta', options.delta, 0.7, UNIT_INTERVAL);
    this.smooth = parseNumber(this.owner, 'smooth', options.smooth, 1e-6, POSITIVE);
    this.regionPooling = parseRegionPooling(this.owner, options.regionPooling, this.reduction);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    return regionTermPerImage(prepared, {
      delta: this.delta,
      smooth: this.smooth,
      clip: false,
      pooling: this.regionPooling,
      exponents: [1],
    });
  }
}

/** Options of {@link FocalTverskyLoss}. */
export interface FocalTverskyLossOptions<R extends Reduction = Reduction> extends TverskyLossOptions<R> {
  /** Exponent γ > 0 applied to `1 − TI`; default 0.75. */
  gamma?: number;
}

/**
 * Focal Tversky loss `mean_{b,c} (1 − TI(δ, s))^γ` on clipped probabilities (Abraham & Khan
 * 2019, as in the authors' `focal_tversky_loss`). The base is floored at 1e-12 so gradients stay
 * finite at a perfect prediction.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `delta` (default 0.7), `gamma` (default 0.75), `smooth` (default 1e-6), `regionPooling`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new FocalTverskyLoss({ delta: 0.7, gamma: 0.75 });
 */
export class FocalTverskyLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'focal-tversky' as const;
  readonly delta: number;
  readonly gamma: number;
  readonly smooth: number;
  readonly regionPooling: RegionPooling;

  constructor(options: FocalTverskyLossOptions<R> = {}) {
    super('FocalTverskyLoss', options, ['delta', 'gamma', 'smooth', 'regionPooling']);
    this.delta = parseNumber(this.owner, 'delta', options.delta, 0.7, UNIT_INTERVAL);
    this.gamma = parseNumber(this.owner, 'gamma', options.gamma, 0.75, POSITIVE);
    this.smooth = parseNumber(this.owner, 'smooth', options.smooth, 1e-6, POSITIVE);
    this.regionPooling = parseRegionPooling(this.owner, options.regionPooling, this.reduction);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    return regionTermPerImage(prepared, {
      delta: this.delta,
      smooth: this.smooth,
      clip: true,
      pooling: this.regionPooling,
      exponents: [this.gamma],
    });
  }
}

/** Options of {@link ComboLoss}. */
export interface ComboLossOptions<R extends Reduction = Reduction> extends CommonLossOptions<R>, RegionPoolingOptions {
  /** Weight α in [0,1] of the cross-entropy term (1−α weighs the Dice coefficient); default 0.5. */
  alpha?: number;
  /** Weight β in [0,1] of channel 0 in the cross entropy (1−β weighs every other channel); default 0.5. */
  beta?: number;
}

/**
 * Combo loss `α·CE_β − (1−α)·DSC` (Taghanaki et al. 2019, the authors' `combo_loss`), where
 * `CE_β` weighs channel 0 by β and the other channels by 1−β (on clipped probabilities) and
 * `DSC = mean_{b,c} TI(0.5, 1e-6)` on unclipped probabilities. The value can be negative.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `alpha` (default 0.5), `beta` (default 0.5), `regionPooling`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new ComboLoss({ alpha: 0.5, beta: 0.5 });
 */
export class ComboLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'combo' as const;
  readonly alpha: number;
  readonly beta: number;
  readonly regionPooling: RegionPooling;

  constructor(options: ComboLossOptions<R> = {}) {
    super('ComboLoss', options, ['alpha', 'beta', 'regionPooling']);
    this.alpha = parseNumber(this.owner, 'alpha', options.alpha, 0.5, UNIT_INTERVAL);
    this.beta = parseNumber(this.owner, 'beta', options.beta, 0.5, UNIT_INTERVAL);
    this.regionPooling = parseRegionPooling(this.owner, options.regionPooling, this.reduction);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    const p = prepared.probabilities;
    const counts = regionCounts(prepared.yTrue, p, tf.scalar(1).sub(p), prepared.spatialAxes, this.regionPooling);
    const diceCoefficient = tverskyIndex(counts, 0.5, 1e-6).mean(1);
    const classWeights = Array.from({ length: prepared.numClasses }, (_, c) => (c === 0 ? this.beta : 1 - this.beta));
    const crossEntropy = distributionTermPerImage(prepared, { classWeights });
    return crossEntropy.mul(this.alpha).sub(diceCoefficient.mul(1 - this.alpha)) as tf.Tensor1D;
  }
}
