// The Unified Focal loss family (Yeung et al., "Unified Focal loss", CMIG 2022; arXiv 2102.04525),
// following the authors' Keras code (github.com/mlyg/unified-focal-loss), with two deliberate
// differences that do not change the value: the channel is always the LAST axis (the released
// code slices axis 3, the width of a 5-D volume), and (1 − mTI)^(1−γ) is written
// pow(max(1 − mTI, 1e-12), 1 − γ) instead of the product (1−x)·(1−x)^(−γ), which gives 0·∞ = NaN.
//
// More than two classes (the `rare_classes` extension): the background (channel 0) and any class
// not listed in `rareClasses` are "suppressed" (weight 1−δ, focal modulation, linear Tversky
// term); every listed rare class is "enhanced" (weight δ, no modulation / (1−mTI)^(1−γ) in the
// asymmetric variants). By default every class but the background is rare.
import * as tf from '@tensorflow/tfjs';
import { BaseSegmentationLoss, type ReducedLoss } from './base';
import {
  NON_NEGATIVE,
  parseNumber,
  parseRareClasses,
  parseRegionPooling,
  UNIT_INTERVAL,
  type CommonLossOptions,
  type NumberRange,
  type Reduction,
  type RegionPooling,
  type RegionPoolingOptions,
} from './options';
import {
  CLIP_EPSILON,
  distributionTermPerImage,
  prepareInputs,
  rareClassMask,
  regionTermPerImage,
  type PreparedInputs,
} from './regions';

const FOCAL_GAMMA = NON_NEGATIVE;
// γ = 1 would make (1 − mTI)^(1−γ) the constant 1, and γ > 1 a loss that grows as mTI → 1.
const TVERSKY_GAMMA: NumberRange = { min: 0, max: 1, maxExclusive: true };
const TVERSKY_GAMMA_WHY = ' (the focal Tversky exponent 1 − gamma must stay positive)';

/** Options that say which classes are rare (enhanced). */
export interface RareClassOptions {
  /**
   * Class indices (>= 1) to enhance; every other class, including the background 0, is
   * suppressed. Default: every class but the background (for two channels: `[1]`).
   */
  rareClasses?: number[];
}

/** `mean_{b,v} Σ_c w_c m_c (−y_c log p̂_c)` with w = 1−δ / δ for suppressed / rare classes. */
function focalTerm(
  owner: string,
  prepared: PreparedInputs,
  delta: number,
  gamma: number,
  rareClasses: readonly number[] | undefined,
  symmetric: boolean,
): tf.Tensor1D {
  const rare = rareClassMask(owner, prepared.numClasses, rareClasses);
  return distributionTermPerImage(prepared, {
    classWeights: rare.map((isRare) => (isRare ? delta : 1 - delta)),
    gamma,
    modulated: symmetric ? undefined : rare.map((isRare) => !isRare),
  });
}

/** `mean_c f_c(1 − mTI_c)` with mTI = TI(δ, s = 1e-7) on clipped probabilities. */
function focalTverskyTerm(
  owner: string,
  prepared: PreparedInputs,
  delta: number,
  gamma: number,
  rareClasses: readonly number[] | undefined,
  symmetric: boolean,
  pooling: RegionPooling,
): tf.Tensor1D {
  const rare = rareClassMask(owner, prepared.numClasses, rareClasses);
  return regionTermPerImage(prepared, {
    delta,
    smooth: CLIP_EPSILON,
    clip: true,
    pooling,
    exponents: rare.map((isRare) => (symmetric || isRare ? 1 - gamma : 1)),
  });
}

/** Options of {@link SymmetricFocalLoss} and {@link AsymmetricFocalLoss}. */
export interface FocalFamilyLossOptions<R extends Reduction = Reduction> extends CommonLossOptions<R>, RareClassOptions {
  /** Weight δ in [0,1] of the rare classes (1−δ weighs the suppressed ones); default 0.7. */
  delta?: number;
  /** Focusing exponent γ >= 0; default 2. */
  gamma?: number;
}

/**
 * Symmetric focal loss (mF): `mean_{b,v} [(1−δ)(1−p̂₀)^γ(−y₀ log p̂₀) + δ(1−p̂₁)^γ(−y₁ log p̂₁)]`.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `delta` (default 0.7), `gamma` (default 2), `rareClasses`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new SymmetricFocalLoss({ delta: 0.7, gamma: 2 });
 */
export class SymmetricFocalLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name: 'symmetric-focal' | 'asymmetric-focal' = 'symmetric-focal';
  readonly delta: number;
  readonly gamma: number;
  readonly rareClasses: readonly number[] | undefined;
  protected readonly symmetric: boolean = true;

  /** @param owner - @internal class name for messages, set by {@link AsymmetricFocalLoss}. */
  constructor(options: FocalFamilyLossOptions<R> = {}, owner = 'SymmetricFocalLoss') {
    super(owner, options, ['delta', 'gamma', 'rareClasses']);
    this.delta = parseNumber(owner, 'delta', options.delta, 0.7, UNIT_INTERVAL);
    this.gamma = parseNumber(owner, 'gamma', options.gamma, 2, FOCAL_GAMMA);
    this.rareClasses = parseRareClasses(owner, options.rareClasses);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    return focalTerm(this.owner, prepared, this.delta, this.gamma, this.rareClasses, this.symmetric);
  }
}

/**
 * Asymmetric focal loss (maF): `mean_{b,v} [(1−δ)(1−p̂₀)^γ(−y₀ log p̂₀) + δ(−y₁ log p̂₁)]`;
 * the focal modulation is removed from the rare class, so it is never down-weighted.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `delta` (default 0.7), `gamma` (default 2), `rareClasses`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new AsymmetricFocalLoss({ delta: 0.7, gamma: 2 });
 */
export class AsymmetricFocalLoss<R extends Reduction = 'mean'> extends SymmetricFocalLoss<R> {
  override readonly name = 'asymmetric-focal' as const;
  protected override readonly symmetric: boolean = false;

  constructor(options: FocalFamilyLossOptions<R> = {}) {
    super(options, 'AsymmetricFocalLoss');
  }
}

/** Options of {@link SymmetricFocalTverskyLoss}. */
export interface SymmetricFocalTverskyLossOptions<R extends Reduction = Reduction>
  extends CommonLossOptions<R>,
    RegionPoolingOptions {
  /** Weight δ in [0,1] of false negatives; default 0.7. */
  delta?: number;
  /** γ in [0,1): the exponent is 1 − γ; default 0.75. */
  gamma?: number;
}

/**
 * Symmetric focal Tversky loss (mFT): `mean_{b,c} (1 − mTI)^(1−γ)`, mTI = TI(δ, s = 1e-7) on
 * clipped probabilities.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `delta` (default 0.7), `gamma` (default 0.75), `regionPooling`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new SymmetricFocalTverskyLoss({ delta: 0.7, gamma: 0.75 });
 */
export class SymmetricFocalTverskyLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'symmetric-focal-tversky' as const;
  readonly delta: number;
  readonly gamma: number;
  readonly regionPooling: RegionPooling;

  constructor(options: SymmetricFocalTverskyLossOptions<R> = {}) {
    super('SymmetricFocalTverskyLoss', options, ['delta', 'gamma', 'regionPooling']);
    this.delta = parseNumber(this.owner, 'delta', options.delta, 0.7, UNIT_INTERVAL);
    this.gamma = parseNumber(this.owner, 'gamma', options.gamma, 0.75, TVERSKY_GAMMA, TVERSKY_GAMMA_WHY);
    this.regionPooling = parseRegionPooling(this.owner, options.regionPooling, this.reduction);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    return focalTverskyTerm(this.owner, prepared, this.delta, this.gamma, undefined, true, this.regionPooling);
  }
}

/** Options of {@link AsymmetricFocalTverskyLoss}. */
export interface AsymmetricFocalTverskyLossOptions<R extends Reduction = Reduction>
  extends SymmetricFocalTverskyLossOptions<R>,
    RareClassOptions {}

/**
 * Asymmetric focal Tversky loss (maFT): `mean_b [(1 − mTI_{b,0}) + (1 − mTI_{b,1})^(1−γ)] / 2`;
 * only the rare classes get the focal exponent.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `delta` (default 0.7), `gamma` (default 0.75), `rareClasses`, `regionPooling`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new AsymmetricFocalTverskyLoss({ delta: 0.7, gamma: 0.75 });
 */
export class AsymmetricFocalTverskyLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name = 'asymmetric-focal-tversky' as const;
  readonly delta: number;
  readonly gamma: number;
  readonly rareClasses: readonly number[] | undefined;
  readonly regionPooling: RegionPooling;

  constructor(options: AsymmetricFocalTverskyLossOptions<R> = {}) {
    super('AsymmetricFocalTverskyLoss', options, ['delta', 'gamma', 'rareClasses', 'regionPooling']);
    this.delta = parseNumber(this.owner, 'delta', options.delta, 0.7, UNIT_INTERVAL);
    this.gamma = parseNumber(this.owner, 'gamma', options.gamma, 0.75, TVERSKY_GAMMA, TVERSKY_GAMMA_WHY);
    this.rareClasses = parseRareClasses(this.owner, options.rareClasses);
    this.regionPooling = parseRegionPooling(this.owner, options.regionPooling, this.reduction);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    return focalTverskyTerm(this.owner, prepared, this.delta, this.gamma, this.rareClasses, false, this.regionPooling);
  }
}

/** Options of {@link SymmetricUnifiedFocalLoss} and {@link AsymmetricUnifiedFocalLoss}. */
export interface UnifiedFocalLossOptions<R extends Reduction = Reduction>
  extends CommonLossOptions<R>,
    RegionPoolingOptions,
    RareClassOptions {
  /** λ in [0,1]: weight of the focal Tversky term (1−λ weighs the focal term); default 0.5. */
  weight?: number;
  /** δ in [0,1], shared by both terms; default 0.6. */
  delta?: number;
  /** γ in [0,1), shared by both terms; default 0.5 (authors: ~0.1 mild, >= 0.3 severe imbalance). */
  gamma?: number;
}

/** The two terms of a Unified Focal loss, before weighting by λ and 1−λ. */
export interface UnifiedFocalTerms<R extends Reduction> {
  focalTversky: ReducedLoss<R>;
  focal: ReducedLoss<R>;
}

/**
 * Symmetric Unified Focal loss (sUF): `λ·mFT + (1−λ)·mF` with the same δ and γ in both terms.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `weight` λ (default 0.5), `delta` (default 0.6), `gamma` (default 0.5),
 *   `rareClasses`, `regionPooling`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new SymmetricUnifiedFocalLoss({ weight: 0.5, delta: 0.6, gamma: 0.5 });
 */
export class SymmetricUnifiedFocalLoss<R extends Reduction = 'mean'> extends BaseSegmentationLoss<R> {
  readonly name: 'symmetric-unified-focal' | 'asymmetric-unified-focal' = 'symmetric-unified-focal';
  readonly weight: number;
  readonly delta: number;
  readonly gamma: number;
  readonly rareClasses: readonly number[] | undefined;
  readonly regionPooling: RegionPooling;
  protected readonly symmetric: boolean = true;

  /** @param owner - @internal class name for messages, set by {@link AsymmetricUnifiedFocalLoss}. */
  constructor(options: UnifiedFocalLossOptions<R> = {}, owner = 'SymmetricUnifiedFocalLoss') {
    super(owner, options, ['weight', 'delta', 'gamma', 'rareClasses', 'regionPooling']);
    this.weight = parseNumber(owner, 'weight', options.weight, 0.5, UNIT_INTERVAL);
    this.delta = parseNumber(owner, 'delta', options.delta, 0.6, UNIT_INTERVAL);
    this.gamma = parseNumber(owner, 'gamma', options.gamma, 0.5, TVERSKY_GAMMA, TVERSKY_GAMMA_WHY);
    this.rareClasses = parseRareClasses(owner, options.rareClasses);
    this.regionPooling = parseRegionPooling(owner, options.regionPooling, this.reduction);
  }

  protected perImage(prepared: PreparedInputs): tf.Tensor1D {
    const { focalTversky, focal } = this.termsPerImage(prepared);
    return focalTversky.mul(this.weight).add(focal.mul(1 - this.weight)) as tf.Tensor1D;
  }

  /** The unweighted focal Tversky and focal terms (for logging and tests), reduced like `compute`. */
  computeTerms(yTrue: tf.Tensor, yPred: tf.Tensor): UnifiedFocalTerms<R> {
    return tf.tidy(() => {
      const prepared = prepareInputs(this.owner, yTrue, yPred, this.input, this.target);
      const terms = this.termsPerImage(prepared);
      const reduce = (t: tf.Tensor1D) => (this.reduction === 'none' ? t : t.mean()) as ReducedLoss<R>;
      return { focalTversky: reduce(terms.focalTversky), focal: reduce(terms.focal) };
    });
  }

  private termsPerImage(prepared: PreparedInputs): { focalTversky: tf.Tensor1D; focal: tf.Tensor1D } {
    return {
      focalTversky: focalTverskyTerm(
        this.owner,
        prepared,
        this.delta,
        this.gamma,
        this.rareClasses,
        this.symmetric,
        this.regionPooling,
      ),
      focal: focalTerm(this.owner, prepared, this.delta, this.gamma, this.rareClasses, this.symmetric),
    };
  }
}

/**
 * Asymmetric Unified Focal loss (aUF), the product's default training loss:
 * `λ·maFT + (1−λ)·maF` with the authors' defaults λ = 0.5, δ = 0.6, γ = 0.5.
 *
 * With the default per-image region term, a lesion-free image scores about 0.25 however good
 * the prediction is (its foreground index collapses); `regionPooling: 'batch'` pools TP/FN/FP
 * over the batch instead.
 *
 * Layout `[B,H,W,C]` or `[B,D,H,W,C]`, channels-last.
 * @param options - `weight` λ (default 0.5), `delta` (default 0.6), `gamma` (default 0.5),
 *   `rareClasses`, `regionPooling`, plus {@link CommonLossOptions}.
 * @throws {LossError} on an unknown or ill option.
 * @example
 * const loss = new AsymmetricUnifiedFocalLoss({ weight: 0.5, delta: 0.6, gamma: 0.5, target: 'index' });
 * const value = loss.compute(labels, probabilities); // tf.Scalar
 */
export class AsymmetricUnifiedFocalLoss<R extends Reduction = 'mean'> extends SymmetricUnifiedFocalLoss<R> {
  override readonly name = 'asymmetric-unified-focal' as const;
  protected override readonly symmetric: boolean = false;

  constructor(options: UnifiedFocalLossOptions<R> = {}) {
    super(options, 'AsymmetricUnifiedFocalLoss');
  }
}
