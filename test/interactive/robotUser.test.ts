import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clicksToReach, diceCoefficient, nextRobotClick, runRobotSession } from '../../src/interactive/robotUser';
import type { Vec3 } from '../../src/volume/vec3';
import { voxelIndex } from './phantom';

const DIMS: Vec3 = [12, 12, 6];
const SPACING: Vec3 = [1, 1, 3];

function cuboid(min: Vec3, max: Vec3): Uint8Array {
  const m = new Uint8Array(12 * 12 * 6);
  for (let k = min[2]; k <= max[2]; k++) for (let j = min[1]; j <= max[1]; j++) for (let i = min[0]; i <= max[0]; i++) m[voxelIndex(DIMS, [i, j, k])] = 1;
  return m;
}

test('robot: Dice of masks, with both empty counting as 1', () => {
  assert.equal(diceCoefficient([1, 1, 0, 0], [1, 0, 1, 0]), 0.5);
  assert.equal(diceCoefficient([0, 0], [0, 0]), 1);
  assert.throws(() => diceCoefficient([1], [1, 0]), /masks have 1 and 2 voxels/);
});

test('robot: the first click is positive at the deepest voxel (mm) of the largest reference component', () => {
  const ref = cuboid([1, 1, 1], [9, 9, 3]); // 9×9×3: deepest along k is the middle slice
  ref[voxelIndex(DIMS, [11, 11, 5])] = 1; // a small separate component is ignored
  const click = nextRobotClick(null, ref, DIMS, SPACING);
  assert.deepEqual(click, { voxel: [5, 5, 2], positive: true });
});

test('robot: later clicks go to the largest error component, negative where the reference is background', () => {
  const ref = cuboid([2, 2, 1], [5, 5, 2]);
  const over = cuboid([2, 2, 1], [11, 11, 4]); // a big false-positive region
  const neg = nextRobotClick(over, ref, DIMS, SPACING);
  assert.ok(neg && !neg.positive);
  assert.equal(ref[voxelIndex(DIMS, neg.voxel)], 0);
  assert.equal(over[voxelIndex(DIMS, neg.voxel)], 1);
  const under = cuboid([2, 2, 1], [2, 2, 1]);
  const pos = nextRobotClick(under, ref, DIMS, SPACING);
  assert.ok(pos && pos.positive);
  assert.equal(nextRobotClick(ref, ref, DIMS, SPACING), null);
});

test('robot: NoC counts clicks to reach a Dice, capped', () => {
  assert.equal(clicksToReach([0.5, 0.86, 0.91], 0.85), 2);
  assert.equal(clicksToReach([0.5, 0.86, 0.91], 0.9), 3);
  assert.equal(clicksToReach([0.5, 0.6], 0.9, 20), 20);
});

test('robot: a session stops past the minimum clicks once Dice reaches the stop value, and passes all clicks and the previous mask', () => {
  const ref = cuboid([2, 2, 1], [8, 8, 4]);
  const seen: number[] = [];
  const steps = runRobotSession({
    dims: DIMS,
    spacingMm: SPACING,
    reference: ref,
    clicks: 2,
    maxClicks: 20,
    segment: (points, previous) => {
      seen.push(points.length);
      // A segmenter that grows a cube around the first click by one voxel per click.
      const [ci, cj, ck] = points[0].voxel;
      const r = points.length;
      assert.equal(previous === null, points.length === 1);
      return cuboid([Math.max(2, ci - r), Math.max(2, cj - r), Math.max(1, ck - r)], [Math.min(8, ci + r), Math.min(8, cj + r), Math.min(4, ck + r)]);
    },
  });
  assert.deepEqual(seen, steps.map((_, n) => n + 1));
  assert.ok(steps.length >= 2 && steps.length < 20);
  assert.ok(steps[steps.length - 1].dice >= 0.9);
  assert.throws(() => runRobotSession({ dims: DIMS, spacingMm: SPACING, reference: ref, clicks: 0, segment: () => ref }), /clicks must be an integer ≥ 1/);
});

test('robot: an initial prediction (a box alone) is corrected from the first click; a perfect one needs none', () => {
  const ref = cuboid([2, 2, 1], [8, 8, 4]);
  const initial = cuboid([2, 2, 1], [11, 11, 4]); // the box's object reaches too far
  const firstClicks: { positive: boolean; previous: Uint8Array | null }[] = [];
  runRobotSession({
    dims: DIMS,
    spacingMm: SPACING,
    reference: ref,
    clicks: 1,
    initial,
    segment: (points, previous) => {
      firstClicks.push({ positive: points[0].positive, previous });
      return ref;
    },
  });
  assert.equal(firstClicks.length, 1);
  assert.equal(firstClicks[0].positive, false, 'the first click removes what the box added');
  assert.equal(firstClicks[0].previous, initial);
  const perfect = runRobotSession({ dims: DIMS, spacingMm: SPACING, reference: ref, clicks: 3, initial: ref, segment: () => assert.fail('no click needed') });
  assert.deepEqual(perfect.map((s) => s.dice), [1, 1, 1]);
});
