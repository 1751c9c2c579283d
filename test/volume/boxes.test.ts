import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropVolume, extractPatch, flipInPlace, padVolume } from '../../src/volume/boxes';
import type { Vec3 } from '../../src/volume/vec3';

function ramp(dims: Vec3): Float32Array {
  const a = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37) * 10 + i * 0.001;
  return a;
}

test('extractPatch pads outside; padVolume/cropVolume round trip', () => {
  const dims: Vec3 = [3, 2, 2];
  const v = Float32Array.from({ length: 12 }, (_, i) => i + 1);
  const p = extractPatch(v, dims, [-1, 0, 0], [2, 1, 1], -5);
  assert.deepEqual([...p], [-5, 1]);
  const padded = padVolume(v, dims, [5, 4, 2], 0);
  assert.deepEqual(padded.dims, [5, 4, 2]);
  assert.deepEqual(padded.offset, [1, 1, 0]);
  const back = cropVolume(padded.data, padded.dims, padded.offset, dims);
  assert.deepEqual([...back], [...v]);
  assert.throws(() => cropVolume(v, dims, [2, 0, 0], [2, 2, 2]), /leaves the volume/);
});

test('flipInPlace twice is identity; flip x reverses rows', () => {
  const dims: Vec3 = [4, 3, 5];
  const v = ramp(dims);
  const w = Float32Array.from(v);
  flipInPlace(w, dims, [0]);
  assert.equal(w[0], v[3]);
  flipInPlace(w, dims, [1, 2]);
  flipInPlace(w, dims, [2, 1, 0]);
  assert.deepEqual(w, v);
});
