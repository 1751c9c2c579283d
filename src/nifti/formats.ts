// Which file names hold which kind of volume. NIfTI and Analyze are read natively; NRRD, MetaImage
// and MGH are converted on reading (their masks and exports are NIfTI on their grid); DICOM series
// are recognised by content too (dicom.ts).
import { META_IMAGE_NAME } from './metaImage';
import { MGH_NAME } from './mgh';
import { NRRD_NAME } from './nrrd';

/** File names readNifti reads as one image (NIfTI, Analyze and the converted formats; not DICOM). */
export const VOLUME_FILE_NAME = /\.(nii|nii\.gz|hdr|hdr\.gz|img|img\.gz|nrrd|nhdr|mha|mhd|mgh|mgz)$/i;

/** The converted format of a file name, for messages and reports; null for NIfTI and others. */
export function convertedFormatOf(path: string): 'NRRD' | 'MetaImage' | 'MGH' | null {
  if (NRRD_NAME.test(path)) return 'NRRD';
  if (META_IMAGE_NAME.test(path)) return 'MetaImage';
  if (MGH_NAME.test(path)) return 'MGH';
  return null;
}
