import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guessModality, intensityStats, isAllZero, toWireVoxels } from '../../src/volume/imageInfo';
import { obliquityDeg } from '../../src/protocol/orientation';
import { voxelVolumeMm3 } from '../../src/nifti/affine';
import { readNifti } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

test('intensity statistics: exact min/max/mean, percentiles close, NaN ignored', () => {
  const n = 100_001;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i / 100; // 0…1000 uniform
  data[5] = NaN;
  data[6] = Infinity;
  const s = intensityStats(data, { min: 0, max: 0 });
  assert.equal(s.min, 0);
  assert.equal(s.max, 1000);
  assert.equal(s.nonFiniteCount, 2);
  assert.ok(Math.abs(s.p50 - 500) < 0.5, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p1 - 10) < 0.5, `p1 ${s.p1}`);
  assert.ok(Math.abs(s.p99_5 - 995) < 0.5, `p99.5 ${s.p99_5}`);
  assert.equal(s.headerWindow, null, 'cal_min = cal_max = 0 means unset');
  const flat = intensityStats(new Int16Array([7, 7, 7]), { min: -100, max: 200 });
  assert.equal(flat.p99, 7);
  assert.deepEqual(flat.headerWindow, { min: -100, max: 200 });
  const none = intensityStats(new Float32Array([NaN]));
  assert.equal(none.nonFiniteCount, 1);
});

test('integer statistics are exact (nearest-rank percentiles over every voxel)', () => {
  const data = new Int16Array(1000);
  for (let i = 0; i < 1000; i++) data[i] = i - 500; // −500 … 499
  const s = intensityStats(data);
  assert.equal(s.min, -500);
  assert.equal(s.max, 499);
  assert.equal(s.mean, -0.5);
  assert.equal(s.p1, -491); // 10th smallest value
  assert.equal(s.p50, -1); // 500th
  assert.equal(s.p99_5, 494); // 995th
  const u8 = intensityStats(new Uint8Array([0, 0, 0, 255]));
  assert.deepEqual([u8.min, u8.max, u8.p50, u8.p99], [0, 255, 0, 255]);
  const i8 = intensityStats(new Int8Array([-128, 127]));
  assert.deepEqual([i8.min, i8.max], [-128, 127]);
});

test('obliquity, voxel volume, modality guess, wire voxel types', () => {
  assert.equal(obliquityDeg([-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]), 0);
  // Axes permuted (SLP-like) are not oblique.
  assert.equal(obliquityDeg([0, 0, -2, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), 0);
  const c = Math.cos((20 * Math.PI) / 180), s = Math.sin((20 * Math.PI) / 180);
  assert.ok(Math.abs(obliquityDeg([1, 0, 0, 0, 0, c, -s, 0, 0, s, c, 0, 0, 0, 0, 1]) - 20) < 1e-9);
  assert.ok(Math.abs(voxelVolumeMm3([-0.5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]) - 3) < 1e-12);
  const ctLike = intensityStats(new Int16Array([-1024, -1000, -990, 0, 40, 60, 400, 1200]));
  assert.equal(guessModality('/x/scan.nii.gz', '', ctLike), 'CT');
  assert.equal(guessModality('/data/STS_001/PET/image.nii.gz', '', ctLike), 'PET');
  assert.equal(guessModality('/data/patient07/FLAIR_N4.nii.gz', '', ctLike), 'MR');
  assert.equal(guessModality('/data/STS_001/MR_T1/image.nii.gz', '', ctLike), 'MR');
  assert.equal(guessModality('/data/abc.nii.gz', '', intensityStats(new Float32Array([0, 1, 2]))), 'unknown');
  assert.equal(toWireVoxels(new Int16Array([1, -2])).voxelType, 'int16');
  const f = toWireVoxels(new Float64Array([1.5, -2]));
  assert.equal(f.voxelType, 'float32');
  assert.deepEqual([...new Float32Array(f.voxels)], [1.5, -2]);
  const i32 = toWireVoxels(new Int32Array([3382, -1207]));
  assert.deepEqual([...new Float32Array(i32.voxels)], [3382, -1207]);
  // A view into a larger buffer is copied, not posted whole.
  const big = new Uint8Array(100);
  assert.equal(toWireVoxels(big.subarray(10, 20)).voxels.byteLength, 10);
  assert.equal(toWireVoxels(big.subarray(10, 20), { shareWholeBuffer: true }).voxels.byteLength, 10);
  // An array owning its whole buffer is shared only when asked.
  const whole = new Int16Array(4);
  assert.equal(toWireVoxels(whole, { shareWholeBuffer: true }).voxels, whole.buffer);
  assert.notEqual(toWireVoxels(whole).voxels, whole.buffer);
});

test('obliquity of the 20° oblique file', { skip: skipWithoutSharedData('odd', 'generated_valid') }, async () => {
  const img = await readNifti(sharedDataPath('odd', 'generated_valid', 'ct_oblique20deg.nii.gz'));
  assert.ok(Math.abs(obliquityDeg(img.affine) - 20) < 0.01, `got ${obliquityDeg(img.affine)}`);
  const straight = await readNifti(sharedDataPath('odd', 'generated_valid', 'ct_axes_permuted_SLP.nii.gz'));
  assert.ok(obliquityDeg(straight.affine) < 0.001);
});

test('isAllZero at every alignment and length', () => {
  const buf = new Uint8Array(37);
  for (let off = 0; off < 5; off++) {
    for (let len = 0; len + off <= 37; len += 3) {
      const view = buf.subarray(off, off + len);
      assert.equal(isAllZero(view), true);
      for (let p = 0; p < len; p++) {
        view[p] = 1;
        assert.equal(isAllZero(view), false, `off ${off} len ${len} pos ${p}`);
        view[p] = 0;
      }
    }
  }
  assert.equal(isAllZero(new Uint16Array([0, 256])), false);
});
