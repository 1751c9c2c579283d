import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { readNifti, writeMaskLike, writeVolumeLike } from '../../src/nifti';
import { ModelStore } from '../../src/ml/modelStore';
import { initBackend } from '../../src/ml/backend';
import { cropVolume, type Vec3 } from '../../src/volume/patches';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { tinyModel } from '../helpers/tinyModel';

const MS = ['lesion', 'ms-flair-mni', 'patient07'];
const skip = skipWithoutSharedData(...MS);

before(async () => {
  await initBackend({ preferred: 'wasm' });
});

test('fine-tune CLI: a short run on a real crop writes v1 into the store with a card, and segment uses the store', { skip }, async () => {
  const dir = tempDir('ll-ftcli-');
  const img = await readNifti(sharedDataPath(...MS, 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'));
  const mask = await readNifti(sharedDataPath(...MS, 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz'));
  const size: Vec3 = [40, 40, 32];
  const start: Vec3 = [80, 88, 40];
  const imagePath = join(dir, 'image.nii.gz');
  const maskPath = join(dir, 'mask.nii.gz');
  await writeVolumeLike({ ...img, dims: size }, cropVolume(img.data as Float32Array, img.dims, start, size), imagePath);
  await writeMaskLike({ ...mask, dims: size }, cropVolume(mask.data as Uint8Array, mask.dims, start, size), maskPath);
  const base = await tinyModel(dir, { name: 'base', seed: 4 });
  let out = '';
  let err = '';
  const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
  const storeDir = join(dir, 'models');
  const code = await runCli(['fine-tune', '--out', storeDir, '--base', base, '--steps', '3', '--minutes', '2', '--activate', 'never', '--backend', 'wasm', `${imagePath}:${maskPath}`], io);
  assert.equal(code, 0, err);
  assert.match(out, /^backend: wasm/m);
  assert.match(out, /validation Dice [\d.]+ → [\d.]+ on .*image.nii.gz \(the only case, so not held out\)/);
  assert.match(out, /3 steps in \d+ s, stopped by steps/);
  const versions = await new ModelStore(storeDir).list();
  assert.deepEqual(versions.map((v) => v.version), ['v1']);
  const card = versions[0].card;
  assert.equal(card.parentVersion, 'tiny');
  assert.equal(card.training?.steps, 3);
  assert.match(card.training!.backend, /^wasm/);
  assert.ok(existsSync(join(versions[0].dir, 'model.json')) && existsSync(join(versions[0].dir, 'weights.bin')));
  assert.match(out, /not activated \(--activate never\)/);
  // A store without an active version is refused with a hint; its version folder works.
  const m = join(dir, 'seg.nii.gz');
  const refused = await runCli(['segment', imagePath, '--model', storeDir, '--out', m, '--backend', 'wasm'], io);
  assert.equal(refused, 2);
  assert.match(err, /models is a model store with no active version; pass one of its versions, e.g. --model .*models\/v1/);
  await new ModelStore(storeDir).setActive('v1');
  const code2 = await runCli(['segment', imagePath, '--model', storeDir, '--out', m, '--backend', 'wasm', '--tta', 'none'], io);
  assert.equal(code2, 0, err);
  assert.match(out, /model: v1 \(/);
  assert.deepEqual((await readNifti(m)).dims, size);
});
