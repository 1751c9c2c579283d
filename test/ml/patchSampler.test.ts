import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foregroundIndices, samplePatch } from '../../src/ml/patchSampler';
import { seededRandom } from '../../src/util/random';
import type { Vec3 } from '../../src/volume/vec3';

test('samplePatch: foreground oversampling ≈ 1/3, labels follow the image under augmentation', () => {
  const dims: Vec3 = [40, 40, 40];
  const image = new Float32Array(dims[0] * dims[1] * dims[2]);
  const labels = new Uint8Array(image.length);
  // A 4³ lesion of intensity 5 in a corner; the image equals 5 exactly where the label is 1.
  for (let z = 2; z < 6; z++) for (let y = 2; y < 6; y++) for (let x = 30; x < 34; x++) {
    const i = (z * 40 + y) * 40 + x;
    labels[i] = 1;
    image[i] = 5;
  }
  const lesionIndices = foregroundIndices(labels);
  assert.equal(lesionIndices.length, 64);
  const rnd = seededRandom(42);
  let centred = 0;
  let withLesion = 0;
  const trials = 600;
  for (let t = 0; t < trials; t++) {
    const p = samplePatch(image, labels, dims, rnd, {
      patchSize: [16, 16, 16],
      lesionIndices,
      augmentation: { intensityScale: 0, intensityShift: 0, maxRotationDeg: 0 },
    });
    if (p.centredOnLesion) centred++;
    let any = false;
    for (let i = 0; i < p.labels.length; i++) {
      if (p.labels[i]) any = true;
      assert.equal(p.labels[i] === 1, p.image[i] === 5);
    }
    if (any) withLesion++;
  }
  assert.ok(Math.abs(centred / trials - 1 / 3) < 0.06, `centred fraction ${centred / trials}`);
  assert.ok(withLesion >= centred);
  // Rotation keeps the lesion roughly in place (labels nearest, image trilinear).
  const r = samplePatch(image, labels, dims, seededRandom(1), {
    patchSize: [16, 16, 16], lesionIndices, foregroundFraction: 1,
    augmentation: { rotationProbability: 1, maxRotationDeg: 10, flipProbability: 0, intensityScale: 0, intensityShift: 0 },
  });
  assert.ok(r.rotated);
  const lesionVoxels = r.labels.reduce((a, b) => a + b, 0);
  assert.ok(lesionVoxels > 30 && lesionVoxels < 100, `rotated lesion voxels ${lesionVoxels}`);
  let inside = 0;
  r.labels.forEach((l, i) => { if (l) inside += r.image[i]; });
  assert.ok(inside / lesionVoxels > 2.5, 'image intensity high where the rotated label is set');
  assert.throws(() => samplePatch(image, labels.subarray(1), dims, rnd, { patchSize: [8, 8, 8], lesionIndices }), /label volume has/);
});

test('samplePatch: a zoom magnifies the patch about its centre, labels with the image; off by default', () => {
  const dims: Vec3 = [40, 40, 40];
  // The image is each voxel's x index, so a patch's x extent shows the zoom; the label is x ≥ 20.
  const image = new Float32Array(dims[0] * dims[1] * dims[2]);
  const labels = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) {
    image[i] = i % 40;
    labels[i] = i % 40 >= 20 ? 1 : 0;
  }
  const lesionIndices = foregroundIndices(labels);
  const still = { flipProbability: 0, intensityScale: 0, intensityShift: 0, maxRotationDeg: 0 };
  const plain = samplePatch(image, labels, dims, seededRandom(3), { patchSize: [16, 16, 16], lesionIndices, augmentation: still });
  assert.equal(plain.zoom, 1);
  let checked = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    const p = samplePatch(image, labels, dims, seededRandom(seed), {
      patchSize: [16, 16, 16], lesionIndices, foregroundFraction: 0,
      augmentation: { ...still, maxZoom: 0.4, zoomProbability: 1 },
    });
    assert.ok(p.zoom >= 0.6 && p.zoom <= 1.4 && p.zoom !== 1, `zoom ${p.zoom}`);
    // Along one row (away from the volume's border) the image spans 15 voxels / zoom.
    const row = Array.from(p.image.subarray(8 * 256 + 8 * 16, 8 * 256 + 8 * 16 + 16));
    if (row.some((x) => x === 0 || x === 39)) continue;
    assert.ok(Math.abs(row[15] - row[0] - 15 / p.zoom) < 0.01, `x span ${row[15] - row[0]} at zoom ${p.zoom}`);
    checked++;
    // Labels are the nearest voxel's: set exactly where the interpolated x is ≥ 19.5.
    p.labels.forEach((l, i) => assert.equal(l === 1, p.image[i] >= 19.5, `label and image disagree at ${i}`));
  }
  assert.ok(checked >= 3, `rows checked ${checked}`);
  assert.throws(() => samplePatch(image, labels, dims, seededRandom(1), { patchSize: [8, 8, 8], lesionIndices, augmentation: { maxZoom: 1 } }), /maxZoom must lie in \[0, 1\), got 1/);
});
