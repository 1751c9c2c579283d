import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelComponents } from '../../src/interactive/components';
import { PromptError } from '../../src/interactive';
import type { Vec3 } from '../../src/volume/vec3';

const DIMS: Vec3 = [4, 4, 4];
const at = (i: number, j: number, k: number): number => i + 4 * (j + 4 * k);

test('components: two voxels touching by a corner are one 26-component but two 6-components', () => {
  const m = new Uint8Array(64);
  m[at(0, 0, 0)] = 1;
  m[at(1, 1, 1)] = 1;
  m[at(3, 3, 3)] = 1;
  m[at(3, 3, 2)] = 1;
  const c26 = labelComponents(m, DIMS, 26);
  assert.deepEqual(c26.sizes, [2, 2]);
  assert.equal(c26.labels[at(0, 0, 0)], c26.labels[at(1, 1, 1)]);
  const c6 = labelComponents(m, DIMS, 6);
  assert.deepEqual(c6.sizes, [1, 1, 2]);
  assert.equal(c6.labels[at(2, 2, 2)], 0);
});

test('components: a component does not wrap around the edge of a row', () => {
  const m = new Uint8Array(64);
  m[at(3, 0, 0)] = 1;
  m[at(0, 1, 0)] = 1; // the next linear index, but 3 voxels away
  assert.equal(labelComponents(m, DIMS, 26).sizes.length, 2);
});

test('components: a mask of the wrong length is refused', () => {
  assert.throws(() => labelComponents(new Uint8Array(63), DIMS), PromptError);
});
