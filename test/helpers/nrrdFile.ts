// NRRD files for the tests, written to the standard (NRRD0004, space left-posterior-superior):
// the header for a RAS affine, and a whole attached-data file like a NIfTI image.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/** A NRRD header (ending in its blank line's first newline) in LPS for a RAS affine (row-major 4×4), with `extra` fields. */
export function nrrdHeaderFor(type: string, sizes: number[], ras: ArrayLike<number>, extra: string[]): string {
  const lps = (w: number, v: number): number => (w < 2 ? -v : v);
  const dirs = [0, 1, 2].map((a) => `(${[0, 1, 2].map((w) => lps(w, ras[4 * w + a])).join(',')})`);
  const none = sizes.length > 3 ? ' none' : '';
  return [
    'NRRD0004',
    '# written by the Lesion Lab tests',
    `type: ${type}`,
    `dimension: ${sizes.length}`,
    'space: left-posterior-superior',
    `sizes: ${sizes.join(' ')}`,
    `space directions: ${dirs.join(' ')}${none}`,
    `space origin: (${[0, 1, 2].map((w) => lps(w, ras[4 * w + 3])).join(',')})`,
    ...extra,
  ].join('\n') + '\n';
}

/** The bytes of `values`, big-endian when asked. */
export function nrrdBytesOf(values: Int16Array | Float32Array, bigEndian = false): Buffer {
  const copy = Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  if (bigEndian && values.BYTES_PER_ELEMENT === 2) copy.swap16();
  else if (bigEndian) copy.swap32();
  return copy;
}

/** Writes `values` (one frame on `dims`, little-endian float) with `affine` as a gzip-encoded .nrrd. */
export function writeNrrdFloat(path: string, dims: readonly number[], affine: ArrayLike<number>, values: ArrayLike<number>): void {
  const header = nrrdHeaderFor('float', [...dims], affine, ['endian: little', 'encoding: gzip']);
  writeFileSync(path, Buffer.concat([Buffer.from(header + '\n'), gzipSync(nrrdBytesOf(Float32Array.from(values)))]));
}
