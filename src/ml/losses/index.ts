// Public API of the segmentation losses: the Unified Focal loss family and its baselines,
// the deep-supervision wrapper, and the name registry used by training settings.
export {
  LOSS_NAMES,
  BaseSegmentationLoss,
  type LossName,
  type ReducedLoss,
  type SegmentationLoss,
} from './base';
export {
  LossError,
  REDUCTIONS,
  TARGET_FORMATS,
  INPUT_ACTIVATIONS,
  REGION_POOLINGS,
  type Reduction,
  type TargetFormat,
  type InputActivation,
  type RegionPooling,
  type CommonLossOptions,
  type RegionPoolingOptions,
} from './options';
export { CLIP_EPSILON, POWER_BASE_FLOOR } from './regions';
export { CrossEntropyLoss, FocalLoss, type CrossEntropyLossOptions, type FocalLossOptions } from './distribution';
export {
  DiceLoss,
  TverskyLoss,
  FocalTverskyLoss,
  ComboLoss,
  type DiceLossOptions,
  type TverskyLossOptions,
  type FocalTverskyLossOptions,
  type ComboLossOptions,
} from './overlap';
export {
  SymmetricFocalLoss,
  AsymmetricFocalLoss,
  SymmetricFocalTverskyLoss,
  AsymmetricFocalTverskyLoss,
  SymmetricUnifiedFocalLoss,
  AsymmetricUnifiedFocalLoss,
  type FocalFamilyLossOptions,
  type SymmetricFocalTverskyLossOptions,
  type AsymmetricFocalTverskyLossOptions,
  type UnifiedFocalLossOptions,
  type UnifiedFocalTerms,
  type RareClassOptions,
} from './unifiedFocal';
export { createLoss, parseLossName, DEFAULT_LOSS_NAME, type LossOptionsByName } from './registry';
export {
  DeepSupervisionLoss,
  TARGET_DOWNSAMPLINGS,
  downsampleTarget,
  type DeepSupervisionLossOptions,
  type TargetDownsampling,
} from './deepSupervision';
