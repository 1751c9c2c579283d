// Bring your own model: a 3-D conv model written in the layers format by TensorFlow.js itself,
// imported with `lesion-lab import-model` (built dist/cli.js), then run by Segment Lesion
// (`lesion-lab segment --model STORE` and segmentVolume in-process) on a crop of MS patient 19's
// FLAIR (CC-BY, Lesjak et al. 2017). The model is a per-voxel logistic function of the normalised
// intensity, so the expected probability of every voxel is known exactly. Also the description
// checks and the exit status 2 paths.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend';
import { importModel, parseInputDescription, ImportModelError } from '../../src/ml/importedModel';
import { loadSegmentationModel, segmentVolume } from '../../src/ml/inference';
import { ModelStore } from '../../src/ml/modelStore';
import { normalizeIntensity } from '../../src/ml/preprocess';
import { readNifti } from '../../src/nifti';
import { writeCropNifti } from '../../scripts/e2e/fixtures';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const CLI = resolve(__dirname, '../../dist/cli.js');
const FLAIR = ['lesion', 'ms-flair-mni', 'patient19', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'] as const;
const skip = skipWithoutSharedData(...FLAIR);
/** p(lesion) = sigmoid(2·A·z − 2·B) for normalised intensity z: softmax of [−A·z + B, A·z − B]. */
const A = 3;
const B = 6;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  // wasm: 'auto' would first try the optional tfjs-node, whose own tfjs copy logs to stderr.
  const run = spawnSync(process.execPath, [CLI, ...args, '--backend', 'wasm'], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Writes a tfjs layers model the way tfjs's file handler does (model.json + weights.bin). */
async function writeLayersModel(dir: string, activation: 'softmax' | 'linear'): Promise<void> {
  const model = tf.sequential();
  model.add(tf.layers.conv3d({ inputShape: [16, 16, 16, 1], filters: 2, kernelSize: 1, padding: 'same', activation }));
  model.layers[0].setWeights([tf.tensor5d([-A, A], [1, 1, 1, 1, 2]), tf.tensor1d([B, -B])]);
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      writeFileSync(join(dir, 'weights.bin'), weights);
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}

const DESCRIPTION = {
  layout: 'channels-last',
  spacingMm: [1, 1, 1],
  normalization: { modality: 'MR' },
  patchSize: [16, 16, 16],
  classes: ['background', 'lesion'],
  output: 'softmax',
};

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

describe('import-model round trip with a layers model written by tfjs', { skip }, () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lesionlab-import-'));
    await initBackend({ preferred: 'cpu' });
    await writeLayersModel(join(dir, 'model'), 'softmax');
    writeFileSync(join(dir, 'model', 'lesion-lab-input.json'), JSON.stringify(DESCRIPTION));
    const flair = await readNifti(sharedDataPath(...FLAIR));
    writeCropNifti(join(dir, 'flair.nii.gz'), flair, [48, 68, 68], [48, 48, 32], 'lesion-lab test: crop of MS patient19 FLAIR');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lesion-lab import-model checks one window and adds v1 (active) to the store', () => {
    const r = cli('import-model', join(dir, 'model'), '--out', join(dir, 'store'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /imported layers model .* as v1 in .*store \(active\): window 16×16×16, spacing 1×1×1 mm, MR; check window gave \[1,16,16,16,2\]/);
    const card = JSON.parse(readFileSync(join(dir, 'store', 'v1', 'card.json'), 'utf8')) as { network: { kind: string; output: string }; training: unknown };
    assert.equal(card.network.kind, 'tfjs-layers');
    assert.equal(card.training, null);
    assert.ok(existsSync(join(dir, 'store', 'v1', 'weights.bin')));
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
    // And through the command line, with the store as --model (its active version).
    const r = cli('segment', join(dir, 'flair.nii.gz'), '--model', join(dir, 'store'), '--out', join(dir, 'mask.nii.gz'), '--tta', 'none');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /model: v1 \(.*store\/v1\), window 16×16×16/);
    const mask = await readNifti(join(dir, 'mask.nii.gz'));
    assert.ok(Array.from(mask.data).some((v) => v === 1));
  });

  it('a model whose output is not probabilities, a wrong window, or no description: exit 2, nothing added', async () => {
    await writeLayersModel(join(dir, 'linear'), 'linear');
    writeFileSync(join(dir, 'linear', 'lesion-lab-input.json'), JSON.stringify(DESCRIPTION));
    let r = cli('import-model', join(dir, 'linear'), '--out', join(dir, 'store'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lesion-lab import-model: .*lesion-lab-input\.json: output "softmax" should give probabilities in \[0, 1\], but \d+ of \d+ values of the check window are outside; is the output "logits"\?\n$/);
    writeFileSync(join(dir, 'linear', 'lesion-lab-input.json'), JSON.stringify({ ...DESCRIPTION, output: 'logits' }));
    r = cli('import-model', join(dir, 'linear'), '--out', join(dir, 'store'), '--activate', 'never');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /as v2 in /);

    writeFileSync(join(dir, 'model', 'lesion-lab-input.json'), JSON.stringify({ ...DESCRIPTION, patchSize: [32, 32, 32] }));
    r = cli('import-model', join(dir, 'model'), '--out', join(dir, 'store'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lesion-lab import-model: .*model\.json: running one window of 32×32×32 voxels \(\[1,32,32,32,1\]\) failed \(.+\)\n$/);
    rmSync(join(dir, 'model', 'lesion-lab-input.json'));
    r = cli('import-model', join(dir, 'model'), '--out', join(dir, 'store'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /lesion-lab-input\.json: (file not found|not found; describe the model's input there)/);
    assert.deepEqual((await new ModelStore(join(dir, 'store')).list()).map((v) => v.version), ['v1', 'v2']);
    assert.equal((await new ModelStore(join(dir, 'store')).active())?.version, 'v1');
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
