// Header parsing and validation. nifti-reader-js decodes the raw fields; everything it does not
// check (dim ranges, datatype, bitpix, vox_offset, finite geometry, scaling) is checked here.
import { datatypeByCode } from './datatypes';
import { NiftiReadError } from './errors';
import type { NiftiHeader } from './types';

type NiftiReaderModule = typeof import('nifti-reader-js');
let niftiReaderModule: Promise<NiftiReaderModule> | undefined;

/**
 * nifti-reader-js is an ES module only ("exports": import), which a CommonJS build (the CLI, the
 * extension host, tests under tsx) can reach only through a dynamic import.
 */
function loadNiftiReader(): Promise<NiftiReaderModule> {
  niftiReaderModule ??= import('nifti-reader-js');
  return niftiReaderModule;
}

/** Byte size of the NIfTI-1 / Analyze header, and of the NIfTI-2 header. */
export const NIFTI1_HEADER_BYTES = 348;
export const NIFTI2_HEADER_BYTES = 540;
/** Header plus the 4-byte extension flag: the smallest vox_offset of a single file. */
const NIFTI1_MIN_VOX_OFFSET = 352;
const NIFTI2_MIN_VOX_OFFSET = 544;

/** Extension code of CIFTI XML (NIFTI_ECODE_CIFTI). */
const CIFTI_EXTENSION_CODE = 32;

/** Largest voxel count we agree to allocate for one frame (2^31 - 1 elements, a typed-array limit). */
const MAX_FRAME_VOXELS = 2 ** 31 - 1;

function readCString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && end < bytes.length && bytes[end] !== 0) end++;
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** Copies `bytes[0, length)` into a fresh ArrayBuffer (nifti-reader-js wants one starting at 0). */
function copyToArrayBuffer(bytes: Uint8Array, length: number): ArrayBuffer {
  const out = new ArrayBuffer(length);
  new Uint8Array(out).set(bytes.subarray(0, length));
  return out;
}

/** Which header a byte string starts with, judged by sizeof_hdr in either byte order. */
function sniffHeaderSize(bytes: Uint8Array): { version: 1 | 2; littleEndian: boolean } | undefined {
  if (bytes.length < 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === NIFTI1_HEADER_BYTES) return { version: 1, littleEndian };
    if (size === NIFTI2_HEADER_BYTES) return { version: 2, littleEndian };
  }
  return undefined;
}

/**
 * Parses and validates a NIfTI-1, NIfTI-2 or Analyze 7.5 header from the start of `bytes`
 * (the decompressed file, or at least its header and extensions).
 *
 * @param bytes - the file content from byte 0.
 * @param filePath - used in error messages only.
 * @throws NiftiReadError (one sentence naming the file) when the header is not usable.
 */
export async function parseNiftiHeader(bytes: Uint8Array, filePath: string): Promise<NiftiHeader> {
  if (bytes.length === 0) throw new NiftiReadError(filePath, 'the file is empty (0 bytes)');
  const sniff = sniffHeaderSize(bytes);
  if (!sniff) {
    const shown = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true) : bytes.length;
    throw new NiftiReadError(
      filePath,
      bytes.length < 4
        ? `the file is only ${bytes.length} bytes, too short for a NIfTI header`
        : `this is not a NIfTI or Analyze file: the header size field is ${shown}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`,
    );
  }
  const headerBytes = sniff.version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  if (bytes.length < headerBytes) {
    throw new NiftiReadError(
      filePath,
      `the file is ${bytes.length} bytes, too short for a NIfTI-${sniff.version} header of ${headerBytes} bytes`,
    );
  }

  let format: NonNullable<NiftiHeader['format']>;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (sniff.version === 1) {
    const magic = readCString(bytes, 344, 4);
    if (magic === 'n+1') format = 'nifti-single';
    else if (magic === 'ni1') format = 'nifti-pair';
    else if (bytes[344] === 0 && bytes[345] === 0 && bytes[346] === 0 && bytes[347] === 0) format = 'analyze75';
    else throw new NiftiReadError(filePath, `the NIfTI-1 magic is '${printable(bytes, 344, 4)}', expected 'n+1' or 'ni1'`);
  } else {
    const magic = readCString(bytes, 4, 4);
    if (magic === 'n+2') format = 'nifti-single';
    else if (magic === 'ni2') format = 'nifti-pair';
    else throw new NiftiReadError(filePath, `the NIfTI-2 magic is '${printable(bytes, 4, 4)}', expected 'n+2' or 'ni2'`);
  }

  // nifti-reader-js decodes the fields; it is given the header alone so that it does not try to
  // parse extensions (which we do below, with our own checks).
  const { NIFTI1, NIFTI2 } = await loadNiftiReader();
  const raw = sniff.version === 1 ? new NIFTI1() : new NIFTI2();
  raw.readHeader(copyToArrayBuffer(bytes, headerBytes));

  const header: NiftiHeader = {
    niftiVersion: sniff.version,
    format,
    littleEndian: raw.littleEndian,
    dim: raw.dims.slice(0, 8).map(Number),
    pixdim: raw.pixDims.slice(0, 8).map(Number),
    datatypeCode: raw.datatypeCode,
    datatype: datatypeByCode(raw.datatypeCode)?.name ?? 'uint8',
    bitpix: raw.numBitsPerVoxel,
    voxOffset: Number(raw.vox_offset),
    sclSlope: raw.scl_slope,
    sclInter: raw.scl_inter,
    xyztUnits: raw.xyzt_units,
    qformCode: format === 'analyze75' ? 0 : raw.qform_code,
    sformCode: format === 'analyze75' ? 0 : raw.sform_code,
    quaternB: raw.quatern_b,
    quaternC: raw.quatern_c,
    quaternD: raw.quatern_d,
    qoffsetX: raw.qoffset_x,
    qoffsetY: raw.qoffset_y,
    qoffsetZ: raw.qoffset_z,
    // Read srow from the bytes: nifti-reader-js's `affine` holds the qform instead whenever
    // qform_code > sform_code, so it is not the sform.
    srow: Array.from({ length: 12 }, (_, i) =>
      sniff.version === 1 ? view.getFloat32(280 + 4 * i, sniff.littleEndian) : view.getFloat64(400 + 8 * i, sniff.littleEndian),
    ),
    intentCode: raw.intent_code,
    intentName: sniff.version === 1 ? readCString(bytes, 328, 16) : readCString(bytes, 508, 16),
    description: sniff.version === 1 ? readCString(bytes, 148, 80) : readCString(bytes, 240, 80),
    calMin: raw.cal_min,
    calMax: raw.cal_max,
    extensions: [],
  };
  if (format === 'analyze75') {
    // SPM's 'origin' (5 int16 in the 'originator' field at byte 253), used by nibabel's Spm2AnalyzeImage.
    header.analyzeOrigin = [0, 1, 2].map((i) => view.getInt16(253 + 2 * i, header.littleEndian)) as [number, number, number];
    // Analyze has no sform/qform; nifti-reader-js read srow from unrelated bytes.
    header.srow = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  }
  const problem = validateHeader(header);
  if (problem) throw new NiftiReadError(filePath, problem);
  header.extensions = readExtensions(bytes, header);
  const ciftiExtension = header.extensions.some((e) => e.code === CIFTI_EXTENSION_CODE);
  if (ciftiExtension || (header.intentCode >= 3000 && header.intentCode <= 3099)) {
    throw new NiftiReadError(
      filePath,
      `this is a CIFTI file (intent code ${header.intentCode}), which holds grayordinate or connectivity data rather than a voxel image`,
    );
  }
  return header;
}

function printable(bytes: Uint8Array, start: number, length: number): string {
  let text = '';
  for (let i = start; i < start + length; i++) {
    const c = bytes[i];
    text += c >= 32 && c < 127 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return text;
}

/** Number of voxels per frame (dim[1..3]) and number of frames (dim[4..dim[0]]). */
/** True when `bytes` begins with a NIfTI-1/NIfTI-2/Analyze header size field (348 or 540). */
export function looksLikeNiftiHeader(bytes: Uint8Array): boolean {
  return sniffHeaderSize(bytes) !== undefined;
}

export function headerCounts(header: NiftiHeader): { frameVoxels: number; frameCount: number } {
  const ndim = header.dim[0];
  let frameVoxels = 1;
  let frameCount = 1;
  for (let d = 1; d <= ndim; d++) {
    if (d <= 3) frameVoxels *= header.dim[d];
    else frameCount *= header.dim[d];
  }
  return { frameVoxels, frameCount };
}

/** Bytes one frame of `frameVoxels` voxels occupies (binary data is packed 8 voxels a byte). */
export function frameByteLength(header: NiftiHeader, frameVoxels: number): number {
  return header.datatypeCode === 1 ? Math.ceil(frameVoxels / 8) : (frameVoxels * header.bitpix) / 8;
}

/**
 * Checks the header fields the standard constrains. Returns the first problem as a phrase (no
 * file name), or undefined when the header can be used.
 */
export function validateHeader(header: NiftiHeader): string | undefined {
  const ndim = header.dim[0];
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    return `dim[0] (the number of dimensions) is ${ndim} but must be 1 to 7`;
  }
  for (let d = 1; d <= ndim; d++) {
    if (!Number.isInteger(header.dim[d]) || header.dim[d] < 1) {
      return `dim[${d}] is ${header.dim[d]} but every size must be at least 1`;
    }
  }
  const info = datatypeByCode(header.datatypeCode);
  if (!info) return `datatype code ${header.datatypeCode} is not a NIfTI datatype`;
  if (header.bitpix !== info.bitpix) {
    return `bitpix is ${header.bitpix} but datatype ${info.name} needs ${info.bitpix}`;
  }
  const { frameVoxels } = headerCounts(header);
  if (frameVoxels > MAX_FRAME_VOXELS) {
    return `one frame has ${frameVoxels} voxels (${header.dim.slice(1, 4).join('x')}), more than this reader can hold (${MAX_FRAME_VOXELS})`;
  }
  const voxOffset = header.voxOffset;
  if (!Number.isFinite(voxOffset) || voxOffset < 0 || !Number.isInteger(voxOffset)) {
    return `vox_offset is ${voxOffset} but must be a whole number of bytes`;
  }
  if (header.format === 'nifti-single') {
    const minimum = header.niftiVersion === 1 ? NIFTI1_MIN_VOX_OFFSET : NIFTI2_MIN_VOX_OFFSET;
    if (voxOffset < minimum) {
      return `vox_offset is ${voxOffset}, inside the header; a single-file NIfTI-${header.niftiVersion} needs at least ${minimum}`;
    }
  }
  const slope = header.sclSlope;
  if (Number.isFinite(slope) && slope !== 0 && !Number.isFinite(header.sclInter) && header.format !== 'analyze75') {
    return `scl_slope is ${slope} but scl_inter is ${header.sclInter}; a valid slope needs a finite intercept`;
  }
  for (let d = 1; d <= Math.min(ndim, 3); d++) {
    if (!Number.isFinite(header.pixdim[d])) return `pixdim[${d}] (voxel size) is ${header.pixdim[d]}`;
  }
  if (header.sformCode > 0) {
    const bad = header.srow.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      return `the sform (sform_code ${header.sformCode}) holds ${header.srow[bad]} in srow_${'xyz'[Math.floor(bad / 4)]}[${bad % 4}]`;
    }
  }
  if (header.qformCode > 0) {
    const q = {
      quatern_b: header.quaternB,
      quatern_c: header.quaternC,
      quatern_d: header.quaternD,
      qoffset_x: header.qoffsetX,
      qoffset_y: header.qoffsetY,
      qoffset_z: header.qoffsetZ,
    };
    for (const [name, value] of Object.entries(q)) {
      if (!Number.isFinite(value)) return `the qform (qform_code ${header.qformCode}) holds ${name} = ${value}`;
    }
  }
  return undefined;
}

/**
 * Reads the header extensions (esize/ecode/edata) between the header and vox_offset. Extensions
 * never change the image, so a malformed chain ends the list rather than refusing the file.
 */
function readExtensions(bytes: Uint8Array, header: NiftiHeader): { code: number; data: Uint8Array }[] {
  if (header.format === 'analyze75') return [];
  const headerBytes = header.niftiVersion === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  const flagAt = headerBytes;
  if (bytes.length < flagAt + 4 || bytes[flagAt] === 0) return [];
  // For a single file extensions end at vox_offset; in a .hdr they run to the end of the file.
  const end = header.format === 'nifti-single' ? Math.min(header.voxOffset, bytes.length) : bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const extensions: { code: number; data: Uint8Array }[] = [];
  let at = flagAt + 4;
  while (at + 8 <= end) {
    const esize = view.getInt32(at, header.littleEndian);
    const ecode = view.getInt32(at + 4, header.littleEndian);
    if (esize < 8 || esize % 16 !== 0 || at + esize > end) break;
    extensions.push({ code: ecode, data: bytes.slice(at + 8, at + esize) });
    at += esize;
  }
  return extensions;
}
