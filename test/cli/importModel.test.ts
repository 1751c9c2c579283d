// Bring your own model from the command line: `lesion-lab import-model` (the built dist/cli.js)
// imports a 3-D conv model written in the layers format by TensorFlow.js itself
// (test/helpers/layersModel.ts), `lesion-lab segment --model STORE` runs it, and the exit status 2
// paths (output not probabilities, a wrong window, no description) add nothing to the store.
// importModel in-process is tested in test/ml/importedModel.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend } from '../../src/ml/backend';
import { ModelStore } from '../../src/ml/modelStore';
import { readNifti } from '../../src/nifti';
import { DESCRIPTION, FLAIR, writeImportFixture, writeLayersModel } from '../helpers/layersModel';
import { skipWithoutSharedData } from '../helpers/sharedData';

const CLI = resolve(__dirname, '../../dist/cli.js');
const skip = skipWithoutSharedData(...FLAIR);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  // wasm: 'auto' would first try the optional tfjs-node, whose own tfjs copy logs to stderr.
  const run = spawnSync(process.execPath, [CLI, ...args, '--backend', 'wasm'], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('lesion-lab import-model round trip with a layers model written by tfjs', { skip }, () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lesionlab-import-cli-'));
    await initBackend({ preferred: 'cpu' });
    await writeImportFixture(dir);
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

  it('lesion-lab segment runs the imported store (its active version) from the command line', async () => {
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
});
