import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foregroundIndices, samplePatch, simulateThickSlices } from '../../src/ml/patchSampler';
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

test('simulateThickSlices: slice means, then linear between slice centres; a ramp along the axis survives, other axes untouched', () => {
  const size: Vec3 = [6, 5, 12];
  // Each voxel holds x + 10·y + 100·z.
  const ramp = (): Float32Array => {
    const img = new Float32Array(6 * 5 * 12);
    for (let z = 0; z < 12; z++) for (let y = 0; y < 5; y++) for (let x = 0; x < 6; x++) img[(z * 5 + y) * 6 + x] = x + 10 * y + 100 * z;
    return img;
  };
  // One voxel a slice at phase 0 changes nothing.
  const same = ramp();
  simulateThickSlices(same, size, 2, 1, 0);
  assert.deepEqual(same, ramp());
  for (const [axis, n, unit] of [[0, 6, 1], [1, 5, 10], [2, 12, 100]] as const) {
    for (const [factor, phase] of [[2, 0], [2.5, 0.3], [3, 0.7]]) {
      const img = ramp();
      simulateThickSlices(img, size, axis, factor, phase);
      const original = ramp();
      // Slice centres, in voxel-centre coordinates; between the first and the last the ramp is exact.
      const origin = -phase * factor;
      const first = origin + 0.5 * factor - 0.5;
      for (let i = 0; i < img.length; i++) {
        const c = [i % 6, Math.floor(i / 6) % 5, Math.floor(i / 30)][axis];
        const offset = original[i] - c * unit; // the other axes' part
        const lastSlice = Math.ceil((n - origin) / factor) - 1;
        const last = origin + (lastSlice + 0.5) * factor - 0.5;
        // A slice cut by the patch's edge averages only its voxels inside, so the end slices' centres shift.
        if (c > first + factor && c < last - factor) assert.ok(Math.abs(img[i] - original[i]) < 1e-3, `axis ${axis} factor ${factor}: ${img[i]} ≠ ${original[i]}`);
        assert.ok(img[i] - offset >= -1e-3 && img[i] - offset <= (n - 1) * unit + 1e-3, 'values stay within the line');
      }
    }
  }
  // A step is blurred over about one slice: at phase 0 and 2 voxels a slice, 0 0 | 0 4 | 4 4 → 0 0 0.5 1.5 … (means 0, 2, 4).
  const step = new Float32Array([0, 0, 0, 4, 4, 4]);
  simulateThickSlices(step, [1, 1, 6], 2, 2, 0);
  assert.deepEqual(Array.from(step), [0, 0.5, 1.5, 2.5, 3.5, 4]);
  assert.throws(() => simulateThickSlices(new Float32Array(8), [2, 2, 2], 0, 0.5, 0), /slice thickness must be ≥ 1 voxel, got 0.5/);
  assert.throws(() => simulateThickSlices(new Float32Array(8), [2, 2, 2], 3, 2, 0), /axis must be 0, 1 or 2/);
});

test('samplePatch: thick slices blur the image along one axis and leave the labels as they were', () => {
  const dims: Vec3 = [24, 24, 24];
  const image = new Float32Array(24 ** 3);
  const labels = new Uint8Array(image.length);
  // A 6³ cube of 10.
  for (let z = 9; z < 15; z++) for (let y = 9; y < 15; y++) for (let x = 9; x < 15; x++) {
    image[(z * 24 + y) * 24 + x] = 10;
    labels[(z * 24 + y) * 24 + x] = 1;
  }
  const lesionIndices = foregroundIndices(labels);
  const still = { flipProbability: 0, intensityScale: 0, intensityShift: 0, maxRotationDeg: 0 };
  const plain = samplePatch(image, labels, dims, seededRandom(7), { patchSize: [24, 24, 24], lesionIndices, augmentation: still });
  assert.equal(plain.thickSlices, null);
  const axes = new Set<number>();
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const p = samplePatch(image, labels, dims, seededRandom(seed), {
      patchSize: [24, 24, 24], lesionIndices, foregroundFraction: 0,
      augmentation: { ...still, thickSlices: { probability: 1, minFactor: 2, maxFactor: 4 } },
    });
    assert.ok(p.thickSlices !== null && p.thickSlices.factor >= 2 && p.thickSlices.factor <= 4, JSON.stringify(p.thickSlices));
    axes.add(p.thickSlices.axis);
    assert.deepEqual(p.labels, labels, 'labels unchanged (a centred patch of the whole volume)');
    // The cube's intensity is about kept (slice means are, their linear interpolation nearly), and its faces across the axis are blurred.
    const total = p.image.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 2160) < 22, `total ${total}`);
    const edge = Array.from(p.image).filter((v) => v > 0.01 && v < 9.99).length;
    assert.ok(edge > 0, 'some voxels partly inside');
  }
  assert.ok(axes.size >= 2, `axes ${[...axes].join(',')}`);
  assert.throws(() => samplePatch(image, labels, dims, seededRandom(1), { patchSize: [8, 8, 8], lesionIndices, augmentation: { thickSlices: { probability: 1, minFactor: 0.5, maxFactor: 2 } } }), /1 ≤ minFactor ≤ maxFactor/);
});
