import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resampleLinear, resampleNearest, resampleToSpacing, resampledAffine, dimsForSpacing, MAX_RESAMPLED_VOXELS } from '../../src/volume/resample';
import type { Vec3 } from '../../src/volume/vec3';

test('resampleLinear: identity when the grid is unchanged', () => {
  const dims: Vec3 = [5, 4, 3];
  const v = Float32Array.from({ length: 60 }, (_, i) => i * 0.5 - 3);
  assert.deepEqual(resampleLinear(v, dims, dims), v);
  assert.deepEqual(resampleNearest(Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)), dims, dims), Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)));
});

test('resampleLinear reproduces a linear ramp in the interior (half-voxel aligned grids)', () => {
  // Value = x coordinate in mm of the voxel centre; 1 mm → 0.5 mm spacing doubles the grid.
  const dims: Vec3 = [8, 2, 2];
  const v = new Float32Array(32);
  for (let i = 0; i < 32; i++) v[i] = (i % 8) * 1.0;
  const out = resampleLinear(v, dims, [16, 2, 2]);
  // Output voxel j centre is at (j + 0.5)/2 − 0.5 in source voxels.
  for (let j = 1; j < 15; j++) assert.ok(Math.abs(out[j] - ((j + 0.5) / 2 - 0.5)) < 1e-6, `j=${j}`);
  assert.equal(out[0], 0); // clamped at the edge
});

test('resampleNearest keeps the type and labels; down and back up keeps blocks', () => {
  const dims: Vec3 = [8, 8, 8];
  const lab = new Uint16Array(512);
  for (let z = 0; z < 8; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) lab[(z * 8 + y) * 8 + x] = x < 4 ? 3 : 7;
  const down = resampleNearest(lab, dims, [4, 4, 4]);
  assert.ok(down instanceof Uint16Array);
  assert.deepEqual([...new Set(down)].sort(), [3, 7]);
  const up = resampleNearest(down, [4, 4, 4], dims);
  assert.deepEqual(up, lab);
});

test('resampleToSpacing and resampledAffine agree on world positions', () => {
  const dims: Vec3 = [10, 6, 4];
  const spacing: Vec3 = [1, 1, 3];
  assert.deepEqual(dimsForSpacing(dims, spacing, [2, 2, 2]), [5, 3, 6]);
  const r = resampleToSpacing(new Float32Array(240).fill(2), dims, spacing, [2, 2, 2]);
  assert.deepEqual(r.dims, [5, 3, 6]);
  assert.deepEqual(r.spacingMm, [2, 2, 2]);
  assert.ok(r.data.every((x) => Math.abs(x - 2) < 1e-6));
  const affine = Float64Array.from([-1, 0, 0, 90, 0, 1, 0, -126, 0, 0, 3, -72, 0, 0, 0, 1]);
  const a2 = resampledAffine(affine, dims, r.dims);
  // Output voxel 0 centre = source voxel 0.5 along x and y, source voxel 0 along z (3 mm → 2 mm: (0.5)*(4/6) − 0.5).
  const world = (a: Float64Array, i: number, j: number, k: number): number[] => [0, 1, 2].map((r) => a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3]);
  const expected = world(affine, 0.5, 0.5, 0.5 * (4 / 6) - 0.5);
  world(a2, 0, 0, 0).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9));
  assert.equal(a2[0], -2);
  assert.throws(() => dimsForSpacing(dims, [1, 0, 1], [1, 1, 1]), /spacings must be > 0 mm/);
  assert.throws(() => resampleLinear(new Float32Array(5), dims, dims), /volume has 5 values/);
});

// Issue 11, item 8: sizes taken from a header are checked before anything of that size is allocated.
test('resampling refuses an output grid over MAX_RESAMPLED_VOXELS before allocating it', () => {
  const data = new Float32Array(8).fill(1);
  assert.throws(() => resampleLinear(data, [2, 2, 2], [6400, 6400, 6400]), {
    name: 'ResampleError',
    message: /resampling to 6400×6400×6400 would make 262,144,000,000 voxels, more than the 268,435,456 allowed/,
  });
  assert.throws(() => resampleNearest(new Uint8Array(8), [2, 2, 2], [6400, 6400, 6400]), { name: 'ResampleError' });
  assert.throws(() => resampleToSpacing(data, [2, 2, 2], [200, 200, 200], [0.1, 0.1, 0.1]), { name: 'ResampleError' });
  assert.equal(MAX_RESAMPLED_VOXELS, 2 ** 28);
  // Just under the limit along one axis is still fine (1 × 1 × n).
  assert.equal(resampleLinear(new Float32Array(1), [1, 1, 1], [1, 1, 1000]).length, 1000);
});
