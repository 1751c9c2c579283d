// resampleOntoGrid (src/volume/resampleWorld.ts): one image onto another's grid by their affines.
// Trilinear interpolation reproduces a linear function of world position exactly, so a source that
// holds f(world) = 3x − 2y + 0.5z + 7 must give f at every target voxel centre it covers, whatever
// the two grids' spacings, flips, rotations and offsets; NaN beyond half a voxel past its edge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resampleOntoGrid } from '../../src/volume/resampleWorld';
import { ResampleError } from '../../src/volume/resample';
import type { Vec3 } from '../../src/volume/vec3';

const f = (x: number, y: number, z: number): number => 3 * x - 2 * y + 0.5 * z + 7;

/** Row-major 4×4 affine: rotation about z by `deg`, then spacing per axis, then the origin. */
function affine(spacing: Vec3, origin: Vec3, deg = 0, flipX = false): Float64Array {
  const c = Math.cos((deg * Math.PI) / 180);
  const s = Math.sin((deg * Math.PI) / 180);
  const sx = flipX ? -spacing[0] : spacing[0];
  return Float64Array.from([c * sx, -s * spacing[1], 0, origin[0], s * sx, c * spacing[1], 0, origin[1], 0, 0, spacing[2], origin[2], 0, 0, 0, 1]);
}

function world(a: Float64Array, i: number, j: number, k: number): Vec3 {
  return [0, 1, 2].map((r) => a[4 * r] * i + a[4 * r + 1] * j + a[4 * r + 2] * k + a[4 * r + 3]) as Vec3;
}

function sourceOf(dims: Vec3, a: Float64Array): Float32Array {
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  let p = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) out[p++] = f(...world(a, i, j, k));
  return out;
}

test('a linear field comes back exactly on a rotated, flipped, finer grid; NaN where the source does not reach', () => {
  // A PET-like source: 5.5 × 5.5 × 3.3 mm voxels; a CT-like target: 1 × 1 × 3 mm, flipped, rotated 20°, offset.
  const sDims: Vec3 = [20, 18, 12];
  const sAffine = affine([5.5, 5.5, 3.3], [-50, -40, -10]);
  const tDims: Vec3 = [90, 80, 16];
  const tAffine = affine([1, 1, 3], [20, -45, -15], 20, true);
  const { values, coverage } = resampleOntoGrid(sourceOf(sDims, sAffine), { dims: sDims, affine: sAffine }, { dims: tDims, affine: tAffine });
  let inside = 0;
  let outside = 0;
  // The source's reach in its own voxel coordinates: −0.5 … n − 0.5 per axis.
  const inv = (p: Vec3): Vec3 => [(p[0] + 50) / 5.5, (p[1] + 40) / 5.5, (p[2] + 10) / 3.3];
  let p = 0;
  for (let k = 0; k < tDims[2]; k++) {
    for (let j = 0; j < tDims[1]; j++) {
      for (let i = 0; i < tDims[0]; i++, p++) {
        const w = world(tAffine, i, j, k);
        const v = inv(w);
        const reached = v.every((x, a) => x >= -0.5 && x <= sDims[a] - 0.5);
        const within = v.every((x, a) => x >= 0 && x <= sDims[a] - 1);
        if (!reached) {
          assert.ok(Number.isNaN(values[p]), `voxel ${i}, ${j}, ${k} lies outside the source`);
          outside++;
        } else if (within) {
          assert.ok(Math.abs(values[p] - f(...w)) < 1e-3 * Math.max(1, Math.abs(f(...w))), `voxel ${i}, ${j}, ${k}: ${values[p]} against ${f(...w)}`);
          inside++;
        } else assert.ok(Number.isFinite(values[p]), 'the half voxel past the edge takes the edge value');
      }
    }
  }
  assert.ok(inside > 1000 && outside > 1000, `both cases seen (${inside} inside, ${outside} outside)`);
  const finite = Array.from(values).filter((x) => Number.isFinite(x)).length;
  assert.equal(coverage, finite / values.length);
});

test('the same grid gives the values back; grids apart cover nothing; bad input is refused', () => {
  const dims: Vec3 = [5, 4, 3];
  const a = affine([2, 2, 2], [0, 0, 0], 30);
  const src = Float32Array.from({ length: 60 }, (_, n) => (n * 7919) % 101);
  const same = resampleOntoGrid(src, { dims, affine: a }, { dims, affine: a });
  assert.equal(same.coverage, 1);
  same.values.forEach((v, n) => assert.ok(Math.abs(v - src[n]) < 1e-4, `voxel ${n}`));
  const apart = resampleOntoGrid(src, { dims, affine: a }, { dims, affine: affine([2, 2, 2], [500, 0, 0], 30) });
  assert.equal(apart.coverage, 0);
  assert.throws(() => resampleOntoGrid(src.subarray(1), { dims, affine: a }, { dims, affine: a }), ResampleError);
  assert.throws(() => resampleOntoGrid(src, { dims, affine: Float64Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]) }, { dims, affine: a }), /singular/);
});
