// Writers for images that live on another image's grid (label masks, probability maps): a
// NIfTI-1 .nii.gz whose geometry fields are copied from the source header, written atomically.
import { gzipSync } from 'node:zlib';
import { endianness } from 'node:os';
import { writeFileAtomic } from '../util/atomicWrite';
import { datatypeByName } from './datatypes';
import { NiftiWriteError } from './errors';
import type { NiftiImage, VoxelArray } from './types';
import { errorText } from '../util/errorText';

const NIFTI1_VOX_OFFSET = 352;
const HOST_LITTLE_ENDIAN = endianness() === 'LE';
/** NIfTI-1 sform_code "aligned to another file": used when an Analyze geometry must be kept. */
const SFORM_ALIGNED = 2;

type WrittenDatatype = 'uint8' | 'uint16' | 'int16' | 'int32' | 'float32';
type WrittenValues = Uint8Array | Uint16Array | Int16Array | Int32Array | Float32Array;

/** Options of {@link writeVolumeLike}. */
export interface WriteVolumeOptions {
  /** Text for the header's 80-byte description (ASCII, at most 79 characters). */
  description?: string;
}

function checkOutPath(outPath: string): void {
  if (typeof outPath !== 'string' || !/\.nii\.gz$/i.test(outPath)) {
    throw new NiftiWriteError(String(outPath), 'the output name must end in .nii.gz');
  }
}

/** NIfTI-1 stores dims as int16. */
const NIFTI1_MAX_DIM = 32767;

function checkVoxelCount(source: NiftiImage, count: number, outPath: string, what: string): void {
  const [nx, ny, nz] = source.dims;
  if (Math.max(nx, ny, nz) > NIFTI1_MAX_DIM) {
    throw new NiftiWriteError(
      outPath,
      `the source grid ${nx}x${ny}x${nz} has a side longer than NIfTI-1 can store (${NIFTI1_MAX_DIM})`,
    );
  }
  if (count !== nx * ny * nz) {
    throw new NiftiWriteError(
      outPath,
      `${what} has ${count} values but the source grid ${nx}x${ny}x${nz} needs ${nx * ny * nz}`,
    );
  }
}

function checkDescription(description: string, outPath: string): void {
  if (description.length > 79 || !/^[\x20-\x7e]*$/.test(description)) {
    throw new NiftiWriteError(
      outPath,
      `option description must be printable ASCII of at most 79 characters, got ${JSON.stringify(description.slice(0, 100))}`,
    );
  }
}

/**
 * Encodes a 352-byte little-endian NIfTI-1 header (348 + empty extension flag) for a 3-D image of
 * `datatype` on the source's grid (4-D with `frameCount` > 1): dims, pixdim (with qfac), qform and
 * sform with their codes, and xyzt_units are copied; scaling is reset to slope 1, intercept 0.
 */
export function encodeNifti1HeaderLike(source: NiftiImage, datatype: WrittenDatatype, description: string, frameCount = 1): Uint8Array {
  const h = source.header;
  const info = datatypeByName(datatype);
  const bytes = new Uint8Array(NIFTI1_VOX_OFFSET);
  const v = new DataView(bytes.buffer);
  const le = true;
  v.setInt32(0, 348, le);
  const [nx, ny, nz] = source.dims;
  const dim = [frameCount > 1 ? 4 : 3, nx, ny, nz, frameCount, 1, 1, 1];
  dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
  v.setInt16(70, info.code, le);
  v.setInt16(72, info.bitpix, le);
  const qfac = h.pixdim[0] < 0 ? -1 : 1;
  const pixdim = [qfac, h.pixdim[1], h.pixdim[2], h.pixdim[3], 1, 1, 1, 1];
  if (source.header.dim[0] < 3) pixdim[3] = source.spacingMm[2];
  if (source.header.dim[0] < 2) pixdim[2] = source.spacingMm[1];
  pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, NIFTI1_VOX_OFFSET, le);
  v.setFloat32(112, 1, le); // scl_slope: 1 and scl_inter 0 mean "unscaled" to every reader
  v.setFloat32(116, 0, le);
  v.setUint8(123, h.xyztUnits & 0xff);
  for (let i = 0; i < description.length; i++) v.setUint8(148 + i, description.charCodeAt(i));

  let qformCode = h.qformCode;
  let sformCode = h.sformCode;
  let srow = h.srow;
  if (source.affineSource === 'pixdim' && h.format === 'analyze75') {
    // Analyze geometry (SPM origin, x flip) has no NIfTI code of its own: keep it as an sform.
    sformCode = SFORM_ALIGNED;
    qformCode = 0;
    srow = Array.from(source.affine.subarray(0, 12));
  }
  v.setInt16(252, qformCode, le);
  v.setInt16(254, sformCode, le);
  const quatern = [h.quaternB, h.quaternC, h.quaternD, h.qoffsetX, h.qoffsetY, h.qoffsetZ];
  quatern.forEach((q, i) => v.setFloat32(256 + 4 * i, q, le));
  srow.forEach((s, i) => v.setFloat32(280 + 4 * i, s, le));
  bytes.set([0x6e, 0x2b, 0x31, 0x00], 344); // magic "n+1\0"
  return bytes;
}

function littleEndianBytes(values: WrittenValues): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (HOST_LITTLE_ENDIAN || values.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = Buffer.from(bytes);
  if (values.BYTES_PER_ELEMENT === 2) copy.swap16();
  else copy.swap32();
  return new Uint8Array(copy.buffer as ArrayBuffer, copy.byteOffset, copy.byteLength);
}

function encodeLike(
  source: NiftiImage,
  datatype: WrittenDatatype,
  values: WrittenValues,
  description: string,
  frameCount = 1,
): Uint8Array {
  const header = encodeNifti1HeaderLike(source, datatype, description, frameCount);
  const payload = littleEndianBytes(values);
  const whole = new Uint8Array(header.length + payload.length);
  whole.set(header, 0);
  whole.set(payload, header.length);
  const gz = gzipSync(whole, { level: 6, chunkSize: 1 << 20 });
  return new Uint8Array(gz.buffer as ArrayBuffer, gz.byteOffset, gz.byteLength);
}

async function writeLike(
  source: NiftiImage,
  datatype: WrittenDatatype,
  values: WrittenValues,
  outPath: string,
  description: string,
  frameCount = 1,
): Promise<void> {
  const compressed = encodeLike(source, datatype, values, description, frameCount);
  try {
    await writeFileAtomic(outPath, compressed);
  } catch (err) {
    const reason = errorText(err);
    throw new NiftiWriteError(outPath, `the file could not be written (${reason})`);
  }
}

/**
 * Writes a label map on exactly the grid of `source` as a NIfTI-1 `.nii.gz`: uint8, or uint16
 * when any label exceeds 255. Dims, pixdim, qfac, qform, sform, their codes and xyzt_units come
 * from the source header, so every tool reads the mask on the source grid; scaling is reset.
 * The write is atomic and the source file is never touched.
 *
 * @param source - the image the labels belong to (only its first three dims are used).
 * @param labels - one label per voxel, i fastest; length nx·ny·nz.
 * @param outPath - destination ending in `.nii.gz`.
 * @throws NiftiWriteError when the length does not match the grid, the name is wrong, or the write fails.
 */
export async function writeMaskLike(
  source: NiftiImage,
  labels: Uint8Array | Uint16Array,
  outPath: string,
): Promise<void> {
  const { datatype, values } = maskValuesLike(source, labels, outPath);
  await writeLike(source, datatype, values, outPath, 'lesion-lab label map');
}

/**
 * The `.nii.gz` bytes {@link writeMaskLike} would write to `outPath`, for callers that write
 * them together with other files (a mask and its sidecar as one atomic pair).
 * @throws NiftiWriteError when the length does not match the grid or the name is wrong.
 */
export function encodeMaskLike(source: NiftiImage, labels: Uint8Array | Uint16Array, outPath: string): Uint8Array {
  const { datatype, values } = maskValuesLike(source, labels, outPath);
  return encodeLike(source, datatype, values, 'lesion-lab label map');
}

function maskValuesLike(
  source: NiftiImage,
  labels: Uint8Array | Uint16Array,
  outPath: string,
): { datatype: WrittenDatatype; values: Uint8Array | Uint16Array } {
  checkOutPath(outPath);
  if (!(labels instanceof Uint8Array) && !(labels instanceof Uint16Array)) {
    throw new NiftiWriteError(outPath, 'labels must be a Uint8Array or Uint16Array');
  }
  checkVoxelCount(source, labels.length, outPath, 'labels');
  let values: Uint8Array | Uint16Array = labels;
  let datatype: WrittenDatatype = 'uint8';
  if (labels instanceof Uint16Array) {
    let max = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
    if (max > 255) datatype = 'uint16';
    else values = Uint8Array.from(labels);
  }
  return { datatype, values };
}

/**
 * The `.nii.gz` bytes {@link writeVolumeLike} would write, for callers that write them together
 * with other files (a proposal, its uncertainty map and their sidecar as one atomic set).
 * @throws NiftiWriteError for a wrong length, name or description.
 */
export function encodeVolumeLike(source: NiftiImage, values: Float32Array, outPath: string, opts: WriteVolumeOptions = {}): Uint8Array {
  checkOutPath(outPath);
  if (!(values instanceof Float32Array)) throw new NiftiWriteError(outPath, 'values must be a Float32Array');
  checkVoxelCount(source, values.length, outPath, 'values');
  const description = opts.description ?? 'lesion-lab float map';
  checkDescription(description, outPath);
  return encodeLike(source, 'float32', values, description);
}

/**
 * Writes float32 values (probability or uncertainty maps) on exactly the grid of `source`, with
 * the same geometry rules as {@link writeMaskLike}.
 *
 * @param source - the image whose grid the values follow.
 * @param values - one value per voxel, i fastest; length nx·ny·nz.
 * @param outPath - destination ending in `.nii.gz`.
 * @param opts - `description` (default 'lesion-lab float map'): header description text.
 * @throws NiftiWriteError for a wrong length, name or description, or a failed write.
 */
export async function writeVolumeLike(
  source: NiftiImage,
  values: Float32Array,
  outPath: string,
  opts: WriteVolumeOptions = {},
): Promise<void> {
  checkOutPath(outPath);
  if (!(values instanceof Float32Array)) throw new NiftiWriteError(outPath, 'values must be a Float32Array');
  checkVoxelCount(source, values.length, outPath, 'values');
  const description = opts.description ?? 'lesion-lab float map';
  checkDescription(description, outPath);
  await writeLike(source, 'float32', values, outPath, description);
}

/**
 * Writes an image read from another format (a DICOM series, NRRD) as a NIfTI-1 `.nii.gz` on its
 * own grid, keeping its values: uint8, uint16, int16 and int32 as they are, anything else as
 * float32 (also when the frames' types differ). `frames` (default: the image's loaded frame) are
 * its volumes; more than one make a 4-D image. Atomic.
 * @throws NiftiWriteError for a wrong name, description or frame length, or a failed write.
 */
export async function writeImageAsNifti(image: NiftiImage, outPath: string, description: string, frames: readonly VoxelArray[] = [image.data]): Promise<void> {
  checkOutPath(outPath);
  for (const f of frames) checkVoxelCount(image, f.length, outPath, 'the image');
  checkDescription(description, outPath);
  const kinds: [WrittenDatatype, new (n: number) => WrittenValues][] = [['uint8', Uint8Array], ['uint16', Uint16Array], ['int16', Int16Array], ['int32', Int32Array]];
  const [datatype, Ctor] = kinds.find(([, C]) => frames.every((f) => f instanceof C)) ?? ['float32', Float32Array];
  const frameVoxels = frames[0].length;
  const values = new Ctor(frameVoxels * frames.length);
  frames.forEach((f, t) => values.set(f, t * frameVoxels));
  await writeLike(image, datatype, values, outPath, description, frames.length);
}
