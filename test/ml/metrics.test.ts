import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlapScores, diceScore, diceFromCounts, pooledDice, connectedComponents, lesionList, removeSmallLesions, hausdorff95, lesionWiseF1 } from '../../src/ml/metrics';
import type { Vec3 } from '../../src/volume/vec3';

test('overlapScores: hand-computed cases', () => {
  const cases: [number[], number[], number, number | null, number | null][] = [
    [[1, 1, 0, 0], [1, 0, 1, 0], 0.5, 0.5, 0.5],
    [[1, 1, 1, 0], [1, 1, 0, 0], 0.8, 2 / 3, 1],
    [[0, 0], [0, 0], 1, null, null],
    [[0, 0], [1, 0], 0, null, 0],
    [[2, 0], [0, 0], 0, 0, null],
  ];
  for (const [p, r, dice, precision, recall] of cases) {
    const s = overlapScores(p, r);
    assert.ok(Math.abs(s.dice - dice) < 1e-12, `${p}/${r}`);
    assert.equal(s.precision === null ? null : +s.precision.toFixed(6), precision === null ? null : +precision.toFixed(6));
    assert.equal(s.recall, recall);
  }
  assert.equal(diceScore([1], [1]), 1);
  assert.throws(() => overlapScores([1, 0], [1]), /predicted mask has 2 voxels but the reference has 1/);
});

function volume(dims: Vec3, on: Vec3[]): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const [x, y, z] of on) m[(z * dims[1] + y) * dims[0] + x] = 1;
  return m;
}

test('pooledDice sums the counts of all cases before dividing; diceFromCounts is 1 when all counts are 0', () => {
  assert.equal(diceFromCounts(0, 0, 0), 1);
  assert.equal(diceFromCounts(1, 1, 0), 2 / 3);
  // Case a: TP 9, FP 1, FN 0 (Dice 18/19); case b: TP 0, FP 0, FN 1 (Dice 0). Pooled: 18 / 20.
  const a = overlapScores([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  const b = overlapScores([0], [1]);
  assert.equal(pooledDice([a, b]), 18 / 20);
  assert.equal(pooledDice([]), 1);
});

test('connectedComponents: diagonal voxels join under 26 but not 6 connectivity', () => {
  const dims: Vec3 = [4, 4, 4];
  const m = volume(dims, [[0, 0, 0], [1, 1, 1], [3, 3, 3], [3, 3, 2], [0, 3, 0]]);
  const c26 = connectedComponents(m, dims, 26);
  assert.equal(c26.count, 3);
  assert.deepEqual([...c26.sizes].sort(), [1, 2, 2]);
  const c6 = connectedComponents(m, dims, 6);
  assert.equal(c6.count, 4);
  assert.equal(c6.labels[0], 1);
  assert.equal(c6.labels[(1 * 4 + 1) * 4 + 1] !== c6.labels[0], true);
  assert.throws(() => connectedComponents(m, dims, 8 as 6), /connectivity must be 6 or 26, got 8/);
});

test('lesionList and removeSmallLesions: volumes in mm³, min size filter, order', () => {
  const dims: Vec3 = [10, 10, 10];
  const on: Vec3[] = [];
  for (let x = 0; x < 3; x++) for (let y = 0; y < 3; y++) on.push([x, y, 0]); // 9 voxels
  on.push([8, 8, 8]); // 1 voxel
  const m = volume(dims, on);
  const lesions = lesionList(m, dims, { spacingMm: [1, 1, 2] });
  assert.equal(lesions.length, 2);
  assert.equal(lesions[0].volumeMm3, 18);
  assert.deepEqual(lesions[0].centroidVoxel, [1, 1, 0]);
  assert.deepEqual(lesions[0].boxMax, [2, 2, 0]);
  assert.equal(lesions[1].volumeMm3, 2);
  const filtered = removeSmallLesions(m, dims, { spacingMm: [1, 1, 2], minLesionMm3: 3 });
  assert.equal(filtered.lesions.length, 1);
  assert.equal(filtered.mask.reduce((a, b) => a + b, 0), 9);
  assert.equal(filtered.mask[(8 * 10 + 8) * 10 + 8], 0);
  assert.throws(() => lesionList(m, dims, { spacingMm: [1, 1, 2], minLesionMm3: -1 }), /minLesionMm3 must be ≥ 0, got -1/);
});

/** A box mask [x0,x1)×[y0,y1)×[z0,z1) in a grid. */
function box(dims: Vec3, lo: Vec3, hi: Vec3): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let z = lo[2]; z < hi[2]; z++) for (let y = lo[1]; y < hi[1]; y++) for (let x = lo[0]; x < hi[0]; x++) m[(z * dims[1] + y) * dims[0] + x] = 1;
  return m;
}

test('hausdorff95: identical masks 0, a shifted box its shift in mm (anisotropic), empty cases', () => {
  const dims: Vec3 = [20, 20, 20];
  const a = box(dims, [5, 5, 5], [10, 10, 10]);
  assert.equal(hausdorff95(a, a, dims, [1, 1, 1]), 0);
  // Shifted 3 voxels along z at 2.5 mm slices: every surface point of the far faces is 7.5 mm away.
  const b = box(dims, [5, 5, 8], [10, 10, 13]);
  assert.ok(Math.abs(hausdorff95(a, b, dims, [1, 1, 2.5])! - 7.5) < 1e-9);
  // Shifted 2 voxels along x at 0.5 mm: 1 mm.
  const c = box(dims, [7, 5, 5], [12, 10, 10]);
  assert.ok(Math.abs(hausdorff95(a, c, dims, [0.5, 1, 1])! - 1) < 1e-9);
  const empty = new Uint8Array(a.length);
  assert.equal(hausdorff95(empty, empty, dims, [1, 1, 1]), 0);
  assert.equal(hausdorff95(a, empty, dims, [1, 1, 1]), null);
  assert.throws(() => hausdorff95(a, new Uint8Array(3), dims, [1, 1, 1]), /voxels/);
});

test('lesionWiseF1: detected, missed and false-positive lesions', () => {
  const dims: Vec3 = [30, 10, 10];
  const ref = new Uint8Array(dims[0] * dims[1] * dims[2]);
  const pred = new Uint8Array(ref.length);
  const or = (m: Uint8Array, b: Uint8Array): void => b.forEach((v, i) => (m[i] |= v));
  or(ref, box(dims, [1, 1, 1], [4, 4, 4])); // detected (partial overlap)
  or(ref, box(dims, [10, 1, 1], [12, 3, 3])); // missed
  or(pred, box(dims, [3, 3, 3], [6, 6, 6]));
  or(pred, box(dims, [20, 5, 5], [22, 7, 7])); // false positive
  or(pred, box(dims, [25, 5, 5], [26, 6, 6])); // false positive
  const s = lesionWiseF1(pred, ref, dims);
  assert.deepEqual([s.referenceLesions, s.predictedLesions, s.detected, s.truePredicted], [2, 3, 1, 1]);
  assert.ok(Math.abs(s.precision - 1 / 3) < 1e-12 && Math.abs(s.recall - 0.5) < 1e-12);
  assert.ok(Math.abs(s.f1 - 0.4) < 1e-12);
  const none = lesionWiseF1(new Uint8Array(ref.length), new Uint8Array(ref.length), dims);
  assert.equal(none.f1, 1);
});
