import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { promises as fsp, readdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { readNifti, writeMaskLike, writeVolumeLike } from '../../src/nifti';
import { cropVolume } from '../../src/volume/boxes';
import type { Vec3 } from '../../src/volume/vec3';
import { fineTune, scheduleFactor, splitCases, TrainingCancelledError } from '../../src/ml/training';
import { prepareCase } from '../../src/ml/training/cases';
import { SmallNet, smallNets } from './smallNet';
import { ModelStore, writeCard, type ModelCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { unetNetworks } from '../../src/ml/inference';
import { createUNet3d, type UNet3dModelJson } from '../../src/ml/network';
import { seededRandom } from '../../src/util/random';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { writeSideways } from '../helpers/sideways';

const MS = ['lesion', 'ms-flair-mni', 'patient07'];
const skip = skipWithoutSharedData(...MS);
const REPO = resolve(__dirname, '../..');

/** Crops a lesion-rich 40×40×32 box of patient07 (FLAIR + mask) into a temp folder. */
async function cropCase(dir: string): Promise<{ imagePath: string; maskPath: string }> {
  const img = await readNifti(sharedDataPath(...MS, 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'));
  const mask = await readNifti(sharedDataPath(...MS, 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz'));
  const size: Vec3 = [40, 40, 32];
  const start: Vec3 = [80, 88, 40]; // found by scanning for the densest lesion box
  const imagePath = join(dir, 'image.nii.gz');
  const maskPath = join(dir, 'mask.nii.gz');
  const m = cropVolume(mask.data as Uint8Array, mask.dims, start, size);
  assert.ok(m.reduce((a, b) => a + b, 0) > 100, 'the crop holds lesion voxels');
  await writeVolumeLike({ ...img, dims: size }, cropVolume(img.data as Float32Array, img.dims, start, size), imagePath);
  await writeMaskLike({ ...mask, dims: size }, m, maskPath);
  return { imagePath, maskPath };
}

/** A store whose v1 is an untrained SmallNet. */
async function storeWithV1(root: string): Promise<ModelStore> {
  const store = new ModelStore(root);
  const p = await store.beginVersion();
  const net = SmallNet.create(5);
  await net.save(p.dir);
  net.dispose();
  const card: Omit<ModelCard, 'version'> = {
    format: 'lesion-lab-model',
    formatVersion: 1,
    parentVersion: null,
    createdAt: new Date().toISOString(),
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR', null),
    network: { kind: 'small-test-net' },
    training: null,
  };
  await p.commit(card);
  return store;
}

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

test('splitCases: one case validates on itself, 2–4 leave one out, 5+ hold out 20 %', () => {
  assert.deepEqual(splitCases(1, seededRandom(1)), { train: [0], validation: [0], heldOut: false });
  for (const n of [2, 3, 4]) {
    const s = splitCases(n, seededRandom(2));
    assert.equal(s.validation.length, 1);
    assert.equal(s.train.length, n - 1);
    assert.ok(!s.train.includes(s.validation[0]));
  }
  assert.equal(splitCases(10, seededRandom(3)).validation.length, 2);
});

test('fineTune: a few steps on one case lower the loss and raise Dice; new version active with a full card', { skip }, async () => {
  const dir = tempDir('ll-train-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  const progress: string[] = [];
  const r = await fineTune({
    baseModelDir: join(store.root, 'v1'),
    pairs: [pair],
    store,
    networks: smallNets,
    steps: 60,
    learningRate: 0.01,
    stepsPerEpoch: 10,
    patience: 100,
    seed: 3,
    onProgress: (p) => progress.push(p.phase),
  });
  const first = r.losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = r.losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(last < first, `loss ${first} → ${last}`);
  assert.ok(r.validationDiceBefore !== null && r.validationDiceAfter !== null);
  assert.ok(r.validationDiceAfter! > r.validationDiceBefore! + 0.1, `Dice ${r.validationDiceBefore} → ${r.validationDiceAfter}`);
  assert.equal(r.steps, 60);
  assert.equal(r.version.version, 'v2');
  assert.ok(r.activated);
  assert.equal((await store.active())?.version, 'v2');
  const card = r.version.card;
  assert.equal(card.parentVersion, 'v1');
  assert.equal(card.training?.loss.name, 'asymmetric-unified-focal');
  assert.match(card.training!.pairs[0].imageSha256, /^[0-9a-f]{64}$/);
  assert.equal(card.training!.validationDiceAfter, r.validationDiceAfter);
  assert.ok(existsSync(join(r.version.dir, 'small.json')));
  assert.ok(!existsSync(join(r.version.dir, 'checkpoint')));
  assert.deepEqual([...new Set(progress)], ['validating-before', 'training', 'validating-after', 'saving']);
});

test('fineTune keeps the base card\'s threshold on the base\'s own configuration and drops it on a re-planned one', { skip }, async () => {
  const dir = tempDir('ll-train-threshold-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  const v1 = (await store.list())[0];
  await writeCard(v1.dir, { ...v1.card, postprocessing: { threshold: 0.3 } });
  const run = (replanned: boolean) =>
    fineTune({
      baseModelDir: v1.dir,
      pairs: [pair],
      store,
      networks: smallNets,
      steps: 2,
      stepsPerEpoch: 2,
      seed: 3,
      activate: 'never',
      ...(replanned ? { configuration: { patchSizeVoxels: [24, 24, 16] as Vec3, preprocessing: defaultPreprocessing('MR', [1, 1, 1]) } } : {}),
    });
  const own = await run(false);
  assert.equal(own.version.card.postprocessing?.threshold, 0.3);
  const replanned = await run(true);
  assert.equal(replanned.version.card.postprocessing?.threshold, undefined);
});

test('fineTune: cancellation leaves the previous version intact and active', { skip }, async () => {
  const dir = tempDir('ll-cancel-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  const before = await fsp.readFile(join(store.root, 'v1', 'small.json'));
  const ctrl = new AbortController();
  await assert.rejects(
    fineTune({
      baseModelDir: join(store.root, 'v1'),
      pairs: [pair],
      store,
      networks: smallNets,
      steps: 1000,
      stepsPerEpoch: 2,
      learningRate: 0.01,
      onProgress: (p) => {
        if (p.step === 5) ctrl.abort();
      },
      signal: ctrl.signal,
    }),
    TrainingCancelledError,
  );
  assert.deepEqual((await store.list()).map((v) => v.version), ['v1']);
  assert.equal((await store.active())?.version, 'v1');
  assert.deepEqual(await fsp.readFile(join(store.root, 'v1', 'small.json')), before);
  assert.ok(!readdirSync(store.root).some((n) => n.startsWith('.incomplete-')), 'the temporary folder is removed');
});

test('fineTune: a killed process leaves the previous version intact and active', { skip }, async () => {
  const dir = tempDir('ll-kill-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  const before = await fsp.readFile(join(store.root, 'v1', 'small.json'));
  // The child fine-tunes with the same engine and prints each step; we kill it mid-run after it
  // has written a checkpoint into its temporary version folder.
  const script = join(dir, 'child.ts');
  writeFileSync(
    script,
    `import * as tf from ${JSON.stringify(join(REPO, 'node_modules/@tensorflow/tfjs'))};
import { fineTune } from ${JSON.stringify(join(REPO, 'src/ml/training'))};
import { ModelStore } from ${JSON.stringify(join(REPO, 'src/ml/modelStore'))};
import { smallNets } from ${JSON.stringify(join(REPO, 'test/ml/smallNet'))};
(async () => {
  await tf.setBackend('cpu');
  await fineTune({ baseModelDir: ${JSON.stringify(join(store.root, 'v1'))}, pairs: [${JSON.stringify(pair)}],
    store: new ModelStore(${JSON.stringify(store.root)}), networks: smallNets, steps: 100000, stepsPerEpoch: 2, learningRate: 0.01,
    onProgress: (p) => process.stdout.write('step ' + p.step + '\\n') });
})();
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, env: { ...process.env, LESION_LAB_TEST_CHILD: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`child made no progress: ${stderr}`)), 60_000);
    child.stdout.on('data', () => {
      const temp = readdirSync(store.root).find((n) => n.startsWith('.incomplete-'));
      if (temp && existsSync(join(store.root, temp, 'checkpoint'))) {
        clearTimeout(timer);
        res();
      }
    });
    child.on('exit', () => rej(new Error(`child exited early: ${stderr}`)));
  });
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.deepEqual((await store.list()).map((v) => v.version), ['v1']);
  assert.equal((await store.active())?.version, 'v1');
  assert.deepEqual(await fsp.readFile(join(store.root, 'v1', 'small.json')), before);
  // The dead run's temporary folder is cleaned up by the next run (or removeAbandoned).
  assert.equal((await store.removeAbandoned()).length, 1);
});


test('fineTune: ill options and unusable pairs fail with a sentence naming the option or file', async () => {
  const dir = tempDir('ll-ill-');
  const store = new ModelStore(join(dir, 'models'));
  const base = { baseModelDir: dir, store, networks: smallNets };
  await assert.rejects(fineTune({ ...base, pairs: [] }), /needs at least one image\/mask pair/);
  const pair = { imagePath: join(dir, 'nope.nii.gz'), maskPath: join(dir, 'nope-mask.nii.gz') };
  await assert.rejects(fineTune({ ...base, pairs: [pair], minutes: -1 }), /option minutes must be a positive number, got -1/);
  await assert.rejects(fineTune({ ...base, pairs: [pair], batchSize: 1.5 }), /option batchSize must be a positive integer, got 1.5/);
  await assert.rejects(fineTune({ ...base, pairs: [pair], loss: 'dise' }), /dise/);
  await assert.rejects(fineTune({ ...base, pairs: [pair] }), /nope.nii.gz: file not found/);
  const real = await cropCase(dir);
  await assert.rejects(fineTune({ ...base, pairs: [{ ...real, pooledModality: 'XR' as 'CT' }] }), /image.nii.gz: pooledModality must be one of MR, CT, PET, got XR/);
  await assert.rejects(fineTune({ ...base, pairs: [{ ...real, pooledModality: 'CT' }] }), /every pair is pooled from another modality/);
  assert.deepEqual(await store.list(), []);
});

test('fineTune: a pair pooled from another modality is normalised as its own modality and gives training patches only', { skip }, async () => {
  const dir = tempDir('ll-pooled-');
  const own = await cropCase(dir);
  const mr = defaultPreprocessing('MR', null);
  // The same FLAIR crop read as a CT: the soft-tissue window maps it into [0, 1] instead of a z-score.
  const asMr = await prepareCase(own, mr, false);
  const asCt = await prepareCase({ ...own, pooledModality: 'CT' }, mr, false);
  const range = (v: Float32Array): [number, number] => [Math.min(...v), Math.max(...v)];
  assert.ok(range(asMr.values)[0] < -0.5, `z-scored minimum ${range(asMr.values)[0]}`);
  assert.ok(range(asCt.values)[0] >= 0 && range(asCt.values)[1] <= 1, `windowed range ${range(asCt.values)}`);
  assert.deepEqual(asCt.labels, asMr.labels);
  const store = await storeWithV1(join(dir, 'models'));
  const pooled = { ...own, pooledModality: 'CT' as const };
  const r = await fineTune({ baseModelDir: join(store.root, 'v1'), pairs: [pooled, own], store, networks: smallNets, steps: 4, stepsPerEpoch: 2, seed: 5 });
  // With one pair of its own the model validates on it; the pooled pair never validates.
  assert.deepEqual(r.version.card.training!.validationImages, [own.imagePath]);
  assert.deepEqual(r.version.card.training!.pairs.map((p) => p.pooledModality ?? null), ['CT', null]);
});

test('prepareCase: a pair stored with its axes in another order trains on the same voxels, in world order', { skip }, async () => {
  const dir = tempDir('ll-sideways-');
  const upright = await cropCase(dir);
  const image = await readNifti(upright.imagePath);
  const [nx, ny, nz] = image.dims;
  const side = { imagePath: join(dir, 'sideways.nii.gz'), maskPath: join(dir, 'sideways_mask.nii.gz') };
  await writeSideways(upright.imagePath, upright.maskPath, side.imagePath, side.maskPath);
  assert.deepEqual((await readNifti(side.imagePath)).dims, [nz, nx, ny]);
  const mr = defaultPreprocessing('MR', null);
  const a1 = await prepareCase(upright, mr, true);
  const a2 = await prepareCase(side, mr, true);
  assert.deepEqual(a2.dims, a1.dims);
  assert.deepEqual(a2.spacingMm, a1.spacingMm);
  assert.deepEqual(a2.values, a1.values);
  assert.deepEqual(a2.labels, a1.labels);
  // The source kept for whole-volume validation is reordered with its mask.
  assert.deepEqual(a2.image!.dims, image.dims);
  assert.deepEqual(a2.sourceMask, a1.sourceMask);
});

test('fineTune: a budget too small for one step fails with the measured step time and writes no version', { skip }, async () => {
  const dir = tempDir('ll-tiny-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  await assert.rejects(
    fineTune({ baseModelDir: join(store.root, 'v1'), pairs: [pair], store, networks: smallNets, minutes: 0.002, seed: 3 }),
    (e: Error) => {
      assert.equal(e.name, 'TrainingError');
      assert.match(e.message, /too small for one training step/);
      assert.match(e.message, /one step of 2 patch\(es\) of 16×16×16 takes about \d+\.\d\d s \(measured: /);
      assert.match(e.message, /No version was written/);
      return true;
    },
  );
  assert.deepEqual((await store.list()).map((v) => v.version), ['v1']);
  assert.equal((await store.active())?.version, 'v1');
  assert.equal((await store.removeAbandoned()).length, 0, 'no temporary folder left behind');
});

/** SmallNet whose every forward pass takes ≥ `ms` (a slow machine or a large model). */
function slowNets(ms: number): typeof smallNets {
  return {
    ...smallNets,
    load: async (d) => {
      const net = await smallNets.load(d);
      const predict = net.predict.bind(net);
      net.predict = (x) => {
        const t = Date.now();
        while (Date.now() - t < ms) {
          /* busy */
        }
        return predict(x);
      };
      return net;
    },
  };
}

test('fineTune: whole-volume validation that would not fit the budget is skipped, and the run stays within it', { skip }, async () => {
  const dir = tempDir('ll-budget-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  const minutes = 0.1;
  const t0 = Date.now();
  const r = await fineTune({ baseModelDir: join(store.root, 'v1'), pairs: [pair], store, networks: slowNets(60), minutes, stepsPerEpoch: 1000, seed: 3 });
  const wallS = (Date.now() - t0) / 1000;
  assert.ok(r.steps >= 1, `${r.steps} steps`);
  assert.match(r.wholeVolumeSkipped ?? '', /whole-volume validation before and after would take about \d+\.\d s \(\d+ windows × 0\.\d\d s, twice\)/);
  assert.equal(r.validationDiceBefore, null);
  assert.equal(r.validationDiceAfter, null);
  assert.match(String(r.version.card.training?.hyperparameters.wholeVolumeValidationSkipped), /fixed validation patches decide/);
  assert.ok(r.durationS <= minutes * 60, `duration ${r.durationS} s within ${minutes * 60} s`);
  assert.ok(wallS <= minutes * 60 + 1, `wall ${wallS} s`);
});

test('fineTune: early stopping never fires before half the step budget; the schedule warms up and decays', { skip }, async () => {
  const dir = tempDir('ll-early-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  // A learning rate so small that validation never improves: patience 1 would stop at step 10.
  const r = await fineTune({
    baseModelDir: join(store.root, 'v1'),
    pairs: [pair],
    store,
    networks: smallNets,
    steps: 40,
    learningRate: 1e-12,
    stepsPerEpoch: 5,
    patience: 1,
    wholeVolumeValidation: false,
    seed: 3,
  });
  assert.equal(r.stoppedBecause, 'early stopping');
  assert.ok(r.steps >= 20 && r.steps < 40, `stopped at step ${r.steps}`);
  assert.equal(scheduleFactor('constant', 0, 10, 0.5), 0.1);
  assert.equal(scheduleFactor('cosine', 20, 10, 0), 1);
  assert.ok(Math.abs(scheduleFactor('cosine', 20, 10, 0.5) - 0.505) < 1e-9);
  assert.ok(Math.abs(scheduleFactor('cosine', 20, 10, 1) - 0.01) < 1e-9);
  assert.ok(Math.abs(scheduleFactor('poly', 20, 10, 0.5) - 0.5 ** 0.9) < 1e-9);
});

test('fineTune: with deep supervision every output scale is trained (its head moves), not only the full resolution', { skip }, async () => {
  const dir = tempDir('ll-train-ds-');
  const pair = await cropCase(dir);
  const config = { levels: 3, baseFilters: 4, normalization: 'instance' as const, deepSupervision: true, seed: 9 };
  const r = await fineTune({
    newNetwork: { config, patchSizeVoxels: [16, 16, 16], preprocessing: defaultPreprocessing('MR', null) },
    networks: unetNetworks,
    pairs: [pair],
    store: new ModelStore(join(dir, 'models')),
    steps: 3,
    learningRate: 0.01,
    stepsPerEpoch: 10,
    wholeVolumeValidation: false,
    seed: 3,
  });
  assert.equal(r.steps, 3);
  const initial = createUNet3d(config);
  await initial.save(join(dir, 'initial'));
  initial.dispose();
  // Largest change of one weight between the initial and the trained network's weights.bin.
  const weightsOf = (d: string): Float32Array => new Float32Array(Uint8Array.from(readFileSync(join(d, 'weights.bin'))).buffer);
  const specs = (JSON.parse(readFileSync(join(r.version.dir, 'model.json'), 'utf8')) as UNet3dModelJson).weightsManifest[0].weights;
  const before = weightsOf(join(dir, 'initial'));
  const after = weightsOf(r.version.dir);
  const change = (name: string): number => {
    let offset = 0;
    for (const w of specs) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (w.name === name) return Math.max(...Array.from({ length: size }, (_, i) => Math.abs(before[offset + i] - after[offset + i])));
      offset += size;
    }
    throw new Error(`no weight ${name}`);
  };
  // Without the deep-supervision loss the half-resolution head gets no gradient and keeps its initial weights.
  assert.ok(change('dec1/head/kernel') > 1e-4, `dec1/head moved ${change('dec1/head/kernel')}`);
  assert.ok(change('head/kernel') > 1e-4, `head moved ${change('head/kernel')}`);
});

test('fineTune: for another kind of lesion (or baseCompetes false) the best weights are chosen among the trained ones, and such a version is activated only when it validates at least as well as the base', { skip }, async () => {
  const dir = tempDir('ll-newtype-');
  const pair = await cropCase(dir);
  const store = await storeWithV1(join(dir, 'models'));
  const common = { pairs: [pair], store, networks: smallNets, stepsPerEpoch: 5, patience: 100, wholeVolumeValidation: false, seed: 3 };
  const trained = await fineTune({ ...common, baseModelDir: join(store.root, 'v1'), steps: 60, learningRate: 0.01, stepsPerEpoch: 10 });
  assert.ok(trained.activated);
  // A learning rate that wrecks the network: no trained checkpoint validates as well as the base.
  const wrecking = { ...common, baseModelDir: trained.version.dir, steps: 10, learningRate: 5 };
  const weightsOf = (d: string): string => readFileSync(join(d, 'small.json'), 'utf8');
  const sameType = await fineTune(wrecking);
  assert.equal(weightsOf(sameType.version.dir), weightsOf(trained.version.dir), 'the same kind of lesion keeps the base\'s weights when they validate best');
  assert.ok(sameType.activated);
  const newType = await fineTune({ ...wrecking, newLesionType: 'another kind of lesion (test)' });
  assert.notEqual(weightsOf(newType.version.dir), weightsOf(trained.version.dir), 'another kind of lesion keeps a trained checkpoint');
  assert.equal(newType.activated, false);
  assert.equal((await store.active())?.version, sameType.version.version);
  // A base that may not compete (a starter resumed under a new augmentation) also keeps a trained checkpoint.
  const noBase = await fineTune({ ...wrecking, baseCompetes: false });
  assert.notEqual(weightsOf(noBase.version.dir), weightsOf(trained.version.dir), 'a base that does not compete is not kept');
});

test('fineTune: with weightAverageDecay the moving average of the weights is kept, while training follows its own weights', { skip }, async () => {
  const dir = tempDir('ll-train-ema-');
  const pair = await cropCase(dir);
  const config = { levels: 3, baseFilters: 4, normalization: 'instance' as const, deepSupervision: false, seed: 9 };
  const run = (steps: number, weightAverageDecay?: number): Promise<string> =>
    fineTune({
      newNetwork: { config, patchSizeVoxels: [16, 16, 16], preprocessing: defaultPreprocessing('MR', null) },
      networks: unetNetworks,
      pairs: [pair],
      store: new ModelStore(join(dir, `models-${steps}-${weightAverageDecay ?? 0}`)),
      steps,
      learningRate: 0.01,
      stepsPerEpoch: 10,
      wholeVolumeValidation: false,
      seed: 3,
      ...(weightAverageDecay === undefined ? {} : { weightAverageDecay }),
    }).then((r) => r.version.dir);
  const initial = createUNet3d(config);
  await initial.save(join(dir, 'initial'));
  initial.dispose();
  const weightsOf = (d: string): Float32Array => new Float32Array(Uint8Array.from(readFileSync(join(d, 'weights.bin'))).buffer);
  const w0 = weightsOf(join(dir, 'initial'));
  const w1 = weightsOf(await run(1));
  const w2 = weightsOf(await run(2));
  const averagedDir = await run(2, 0.99);
  const averaged = weightsOf(averagedDir);
  const card = JSON.parse(readFileSync(join(averagedDir, 'card.json'), 'utf8')) as ModelCard;
  assert.equal(card.training?.hyperparameters.weightAverageDecay, 0.99, 'the card says its weights are an average');
  // Decay min(0.99, (1 + t) / (10 + t)) after step t: 2/11, then 3/12.
  let largest = 0;
  let moved = 0;
  for (let i = 0; i < w0.length; i++) {
    const expected = 0.25 * ((2 / 11) * w0[i] + (9 / 11) * w1[i]) + 0.75 * w2[i];
    largest = Math.max(largest, Math.abs(averaged[i] - expected));
    moved = Math.max(moved, Math.abs(w2[i] - expected));
  }
  assert.ok(moved > 1e-4, `the average differs from the last weights (${moved})`);
  assert.ok(largest < 1e-5, `the saved weights are the moving average (largest difference ${largest})`);
  await assert.rejects(run(1, 1), /option weightAverageDecay must lie in \[0, 1\), got 1/);
});
