// A broken or misdirected active.json does not silently fall back to the starter model: the
// choice carries one sentence saying what is wrong and which model runs instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseActiveModel, NoModelError, type StarterLocator } from '../../src/ml/modelChoice';
import { ModelStore, writeCard, type ModelCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';

/** A locator with only the default starter: no task starter is shipped. */
const defaultOnly = (defaultDir: () => string): StarterLocator => ({
  defaultDir,
  dirOf: (name) => {
    throw new Error(`${name} is not shipped`);
  },
});

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
  const ok = await chooseActiveModel(store, defaultOnly(() => starterDir));
  assert.deepEqual([ok.version, ok.source, ok.warning], ['v1', 'workspace', null]);

  // No active.json at all is not a problem: the starter model, silently.
  const fresh = await chooseActiveModel(new ModelStore(join(ws, 'none')), defaultOnly(() => starterDir));
  assert.deepEqual([fresh.source, fresh.warning], ['starter', null]);

  const cases: [string, RegExp][] = [
    ['{"version": "v1"', /active\.json is not valid JSON/],
    ['{"version": "../../elsewhere"}', /active\.json names "\.\.\/\.\.\/elsewhere", not a version of this store/],
    ['{"version": "v7"}', /active\.json names v7, but .*v7 cannot be used/],
  ];
  for (const [text, why] of cases) {
    writeFileSync(store.activePath, text);
    const c = await chooseActiveModel(store, defaultOnly(() => starterDir));
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
  const linked = await chooseActiveModel(store, defaultOnly(() => starterDir));
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
  const fromStarter = await chooseActiveModel(store, defaultOnly(() => starterDir));
  assert.deepEqual([fromStarter.version, fromStarter.source, fromStarter.dir], ['starter', 'starter', starterDir]);
  const pending = await store.beginVersion();
  await pending.commit({ ...card('x'), parentVersion: 'starter' });
  const fromStore = await chooseActiveModel(store, defaultOnly(() => starterDir));
  assert.deepEqual([fromStore.version, fromStore.source], ['v1', 'workspace']);
  const missing = () => {
    throw new Error('starter model not found in media/models/starter');
  };
  await assert.rejects(
    chooseActiveModel(null, defaultOnly(missing)),
    (e: Error) => e instanceof NoModelError && /no workspace folder is open .* starter model shipped with the extension is missing \(starter model not found/.test(e.message),
  );
  await assert.rejects(chooseActiveModel(new ModelStore(join(ws, 'empty')), defaultOnly(missing)), /the workspace store .*empty has no active version/);
  const broken = join(ws, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'card.json'), '{}');
  await assert.rejects(chooseActiveModel(null, defaultOnly(() => broken)), /the starter model in .*broken cannot be used: .*format must be "lesion-lab-model"/);
});

test('chooseActiveModel: active.json naming a shipped starter, the remembered starter without a store, and a starter no longer shipped', async () => {
  const ws = mkdtempSync(join(dir, 'ws-'));
  const defaultDir = await modelFolder(join(ws, 'models', 'starter'), 'starter');
  const flairDir = await modelFolder(join(ws, 'models', 'ms-flair'), 'ms-flair');
  const starters: StarterLocator = {
    defaultDir: () => defaultDir,
    dirOf: (name) => {
      if (name !== 'ms-flair') throw new Error(`media/models/${name} is not a starter model shipped with this Lesion Lab`);
      return flairDir;
    },
  };
  const store = new ModelStore(join(ws, '.lesion-lab/models'));
  const unchosen = await chooseActiveModel(store, starters);
  assert.deepEqual([unchosen.version, unchosen.chosen, unchosen.starterName, unchosen.warning], ['starter', false, null, null]);

  await store.setActiveStarter('ms-flair');
  assert.deepEqual(JSON.parse(readFileSync(store.activePath, 'utf8')).starter, 'ms-flair');
  const chosen = await chooseActiveModel(store, starters);
  assert.deepEqual([chosen.version, chosen.source, chosen.chosen, chosen.starterName, chosen.dir], ['ms-flair', 'starter', true, 'ms-flair', flairDir]);
  assert.equal(await store.active(), null, 'a starter pointer is no version of the store');

  // A remembered starter counts only where there is no store (a window without a folder).
  const folderless = await chooseActiveModel(null, starters, 'ms-flair');
  assert.deepEqual([folderless.version, folderless.chosen], ['ms-flair', true]);
  const withStore = await chooseActiveModel(new ModelStore(join(ws, 'other')), starters, 'ms-flair');
  assert.deepEqual([withStore.version, withStore.chosen], ['starter', false]);

  // A fine-tuned version made active replaces the starter pointer.
  const pending = await store.beginVersion();
  await pending.commit({ ...card('x'), parentVersion: 'ms-flair' });
  assert.deepEqual([(await chooseActiveModel(store, starters)).version, (await chooseActiveModel(store, starters)).chosen], ['v1', true]);

  // A starter that is no longer shipped, or a name that is no folder name: the default runs, with why, and it counts as not chosen.
  writeFileSync(store.activePath, '{"starter": "sarcoma-ct"}');
  const gone = await chooseActiveModel(store, starters);
  assert.deepEqual([gone.version, gone.chosen], ['starter', false]);
  assert.match(gone.warning ?? '', /active\.json names the starter model "sarcoma-ct", which cannot be used \(media\/models\/sarcoma-ct is not a starter model shipped/);
  writeFileSync(store.activePath, '{"starter": "../v1"}');
  const bad = await chooseActiveModel(store, starters);
  assert.match(bad.warning ?? '', /names starter "\.\.\/v1", not the folder name of a shipped starter model/);
  await assert.rejects(store.setActiveStarter('../escape'), /a starter model is named by its folder under media\/models/);
});
