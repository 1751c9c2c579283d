import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockwiseGaussianSmoothing, gaussianSmoothMm, gaussianTaps } from '../../src/interactive/smoothing';
import { cropToFloat32 } from '../../src/interactive/box';
import { PromptError } from '../../src/interactive';

test('smoothing: taps sum to 1 and are symmetric', () => {
  const t = gaussianTaps(1.5);
  assert.ok(Math.abs(t.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  for (let q = 0; q < t.length; q++) assert.ok(Math.abs(t[q] - t[t.length - 1 - q]) < 1e-7);
});

test('smoothing: a constant stays constant, a spike spreads less along a coarse axis, σ = 0 copies', () => {
  const dims: [number, number, number] = [9, 9, 9];
  const constant = new Float32Array(729).fill(5);
  assert.ok(gaussianSmoothMm(constant, dims, [1, 1, 3], 1).every((v) => Math.abs(v - 5) < 1e-5));
  const spike = new Float32Array(729);
  spike[4 + 9 * (4 + 9 * 4)] = 1;
  const s = gaussianSmoothMm(spike, dims, [1, 1, 4], 1);
  const along = (di: number, dk: number): number => s[4 + di + 9 * (4 + 9 * (4 + dk))];
  assert.ok(along(1, 0) > 0.05, 'spreads along the 1 mm axis');
  assert.equal(along(0, 1), 0, 'σ/spacing = 0.25 < 1/3: the 4 mm axis is left unsmoothed');
  const copy = gaussianSmoothMm(spike, dims, [1, 1, 1], 0);
  assert.deepEqual(copy, spike);
  assert.notEqual(copy, spike);
  assert.throws(() => gaussianSmoothMm(spike, dims, [1, 1, 1], -1), PromptError);
});

test('smoothing: block by block, a box of a volume equals the whole box cropped and smoothed, voxel for voxel', () => {
  const sourceDims: [number, number, number] = [50, 45, 30];
  const source = new Float32Array(sourceDims[0] * sourceDims[1] * sourceDims[2]);
  let seed = 7;
  for (let v = 0; v < source.length; v++) source[v] = ((seed = (seed * 16807) % 2147483647) / 2147483647) * 100 + (v % 50);
  const origin: [number, number, number] = [5, 4, 3];
  const dims: [number, number, number] = [40, 37, 23];
  const box = { min: origin, max: [44, 40, 25] as [number, number, number] };
  for (const [spacingMm, sigmaMm] of [
    [[0.8, 1, 2.5], 1],
    [[1, 1, 1], 0.5],
    [[0.9, 0.9, 3.3], 0.5],
  ] as const) {
    const whole = gaussianSmoothMm(cropToFloat32(source, sourceDims, box), dims, [...spacingMm], sigmaMm);
    const blocks = new BlockwiseGaussianSmoothing(source, sourceDims, origin, dims, [...spacingMm], sigmaMm);
    // A voxel near a corner, one inside, then a sub-box: each equal where asked for.
    for (const v of [0, 17 + 40 * (20 + 37 * 11), whole.length - 1]) {
      blocks.ensure(v);
      assert.equal(blocks.values[v], whole[v]);
    }
    blocks.ensureBox([3, 30, 18], [21, 36, 22]);
    assert.equal(blocks.values[21 + 40 * (36 + 37 * 22)], whole[21 + 40 * (36 + 37 * 22)]);
    blocks.ensureBox([0, 0, 0], [39, 36, 22]);
    assert.deepEqual(blocks.values, whole, `σ ${sigmaMm} mm on ${spacingMm.join(' × ')} mm`);
  }
  assert.throws(() => new BlockwiseGaussianSmoothing(source, sourceDims, [20, 0, 0], dims, [1, 1, 1], 1), PromptError);
});
