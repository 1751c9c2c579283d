// A DICOM file whose pixel data Lesion Lab cannot decode: pydicom's JPEG2000.dcm with its transfer
// syntax renamed, in place, to JPEG 2000 Part 2 multi-component (1.2.840.10008.1.2.4.92, the same
// length), which no reader here decodes.
import { readFileSync, writeFileSync } from 'node:fs';

export const PYDICOM_JPEG2000 = '/usr/lib/python3/dist-packages/pydicom/data/test_files/JPEG2000.dcm';

/** Writes that file to `path`. */
export function writeUndecodableDicom(path: string): void {
  const bytes = readFileSync(PYDICOM_JPEG2000);
  const at = bytes.indexOf('1.2.840.10008.1.2.4.91');
  if (at < 0) throw new Error(`${PYDICOM_JPEG2000}: its transfer syntax was not found`);
  bytes.write('1.2.840.10008.1.2.4.92', at, 'latin1');
  writeFileSync(path, bytes);
}
