// The DICOM codecs we do not write ourselves: JPEG 2000 (OpenJPEG) and High-Throughput JPEG 2000
// (OpenJPH), as the WebAssembly builds OHIF and Cornerstone use (@cornerstonejs/codec-*, MIT).
// Each is compiled and instantiated synchronously the first time a frame needs it (tens of
// milliseconds), so `frameBytes` stays synchronous. The .wasm files sit next to the bundle
// (scripts/build.mjs copies them) or, unbundled, in node_modules.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A frame one of these codecs could not decode; the message says why. */
export class WasmCodecError extends Error {
  override name = 'WasmCodecError';
}

/** The codecs, by the transfer syntaxes' family. */
export type WasmCodecKind = 'JPEG 2000' | 'HTJ2K';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}

interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

type DecoderClass = new () => EmscriptenDecoder;

interface CodecSpec {
  /** The Emscripten loader (CommonJS) and its .wasm, as the package exports them. */
  load: () => (arg: object) => unknown;
  wasmFile: string;
  wasmExport: string;
  className: string;
}

// Literal requires, so that esbuild bundles each loader.
/* eslint-disable @typescript-eslint/no-require-imports */
const SPECS: Record<WasmCodecKind, CodecSpec> = {
  'JPEG 2000': {
    load: () => require('@cornerstonejs/codec-openjpeg/decodewasmjs'),
    wasmFile: 'openjpegwasm_decode.wasm',
    wasmExport: '@cornerstonejs/codec-openjpeg/decodewasm',
    className: 'J2KDecoder',
  },
  HTJ2K: {
    load: () => require('@cornerstonejs/codec-openjph/wasmjs'),
    wasmFile: 'openjphjs.wasm',
    wasmExport: '@cornerstonejs/codec-openjph/wasm',
    className: 'HTJ2KDecoder',
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

const loaded = new Map<WasmCodecKind, DecoderClass>();

function decoderClass(kind: WasmCodecKind): DecoderClass {
  const have = loaded.get(kind);
  if (have) return have;
  const spec = SPECS[kind];
  const beside = join(__dirname, spec.wasmFile);
  let bytes: Buffer<ArrayBuffer>;
  try {
    bytes = readFileSync(existsSync(beside) ? beside : require.resolve(spec.wasmExport));
  } catch {
    throw new WasmCodecError(`the ${kind} decoder (${spec.wasmFile}) is missing from this installation`);
  }
  const module = new WebAssembly.Module(bytes);
  // Emscripten instantiates through this hook synchronously, so the decoder class is registered
  // on `arg` when the factory returns; the codecs' progress lines are not ours to print.
  const arg: Record<string, unknown> = {
    print() {},
    printErr() {},
    instantiateWasm(imports: WebAssembly.Imports, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
      const instance = new WebAssembly.Instance(module, imports);
      receive(instance, module);
      return instance.exports;
    },
  };
  void Promise.resolve(spec.load()(arg)).catch(() => undefined);
  const cls = arg[spec.className] as DecoderClass | undefined;
  if (typeof cls !== 'function') throw new WasmCodecError(`the ${kind} decoder did not start`);
  loaded.set(kind, cls);
  return cls;
}

/** Whether the stream ends with its end marker (FF D9, EOC), padding aside. */
function endsWithEndMarker(data: Uint8Array): boolean {
  let end = data.length;
  // An encapsulated fragment is padded to an even length (with 00), some writers pad more.
  while (end > 2 && data[end - 1] === 0x00) end--;
  return end >= 2 && data[end - 2] === 0xff && data[end - 1] === 0xd9;
}

/**
 * Decodes one grey-scale frame into `samples` little-endian samples of `bytesPerSample` bytes
 * (signed codestream values sign-extended to that width).
 * @throws WasmCodecError when the stream is truncated, damaged, not grey scale, or of another size.
 */
export function decodeWasmFrame(kind: WasmCodecKind, data: Uint8Array, samples: number, bytesPerSample: number): Uint8Array {
  // OpenJPEG decodes a truncated stream without a word (JPEG 2000 is meant to be read in part):
  // the missing end marker is what tells.
  if (!endsWithEndMarker(data)) throw new WasmCodecError(`its ${kind} frame is truncated (no end marker)`);
  const decoder = new (decoderClass(kind))();
  try {
    decoder.getEncodedBuffer(data.length).set(data);
    try {
      decoder.decode();
    } catch {
      throw new WasmCodecError(`its ${kind} frame could not be decoded: the data are damaged`);
    }
    const info = decoder.getFrameInfo();
    if (info.width === 0 || info.height === 0) throw new WasmCodecError(`its ${kind} frame could not be decoded: the data are damaged`);
    if (info.componentCount !== 1) throw new WasmCodecError(`its ${kind} frame has ${info.componentCount} colour components; Lesion Lab reads grey-scale images only`);
    // The HTJ2K build clamps every negative sample to 32767 (seen with OpenJPH's own streams, all
    // released versions): refused rather than read wrong.
    if (kind === 'HTJ2K' && info.isSigned) throw new WasmCodecError(`its HTJ2K frame holds signed samples, which the HTJ2K decoder cannot return intact; convert it to uncompressed DICOM or JPEG 2000 with a tool that decodes HTJ2K (e.g. OpenJPH's ojph_expand) first`);
    if (info.width * info.height !== samples) {
      throw new WasmCodecError(`its ${kind} frame is ${info.width}×${info.height} pixels, but the data set's rows and columns make ${samples}`);
    }
    const decodedBytes = info.bitsPerSample <= 8 ? 1 : 2;
    if (info.bitsPerSample > 16) throw new WasmCodecError(`its ${kind} frame has ${info.bitsPerSample}-bit samples; Lesion Lab reads up to 16`);
    if (decodedBytes > bytesPerSample) throw new WasmCodecError(`its ${kind} frame has ${info.bitsPerSample}-bit samples, more than the ${8 * bytesPerSample} bits the data set allocates`);
    const decoded = decoder.getDecodedBuffer();
    if (decoded.length < samples * decodedBytes) throw new WasmCodecError(`its ${kind} frame decoded to ${decoded.length} bytes, not ${samples * decodedBytes}`);
    if (decodedBytes === bytesPerSample) return decoded.slice(0, samples * decodedBytes);
    // Narrower samples than allocated (8-bit JPEG 2000 in 16-bit pixels): widen, keeping the sign.
    const out = new Uint8Array(samples * bytesPerSample);
    const view = new DataView(out.buffer);
    for (let s = 0; s < samples; s++) {
      const v = decodedBytes === 1 ? (info.isSigned ? (decoded[s] << 24) >> 24 : decoded[s]) : info.isSigned ? ((decoded[2 * s] | (decoded[2 * s + 1] << 8)) << 16) >> 16 : decoded[2 * s] | (decoded[2 * s + 1] << 8);
      if (bytesPerSample === 2) view.setInt16(2 * s, v, true);
      else view.setInt32(4 * s, v, true);
    }
    return out;
  } finally {
    decoder.delete();
  }
}
