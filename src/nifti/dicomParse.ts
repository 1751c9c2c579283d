// parseDicom: the bytes of one DICOM file → its data elements, sequences included, with the pixel
// data's frames (native, or decoded: RLE Lossless, JPEG Lossless, JPEG-LS and lossy JPEG here, JPEG
// 2000 and HTJ2K by WebAssembly codecs). Part 10 files (preamble, "DICM", file meta) and bare
// data sets without them; explicit or implicit VR, little- or big-endian, deflated. Other compressed
// transfer syntaxes (MPEG, HEVC, …) are named and refused.
import { inflateRawSync } from 'node:zlib';
import { decodeJpegBaseline } from './jpegBaseline';
import { decodeJpegLossless, JpegError } from './jpegLossless';
import { decodeJpegLs, JpegLsError } from './jpegLs';
import { decodeWasmFrame, WasmCodecError, type WasmCodecKind } from './wasmCodecs';

/** A DICOM file could not be parsed: `problem` is a phrase for a message that names the file. */
export class DicomParseError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'DicomParseError';
  }
}

/** One data element: its VR (as stored, or from the few tags this reader needs when implicit). */
export interface DicomElement {
  vr: string;
  /** The value's bytes (a view into the file); empty for sequences and encapsulated data. */
  bytes: Uint8Array;
  /** Items of a sequence (SQ). */
  items?: DicomDataSet[];
  /** Fragments of encapsulated pixel data, basic offset table first. */
  fragments?: Uint8Array[];
}

/** The elements of a data set by tag (group << 16 | element), and how its values are stored. */
export interface DicomDataSet {
  elements: Map<number, DicomElement>;
  littleEndian: boolean;
}

/** A parsed file: its data set and transfer syntax. */
export interface DicomFile extends DicomDataSet {
  transferSyntax: string;
  /** True when the file began with the 128-byte preamble and "DICM". */
  part10: boolean;
}

export const TAG = {
  transferSyntax: 0x00020010,
  sopClass: 0x00080016,
  sopInstanceUid: 0x00080018,
  studyUid: 0x0020000d,
  frameOfReferenceUid: 0x00200052,
  modality: 0x00080060,
  seriesDescription: 0x0008103e,
  sliceThickness: 0x00180050,
  spacingBetweenSlices: 0x00180088,
  seriesUid: 0x0020000e,
  seriesNumber: 0x00200011,
  instanceNumber: 0x00200013,
  imagePosition: 0x00200032,
  imageOrientation: 0x00200037,
  samplesPerPixel: 0x00280002,
  photometric: 0x00280004,
  numberOfFrames: 0x00280008,
  rows: 0x00280010,
  columns: 0x00280011,
  pixelSpacing: 0x00280030,
  bitsAllocated: 0x00280100,
  bitsStored: 0x00280101,
  pixelRepresentation: 0x00280103,
  rescaleIntercept: 0x00281052,
  rescaleSlope: 0x00281053,
  lossyImageCompression: 0x00282110,
  lossyImageCompressionRatio: 0x00282112,
  units: 0x00541001,
  decayCorrection: 0x00541102,
  patientWeight: 0x00101030,
  seriesDate: 0x00080021,
  seriesTime: 0x00080031,
  acquisitionDate: 0x00080022,
  acquisitionTime: 0x00080032,
  radiopharmaceuticalInfoSeq: 0x00540016,
  radiopharmaceuticalStartTime: 0x00181072,
  radiopharmaceuticalStartDateTime: 0x00181078,
  radionuclideTotalDose: 0x00181074,
  radionuclideHalfLife: 0x00181075,
  gridFrameOffsets: 0x3004000c,
  doseGridScaling: 0x3004000e,
  sharedGroups: 0x52009229,
  perFrameGroups: 0x52009230,
  planePositionSeq: 0x00209113,
  planeOrientationSeq: 0x00209116,
  pixelMeasuresSeq: 0x00289110,
  pixelValueTransformSeq: 0x00289145,
  pixelData: 0x7fe00010,
  item: 0xfffee000,
  itemEnd: 0xfffee00d,
  sequenceEnd: 0xfffee0dd,
} as const;

/** VRs needed to read implicit-VR files: the sequences this reader enters, and the pixel data. */
const IMPLICIT_VR = new Map<number, string>([
  [TAG.sharedGroups, 'SQ'],
  [TAG.perFrameGroups, 'SQ'],
  [TAG.planePositionSeq, 'SQ'],
  [TAG.planeOrientationSeq, 'SQ'],
  [TAG.pixelMeasuresSeq, 'SQ'],
  [TAG.pixelValueTransformSeq, 'SQ'],
  [TAG.radiopharmaceuticalInfoSeq, 'SQ'],
  [0x00620002, 'SQ'], // SegmentSequence
  [0x0062000a, 'SQ'], // SegmentIdentificationSequence
  [0x30060020, 'SQ'], // StructureSetROISequence
  [0x30060039, 'SQ'], // ROIContourSequence
  [0x30060040, 'SQ'], // ContourSequence
  [TAG.pixelData, 'OW'],
  [TAG.rows, 'US'],
  [TAG.columns, 'US'],
  [TAG.samplesPerPixel, 'US'],
  [TAG.bitsAllocated, 'US'],
  [TAG.bitsStored, 'US'],
  [TAG.pixelRepresentation, 'US'],
]);

/** VRs whose explicit length field is 4 bytes after 2 reserved ones. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

const SYNTAX = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  bigEndian: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  htj2kLossless: '1.2.840.10008.1.2.4.201',
  htj2kLosslessRpcl: '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
} as const;


/** The lossy transfer syntaxes, by name. */
const LOSSY_SYNTAX: Record<string, string> = {
  [SYNTAX.jpegBaseline]: 'JPEG baseline',
  [SYNTAX.jpegExtended]: 'JPEG extended',
  [SYNTAX.jpegLsNearLossless]: 'JPEG-LS near-lossless',
  [SYNTAX.jpeg2000]: 'JPEG 2000',
  [SYNTAX.htj2k]: 'HTJ2K',
};

/**
 * Why the pixel data of these files are not what the scanner produced, or undefined: a lossy
 * transfer syntax, or Lossy Image Compression (0028,2110) "01" (lost before, e.g. by a PACS), with
 * the largest ratio recorded.
 */
export function lossyCompressionNote(files: readonly DicomFile[]): string | undefined {
  const how = new Set<string>();
  let ratio = 0;
  for (const f of files) {
    const syntax = LOSSY_SYNTAX[f.transferSyntax];
    if (syntax) how.add(syntax);
    if (str(f, TAG.lossyImageCompression) === '01') {
      if (!syntax) how.add('earlier lossy compression');
      for (const r of numbers(f, TAG.lossyImageCompressionRatio)) if (Number.isFinite(r) && r > ratio) ratio = r;
    }
  }
  if (how.size === 0) return undefined;
  return `${[...how].join(', ')}${ratio > 0 ? `, ratio up to ${ratio.toFixed(1)}:1` : ''}`;
}

/** Names of the compressed transfer syntaxes this reader refuses, for the message. */
function compressedSyntaxName(uid: string): string | undefined {
  if ((Object.values(SYNTAX) as string[]).includes(uid)) return undefined; // decoded here
  if (uid === '1.2.840.10008.1.2.4.92' || uid === '1.2.840.10008.1.2.4.93') return 'JPEG 2000 Part 2 (multi-component)';
  if (/^1\.2\.840\.10008\.1\.2\.4\.10[0-9]$/.test(uid)) return 'MPEG video';
  if (uid.startsWith('1.2.840.10008.1.2.4.')) return 'compressed';
  return undefined;
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
    readonly explicit: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new DicomParseError(`the file ends inside a data element (at byte ${this.pos} of ${this.bytes.length}): it is truncated`);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, this.littleEndian);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, this.littleEndian);
    this.pos += 4;
    return v;
  }
  tag(): number {
    const group = this.u16();
    return ((group << 16) | this.u16()) >>> 0;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const part = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return part;
  }
}

/** Reads elements until `end` (exclusive) or an item/sequence delimiter, which is consumed. */
function readDataSet(r: Reader, end: number, stopAtItemEnd: boolean): DicomDataSet {
  const elements = new Map<number, DicomElement>();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === TAG.itemEnd || tag === TAG.sequenceEnd) {
      r.u32();
      if (stopAtItemEnd) break;
      continue;
    }
    // Item and delimitation tags carry no VR even in explicit syntaxes.
    let vr: string;
    let length: number;
    if (r.explicit) {
      const b = r.take(2);
      vr = String.fromCharCode(b[0], b[1]);
      if (!/^[A-Z]{2}$/.test(vr)) throw new DicomParseError(`element (${hex(tag)}) has no valid value representation ("${vr}"): not explicit-VR DICOM as the file says`);
      if (LONG_VRS.has(vr)) {
        r.take(2);
        length = r.u32();
      } else length = r.u16();
    } else {
      vr = IMPLICIT_VR.get(tag) ?? 'UN';
      length = r.u32();
    }
    if (tag === TAG.pixelData && length === UNDEFINED) {
      elements.set(tag, { vr, bytes: new Uint8Array(0), fragments: readFragments(r) });
      continue;
    }
    if (vr === 'SQ' || (length === UNDEFINED && vr === 'UN')) {
      // An explicit-VR UN of undefined length is a sequence encoded in implicit VR (PS3.5 6.2.2).
      const itemReader = vr === 'UN' && r.explicit ? new Reader(r.bytes, r.littleEndian, false) : r;
      itemReader.pos = r.pos;
      const items = readItems(itemReader, length);
      r.pos = itemReader.pos;
      elements.set(tag, { vr: 'SQ', bytes: new Uint8Array(0), items });
      continue;
    }
    if (length === UNDEFINED) throw new DicomParseError(`element (${hex(tag)}) of VR ${vr} has an undefined length`);
    elements.set(tag, { vr, bytes: r.take(length) });
  }
  return { elements, littleEndian: r.littleEndian };
}

function readItems(r: Reader, length: number): DicomDataSet[] {
  const end = length === UNDEFINED ? r.bytes.length : r.pos + length;
  const items: DicomDataSet[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    const itemLength = r.u32();
    if (tag === TAG.sequenceEnd) break;
    if (tag !== TAG.item) throw new DicomParseError(`a sequence holds (${hex(tag)}) where an item should be`);
    if (itemLength === UNDEFINED) items.push(readDataSet(r, r.bytes.length, true));
    else {
      r.need(itemLength);
      items.push(readDataSet(r, r.pos + itemLength, false));
    }
  }
  return items;
}

function readFragments(r: Reader): Uint8Array[] {
  const fragments: Uint8Array[] = [];
  for (;;) {
    const tag = r.tag();
    const length = r.u32();
    if (tag === TAG.sequenceEnd) return fragments;
    if (tag !== TAG.item || length === UNDEFINED) throw new DicomParseError('the encapsulated pixel data are malformed');
    fragments.push(r.take(length));
  }
}

function hex(tag: number): string {
  return `${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')}`.toUpperCase();
}

/** True when the bytes start like a DICOM file: a Part 10 preamble, or a bare group-0002/0008 data set. */
export function looksLikeDicom(bytes: Uint8Array): boolean {
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return true;
  if (bytes.length < 8) return false;
  const groupLE = bytes[0] | (bytes[1] << 8);
  const groupBE = (bytes[0] << 8) | bytes[1];
  return groupLE === 0x0002 || groupLE === 0x0008 || groupBE === 0x0008;
}

/**
 * Parses a DICOM file.
 * @throws DicomParseError when the bytes are not DICOM, are truncated, or use a transfer syntax
 *   this reader does not decode.
 */
export function parseDicom(bytes: Uint8Array): DicomFile {
  if (!looksLikeDicom(bytes)) throw new DicomParseError('not a DICOM file (no "DICM" marker after the 128-byte preamble, and no DICOM data set at the start)');
  const part10 = bytes.length >= 132 && bytes[128] === 0x44 && bytes[131] === 0x4d;
  let pos = part10 ? 132 : 0;
  let transferSyntax: string | undefined;
  const meta = new Reader(bytes, true, true);
  meta.pos = pos;
  // The file meta group is always explicit VR little-endian.
  if (bytes.length >= pos + 2 && (bytes[pos] | (bytes[pos + 1] << 8)) === 0x0002) {
    while (meta.pos + 2 <= bytes.length && (bytes[meta.pos] | (bytes[meta.pos + 1] << 8)) === 0x0002) {
      const one = readOneElement(meta);
      if (one.tag === TAG.transferSyntax) transferSyntax = text(one.bytes);
    }
    pos = meta.pos;
  }
  if (transferSyntax === undefined) transferSyntax = guessSyntax(bytes, pos);
  const compressed = compressedSyntaxName(transferSyntax);
  if (compressed) {
    throw new DicomParseError(
      `its pixel data are ${compressed} compressed (transfer syntax ${transferSyntax}), which Lesion Lab does not decode (it decodes RLE, JPEG Lossless, JPEG-LS, JPEG 2000, HTJ2K and lossy JPEG); convert the series to uncompressed DICOM (gdcmconv --raw) or to NIfTI (dcm2niix) first`,
    );
  }
  let body = bytes.subarray(pos);
  if (transferSyntax === SYNTAX.deflated) {
    try {
      body = new Uint8Array(inflateRawSync(body));
    } catch {
      throw new DicomParseError('its deflated data set could not be inflated: the file is damaged');
    }
  }
  const known = Object.values(SYNTAX) as string[];
  if (!known.includes(transferSyntax)) throw new DicomParseError(`its transfer syntax ${transferSyntax} is not one Lesion Lab reads (uncompressed, deflated, RLE Lossless, JPEG Lossless, JPEG-LS, JPEG 2000, HTJ2K or lossy JPEG)`);
  const r = new Reader(body, transferSyntax !== SYNTAX.bigEndian, transferSyntax !== SYNTAX.implicit);
  const ds = readDataSet(r, body.length, false);
  return { ...ds, transferSyntax, part10 };
}

function readOneElement(r: Reader): { tag: number; bytes: Uint8Array } {
  const tag = r.tag();
  const vrBytes = r.take(2);
  const vr = String.fromCharCode(vrBytes[0], vrBytes[1]);
  let length: number;
  if (LONG_VRS.has(vr)) {
    r.take(2);
    length = r.u32();
  } else length = r.u16();
  return { tag, bytes: r.take(length) };
}

/** The transfer syntax of a data set without file meta: explicit when a VR follows the first tag. */
function guessSyntax(bytes: Uint8Array, pos: number): string {
  const bigEndian = bytes[pos] === 0x00 && bytes[pos + 1] === 0x08;
  const vr = String.fromCharCode(bytes[pos + 4] ?? 0, bytes[pos + 5] ?? 0);
  if (/^[A-Z]{2}$/.test(vr)) return bigEndian ? SYNTAX.bigEndian : SYNTAX.explicit;
  return SYNTAX.implicit;
}

/** A text value without its padding (spaces, NULs). */
export function text(bytes: Uint8Array | undefined): string {
  if (!bytes) return '';
  return Buffer.from(bytes).toString('latin1').replace(/[\0\s]+$/, '').replace(/^\s+/, '');
}

/** The element's text, or '' when absent. */
export function str(ds: DicomDataSet, tag: number): string {
  return text(ds.elements.get(tag)?.bytes);
}

/** A decimal or integer string's numbers (DS, IS; values separated by "\"); [] when absent. */
export function numbers(ds: DicomDataSet, tag: number): number[] {
  const s = str(ds, tag);
  if (s === '') return [];
  return s.split('\\').map((v) => Number(v.trim()));
}

/** An unsigned short (US), or undefined when absent. */
export function ushort(ds: DicomDataSet, tag: number): number | undefined {
  const e = ds.elements.get(tag);
  if (!e) return undefined;
  if (e.vr !== 'US' && e.vr !== 'UN' && e.vr !== 'SS') return Number(text(e.bytes)) || undefined;
  if (e.bytes.length < 2) return undefined;
  return new DataView(e.bytes.buffer, e.bytes.byteOffset, 2).getUint16(0, ds.littleEndian);
}

/** The first item of a sequence, or undefined. */
export function firstItem(ds: DicomDataSet | undefined, tag: number): DicomDataSet | undefined {
  return ds?.elements.get(tag)?.items?.[0];
}

type FrameDecoder = (encoded: Uint8Array, samples: number, bytesPerSample: number) => Uint8Array;
const wasmDecoder = (kind: WasmCodecKind): FrameDecoder => (encoded, samples, bytesPerSample) => decodeWasmFrame(kind, encoded, samples, bytesPerSample);

/** The decoder of each encapsulated transfer syntax (little-endian samples out) and its name for messages. */
const FRAME_DECODERS: Record<string, { kind: string; decode: FrameDecoder }> = {
  [SYNTAX.rle]: { kind: 'RLE Lossless', decode: (encoded, samples, bytesPerSample) => decodeRle(encoded, samples * bytesPerSample, bytesPerSample) },
  [SYNTAX.jpegLossless]: { kind: 'JPEG Lossless', decode: decodeJpegLossless },
  [SYNTAX.jpegLosslessSv1]: { kind: 'JPEG Lossless', decode: decodeJpegLossless },
  [SYNTAX.jpegLs]: { kind: 'JPEG-LS', decode: decodeJpegLs },
  [SYNTAX.jpegLsNearLossless]: { kind: 'JPEG-LS', decode: decodeJpegLs },
  [SYNTAX.jpegBaseline]: { kind: 'JPEG', decode: decodeJpegBaseline },
  [SYNTAX.jpegExtended]: { kind: 'JPEG', decode: decodeJpegBaseline },
  [SYNTAX.jpeg2000Lossless]: { kind: 'JPEG 2000', decode: wasmDecoder('JPEG 2000') },
  [SYNTAX.jpeg2000]: { kind: 'JPEG 2000', decode: wasmDecoder('JPEG 2000') },
  [SYNTAX.htj2kLossless]: { kind: 'HTJ2K', decode: wasmDecoder('HTJ2K') },
  [SYNTAX.htj2kLosslessRpcl]: { kind: 'HTJ2K', decode: wasmDecoder('HTJ2K') },
  [SYNTAX.htj2k]: { kind: 'HTJ2K', decode: wasmDecoder('HTJ2K') },
};

/**
 * The pixel data of frame `frame` as raw bytes in the data set's byte order (native), or decoded
 * (FRAME_DECODERS) into little-endian bytes. `frameBytes` is rows × columns × bytes per pixel.
 */
export function frameBytes(file: DicomFile, frame: number, frameCount: number, frameLength: number, bytesPerSample: number): { bytes: Uint8Array; littleEndian: boolean } {
  const pixel = file.elements.get(TAG.pixelData);
  if (!pixel) throw new DicomParseError('it has no pixel data');
  const decoder = FRAME_DECODERS[file.transferSyntax];
  if (!decoder) {
    if (pixel.fragments) throw new DicomParseError('its pixel data are encapsulated, but its transfer syntax says they are not');
    const need = frameLength * frameCount;
    // Trailing bytes are padding (an odd length is padded to even; some writers pad more).
    if (pixel.bytes.length < need) {
      throw new DicomParseError(`its pixel data hold ${pixel.bytes.length} bytes, but ${frameCount} frame(s) of ${frameLength} bytes need ${need}`);
    }
    return { bytes: pixel.bytes.subarray(frame * frameLength, (frame + 1) * frameLength), littleEndian: file.littleEndian };
  }
  if (!pixel.fragments) throw new DicomParseError(`${decoder.kind} pixel data must be encapsulated`);
  const encoded = frameFragment(pixel.fragments, frame, frameCount, decoder.kind);
  try {
    return { bytes: decoder.decode(encoded, frameLength / bytesPerSample, bytesPerSample), littleEndian: true };
  } catch (e) {
    if (e instanceof JpegError || e instanceof JpegLsError || e instanceof WasmCodecError) throw new DicomParseError(`${e.message} (frame ${frame + 1})`);
    throw e;
  }
}

/**
 * The encoded bytes of frame `frame` of encapsulated pixel data: all fragments for a single frame,
 * else one fragment per frame, else the fragments between the basic offset table's offsets.
 */
function frameFragment(fragments: Uint8Array[], frame: number, frameCount: number, kind: string): Uint8Array {
  const [offsetTable, ...parts] = fragments;
  if (frameCount === 1) return concat(parts);
  if (parts.length === frameCount) return parts[frame];
  const view = new DataView(offsetTable.buffer, offsetTable.byteOffset, offsetTable.byteLength);
  if (offsetTable.length !== 4 * frameCount) throw new DicomParseError(`its ${kind} pixel data hold ${parts.length} fragment(s) for ${frameCount} frame(s) and no offset table to tell the frames apart`);
  // Offsets count each fragment's 8-byte item header too.
  const from = view.getUint32(4 * frame, true);
  const to = frame + 1 < frameCount ? view.getUint32(4 * frame + 4, true) : Infinity;
  const picked: Uint8Array[] = [];
  let at = 0;
  for (const part of parts) {
    if (at >= from && at < to) picked.push(part);
    at += 8 + part.length;
  }
  if (picked.length === 0) throw new DicomParseError(`its ${kind} offset table points frame ${frame + 1} at no fragment`);
  return concat(picked);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * DICOM RLE Lossless (PS3.5 G): a 64-byte header of segment offsets, one PackBits segment per byte
 * of a sample, most significant byte first. Returns little-endian samples.
 */
function decodeRle(encoded: Uint8Array, frameLength: number, bytesPerSample: number): Uint8Array {
  if (encoded.length < 64) throw new DicomParseError('its RLE frame is shorter than the RLE header');
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) throw new DicomParseError(`its RLE frame has ${segments} segment(s), but ${bytesPerSample}-byte grey samples need ${bytesPerSample}`);
  const pixels = frameLength / bytesPerSample;
  const out = new Uint8Array(frameLength);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : encoded.length;
    // Segment 0 is the most significant byte, which goes last in little-endian order.
    const byteIndex = bytesPerSample - 1 - s;
    let p = 0;
    let i = start;
    while (p < pixels && i < end) {
      const n = (encoded[i++] << 24) >> 24;
      if (n >= 0) {
        for (let c = 0; c <= n && p < pixels; c++) out[p++ * bytesPerSample + byteIndex] = encoded[i++];
      } else if (n !== -128) {
        const v = encoded[i++];
        for (let c = 0; c < 1 - n && p < pixels; c++) out[p++ * bytesPerSample + byteIndex] = v;
      }
    }
    if (p < pixels) throw new DicomParseError(`its RLE segment ${s + 1} decodes to ${p} of ${pixels} samples: the data are damaged`);
  }
  return out;
}
