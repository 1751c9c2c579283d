// Issue 11, item 11: SIGTERM to the CLI cleans up like SIGINT: the run stops, its temporary folder
// and files are removed, the previous model version stays intact and active, and the exit code is
// the shell's 128 + signal number. Runs the bundle (npm run build first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createUNet3d } from '../../src/ml/network';
import { ModelStore } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import { tempDir } from '../helpers/tempDir';

const REPO = resolve(__dirname, '../..');
const CLI = join(REPO, 'dist', 'cli.js');
const SIDE = 16;

function writePair(dir: string): string {
  const values = new Float32Array(SIDE ** 3);
  const labels = new Uint8Array(SIDE ** 3);
  for (let z = 3; z < 13; z++)
    for (let y = 3; y < 13; y++)
      for (let x = 3; x < 13; x++) {
        const i = x + SIDE * (y + SIDE * z);
        const lesion = x >= 6 && x < 10 && y >= 6 && y < 10 && z >= 6 && z < 10;
        values[i] = lesion ? 300 : 100 + ((x + y + z) % 5);
        labels[i] = lesion ? 1 : 0;
      }
  const image = join(dir, 'image.nii.gz');
  const mask = join(dir, 'mask.nii.gz');
  writeFileSync(image, gzip(buildNifti({ dim: [SIDE, SIDE, SIDE], datatype: 16, bitpix: 32, data: bytesOf(values) }).file));
  writeFileSync(mask, gzip(buildNifti({ dim: [SIDE, SIDE, SIDE], datatype: 2, bitpix: 8, data: labels }).file));
  return `${image}:${mask}`;
}

async function storeWithV1(root: string): Promise<ModelStore> {
  const store = new ModelStore(root);
  const pending = await store.beginVersion();
  const net = createUNet3d({ levels: 2, baseFilters: 2, seed: 5 });
  await net.save(pending.dir);
  net.dispose();
  await pending.commit({
    format: 'lesion-lab-model',
    formatVersion: 1,
    parentVersion: null,
    createdAt: new Date().toISOString(),
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR', [1, 1, 1]),
    network: { levels: 2, baseFilters: 2 },
    training: null,
  });
  return store;
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Starts the CLI, waits until `ready` appears on stderr, sends `signal`, and returns how it ended. */
function interrupt(args: string[], ready: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null; stderr: string; sent: boolean }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && ready.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', fail);
    child.on('close', (code, sig) => done({ code, signal: sig, stderr, sent }));
  });
}

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  test(`fine-tune CLI: ${signal} mid-training exits ${code}, removes its temporary folder and keeps v1 intact and active`, async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
    const dir = tempDir('ll-signal-');
    const pair = writePair(dir);
    const store = await storeWithV1(join(dir, 'models'));
    const weights = join(store.root, 'v1', 'weights.bin');
    const before = sha(weights);
    // A step budget far beyond what runs before the signal; no wall-clock budget is involved.
    const r = await interrupt(
      ['fine-tune', '--out', store.root, '--base', join(store.root, 'v1'), '--steps', '1000000', '--minutes', '1440', '--activate', 'always', '--backend', 'wasm', pair],
      /training step \d+/,
      signal,
    );
    assert.ok(r.sent, `the run never reached training: ${r.stderr}`);
    assert.equal(r.code, code, `exit ${r.code} (signal ${r.signal}): ${r.stderr}`);
    assert.match(r.stderr, /lesion-lab fine-tune: fine-tuning was cancelled; the previous model version is still the active one/);
    assert.deepEqual(readdirSync(store.root).sort(), ['active.json', 'v1']);
    assert.equal((await store.active())?.version, 'v1');
    assert.equal(sha(weights), before);
    assert.deepEqual(readdirSync(dir).sort(), ['image.nii.gz', 'mask.nii.gz', 'models']);
  });
}

test('segment CLI: SIGTERM mid-inference exits 143 and writes no output and no temporary file', async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const dir = tempDir('ll-signal-');
  writePair(dir);
  const store = await storeWithV1(join(dir, 'models'));
  // 90 % overlap of 16³ windows on a 48³ image: thousands of windows, so the signal always
  // arrives mid-run.
  const side = 48;
  const values = new Float32Array(side ** 3);
  for (let i = 0; i < values.length; i++) values[i] = 100 + (i % 11);
  const big = join(dir, 'big.nii.gz');
  writeFileSync(big, gzip(buildNifti({ dim: [side, side, side], datatype: 16, bitpix: 32, data: bytesOf(values) }).file));
  const out = join(dir, 'out.nii.gz');
  const r = await interrupt(
    ['segment', big, '--model', join(store.root, 'v1'), '--out', out, '--prob', join(dir, 'prob.nii.gz'), '--overlap', '0.9', '--backend', 'wasm'],
    /windows 1\//,
    'SIGTERM',
  );
  assert.ok(r.sent, `the run never reached inference: ${r.stderr}`);
  assert.equal(r.code, 143, `exit ${r.code} (signal ${r.signal}): ${r.stderr}`);
  assert.match(r.stderr, /lesion-lab segment: segmentation was cancelled by SIGTERM; nothing was written\n$/);
  assert.deepEqual(readdirSync(dir).sort(), ['big.nii.gz', 'image.nii.gz', 'mask.nii.gz', 'models']);
});
