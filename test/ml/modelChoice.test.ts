// A broken or misdirected active.json does not silently fall back to the starter model: the
// choice carries one sentence saying what is wrong and which model runs instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseActiveModel, NoModelError } from '../../src/ml/modelChoice';
import { ModelStore, writeCard, type ModelCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-choice-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function card(version: string): ModelCard {
  return {
    format: 'lesion-lab-model',
    formatVersion: 1,
    version,
    parentVersion: null,
    createdAt: '2026-11-27T00:00:00Z',
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR', null),
    network: { kind: 'test' },
    training: null,
  };
}

test('chooseActiveModel says what is wrong with active.json and that the starter model runs instead', async () => {
  const ws = mkdtempSync(join(dir, 'ws-'));
  const starterDir = join(ws, 'starter');
  mkdirSync(starterDir);
  await writeCard(starterDir, card('starter'));
  const root = join(ws, '.lesion-lab', 'models');
  const store = new ModelStore(root);
  const pending = await store.beginVersion();
  await pending.commit(card('x'));
  const ok = await chooseActiveModel(store, () => starterDir);
  assert.deepEqual([ok.version, ok.source, ok.warning], ['v1', 'workspace', null]);

  // No active.json at all is not a problem: the starter model, silently.
  const fresh = await chooseActiveModel(new ModelStore(join(ws, 'none')), () => starterDir);
  assert.deepEqual([fresh.source, fresh.warning], ['starter', null]);

  const cases: [string, RegExp][] = [
    ['{"version": "v1"', /active\.json is not valid JSON/],
    ['{"version": "../../elsewhere"}', /active\.json names "\.\.\/\.\.\/elsewhere", not a version of this store/],
    ['{"version": "v7"}', /active\.json names v7, but .*v7 cannot be used/],
  ];
  for (const [text, why] of cases) {
    writeFileSync(store.activePath, text);
    const c = await chooseActiveModel(store, () => starterDir);
    assert.equal(c.source, 'starter', text);
    assert.match(c.warning ?? '', why);
    assert.match(c.warning ?? '', /the starter model \(starter\) runs instead/);
  }

  // A version folder that is a link out of the store is refused too.
  const outside = join(ws, 'outside-v9');
  mkdirSync(outside);
  await writeCard(outside, card('v9'));
  symlinkSync(outside, join(root, 'v9'));
  writeFileSync(store.activePath, '{"version": "v9"}');
  const linked = await chooseActiveModel(store, () => starterDir);
  assert.equal(linked.source, 'starter');
  assert.match(linked.warning ?? '', /v9 is outside the model store/);
});

async function modelFolder(path: string, version: string): Promise<string> {
  mkdirSync(path, { recursive: true });
  await writeCard(path, card(version));
  return path;
}

test('chooseActiveModel: the store’s active version, else the starter; a clear error when neither exists', async () => {
  const ws = mkdtempSync(join(dir, 'ws-'));
  const starterDir = await modelFolder(join(ws, 'starter'), 'starter');
  const store = new ModelStore(join(ws, '.lesion-lab/models'));
  const fromStarter = await chooseActiveModel(store, () => starterDir);
  assert.deepEqual([fromStarter.version, fromStarter.source, fromStarter.dir], ['starter', 'starter', starterDir]);
  const pending = await store.beginVersion();
  await pending.commit({ ...card('x'), parentVersion: 'starter' });
  const fromStore = await chooseActiveModel(store, () => starterDir);
  assert.deepEqual([fromStore.version, fromStore.source], ['v1', 'workspace']);
  const missing = () => {
    throw new Error('starter model not found in media/models/starter');
  };
  await assert.rejects(
    chooseActiveModel(null, missing),
    (e: Error) => e instanceof NoModelError && /no workspace folder is open .* starter model shipped with the extension is missing \(starter model not found/.test(e.message),
  );
  await assert.rejects(chooseActiveModel(new ModelStore(join(ws, 'empty')), missing), /the workspace store .*empty has no active version/);
  const broken = join(ws, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'card.json'), '{}');
  await assert.rejects(chooseActiveModel(null, () => broken), /the starter model in .*broken cannot be used: .*format must be "lesion-lab-model"/);
});
