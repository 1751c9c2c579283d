import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ModelStore, readCard, sha256File, validateCard, type ModelCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { tempDir } from '../helpers/tempDir';

function card(parent: string | null): Omit<ModelCard, 'version'> {
  return {
    format: 'lesion-lab-model',
    formatVersion: 1,
    parentVersion: parent,
    createdAt: new Date().toISOString(),
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR'),
    network: { levels: 2 },
    training: null,
  };
}

test('ModelStore: versions are numbered, committed atomically, and the newest becomes active', async () => {
  const root = join(tempDir('ll-store-'), 'models');
  const store = new ModelStore(root);
  assert.deepEqual(await store.list(), []);
  assert.equal(await store.active(), null);
  const p1 = await store.beginVersion();
  writeFileSync(join(p1.dir, 'weights.bin'), 'one');
  // Not visible before commit.
  assert.deepEqual(await store.list(), []);
  const v1 = await p1.commit(card(null));
  assert.equal(v1.version, 'v1');
  assert.equal((await store.active())?.version, 'v1');
  const p2 = await store.beginVersion();
  writeFileSync(join(p2.dir, 'weights.bin'), 'two');
  const v2 = await p2.commit(card('v1'));
  assert.equal(v2.version, 'v2');
  assert.equal((await readCard(v2.dir)).parentVersion, 'v1');
  assert.deepEqual((await store.history()).map((h) => `${h.version}:${h.active}`), ['v1:false', 'v2:true']);
  await store.setActive('v1');
  assert.equal((await store.active())?.version, 'v1');
  assert.equal(readFileSync(join(root, 'v1', 'weights.bin'), 'utf8'), 'one');
  await assert.rejects(store.setActive('v9'), /model version v9 does not exist/);
  await assert.rejects(store.setActive('latest'), /version must look like v1/);
});

test('ModelStore: an abandoned version leaves the previous one intact and active; stale temp folders are removed', async () => {
  const root = join(tempDir('ll-store-'), 'models');
  const store = new ModelStore(root);
  await (await store.beginVersion()).commit(card(null));
  const p = await store.beginVersion();
  writeFileSync(join(p.dir, 'weights.bin'), 'partial');
  await p.abandon();
  assert.equal(existsSync(p.dir), false);
  assert.deepEqual((await store.list()).map((v) => v.version), ['v1']);
  assert.equal((await store.active())?.version, 'v1');
  // A temp folder of a dead process (pid 2^22+1 is beyond the default pid_max... use an unlikely pid).
  const stale = join(root, '.incomplete-999999999-abcd');
  mkdirSync(stale);
  assert.deepEqual(await store.removeAbandoned(), ['.incomplete-999999999-abcd']);
  assert.ok(!readdirSync(root).some((n) => n.startsWith('.incomplete-')));
});

test('validateCard and sha256File', async () => {
  assert.throws(() => validateCard({ ...card(null), version: 'v1', patchSizeVoxels: [16, 16] }, 'x/card.json'), /x\/card.json: patchSizeVoxels must be three positive integers/);
  assert.throws(() => validateCard({ ...card(null), version: 'v1', preprocessing: { modality: 'XR' } }, 'c'), /modality must be one of MR, CT, PET, got "XR"/);
  const dir = tempDir('ll-sha-');
  writeFileSync(join(dir, 'a'), 'abc');
  assert.equal(await sha256File(join(dir, 'a')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  await assert.rejects(readCard(dir), /no model card there/);
});

test('validateCard caps the patch size and checks it against the network levels', () => {
  const at = (patchSizeVoxels: number[], network: Record<string, unknown> = { levels: 2 }): unknown => ({ ...card(null), version: 'v1', patchSizeVoxels, network });
  assert.throws(() => validateCard(at([4096, 4096, 4096]), 'm/card.json'), {
    name: 'ModelStoreError',
    message: 'm/card.json: patchSizeVoxels [4096,4096,4096] has a side over 256 voxels; a window that large cannot be allocated',
  });
  assert.throws(() => validateCard(at([20, 20, 20], { levels: 4 }), 'm/card.json'), {
    message: 'm/card.json: patchSizeVoxels [20,20,20] must be multiples of 2^(levels-1) = 8 for a network of 4 levels',
  });
  // Without levels in the card the network's default (4 levels) applies.
  assert.throws(() => validateCard(at([12, 16, 16], {}), 'c'), /multiples of 2\^\(levels-1\) = 8 for a network of 4 levels/);
  assert.throws(() => validateCard(at([16, 16, 16], { levels: 9 }), 'c'), /c: network.levels must be an integer from 1 to 6, got 9/);
  assert.equal(validateCard(at([24, 16, 256], { levels: 4 }), 'c').patchSizeVoxels[2], 256);
});
