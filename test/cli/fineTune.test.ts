// lesion-lab fine-tune: a short real run, and a non-label mask refused (issue 11, item 7).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/cli';
import { readNifti, writeMaskLike, writeVolumeLike } from '../../src/nifti';
import { LESION_PRIOR_MODEL, ModelStore, readCard, writeCard, type ModelCard } from '../../src/ml/modelStore';
import { initBackend } from '../../src/ml/backend';
import { cropVolume } from '../../src/volume/boxes';
import type { Vec3 } from '../../src/volume/vec3';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { tinyModel } from '../helpers/tinyModel';
import { writeHeadImage } from '../helpers/headImage';
import { unetNetworks } from '../../src/ml/inference';
import { DEFAULT_RECIPE, fineTune, fineTuneStart, recipeNetworkConfig } from '../../src/ml/training';
import { createLoss } from '../../src/ml/losses';
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
  // A base trained on far larger lesions (1,000 cm³): these MS lesions are another kind.
  const baseCard = await readCard(base);
  await writeCard(base, { ...baseCard, training: { ...baseCard.training!, typicalLesionMm3: 1e6 }, postprocessing: { keepLargestComponents: 1 } });
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
  // The base keeps the largest lesion; this crop's mask holds several MS lesions, so the new
  // version keeps them all, and says why.
  assert.deepEqual(card.postprocessing, {}, 'post-processing chosen for the new masks');
  assert.match(out, /^post-processing: keep every lesion \(validation Dice keepAll [\d.]+; not tried: largest1: the largest 1 lesion\(s\) hold only \d+ % of a training mask's lesion voxels/m);
  assert.deepEqual(Object.keys(card.training?.postprocessingChoice?.validationDice ?? {}), ['keepAll']);
  assert.match(out, /^the cases' lesions \(typically [\d.,]+ mm³\) are \d+× smaller than the base model's \(1,000,000 mm³\): another kind of lesion: learning rate 0.003 instead of 1e-4$/m);
  assert.equal(card.training?.hyperparameters.learningRate, 3e-3);
  assert.match(card.training?.newLesionType ?? '', /another kind of lesion/);
  assert.ok((card.training?.typicalLesionMm3 ?? 0) > 0, 'the new version records its lesion scale');
  assert.equal(card.training?.brainImages, undefined, 'a 40 mm crop is neither a brain nor a head');
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

const skipSts = skipWithoutSharedData('lesion', 'sarcoma-ct-mr-pet', 'STS_002');

/** A 64×64×16 crop of STS_002's MR T1 around its tumour (image and mask) in `dir`. */
async function sarcomaMrCrop(dir: string): Promise<{ imagePath: string; maskPath: string }> {
  const sts = (f: string): string => sharedDataPath('lesion', 'sarcoma-ct-mr-pet', 'STS_002', 'MR_T1', f);
  const img = await readNifti(sts('image.nii.gz'));
  const mask = await readNifti(sts('mask.nii.gz'));
  const first = (mask.data as Uint8Array).findIndex((v) => v > 0);
  const at: Vec3 = [first % mask.dims[0], Math.floor(first / mask.dims[0]) % mask.dims[1], Math.floor(first / (mask.dims[0] * mask.dims[1]))];
  const size: Vec3 = [64, 64, 16];
  const start = at.map((c, a) => Math.max(0, Math.min(mask.dims[a] - size[a], c - size[a] / 2))) as unknown as Vec3;
  const imagePath = join(dir, 'image.nii.gz');
  const maskPath = join(dir, 'mask.nii.gz');
  await writeVolumeLike({ ...img, dims: size }, cropVolume(img.data as Float32Array, img.dims, start, size), imagePath);
  await writeMaskLike({ ...mask, dims: size }, cropVolume(mask.data as Uint8Array, mask.dims, start, size), maskPath);
  return { imagePath, maskPath };
}

test('fine-tune CLI without --base: a run that validates worse than its starter leaves a new store with the starter active, and segment uses it', { skip: skipSts }, async () => {
  const dir = tempDir('ll-ftstarter-');
  const { imagePath, maskPath } = await sarcomaMrCrop(dir);
  let out = '';
  let err = '';
  const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
  const storeDir = join(dir, 'models');
  // Two steps at a learning rate of 0.9 wreck the weights: the validation Dice drops.
  assert.equal(await runCli(['fine-tune', '--out', storeDir, '--steps', '2', '--minutes', '3', '--lr', '0.9', '--backend', 'wasm', `${imagePath}:${maskPath}`], io), 0, err);
  assert.match(out, /base model: .*sarcoma-mr-t1 \(starter for sarcoma-mr-t1/);
  assert.match(out, /not activated: validation Dice dropped/);
  assert.match(out, /models had no active model: the starter sarcoma-mr-t1, which validated better, is now its active model/);
  assert.equal((await new ModelStore(storeDir).activeOrProblem()).starter, 'sarcoma-mr-t1');
  const seg = join(dir, 'seg.nii.gz');
  assert.equal(await runCli(['segment', imagePath, '--model', storeDir, '--out', seg, '--backend', 'wasm', '--tta', 'none'], io), 0, err);
  assert.match(out, /model: sarcoma-mr-t1/);
});

test('fine-tune CLI: cases of two modalities (a CT and an MR T1) exit 2 naming the image that does not suit the model, and write no version', { skip: skipSts }, async () => {
  const dir = tempDir('ll-ftmixed-');
  const sts = (patient: string, modality: string, file: string) => sharedDataPath('lesion', 'sarcoma-ct-mr-pet', patient, modality, file);
  const mr = sts('STS_002', 'MR_T1', 'image.nii.gz');
  const store = join(dir, 'models');
  let err = '';
  const code = await runCli(['fine-tune', '--out', store, '--steps', '1', '--backend', 'wasm', `${sts('STS_001', 'CT', 'image.nii.gz')}:${sts('STS_001', 'CT', 'mask.nii.gz')}`, `${mr}:${sts('STS_002', 'MR_T1', 'mask.nii.gz')}`], {
    stdout: () => undefined,
    stderr: (t) => (err += t),
  });
  assert.equal(code, 2, err);
  assert.equal(err.trim().split('\n').length, 1, err);
  assert.ok(err.startsWith(`lesion-lab fine-tune: ${mr}: it has no values below -50`), err);
  assert.match(err, /so it is not a CT in Hounsfield units, and the model works on CT; fine-tune on cases of the model's modality only/);
  assert.ok(!existsSync(join(store, 'v1')));
});

// Issue 12, items 4–5: a base whose working grid is far finer than the new cases' slices (a 1 mm
// brain model, 3.27 mm sarcoma MR slices) gives way to the lesion prior's weights (a new network
// when none is shipped) on a grid planned from them;
// --replan never keeps the base; --replan keep-weights puts the base's weights on the planned grid.
test('fine-tune CLI: a 1 mm base on 3.27 mm slices gives way to the lesion prior on a grid planned from the cases, recorded in the card; --replan never keeps the base, keep-weights its weights', { skip: skipSts }, async () => {
  const dir = tempDir('ll-ftreplan-');
  const { imagePath, maskPath } = await sarcomaMrCrop(dir);
  const base = await tinyModel(dir, { name: 'base', seed: 4 });
  let out = '';
  let err = '';
  const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
  const run = (store: string, extra: string[]): Promise<number> =>
    runCli(['fine-tune', '--out', join(dir, store), '--base', base, '--steps', '2', '--minutes', '2', '--backend', 'wasm', ...extra, `${imagePath}:${maskPath}`], io);
  assert.equal(await run('auto', []), 0, err);
  assert.match(out, /re-planned for the new cases: the cases' median spacing 0\.977×0\.977×3\.27 mm is over 1\.5× coarser than the base model's 1×1×1 mm grid along z/);
  const [auto] = await new ModelStore(join(dir, 'auto')).list();
  const t = auto.card.preprocessing.targetSpacingMm!;
  assert.equal(t[2], 3.27, `target ${t}`);
  assert.ok(t[0] >= 0.977 && t[0] <= 3.27, `target ${t}`);
  assert.ok(auto.card.patchSizeVoxels.every((n) => n % 2 === 0), `patch ${auto.card.patchSizeVoxels}`);
  assert.match(auto.card.training!.replanned!.join(' '), /coarser than the base model's .*the general lesion prior's weights \(lesion-prior\) on this configuration instead of tiny's/);
  // The shipped lesion prior's network and weights (src/ml/training/recipe.ts), not the base's.
  const prior = await readCard(join(resolve(__dirname, '../..'), 'media/models', LESION_PRIOR_MODEL));
  assert.equal(auto.card.parentVersion, null);
  assert.deepEqual(auto.card.network, prior.network);
  assert.equal(auto.card.training!.hyperparameters.learningRate, DEFAULT_RECIPE.learningRate);
  // Without a shipped prior: a new network of the starter recipe.
  const pair = { imagePath, maskPath };
  const fresh = await fineTuneStart({ dir: base, card: await readCard(base) }, [pair], { replan: true, lesionPriorDir: null });
  assert.ok('newNetwork' in fresh.start);
  assert.deepEqual(fresh.start.newNetwork.config, recipeNetworkConfig(DEFAULT_RECIPE));
  assert.match(fresh.replanned!.join(' '), /a new network of the starter recipe instead of tiny's weights/);
  // A base trained on this kind of lesion (its typical lesion within 10× of the cases') keeps its
  // grid on the coarser slices: its weights know the lesion there.
  const sameKindCard = await readCard(base);
  const { typicalLesionVolumeOfFiles } = await import('../../src/ml/training/lesionScale');
  const casesMm3 = (await typicalLesionVolumeOfFiles([maskPath])) as number;
  sameKindCard.training = { ...(sameKindCard.training as NonNullable<typeof sameKindCard.training>), typicalLesionMm3: casesMm3 / 3 };
  const sameKind = await fineTuneStart({ dir: base, card: sameKindCard }, [pair], { replan: true, lesionPriorDir: null });
  assert.equal(sameKind.replanned, null);
  assert.deepEqual(sameKind.start, { baseModelDir: base });
  assert.equal(sameKind.newLesionType, null);
  // The user's loss, with the recipe's options that it accepts (cross-entropy and focal have no region terms to pool).
  const batchPooled = { regionPooling: 'batch' };
  for (const [loss, lossOptions] of Object.entries({ 'cross-entropy': {}, focal: {}, dice: batchPooled, 'asymmetric-unified-focal': batchPooled })) {
    const begin = await fineTuneStart({ dir: base, card: await readCard(base) }, [pair], { replan: true, lesionPriorDir: null, loss });
    assert.equal(begin.options.loss, loss);
    assert.deepEqual(begin.options.lossOptions, lossOptions, loss);
    assert.doesNotThrow(() => createLoss(loss, begin.options.lossOptions), loss);
  }
  out = '';
  assert.equal(await run('never', ['--replan', 'never']), 0, err);
  assert.doesNotMatch(out, /re-planned/);
  const [never] = await new ModelStore(join(dir, 'never')).list();
  assert.deepEqual(never.card.preprocessing.targetSpacingMm, [1, 1, 1]);
  assert.deepEqual(never.card.patchSizeVoxels, [16, 16, 16]);
  assert.equal(never.card.training!.replanned, undefined);
  assert.equal(never.card.training!.hyperparameters.learningRate, 1e-4);
  // --replan keep-weights: the planned grid, the base's network and weights, a new network's rate.
  out = '';
  assert.equal(await run('keep', ['--replan', 'keep-weights']), 0, err);
  const [keep] = await new ModelStore(join(dir, 'keep')).list();
  assert.deepEqual(keep.card.preprocessing, auto.card.preprocessing);
  assert.deepEqual(keep.card.patchSizeVoxels, auto.card.patchSizeVoxels);
  assert.deepEqual(keep.card.network, never.card.network);
  assert.notDeepEqual(keep.card.network, auto.card.network);
  assert.match(keep.card.training!.replanned!.join(' '), /tiny's weights on this configuration \(--replan keep-weights\)/);
  assert.equal(keep.card.training!.hyperparameters.learningRate, DEFAULT_RECIPE.learningRate);
  assert.equal(await run('bad', ['--replan', 'sometimes']), 2);
  assert.match(err, /--replan must be auto, never or keep-weights, got "sometimes"/);
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

test('fine-tune CLI: the card counts the training images that were heads with their skull, for the skull check of segment', async () => {
  const dir = tempDir('ll-ftcli-head-');
  const image = join(dir, 'head.nii.gz');
  const mask = join(dir, 'head-mask.nii.gz');
  writeHeadImage(image, mask);
  const base = await tinyModel(dir, { seed: 6 });
  let err = '';
  const io = { stdout: () => undefined, stderr: (t: string) => (err += t) };
  const storeDir = join(dir, 'models');
  assert.equal(await runCli(['fine-tune', '--out', storeDir, '--base', base, '--steps', '1', '--minutes', '2', '--replan', 'never', '--backend', 'wasm', `${image}:${mask}`], io), 0, err);
  const [v1] = await new ModelStore(storeDir).list();
  assert.deepEqual(v1.card.training?.brainImages, { skullStripped: 0, withSkull: 1 });
  // A base trained on skull-stripped brains is given a head's brain alone, which then counts as one.
  const layered = join(dir, 'layered.nii.gz');
  writeHeadImage(layered, mask, { layers: true });
  const card = await readCard(base);
  await writeCard(base, { ...card, training: { ...card.training, brainImages: { skullStripped: 3, withSkull: 0 } } as NonNullable<ModelCard['training']> });
  const strippedStore = join(dir, 'models-stripped');
  assert.equal(await runCli(['fine-tune', '--out', strippedStore, '--base', base, '--steps', '1', '--minutes', '2', '--replan', 'never', '--backend', 'wasm', `${layered}:${mask}`, `${image}:${mask}`], io), 0, err);
  const [stripped] = await new ModelStore(strippedStore).list();
  assert.deepEqual(stripped.card.training?.brainImages, { skullStripped: 1, withSkull: 1 }, 'the head whose brain cannot be told stays a head');
});

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
