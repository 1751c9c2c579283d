// The recipe learns: a new U-Net (instance norm, the default aUF loss, cosine schedule) overfits
// one small real case — a 32³ crop of a sarcoma PET around the tumour — to a training Dice of at
// least 0.9 within a fixed number of steps (a step budget, so a busy machine only makes it slower).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNifti, writeMaskLike, writeVolumeLike } from '../../src/nifti';
import { cropVolume } from '../../src/volume/boxes';
import type { Vec3 } from '../../src/volume/vec3';
import { initBackend } from '../../src/ml/backend';
import { unetNetworks } from '../../src/ml/inference';
import { ModelStore } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { fineTune } from '../../src/ml/training';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';

const PET = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'PET'];
const skip = skipWithoutSharedData(...PET);

before(async () => {
  await initBackend({ preferred: 'wasm' });
});

test('overfit: a new U-Net reaches training Dice ≥ 0.9 on one 32³ sarcoma PET crop within 60 steps', { skip }, async () => {
  const dir = tempDir('ll-overfit-');
  const img = await readNifti(sharedDataPath(...PET, 'image.nii.gz'));
  const mask = await readNifti(sharedDataPath(...PET, 'mask.nii.gz'));
  // Crop 32³ centred on the tumour's centre of mass.
  const c = [0, 0, 0];
  let n = 0;
  for (let z = 0, v = 0; z < mask.dims[2]; z++)
    for (let y = 0; y < mask.dims[1]; y++)
      for (let x = 0; x < mask.dims[0]; x++, v++)
        if (mask.data[v] > 0) {
          c[0] += x;
          c[1] += y;
          c[2] += z;
          n++;
        }
  const size: Vec3 = [32, 32, 32];
  const start = c.map((s, a) => Math.min(Math.max(0, Math.round(s / n) - 16), mask.dims[a] - 32)) as unknown as Vec3;
  const m = cropVolume(mask.data as Uint8Array, mask.dims, start, size);
  const lesion = m.reduce((a, b) => a + b, 0);
  assert.ok(lesion > 200 && lesion < 0.5 * 32 ** 3, `the crop holds ${lesion} tumour voxels`);
  const pair = { imagePath: join(dir, 'image.nii.gz'), maskPath: join(dir, 'mask.nii.gz') };
  await writeVolumeLike({ ...img, dims: size }, cropVolume(img.data as Float32Array, img.dims, start, size), pair.imagePath);
  await writeMaskLike({ ...mask, dims: size }, m, pair.maskPath);
  const t0 = Date.now();
  const r = await fineTune({
    newNetwork: { config: { levels: 3, baseFilters: 4, normalization: 'instance', seed: 5 }, patchSizeVoxels: size, preprocessing: defaultPreprocessing('PET', null) },
    networks: unetNetworks,
    pairs: [pair],
    store: new ModelStore(join(dir, 'models')),
    steps: 60,
    minutes: 30,
    batchSize: 1,
    learningRate: 1e-2,
    lossOptions: { regionPooling: 'batch' },
    stepsPerEpoch: 20,
    patience: 100,
    augmentation: null,
    seed: 2,
  });
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.steps, 60);
  console.log(`overfit: training Dice ${r.validationDiceBefore?.toFixed(3)} → ${r.validationDiceAfter?.toFixed(3)} in ${r.steps} steps, ${seconds.toFixed(0)} s`);
  assert.ok(r.validationDiceAfter !== null && r.validationDiceAfter >= 0.9, `training Dice ${r.validationDiceBefore} → ${r.validationDiceAfter} after ${r.steps} steps (${seconds.toFixed(0)} s)`);
});
