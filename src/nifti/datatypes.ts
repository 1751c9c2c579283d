// NIfTI datatype codes, declared once and looked up both ways (code → entry, name → entry).
import type { NiftiDatatypeName } from './types';

export interface NiftiDatatypeInfo {
  readonly code: number;
  readonly name: NiftiDatatypeName;
  /** Bits per voxel as the standard requires in the header's bitpix. */
  readonly bitpix: number;
}

/** Every datatype of the NIfTI-1/2 standard (nifti1.h), with its required bitpix. */
export const NIFTI_DATATYPES = [
  { code: 1, name: 'binary', bitpix: 1 },
  { code: 2, name: 'uint8', bitpix: 8 },
  { code: 4, name: 'int16', bitpix: 16 },
  { code: 8, name: 'int32', bitpix: 32 },
  { code: 16, name: 'float32', bitpix: 32 },
  { code: 32, name: 'complex64', bitpix: 64 },
  { code: 64, name: 'float64', bitpix: 64 },
  { code: 128, name: 'rgb24', bitpix: 24 },
  { code: 256, name: 'int8', bitpix: 8 },
  { code: 512, name: 'uint16', bitpix: 16 },
  { code: 768, name: 'uint32', bitpix: 32 },
  { code: 1024, name: 'int64', bitpix: 64 },
  { code: 1280, name: 'uint64', bitpix: 64 },
  { code: 1536, name: 'float128', bitpix: 128 },
  { code: 1792, name: 'complex128', bitpix: 128 },
  { code: 2048, name: 'complex256', bitpix: 256 },
  { code: 2304, name: 'rgba32', bitpix: 32 },
] as const satisfies readonly NiftiDatatypeInfo[];

const BY_CODE = new Map<number, NiftiDatatypeInfo>(NIFTI_DATATYPES.map((d) => [d.code, d]));
const BY_NAME = new Map<string, NiftiDatatypeInfo>(NIFTI_DATATYPES.map((d) => [d.name, d]));

/** The datatype entry for a header code, or undefined when the code is not in the standard. */
export function datatypeByCode(code: number): NiftiDatatypeInfo | undefined {
  return BY_CODE.get(code);
}

/** The datatype entry for a name such as 'int16'. */
export function datatypeByName(name: NiftiDatatypeName): NiftiDatatypeInfo {
  const info = BY_NAME.get(name);
  if (!info) throw new RangeError(`unknown NIfTI datatype name '${name}'`);
  return info;
}
