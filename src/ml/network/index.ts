// Public API of the 3-D U-Net.
export { createUNet3d, unet3dWeightSpecs, BATCH_NORM_MOMENTUM, NORM_EPSILON } from './unet3d';
export type { UNet3d, UNet3dApplyOptions, WeightSpec } from './unet3d';
export { loadUNet3d, UNET3D_FORMAT, UNET3D_FORMAT_VERSION, MODEL_JSON, WEIGHTS_BIN } from './serialize';
export type { UNet3dModelJson, WeightManifestEntry, WeightPrecision } from './serialize';
export {
  DEFAULT_UNET3D_CONFIG,
  NORMALIZATIONS,
  resolveUNet3dConfig,
  checkInputShape,
  spatialMultiple,
  checkLevels,
  checkBaseFilters,
  checkInChannels,
  checkNumClasses,
  checkNormalization,
  checkDeepSupervision,
  checkSeed,
} from './config';
export type { UNet3dConfig, Normalization } from './config';
