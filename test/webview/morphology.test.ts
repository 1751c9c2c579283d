// Grow, shrink and smooth of one label (webview/tools/morphology.ts): exact mm distances on
// anisotropic voxels against brute force, other labels untouched, the volume's faces, bad options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { marginChange, smoothChange, squaredDistanceMm2 } from '../../webview/tools/morphology';

type V3 = [number, number, number];
const idx = (d: V3, i: number, j: number, k: number): number => i + d[0] * (j + d[1] * k);

test('squaredDistanceMm2 equals brute force on anisotropic voxels, for either feature value', () => {
  const dims: V3 = [9, 7, 6];
  const sp: V3 = [0.8, 1.5, 3];
  const n = dims[0] * dims[1] * dims[2];
  const mask = Uint8Array.from({ length: n }, (_, v) => ((v * 7919) % 13 === 0 ? 1 : 0));
  for (const feature of [1, 0] as const) {
    const d2 = squaredDistanceMm2(mask, dims, sp, feature);
    for (let v = 0; v < n; v++) {
      const [i, j, k] = [v % dims[0], Math.floor(v / dims[0]) % dims[1], Math.floor(v / (dims[0] * dims[1]))];
      let best = Infinity;
      for (let w = 0; w < n; w++) {
        if (mask[w] !== feature) continue;
        const [a, b, c] = [w % dims[0], Math.floor(w / dims[0]) % dims[1], Math.floor(w / (dims[0] * dims[1]))];
        best = Math.min(best, ((i - a) * sp[0]) ** 2 + ((j - b) * sp[1]) ** 2 + ((k - c) * sp[2]) ** 2);
      }
      assert.ok(Math.abs(d2[v] - best) < 1e-9, `voxel ${v}, feature ${feature}: ${d2[v]} vs ${best}`);
    }
  }
  assert.ok(squaredDistanceMm2(new Uint8Array(8), [2, 2, 2], [1, 1, 1], 1).every((d) => d === Infinity), 'no feature: Infinity');
});

test('Grow adds every voxel within the distance in mm (true to the voxel sizes), and nothing of other labels changes here', () => {
  const dims: V3 = [21, 15, 11];
  const sp: V3 = [1, 1.5, 2];
  const labels = new Uint8Array(dims[0] * dims[1] * dims[2]);
  labels[idx(dims, 10, 7, 5)] = 3;
  labels[idx(dims, 0, 0, 0)] = 1;
  const { add, remove } = marginChange(labels, { dims, spacingMm: sp, label: 3, marginMm: 4 });
  assert.equal(remove.length, 0);
  const expected: number[] = [];
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const d = Math.hypot((i - 10) * sp[0], (j - 7) * sp[1], (k - 5) * sp[2]);
        if (d > 0 && d <= 4) expected.push(idx(dims, i, j, k));
      }
  assert.deepEqual(Array.from(add), expected);
  // 4 mm reaches 4 voxels along i, 2 along j (3 mm), 2 along k (4 mm), none farther.
  assert.ok(add.includes(idx(dims, 14, 7, 5)) && !add.includes(idx(dims, 15, 7, 5)));
  assert.ok(add.includes(idx(dims, 10, 7, 7)) && !add.includes(idx(dims, 10, 7, 8)));
  assert.ok(!add.includes(idx(dims, 0, 0, 0)));
});

test('Shrink clears the label\'s voxels within the distance of the background; the volume\'s faces do not erode', () => {
  const dims: V3 = [12, 12, 12];
  const labels = new Uint8Array(12 ** 3);
  // A 10³ box at 1..10, and a 4³ box touching the face i = 0 (label 2).
  for (let k = 1; k <= 10; k++) for (let j = 1; j <= 10; j++) for (let i = 1; i <= 10; i++) labels[idx(dims, i, j, k)] = 1;
  const { add, remove } = marginChange(labels, { dims, spacingMm: [1, 1, 1], label: 1, marginMm: -1 });
  assert.equal(add.length, 0);
  assert.equal(remove.length, 10 ** 3 - 8 ** 3, 'one layer');
  const two = new Uint8Array(12 ** 3);
  for (let k = 4; k < 8; k++) for (let j = 4; j < 8; j++) for (let i = 0; i < 4; i++) two[idx(dims, i, j, k)] = 2;
  const shrunk = marginChange(two, { dims, spacingMm: [1, 1, 1], label: 2, marginMm: -1 });
  // Every face but i = 0 loses its layer: 4³ − 3 × 2 × 2 (i from 0 to 2 kept, j and k 5..6).
  assert.equal(shrunk.remove.length, 64 - 3 * 2 * 2);
  assert.ok(!shrunk.remove.includes(idx(dims, 0, 5, 5)), 'the face voxel stays');
  // A label that is not there changes nothing.
  assert.deepEqual(marginChange(labels, { dims, spacingMm: [1, 1, 1], label: 7, marginMm: 2 }), { add: new Uint32Array(0), remove: new Uint32Array(0) });
});

test('Smooth fills a small hole, removes a thin spur, and leaves a ball nearly as it was', () => {
  const dims: V3 = [32, 32, 32];
  const labels = new Uint8Array(32 ** 3);
  for (let k = 0; k < 32; k++)
    for (let j = 0; j < 32; j++)
      for (let i = 0; i < 32; i++) if (Math.hypot(i - 15, j - 15, k - 15) <= 9) labels[idx(dims, i, j, k)] = 1;
  const ballVoxels = labels.reduce((a, v) => a + v, 0);
  const plain = smoothChange(labels, { dims, spacingMm: [1, 1, 1], label: 1, radiusMm: 1.5 });
  assert.ok(plain.add.length + plain.remove.length < 0.03 * ballVoxels, `a ball changes ${plain.add.length + plain.remove.length} of ${ballVoxels}`);
  const hole = idx(dims, 15, 15, 15);
  labels[hole] = 0;
  const spur: number[] = [];
  for (let i = 25; i <= 29; i++) spur.push(idx(dims, i, 15, 15));
  for (const v of spur) labels[v] = 1;
  const { add, remove } = smoothChange(labels, { dims, spacingMm: [1, 1, 1], label: 1, radiusMm: 1.5 });
  assert.ok(add.includes(hole), 'the hole is filled');
  for (const v of spur.slice(1)) assert.ok(remove.includes(v), `spur voxel ${v} removed`);
});

test('bad options are refused, naming the option', () => {
  const labels = new Uint8Array(8);
  const o = { dims: [2, 2, 2] as V3, spacingMm: [1, 1, 1] as V3, label: 1 };
  assert.throws(() => marginChange(labels, { ...o, marginMm: 0 }), /marginMm must be a non-zero number of mm, got 0/);
  assert.throws(() => marginChange(labels, { ...o, marginMm: NaN }), /marginMm/);
  assert.throws(() => smoothChange(labels, { ...o, radiusMm: -1 }), /radiusMm must be a positive number of mm, got -1/);
  assert.throws(() => marginChange(new Uint8Array(7), { ...o, marginMm: 1 }), /labels have 7 values, expected 8/);
});
