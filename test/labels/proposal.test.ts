// A model proposal as a label edit: locked labels kept, one delta; its maps packed for the overlay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, deltaVoxelCount } from '../../src/protocol/labelDelta';
import { float32Buffer, fusionRange, lockedLabelValues, mapRange, proposalDelta, proposalLabels, ProposalError } from '../../src/labels/proposal';

test('proposalLabels: writes label 1 over background and unlocked labels, never over locked ones; counts each case', () => {
  // voxel:     0  1  2  3  4  5  6  7
  const current = Uint8Array.from([0, 0, 2, 3, 1, 0, 3, 2]);
  const proposal = Uint8Array.from([1, 0, 1, 1, 1, 0, 0, 1]);
  const r = proposalLabels(current, proposal, { labelValue: 1, lockedValues: new Set([3]) });
  assert.deepEqual(Array.from(r.labels), [1, 0, 1, 3, 1, 0, 3, 1]);
  assert.deepEqual([r.addedVoxels, r.replacedVoxels, r.lockedVoxels, r.unchangedVoxels], [1, 2, 1, 1]);
  assert.deepEqual(Array.from(current), [0, 0, 2, 3, 1, 0, 3, 2], 'the current labels are not modified');
  assert.ok(r.labels instanceof Uint8Array);
});

test('proposalDelta: one delta that applies cleanly and reproduces the proposed labels; empty when nothing changes', () => {
  const current = Uint16Array.from([0, 5, 0, 0, 7, 0]);
  const proposal = Float32Array.from([0.9, 1, 0, 1, 1, 0]);
  const r = proposalDelta(current, proposal, { lockedValues: lockedLabelValues([
    { value: 5, name: 'Keep', color: [0, 0, 0], visible: true, locked: true },
    { value: 7, name: 'Edema', color: [0, 0, 0], visible: true, locked: false },
  ]) });
  assert.equal(deltaVoxelCount(r.delta), 3);
  const applied = current.slice();
  applyDelta(applied, r.delta);
  assert.deepEqual(Array.from(applied), [1, 5, 0, 1, 1, 0]);
  assert.ok(r.delta.before instanceof Uint16Array, 'the delta keeps the 16-bit depth');
  const again = proposalDelta(applied, proposal, { lockedValues: new Set([5]) });
  assert.equal(deltaVoxelCount(again.delta), 0);
  assert.equal(again.unchangedVoxels, 3);
});

test('proposalLabels: a label above 255 promotes 8-bit labels; size mismatch and bad label values are refused', () => {
  const r = proposalLabels(Uint8Array.from([0, 1]), [1, 0], { labelValue: 300 });
  assert.ok(r.labels instanceof Uint16Array);
  assert.deepEqual(Array.from(r.labels), [300, 1]);
  assert.throws(() => proposalLabels(new Uint8Array(4), new Uint8Array(3)), (e: Error) => e instanceof ProposalError && /the proposal has 3 voxels but the labels have 4/.test(e.message));
  assert.throws(() => proposalLabels(new Uint8Array(1), [1], { labelValue: 0 }), /option labelValue must be an integer from 1 to 65535, got 0/);
});

test('float32Buffer copies exactly the view; mapRange is never empty', () => {
  const big = new Float32Array([9, 1, 2, 3, 9]);
  const view = big.subarray(1, 4);
  const buf = float32Buffer(view);
  assert.equal(buf.byteLength, 12);
  assert.deepEqual(Array.from(new Float32Array(buf)), [1, 2, 3]);
  assert.deepEqual(mapRange(Float32Array.from([0.2, 0.1, 0.7])).map((v) => +v.toFixed(6)), [0.1, 0.7]);
  const flat = mapRange(new Float32Array(5));
  assert.ok(flat[1] > flat[0]);
  assert.deepEqual(mapRange(new Float32Array(0)), [0, 1e-6]);
});

test('fusionRange: from the median of the finite values to their 99.5th percentile, never empty', () => {
  const values = new Float32Array(1000);
  for (let i = 0; i < 1000; i++) values[i] = i < 100 ? NaN : i - 100; // 0 … 899, NaN beyond the other image
  assert.deepEqual(fusionRange(values), [449, 894]);
  assert.deepEqual(fusionRange(Float32Array.from([NaN, NaN])), [0, 1]);
  const flat = fusionRange(Float32Array.from([5, 5, 5]));
  assert.ok(flat[0] === 5 && flat[1] > 5);
});
