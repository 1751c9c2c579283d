import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rasterizeScribble, scribbleMiddle, scribbleSamples } from '../../src/interactive/scribble';
import { segmentFromPrompts, PromptError } from '../../src/interactive';
import { validatePrompts } from '../../src/interactive/prompts';
import { diceCoefficient, robotNegativeOutline, robotScribble } from '../../src/interactive/robotUser';
import { rasterizeLasso } from '../../src/interactive/lasso';
import type { Vec3 } from '../../src/volume/vec3';
import { ellipsoidPhantom, voxelIndex } from './phantom';

const DIMS: Vec3 = [12, 10, 6];

test('scribble: a stroke passes through each voxel on its way once, in the order drawn; one vertex is one voxel', () => {
  const s = rasterizeScribble({ points: [[1, 1, 2], [5, 3, 2], [5, 6.4, 2]], positive: true }, DIMS);
  assert.equal(s.positive, true);
  assert.deepEqual(s.voxels[0], [1, 1, 2]);
  assert.deepEqual(s.voxels[s.voxels.length - 1], [5, 6, 2]);
  // Consecutive voxels touch (26-neighbours) and none repeats.
  for (let q = 1; q < s.voxels.length; q++) assert.ok(s.voxels[q].every((x, a) => Math.abs(x - s.voxels[q - 1][a]) <= 1), `gap at ${q}`);
  assert.equal(new Set(s.voxels.map((v) => v.join())).size, s.voxels.length);
  assert.deepEqual(rasterizeScribble({ points: [[3.4, 2.6, 0]], positive: false }, DIMS).voxels, [[3, 3, 0]]);
  // Samples every 2 mm on 1 × 1 × 3 mm voxels along a straight 10-voxel stroke, both ends included.
  const line = rasterizeScribble({ points: [[0, 4, 1], [10, 4, 1]], positive: true }, DIMS);
  assert.deepEqual(scribbleSamples(line, [1, 1, 3], 2).map((v) => v[0]), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(scribbleMiddle(line, [1, 1, 3]), [5, 4, 1]);
});

test('scribble: PROMPTS take strokes, positive or negative, and refuse malformed ones with what is wrong', () => {
  const p = validatePrompts({ scribbles: [{ points: [[1, 1, 1], [4, 2, 1]], positive: true }] }, DIMS);
  assert.deepEqual(p, { points: [], boxes: [], scribbles: [{ points: [[1, 1, 1], [4, 2, 1]], positive: true }] });
  const refused: [unknown, RegExp][] = [
    [{ scribbles: [{ points: [[1, 1, 1]] }] }, /scribbles\[0\]\.positive must be true or false/],
    [{ scribbles: [{ points: [], positive: true }] }, /scribbles\[0\] has no points/],
    [{ scribbles: [[[1, 1, 1]]] }, /scribbles\[0\] must be \{"points"/],
    [{ scribbles: [{ points: [[1, 1, 40]], positive: true }] }, /scribbles\[0\]\.points\[0\] \[1, 1, 40\] lies outside the image/],
    [{ scribbles: [{ points: [[1, 1, 1]], positive: false }] }, /no positive point, box, lasso or scribble/],
    [{ strokes: [] }, /unknown field "strokes" \(allowed: points, boxes, lassos, scribbles\)/],
  ];
  for (const [prompts, message] of refused) assert.throws(() => validatePrompts(prompts, DIMS), (e: unknown) => e instanceof PromptError && message.test(e.message), JSON.stringify(prompts));
  // With an object so far, a negative stroke alone may cut it.
  assert.equal(validatePrompts({ scribbles: [{ points: [[1, 1, 1]], positive: false }] }, DIMS, true).scribbles?.length, 1);
});

test('segmentFromPrompts: a positive stroke stretches an object without edges to it; a negative one cuts it there and nowhere else', () => {
  // As bright as its surroundings (sarcoma against muscle): a click alone can only guess its extent.
  const faint = ellipsoidPhantom({ dims: [72, 56, 20], spacingMm: [1, 1, 3], semiAxesMm: [28, 12, 18], inside: 40, outside: 40, noise: 2, seed: 7 });
  const v = { values: faint.values, dims: faint.dims, spacingMm: faint.spacingMm };
  const c = faint.centre;
  const click = { voxel: c, positive: true };
  const first = segmentFromPrompts(v, { points: [click], boxes: [] });
  // A stroke along the object's long axis on the click's slice, to 2 mm inside each end.
  const along = { points: [[c[0] - 26, c[1], c[2]], [c[0] + 26, c[1], c[2]]] as Vec3[], positive: true };
  const stretched = segmentFromPrompts(v, { points: [click], boxes: [], scribbles: [along] }, { previous: first.mask });
  const before = diceCoefficient(first.mask, faint.reference);
  const after = diceCoefficient(stretched.mask, faint.reference);
  assert.ok(after > before + 0.1, `click ${before.toFixed(3)}, with the stroke ${after.toFixed(3)}`);
  for (const p of rasterizeScribble(along, faint.dims).voxels) assert.equal(stretched.mask[voxelIndex(faint.dims, p)], 1, `stroke voxel ${p.join(',')}`);
  // A negative stroke across the object's right end: its voxels and what lies beyond them go; the
  // left end, far from it, stays as it was.
  const across = { points: [[c[0] + 16, c[1] - 12, c[2]], [c[0] + 16, c[1] + 12, c[2]]] as Vec3[], positive: false };
  const leftHalf = { points: [[c[0] - 26, c[1], c[2]], [c[0], c[1], c[2]]] as Vec3[], positive: true };
  const cut = segmentFromPrompts(v, { points: [click], boxes: [], scribbles: [leftHalf, across] }, { previous: stretched.mask });
  for (const p of rasterizeScribble(across, faint.dims).voxels) assert.equal(cut.mask[voxelIndex(faint.dims, p)], 0, `negative stroke voxel ${p.join(',')}`);
  const beyond: Vec3 = [c[0] + 22, c[1], c[2]];
  assert.equal(stretched.mask[voxelIndex(faint.dims, beyond)], 1);
  assert.equal(cut.mask[voxelIndex(faint.dims, beyond)], 0, 'the end past the negative stroke is cut');
  for (let k = 0; k < faint.dims[2]; k++) {
    for (let j = 0; j < faint.dims[1]; j++) {
      for (let i = 0; i <= c[0] - 5; i++) assert.equal(cut.mask[voxelIndex(faint.dims, [i, j, k])], stretched.mask[voxelIndex(faint.dims, [i, j, k])], `voxel ${i},${j},${k} far from the cut`);
    }
  }
  // A stroke alone (no click) segments the object around its middle.
  const alone = segmentFromPrompts(v, { points: [], boxes: [], scribbles: [along] });
  assert.ok(alone.mask[voxelIndex(faint.dims, c)] === 1 && diceCoefficient(alone.mask, faint.reference) > before, `stroke alone ${diceCoefficient(alone.mask, faint.reference).toFixed(3)}`);
});

test('segmentFromPrompts: a negative outline around a leak clears what it encloses on its slice and cuts the object there, nowhere else', () => {
  const faint = ellipsoidPhantom({ dims: [72, 56, 20], spacingMm: [1, 1, 3], semiAxesMm: [28, 12, 18], inside: 40, outside: 40, noise: 2, seed: 7 });
  const v = { values: faint.values, dims: faint.dims, spacingMm: faint.spacingMm };
  const c = faint.centre;
  const click = { voxel: c, positive: true };
  const along = { points: [[c[0] - 26, c[1], c[2]], [c[0] + 26, c[1], c[2]]] as Vec3[], positive: true };
  const object = segmentFromPrompts(v, { points: [click], boxes: [], scribbles: [along] }).mask;
  // An outline around the right end on the click's slice, from i = c + 14 outwards, says it is not the object.
  const ring: Vec3[] = [[c[0] + 14, c[1] - 14, c[2]], [c[0] + 34, c[1] - 14, c[2]], [c[0] + 34, c[1] + 14, c[2]], [c[0] + 14, c[1] + 14, c[2]]];
  const cut = segmentFromPrompts(v, { points: [click], boxes: [], lassos: [{ points: ring, positive: false }] }, { previous: object }).mask;
  for (let j = c[1] - 14; j <= c[1] + 14; j++) for (let i = c[0] + 14; i <= c[0] + 34; i++) assert.equal(cut[voxelIndex(faint.dims, [i, j, c[2]])], 0, `enclosed voxel ${i},${j}`);
  // On the next slice, the object's end past the outline's edge goes too.
  let end = c[0];
  while (object[voxelIndex(faint.dims, [end + 1, c[1], c[2] + 1])]) end++;
  assert.ok(end >= c[0] + 16, `the object reaches i ${end} on the next slice`);
  assert.equal(cut[voxelIndex(faint.dims, [end, c[1], c[2] + 1])], 0, 'the end on the next slice is cut too');
  for (let k = 0; k < faint.dims[2]; k++) {
    for (let j = 0; j < faint.dims[1]; j++) {
      for (let i = 0; i <= c[0] - 5; i++) assert.equal(cut[voxelIndex(faint.dims, [i, j, k])], object[voxelIndex(faint.dims, [i, j, k])], `voxel ${i},${j},${k} far from the outline`);
    }
  }
  assert.ok(diceCoefficient(cut, faint.reference) < diceCoefficient(object, faint.reference), 'the outline took away object, as it said');
});

test('robot corrections: a stroke through the click along the error\'s section on its slice, 1 mm short of its edge; the outline of a leak\'s section', () => {
  const dims: Vec3 = [40, 30, 5];
  const n = dims[0] * dims[1] * dims[2];
  const reference = new Uint8Array(n);
  const prediction = new Uint8Array(n);
  // The reference is a 21 × 5 voxel bar on slice 2; the prediction has its left 6 columns, a
  // 6 × 5 voxel leak and a one-voxel one.
  for (let j = 12; j <= 16; j++) for (let i = 5; i <= 25; i++) reference[voxelIndex(dims, [i, j, 2])] = 1;
  for (let j = 12; j <= 16; j++) for (let i = 5; i <= 10; i++) prediction[voxelIndex(dims, [i, j, 2])] = 1;
  for (let j = 3; j <= 7; j++) for (let i = 28; i <= 33; i++) prediction[voxelIndex(dims, [i, j, 2])] = 1;
  prediction[voxelIndex(dims, [36, 25, 2])] = 1;
  const s = robotScribble({ voxel: [18, 14, 2], positive: true }, prediction, reference, dims, [1, 1, 3]);
  assert.equal(s.positive, true);
  assert.deepEqual(s.points, [[12, 14, 2], [18, 14, 2], [24, 14, 2]]);
  // A negative click in the one-voxel leak: the click alone.
  assert.deepEqual(robotScribble({ voxel: [36, 25, 2], positive: false }, prediction, reference, dims, [1, 1, 3]), { points: [[36, 25, 2]], positive: false });
  const outline = robotNegativeOutline({ voxel: [30, 5, 2], positive: false }, prediction, reference, dims);
  assert.ok(outline && outline.positive === false && outline.points.every((p) => p[2] === 2));
  const m = rasterizeLasso(outline, dims);
  assert.deepEqual(m.box, { min: [28, 3, 2], max: [33, 7, 2] });
  assert.ok(m.inside.every((x) => x === 1));
  assert.equal(robotNegativeOutline({ voxel: [18, 14, 2], positive: true }, prediction, reference, dims), null);
});

test('segmentFromPrompts: on a thresholded region (a small bright lesion on a whole-brain grid) a stroke as the only correction is taken by the region, not only painted', () => {
  const lesion = ellipsoidPhantom({ dims: [48, 48, 40], spacingMm: [1, 1, 1], semiAxesMm: [6, 4, 4], inside: 160, outside: 80, noise: 6, seed: 4 });
  const v = { values: lesion.values, dims: lesion.dims, spacingMm: lesion.spacingMm };
  const c = lesion.centre;
  // As for a brain FLAIR (segmentPromptedObject chooses these per image).
  const options = { regionLargeObjects: true, starPolarity: 'bright' as const };
  const click = { voxel: c, positive: true };
  const first = segmentFromPrompts(v, { points: [click], boxes: [] }, options);
  assert.ok(first.contrastRegion, 'the click gives a thresholded region');
  // A negative stroke across the lesion 3 mm right of the click, on its slice: the region is cut there.
  const across = { points: [[c[0] + 3, c[1] - 6, c[2]], [c[0] + 3, c[1] + 6, c[2]]] as Vec3[], positive: false };
  const cut = segmentFromPrompts(v, { points: [click], boxes: [], scribbles: [across] }, { ...options, previous: first.mask });
  const strokeVoxels = new Set(rasterizeScribble(across, lesion.dims).voxels.map((p) => voxelIndex(lesion.dims, p)));
  let elsewhere = 0;
  for (let n = 0; n < cut.mask.length; n++) if (cut.mask[n] !== first.mask[n] && !strokeVoxels.has(n)) elsewhere++;
  assert.ok(elsewhere > 20, `the region changed beyond the stroke's own voxels (${elsewhere} voxels)`);
  for (const n of strokeVoxels) assert.equal(cut.mask[n], 0);
});
