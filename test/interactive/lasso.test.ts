import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lassoCentre, lassoEncloses, lassoRayBounds, lassoSections, outlineOfRegion, rasterizeLasso } from '../../src/interactive/lasso';
import { labelComponents } from '../../src/interactive/components';
import { segmentFromPrompts, PromptError } from '../../src/interactive';
import { diceCoefficient } from '../../src/interactive/robotUser';
import type { Vec3 } from '../../src/volume/vec3';
import { ellipsoidPhantom, normalNoise, voxelIndex } from './phantom';

const DIMS: Vec3 = [12, 10, 6];

test('lasso: a square through voxel centres encloses them, edges included; a fractional outline only the centres inside', () => {
  const square = rasterizeLasso({ points: [[2, 2, 4], [6, 2, 4], [6, 5, 4], [2, 5, 4]] }, DIMS);
  assert.deepEqual(square.box, { min: [2, 2, 4], max: [6, 5, 4] });
  assert.equal(square.axis, 2);
  assert.ok(square.inside.every((v) => v === 1));
  // A triangle with fractional corners: the centres (3, 3), (4, 3), (3, 4) lie inside, (4, 4) outside.
  const tri = rasterizeLasso({ points: [[2.6, 2.6, 1], [5.3, 2.6, 1], [2.6, 5.3, 1]] }, DIMS);
  for (const [p, inside] of [[[3, 3, 1], true], [[4, 3, 1], true], [[3, 4, 1], true], [[4, 4, 1], false], [[3, 3, 2], false]] as [Vec3, boolean][]) {
    assert.equal(lassoEncloses(tri, p), inside, `voxel ${p.join(',')}`);
  }
  // An outline on a sagittal slice (i constant) lies across i.
  const sagittal = rasterizeLasso({ points: [[7, 1, 1], [7, 8, 1], [7, 8, 4], [7, 1, 4]] }, DIMS);
  assert.equal(sagittal.axis, 0);
  assert.deepEqual(sagittal.box, { min: [7, 1, 1], max: [7, 8, 4] });
});

test('lasso: outlines that cannot be one are refused with what is wrong', () => {
  assert.throws(() => rasterizeLasso({ points: [[1, 1, 1], [4, 4, 1]] }, DIMS), (e: unknown) => e instanceof PromptError && /at least 3 points/.test(e.message));
  assert.throws(() => rasterizeLasso({ points: [[1, 1, 1], [4, 4, 2], [1, 4, 3]] }, DIMS), /does not lie in one slice/);
  // A sliver between two rows of voxel centres.
  assert.throws(() => rasterizeLasso({ points: [[1, 1.2, 1], [6, 1.2, 1], [6, 1.8, 1], [1, 1.8, 1]] }, DIMS, 'lassos[2]'), /lassos\[2\] encloses no voxel/);
});

test('lasso: the outline of a region along its voxels\' edges encloses that region again (its largest part, holes filled)', () => {
  const [nx, ny] = [40, 30];
  const plane = new Uint8Array(nx * ny);
  const rnd = normalNoise(3);
  // A blobby region with a hole, a diagonal-only neighbour and a smaller second part.
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (((x - 15) / 11) ** 2 + ((y - 14) / 9) ** 2 + 0.15 * rnd() < 1) plane[y * nx + x] = 1;
  plane[14 * nx + 15] = 0; // hole
  plane[2 * nx + 35] = plane[3 * nx + 35] = plane[3 * nx + 36] = 1; // second part
  plane[25 * nx + 30] = 1; // touches nothing
  const outline = outlineOfRegion(plane, [nx, ny], 2, 3);
  assert.ok(outline && outline.points.every((p) => p[2] === 3 && Number.isInteger(p[0] - 0.5) && Number.isInteger(p[1] - 0.5)));
  const back = rasterizeLasso(outline, [nx, ny, 5]);
  const { labels, sizes } = labelComponents(plane, [nx, ny, 1], 6);
  const largest = 1 + sizes.indexOf(Math.max(...sizes));
  // Holes: the background's 8-connected parts that do not reach the slice's edge.
  const background = Uint8Array.from(plane, (x) => 1 - x);
  const holes = labelComponents(background, [nx, ny, 1], 26).labels;
  const open = new Set<number>();
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (x === 0 || y === 0 || x === nx - 1 || y === ny - 1) open.add(holes[y * nx + x]);
  assert.ok(holes[14 * nx + 15] > 0 && !open.has(holes[14 * nx + 15]));
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      const expected = labels[y * nx + x] === largest || (holes[y * nx + x] > 0 && !open.has(holes[y * nx + x]));
      assert.equal(lassoEncloses(back, [x, y, 3]), expected, `voxel ${x},${y}`);
    }
  }
  assert.equal(outlineOfRegion(new Uint8Array(4), [2, 2], 2, 0), null);
});

test('lasso: its centre is the enclosed voxel deepest inside; a ray is object where the lasso encloses it and ends where it leaves', () => {
  const l = rasterizeLasso({ points: [[1, 1, 3], [9, 1, 3], [9, 9, 3], [1, 9, 3]] }, DIMS);
  assert.deepEqual(lassoCentre(l, [1, 1, 1]), [5, 5, 3]);
  // From the centre along +i, sampled every 0.5 mm on 1 mm voxels: enclosed up to i = 9 (8
  // samples out); the next sample rounds to i = 10, outside.
  assert.deepEqual(lassoRayBounds(lassoSections([l]), [5, 5, 3], [1, 0, 0], [1, 1, 1], 0.5, 40), { lo: 8, hi: 8 });
  // A shorter ray (its samples end inside the image's ROI) is enclosed to its end.
  assert.deepEqual(lassoRayBounds(lassoSections([l]), [5, 5, 3], [0, -1, 0], [1, 1, 1], 0.5, 6), { lo: 5, hi: Infinity });
  // Straight across the slice: the centre's sample and the next (k 3.5, within the slice's half thickness).
  assert.deepEqual(lassoRayBounds(lassoSections([l]), [5, 5, 3], [0, 0, 1], [1, 1, 1], 0.5, 40), { lo: 1, hi: Infinity });
  // A ray that never reaches the slice says nothing.
  assert.equal(lassoRayBounds(lassoSections([l]), [5, 5, 0], [1, 0, 0], [1, 1, 1], 0.5, 10), null);
  // A ray from another slice that meets the lasso's slice outside the outline: the object ends before.
  // (Sample 10 is the first on the slice, at i 9.75: outside.)
  const d = Math.hypot(0.95, 0.3122);
  assert.deepEqual(lassoRayBounds(lassoSections([l]), [5, 5, 1], [0.95 / d, 0, 0.3122 / d], [1, 1, 1], 0.5, 40), { lo: 0, hi: 9 });
});

test('segmentFromPrompts: a lasso gives an object without edges its outline on the slice and its shape around it', () => {
  // As bright as its surroundings (sarcoma against muscle): only noise shows.
  const faint = ellipsoidPhantom({ dims: [64, 64, 24], spacingMm: [1, 1, 3], semiAxesMm: [16, 11, 20], inside: 40, outside: 40, noise: 2, seed: 5 });
  const v = { values: faint.values, dims: faint.dims, spacingMm: faint.spacingMm };
  const c = faint.centre;
  const [nx, ny] = faint.dims;
  const outline = outlineOfRegion(faint.reference.subarray(c[2] * nx * ny, (c[2] + 1) * nx * ny), [nx, ny], 2, c[2]);
  assert.ok(outline);
  const lasso = segmentFromPrompts(v, { points: [], boxes: [], lassos: [outline] });
  const dice = diceCoefficient(lasso.mask, faint.reference);
  const click = diceCoefficient(segmentFromPrompts(v, { points: [{ voxel: c, positive: true }], boxes: [] }).mask, faint.reference);
  const slice = { min: [c[0] - 16, c[1] - 11, c[2]] as Vec3, max: [c[0] + 16, c[1] + 11, c[2]] as Vec3 };
  const box = diceCoefficient(segmentFromPrompts(v, { points: [{ voxel: c, positive: true }], boxes: [slice] }).mask, faint.reference);
  assert.ok(dice > 0.85 && dice > click + 0.2 && dice >= box, `lasso ${dice.toFixed(3)}, click ${click.toFixed(3)}, click and slice box ${box.toFixed(3)}`);
  // The lasso's slice is exactly what it encloses.
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) assert.equal(lasso.mask[voxelIndex(faint.dims, [i, j, c[2]])], faint.reference[voxelIndex(faint.dims, [i, j, c[2]])]);
  assert.ok(lasso.roi.min[2] <= c[2] && lasso.roi.max[2] >= c[2]);
  // Without its shape prior the lasso still bounds the object and sets its slice.
  const boundOnly = diceCoefficient(segmentFromPrompts(v, { points: [], boxes: [], lassos: [outline] }, { lassoPriorWeight: 0 }).mask, faint.reference);
  assert.ok(dice > boundOnly + 0.05, `prior ${dice.toFixed(3)}, bound only ${boundOnly.toFixed(3)}`);
  // A negative click then cuts the object near it.
  const cutAt: Vec3 = [c[0], c[1], c[2] + 5];
  assert.equal(lasso.mask[voxelIndex(faint.dims, cutAt)], 1);
  const cut = segmentFromPrompts(v, { points: [{ voxel: cutAt, positive: false }], boxes: [], lassos: [outline] }, { previous: lasso.mask });
  assert.equal(cut.mask[voxelIndex(faint.dims, cutAt)], 0);
});

test('segmentFromPrompts: outlines on an axial and a sagittal slice, each exact on its slice', () => {
  const blob = ellipsoidPhantom({ dims: [48, 48, 20], spacingMm: [1, 1, 3], semiAxesMm: [14, 10, 18], inside: 60, outside: 40, noise: 6, seed: 2 });
  const v = { values: blob.values, dims: blob.dims, spacingMm: blob.spacingMm };
  const c = blob.centre;
  const [nx, ny, nz] = blob.dims;
  const axial = outlineOfRegion(blob.reference.subarray(c[2] * nx * ny, (c[2] + 1) * nx * ny), [nx, ny], 2, c[2]);
  const sagittalPlane = new Uint8Array(ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) sagittalPlane[k * ny + j] = blob.reference[voxelIndex(blob.dims, [c[0] + 3, j, k])];
  const sagittal = outlineOfRegion(sagittalPlane, [ny, nz], 0, c[0] + 3);
  assert.ok(axial && sagittal);
  const r = segmentFromPrompts(v, { points: [], boxes: [], lassos: [axial, sagittal] });
  assert.ok(diceCoefficient(r.mask, blob.reference) > 0.9, `Dice ${diceCoefficient(r.mask, blob.reference).toFixed(3)}`);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) assert.equal(r.mask[voxelIndex(blob.dims, [c[0] + 3, j, k])], sagittalPlane[k * ny + j]);
});

test('segmentFromPrompts: outlines on three slices of a tapering object are interpolated between them', () => {
  // A cone-like object without edges: its section shrinks and moves from slice to slice, which one
  // outline's swept shape cannot follow.
  const dims: Vec3 = [64, 64, 30];
  const spacingMm: Vec3 = [1, 1, 2];
  const n = dims[0] * dims[1] * dims[2];
  const values = new Float32Array(n);
  const reference = new Uint8Array(n);
  const noise = normalNoise(9);
  for (let k = 0, v = 0; k < dims[2]; k++) {
    const t = (k - 3) / 23; // 0 at k = 3, 1 at k = 26
    const r = 18 - 12 * t;
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, v++) {
        reference[v] = t >= 0 && t <= 1 && Math.hypot(i - (24 + 14 * t), j - 32) <= r ? 1 : 0;
        values[v] = 40 + 2 * noise();
      }
    }
  }
  const section = (k: number) => outlineOfRegion(reference.subarray(k * 64 * 64, (k + 1) * 64 * 64), [64, 64], 2, k)!;
  const v = { values, dims, spacingMm };
  const one = diceCoefficient(segmentFromPrompts(v, { points: [], boxes: [], lassos: [section(14)] }).mask, reference);
  const three = segmentFromPrompts(v, { points: [], boxes: [], lassos: [section(6), section(14), section(22)] });
  const dice = diceCoefficient(three.mask, reference);
  console.log(`three outlines ${dice.toFixed(3)}, one ${one.toFixed(3)}`);
  assert.ok(dice > 0.85 && dice > one + 0.05, `three outlines ${dice.toFixed(3)}, one ${one.toFixed(3)}`);
  // Their order in the prompts does not matter.
  assert.deepEqual(segmentFromPrompts(v, { points: [], boxes: [], lassos: [section(22), section(6), section(14)] }).mask, three.mask);
});

test('segmentFromPrompts: two outlines on one slice (two lobes of one object) are its section together', () => {
  const dims: Vec3 = [64, 48, 20];
  const spacingMm: Vec3 = [1, 1, 2];
  const n = dims[0] * dims[1] * dims[2];
  const values = new Float32Array(n);
  const reference = new Uint8Array(n);
  const noise = normalNoise(4);
  for (let k = 0, v = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, v++) {
        const lobe = (x: number) => Math.hypot(i - x, j - 24, (k - 10) * 2) <= 11;
        reference[v] = lobe(24) || lobe(39) ? 1 : 0;
        values[v] = (reference[v] ? 70 : 40) + 6 * noise();
      }
    }
  }
  // Each lobe outlined on its own on the middle slice (the halves left and right of i = 31).
  const half = (left: boolean) => outlineOfRegion(Uint8Array.from(reference.subarray(10 * 64 * 48, 11 * 64 * 48), (x, v) => (x && v % 64 < 31 === left ? 1 : 0)), [64, 48], 2, 10)!;
  const r = segmentFromPrompts({ values, dims, spacingMm }, { points: [], boxes: [], lassos: [half(true), half(false)] });
  for (let j = 0; j < 48; j++) for (let i = 0; i < 64; i++) assert.equal(r.mask[voxelIndex(dims, [i, j, 10])], reference[voxelIndex(dims, [i, j, 10])], `voxel ${i},${j},10`);
  const dice = diceCoefficient(r.mask, reference);
  assert.ok(dice > 0.85, `Dice ${dice.toFixed(3)}`);
  // A click after it (the object so far holds both outlines) edits near itself only.
  const far: Vec3 = [24, 24, 6];
  const next = segmentFromPrompts({ values, dims, spacingMm }, { points: [{ voxel: far, positive: false }], boxes: [], lassos: [half(true), half(false)] }, { previous: r.mask });
  assert.equal(next.mask[voxelIndex(dims, far)], 0);
  assert.equal(next.mask[voxelIndex(dims, [39, 24, 14])], r.mask[voxelIndex(dims, [39, 24, 14])], 'the other lobe is kept');
});
