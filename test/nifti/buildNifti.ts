// Test helper: builds small NIfTI-1 / NIfTI-2 / Analyze files byte by byte, independently of the
// reader under test (offsets straight from nifti1.h / nifti2.h).
import { gzipSync } from 'node:zlib';

export interface BuildOptions {
  version?: 1 | 2 | 'analyze';
  littleEndian?: boolean;
  /** 'single' (n+1/n+2) or 'pair' (ni1/ni2: header only, data returned separately). */
  layout?: 'single' | 'pair';
  dim: number[]; // dim[1..]; dim[0] is its length
  datatype: number;
  bitpix: number;
  pixdim?: number[]; // pixdim[0..7]
  voxOffset?: number;
  sclSlope?: number;
  sclInter?: number;
  qformCode?: number;
  sformCode?: number;
  quatern?: [number, number, number];
  qoffset?: [number, number, number];
  srow?: number[]; // 12
  xyztUnits?: number;
  intentCode?: number;
  description?: string;
  /** Raw data bytes (already in the file's byte order). */
  data: Uint8Array;
  /** Extensions as [code, payload]; payload is padded to a multiple of 16 with its 8-byte head. */
  extensions?: [number, Uint8Array][];
  analyzeOrigin?: [number, number, number];
}

/** Returns { header, data } for pairs, or { file } (header + extensions + data) for single files. */
export function buildNifti(o: BuildOptions): { file: Uint8Array; header: Uint8Array; data: Uint8Array } {
  const version = o.version ?? 1;
  const le = o.littleEndian ?? true;
  const layout = version === 'analyze' ? 'pair' : (o.layout ?? 'single');
  const isV2 = version === 2;
  const headerSize = isV2 ? 540 : 348;
  const extBytes: Uint8Array[] = [];
  for (const [code, payload] of o.extensions ?? []) {
    const size = Math.ceil((payload.length + 8) / 16) * 16;
    const e = new Uint8Array(size);
    const v = new DataView(e.buffer);
    v.setInt32(0, size, le);
    v.setInt32(4, code, le);
    e.set(payload, 8);
    extBytes.push(e);
  }
  const extTotal = extBytes.reduce((s, e) => s + e.length, 0);
  const defaultOffset = layout === 'pair' ? 0 : headerSize + 4 + extTotal;
  const voxOffset = o.voxOffset ?? defaultOffset;
  const header = new Uint8Array(headerSize + 4 + extTotal);
  const v = new DataView(header.buffer);
  const dim = [o.dim.length, ...o.dim];
  while (dim.length < 8) dim.push(1);
  const pixdim = o.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1];
  const srow = o.srow ?? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const quatern = o.quatern ?? [0, 0, 0];
  const qoffset = o.qoffset ?? [0, 0, 0];
  const putString = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) header[at + i] = text.charCodeAt(i);
  };
  v.setInt32(0, headerSize, le);
  if (!isV2) {
    dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
    v.setInt16(68, o.intentCode ?? 0, le);
    v.setInt16(70, o.datatype, le);
    v.setInt16(72, o.bitpix, le);
    pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
    v.setFloat32(108, voxOffset, le);
    v.setFloat32(112, o.sclSlope ?? 0, le);
    v.setFloat32(116, o.sclInter ?? 0, le);
    v.setUint8(123, o.xyztUnits ?? 2);
    putString(148, o.description ?? '');
    if (version === 'analyze') {
      (o.analyzeOrigin ?? [0, 0, 0]).forEach((x, i) => v.setInt16(253 + 2 * i, x, le));
    } else {
      v.setInt16(252, o.qformCode ?? 0, le);
      v.setInt16(254, o.sformCode ?? 0, le);
      quatern.forEach((q, i) => v.setFloat32(256 + 4 * i, q, le));
      qoffset.forEach((q, i) => v.setFloat32(268 + 4 * i, q, le));
      srow.forEach((s, i) => v.setFloat32(280 + 4 * i, s, le));
      putString(344, layout === 'pair' ? 'ni1' : 'n+1');
    }
  } else {
    putString(4, layout === 'pair' ? 'ni2' : 'n+2');
    header.set([0x0d, 0x0a, 0x1a, 0x0a], 8);
    v.setInt16(12, o.datatype, le);
    v.setInt16(14, o.bitpix, le);
    dim.forEach((d, i) => v.setBigInt64(16 + 8 * i, BigInt(d), le));
    pixdim.forEach((p, i) => v.setFloat64(104 + 8 * i, p, le));
    v.setBigInt64(168, BigInt(voxOffset), le);
    v.setFloat64(176, o.sclSlope ?? 0, le);
    v.setFloat64(184, o.sclInter ?? 0, le);
    putString(240, o.description ?? '');
    v.setInt32(344, o.qformCode ?? 0, le);
    v.setInt32(348, o.sformCode ?? 0, le);
    quatern.forEach((q, i) => v.setFloat64(352 + 8 * i, q, le));
    qoffset.forEach((q, i) => v.setFloat64(376 + 8 * i, q, le));
    srow.forEach((s, i) => v.setFloat64(400 + 8 * i, s, le));
    v.setInt32(500, o.xyztUnits ?? 2, le);
    v.setInt32(504, o.intentCode ?? 0, le);
  }
  if (extBytes.length > 0) header[headerSize] = 1;
  let at = headerSize + 4;
  for (const e of extBytes) {
    header.set(e, at);
    at += e.length;
  }
  if (layout === 'pair') return { file: header, header, data: o.data };
  const file = new Uint8Array(Math.max(voxOffset, header.length) + o.data.length);
  file.set(header, 0);
  file.set(o.data, voxOffset);
  return { file, header, data: o.data };
}

/** gzip, for .gz variants. */
export function gzip(bytes: Uint8Array): Uint8Array {
  const gz = gzipSync(bytes);
  return new Uint8Array(gz.buffer as ArrayBuffer, gz.byteOffset, gz.byteLength);
}

/** Bytes of a typed array in the requested byte order. */
export function bytesOf(values: ArrayBufferView & { BYTES_PER_ELEMENT: number }, littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (!littleEndian && values.BYTES_PER_ELEMENT > 1) {
    const n = values.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += n) bytes.subarray(i, i + n).reverse();
  }
  return bytes;
}
