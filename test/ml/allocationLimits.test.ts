// Issue 11, item 8: sizes taken from a header or a model card are checked before anything of that
// size is allocated.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { segmentVolume, MAX_WORKING_GRID_VOXELS, MAX_PATCH_SIDE_VOXELS, type SegmentationNetwork } from '../../src/ml/inference';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { resampleLinear, resampleNearest, resampleToSpacing, MAX_RESAMPLED_VOXELS } from '../../src/volume/resample';
import type { Vec3 } from '../../src/volume/patches';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const voxelwise: SegmentationNetwork = {
  predict: (x) =>
    tf.tidy(() => {
      const p = tf.sigmoid(x);
      return tf.concat([tf.sub(1, p), p], 4) as tf.Tensor5D;
    }),
};

test('resampling refuses an output grid over MAX_RESAMPLED_VOXELS before allocating it', () => {
  const data = new Float32Array(8).fill(1);
  assert.throws(() => resampleLinear(data, [2, 2, 2], [6400, 6400, 6400]), {
    name: 'ResampleError',
    message: /resampling to 6400×6400×6400 would make 262,144,000,000 voxels, more than the 268,435,456 allowed/,
  });
  assert.throws(() => resampleNearest(new Uint8Array(8), [2, 2, 2], [6400, 6400, 6400]), { name: 'ResampleError' });
  assert.throws(() => resampleToSpacing(data, [2, 2, 2], [200, 200, 200], [0.1, 0.1, 0.1]), { name: 'ResampleError' });
  assert.equal(MAX_RESAMPLED_VOXELS, 2 ** 28);
  // Just under the limit along one axis is still fine (1 × 1 × n).
  assert.equal(resampleLinear(new Float32Array(1), [1, 1, 1], [1, 1, 1000]).length, 1000);
});

test('segmentVolume refuses a working grid or a patch that is too large, naming the image and the sizes', async () => {
  const dims: Vec3 = [32, 32, 32];
  const data = new Float32Array(32 ** 3).fill(1);
  const model = { network: voxelwise, patchSizeVoxels: [16, 16, 16] as Vec3, preprocessing: defaultPreprocessing('MR', [1, 1, 1]) };
  await assert.rejects(segmentVolume({ data, dims, spacingMm: [200, 200, 200], filePath: '/data/huge.nii.gz' }, model, { ttaFlips: [[]] }), {
    name: 'InferenceError',
    message:
      "huge.nii.gz: resampling its 32×32×32 voxels of 200×200×200 mm to the model's 1×1×1 mm spacing would make a 6400×6400×6400 grid " +
      '(262,144,000,000 voxels), more than the 268,435,456 that Lesion Lab works on; check the voxel size (pixdim) in its header',
  });
  assert.equal(MAX_WORKING_GRID_VOXELS, 2 ** 28);
  await assert.rejects(segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, { ...model, patchSizeVoxels: [4096, 4096, 4096] }, { ttaFlips: [[]] }), {
    name: 'InferenceError',
    message: `the model's patch size 4096×4096×4096 has a side over ${MAX_PATCH_SIDE_VOXELS} voxels`,
  });
});
