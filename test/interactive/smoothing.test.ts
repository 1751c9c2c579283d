import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianSmoothMm, gaussianTaps } from '../../src/interactive/smoothing';
import { PromptError } from '../../src/interactive';

test('smoothing: taps sum to 1 and are symmetric', () => {
  const t = gaussianTaps(1.5);
  assert.ok(Math.abs(t.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  for (let q = 0; q < t.length; q++) assert.ok(Math.abs(t[q] - t[t.length - 1 - q]) < 1e-7);
});

test('smoothing: a constant stays constant, a spike spreads less along a coarse axis, σ = 0 copies', () => {
  const dims: [number, number, number] = [9, 9, 9];
  const constant = new Float32Array(729).fill(5);
  assert.ok(gaussianSmoothMm(constant, dims, [1, 1, 3], 1).every((v) => Math.abs(v - 5) < 1e-5));
  const spike = new Float32Array(729);
  spike[4 + 9 * (4 + 9 * 4)] = 1;
  const s = gaussianSmoothMm(spike, dims, [1, 1, 4], 1);
  const along = (di: number, dk: number): number => s[4 + di + 9 * (4 + 9 * (4 + dk))];
  assert.ok(along(1, 0) > 0.05, 'spreads along the 1 mm axis');
  assert.equal(along(0, 1), 0, 'σ/spacing = 0.25 < 1/3: the 4 mm axis is left unsmoothed');
  const copy = gaussianSmoothMm(spike, dims, [1, 1, 1], 0);
  assert.deepEqual(copy, spike);
  assert.notEqual(copy, spike);
  assert.throws(() => gaussianSmoothMm(spike, dims, [1, 1, 1], -1), PromptError);
});
