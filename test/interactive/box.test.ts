import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxSize, cropMask, cropToFloat32, growBoxMm, maskBoundingBox, pasteMask, unionBox } from '../../src/interactive/box';
import type { Vec3 } from '../../src/volume/vec3';

const DIMS: Vec3 = [6, 5, 4];

test('box: growBoxMm converts the margin per axis and clips to the grid', () => {
  const b = growBoxMm({ min: [2, 2, 2], max: [3, 2, 2] }, 2, [1, 0.5, 3], DIMS);
  assert.deepEqual(b, { min: [0, 0, 1], max: [5, 4, 3] });
  assert.deepEqual(boxSize(b), [6, 5, 3]);
});

test('box: crop then paste puts the same voxels back, and cropToFloat32 reads the same region', () => {
  const mask = new Uint8Array(6 * 5 * 4);
  const values = new Float32Array(mask.length).map((_, v) => v);
  mask[1 + 6 * (2 + 5 * 3)] = 1;
  const box = { min: [1, 1, 2] as Vec3, max: [3, 3, 3] as Vec3 };
  const crop = cropMask(mask, DIMS, box);
  assert.equal(crop.reduce((a, b) => a + b, 0), 1);
  assert.equal(cropToFloat32(values, DIMS, box)[0], 1 + 6 * (1 + 5 * 2));
  const target = new Uint8Array(mask.length);
  pasteMask(target, DIMS, box, crop);
  assert.deepEqual(target, mask);
});

test('box: maskBoundingBox is null for an empty mask and tight otherwise', () => {
  const mask = new Uint8Array(6 * 5 * 4);
  assert.equal(maskBoundingBox(mask, DIMS), null);
  mask[4 + 6 * (1 + 5 * 0)] = 1;
  mask[2 + 6 * (3 + 5 * 2)] = 1;
  assert.deepEqual(maskBoundingBox(mask, DIMS), { min: [2, 1, 0], max: [4, 3, 2] });
});

test('unionBox: the smallest box holding both', () => {
  assert.deepEqual(unionBox({ min: [2, 5, 1], max: [4, 9, 3] }, { min: [3, 0, 2], max: [8, 6, 2] }), { min: [2, 0, 1], max: [8, 9, 3] });
});
