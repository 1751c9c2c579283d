// Labels from a DICOM object on an image's grid: a Segmentation (dicomSegImport.ts) or an RT
// Structure Set (rtStructImport.ts), told apart by SOP class.
import { DicomParseError, parseDicom, str, TAG } from '../nifti/dicomParse';
import type { NiftiImage } from '../nifti';
import { SEGMENTATION_SOP_CLASS } from './dicomSeg';
import { DicomSegReadError, labelsFromDicomSeg, type SegLabels } from './dicomSegImport';
import { labelsFromRtStruct, RT_STRUCTURE_SET_SOP_CLASS } from './rtStructImport';

/**
 * The labels of the SEG or RT Structure Set `bytes` (named `fileName`) on `image`'s grid;
 * `roiNames` picks structures of a structure set.
 * @throws DicomSegReadError for any other file, or one that cannot be placed on the grid.
 */
export function labelsFromDicomFile(bytes: Uint8Array, fileName: string, image: Pick<NiftiImage, 'dims' | 'affine' | 'filePath'>, roiNames: readonly string[] = []): SegLabels {
  let sopClass: string;
  try {
    const ds = parseDicom(bytes);
    sopClass = str(ds, TAG.sopClass);
    if (sopClass !== SEGMENTATION_SOP_CLASS && sopClass !== RT_STRUCTURE_SET_SOP_CLASS) {
      throw new DicomSegReadError(`${fileName}: not a DICOM Segmentation or RT Structure Set (SOP class ${sopClass || 'absent'}, modality ${str(ds, TAG.modality) || 'absent'})`);
    }
  } catch (e) {
    if (e instanceof DicomParseError) throw new DicomSegReadError(`${fileName}: ${e.problem}`);
    throw e;
  }
  if (sopClass === RT_STRUCTURE_SET_SOP_CLASS) return labelsFromRtStruct(bytes, fileName, image, roiNames);
  if (roiNames.length > 0) throw new DicomSegReadError(`${fileName}: --roi picks structures of an RT Structure Set; this is a Segmentation`);
  return labelsFromDicomSeg(bytes, fileName, image);
}
