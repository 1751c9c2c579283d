// Issue 11, item 7: fine-tune refuses a "mask" that is not a label mask (an image given twice),
// from the CLI and from the training engine the editor uses.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { ModelStore } from '../../src/ml/modelStore';
import { initBackend } from '../../src/ml/backend';
import { unetNetworks } from '../../src/ml/inference';
import { fineTune } from '../../src/ml/training';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import { tempDir } from '../helpers/tempDir';
import { tinyModel } from '../helpers/tinyModel';

before(async () => {
  await initBackend({ preferred: 'wasm' });
});

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
