// Public API of the NIfTI layer.
export type { NiftiImage, NiftiHeader, VoxelArray, NiftiDatatypeName, AffineSource } from './types';
export { readNifti, readNiftiHeader } from './read';
export { VOLUME_FILE_NAME, convertedFormatOf } from './formats';
export { DICOM_NAME, DICOM_NOT_AN_IMAGE, isDicomPath, readDicomSeries, scanDicomFolder, seriesVolume } from './dicom';
export type { DicomFolder, DicomSeriesSummary, ScannedDicomFolder } from './dicom';
export type { ReadNiftiOptions, NiftiHeaderInfo } from './read';
export { encodeMaskLike, encodeVolumeLike, writeImageAsNifti, writeMaskLike, writeVolumeLike } from './write';
export type { WriteVolumeOptions } from './write';
export { checkSameGrid } from './grid';
export { bestAffine, voxelVolumeMm3 } from './affine';
export { NiftiReadError, NiftiWriteError } from './errors';
export { NIFTI_DATATYPES, datatypeByCode, datatypeByName } from './datatypes';
