import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidatesForMasks, choosePostprocessing, describePostprocessingChoice, predictionsDice } from '../../src/ml/training/postprocessingChoice';
import type { Vec3 } from '../../src/volume/vec3';

const dims: Vec3 = [20, 20, 20];
const at = (i: number, j: number, k: number): number => (k * dims[1] + j) * dims[0] + i;

/** A mask with cubes of the given sides, their corners spread along the diagonal. */
function cubes(...sides: number[]): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  let corner = 0;
  for (const s of sides) {
    for (let k = corner; k < corner + s; k++) for (let j = corner; j < corner + s; j++) for (let i = corner; i < corner + s; i++) m[at(i, j, k)] = 1;
    corner += s + 1;
  }
  return m;
}

test('candidatesForMasks: keeping the largest k is a candidate only when the largest k lesions hold ≥ 90 % of every training mask', () => {
  // One lesion (a whole tumour) per mask: every candidate.
  assert.deepEqual(candidatesForMasks([{ labels: cubes(6), dims }, { labels: cubes(5, 1), dims }]).allowed, [0, 1, 2]);
  // Many lesions of similar size (MS): keep all only, and the reason is given.
  const ms = candidatesForMasks([{ labels: cubes(6), dims }, { labels: cubes(3, 3, 3, 3), dims }]);
  assert.deepEqual(ms.allowed, [0]);
  assert.match(ms.notTried[0], /largest1: the largest 1 lesion\(s\) hold only 25 % of a training mask's lesion voxels/);
  // Two lesions of equal size: the largest two, not the largest one.
  assert.deepEqual(candidatesForMasks([{ labels: cubes(4, 4), dims }]).allowed, [0, 2]);
  // An empty mask does not veto (it has no lesion to lose).
  assert.deepEqual(candidatesForMasks([{ labels: cubes(), dims }, { labels: cubes(6), dims }]).allowed, [0, 1, 2]);
});

test('choosePostprocessing: a candidate replaces the base choice only when it validates clearly better', () => {
  const reference = cubes(6);
  // The prediction finds the lesion and two false bright spots.
  const withSpots = cubes(6, 2, 2);
  const predictions = [{ labels: withSpots, reference, dims }];
  const chosen = choosePostprocessing(predictions, [0, 1, 2], undefined);
  assert.deepEqual(chosen.postprocessing, { keepLargestComponents: 1 });
  assert.equal(chosen.validationDice.largest1, 1);
  assert.ok(chosen.validationDice.keepAll < 0.97);
  assert.match(describePostprocessingChoice(chosen), /^post-processing: keep the largest lesion \(validation Dice keepAll 0\.9\d\d, largest1 1\.000, largest2 0\.9\d\d\)$/);
  // Only allowed candidates are tried.
  assert.deepEqual(choosePostprocessing(predictions, [0], undefined).postprocessing, {});
  assert.deepEqual(Object.keys(choosePostprocessing(predictions, [0], undefined).validationDice), ['keepAll']);
  // A tie keeps the base's choice, whichever it is.
  const exact = [{ labels: reference, reference, dims }];
  assert.deepEqual(choosePostprocessing(exact, [0, 1, 2], { keepLargestComponents: 2 }).postprocessing, { keepLargestComponents: 2 });
  assert.deepEqual(choosePostprocessing(exact, [0, 1, 2], undefined).postprocessing, {});
  // A base choice the new masks do not allow falls back to keep all.
  assert.deepEqual(choosePostprocessing(exact, [0], { keepLargestComponents: 1 }).postprocessing, {});
});

test('predictionsDice scores a version as it segments: with its card’s post-processing', () => {
  const reference = cubes(6);
  const predictions = [{ labels: cubes(6, 5), reference, dims }];
  // Raw: 216 true voxels and a false 125-voxel lesion; keeping the largest lesion drops it.
  assert.equal(predictionsDice(predictions), (2 * 216) / (216 + 341));
  assert.equal(predictionsDice(predictions, {}), predictionsDice(predictions));
  assert.equal(predictionsDice(predictions, { keepLargestComponents: 1 }), 1);
});

test('a card\'s threshold: predictionsDice re-thresholds the probability, and fine-tuning\'s choice keeps the base\'s threshold', () => {
  const reference = cubes(6);
  // The lesion's voxels at p 0.4 (under 0.5: not in the labels), a false spot at 0.2.
  const probability = new Float32Array(reference.length);
  reference.forEach((r, v) => (probability[v] = r ? 0.4 : 0));
  const spot = cubes(6, 2);
  spot.forEach((s, v) => (probability[v] = s && !reference[v] ? 0.2 : probability[v]));
  const predictions = [{ labels: new Uint8Array(reference.length), probability, reference, dims }];
  assert.equal(predictionsDice(predictions), 0);
  assert.equal(predictionsDice(predictions, { threshold: 0.3 }), 1);
  assert.equal(predictionsDice(predictions, { threshold: 0.1 }), (2 * 216) / (216 + 224));
  assert.equal(predictionsDice(predictions, { threshold: 0.1, keepLargestComponents: 1 }), 1);
  const chosen = choosePostprocessing(predictions, [0, 1], { threshold: 0.3 });
  assert.deepEqual(chosen.postprocessing, { threshold: 0.3 });
  assert.deepEqual(chosen.validationDice, { keepAll: 1, largest1: 1 });
  assert.match(describePostprocessingChoice(chosen), /^post-processing: keep every lesion at threshold 0\.3 \(the base's\) \(validation Dice keepAll 1\.000, largest1 1\.000\)$/);
});
