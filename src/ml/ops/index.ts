// Fast 3-D U-Net building blocks for the wasm and cpu backends (custom gradients).
export { conv3dSame, conv3dSameMulti, conv2dFilterGradSame, samePadding } from './conv3d';
export type { Conv3dStride, SamePadding } from './conv3d';
export { normAffineRelu, batchNormInference, upsampleNearest2x, pointwiseConv3d, maxPool2x } from './layers';
export type { NormMode, NormTrainOptions } from './layers';
