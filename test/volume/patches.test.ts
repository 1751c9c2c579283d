import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  windowStarts,
  patchGrid,
  gaussianImportanceMap,
  extractPatch,
  padVolume,
  cropVolume,
  flipInPlace,
  slidingWindowInfer,
  samplePatch,
  seededRandom,
  foregroundIndices,
  PatchError,
  type Vec3,
} from '../../src/volume/patches';

function ramp(dims: Vec3): Float32Array {
  const a = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37) * 10 + i * 0.001;
  return a;
}

test('windowStarts: cases', () => {
  const cases: [number, number, number, number[]][] = [
    [64, 64, 0.25, [0]],
    [100, 64, 0.5, [0, 18, 36]],
    [96, 64, 0.5, [0, 32]],
    [10, 16, 0.25, [-3]],
    [160, 64, 0.25, [0, 48, 96]],
    [161, 64, 0.25, [0, 32, 65, 97]],
  ];
  for (const [n, p, o, want] of cases) assert.deepEqual(windowStarts(n, p, o), want, `${n},${p},${o}`);
  // Every voxel covered, last window ends at the axis end.
  for (const n of [65, 97, 155, 240]) {
    const s = windowStarts(n, 64, 0.25);
    assert.equal(s[0], 0);
    assert.equal(s[s.length - 1] + 64, n);
    for (let i = 1; i < s.length; i++) assert.ok(s[i] - s[i - 1] <= 48);
  }
});

test('windowStarts / patchGrid: ill options', () => {
  assert.throws(() => windowStarts(10, 4, 1), /overlap must lie in \[0, 1\), got 1/);
  assert.throws(() => windowStarts(10, 4, -0.1), /overlap/);
  assert.throws(() => windowStarts(0, 4, 0.5), /axis length/);
  assert.throws(() => patchGrid([10, 10, 10], [4, 4, 0], 0.5), PatchError);
});

test('gaussianImportanceMap: max 1 at centre, symmetric, positive', () => {
  const m = gaussianImportanceMap([8, 6, 5]);
  assert.equal(m.length, 240);
  let max = 0;
  for (const v of m) max = Math.max(max, v);
  assert.ok(Math.abs(max - 1) < 1e-6);
  assert.ok(m.every((v) => v > 0));
  // Symmetric in x: (0,y,z) == (7,y,z).
  assert.equal(m[0], m[7]);
  // σ = n/8: the weight one σ from the centre (along x only, centre-ish in y,z) drops to ≈ e^-0.5.
  const g = gaussianImportanceMap([64, 1, 1]);
  const c = 31.5;
  const at = (x: number): number => g[x];
  assert.ok(Math.abs(at(39) / at(31) - Math.exp(-((39 - c) ** 2 - (31 - c) ** 2) / (2 * 64))) < 1e-5);
});

test('extractPatch pads outside; padVolume/cropVolume round trip', () => {
  const dims: Vec3 = [3, 2, 2];
  const v = Float32Array.from({ length: 12 }, (_, i) => i + 1);
  const p = extractPatch(v, dims, [-1, 0, 0], [2, 1, 1], -5);
  assert.deepEqual([...p], [-5, 1]);
  const padded = padVolume(v, dims, [5, 4, 2], 0);
  assert.deepEqual(padded.dims, [5, 4, 2]);
  assert.deepEqual(padded.offset, [1, 1, 0]);
  const back = cropVolume(padded.data, padded.dims, padded.offset, dims);
  assert.deepEqual([...back], [...v]);
  assert.throws(() => cropVolume(v, dims, [2, 0, 0], [2, 2, 2]), /leaves the volume/);
});

test('flipInPlace twice is identity; flip x reverses rows', () => {
  const dims: Vec3 = [4, 3, 5];
  const v = ramp(dims);
  const w = Float32Array.from(v);
  flipInPlace(w, dims, [0]);
  assert.equal(w[0], v[3]);
  flipInPlace(w, dims, [1, 2]);
  flipInPlace(w, dims, [2, 1, 0]);
  assert.deepEqual(w, v);
});

test('slidingWindowInfer: identity predictor stitching (predict adds 1 → input + 1)', async () => {
  for (const [dims, patch, overlap] of [
    [[37, 29, 23], [16, 16, 16], 0.25],
    [[37, 29, 23], [16, 16, 16], 0.5],
    [[10, 40, 7], [16, 16, 16], 0.25], // smaller than the patch on two axes
  ] as [Vec3, Vec3, number][]) {
    const v = ramp(dims);
    let calls = 0;
    const out = await slidingWindowInfer(v, dims, async (p) => {
      calls++;
      return p.map((x) => x + 1);
    }, { patchSize: patch, overlap, padValue: 0 });
    assert.equal(calls, patchGrid(dims, patch, overlap).length);
    let maxErr = 0;
    for (let i = 0; i < v.length; i++) maxErr = Math.max(maxErr, Math.abs(out[i] - (v[i] + 1)));
    assert.ok(maxErr < 1e-4, `max error ${maxErr} for ${dims}`);
  }
});

test('slidingWindowInfer: blending equals whole-volume prediction for a voxel-wise predictor, 2 channels', async () => {
  const dims: Vec3 = [30, 26, 21];
  const v = ramp(dims);
  const f = (x: number): [number, number] => [1 / (1 + Math.exp(x)), 1 / (1 + Math.exp(-x))];
  const whole = new Float32Array(v.length * 2);
  v.forEach((x, i) => ([whole[2 * i], whole[2 * i + 1]] = f(x)));
  const out = await slidingWindowInfer(v, dims, async (p) => {
    const o = new Float32Array(p.length * 2);
    p.forEach((x, i) => ([o[2 * i], o[2 * i + 1]] = f(x)));
    return o;
  }, { patchSize: [16, 16, 8], overlap: 0.5, outChannels: 2 });
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - whole[i]) < 1e-5);
});

test('slidingWindowInfer: skipped windows leave fillValue; progress and cancellation', async () => {
  const dims: Vec3 = [32, 16, 16];
  const v = ramp(dims);
  const progress: number[] = [];
  const out = await slidingWindowInfer(v, dims, async (p) => p.map(() => 7), {
    patchSize: [16, 16, 16],
    overlap: 0,
    skipWindow: (start) => start[0] === 16,
    fillValue: -1,
    onProgress: (d, t) => progress.push(d * 100 + t),
  });
  assert.deepEqual(progress, [102, 202]);
  assert.equal(out[0], 7);
  assert.equal(out[20], -1);
  const ctrl = new AbortController();
  await assert.rejects(
    slidingWindowInfer(v, dims, async (p) => { ctrl.abort(new Error('stop now')); return p; }, { patchSize: [16, 16, 16], overlap: 0, signal: ctrl.signal }),
    /stop now/,
  );
  await assert.rejects(slidingWindowInfer(v, dims, async () => new Float32Array(3), { patchSize: [16, 16, 16] }), /predictor returned 3 values/);
  await assert.rejects(slidingWindowInfer(v, [1, 2, 3], async (p) => p, { patchSize: [16, 16, 16] }), /dims 1×2×3 need 6/);
});

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
