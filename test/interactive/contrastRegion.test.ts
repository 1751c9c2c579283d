import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentFromPrompts } from '../../src/interactive';
import { contrastRegion, FloodPrefix } from '../../src/interactive/contrastRegion';
import { distanceTransformMm } from '../../src/interactive/distanceTransform';
import { BlockwiseGaussianSmoothing, gaussianSmoothMm } from '../../src/interactive/smoothing';
import { pasteMask } from '../../src/interactive/box';
import { diceCoefficient } from '../../src/interactive/robotUser';
import type { Vec3 } from '../../src/volume/vec3';
import { countOnes, ellipsoidPhantom, voxelIndex } from './phantom';

const DIMS: Vec3 = [48, 48, 48];
const ISO: Vec3 = [1, 1, 1];
const OPTIONS = { reachMm: 30, minContrast: 2.5, smoothingMm: 0.5, maxRadiusMm: 10, polarity: 'bright' as const, sizeExponent: 0.1, minRadiusMm: 0, largeObject: false };

/** A small bright lesion (semi-axes 3 × 3 × 4 mm) beside a larger, brighter structure 5 mm away, in noisy tissue. */
function lesionBesideBrightStructure(): { values: Float32Array; reference: Uint8Array; centre: Vec3 } {
  const lesion = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [3, 3, 4], inside: 1, outside: 0, noise: 0 });
  const structure = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [6, 14, 14], inside: 1, outside: 0, noise: 0, centre: [38, 24, 24] });
  const noise = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 6, seed: 5 });
  const values = Float32Array.from(lesion.reference, (x, v) => (x ? 100 : structure.reference[v] ? 130 : 40) + noise.values[v]);
  return { values, reference: lesion.reference, centre: lesion.centre };
}

test('contrastRegion: one click in a small bright lesion gives it, not the brighter structure beside it (Dice > 0.8)', () => {
  const { values, reference, centre } = lesionBesideBrightStructure();
  const volume = { values, dims: DIMS, spacingMm: ISO };
  const r = contrastRegion(volume, centre, [], null, OPTIONS);
  assert.equal(r.refused, null);
  assert.ok(r.contrast > 5, `contrast ${r.contrast}`);
  const viaPrompts = segmentFromPrompts(volume, { points: [{ voxel: centre, positive: true }], boxes: [] });
  assert.equal(viaPrompts.contrastRegion, true);
  const dice = diceCoefficient(viaPrompts.mask, reference);
  assert.ok(dice > 0.8, `Dice ${dice}`);
  assert.ok(viaPrompts.radiusMm.mean > 2 && viaPrompts.radiusMm.mean < 5, JSON.stringify(viaPrompts.radiusMm));
  // regionReachMm 0 turns step 0 off: the star-shaped method answers.
  assert.equal(segmentFromPrompts(volume, { points: [{ voxel: centre, positive: true }], boxes: [] }, { regionReachMm: 0 }).contrastRegion, false);
});

test('contrastRegion: faint or large objects are refused, naming why', () => {
  const faint = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [3, 3, 4], inside: 44, outside: 40, noise: 6, seed: 2 });
  assert.match(contrastRegion(faint, faint.centre, [], null, OPTIONS).refused ?? '', /contrast|voxel/);
  const large = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [15, 15, 15], inside: 100, outside: 40, noise: 6, seed: 3 });
  assert.match(contrastRegion(large, large.centre, [], null, OPTIONS).refused ?? '', /radius .* exceeds 10 mm/);
  assert.equal(segmentFromPrompts(large, { points: [{ voxel: large.centre, positive: true }], boxes: [] }).contrastRegion, false);
  // A dark object (or a necrotic core) only with regionPolarity 'dark' or 'both'.
  const dark = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [3, 3, 4], inside: 10, outside: 70, noise: 6, seed: 6 });
  assert.match(contrastRegion(dark, dark.centre, [], null, OPTIONS).refused ?? '', /darker than its surroundings \(regionPolarity bright\)/);
  for (const polarity of ['dark', 'both'] as const) {
    const r = contrastRegion(dark, dark.centre, [], null, { ...OPTIONS, polarity });
    assert.equal(r.refused, null);
  }
});

test('contrastRegion: a negative click inside cuts the region there; a positive click on a dimmer lobe adds it', () => {
  const core = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [3, 3, 3], inside: 1, outside: 0, noise: 0 });
  const lobe = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [2.5, 2.5, 2.5], inside: 1, outside: 0, noise: 0, centre: [29, 24, 24] });
  const noise = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 4, seed: 7 });
  const values = Float32Array.from(core.reference, (x, v) => (x ? 100 : lobe.reference[v] ? 62 : 40) + noise.values[v]);
  const volume = { values, dims: DIMS, spacingMm: ISO };
  const c = core.centre;
  const first = contrastRegion(volume, c, [], null, OPTIONS);
  assert.equal(first.refused, null);
  const at = (r: typeof first, p: Vec3): number => r.region[voxelIndex([first.box.max[0] - first.box.min[0] + 1, first.box.max[1] - first.box.min[1] + 1, first.box.max[2] - first.box.min[2] + 1], [p[0] - first.box.min[0], p[1] - first.box.min[1], p[2] - first.box.min[2]])];
  const lobeCentre: Vec3 = [29, 24, 24];
  assert.equal(at(first, lobeCentre), 0, 'the dimmer lobe is outside the first region');
  const grown = contrastRegion(volume, c, [{ voxel: lobeCentre, positive: true }], null, OPTIONS);
  assert.equal(at(grown, lobeCentre), 1);
  assert.ok(countOnes(grown.region) > countOnes(first.region));
  const negative: Vec3 = [c[0] - 2, c[1], c[2]];
  assert.equal(at(first, negative), 1);
  const cut = contrastRegion(volume, c, [{ voxel: negative, positive: false }], null, OPTIONS);
  assert.equal(at(cut, negative), 0);
  assert.equal(at(cut, c), 1);
  assert.ok(countOnes(cut.region) < countOnes(first.region));
});

test('contrastRegion: the flood is analysed once per image and first click; correction clicks reuse it and leave it unchanged', () => {
  const core = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [3, 3, 3], inside: 1, outside: 0, noise: 0 });
  const lobe = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [2.5, 2.5, 2.5], inside: 1, outside: 0, noise: 0, centre: [29, 24, 24] });
  const noise = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 4, seed: 7 });
  const values = Float32Array.from(core.reference, (x, v) => (x ? 100 : lobe.reference[v] ? 62 : 40) + noise.values[v]);
  const c = core.centre;
  const clicks = [
    [{ voxel: [29, 24, 24] as Vec3, positive: true }],
    [{ voxel: [c[0] - 2, c[1], c[2]] as Vec3, positive: false }],
    [{ voxel: [29, 24, 24] as Vec3, positive: true }, { voxel: [c[0], c[1] - 2, c[2]] as Vec3, positive: false }],
    [],
  ];
  // Each answer on a fresh copy of the image (nothing cached) …
  const fresh = clicks.map((k) => contrastRegion({ values: values.slice(), dims: DIMS, spacingMm: ISO }, c, k, null, OPTIONS));
  // … equals the answer on one image clicked in turn, in either order (the cached flood is not changed by the edits).
  const volume = { values, dims: DIMS, spacingMm: ISO };
  for (const order of [[0, 1, 2, 3], [3, 2, 1, 0, 2]]) {
    for (const n of order) {
      const r = contrastRegion(volume, c, clicks[n], null, OPTIONS);
      assert.deepEqual(r.box, fresh[n].box);
      assert.equal(r.contrast, fresh[n].contrast);
      assert.ok(r.region.every((x, v) => x === fresh[n].region[v]), `clicks ${n}: the same region`);
    }
  }
  // Another option or first click is another flood.
  const moved: Vec3 = [c[0] + 1, c[1], c[2]];
  assert.deepEqual(contrastRegion(volume, moved, [], null, OPTIONS).box, contrastRegion({ values: values.slice(), dims: DIMS, spacingMm: ISO }, moved, [], null, OPTIONS).box);
  assert.notEqual(countOnes(contrastRegion(volume, c, [], null, { ...OPTIONS, maxRadiusMm: 2 }).region), countOnes(fresh[3].region));
});

test('contrastRegion: a negative click on a rim voxel trims near the click, not the dim rim all round', () => {
  const dims: Vec3 = [48, 48, 16];
  const spacingMm: Vec3 = [1, 1, 3];
  const p = ellipsoidPhantom({ dims, spacingMm, semiAxesMm: [8, 6, 10], inside: 120, outside: 50, noise: 10, seed: 3 });
  const volume = { values: p.values.map(Math.round), dims, spacingMm };
  const first = contrastRegion(volume, p.centre, [], null, OPTIONS);
  assert.equal(first.refused, null);
  const bd: Vec3 = [first.box.max[0] - first.box.min[0] + 1, first.box.max[1] - first.box.min[1] + 1, first.box.max[2] - first.box.min[2] + 1];
  // The region voxel farthest from the centre along +i: on the rim.
  const [, cj, ck] = p.centre.map((x, a) => x - first.box.min[a]);
  let ri = 0;
  for (let i = 0; i < bd[0]; i++) if (first.region[voxelIndex(bd, [i, cj, ck])]) ri = i;
  const rim: Vec3 = [first.box.min[0] + ri, p.centre[1], p.centre[2]];
  const trimmed = contrastRegion(volume, p.centre, [{ voxel: rim, positive: false }], null, OPTIONS);
  assert.equal(trimmed.region[voxelIndex(bd, [ri, cj, ck])], 0, 'the clicked voxel goes');
  const kept = countOnes(trimmed.region) / countOnes(first.region);
  assert.ok(kept > 0.85 && kept < 1, `kept ${(100 * kept).toFixed(0)} % of ${countOnes(first.region)} voxels`);
});

test('contrastRegion: a negative click keeps what is brighter than the clicked voxel and every positive click', () => {
  // A graded lesion (bright centre, dimmer rim), a dim lobe on one side and, on the other, a
  // spur a little brighter than the lobe that is not lesion.
  const noise = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 2, seed: 9 });
  const lobe = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [2.5, 2.5, 2.5], inside: 1, outside: 0, noise: 0, centre: [29, 24, 24] });
  const spur = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [2, 2, 2], inside: 1, outside: 0, noise: 0, centre: [19, 24, 24] });
  const c: Vec3 = [24, 24, 24];
  const values = new Float32Array(DIMS[0] * DIMS[1] * DIMS[2]);
  for (let z = 0, v = 0; z < DIMS[2]; z++)
    for (let y = 0; y < DIMS[1]; y++)
      for (let x = 0; x < DIMS[0]; x++, v++) {
        const r = Math.hypot(x - c[0], y - c[1], z - c[2]);
        values[v] = (r <= 3.5 ? 110 - 10 * r : lobe.reference[v] ? 62 : spur.reference[v] ? 66 : 40) + noise.values[v];
      }
  const volume = { values, dims: DIMS, spacingMm: ISO };
  const first = contrastRegion(volume, c, [], null, OPTIONS);
  assert.equal(first.refused, null);
  const size: Vec3 = [first.box.max[0] - first.box.min[0] + 1, first.box.max[1] - first.box.min[1] + 1, first.box.max[2] - first.box.min[2] + 1];
  const at = (r: typeof first, p: Vec3): number => r.region[voxelIndex(size, [p[0] - first.box.min[0], p[1] - first.box.min[1], p[2] - first.box.min[2]])];
  // A negative click on the rim trims the rim near it, not the half of the lesion on its side.
  const rim: Vec3 = [c[0], c[1] + 3, c[2]];
  assert.equal(at(first, rim), 1);
  const trimmed = contrastRegion(volume, c, [{ voxel: rim, positive: false }], null, OPTIONS);
  assert.equal(at(trimmed, rim), 0);
  // Nearer to the negative click than to the positive one, but brighter than the clicked voxel.
  for (const inner of [[c[0], c[1] + 2, c[2]], [c[0] + 1, c[1] + 2, c[2]]] as Vec3[]) assert.equal(at(trimmed, inner), 1, `${inner} is kept`);
  // A positive click on the lobe, then a negative one on the spur, which the flood takes before
  // the lobe: no single threshold satisfies both, and the lobe stays.
  const lobeCentre: Vec3 = [29, 24, 24];
  const spurCentre: Vec3 = [19, 24, 24];
  const both = contrastRegion(volume, c, [{ voxel: lobeCentre, positive: true }, { voxel: spurCentre, positive: false }], null, OPTIONS);
  assert.equal(at(both, lobeCentre), 1, 'the negative click does not undo the positive one');
  assert.equal(at(both, spurCentre), 0);
  assert.equal(at(both, c), 1);
});

test('contrastRegion: in a large object a negative click on a leak cuts it near the click, not the dim rim all round', () => {
  // A whole tumour-like object (130 at its centre, 94 at its 12 mm rim) with a leak as bright as
  // its rim on one side.
  const dims: Vec3 = [64, 48, 48];
  const c: Vec3 = [24, 24, 24];
  const noise = ellipsoidPhantom({ dims, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 2, seed: 4 });
  const leak = ellipsoidPhantom({ dims, spacingMm: ISO, semiAxesMm: [6, 4, 4], inside: 1, outside: 0, noise: 0, centre: [40, 24, 24] });
  const values = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let z = 0, v = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, v++) {
        const r = Math.hypot(x - c[0], y - c[1], z - c[2]);
        values[v] = (r <= 12 ? 130 - 3 * r : leak.reference[v] ? 93 : 40) + noise.values[v];
      }
  const options = { ...OPTIONS, reachMm: 40, maxRadiusMm: 25, sizeExponent: 0.5, minRadiusMm: 8, largeObject: true };
  const volume = { values, dims, spacingMm: ISO };
  const first = contrastRegion(volume, c, [], null, options);
  assert.equal(first.refused, null);
  const size: Vec3 = [first.box.max[0] - first.box.min[0] + 1, first.box.max[1] - first.box.min[1] + 1, first.box.max[2] - first.box.min[2] + 1];
  const at = (r: typeof first, p: Vec3): number => r.region[voxelIndex(size, [p[0] - first.box.min[0], p[1] - first.box.min[1], p[2] - first.box.min[2]])];
  const inLeak: Vec3 = [42, 24, 24];
  const rims: Vec3[] = [[13, 24, 24], [24, 13, 24], [24, 24, 13]];
  assert.equal(at(first, inLeak), 1, 'the leak is in the first region');
  const cut = contrastRegion(volume, c, [{ voxel: inLeak, positive: false }], null, options);
  assert.equal(at(cut, inLeak), 0);
  for (const p of rims) assert.equal(at(cut, p), 1, `the rim at ${p}, far from the click, stays`);
  assert.ok(countOnes(cut.region) > 0.9 * countOnes(first.region), `${countOnes(cut.region)} of ${countOnes(first.region)} voxels kept`);
});

test('contrastRegion: in a large object a positive click in a dark pocket open to the outside adds the pocket, nothing beyond', () => {
  // A bright 12 mm ball with a dark pocket (5 mm) that breaks through its surface on one side:
  // neither hole filling closes it, and a flood from the click grows nothing.
  const c: Vec3 = [24, 24, 24];
  const pocketCentre: Vec3 = [32, 24, 24];
  const noise = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 2, seed: 4 });
  const values = new Float32Array(DIMS[0] * DIMS[1] * DIMS[2]);
  const ball = new Uint8Array(values.length);
  for (let z = 0, v = 0; z < DIMS[2]; z++)
    for (let y = 0; y < DIMS[1]; y++)
      for (let x = 0; x < DIMS[0]; x++, v++) {
        ball[v] = Math.hypot(x - c[0], y - c[1], z - c[2]) <= 12 ? 1 : 0;
        const inPocket = Math.hypot(x - pocketCentre[0], y - pocketCentre[1], z - pocketCentre[2]) <= 5;
        values[v] = (ball[v] ? (inPocket ? 25 : 100) : 40) + noise.values[v];
      }
  const options = { ...OPTIONS, reachMm: 40, maxRadiusMm: 25, sizeExponent: 0.5, minRadiusMm: 8, largeObject: true };
  const volume = { values, dims: DIMS, spacingMm: ISO };
  const click: Vec3 = [20, 24, 24];
  const first = contrastRegion(volume, click, [], null, options);
  assert.equal(first.refused, null);
  const { box } = first;
  const size: Vec3 = [box.max[0] - box.min[0] + 1, box.max[1] - box.min[1] + 1, box.max[2] - box.min[2] + 1];
  const at = (r: typeof first, p: Vec3): number => r.region[voxelIndex(size, [p[0] - box.min[0], p[1] - box.min[1], p[2] - box.min[2]])];
  assert.equal(at(first, pocketCentre), 0, 'the pocket is outside the first region');
  const second = contrastRegion(volume, click, [{ voxel: pocketCentre, positive: true }], null, options);
  let inBall = 0;
  let outside = 0;
  for (let z = box.min[2]; z <= box.max[2]; z++)
    for (let y = box.min[1]; y <= box.max[1]; y++)
      for (let x = box.min[0]; x <= box.max[0]; x++) {
        if (!at(second, [x, y, z]) || at(first, [x, y, z])) continue;
        if (ball[voxelIndex(DIMS, [x, y, z])]) inBall++;
        else outside++;
      }
  assert.ok(inBall > 200, `${inBall} pocket voxels added`);
  assert.equal(outside, 0, 'nothing outside the ball is added');
});

test('contrastRegion: a hot spot barely resolved on a coarse grid gives way to the star when a positive click lands far from it', () => {
  // A PET-like grid (5 × 5 × 3.3 mm): a tumour of radius 35 mm whose uptake falls from 7 at its
  // centre to 5 at its edge, with a 6 mm hot core of 9, in noisy background of 1.
  const dims: Vec3 = [36, 36, 40];
  const spacingMm: Vec3 = [5, 5, 3.3];
  const tumour = ellipsoidPhantom({ dims, spacingMm, semiAxesMm: [35, 35, 35], inside: 1, outside: 0, noise: 0 });
  const core = ellipsoidPhantom({ dims, spacingMm, semiAxesMm: [6, 6, 6], inside: 1, outside: 0, noise: 0 });
  const noise = ellipsoidPhantom({ dims, spacingMm, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 0.2, seed: 7 });
  const c = tumour.centre;
  const values = Float32Array.from(tumour.reference, (x, v) => {
    const dMm = Math.hypot((v % 36 - c[0]) * 5, (Math.floor(v / 36) % 36 - c[1]) * 5, (Math.floor(v / 1296) - c[2]) * 3.3);
    return (core.reference[v] ? 9 : x ? 7 - (2 * dMm) / 35 : 1) + noise.values[v];
  });
  const volume = { values, dims, spacingMm };
  const first = { voxel: tumour.centre, positive: true };
  const alone = contrastRegion(volume, first.voxel, [], null, OPTIONS);
  assert.equal(alone.refused, null, 'the core alone stands out');
  assert.ok(countOnes(alone.region) <= 20, `${countOnes(alone.region)} voxels`);
  // A second positive click 20 mm out, in the tumour.
  const second = { voxel: [tumour.centre[0] + 4, tumour.centre[1], tumour.centre[2]] as Vec3, positive: true };
  assert.match(contrastRegion(volume, first.voxel, [second], null, OPTIONS).refused ?? '', /the object is larger/);
  const r = segmentFromPrompts(volume, { points: [first, second], boxes: [] });
  assert.equal(r.contrastRegion, false);
  const dice = diceCoefficient(r.mask, tumour.reference);
  assert.ok(dice > 0.7, `Dice ${dice.toFixed(3)}`);
});

test('segmentFromPrompts: a region barely resolved on a coarse grid gives way to the star at the first click when the star is over three times larger', () => {
  // A uniform hot ellipsoid (semi-axes 35 × 28 × 42 mm) on a PET-like 4 × 4 × 3 mm grid; the noise
  // around its centre happens to hold a 6-voxel speck that step 0 accepts (contrast 3.4).
  const dims: Vec3 = [40, 40, 54];
  const spacingMm: Vec3 = [4, 4, 3];
  const p = ellipsoidPhantom({ dims, spacingMm, semiAxesMm: [35, 28, 42], inside: 6, outside: 1, noise: 0.3, seed: 3 });
  const volume = { values: Float32Array.from(p.values, (v) => Math.max(0, v)), dims, spacingMm };
  const speck = contrastRegion(volume, p.centre, [], null, OPTIONS);
  assert.equal(speck.refused, null);
  assert.ok(countOnes(speck.region) <= 8, `${countOnes(speck.region)} voxels`);
  const r = segmentFromPrompts(volume, { points: [{ voxel: p.centre, positive: true }], boxes: [] });
  assert.equal(r.contrastRegion, false);
  const dice = diceCoefficient(r.mask, p.reference);
  assert.ok(dice > 0.9, `Dice ${dice.toFixed(3)}`);
});

test('contrastRegion: its options are checked by name', () => {
  const { values, centre } = lesionBesideBrightStructure();
  const volume = { values, dims: DIMS, spacingMm: ISO };
  const prompts = { points: [{ voxel: centre, positive: true }], boxes: [] };
  assert.throws(() => segmentFromPrompts(volume, prompts, { regionMinContrast: -1 }), /option regionMinContrast must be a number from 0/);
  assert.throws(() => segmentFromPrompts(volume, prompts, { regionReachMm: 1000 }), /option regionReachMm must be a number from 0 to 500/);
  assert.throws(() => segmentFromPrompts(volume, prompts, { regionMaxRadiusMm: Number.NaN }), /option regionMaxRadiusMm/);
  assert.throws(() => segmentFromPrompts(volume, prompts, { regionPolarity: 'grey' as never }), /option regionPolarity must be 'bright', 'dark' or 'both', got "grey"/);
});

test('contrastRegion: the shell of each flood prefix (1–4 mm out) is what a distance transform gives, on anisotropic voxels and at the box edge', () => {
  const dims: Vec3 = [30, 28, 12];
  for (const spacingMm of [
    [0.9, 0.9, 2.2],
    [1, 1, 1],
    [0.7, 1.3, 3],
  ] as Vec3[]) {
    // A flood-like order: voxels by a smooth random field, the highest first (the region reaches the box's faces).
    const field = ellipsoidPhantom({ dims, spacingMm, semiAxesMm: [9, 8, 14], inside: 50, outside: 0, noise: 20, seed: 4 });
    const order = Int32Array.from(field.values.keys()).sort((a, b) => field.values[b] - field.values[a] || a - b);
    const values = Float32Array.from(field.values.keys(), (v) => v % 97);
    const allowed = Uint8Array.from(values, (_, v) => (v % 13 === 0 ? 0 : 1));
    const prefix = new FloodPrefix(new BlockwiseGaussianSmoothing(values, dims, [0, 0, 0], dims, spacingMm, 0), dims, spacingMm, order);
    for (const k of [1, 40, 41, 500, 2500, 6000]) {
      const outside = new Uint8Array(values.length).fill(1);
      for (let q = 0; q < k; q++) outside[order[q]] = 0;
      const toRegion = distanceTransformMm(outside, dims, spacingMm, false);
      const expected: number[] = [];
      for (let v = 0; v < values.length; v++) if (toRegion[v] > 1 && toRegion[v] <= 4 && allowed[v]) expected.push(values[v]);
      const got = Array.from(prefix.shellValues(k, allowed));
      assert.deepEqual(got.sort((a, b) => a - b), expected.sort((a, b) => a - b), `k ${k}, ${spacingMm.join(' × ')} mm`);
    }
  }
});

test('contrastRegion: a region cut above the midpoint (its flood escaped through a brighter bridge) still takes its blurred edge', () => {
  // A bright ellipsoid (100) with a blurred edge in tissue (40), joined to the reach's rim by a rod
  // (5 × 5 voxels) of 85: the flood takes the rod before the edge's dimmer voxels and meets the rim there.
  const dims: Vec3 = [64, 64, 40];
  const object = ellipsoidPhantom({ dims, spacingMm: ISO, semiAxesMm: [7, 6, 6], inside: 100, outside: 40, noise: 0 });
  const sharp = Float32Array.from(object.values, (x, v) => {
    const i = v % dims[0];
    const j = Math.floor(v / dims[0]) % dims[1];
    const k = Math.floor(v / (dims[0] * dims[1]));
    const onRod = i > object.centre[0] && Math.abs(j - object.centre[1]) <= 2 && Math.abs(k - object.centre[2]) <= 2;
    return object.reference[v] ? x : onRod ? 85 : x;
  });
  const values = gaussianSmoothMm(sharp, dims, ISO, 1);
  const volume = { values, dims, spacingMm: ISO };
  const r = contrastRegion(volume, object.centre, [], null, { ...OPTIONS, maxRadiusMm: 12 });
  assert.equal(r.refused, null);
  const mask = new Uint8Array(values.length);
  pasteMask(mask, dims, r.box, r.region);
  // Without the edge the region keeps only what lies above the rod's level: Dice 0.73.
  const dice = diceCoefficient(mask, object.reference);
  assert.ok(dice > 0.9, `Dice ${dice}`);
});

test('contrastRegion: in a large object a negative click edited locally (it would cut a positive click off) stays near the click', () => {
  // A bright ball (radius 24 mm, 130 at the centre falling to 94 at the rim) with a leak of 120
  // just outside; a positive click on the far rim, taken late by the flood, then a negative click
  // in the leak: the half of the ball nearer to the leak than to either click is not all taken.
  const dims: Vec3 = [96, 64, 64];
  const c: Vec3 = [34, 32, 32];
  const leakCentre: Vec3 = [63, 32, 32];
  const noise = ellipsoidPhantom({ dims, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 2, seed: 4 });
  const values = new Float32Array(dims[0] * dims[1] * dims[2]);
  const ball = new Uint8Array(values.length);
  for (let z = 0, v = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, v++) {
        const r = Math.hypot(x - c[0], y - c[1], z - c[2]);
        ball[v] = r <= 24 ? 1 : 0;
        values[v] = (ball[v] ? 130 - 1.5 * r : Math.hypot(x - leakCentre[0], y - leakCentre[1], z - leakCentre[2]) <= 6 ? 120 : 40) + noise.values[v];
      }
  const options = { ...OPTIONS, reachMm: 60, maxRadiusMm: 40, sizeExponent: 0.03, minRadiusMm: 15, largeObject: true };
  const volume = { values, dims, spacingMm: ISO };
  const count = (clicks: { voxel: Vec3; positive: boolean }[]): { inBall: number; outside: number } => {
    const r = contrastRegion(volume, c, clicks, null, options);
    assert.equal(r.refused, null);
    const mask = new Uint8Array(values.length);
    pasteMask(mask, dims, r.box, r.region);
    let inBall = 0;
    for (let v = 0; v < mask.length; v++) inBall += mask[v] & ball[v];
    return { inBall, outside: countOnes(mask) - inBall };
  };
  const first = count([]);
  const edited = count([
    { voxel: [c[0] - 23, c[1], c[2]], positive: true },
    { voxel: leakCentre, positive: false },
  ]);
  assert.ok(edited.outside < 0.5 * first.outside, `leak ${first.outside} → ${edited.outside} voxels`);
  // Unlimited, the edit kept 89.8 % of the ball; within three times the click's depth, 92.5 %.
  assert.ok(edited.inBall > 0.915 * first.inBall, `${edited.inBall} of ${first.inBall} ball voxels kept`);
});

test('contrastRegion: in a large object a positive click that would grow the region over 1.25× adds near the click only', () => {
  // A bright 10 mm ball (100) inside a shell to 16 mm whose brightness falls outwards (60 → 54),
  // so that the flood takes the shell ring by ring. Clicks at 11 and 12 mm lie (11/10)³ ≈ 1.3× and
  // (12/10)³ ≈ 1.7× into the flood: moving the threshold there would add the ring all round (on a
  // real whole tumour, the cortex as bright as its faint margin).
  const c: Vec3 = [24, 24, 24];
  const noise = ellipsoidPhantom({ dims: DIMS, spacingMm: ISO, semiAxesMm: [1, 1, 1], inside: 0, outside: 0, noise: 1, seed: 9 });
  const values = new Float32Array(DIMS[0] * DIMS[1] * DIMS[2]);
  for (let z = 0, v = 0; z < DIMS[2]; z++)
    for (let y = 0; y < DIMS[1]; y++)
      for (let x = 0; x < DIMS[0]; x++, v++) {
        const r = Math.hypot(x - c[0], y - c[1], z - c[2]);
        values[v] = (r <= 10 ? 100 : r <= 16 ? 60 - (r - 10) : 40) + noise.values[v];
      }
  const options = { ...OPTIONS, reachMm: 40, maxRadiusMm: 25, sizeExponent: 0.5, minRadiusMm: 8, largeObject: true };
  const volume = { values, dims: DIMS, spacingMm: ISO };
  const first = contrastRegion(volume, c, [], null, options);
  assert.equal(first.refused, null);
  for (const click of [[35, 24, 24], [36, 24, 24]] as Vec3[]) {
    const second = contrastRegion(volume, c, [{ voxel: click, positive: true }], null, options);
    assert.equal(second.refused, null);
    const { box } = second;
    const size: Vec3 = [box.max[0] - box.min[0] + 1, box.max[1] - box.min[1] + 1, box.max[2] - box.min[2] + 1];
    const at = (r: typeof first, p: Vec3): number => r.region[voxelIndex(size, [p[0] - box.min[0], p[1] - box.min[1], p[2] - box.min[2]])];
    assert.deepEqual(first.box, box);
    assert.equal(at(first, click), 0, `the click at ${click} is outside the first region`);
    assert.equal(at(second, click), 1, `the click at ${click} is added`);
    let farAdded = 0;
    for (let z = box.min[2]; z <= box.max[2]; z++)
      for (let y = box.min[1]; y <= box.max[1]; y++)
        for (let x = box.min[0]; x <= box.max[0]; x++)
          if (at(second, [x, y, z]) && !at(first, [x, y, z]) && Math.hypot(x - click[0], y - click[1], z - click[2]) > 8) farAdded++;
    assert.equal(farAdded, 0, `nothing added more than 8 mm from the click at ${click}`);
  }
});
