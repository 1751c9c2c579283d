// The postMessage form of a label edit (WireLabelDelta): converting a LabelDelta to plain
// ArrayBuffers and back, with validation of what arrives. Pure: no vscode, no DOM, no Node APIs.

import { LabelDeltaError, validateDelta, type LabelBits, type LabelDelta } from './labelDelta';

/**
 * A {@link LabelDelta} as it travels through `postMessage`: plain ArrayBuffers (VS Code
 * transfers these efficiently; typed-array views over pooled buffers would leak or be mangled).
 */
export interface WireLabelDelta {
  /** Uint32 [start, length] pairs. */
  runs: ArrayBuffer;
  /** Uint8 or Uint16 values, per `bits`. */
  before: ArrayBuffer;
  after: ArrayBuffer;
  bits: LabelBits;
}

function copyToArrayBuffer(view: ArrayBufferView): ArrayBuffer {
  // A fresh buffer holding exactly this view: never post a pooled or shared backing store.
  const out = new ArrayBuffer(view.byteLength);
  new Uint8Array(out).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return out;
}

/** Converts a delta to its postMessage form (fresh ArrayBuffers, safe to transfer). */
export function deltaToWire(delta: LabelDelta): WireLabelDelta {
  const bits: LabelBits = delta.before instanceof Uint16Array || delta.after instanceof Uint16Array ? 16 : 8;
  const before = bits === 16 && !(delta.before instanceof Uint16Array) ? Uint16Array.from(delta.before) : delta.before;
  const after = bits === 16 && !(delta.after instanceof Uint16Array) ? Uint16Array.from(delta.after) : delta.after;
  return { runs: copyToArrayBuffer(delta.runs), before: copyToArrayBuffer(before), after: copyToArrayBuffer(after), bits };
}

/**
 * Reads binary data that crossed postMessage. Accepts an ArrayBuffer, any typed array/DataView,
 * or — because some VS Code versions deliver webview→host ArrayBuffers as index-keyed objects
 * (microsoft/vscode#201933) — a plain array or `{ "0": n, "1": n, … }` of byte values.
 * Returns null when the value is none of these.
 */
export function bytesFromWire(value: unknown): Uint8Array | null {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  // Cross-realm ArrayBuffers (e.g. from a test harness) fail instanceof; check the tag.
  if (Object.prototype.toString.call(value) === '[object ArrayBuffer]') return new Uint8Array(value as ArrayBuffer);
  if (Array.isArray(value)) {
    const out = new Uint8Array(value.length);
    for (let n = 0; n < value.length; n++) {
      const b = value[n];
      if (typeof b !== 'number' || !(b >= 0 && b <= 255) || !Number.isInteger(b)) return null;
      out[n] = b;
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    const keys = Object.keys(rec);
    const out = new Uint8Array(keys.length);
    for (let n = 0; n < keys.length; n++) {
      const b = rec[String(n)];
      if (typeof b !== 'number' || !(b >= 0 && b <= 255) || !Number.isInteger(b)) return null;
      out[n] = b;
    }
    return out;
  }
  return null;
}

function alignedCopy(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/**
 * Converts a delta received over postMessage back to typed arrays and validates it.
 * @param voxelCount - when given, the delta must fit a volume of this many voxels.
 * @throws LabelDeltaError naming what is wrong.
 */
export function deltaFromWire(wire: unknown, voxelCount?: number): LabelDelta {
  if (wire === null || typeof wire !== 'object') throw new LabelDeltaError('label delta: expected an object with runs, before, after and bits');
  const w = wire as Record<string, unknown>;
  const bits = w.bits;
  if (bits !== 8 && bits !== 16) throw new LabelDeltaError(`label delta: bits must be 8 or 16, got ${String(bits)}`);
  const runsBytes = bytesFromWire(w.runs);
  const beforeBytes = bytesFromWire(w.before);
  const afterBytes = bytesFromWire(w.after);
  if (!runsBytes || !beforeBytes || !afterBytes) throw new LabelDeltaError('label delta: runs, before and after must be binary (ArrayBuffer)');
  if (runsBytes.byteLength % 8 !== 0) throw new LabelDeltaError(`label delta: runs is ${runsBytes.byteLength} bytes, not a whole number of uint32 pairs`);
  const valueBytes = bits / 8;
  if (beforeBytes.byteLength % valueBytes !== 0 || afterBytes.byteLength % valueBytes !== 0) {
    throw new LabelDeltaError(`label delta: value arrays are not a whole number of ${bits}-bit values`);
  }
  // Copy into fresh aligned buffers: a Uint32Array view needs 4-byte alignment.
  const runs = new Uint32Array(alignedCopy(runsBytes));
  const before = bits === 16 ? new Uint16Array(alignedCopy(beforeBytes)) : new Uint8Array(alignedCopy(beforeBytes));
  const after = bits === 16 ? new Uint16Array(alignedCopy(afterBytes)) : new Uint8Array(alignedCopy(afterBytes));
  const delta: LabelDelta = { runs, before, after };
  validateDelta(delta, voxelCount);
  return delta;
}
