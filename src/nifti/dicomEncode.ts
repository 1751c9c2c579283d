// A small DICOM writer: data sets of elements in explicit VR little endian, with sequences of
// defined length, as a Part 10 file (preamble, "DICM", file meta information). Enough for the
// objects Lesion Lab writes (DICOM SEG); values are given already as the VR wants them.
import { randomBytes } from 'node:crypto';

/** An element's value: text (string VRs; multiple values joined by "\"), numbers (US, UL, FD, AT as tags), bytes, or items (SQ). */
export type DicomValue = string | number[] | Uint8Array | DicomItem[];

/** A data set to encode: tag → [VR, value]. */
export type DicomItem = Map<number, [string, DicomValue]>;

/** VRs whose explicit length field is 4 bytes after 2 reserved ones. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Explicit VR Little Endian. */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** Lesion Lab's implementation class UID (a 2.25 UUID-derived root, fixed). */
const IMPLEMENTATION_CLASS_UID = '2.25.160370914962212855357592106536577370127';

/** A new unique identifier: "2.25." and a random 128-bit number (PS3.5 B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

/** A decimal string (DS) of at most 16 characters for `v`. */
export function decimalString(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`${v} cannot be a DICOM decimal string`);
  const plain = String(+v.toPrecision(12));
  if (plain.length <= 16) return plain;
  for (let digits = 11; digits > 0; digits--) {
    const s = String(+v.toPrecision(digits));
    if (s.length <= 16) return s;
  }
  return v.toExponential(6);
}

function valueBytes(tag: number, vr: string, value: DicomValue): Uint8Array {
  if (vr === 'SQ') {
    const items = (value as DicomItem[]).map((item) => {
      const body = encodeDataSet(item);
      const head = Buffer.alloc(8);
      head.writeUInt16LE(0xfffe, 0);
      head.writeUInt16LE(0xe000, 2);
      head.writeUInt32LE(body.length, 4);
      return Buffer.concat([head, body]);
    });
    return Buffer.concat(items);
  }
  if (value instanceof Uint8Array) return value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.alloc(1)]);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'latin1');
    return text.length % 2 === 0 ? text : Buffer.concat([text, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
  }
  const numbers = value as number[];
  if (vr === 'US') {
    const b = Buffer.alloc(2 * numbers.length);
    numbers.forEach((n, i) => b.writeUInt16LE(n, 2 * i));
    return b;
  }
  if (vr === 'UL') {
    const b = Buffer.alloc(4 * numbers.length);
    numbers.forEach((n, i) => b.writeUInt32LE(n, 4 * i));
    return b;
  }
  if (vr === 'FD') {
    const b = Buffer.alloc(8 * numbers.length);
    numbers.forEach((n, i) => b.writeDoubleLE(n, 8 * i));
    return b;
  }
  if (vr === 'AT') {
    const b = Buffer.alloc(4 * numbers.length);
    numbers.forEach((t, i) => {
      b.writeUInt16LE(t >>> 16, 4 * i);
      b.writeUInt16LE(t & 0xffff, 4 * i + 2);
    });
    return b;
  }
  throw new RangeError(`element (${tag.toString(16)}): numbers cannot be written as VR ${vr}`);
}

/** Encodes a data set in explicit VR little endian, elements in ascending tag order. */
export function encodeDataSet(item: DicomItem): Buffer {
  const parts: Buffer[] = [];
  for (const tag of [...item.keys()].sort((a, b) => a - b)) {
    const [vr, value] = item.get(tag) as [string, DicomValue];
    const bytes = valueBytes(tag, vr, value);
    const head = Buffer.alloc(LONG_VRS.has(vr) ? 12 : 8);
    head.writeUInt16LE(tag >>> 16, 0);
    head.writeUInt16LE(tag & 0xffff, 2);
    head.write(vr, 4, 'latin1');
    if (LONG_VRS.has(vr)) head.writeUInt32LE(bytes.length, 8);
    else {
      if (bytes.length > 0xffff) throw new RangeError(`element (${tag.toString(16)}) is too long for VR ${vr}`);
      head.writeUInt16LE(bytes.length, 6);
    }
    parts.push(head, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return Buffer.concat(parts);
}

/** A Part 10 file: preamble, "DICM", file meta information (group 2) and the data set. */
export function encodePart10(dataSet: DicomItem, sopClassUid: string, sopInstanceUid: string): Buffer {
  const meta: DicomItem = new Map([
    [0x00020001, ['OB', new Uint8Array([0, 1])]],
    [0x00020002, ['UI', sopClassUid]],
    [0x00020003, ['UI', sopInstanceUid]],
    [0x00020010, ['UI', EXPLICIT_VR_LITTLE_ENDIAN]],
    [0x00020012, ['UI', IMPLEMENTATION_CLASS_UID]],
    [0x00020013, ['SH', 'LESIONLAB']],
  ]);
  const metaBody = encodeDataSet(meta);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(metaBody.length, 0);
  const groupLength = encodeDataSet(new Map([[0x00020000, ['UL', length]]]));
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, metaBody, encodeDataSet(dataSet)]);
}
