import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeIntensity, defaultPreprocessing, validatePreprocessing, approximateQuantile } from '../../src/ml/preprocess';

test('MR z-score inside the foreground; a few negative outliers do not pull the threshold under the background', () => {
  // 1000 background zeros, 3 negative outliers, 500 "brain" voxels of 100 ± 10.
  const v = new Float32Array(1503);
  for (let i = 0; i < 3; i++) v[1000 + i] = -50;
  for (let i = 0; i < 500; i++) v[1003 + i] = 100 + (i % 2 === 0 ? 10 : -10);
  const n = normalizeIntensity(v, defaultPreprocessing('MR'));
  assert.equal(n.foreground.reduce((a, b) => a + b, 0), 500);
  assert.ok(Math.abs(n.stats.mean - 100) < 1e-9);
  assert.ok(Math.abs(n.stats.std - 10) < 1e-9);
  assert.ok(Math.abs(n.values[1003] - 1) < 1e-6);
  assert.ok(Math.abs(n.values[0] - -10) < 1e-6);
  assert.ok(Math.abs(n.backgroundValue - -10) < 1e-6, 'background is the 1st percentile, i.e. the air value 0');
});

test('CT: clip to the window, scale to [0, 1], body above −500 HU; non-finite values are background', () => {
  const v = Float32Array.from([-1000, -100, 50, 200, 3000, NaN]);
  const n = normalizeIntensity(v, { modality: 'CT', targetSpacingMm: null, ctWindowHu: [-100, 200] });
  assert.deepEqual(Array.from(n.values), [0, 0, 0.5, 1, 1, 0]);
  assert.deepEqual(Array.from(n.foreground), [0, 1, 1, 1, 1, 0]);
});

test('validatePreprocessing names the field and value', () => {
  assert.equal(validatePreprocessing(defaultPreprocessing('PET')).modality, 'PET');
  assert.throws(() => validatePreprocessing({ modality: 'MR', targetSpacingMm: [1, 0, 1] }), /targetSpacingMm must be null or three numbers > 0, got \[1,0,1\]/);
  assert.throws(() => validatePreprocessing({ modality: 'CT', targetSpacingMm: null, ctWindowHu: [200, -100] }), /ctWindowHu must be \[low, high\] with low < high/);
  assert.throws(() => validatePreprocessing({ modality: 'MR', targetSpacingMm: null, foregroundFraction: 1 }), /foregroundFraction must lie in \[0, 1\), got 1/);
  assert.equal(approximateQuantile(Float32Array.from([5, 1, 3]), 0.5), 3);
});
