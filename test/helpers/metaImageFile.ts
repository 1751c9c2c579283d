// MetaImage files for the tests, written as ITK writes them (LPS; TransformMatrix's first three
// numbers are the first voxel axis' direction): the header for a RAS affine, and a whole file.
import { writeFileSync } from 'node:fs';

/** A MetaImage header (LPS) for an image on `affine` (RAS, row-major 4×4) of `dims` (3 or 4), ending with ElementDataFile. */
export function metaImageHeaderFor(affine: ArrayLike<number>, dims: readonly number[], fields: string[], dataFile = 'LOCAL'): string {
  const spacing = [0, 1, 2].map((a) => Math.hypot(affine[a], affine[4 + a], affine[8 + a]));
  const lps = [-1, -1, 1];
  const matrix = [0, 1, 2].flatMap((a) => [0, 1, 2].map((w) => (lps[w] * affine[4 * w + a]) / spacing[a]));
  const offset = [0, 1, 2].map((w) => lps[w] * affine[4 * w + 3]);
  const series = dims.length === 4;
  const matrix4 = [0, 1, 2, 3].flatMap((a) => [0, 1, 2, 3].map((w) => (a < 3 && w < 3 ? matrix[3 * a + w] : a === w ? 1 : 0)));
  return [
    'ObjectType = Image',
    `NDims = ${dims.length}`,
    ...fields,
    `TransformMatrix = ${(series ? matrix4 : matrix).join(' ')}`,
    `Offset = ${[...offset, ...(series ? [0] : [])].join(' ')}`,
    'AnatomicalOrientation = RAI',
    `ElementSpacing = ${[...spacing, ...(series ? [1] : [])].join(' ')}`,
    `DimSize = ${dims.join(' ')}`,
    `ElementDataFile = ${dataFile}`,
  ].join('\n') + '\n';
}

/** Writes `values` (one frame on `dims`, little-endian float) with `affine` as an uncompressed .mha. */
export function writeMetaImageFloat(path: string, dims: readonly number[], affine: ArrayLike<number>, values: ArrayLike<number>): void {
  const data = Float32Array.from(values);
  const header = metaImageHeaderFor(affine, dims, ['BinaryData = True', 'BinaryDataByteOrderMSB = False', 'CompressedData = False', 'ElementType = MET_FLOAT']);
  writeFileSync(path, Buffer.concat([Buffer.from(header), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
