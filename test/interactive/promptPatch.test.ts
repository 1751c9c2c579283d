import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boxToPatch,
  imageToPatch,
  interleaveChannels,
  normalisePatchImage,
  paintBall,
  paintPatchBox,
  patchToImage,
  probabilityOnImage,
  resampleLabelToPatch,
  resampleToPatch,
  type PromptPatchGrid,
} from '../../src/interactive/promptPatch';
import type { Vec3 } from '../../src/volume/vec3';

const DIMS: Vec3 = [20, 16, 6];
const SPACING: Vec3 = [1, 1, 3];
const ramp = Float32Array.from({ length: 20 * 16 * 6 }, (_, v) => (v % 20) + 100 * Math.floor(v / 320));

test('promptPatch: image ↔ patch coordinates are inverse and scale by mm', () => {
  const grid: PromptPatchGrid = { centreVoxel: [10, 8, 3], spacingMm: 2, size: 8 };
  const p = imageToPatch(grid, SPACING, [12, 8, 4]);
  assert.deepEqual(p, [3.5 + 1, 3.5, 3.5 + 1.5]);
  assert.deepEqual(patchToImage(grid, SPACING, p), [12, 8, 4]);
});

test('promptPatch: trilinear resampling reproduces a linear ramp, and marks samples off the image', () => {
  const grid: PromptPatchGrid = { centreVoxel: [10, 8, 2.5], spacingMm: 1.5, size: 8 };
  const { patch, inside } = resampleToPatch(ramp, DIMS, SPACING, grid);
  for (let c = 0; c < 8; c++) {
    for (let a = 0; a < 8; a++) {
      const o = (c * 8 + 3) * 8 + a;
      const [x, , z] = patchToImage(grid, SPACING, [a, 3, c]);
      if (z < -0.5 || z > 5.5) {
        assert.equal(inside[o], 0);
        continue;
      }
      assert.equal(inside[o], 1);
      const zc = Math.min(Math.max(z, 0), 5);
      assert.ok(Math.abs(patch[o] - (x + 100 * zc)) < 1e-3, `sample (${a}, 3, ${c}) = ${patch[o]}, expected ${x + 100 * zc}`);
    }
  }
  const far = resampleToPatch(ramp, DIMS, SPACING, { centreVoxel: [100, 100, 100], spacingMm: 1, size: 8 });
  assert.ok(far.inside.every((v) => v === 0));
});

test('promptPatch: robust z-score centres and scales the inside, outside becomes 0', () => {
  const patch = Float32Array.from([1, 2, 3, 4, 5, NaN, NaN, 1000]);
  const inside = Uint8Array.from([1, 1, 1, 1, 1, 0, 0, 1]);
  normalisePatchImage(patch, inside);
  assert.equal(patch[5], 0);
  const vals = [0, 1, 2, 3, 4, 7].map((o) => patch[o]);
  const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
  assert.ok(Math.abs(mean) < 1e-5);
  assert.ok(vals.every(Number.isFinite));
  const flat = Float32Array.from([5, 5, 5]);
  normalisePatchImage(flat, Uint8Array.from([1, 1, 1]));
  assert.deepEqual([...flat], [0, 0, 0]);
});

test('promptPatch: balls and boxes are painted where the prompts are, a flat box keeps one slice', () => {
  const ch = new Float32Array(8 ** 3);
  paintBall(ch, 8, [4, 4, 4], 1);
  assert.equal(ch.reduce((a, b) => a + b, 0), 7);
  const off = new Float32Array(8 ** 3);
  paintBall(off, 8, [20, 4, 4], 1.5);
  assert.equal(off.reduce((a, b) => a + b, 0), 0);
  const box = new Float32Array(8 ** 3);
  paintPatchBox(box, 8, [1, 2, 3.2], [3, 4, 3.4]);
  assert.equal(box.reduce((a, b) => a + b, 0), 3 * 3 * 1);
  assert.equal(box[(3 * 8 + 2) * 8 + 1], 1);
  const grid: PromptPatchGrid = { centreVoxel: [10, 8, 3], spacingMm: 1, size: 16 };
  const b = boxToPatch(grid, SPACING, { min: [8, 8, 3], max: [9, 9, 3] });
  assert.deepEqual(b.min, [5, 7, 6]);
  assert.deepEqual(b.max, [7, 9, 9]);
});

test('promptPatch: channels are interleaved channels-last and checked', () => {
  const a = Float32Array.from({ length: 8 }, (_, n) => n);
  const b = Float32Array.from({ length: 8 }, (_, n) => -n);
  const x = interleaveChannels([a, b], 2);
  assert.deepEqual([...x.slice(0, 6)], [0, -0, 1, -1, 2, -2]);
  assert.throws(() => interleaveChannels([a, new Float32Array(7)], 2), /channel 1 has 7 values, expected 8/);
});

test('promptPatch: a label resampled into the patch and its probability back on the image agree', () => {
  const labels = new Int32Array(20 * 16 * 6);
  for (let k = 2; k <= 3; k++) for (let j = 5; j <= 10; j++) for (let i = 6; i <= 13; i++) labels[(k * 16 + j) * 20 + i] = 7;
  const grid: PromptPatchGrid = { centreVoxel: [10, 8, 2.5], spacingMm: 1, size: 24 };
  const inPatch = resampleLabelToPatch(labels, DIMS, SPACING, grid, 7);
  assert.ok(inPatch.some((v) => v === 1));
  const back = probabilityOnImage(Float32Array.from(inPatch), grid, DIMS, SPACING);
  assert.ok(back);
  let agree = 0;
  let total = 0;
  const { box, values } = back;
  let o = 0;
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      for (let i = box.min[0]; i <= box.max[0]; i++, o++) {
        const ref = labels[(k * 16 + j) * 20 + i] === 7 ? 1 : 0;
        agree += (values[o] >= 0.5 ? 1 : 0) === ref ? 1 : 0;
        total++;
      }
    }
  }
  // Only voxels on the label's edge may differ (nearest sampling in, trilinear back out).
  assert.ok(agree / total > 0.97, `${agree} of ${total} voxels agree`);
  assert.equal(resampleLabelToPatch(labels, DIMS, SPACING, grid, 3).some((v) => v === 1), false);
  assert.throws(() => resampleToPatch(ramp, DIMS, SPACING, { centreVoxel: [0, 0, 0], spacingMm: 0, size: 8 }), /spacing must be > 0 mm/);
});
