import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, deltaMismatchCount, deltaVoxelCount, encodeDelta, invertDelta, LabelDeltaRecorder, validateDelta, type LabelDelta } from '../../src/protocol/labelDelta';
import { seededRandom } from '../../src/util/random';

// Deterministic pseudo-random generator (mulberry32) so failures reproduce.
const rng = seededRandom;

test('encodeDelta finds exactly the changed voxels as sorted runs', () => {
  const before = new Uint8Array([0, 0, 1, 1, 0, 0, 0, 2]);
  const after = new Uint8Array([0, 3, 3, 1, 0, 5, 5, 0]);
  const d = encodeDelta(before, after);
  assert.deepEqual([...d.runs], [1, 2, 5, 3]);
  assert.deepEqual([...d.before], [0, 1, 0, 0, 2]);
  assert.deepEqual([...d.after], [3, 3, 5, 5, 0]);
  assert.equal(deltaVoxelCount(d), 5);
});

test('encodeDelta respects a range and rejects a bad one', () => {
  const before = new Uint8Array(10);
  const after = new Uint8Array(10).fill(1);
  const d = encodeDelta(before, after, { start: 3, end: 6 });
  assert.deepEqual([...d.runs], [3, 3]);
  assert.throws(() => encodeDelta(before, after, { start: 5, end: 11 }), /not within the volume's 10 voxels/);
  assert.throws(() => encodeDelta(before, new Uint8Array(9)), /differ in size \(10 vs 9/);
});

test('applyDelta redo then undo restores the original exactly (random volumes, 8 and 16 bit)', () => {
  const rand = rng(42);
  for (const bits of [8, 16] as const) {
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(rand() * 500);
      const make = () => (bits === 16 ? new Uint16Array(n) : new Uint8Array(n));
      const a = make();
      const b = make();
      for (let i = 0; i < n; i++) {
        a[i] = rand() < 0.5 ? 0 : Math.floor(rand() * (bits === 16 ? 1000 : 250));
        b[i] = rand() < 0.7 ? a[i] : Math.floor(rand() * (bits === 16 ? 1000 : 250));
      }
      const d = encodeDelta(a, b);
      validateDelta(d, n);
      const work = a.slice();
      assert.equal(deltaMismatchCount(work, d, 'redo'), 0);
      applyDelta(work, d, 'redo');
      assert.deepEqual(work, b);
      assert.equal(deltaMismatchCount(work, d, 'undo'), 0);
      applyDelta(work, d, 'undo');
      assert.deepEqual(work, a);
      applyDelta(work, invertDelta(d), 'undo');
      assert.deepEqual(work, b);
    }
  }
});

test('LabelDeltaRecorder gives the same delta as encodeDelta and drops voxels set back', () => {
  const rand = rng(7);
  const n = 4000;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = rand() < 0.1 ? 2 : 0;
  const original = labels.slice();
  const rec = new LabelDeltaRecorder(labels);
  for (let s = 0; s < 3000; s++) {
    const i = Math.floor(rand() * n);
    rec.set(i, Math.floor(rand() * 4));
  }
  // Set one voxel and put it back: must not appear.
  rec.set(17, (original[17] + 1) % 4);
  rec.set(17, original[17]);
  assert.equal(rec.originalValue(17), original[17]);
  // originalValue stays right for voxels touched after its index was built.
  const fresh = [...Array(n).keys()].find((i) => labels[i] === original[i] && i > 3000 && i !== 17)!;
  for (let i = 0; i < n; i++) if (rec.originalValue(i) !== original[i]) assert.fail(`originalValue(${i})`);
  rec.set(fresh, (original[fresh] + 1) % 4);
  assert.equal(rec.originalValue(fresh), original[fresh]);
  const d = rec.finish();
  const expected = encodeDelta(original, labels);
  assert.deepEqual(d.runs, expected.runs);
  assert.deepEqual(d.before, expected.before);
  assert.deepEqual(d.after, expected.after);
  assert.throws(() => rec.set(0, 1), /already finished/);
});

test('LabelDeltaRecorder.cancel restores the volume; bad index and value are refused', () => {
  const labels = new Uint16Array([1, 2, 3, 4]);
  const rec = new LabelDeltaRecorder(labels);
  rec.set(0, 9);
  rec.set(3, 9);
  assert.deepEqual([...labels], [9, 2, 3, 9]);
  assert.throws(() => rec.set(4, 1), /index 4 is outside the volume of 4 voxels/);
  assert.throws(() => rec.set(1, 70000), /does not fit a 16-bit/);
  rec.cancel();
  assert.deepEqual([...labels], [1, 2, 3, 4]);
  const rec8 = new LabelDeltaRecorder(new Uint8Array(2));
  assert.throws(() => rec8.set(0, 256), /does not fit a 8-bit/);
});

test('LabelDeltaRecorder: a 3-D sphere of 100k voxels finishes quickly', () => {
  const nx = 256, ny = 256, nz = 64;
  const labels = new Uint8Array(nx * ny * nz);
  const rec = new LabelDeltaRecorder(labels);
  const t0 = performance.now();
  const r = 30;
  let painted = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const dx = i - 128, dy = j - 128, dz = (k - 32) * 2;
    if (dx * dx + dy * dy + dz * dz <= r * r) {
      rec.set(i + nx * (j + ny * k), 1);
      painted++;
    }
  }
  const d = rec.finish();
  const ms = performance.now() - t0;
  assert.equal(deltaVoxelCount(d), painted);
  assert.ok(d.runs.length / 2 < painted / 10, 'runs compress the sphere');
  assert.ok(ms < 2000, `recorder took ${ms.toFixed(0)} ms`);
});

test('validateDelta rejects malformed deltas with a clear reason', () => {
  const ok: LabelDelta = { runs: new Uint32Array([2, 2]), before: new Uint8Array(2), after: new Uint8Array([1, 1]) };
  validateDelta(ok, 4);
  assert.throws(() => validateDelta(ok, 3), /ends at voxel 4, beyond the volume's 3 voxels/);
  assert.throws(() => validateDelta({ ...ok, runs: new Uint32Array([2, 0]) }), /length 0/);
  assert.throws(() => validateDelta({ ...ok, runs: new Uint32Array([2, 1, 1, 1]) }), /overlaps or precedes/);
  assert.throws(() => validateDelta({ ...ok, runs: new Uint32Array([2, 3]) }), /cover 3 voxels but 2 values/);
  assert.throws(() => validateDelta({ ...ok, after: new Uint16Array(2) }), /different bit depths/);
  assert.throws(() => validateDelta({ ...ok, runs: new Uint32Array([1]) }), /not \[start, length\] pairs/);
  const labels = new Uint8Array(4);
  const wide: LabelDelta = { runs: new Uint32Array([0, 1]), before: new Uint16Array([0]), after: new Uint16Array([300]) };
  assert.throws(() => applyDelta(labels, wide), /300 does not fit an 8-bit/);
  assert.deepEqual([...labels], [0, 0, 0, 0], 'a refused delta leaves the volume untouched');
});
