import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepestVoxelsOfLargestComponents, perturbObject, simulatePrompts } from '../../src/interactive/clickSimulation';
import { distanceTransformMm } from '../../src/interactive/distanceTransform';
import { seededRandom } from '../../src/util/random';

const P = 24;
const at = (a: number, b: number, c: number): number => (c * P + b) * P + a;

function ball(cx: number, cy: number, cz: number, r: number): Uint8Array {
  const m = new Uint8Array(P ** 3);
  for (let c = 0; c < P; c++) for (let b = 0; b < P; b++) for (let a = 0; a < P; a++) if ((a - cx) ** 2 + (b - cy) ** 2 + (c - cz) ** 2 <= r * r) m[at(a, b, c)] = 1;
  return m;
}

test('clickSimulation: deepest voxels of the largest components, largest first', () => {
  const m = ball(6, 6, 6, 4);
  const small = ball(18, 18, 18, 2);
  for (let v = 0; v < m.length; v++) m[v] |= small[v];
  assert.deepEqual(deepestVoxelsOfLargestComponents(m, P, 2), [[6, 6, 6], [18, 18, 18]]);
  assert.deepEqual(deepestVoxelsOfLargestComponents(new Uint8Array(P ** 3), P, 2), []);
});

test('clickSimulation: every kind of interaction is simulated, with clicks that tell the truth', () => {
  const target = ball(12, 12, 12, 7);
  const random = seededRandom(5);
  const kinds = new Set<string>();
  for (let n = 0; n < 40; n++) {
    const s = simulatePrompts(target, P, [12, 12, 12], random);
    kinds.add(s.kind);
    for (const c of s.clicks) {
      assert.equal(target[at(...c.at)] === 1, c.positive, `${s.kind}: click at ${c.at} says positive=${c.positive}`);
      assert.equal((c.positive ? s.positive : s.negative)[at(...c.at)], 1);
    }
    if (s.kind === 'first click') assert.deepEqual(s.clicks, [{ at: [12, 12, 12], positive: true }]);
    if (s.kind.startsWith('box')) {
      // The box holds the object's extent on its slice: no object voxel of a boxed slice lies outside it.
      for (let v = 0; v < target.length; v++) {
        const sliceBoxed = s.boxes.slice(Math.floor(v / (P * P)) * P * P, (Math.floor(v / (P * P)) + 1) * P * P).some((x) => x === 1);
        if (sliceBoxed && target[v]) assert.equal(s.boxes[v], 1);
      }
    }
    if (s.kind === 'correction') assert.ok(s.previous.some((x) => x === 1) || s.clicks.some((c) => c.positive));
  }
  assert.deepEqual([...kinds].sort(), ['box', 'box and click', 'correction', 'first click']);
});

test('clickSimulation: a perturbed object differs from the target but overlaps it', () => {
  const target = ball(12, 12, 12, 7);
  const dt = distanceTransformMm(target, [P, P, P], [1, 1, 1], true);
  const random = seededRandom(9);
  let differed = 0;
  for (let n = 0; n < 10; n++) {
    const prev = perturbObject(target, P, random, dt);
    let inter = 0;
    let diff = 0;
    for (let v = 0; v < prev.length; v++) {
      inter += prev[v] & target[v];
      diff += prev[v] !== target[v] ? 1 : 0;
    }
    if (diff > 0) differed++;
    assert.ok(inter > 0, 'the perturbed object keeps part of the target');
  }
  assert.ok(differed >= 8, `${differed} of 10 perturbations changed the object`);
});
