// Bring your own model, in-process: a 3-D conv model written in the layers format by
// TensorFlow.js itself (test/helpers/layersModel.ts) imported with importModel, then run by
// segmentVolume on a crop of MS patient 19's FLAIR; the model is a per-voxel logistic function of
// the normalised intensity, so the expected probability of every voxel is known exactly. Also a
// graph model and the description checks. The command line (`lesion-lab import-model`, built
// dist/cli.js) is tested in test/cli/importModel.test.ts.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/ml/backend';
import { importModel, parseInputDescription, ImportModelError } from '../../src/ml/importedModel';
import { loadSegmentationModel, segmentVolume } from '../../src/ml/inference';
import { ModelStore } from '../../src/ml/modelStore';
import { normalizeIntensity } from '../../src/ml/preprocess';
import { readNifti } from '../../src/nifti';
import { A, B, DESCRIPTION, FLAIR, writeImportFixture } from '../helpers/layersModel';
import { skipWithoutSharedData } from '../helpers/sharedData';

const skip = skipWithoutSharedData(...FLAIR);

test('parseInputDescription: defaults, and one sentence naming the file and field for each problem', () => {
  const d = parseInputDescription({ ...DESCRIPTION, output: undefined, layout: undefined }, 'x.json');
  assert.equal(d.output, 'softmax');
  assert.equal(d.lesionClass, 1);
  assert.deepEqual(d.preprocessing.targetSpacingMm, [1, 1, 1]);
  const bad = (patch: Record<string, unknown>, message: RegExp) =>
    assert.throws(() => parseInputDescription({ ...DESCRIPTION, ...patch }, 'x.json'), (e: unknown) => e instanceof ImportModelError && message.test((e as Error).message));
  bad({ layout: 'channels-first' }, /^x\.json: layout must be "channels-last"/);
  bad({ patchSize: [16, 16] }, /^x\.json: patchSize must be three whole numbers from 1 to 256/);
  bad({ output: 'sigmoid' }, /^x\.json: a "sigmoid" output has one channel, so classes must name one class/);
  bad({ classes: ['lesion'] }, /^x\.json: a "softmax" output needs at least two classes/);
  bad({ lesionClass: 2 }, /^x\.json: lesionClass must be the index of the lesion class in classes \(0 to 1\), got 2/);
  bad({ normalization: { modality: 'XR' } }, /^x\.json: normalization: /);
  bad({ spacingMm: [1, 0, 1] }, /^x\.json: spacingMm must be three voxel sizes in mm > 0/);
});

describe('importModel round trip with a layers model written by tfjs', { skip }, () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lesionlab-import-'));
    await initBackend({ preferred: 'cpu' });
    await writeImportFixture(dir);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('importModel checks one window and adds v1 (active) to the store', async () => {
    const store = new ModelStore(join(dir, 'store'));
    const result = await importModel(join(dir, 'model'), store);
    assert.equal(result.kind, 'tfjs-layers');
    assert.deepEqual(result.checkedOutputShape, [1, 16, 16, 16, 2]);
    assert.equal(result.version.version, 'v1');
    assert.equal(result.version.card.network.kind, 'tfjs-layers');
    assert.equal(result.version.card.training, null);
    assert.ok(existsSync(join(dir, 'store', 'v1', 'weights.bin')));
    assert.equal((await store.active())?.version, 'v1');
  });

  it('Segment Lesion runs the imported model: every voxel is the logistic function of its normalised intensity', async () => {
    const image = await readNifti(join(dir, 'flair.nii.gz'));
    const model = await loadSegmentationModel(join(dir, 'store', 'v1'));
    try {
      const seg = await segmentVolume(image, model, { ttaFlips: [[]], skipBackground: false, threshold: 0.5 });
      const z = normalizeIntensity(image.data, model.preprocessing).values;
      let worst = 0;
      let lesion = 0;
      for (let v = 0; v < z.length; v++) {
        const expected = 1 / (1 + Math.exp(-(2 * A * z[v] - 2 * B)));
        worst = Math.max(worst, Math.abs(seg.probability[v] - expected));
        if (seg.labels[v]) lesion++;
      }
      assert.ok(worst < 1e-4, `largest difference from the expected probability: ${worst}`);
      assert.ok(lesion > 0 && lesion < z.length / 4, `${lesion} lesion voxels`);
    } finally {
      model.network.dispose();
    }
  });

  it('a graph model (a hand-written TensorFlow graph: Placeholder → Sigmoid) with a sigmoid output imports and runs', async () => {
    const graph = join(dir, 'graph');
    mkdirSync(graph);
    const dim = (size: number) => ({ size: String(size) });
    writeFileSync(
      join(graph, 'model.json'),
      JSON.stringify({
        format: 'graph-model',
        generatedBy: 'hand-written for this test',
        modelTopology: {
          node: [
            { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [dim(-1), dim(-1), dim(-1), dim(-1), dim(1)] } } } },
            { name: 'p', op: 'Sigmoid', input: ['x'], attr: { T: { type: 'DT_FLOAT' } } },
          ],
          versions: { producer: 1 },
        },
        weightsManifest: [{ paths: [], weights: [] }],
      }),
    );
    writeFileSync(join(graph, 'lesion-lab-input.json'), JSON.stringify({ ...DESCRIPTION, classes: ['lesion'], output: 'sigmoid' }));
    const store = new ModelStore(join(dir, 'store3'));
    const result = await importModel(graph, store);
    assert.equal(result.kind, 'tfjs-graph');
    assert.deepEqual(result.checkedOutputShape, [1, 16, 16, 16, 2]);
    const image = await readNifti(join(dir, 'flair.nii.gz'));
    const model = await loadSegmentationModel(result.version.dir);
    try {
      const seg = await segmentVolume(image, model, { ttaFlips: [[]], skipBackground: false });
      const z = normalizeIntensity(image.data, model.preprocessing).values;
      let worst = 0;
      for (let v = 0; v < z.length; v++) worst = Math.max(worst, Math.abs(seg.probability[v] - 1 / (1 + Math.exp(-z[v]))));
      assert.ok(worst < 1e-4, `largest difference from sigmoid(z): ${worst}`);
    } finally {
      model.network.dispose();
    }
  });

  it('importModel in-process refuses a folder without model.json, naming it', async () => {
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'empty', 'lesion-lab-input.json'), JSON.stringify(DESCRIPTION));
    await assert.rejects(importModel(join(dir, 'empty'), new ModelStore(join(dir, 'store2'))), /empty\/model\.json: not found \(a TensorFlow\.js model folder holds model\.json and its weight files\)/);
  });
});
