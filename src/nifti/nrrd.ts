// readNrrd: NRRD volumes (.nrrd with the data attached, .nhdr with a detached data file), 3D
// Slicer's own format, read into the same validated NiftiImage as readNifti. The geometry (space
// directions and origin, in LPS, RAS or LAS) becomes a RAS affine and a NIfTI-1 header made from
// it (sform and, where the directions are orthogonal, qform), so that a mask written beside the
// image (writeMaskLike) is a NIfTI file on exactly its grid. Raw and gzip encodings; scalar
// volumes, series whose last axis is not spatial and vector volumes whose first axis is not (as 3D
// Slicer writes diffusion and RGB volumes), one frame or component at a time; nothing else is guessed.
import { dirname, isAbsolute, join } from 'node:path';
import { affineProblem } from './affine';
import { NiftiReadError } from './errors';
import { readFileBytes } from './fileBytes';
import { SCALAR_BYTES, type ScalarDatatype } from './decode';
import { gunzipWhole } from './gzip';
import { imageOfFrame } from './syntheticHeader';
import type { NiftiImage } from './types';

/** .nrrd (attached data) and .nhdr (detached header). */
export const NRRD_NAME = /\.(nrrd|nhdr)$/i;

/** NRRD type names (the standard's spellings) → NIfTI datatype. */
const NRRD_TYPES: Readonly<Record<string, ScalarDatatype>> = {
  'signed char': 'int8',
  int8: 'int8',
  int8_t: 'int8',
  uchar: 'uint8',
  'unsigned char': 'uint8',
  uint8: 'uint8',
  uint8_t: 'uint8',
  short: 'int16',
  'short int': 'int16',
  'signed short': 'int16',
  'signed short int': 'int16',
  int16: 'int16',
  int16_t: 'int16',
  ushort: 'uint16',
  'unsigned short': 'uint16',
  'unsigned short int': 'uint16',
  uint16: 'uint16',
  uint16_t: 'uint16',
  int: 'int32',
  'signed int': 'int32',
  int32: 'int32',
  int32_t: 'int32',
  uint: 'uint32',
  'unsigned int': 'uint32',
  uint32: 'uint32',
  uint32_t: 'uint32',
  float: 'float32',
  double: 'float64',
};


/** World spaces NRRD names, and the signs that take each to RAS. */
const SPACES: Readonly<Record<string, [number, number, number]>> = {
  'right-anterior-superior': [1, 1, 1],
  ras: [1, 1, 1],
  'left-anterior-superior': [-1, 1, 1],
  las: [-1, 1, 1],
  'left-posterior-superior': [-1, -1, 1],
  lps: [-1, -1, 1],
};

/** The fields of a NRRD header that the reader uses, checked. */
export interface NrrdHeader {
  datatype: ScalarDatatype;
  /** The three spatial sizes, then the number of frames (series or vector components), if any. */
  sizes: number[];
  /** The frames are a vector per voxel (the file's first axis), stored interleaved. */
  interleaved: boolean;
  encoding: 'raw' | 'gzip';
  littleEndian: boolean;
  /** Voxel → RAS world (mm), row-major 4×4, from the spatial axes (the first three). */
  affine: Float64Array;
  /** Set for a detached header: the data file's path. */
  dataFile: string | null;
  /** Lines of the data file to skip before the data (raw only). */
  lineSkip: number;
  /** Bytes to skip before the data; -1: the data are the file's last bytes (raw only). */
  byteSkip: number;
}

/** Parses the text of a NRRD header (up to its blank line). `filePath` is for messages and the data file. */
export function parseNrrdHeader(text: string, filePath: string): NrrdHeader {
  const fail = (problem: string): never => {
    throw new NiftiReadError(filePath, problem);
  };
  const lines = text.split(/\r?\n/);
  if (!/^NRRD000[1-5]$/.test(lines[0] ?? '')) fail('it does not start with a NRRD magic line ("NRRD0004"), so it is not a NRRD file');
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === '' || line.startsWith('#') || /^[^:]*:=/.test(line)) continue;
    const at = line.indexOf(': ');
    if (at < 0) fail(`the header line "${line.slice(0, 60)}" is not a "field: value" line`);
    fields.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 2).trim());
  }
  const field = (name: string): string => fields.get(name) ?? fail(`the header has no "${name}" field`);
  const typeName = field('type').toLowerCase();
  const datatype = NRRD_TYPES[typeName] ?? fail(`type "${typeName}" is not read (8-, 16- and 32-bit integers, float and double are)`);
  const dimension = Number(field('dimension'));
  if (dimension !== 3 && dimension !== 4) fail(`it has ${field('dimension')} dimensions; Lesion Lab reads 3-D volumes and 4-D series`);
  const sizes = field('sizes').split(/\s+/).map(Number);
  if (sizes.length !== dimension || !sizes.every((n) => Number.isInteger(n) && n > 0)) fail(`"sizes: ${field('sizes')}" does not give ${dimension} positive whole numbers`);
  const encodingName = field('encoding').toLowerCase();
  const encoding = encodingName === 'raw' ? 'raw' : encodingName === 'gzip' || encodingName === 'gz' ? 'gzip' : fail(`encoding "${encodingName}" is not read (raw and gzip are)`);
  const endianName = (fields.get('endian') ?? 'little').toLowerCase();
  if (SCALAR_BYTES[datatype] > 1 && endianName !== 'little' && endianName !== 'big') fail(`endian "${endianName}" is neither little nor big`);

  // Geometry: space directions (one vector per axis, "none" for a non-spatial one) and origin.
  const spaceName = (fields.get('space') ?? '').toLowerCase();
  const signs = spaceName === '' ? [1, 1, 1] : (SPACES[spaceName] ?? fail(`space "${spaceName}" is not read (RAS, LAS and LPS are)`));
  const vector = (s: string): number[] | null => {
    const m = /^\(([^)]*)\)$/.exec(s.trim());
    const v = m ? m[1].split(',').map(Number) : [];
    return v.length === 3 && v.every(Number.isFinite) ? v : null;
  };
  let directions: (number[] | null)[];
  const sd = fields.get('space directions');
  if (sd !== undefined) {
    const parts = sd.match(/\([^)]*\)|none/gi) ?? [];
    if (parts.length !== dimension) fail(`"space directions" gives ${parts.length} entries for ${dimension} axes`);
    directions = parts.map((p) => (p.toLowerCase() === 'none' ? null : (vector(p) ?? fail(`the space direction ${p} is not three numbers`))));
  } else {
    // Without directions, the spacings along each axis (NaN for a non-spatial one), on RAS axes.
    const sp = (fields.get('spacings') ?? Array(dimension).fill('1').join(' ')).split(/\s+/).map(Number);
    const spatialAxes = sizes.map((_, a) => a).filter((a) => Number.isFinite(sp[a])).slice(0, 3);
    directions = sizes.map((_, a) => {
      const w = spatialAxes.indexOf(a);
      return w < 0 ? null : [0, 1, 2].map((x) => (x === w ? sp[a] : 0));
    });
  }
  // Three spatial axes, then a series (frames one after the other); or a leading non-spatial axis
  // (a vector per voxel, as 3D Slicer writes diffusion and RGB volumes), read as interleaved frames.
  const interleaved = dimension === 4 && directions[0] === null && directions.slice(1).every((d) => d !== null);
  const spatial = interleaved ? directions.slice(1) : directions.slice(0, 3);
  if (!interleaved && (spatial.some((d) => d === null) || directions.slice(3).some((d) => d !== null))) {
    fail(`its axes are not three spatial ones with a series or vector axis before or after them (space directions ${sd ?? 'from spacings'})`);
  }
  const origin = fields.has('space origin') ? (vector(fields.get('space origin') as string) ?? fail(`"space origin: ${fields.get('space origin')}" is not three numbers`)) : [0, 0, 0];
  const units = fields.get('space units');
  if (units !== undefined && !(units.match(/"[^"]*"/g) ?? ['?']).every((u) => u.toLowerCase() === '"mm"')) fail(`space units ${units} are not millimetres`);
  const affine = new Float64Array(16);
  for (let w = 0; w < 3; w++) {
    // + 0: no −0 from flipping a zero.
    for (let a = 0; a < 3; a++) affine[4 * w + a] = signs[w] * (spatial[a] as number[])[w] + 0;
    affine[4 * w + 3] = signs[w] * origin[w] + 0;
  }
  affine[15] = 1;
  const problem = affineProblem(affine, 'sform');
  if (problem) fail(problem.replace('the sform affine', 'its space directions').replace(/ \(check pixdim\[\d\]\)/, ''));

  const dataFileName = fields.get('data file') ?? fields.get('datafile') ?? null;
  // "LIST" and the "<format with %d> <min> <max> <step>" form name several files.
  if (dataFileName !== null && (/^list$/i.test(dataFileName) || dataFileName.includes('%'))) fail(`"data file: ${dataFileName}" names several files; one data file is read`);
  const dataFile = dataFileName === null ? null : isAbsolute(dataFileName) ? dataFileName : join(dirname(filePath), dataFileName);
  const lineSkip = Number(fields.get('line skip') ?? fields.get('lineskip') ?? 0);
  const byteSkip = Number(fields.get('byte skip') ?? fields.get('byteskip') ?? 0);
  if (!Number.isInteger(lineSkip) || lineSkip < 0) fail(`"line skip" must be a whole number ≥ 0`);
  if (!Number.isInteger(byteSkip) || byteSkip < -1) fail(`"byte skip" must be a whole number ≥ -1`);
  if (encoding === 'gzip' && (lineSkip !== 0 || byteSkip !== 0)) fail('line or byte skips before gzip data are not read');
  return { datatype, sizes: interleaved ? [...sizes.slice(1), sizes[0]] : sizes, interleaved, encoding, littleEndian: endianName !== 'big', affine, dataFile, lineSkip, byteSkip };
}

/** The bytes of a NRRD file up to and including its header's blank line, and where the data begin. */
function splitHeader(bytes: Uint8Array): { text: string; dataStart: number } {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return { text: Buffer.from(bytes.subarray(0, i)).toString('latin1'), dataStart: i + 2 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { text: Buffer.from(bytes.subarray(0, i)).toString('latin1'), dataStart: i + 3 };
  }
  // A detached header may end without a blank line.
  return { text: Buffer.from(bytes).toString('latin1'), dataStart: bytes.length };
}

/**
 * Reads a NRRD volume (`frame` of a 4-D series, default 0).
 * @throws NiftiReadError naming the file and the problem: not NRRD, an unsupported type,
 *   encoding or layout, unusable geometry, or data of the wrong length.
 */
export async function readNrrd(filePath: string, opts: { frame?: number } = {}): Promise<NiftiImage> {
  const bytes = await readFileBytes(filePath);
  const { text, dataStart } = splitHeader(bytes);
  const h = parseNrrdHeader(text, filePath);
  const isDetached = /\.nhdr$/i.test(filePath);
  if (isDetached && h.dataFile === null) throw new NiftiReadError(filePath, 'a .nhdr header must name its "data file"');
  const dataPath = h.dataFile ?? filePath;
  let data = h.dataFile === null ? bytes.subarray(dataStart) : await readFileBytes(h.dataFile);
  const expected = h.sizes.reduce((n, size) => n * size, 1) * SCALAR_BYTES[h.datatype];
  if (h.encoding === 'gzip') {
    data = await gunzipWhole(data, dataPath);
  } else {
    for (let skipped = 0, i = 0; skipped < h.lineSkip; i++) {
      if (i >= data.length) throw new NiftiReadError(dataPath, `it has fewer than the ${h.lineSkip} lines the header says to skip`);
      if (data[i] === 0x0a) {
        skipped++;
        if (skipped === h.lineSkip) data = data.subarray(i + 1);
      }
    }
    if (h.byteSkip === -1) data = data.subarray(Math.max(0, data.length - expected));
    else data = data.subarray(h.byteSkip);
  }
  if (data.length !== expected) {
    throw new NiftiReadError(dataPath, `the data hold ${data.length} bytes, but ${h.sizes.join('×')} ${h.datatype} voxels need ${expected}`);
  }
  return imageOfFrame(filePath, { ...h, description: `NRRD ${text.split(/\r?\n/)[0]}`, dataFilePath: h.dataFile }, data, opts.frame);
}

