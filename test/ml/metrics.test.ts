import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlapScores, diceScore, connectedComponents, lesionList, removeSmallLesions } from '../../src/ml/metrics';
import type { Vec3 } from '../../src/volume/patches';

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
