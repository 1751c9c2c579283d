// readMetaImage: ITK's MetaImage volumes (.mha with the data attached, .mhd with a data file
// beside it), the format of ITK, elastix and many lesion challenges, read into the same validated
// NiftiImage as readNifti. As ITK reads them: Offset (or Position, Origin) and TransformMatrix (or
// Rotation, Orientation; its first NDims numbers are the first voxel axis' direction) are in LPS,
// AnatomicalOrientation is a description only. The geometry becomes a RAS affine and a NIfTI-1
// header made from it, so that a mask written beside the image is a NIfTI file on exactly its grid.
// Raw or zlib-compressed data, either byte order, scalar 3-D volumes, 4-D series and vector images
// (one frame, or one component, at a time); ASCII data and lists of slice files are refused.
import { dirname, isAbsolute, join } from 'node:path';
import { affineProblem } from './affine';
import { SCALAR_BYTES, type ScalarDatatype } from './decode';
import { NiftiReadError } from './errors';
import { readFileBytes } from './fileBytes';
import { inflateWhole, isGzip, gunzipWhole } from './gzip';
import { imageOfFrame } from './syntheticHeader';
import type { NiftiImage } from './types';

/** .mha (data attached) and .mhd (data in the file ElementDataFile names). */
export const META_IMAGE_NAME = /\.(mha|mhd)$/i;

/** MetaIO element types → datatype (MET_LONG is 4 bytes in MetaIO, as MET_INT). */
const META_TYPES: Readonly<Record<string, ScalarDatatype>> = {
  MET_CHAR: 'int8',
  MET_UCHAR: 'uint8',
  MET_SHORT: 'int16',
  MET_USHORT: 'uint16',
  MET_INT: 'int32',
  MET_UINT: 'uint32',
  MET_LONG: 'int32',
  MET_ULONG: 'uint32',
  MET_FLOAT: 'float32',
  MET_DOUBLE: 'float64',
};

/** A header longer than this without an ElementDataFile line is not a MetaImage header. */
const MAX_HEADER_BYTES = 1 << 20;

/** The fields of a MetaImage header that the reader uses, checked. */
export interface MetaImageHeader {
  datatype: ScalarDatatype;
  /** DimSize: 3 spatial sizes, and a 4th for a series or for the values of a vector image. */
  sizes: number[];
  /** ElementNumberOfChannels > 1: the frames are the values of each voxel, stored interleaved. */
  interleaved: boolean;
  compressed: boolean;
  /** CompressedDataSize, when the header gives it. */
  compressedBytes: number | null;
  littleEndian: boolean;
  /** Voxel → RAS world (mm), row-major 4×4. */
  affine: Float64Array;
  /** The data file's path; null for LOCAL (the data follow the header). */
  dataFile: string | null;
  /** HeaderSize: bytes to skip in the data file; -1: the data are its last bytes. */
  headerSize: number;
}

/**
 * Parses the text of a MetaImage header (up to and including its ElementDataFile line).
 * `filePath` is for messages and the data file.
 */
export function parseMetaImageHeader(text: string, filePath: string): MetaImageHeader {
  const fail = (problem: string): never => {
    throw new NiftiReadError(filePath, problem);
  };
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const at = line.indexOf('=');
    if (at < 0) fail(`the header line "${line.slice(0, 60)}" is not a "Key = Value" line, so this is not a MetaImage header`);
    fields.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  const first = (...names: string[]): string | undefined => names.map((n) => fields.get(n)).find((v) => v !== undefined);
  const field = (name: string): string => fields.get(name.toLowerCase()) ?? fail(`the header has no ${name}`);
  const flag = (name: string): boolean => /^(t|1)/i.test(fields.get(name) ?? 'false');
  const numbers = (name: string, value: string, count: number): number[] => {
    const v = value.split(/\s+/).map(Number);
    if (v.length !== count || !v.every(Number.isFinite)) fail(`${name} = ${value.slice(0, 80)} does not give ${count} numbers`);
    return v;
  };

  const objectType = fields.get('objecttype') ?? 'Image';
  if (objectType.toLowerCase() !== 'image') fail(`ObjectType is ${objectType}; only images are read`);
  const nDims = Number(field('NDims'));
  if (nDims !== 3 && nDims !== 4) fail(`it has ${field('NDims')} dimensions (NDims); Lesion Lab reads 3-D volumes and 4-D series`);
  const sizes = numbers('DimSize', field('DimSize'), nDims);
  if (!sizes.every((n) => Number.isInteger(n) && n > 0)) fail(`DimSize = ${field('DimSize')} does not give ${nDims} positive whole numbers`);
  const typeName = field('ElementType').toUpperCase();
  const datatype = META_TYPES[typeName] ?? fail(`ElementType ${typeName} is not read (8-, 16- and 32-bit integers, MET_FLOAT and MET_DOUBLE are; vector types are not)`);
  // Several values per voxel (a vector or RGB image) are read as interleaved frames.
  const channels = Number(fields.get('elementnumberofchannels') ?? 1);
  if (!Number.isInteger(channels) || channels < 1) fail(`ElementNumberOfChannels = ${fields.get('elementnumberofchannels')} is not a positive whole number`);
  if (channels > 1 && nDims === 4) fail(`it is a 4-D series with ${channels} values per voxel; one of the two is read`);
  if (fields.has('binarydata') && !flag('binarydata')) fail('its voxels are stored as text (BinaryData = False), which is not read');
  const msb = flag('binarydatabyteordermsb') || flag('elementbyteordermsb');

  // Geometry, in LPS: x = R · diag(spacing) · index + offset, R's columns the axes' directions.
  const spacingText = first('elementspacing', 'elementsize');
  const spacing = spacingText === undefined ? sizes.map(() => 1) : numbers('ElementSpacing', spacingText, nDims);
  if (!spacing.slice(0, 3).every((s) => s > 0)) fail(`ElementSpacing = ${spacingText} has a spacing that is not positive`);
  const offsetText = first('offset', 'position', 'origin');
  const offset = offsetText === undefined ? sizes.map(() => 0) : numbers('Offset', offsetText, nDims);
  const matrixText = first('transformmatrix', 'rotation', 'orientation');
  const matrix = matrixText === undefined ? null : numbers('TransformMatrix', matrixText, nDims * nDims);
  const direction = (axis: number, w: number): number => (matrix === null ? (axis === w ? 1 : 0) : matrix[axis * nDims + w]);
  if (nDims === 4 && [0, 1, 2].some((w) => direction(3, w) !== 0 || direction(w, 3) !== 0)) {
    fail('its fourth axis is mixed with the spatial ones in TransformMatrix; only a series over time is read as 4-D');
  }
  const affine = new Float64Array(16);
  const lpsToRas = [-1, -1, 1];
  for (let w = 0; w < 3; w++) {
    // + 0: no −0 from flipping a zero.
    for (let a = 0; a < 3; a++) affine[4 * w + a] = lpsToRas[w] * direction(a, w) * spacing[a] + 0;
    affine[4 * w + 3] = lpsToRas[w] * offset[w] + 0;
  }
  affine[15] = 1;
  const problem = affineProblem(affine, 'sform');
  if (problem) fail(problem.replace('the sform affine', 'its TransformMatrix and ElementSpacing').replace(/ \(check pixdim\[\d\]\)/, ''));

  const dataFileName = field('ElementDataFile');
  if (/^list$/i.test(dataFileName) || dataFileName.includes('%')) fail(`ElementDataFile = ${dataFileName} names several files; one data file is read`);
  const dataFile = dataFileName.toUpperCase() === 'LOCAL' ? null : isAbsolute(dataFileName) ? dataFileName : join(dirname(filePath), dataFileName);
  const compressed = flag('compresseddata');
  const compressedText = fields.get('compresseddatasize');
  const compressedBytes = compressed && compressedText !== undefined ? Number(compressedText) : null;
  if (compressedBytes !== null && !(Number.isInteger(compressedBytes) && compressedBytes > 0)) fail(`CompressedDataSize = ${compressedText} is not a positive whole number`);
  const headerSize = Number(fields.get('headersize') ?? 0);
  if (!Number.isInteger(headerSize) || headerSize < -1) fail(`HeaderSize = ${fields.get('headersize')} must be a whole number ≥ -1`);
  if (dataFile === null && headerSize !== 0) fail('HeaderSize is set, but the data follow the header (ElementDataFile = LOCAL)');
  if (compressed && headerSize === -1) fail('HeaderSize = -1 (the data at the end of the file) cannot locate compressed data');
  return { datatype, sizes: channels > 1 ? [...sizes, channels] : sizes, interleaved: channels > 1, compressed, compressedBytes, littleEndian: !msb, affine, dataFile, headerSize };
}

/** The header text up to and including the ElementDataFile line, and where the data begin. */
function splitHeader(bytes: Uint8Array, filePath: string): { text: string; dataStart: number } {
  const limit = Math.min(bytes.length, MAX_HEADER_BYTES);
  for (let start = 0; start < limit; ) {
    let end = start;
    while (end < bytes.length && bytes[end] !== 0x0a) end++;
    const line = Buffer.from(bytes.subarray(start, end)).toString('latin1');
    if (/^\s*ElementDataFile\s*=/i.test(line)) return { text: Buffer.from(bytes.subarray(0, end)).toString('latin1'), dataStart: Math.min(end + 1, bytes.length) };
    if (start === 0 && !/^\s*[A-Za-z_][\w ]*=/.test(line)) break;
    start = end + 1;
  }
  throw new NiftiReadError(filePath, 'it has no "ElementDataFile = …" line ending a "Key = Value" header, so it is not a MetaImage file');
}

/**
 * Reads a MetaImage volume (`frame` of a 4-D series, default 0).
 * @throws NiftiReadError naming the file and the problem: not MetaImage, an unsupported type or
 *   layout, unusable geometry, damaged compression, or data of the wrong length.
 */
export async function readMetaImage(filePath: string, opts: { frame?: number } = {}): Promise<NiftiImage> {
  const bytes = await readFileBytes(filePath);
  const { text, dataStart } = splitHeader(bytes, filePath);
  const h = parseMetaImageHeader(text, filePath);
  const dataPath = h.dataFile ?? filePath;
  let data = h.dataFile === null ? bytes.subarray(dataStart) : await readFileBytes(h.dataFile);
  const expected = h.sizes.reduce((n, size) => n * size, 1) * SCALAR_BYTES[h.datatype];
  if (h.headerSize === -1) data = data.subarray(Math.max(0, data.length - expected));
  else data = data.subarray(h.headerSize);
  if (h.compressed) {
    if (h.compressedBytes !== null) {
      if (data.length < h.compressedBytes) throw new NiftiReadError(dataPath, `the compressed data hold ${data.length} bytes, fewer than the ${h.compressedBytes} of CompressedDataSize, so the file is truncated`);
      data = data.subarray(0, h.compressedBytes);
    }
    data = isGzip(data) ? await gunzipWhole(data, dataPath) : await inflateWhole(data, dataPath, expected);
  }
  if (data.length !== expected) {
    throw new NiftiReadError(dataPath, `the ${h.compressed ? 'decompressed ' : ''}data hold ${data.length} bytes, but ${h.sizes.join('×')} ${h.datatype} voxels need ${expected}`);
  }
  return imageOfFrame(filePath, { ...h, description: 'MetaImage', dataFilePath: h.dataFile }, data, opts.frame);
}
