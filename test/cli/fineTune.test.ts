// lesion-lab fine-tune: a short real run, and a non-label mask refused (issue 11, item 7).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { readNifti, writeMaskLike, writeVolumeLike } from '../../src/nifti';
import { ModelStore } from '../../src/ml/modelStore';
import { initBackend } from '../../src/ml/backend';
import { cropVolume } from '../../src/volume/boxes';
import type { Vec3 } from '../../src/volume/vec3';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { tinyModel } from '../helpers/tinyModel';
import { unetNetworks } from '../../src/ml/inference';
import { fineTune } from '../../src/ml/training';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';

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

// Issue 11, item 7: fine-tune refuses a "mask" that is not a label mask (an image given twice),
// from the CLI and from the training engine the editor uses.
const SIDE = 16;

/** A 16³ "CT": air at -1000 HU around a body of fractional HU values (many distinct values). */
function ctImage(): Uint8Array {
  const values = new Float32Array(SIDE ** 3).fill(-1000);
  for (let z = 3; z < 13; z++) for (let y = 3; y < 13; y++) for (let x = 3; x < 13; x++) values[x + SIDE * (y + SIDE * z)] = 20 + x * 3.5 + y * 0.25 + z * 11;
  return gzip(buildNifti({ dim: [SIDE, SIDE, SIDE], datatype: 16, bitpix: 32, data: bytesOf(values), description: 'CT' }).file);
}

const NOT_A_MASK = /ct\.nii\.gz is not a label mask: it has \d[\d,]* distinct values including -1000 and [\d.]+; a label mask holds at most 256 distinct whole numbers from 0 to 65,535/;

test('fine-tune ct.nii.gz:ct.nii.gz exits 2 naming the values found, and writes no version', async () => {
  const dir = tempDir('ll-labelmask-');
  const model = await tinyModel(dir, { name: 'model', modality: 'CT' });
  const ct = join(dir, 'ct.nii.gz');
  writeFileSync(ct, ctImage());
  const store = join(dir, 'models');
  let err = '';
  const code = await runCli(['fine-tune', '--out', store, '--base', model, '--steps', '1', '--activate', 'always', '--backend', 'wasm', `${ct}:${ct}`], {
    stdout: () => undefined,
    stderr: (t) => (err += t),
  });
  assert.equal(code, 2, err);
  assert.equal(err.trim().split('\n').length, 1, err);
  assert.match(err, /^lesion-lab fine-tune: /);
  assert.match(err, NOT_A_MASK);
  assert.ok(!existsSync(join(store, 'v1')));
});

test('fineTune (the engine behind the editor command) refuses a non-label mask with the same sentence', async () => {
  const dir = tempDir('ll-labelmask-');
  const model = await tinyModel(dir, { name: 'model', modality: 'CT' });
  const ct = join(dir, 'ct.nii.gz');
  writeFileSync(ct, ctImage());
  const store = new ModelStore(join(dir, 'models'));
  await assert.rejects(
    fineTune({ baseModelDir: model, pairs: [{ imagePath: ct, maskPath: ct }], store, networks: unetNetworks, steps: 1, activate: 'always' }),
    (e: unknown) => {
      assert.ok(e instanceof Error && e.name === 'TrainingError', String(e));
      assert.match(e.message, NOT_A_MASK);
      return true;
    },
  );
  assert.deepEqual(await store.list(), []);
});
