// readMgh: FreeSurfer's MGH volumes (.mgh, and .mgz: the same gzipped), the format of FreeSurfer's
// and SAMSEG's outputs (brain.mgz, aseg.mgz, lesion maps), read into the same validated NiftiImage
// as readNifti. The header is big-endian: version 1, width, height, depth, frames, type, dof, the
// "good RAS" flag, then voxel sizes, the direction cosines (Mdc, one column per voxel axis) and the
// RAS of the centre voxel (width/2, height/2, depth/2), as FreeSurfer and nibabel read them. Data
// start at byte 284, x fastest; optional tags after them (TR, flip angle…) are ignored.
import { affineProblem } from './affine';
import { SCALAR_BYTES, type ScalarDatatype } from './decode';
import { NiftiReadError } from './errors';
import { readFileBytes } from './fileBytes';
import { gunzipWhole, isGzip } from './gzip';
import { imageOfFrame } from './syntheticHeader';
import type { NiftiImage } from './types';

/** .mgh (raw) and .mgz (gzip). */
export const MGH_NAME = /\.(mgh|mgz)$/i;

/** MGH type codes → datatype. */
const MGH_TYPES: Readonly<Record<number, ScalarDatatype>> = { 0: 'uint8', 1: 'int32', 3: 'float32', 4: 'int16' };

/** Where the voxels start: the header's fields, padded. */
const MGH_DATA_OFFSET = 284;

/**
 * FreeSurfer's geometry when the "good RAS" flag is not set: 1 mm voxels, coronal slices (LIA),
 * centred at RAS 0. One row per voxel axis (x, y, z): its direction in RAS.
 */
const DEFAULT_MDC = [
  [-1, 0, 0],
  [0, 0, -1],
  [0, 1, 0],
];

/**
 * Reads an MGH or MGZ volume (`frame` of a series, default 0).
 * @throws NiftiReadError naming the file and the problem: not MGH, an unsupported type, unusable
 *   geometry, a damaged gzip stream, or data shorter than the header says.
 */
export async function readMgh(filePath: string, opts: { frame?: number } = {}): Promise<NiftiImage> {
  let bytes = await readFileBytes(filePath);
  if (isGzip(bytes)) bytes = await gunzipWhole(bytes, filePath);
  const fail = (problem: string): never => {
    throw new NiftiReadError(filePath, problem);
  };
  if (bytes.length < MGH_DATA_OFFSET) fail(`it holds ${bytes.length} bytes, fewer than the ${MGH_DATA_OFFSET} of an MGH header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const int = (at: number): number => view.getInt32(at, false);
  const float = (at: number): number => view.getFloat32(at, false);
  const version = int(0);
  if (version !== 1) fail(`its version field is ${version}, not 1, so it is not an MGH volume${/\.mgz$/i.test(filePath) && bytes[0] !== 0 ? ' (or its gzip layer is missing)' : ''}`);
  const sizes = [int(4), int(8), int(12), int(16)];
  if (!sizes.every((n) => n > 0)) fail(`its width, height, depth and frames (${sizes.join(', ')}) are not all positive`);
  const typeCode = int(20);
  const datatype = MGH_TYPES[typeCode] ?? fail(`its voxel type ${typeCode} is not read (0 uchar, 1 int, 3 float and 4 short are)`);
  const goodRas = view.getInt16(28, false) > 0;
  const spacing = goodRas ? [float(30), float(34), float(38)] : [1, 1, 1];
  const mdc = goodRas ? [0, 1, 2].map((axis) => [0, 1, 2].map((w) => float(42 + 12 * axis + 4 * w))) : DEFAULT_MDC;
  const centre = goodRas ? [float(78), float(82), float(86)] : [0, 0, 0];
  if (!spacing.every((s) => Number.isFinite(s) && s > 0)) fail(`its voxel sizes (${spacing.join(', ')}) are not all positive`);

  // RAS = Mdc · diag(spacing) · (index − size/2) + centre.
  const affine = new Float64Array(16);
  for (let w = 0; w < 3; w++) {
    let origin = centre[w];
    for (let a = 0; a < 3; a++) {
      affine[4 * w + a] = mdc[a][w] * spacing[a] + 0;
      origin -= affine[4 * w + a] * (sizes[a] / 2);
    }
    affine[4 * w + 3] = origin + 0;
  }
  affine[15] = 1;
  const problem = affineProblem(affine, 'sform');
  if (problem) fail(problem.replace('the sform affine', 'its direction cosines').replace(/ \(check pixdim\[\d\]\)/, ''));

  const nt = sizes[3];
  const expected = sizes.reduce((n, size) => n * size, 1) * SCALAR_BYTES[datatype];
  if (bytes.length - MGH_DATA_OFFSET < expected) {
    fail(`the data hold ${bytes.length - MGH_DATA_OFFSET} bytes, but ${sizes.join('×')} ${datatype} voxels need ${expected}, so the file is truncated`);
  }
  const volume = { sizes: nt > 1 ? sizes : sizes.slice(0, 3), datatype, littleEndian: false, affine, description: 'FreeSurfer MGH' };
  return imageOfFrame(filePath, volume, bytes.subarray(MGH_DATA_OFFSET, MGH_DATA_OFFSET + expected), opts.frame);
}
