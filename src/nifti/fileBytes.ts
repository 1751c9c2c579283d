// Whole-file reads for the readers of other formats (NRRD, MetaImage, MGH), with the NIfTI layer's
// one-sentence errors.
import { promises as fsp } from 'node:fs';
import { fsProblem, NiftiReadError } from './errors';

/** The bytes of `path`; a missing, unreadable or empty file is a NiftiReadError naming it. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fsp.readFile(path));
  } catch (e) {
    throw new NiftiReadError(path, fsProblem(e));
  }
  if (bytes.length === 0) throw new NiftiReadError(path, 'the file is empty (0 bytes)');
  return bytes;
}
