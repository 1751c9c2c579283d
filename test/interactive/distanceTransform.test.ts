import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distanceTransformMm } from '../../src/interactive/distanceTransform';
import { PromptError } from '../../src/interactive';
import type { Vec3 } from '../../src/volume/vec3';

/** Brute force: distance from each inside voxel centre to the nearest outside voxel centre (the padding ring counts as outside when asked). */
function bruteForce(mask: Uint8Array, dims: Vec3, s: Vec3, outsideIsBackground: boolean): Float32Array {
  const out = new Float32Array(mask.length);
  const pad = outsideIsBackground ? 1 : 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
    const v = i + dims[0] * (j + dims[1] * k);
    if (!mask[v]) continue;
    let best = Infinity;
    for (let kk = -pad; kk < dims[2] + pad; kk++) for (let jj = -pad; jj < dims[1] + pad; jj++) for (let ii = -pad; ii < dims[0] + pad; ii++) {
      const inGrid = ii >= 0 && jj >= 0 && kk >= 0 && ii < dims[0] && jj < dims[1] && kk < dims[2];
      if (inGrid && mask[ii + dims[0] * (jj + dims[1] * kk)]) continue;
      best = Math.min(best, Math.hypot((ii - i) * s[0], (jj - j) * s[1], (kk - k) * s[2]));
    }
    out[v] = best;
  }
  return out;
}

test('distance transform: equals brute force on a random anisotropic mask, with and without an outside border', () => {
  const dims: Vec3 = [7, 6, 5];
  const spacing: Vec3 = [0.9, 1.3, 3.2];
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const mask = new Uint8Array(7 * 6 * 5).map(() => (rand() < 0.7 ? 1 : 0));
  for (const border of [true, false]) {
    const got = distanceTransformMm(mask, dims, spacing, border);
    const want = bruteForce(mask, dims, spacing, border);
    for (let v = 0; v < mask.length; v++) assert.ok(Math.abs(got[v] - want[v]) < 1e-4, `voxel ${v}: ${got[v]} vs ${want[v]} (border ${border})`);
  }
});

test('distance transform: an all-inside mask without a border has infinite distances; bad input is refused', () => {
  const dt = distanceTransformMm(new Uint8Array(8).fill(1), [2, 2, 2], [1, 1, 1], false);
  assert.ok(dt.every((d) => d === Infinity));
  assert.throws(() => distanceTransformMm(new Uint8Array(7), [2, 2, 2], [1, 1, 1]), PromptError);
  assert.throws(() => distanceTransformMm(new Uint8Array(8), [2, 2, 2], [1, 0, 1]), /spacing must be > 0/);
});
