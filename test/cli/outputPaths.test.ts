// Issue 11, item 1: a command never writes over its input, over another of its outputs, or over a
// file that is not a previous output of ours.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { readNifti } from '../../src/nifti';
import { initBackend } from '../../src/ml/backend';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import { tempDir } from '../helpers/tempDir';
import { tinyModel } from '../helpers/tinyModel';

before(async () => {
  await initBackend({ preferred: 'wasm' });
});

const SIDE = 16;

/** A 16³ float32 "scanner" image (a bright cube in a dark field), not written by Lesion Lab. */
function scannerImage(description = 'scanner FLAIR'): Uint8Array {
  const values = new Float32Array(SIDE ** 3);
  for (let z = 4; z < 12; z++) for (let y = 4; y < 12; y++) for (let x = 4; x < 12; x++) values[x + SIDE * (y + SIDE * z)] = 100 + x;
  return gzip(buildNifti({ dim: [SIDE, SIDE, SIDE], datatype: 16, bitpix: 32, data: bytesOf(values), description }).file);
}

/** A mask on the image's grid: the cube's centre is lesion. */
function scannerMask(): Uint8Array {
  const labels = new Uint8Array(SIDE ** 3);
  for (let z = 6; z < 10; z++) for (let y = 6; y < 10; y++) for (let x = 6; x < 10; x++) labels[x + SIDE * (y + SIDE * z)] = 1;
  return gzip(buildNifti({ dim: [SIDE, SIDE, SIDE], datatype: 2, bitpix: 8, data: labels, description: 'hand-drawn mask' }).file);
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

test('segment refuses every output that resolves to the input image, and leaves the image as it was', async () => {
  const dir = tempDir('ll-outpaths-');
  const model = await tinyModel(dir);
  const image = join(dir, 'ct.nii.gz');
  mkdirSync(join(dir, 'sub'));
  symlinkSync(image, join(dir, 'link.nii.gz'));
  const mask = join(dir, 'mask.nii.gz');
  const cases: [string, string[]][] = [
    ['--out ct', ['--out', image]],
    ['--prob ct', ['--out', mask, '--prob', image]],
    ['--uncertainty ct', ['--out', mask, '--uncertainty', image]],
    ['--out sub/../ct', ['--out', `${dir}/sub/../ct.nii.gz`]],
    ['--out symlink to ct', ['--out', join(dir, 'link.nii.gz')]],
  ];
  for (const [name, outputs] of cases) {
    writeFileSync(image, scannerImage());
    const before = sha(image);
    const r = await cli(['segment', image, '--model', model, '--tta', 'none', '--backend', 'wasm', ...outputs]);
    assert.equal(r.code, 2, `${name}: exit ${r.code}; ${r.err}`);
    assert.match(r.err, /^lesion-lab segment: --\w+ .* is the input image .*ct\.nii\.gz; writing there would replace it, so choose another name\n$/, name);
    assert.equal(sha(image), before, `${name}: the image changed`);
    assert.ok(!existsSync(mask), `${name}: an output was written`);
  }
});

test('segment refuses two outputs on one file and an existing file that is not ours; it overwrites its own outputs', async () => {
  const dir = tempDir('ll-outpaths-');
  const model = await tinyModel(dir);
  const image = join(dir, 'ct.nii.gz');
  writeFileSync(image, scannerImage());
  const mask = join(dir, 'mask.nii.gz');
  const common = ['segment', image, '--model', model, '--tta', 'lr', '--backend', 'wasm'];
  const same = await cli([...common, '--out', mask, '--prob', mask]);
  assert.equal(same.code, 2, same.err);
  assert.match(same.err, /^lesion-lab segment: --prob .*mask\.nii\.gz and --out .*mask\.nii\.gz are the same file; give each output its own name\n$/);
  assert.ok(!existsSync(mask));

  const other = join(dir, 'other.nii.gz');
  writeFileSync(other, scannerImage('another scan'));
  const otherBefore = sha(other);
  const foreign = await cli([...common, '--out', mask, '--uncertainty', other]);
  assert.equal(foreign.code, 2, foreign.err);
  assert.match(foreign.err, /^lesion-lab segment: --uncertainty .*other\.nii\.gz already exists and is not a Lesion Lab output \(its header description is "another scan"\)/);
  assert.equal(sha(other), otherBefore);

  // Every file segment writes is recognisably ours, so a second run may replace them.
  const outputs = ['--out', mask, '--prob', join(dir, 'prob.nii.gz'), '--uncertainty', join(dir, 'unc.nii.gz')];
  for (let run = 0; run < 2; run++) {
    const r = await cli([...common, ...outputs]);
    assert.equal(r.code, 0, `run ${run + 1}: ${r.err}`);
  }
  for (const f of ['mask.nii.gz', 'prob.nii.gz', 'unc.nii.gz']) assert.match((await readNifti(join(dir, f))).header.description, /^lesion-lab /);
});

test('fine-tune refuses a store folder that is not a store, a file, or a store holding an input', async () => {
  const dir = tempDir('ll-outpaths-');
  const model = await tinyModel(dir);
  const image = join(dir, 'ct.nii.gz');
  const mask = join(dir, 'mask.nii.gz');
  writeFileSync(image, scannerImage());
  writeFileSync(mask, scannerMask());
  const run = (out: string, pair = `${image}:${mask}`): Promise<{ code: number; out: string; err: string }> =>
    cli(['fine-tune', '--out', out, '--base', model, '--steps', '1', '--activate', 'always', '--backend', 'wasm', pair]);
  const listing = readdirSync(dir).sort();
  const intoImageFolder = await run(dir);
  assert.equal(intoImageFolder.code, 2, intoImageFolder.err);
  assert.match(intoImageFolder.err, /^lesion-lab fine-tune: --out .* already exists and is neither empty nor a Lesion Lab model store \(it holds ct\.nii\.gz, mask\.nii\.gz, tiny-model\)/);
  assert.deepEqual(readdirSync(dir).sort(), listing);
  const intoImage = await run(image);
  assert.equal(intoImage.code, 2, intoImage.err);
  assert.match(intoImage.err, /^lesion-lab fine-tune: --out .*ct\.nii\.gz is the image .*ct\.nii\.gz; writing there would replace it/);

  const store = join(dir, 'models');
  const first = await run(store);
  assert.equal(first.code, 0, first.err);
  assert.ok(existsSync(join(store, 'v1', 'card.json')));
  // A second run into the same store is fine; an image kept inside the store is refused.
  const second = await run(store);
  assert.equal(second.code, 0, second.err);
  const inside = join(store, 'v1', 'ct.nii.gz');
  writeFileSync(inside, scannerImage());
  const refused = await run(store, `${inside}:${mask}`);
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /^lesion-lab fine-tune: the image .*v1\/ct\.nii\.gz lies inside the model store --out .*models; keep images and masks outside it\n$/);
  assert.deepEqual(readdirSync(store).sort(), ['active.json', 'v1', 'v2']);
});
