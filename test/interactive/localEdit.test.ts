import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentFromPrompts, PromptError } from '../../src/interactive';
import { applyLocalEdit, applyLocalEdits, distanceToOtherLabelMm } from '../../src/interactive/localEdit';
import { diceCoefficient } from '../../src/interactive/robotUser';
import type { Vec3 } from '../../src/volume/vec3';
import { countOnes, ellipsoidPhantom, voxelIndex } from './phantom';

const BLOB = ellipsoidPhantom({ dims: [64, 64, 24], spacingMm: [1, 1, 3], semiAxesMm: [16, 11, 20], inside: 100, outside: 40, noise: 10 });
const volume = { values: BLOB.values, dims: BLOB.dims, spacingMm: BLOB.spacingMm };
const c = BLOB.centre;

/** A 0/1 mask of `dims` that is 1 inside the box [min, max] (inclusive voxels). */
function boxMask(dims: Vec3, min: Vec3, max: Vec3): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = min[2]; k <= max[2]; k++) for (let j = min[1]; j <= max[1]; j++) for (let i = min[0]; i <= max[0]; i++) m[voxelIndex(dims, [i, j, k])] = 1;
  return m;
}

test('distanceToOtherLabelMm: distance in mm to the nearest voxel of the other label, on an anisotropic grid, capped at the limit', () => {
  const dims: Vec3 = [20, 20, 10];
  const mask = boxMask(dims, [5, 5, 2], [14, 14, 7]);
  // From (9, 9, 4): 5 voxels to i = 4 at 1 mm, 3 slices to k = 1 at 3 mm → 5 mm.
  assert.equal(distanceToOtherLabelMm(mask, dims, [1, 1, 3], [9, 9, 4], 100), 5);
  assert.equal(distanceToOtherLabelMm(mask, dims, [2, 2, 1], [9, 9, 4], 100), 3);
  // Outside: the nearest object voxel; and the limit when nothing is nearer.
  assert.equal(distanceToOtherLabelMm(mask, dims, [1, 1, 1], [2, 9, 4], 100), 3);
  assert.equal(distanceToOtherLabelMm(mask, dims, [1, 1, 1], [2, 9, 4], 2), 2);
});

test('applyLocalEdit: only the change connected to the click within its reach is taken', () => {
  const dims: Vec3 = [40, 20, 20];
  const previous = boxMask(dims, [2, 2, 2], [37, 17, 17]);
  const next = previous.slice();
  const near = boxMask(dims, [30, 2, 2], [37, 17, 17]); // cut away near the click
  const far = boxMask(dims, [2, 2, 2], [5, 17, 17]); // cut away far from it (collateral)
  for (let v = 0; v < next.length; v++) if (near[v] || far[v]) next[v] = 0;
  const click = { voxel: [35, 10, 10] as Vec3, positive: false };
  const { mask, roi } = applyLocalEdit(previous, next, dims, [1, 1, 1], click, { reachFactor: 3, minReachMm: 5 });
  assert.equal(mask[voxelIndex(dims, click.voxel)], 0);
  assert.equal(mask[voxelIndex(dims, [33, 10, 10])], 0);
  assert.equal(mask[voxelIndex(dims, [3, 10, 10])], 1, 'the far change is not taken');
  assert.equal(mask[voxelIndex(dims, [20, 10, 10])], 1);
  // The click lies 3 mm from the outside: the edit reaches 9 mm, and the box bounds it.
  assert.ok(roi.min[0] >= 35 - 9 && roi.max[0] <= 39, JSON.stringify(roi));
  // A click whose own voxel did not change takes the changed voxels nearest to it.
  const beside = applyLocalEdit(previous, next, dims, [1, 1, 1], { voxel: [27, 10, 10], positive: false }, { reachFactor: 3, minReachMm: 5 });
  assert.equal(beside.mask[voxelIndex(dims, [31, 10, 10])], 0);
  assert.equal(beside.mask[voxelIndex(dims, [3, 10, 10])], 1);
  // Nothing changed within reach: the object so far is returned unchanged.
  assert.deepEqual(applyLocalEdit(previous, previous, dims, [1, 1, 1], click, { reachFactor: 3, minReachMm: 5 }).mask, previous);
});

test('applyLocalEdits: several clicks (a stroke) take the changes connected to any of them within reach, as one click would each', () => {
  const dims: Vec3 = [40, 20, 20];
  const previous = boxMask(dims, [2, 2, 2], [37, 17, 17]);
  const next = previous.slice();
  // Three cuts: at each end, where the clicks are, and one in the middle that no click reaches.
  for (const [min, max] of [[[30, 2, 2], [37, 17, 17]], [[2, 2, 2], [6, 17, 17]], [[18, 2, 2], [20, 17, 17]]] as [Vec3, Vec3][]) {
    const cut = boxMask(dims, min, max);
    for (let v = 0; v < next.length; v++) if (cut[v]) next[v] = 0;
  }
  const clicks = [{ voxel: [35, 10, 10] as Vec3, positive: false }, { voxel: [4, 10, 10] as Vec3, positive: false }];
  const o = { reachFactor: 3, minReachMm: 5 };
  const both = applyLocalEdits(previous, next, dims, [1, 1, 1], clicks, o);
  assert.equal(both.mask[voxelIndex(dims, [33, 10, 10])], 0);
  assert.equal(both.mask[voxelIndex(dims, [4, 12, 12])], 0);
  assert.equal(both.mask[voxelIndex(dims, [19, 10, 10])], 1, 'the middle cut, beyond every reach, is not taken');
  // The same as the clicks applied one after the other here, and one click alone is applyLocalEdit.
  const one = applyLocalEdit(previous, next, dims, [1, 1, 1], clicks[0], o);
  assert.deepEqual(both.mask, applyLocalEdit(one.mask, next, dims, [1, 1, 1], clicks[1], o).mask);
  assert.deepEqual(applyLocalEdits(previous, next, dims, [1, 1, 1], clicks.slice(0, 1), o), one);
});

test('segmentFromPrompts: a correction click changes the object so far only near the click', () => {
  const first = segmentFromPrompts(volume, { points: [{ voxel: c, positive: true }], boxes: [] }).mask;
  // The object so far holds a stray patch 4 mm beyond the object's −i end (an earlier mistake).
  const previous = first.slice();
  const patch = boxMask(BLOB.dims, [c[0] - 20, c[1] - 2, c[2]], [c[0] - 17, c[1] + 1, c[2] + 1]);
  for (let v = 0; v < previous.length; v++) previous[v] |= patch[v];
  const negative: Vec3 = [c[0] + 12, c[1], c[2]]; // inside, 4 mm from the +i end
  const prompts = { points: [{ voxel: c, positive: true }, { voxel: negative, positive: false }], boxes: [] };
  const local = segmentFromPrompts(volume, prompts, { previous }).mask;
  assert.equal(local[voxelIndex(BLOB.dims, negative)], 0);
  assert.equal(local[voxelIndex(BLOB.dims, c)], 1);
  assert.equal(local[voxelIndex(BLOB.dims, [c[0] - 18, c[1], c[2]])], 1, 'the stray patch, far from the click, stays');
  // Recomputed as a whole (localEditFactor 0), the object loses the patch as well.
  const whole = segmentFromPrompts(volume, prompts, { previous, localEditFactor: 0 }).mask;
  assert.equal(whole[voxelIndex(BLOB.dims, [c[0] - 18, c[1], c[2]])], 0);
  assert.equal(whole[voxelIndex(BLOB.dims, negative)], 0);
});

test('segmentFromPrompts: with an object so far, prompts holding only the new click correct it (a caller without click history)', () => {
  const first = segmentFromPrompts(volume, { points: [{ voxel: c, positive: true }], boxes: [] }).mask;
  const negative: Vec3 = [c[0] + 12, c[1], c[2]];
  const cut = segmentFromPrompts(volume, { points: [{ voxel: negative, positive: false }], boxes: [] }, { previous: first }).mask;
  assert.equal(cut[voxelIndex(BLOB.dims, negative)], 0);
  assert.equal(cut[voxelIndex(BLOB.dims, c)], 1);
  assert.ok(countOnes(cut) < countOnes(first));
  const withHistory = segmentFromPrompts(volume, { points: [{ voxel: c, positive: true }, { voxel: negative, positive: false }], boxes: [] }, { previous: first }).mask;
  assert.ok(diceCoefficient(cut, withHistory) > 0.95, `Dice ${diceCoefficient(cut, withHistory)}`);
  // A positive click outside the object so far grows it there and keeps the rest.
  const shrunk = segmentFromPrompts(volume, { points: [{ voxel: c, positive: true }, { voxel: [c[0] + 9, c[1], c[2]], positive: false }], boxes: [] }).mask;
  const outside: Vec3 = [c[0] + 11, c[1], c[2]];
  assert.equal(shrunk[voxelIndex(BLOB.dims, outside)], 0);
  const grown = segmentFromPrompts(volume, { points: [{ voxel: outside, positive: true }], boxes: [] }, { previous: shrunk }).mask;
  assert.equal(grown[voxelIndex(BLOB.dims, outside)], 1);
  assert.equal(grown[voxelIndex(BLOB.dims, c)], 1);
  assert.ok(countOnes(grown) > countOnes(shrunk));
  assert.ok(diceCoefficient(grown, BLOB.reference) > diceCoefficient(shrunk, BLOB.reference));
  // Without an object so far, a negative click alone is still refused.
  assert.throws(() => segmentFromPrompts(volume, { points: [{ voxel: negative, positive: false }], boxes: [] }), (e: unknown) => e instanceof PromptError && /no positive point/.test(e.message));
  assert.throws(() => segmentFromPrompts(volume, { points: [{ voxel: c, positive: true }], boxes: [] }, { localEditFactor: -1 }), PromptError);
});
