import { test } from 'node:test';
import assert from 'node:assert/strict';
import { componentsFromSeeds, fillHoles, fillHolesInSlices, labelAtOrNearest, labelComponents } from '../../src/interactive/components';
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

test('componentsFromSeeds: the components holding a seed, as labelComponents finds them; background seeds and other components are left out', () => {
  const m = new Uint8Array(64);
  for (const v of [at(0, 0, 0), at(1, 1, 1), at(3, 3, 3), at(3, 3, 2), at(3, 0, 0), at(0, 1, 0)]) m[v] = 1;
  const { labels } = labelComponents(m, DIMS, 26);
  const expected = Uint8Array.from(labels, (l) => (l === labels[at(0, 0, 0)] || l === labels[at(3, 0, 0)] ? 1 : 0));
  assert.deepEqual(componentsFromSeeds(m, DIMS, [at(1, 1, 1), at(3, 0, 0), at(2, 2, 2)], 26), expected);
  assert.equal(componentsFromSeeds(m, DIMS, [at(1, 1, 1)], 6).reduce((a, b) => a + b, 0), 1);
  assert.throws(() => componentsFromSeeds(new Uint8Array(63), DIMS, [0]), PromptError);
});

test('fillHoles: an enclosed cavity is filled; a cavity open to the outside, the outside and the input are not', () => {
  const dims: Vec3 = [9, 9, 9];
  const idx = (i: number, j: number, k: number): number => i + 9 * (j + 9 * k);
  const shell = new Uint8Array(729);
  for (let k = 2; k <= 6; k++) for (let j = 2; j <= 6; j++) for (let i = 2; i <= 6; i++) if (Math.max(Math.abs(i - 4), Math.abs(j - 4), Math.abs(k - 4)) === 2) shell[idx(i, j, k)] = 1;
  const filled = fillHoles(shell, dims);
  assert.equal(filled[idx(4, 4, 4)], 1);
  assert.equal(filled.reduce((a, b) => a + b, 0), 125);
  assert.equal(filled[idx(0, 0, 0)], 0);
  assert.equal(shell[idx(4, 4, 4)], 0, 'the input is not changed');
  // A channel from the cavity to the outside (through the face at i = 6) keeps it open.
  const open = Uint8Array.from(shell);
  open[idx(6, 4, 4)] = 0;
  const openFilled = fillHoles(open, dims);
  assert.equal(openFilled[idx(4, 4, 4)], 0);
  assert.equal(openFilled.reduce((a, b) => a + b, 0), 97);
  assert.equal(fillHoles(new Uint8Array(729), dims).some((v) => v !== 0), false);
  assert.throws(() => fillHoles(new Uint8Array(5), dims), PromptError);
});

test('fillHolesInSlices: a tube open at both ends has its lumen filled in slices across its axis, not along it; fillHoles (3-D) leaves it open', () => {
  const dims: Vec3 = [12, 12, 10];
  const tube = new Uint8Array(12 * 12 * 10);
  for (let k = 0; k < 10; k++) {
    for (let j = 2; j <= 9; j++) for (let i = 2; i <= 9; i++) if (i === 2 || i === 9 || j === 2 || j === 9) tube[i + 12 * (j + 12 * k)] = 1;
  }
  const lumen = 5 + 12 * (5 + 12 * 5);
  assert.equal(fillHoles(tube, dims)[lumen], 0);
  const acrossK = fillHolesInSlices(tube, dims, 2);
  assert.equal(acrossK[lumen], 1);
  assert.equal(acrossK.reduce((a, b) => a + b, 0), 8 * 8 * 10);
  assert.deepEqual(fillHolesInSlices(tube, dims, 0), tube);
  assert.equal(fillHolesInSlices(new Uint8Array(12 * 12 * 10), dims, 1).reduce((a, b) => a + b, 0), 0);
  assert.throws(() => fillHolesInSlices(tube, [12, 12, 9], 2), /fillHolesInSlices: mask has 1440 values/);
});

test('labelAtOrNearest: the label at the voxel, else the nearest labelled voxel in mm, else 0', () => {
  const dims: Vec3 = [6, 1, 3];
  const labels = new Int32Array(18);
  labels[0] = 1; // (0, 0, 0)
  labels[2 * 6 + 5] = 2; // (5, 0, 2)
  assert.equal(labelAtOrNearest(labels, dims, [1, 1, 1], [0, 0, 0]), 1);
  assert.equal(labelAtOrNearest(labels, dims, [1, 1, 1], [2, 0, 0]), 1, '2 mm from label 1, 3.6 mm from label 2');
  assert.equal(labelAtOrNearest(labels, dims, [1, 1, 1], [0, 0, 2]), 1, '2 mm from label 1, 5 mm from label 2');
  assert.equal(labelAtOrNearest(labels, dims, [1, 1, 4], [0, 0, 2]), 2, 'with 4 mm slices: 8 mm from label 1, 5 mm from label 2');
  assert.equal(labelAtOrNearest(new Int32Array(18), dims, [1, 1, 1], [3, 0, 1]), 0);
});
