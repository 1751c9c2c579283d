import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFromMaskData, resampleLabelsToGrid } from '../../src/labels/maskGrid';

test('mask data to labels: integers kept, non-labels refused with the voxel named', () => {
  const a = labelsFromMaskData(new Float32Array([0, 1, 7]));
  assert.ok('labels' in a && a.labels instanceof Uint8Array);
  const b = labelsFromMaskData(new Int16Array([0, 300]));
  assert.ok('labels' in b && b.labels instanceof Uint16Array && b.labels[1] === 300);
  const c = labelsFromMaskData(new Float32Array([0, 0.5]));
  assert.ok('problem' in c && /voxel 1 holds 0\.5, which is not a label/.test(c.problem));
  const d = labelsFromMaskData(new Int16Array([-1]));
  assert.ok('problem' in d && /voxel 0 holds -1/.test(d.problem));
});

test('resampling labels by world position: a one-voxel shift and a flipped axis', () => {
  const dims: [number, number, number] = [4, 1, 1];
  const labels = new Uint8Array([1, 2, 3, 4]);
  // Source origin 1 mm further along x: target voxel i sits at source voxel i − 1.
  const shifted = resampleLabelsToGrid({ labels, dims, affine: [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, dims, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...shifted], [0, 1, 2, 3]);
  // Source stored with x flipped (x = 3 − i): same world positions, reversed array.
  const flipped = resampleLabelsToGrid({ labels, dims, affine: [-1, 0, 0, 3, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, dims, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...flipped], [4, 3, 2, 1]);
  // Coarser target (2 mm): centres at 0 and 2 mm.
  const coarse = resampleLabelsToGrid({ labels, dims, affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, [2, 1, 1], [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...coarse], [1, 3]);
  assert.throws(() => resampleLabelsToGrid({ labels, dims, affine: new Array(16).fill(0) }, dims, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), /singular/);
});
