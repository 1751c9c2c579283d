// The postMessage form of a label delta: round trips, mangled transports, exact copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type LabelDelta } from '../../src/protocol/labelDelta';
import { bytesFromWire, deltaFromWire, deltaToWire } from '../../src/protocol/labelDeltaWire';

test('wire round trip, including index-keyed objects and misaligned views', () => {
  const d: LabelDelta = { runs: new Uint32Array([1, 2, 10, 1]), before: new Uint16Array([0, 0, 5]), after: new Uint16Array([300, 300, 0]) };
  const wire = deltaToWire(d);
  assert.ok(wire.runs instanceof ArrayBuffer);
  assert.equal(wire.bits, 16);
  const back = deltaFromWire(structuredClone(wire), 20);
  assert.deepEqual(back, d);
  // The form microsoft/vscode#201933 reports: ArrayBuffers as {"0": byte, ...}.
  const keyed = (buf: ArrayBuffer) => Object.fromEntries([...new Uint8Array(buf)].map((b, n) => [String(n), b]));
  const mangled = { runs: keyed(wire.runs), before: keyed(wire.before), after: keyed(wire.after), bits: 16 };
  assert.deepEqual(deltaFromWire(mangled, 20), d);
  // A view at an odd byte offset must still decode (copied into an aligned buffer).
  const big = new Uint8Array(wire.runs.byteLength + 1);
  big.set(new Uint8Array(wire.runs), 1);
  assert.deepEqual(deltaFromWire({ ...wire, runs: big.subarray(1) }, 20).runs, d.runs);
  assert.throws(() => deltaFromWire({ ...wire, bits: 12 }), /bits must be 8 or 16, got 12/);
  assert.throws(() => deltaFromWire({ ...wire, runs: 'x' }), /must be binary/);
  assert.throws(() => deltaFromWire(wire, 10), /beyond the volume's 10 voxels/);
  assert.equal(bytesFromWire([1, 300]), null);
});

test('deltaToWire copies exactly the view, not the whole backing buffer', () => {
  const backing = new Uint8Array(100);
  const d: LabelDelta = { runs: new Uint32Array([0, 2]), before: backing.subarray(10, 12), after: new Uint8Array([4, 4]) };
  const wire = deltaToWire(d);
  assert.equal(wire.before.byteLength, 2);
});
