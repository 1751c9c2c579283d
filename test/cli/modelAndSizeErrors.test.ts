// Issue 11, item 8: sizes from a header or a card, and broken model files, end in exit 2 with one
// sentence naming the file, never in an allocation failure or "unexpected error".
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { createUNet3d } from '../../src/ml/network';
import { writeCard, type ModelCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { initBackend } from '../../src/ml/backend';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import { tempDir } from '../helpers/tempDir';

before(async () => {
  await initBackend({ preferred: 'wasm' });
});

function image(side: number, spacingMm: number): Uint8Array {
  const values = new Float32Array(side ** 3);
  for (let i = 0; i < values.length; i++) values[i] = (i % 7) * 10;
  return gzip(buildNifti({ dim: [side, side, side], datatype: 16, bitpix: 32, pixdim: [1, spacingMm, spacingMm, spacingMm, 1, 1, 1, 1], data: bytesOf(values), description: 'scan' }).file);
}

function cardOf(patchSizeVoxels: number[]): ModelCard {
  return {
    format: 'lesion-lab-model',
    formatVersion: 1,
    version: 'tiny',
    parentVersion: null,
    createdAt: new Date().toISOString(),
    patchSizeVoxels: patchSizeVoxels as ModelCard['patchSizeVoxels'],
    preprocessing: defaultPreprocessing('MR', [1, 1, 1]),
    network: { levels: 2, baseFilters: 2 },
    training: null,
  };
}

async function tinyModel(dir: string, name = 'model'): Promise<string> {
  const modelDir = join(dir, name);
  mkdirSync(modelDir);
  const net = createUNet3d({ levels: 2, baseFilters: 2, seed: 3 });
  await net.save(modelDir);
  net.dispose();
  await writeCard(modelDir, cardOf([16, 16, 16]));
  return modelDir;
}

async function cli(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await runCli(argv, { stdout: () => undefined, stderr: (t) => (err += t) });
  return { code, err };
}

function assertOneSentence(r: { code: number; err: string }, command: string, want: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, new RegExp(`^lesion-lab ${command}: `));
  assert.match(r.err, want);
}

test('segment of an image with 200 mm voxels is refused before the working grid is allocated', async () => {
  const dir = tempDir('ll-limits-');
  const model = await tinyModel(dir);
  const huge = join(dir, 'huge.nii.gz');
  writeFileSync(huge, image(32, 200));
  const out = join(dir, 'mask.nii.gz');
  const r = await cli(['segment', huge, '--model', model, '--out', out, '--backend', 'wasm']);
  assertOneSentence(r, 'segment', /huge\.nii\.gz: resampling its 32×32×32 voxels of 200×200×200 mm to the model's 1×1×1 mm spacing would make a 6400×6400×6400 grid \(262,144,000,000 voxels\)/);
  assert.ok(!existsSync(out));
});

test('a card with a huge or indivisible patch size, and a truncated weights.bin, exit 2 naming the file', async () => {
  const dir = tempDir('ll-limits-');
  const img = join(dir, 'img.nii.gz');
  writeFileSync(img, image(16, 1));
  const out = join(dir, 'mask.nii.gz');

  const hugePatch = await tinyModel(dir, 'huge-patch');
  writeFileSync(join(hugePatch, 'card.json'), JSON.stringify(cardOf([4096, 4096, 4096])));
  assertOneSentence(await cli(['segment', img, '--model', hugePatch, '--out', out, '--backend', 'wasm']), 'segment', /huge-patch\/card\.json: patchSizeVoxels \[4096,4096,4096\] has a side over 256 voxels/);

  const odd = await tinyModel(dir, 'odd-patch');
  writeFileSync(join(odd, 'card.json'), JSON.stringify(cardOf([15, 16, 16])));
  assertOneSentence(await cli(['segment', img, '--model', odd, '--out', out, '--backend', 'wasm']), 'segment', /odd-patch\/card\.json: patchSizeVoxels \[15,16,16\] must be multiples of 2\^\(levels-1\) = 2/);

  const truncated = await tinyModel(dir, 'truncated');
  const weights = join(truncated, 'weights.bin');
  writeFileSync(weights, readFileSync(weights).subarray(0, 100));
  const want = /truncated\/weights\.bin: 100 bytes; model\.json describes \d+ float32 values/;
  assertOneSentence(await cli(['segment', img, '--model', truncated, '--out', out, '--backend', 'wasm']), 'segment', want);
  assert.ok(!existsSync(out));

  const mask = join(dir, 'seg.nii.gz');
  const labels = new Uint8Array(16 ** 3);
  labels[8 + 16 * (8 + 16 * 8)] = 1;
  writeFileSync(mask, gzip(buildNifti({ dim: [16, 16, 16], datatype: 2, bitpix: 8, data: labels }).file));
  const store = join(dir, 'store');
  assertOneSentence(await cli(['fine-tune', '--out', store, '--base', truncated, '--steps', '1', '--backend', 'wasm', `${img}:${mask}`]), 'fine-tune', want);
});

test('a file-system error on a named path (full disk, read-only store) is exit 2 with that sentence, not "unexpected error"', async () => {
  const { reportInputErrors } = await import('../../src/cli/segment');
  let err = '';
  const io = { stdout: () => undefined, stderr: (t: string) => (err += t) };
  const full = Object.assign(new Error("ENOSPC: no space left on device, write '/s/.incomplete-1-ab/weights.bin'"), { code: 'ENOSPC', syscall: 'write', path: '/s/.incomplete-1-ab/weights.bin' });
  assert.equal(await reportInputErrors('fine-tune', io, async () => Promise.reject(full)), 2);
  assert.equal(err, "lesion-lab fine-tune: ENOSPC: no space left on device, write '/s/.incomplete-1-ab/weights.bin'\n");
  // A programming error is still unexpected (exit 1 from runCli), not dressed up as bad input.
  await assert.rejects(reportInputErrors('fine-tune', io, async () => Promise.reject(new TypeError('x is undefined'))), TypeError);
});

test('fine-tune of an image with 200 mm voxels is refused naming the image, before the base model loads', async () => {
  const dir = tempDir('ll-limits-');
  const model = await tinyModel(dir);
  const huge = join(dir, 'huge.nii.gz');
  writeFileSync(huge, image(32, 200));
  const mask = join(dir, 'huge_seg.nii.gz');
  const labels = new Uint8Array(32 ** 3);
  labels[100] = 1;
  writeFileSync(mask, gzip(buildNifti({ dim: [32, 32, 32], datatype: 2, bitpix: 8, pixdim: [1, 200, 200, 200, 1, 1, 1, 1], data: labels }).file));
  const store = join(dir, 'store');
  const r = await cli(['fine-tune', '--out', store, '--base', model, '--steps', '1', '--backend', 'wasm', `${huge}:${mask}`]);
  assertOneSentence(r, 'fine-tune', /huge\.nii\.gz: resampling its 32×32×32 voxels of 200×200×200 mm to the model's 1×1×1 mm spacing would make a 6400×6400×6400 grid/);
  assert.ok(!existsSync(store));
});
