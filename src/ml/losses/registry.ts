// Pick a loss by name (from settings or a command line) and build it with its options.
import type { SegmentationLoss } from './base';
import { DEFAULT_LOSS_NAME, LOSS_NAMES, type LossName } from './names';
import { CrossEntropyLoss, FocalLoss, type CrossEntropyLossOptions, type FocalLossOptions } from './distribution';
import { LossError, describeValue, parseChoice, type Reduction } from './options';
import {
  ComboLoss,
  DiceLoss,
  FocalTverskyLoss,
  TverskyLoss,
  type ComboLossOptions,
  type DiceLossOptions,
  type FocalTverskyLossOptions,
  type TverskyLossOptions,
} from './overlap';
import {
  AsymmetricFocalLoss,
  AsymmetricFocalTverskyLoss,
  AsymmetricUnifiedFocalLoss,
  SymmetricFocalLoss,
  SymmetricFocalTverskyLoss,
  SymmetricUnifiedFocalLoss,
  type AsymmetricFocalTverskyLossOptions,
  type FocalFamilyLossOptions,
  type SymmetricFocalTverskyLossOptions,
  type UnifiedFocalLossOptions,
} from './unifiedFocal';

export { DEFAULT_LOSS_NAME };

/** The options object each registry name takes. */
export interface LossOptionsByName<R extends Reduction = Reduction> {
  'cross-entropy': CrossEntropyLossOptions<R>;
  focal: FocalLossOptions<R>;
  dice: DiceLossOptions<R>;
  tversky: TverskyLossOptions<R>;
  'focal-tversky': FocalTverskyLossOptions<R>;
  combo: ComboLossOptions<R>;
  'symmetric-focal': FocalFamilyLossOptions<R>;
  'asymmetric-focal': FocalFamilyLossOptions<R>;
  'symmetric-focal-tversky': SymmetricFocalTverskyLossOptions<R>;
  'asymmetric-focal-tversky': AsymmetricFocalTverskyLossOptions<R>;
  'symmetric-unified-focal': UnifiedFocalLossOptions<R>;
  'asymmetric-unified-focal': UnifiedFocalLossOptions<R>;
}

/**
 * Validates a loss name from settings.
 * @throws {LossError} listing the names (with a did-you-mean guess) when `value` is not one.
 */
export function parseLossName(value: unknown): LossName {
  if (value === undefined) throw new LossError(`createLoss: the loss name is undefined; expected one of ${LOSS_NAMES.join(', ')}.`);
  return parseChoice('createLoss', 'name', value, LOSS_NAMES, DEFAULT_LOSS_NAME);
}

/**
 * Builds a loss by registry name. Every option is validated by the loss's constructor, so
 * options read from untyped settings may be passed as they are.
 *
 * @param name - one of {@link LOSS_NAMES}.
 * @param options - the loss's options (see {@link LossOptionsByName}); default `{}` (authors' defaults).
 * @throws {LossError} on an unknown name, an unknown option key or an ill option value.
 * @example
 * const loss = createLoss('asymmetric-unified-focal', { gamma: 0.3, target: 'index' });
 * const value = loss.compute(labels, probabilities);
 */
export function createLoss<N extends LossName, R extends Reduction = 'mean'>(
  name: N,
  options?: LossOptionsByName<R>[N],
): SegmentationLoss<R>;
export function createLoss(name: string, options?: unknown): SegmentationLoss;
export function createLoss(name: string, options: unknown = {}): SegmentationLoss {
  const lossName = parseLossName(name);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LossError(`createLoss('${lossName}'): options must be an object, got ${describeValue(options)}.`);
  }
  // Each constructor checks the keys and values of this object at run time.
  const opts = options as Record<string, never>;
  switch (lossName) {
    case 'cross-entropy':
      return new CrossEntropyLoss(opts);
    case 'focal':
      return new FocalLoss(opts);
    case 'dice':
      return new DiceLoss(opts);
    case 'tversky':
      return new TverskyLoss(opts);
    case 'focal-tversky':
      return new FocalTverskyLoss(opts);
    case 'combo':
      return new ComboLoss(opts);
    case 'symmetric-focal':
      return new SymmetricFocalLoss(opts);
    case 'asymmetric-focal':
      return new AsymmetricFocalLoss(opts);
    case 'symmetric-focal-tversky':
      return new SymmetricFocalTverskyLoss(opts);
    case 'asymmetric-focal-tversky':
      return new AsymmetricFocalTverskyLoss(opts);
    case 'symmetric-unified-focal':
      return new SymmetricUnifiedFocalLoss(opts);
    case 'asymmetric-unified-focal':
      return new AsymmetricUnifiedFocalLoss(opts);
    default: {
      const unreachable: never = lossName;
      throw new LossError(`createLoss: unhandled loss name ${describeValue(unreachable)}.`);
    }
  }
}
