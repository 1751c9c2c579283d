// Public API of the NIfTI layer.
export type { NiftiImage, NiftiHeader, VoxelArray, NiftiDatatypeName, AffineSource } from './types';
export { readNifti, readNiftiHeader } from './read';
export { NRRD_NAME } from './nrrd';
export type { ReadNiftiOptions, NiftiHeaderInfo } from './read';
export { encodeMaskLike, encodeVolumeLike, writeMaskLike, writeVolumeLike } from './write';
export type { WriteVolumeOptions } from './write';
export { checkSameGrid } from './grid';
export { bestAffine, voxelVolumeMm3 } from './affine';
export { NiftiReadError, NiftiWriteError } from './errors';
export { NIFTI_DATATYPES, datatypeByCode, datatypeByName } from './datatypes';
