import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianImportanceMap, patchGrid, slidingWindowInfer, windowStarts } from '../../src/volume/slidingWindow';
import { PatchError, type Vec3 } from '../../src/volume/vec3';

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
