// Turns the raw bytes of one frame into a typed array: byte order, scaling, complex magnitude,
// RGB luminance, 64-bit and 128-bit types.
import { endianness } from 'node:os';
import type { NiftiDatatypeName, VoxelArray } from './types';

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** Bytes per stored element (per component for complex, per colour for RGB). */
const ELEMENT_BYTES: Record<NiftiDatatypeName, number> = {
  binary: 1,
  uint8: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
  float128: 16,
  complex64: 4,
  complex128: 8,
  complex256: 16,
  rgb24: 1,
  rgba32: 1,
};

export interface DecodedFrame {
  data: VoxelArray;
  rgb?: { channels: 3 | 4; bytes: Uint8Array };
}

/**
 * A byte-swapped (when needed) and aligned view of `raw`. Returns `raw`'s own memory when it is
 * already in host order and aligned (no copy), else a fresh copy.
 */
function hostOrderBytes(raw: Uint8Array, elementBytes: number, littleEndian: boolean, mayShare: boolean): Uint8Array {
  const needsSwap = elementBytes > 1 && littleEndian !== HOST_LITTLE_ENDIAN;
  if (!needsSwap) {
    if (mayShare && raw.byteOffset % Math.min(elementBytes, 8) === 0) return raw;
    return raw.slice();
  }
  const out = raw.slice();
  const asBuffer = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  if (elementBytes === 2) asBuffer.swap16();
  else if (elementBytes === 4) asBuffer.swap32();
  else asBuffer.swap64();
  return out;
}

function swapInPlace(bytes: Uint8Array, elementBytes: number): void {
  for (let at = 0; at < bytes.length; at += elementBytes) bytes.subarray(at, at + elementBytes).reverse();
}

/** Decodes an x87 80-bit extended float stored in the first 10 bytes (little-endian) at `at`. */
function readFloat80(view: DataView, at: number): number {
  const mantissaLow = view.getUint32(at, true);
  const mantissaHigh = view.getUint32(at + 4, true);
  const signExp = view.getUint16(at + 8, true);
  const sign = signExp & 0x8000 ? -1 : 1;
  const exponent = signExp & 0x7fff;
  const mantissa = mantissaHigh * 2 ** 32 + mantissaLow;
  if (exponent === 0x7fff) return (mantissaHigh & 0x7fffffff) === 0 && mantissaLow === 0 ? sign * Infinity : NaN;
  if (exponent === 0 && mantissa === 0) return sign * 0;
  return sign * mantissa * 2 ** (exponent - 16383 - 63);
}

/**
 * Decodes one frame.
 *
 * @param raw - exactly the frame's bytes.
 * @param datatype - stored datatype.
 * @param littleEndian - byte order of the file.
 * @param voxelCount - voxels in the frame.
 * @param slope - scl_slope; applied only when finite, non-zero and (slope, inter) ≠ (1, 0).
 * @param inter - scl_inter (non-finite is taken as 0 when the slope is valid, as SPM does).
 * @param mayShare - whether the result may alias `raw`'s memory (no copy).
 * @param bitStart - binary datatype only: index of the frame's first bit within `raw`.
 */
export function decodeFrame(
  raw: Uint8Array,
  datatype: NiftiDatatypeName,
  littleEndian: boolean,
  voxelCount: number,
  slope: number,
  inter: number,
  mayShare: boolean,
  bitStart = 0,
): DecodedFrame {
  const scaled = Number.isFinite(slope) && slope !== 0 && !(slope === 1 && (inter === 0 || !Number.isFinite(inter)));
  const intercept = Number.isFinite(inter) ? inter : 0;
  const elementBytes = ELEMENT_BYTES[datatype];
  let values: VoxelArray;
  let rgb: DecodedFrame['rgb'];

  switch (datatype) {
    case 'binary': {
      // One bit per voxel, most significant bit first (numpy's packbits order).
      const out = new Uint8Array(voxelCount);
      for (let i = 0; i < voxelCount; i++) {
        const bit = bitStart + i;
        out[i] = (raw[bit >> 3] >> (7 - (bit & 7))) & 1;
      }
      values = out;
      break;
    }
    case 'uint8':
      values = mayShare ? raw : raw.slice();
      break;
    case 'int8':
      values = mayShare ? new Int8Array(raw.buffer, raw.byteOffset, voxelCount) : new Int8Array(raw.slice().buffer);
      break;
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float32':
    case 'float64': {
      const bytes = hostOrderBytes(raw, elementBytes, littleEndian, mayShare);
      const Ctor = {
        int16: Int16Array,
        uint16: Uint16Array,
        int32: Int32Array,
        uint32: Uint32Array,
        float32: Float32Array,
        float64: Float64Array,
      }[datatype];
      values = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, voxelCount);
      break;
    }
    case 'int64':
    case 'uint64': {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out = new Float64Array(voxelCount);
      const signed = datatype === 'int64';
      for (let i = 0; i < voxelCount; i++) {
        out[i] = Number(signed ? view.getBigInt64(i * 8, littleEndian) : view.getBigUint64(i * 8, littleEndian));
      }
      values = out;
      break;
    }
    case 'float128': {
      const bytes = raw.slice();
      if (!littleEndian) swapInPlace(bytes, 16);
      const view = new DataView(bytes.buffer);
      const out = new Float64Array(voxelCount);
      for (let i = 0; i < voxelCount; i++) out[i] = readFloat80(view, i * 16);
      values = out;
      break;
    }
    case 'complex64':
    case 'complex128':
    case 'complex256': {
      // Complex voxels are shown as their magnitude |re + i·im|.
      const out = datatype === 'complex64' ? new Float32Array(voxelCount) : new Float64Array(voxelCount);
      if (datatype === 'complex256') {
        const bytes = raw.slice();
        if (!littleEndian) swapInPlace(bytes, 16);
        const view = new DataView(bytes.buffer);
        for (let i = 0; i < voxelCount; i++) out[i] = Math.hypot(readFloat80(view, i * 32), readFloat80(view, i * 32 + 16));
      } else {
        const bytes = hostOrderBytes(raw, elementBytes, littleEndian, false);
        const parts =
          datatype === 'complex64'
            ? new Float32Array(bytes.buffer, bytes.byteOffset, voxelCount * 2)
            : new Float64Array(bytes.buffer, bytes.byteOffset, voxelCount * 2);
        for (let i = 0; i < voxelCount; i++) out[i] = Math.hypot(parts[2 * i], parts[2 * i + 1]);
      }
      values = out;
      break;
    }
    case 'rgb24':
    case 'rgba32': {
      const channels = datatype === 'rgb24' ? 3 : 4;
      const bytes = raw.slice();
      // Luminance (ITU-R BT.601 weights) so that RGB volumes still have one scalar per voxel.
      const out = new Uint8Array(voxelCount);
      for (let i = 0, at = 0; i < voxelCount; i++, at += channels) {
        out[i] = Math.round(0.299 * bytes[at] + 0.587 * bytes[at + 1] + 0.114 * bytes[at + 2]);
      }
      values = out;
      rgb = { channels, bytes };
      // Colour data is never scaled.
      return { data: values, rgb };
    }
  }

  if (scaled) {
    const wide = values instanceof Float64Array;
    const out = wide ? new Float64Array(voxelCount) : new Float32Array(voxelCount);
    for (let i = 0; i < voxelCount; i++) out[i] = values[i] * slope + intercept;
    values = out;
  }
  return { data: values, rgb };
}

/** Datatypes stored as one plain number per voxel in other formats (NRRD, DICOM). */
export type ScalarDatatype = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/** Bytes per voxel of each {@link ScalarDatatype}. */
export const SCALAR_BYTES: Readonly<Record<ScalarDatatype, number>> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8 };

/** Voxels of one frame in the host's byte order; float (single) as Float32Array, double as Float64Array. */
export function decodeScalarVoxels(bytes: Uint8Array, datatype: ScalarDatatype, littleEndian: boolean): VoxelArray {
  const copy = new Uint8Array(bytes); // aligned, and the caller's buffer stays as it was
  const size = SCALAR_BYTES[datatype];
  const hostLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (size > 1 && littleEndian !== hostLittle) {
    const b = Buffer.from(copy.buffer);
    if (size === 2) b.swap16();
    else if (size === 4) b.swap32();
    else b.swap64();
  }
  const buf = copy.buffer;
  switch (datatype) {
    case 'int8':
      return new Int8Array(buf);
    case 'uint8':
      return new Uint8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'float32':
      return new Float32Array(buf);
    default:
      return new Float64Array(buf);
  }
}
