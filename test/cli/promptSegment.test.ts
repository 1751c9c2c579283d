// `lesion-lab segment IMAGE --out MASK --prompts PROMPTS.json [--previous PREV]`, run through the
// bundle (npm run build first): click-guided segmentation of one object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNifti } from '../../src/nifti';
import { diceCoefficient } from '../../src/interactive/robotUser';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import { ellipsoidPhantom } from '../interactive/phantom';
import { outlineOfRegion } from '../../src/interactive/lasso';
import { initBackend } from '../../src/ml/backend';
import { tinyModel, tinyPromptModel } from '../helpers/tinyModel';
import { tempDir } from '../helpers/tempDir';

const CLI = resolve(__dirname, '../../dist/cli.js');
const PHANTOM = ellipsoidPhantom({ dims: [48, 40, 16], spacingMm: [1, 1, 3], semiAxesMm: [12, 9, 15], inside: 120, outside: 50, noise: 8 });

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const r = spawnSync(process.execPath, [CLI, 'segment', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function setup(): { dir: string; image: string; prompts: (p: unknown) => string } {
  const dir = tempDir('ll-prompt-cli-');
  const image = join(dir, 'image.nii.gz');
  const pixdim = [1, 1, 1, 3, 1, 1, 1, 1];
  writeFileSync(image, gzip(buildNifti({ dim: PHANTOM.dims, datatype: 16, bitpix: 32, pixdim, data: bytesOf(PHANTOM.values), description: 'scanner image' }).file));
  let n = 0;
  const prompts = (p: unknown): string => {
    const path = join(dir, `prompts${n++}.json`);
    writeFileSync(path, typeof p === 'string' ? p : JSON.stringify(p));
    return path;
  };
  return { dir, image, prompts };
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('segment --prompts: a lasso alone (an outline on one slice) gives the object, exact on that slice', async () => {
  const { dir, image, prompts } = setup();
  const [nx, ny] = PHANTOM.dims;
  const k = PHANTOM.centre[2];
  const lasso = outlineOfRegion(PHANTOM.reference.subarray(k * nx * ny, (k + 1) * nx * ny), [nx, ny], 2, k);
  const out = join(dir, 'lasso.nii.gz');
  const r = run(image, '--out', out, '--prompts', prompts({ lassos: [lasso] }), '--prompt-model', 'none');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /from 0 positive, 0 negative point\(s\) and 0 box\(es\), 1 lasso\(s\) by the star-shaped method/);
  const mask = (await readNifti(out)).data;
  assert.ok(diceCoefficient(mask, PHANTOM.reference) > 0.9, `Dice ${diceCoefficient(mask, PHANTOM.reference)}`);
  for (let v = k * nx * ny; v < (k + 1) * nx * ny; v++) assert.equal(mask[v], PHANTOM.reference[v]);
  // An outline across slices is refused with exit 2 and one sentence.
  const bad = run(image, '--out', join(dir, 'bad.nii.gz'), '--prompts', prompts({ lassos: [[[1, 1, 1], [9, 1, 2], [9, 9, 3]]] }));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /lassos\[0\] does not lie in one slice/);
});

test('segment --prompts: a click, then a negative stroke or a negative outline with --previous cuts the object there; a stroke without "positive" is refused', async () => {
  const { dir, image, prompts } = setup();
  const c = PHANTOM.centre;
  const first = join(dir, 'first.nii.gz');
  assert.equal(run(image, '--out', first, '--prompts', prompts({ points: [{ voxel: c, positive: true }] }), '--prompt-model', 'none').status, 0);
  const before = (await readNifti(first)).data;
  // A stroke across the object 4 voxels right of the click, on its slice.
  const stroke = { points: [[c[0] + 4, 0, c[2]], [c[0] + 4, PHANTOM.dims[1] - 1, c[2]]], positive: false };
  assert.equal(before[(c[2] * PHANTOM.dims[1] + c[1]) * PHANTOM.dims[0] + c[0] + 4], 1);
  const out = join(dir, 'cut.nii.gz');
  const r = run(image, '--out', out, '--prompts', prompts({ points: [{ voxel: c, positive: true }], scribbles: [stroke] }), '--previous', first, '--prompt-model', 'none');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /from 1 positive, 0 negative point\(s\) and 0 box\(es\), 1 scribble\(s\) refining --previous by the star-shaped method/);
  const mask = (await readNifti(out)).data;
  for (let j = 0; j < PHANTOM.dims[1]; j++) assert.equal(mask[(c[2] * PHANTOM.dims[1] + j) * PHANTOM.dims[0] + c[0] + 4], 0, `stroke voxel at j ${j}`);
  assert.equal(mask[(c[2] * PHANTOM.dims[1] + c[1]) * PHANTOM.dims[0] + c[0]], 1, 'the click stays in');
  // A negative outline around the object's right part on the click's slice clears it there.
  const ring = [[c[0] + 6, 0, c[2]], [PHANTOM.dims[0] - 1, 0, c[2]], [PHANTOM.dims[0] - 1, PHANTOM.dims[1] - 1, c[2]], [c[0] + 6, PHANTOM.dims[1] - 1, c[2]]];
  const outlined = join(dir, 'outlined.nii.gz');
  const o = run(image, '--out', outlined, '--prompts', prompts({ points: [{ voxel: c, positive: true }], lassos: [{ points: ring, positive: false }] }), '--previous', first, '--prompt-model', 'none');
  assert.equal(o.status, 0, o.stderr);
  assert.match(o.stdout, /1 lasso\(s\) refining --previous/);
  const right = (await readNifti(outlined)).data;
  for (let i = c[0] + 6; i < PHANTOM.dims[0]; i++) assert.equal(right[(c[2] * PHANTOM.dims[1] + c[1]) * PHANTOM.dims[0] + i], 0, `enclosed voxel at i ${i}`);
  assert.equal(right[(c[2] * PHANTOM.dims[1] + c[1]) * PHANTOM.dims[0] + c[0]], 1);
  const bad = run(image, '--out', join(dir, 'bad.nii.gz'), '--prompts', prompts({ points: [{ voxel: c, positive: true }], scribbles: [{ points: [c] }] }));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /scribbles\[0\]\.positive must be true or false/);
});

test('segment --prompts: one click gives the object as a uint8 0/1 mask on the image grid; --previous refines; the image is untouched', async () => {
  const { dir, image, prompts } = setup();
  const before = sha(image);
  const out1 = join(dir, 'object1.nii.gz');
  const click = { voxel: PHANTOM.centre, positive: true };
  const r1 = run(image, '--out', out1, '--prompts', prompts({ points: [click], boxes: [] }));
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stdout, /segmented one object from 1 positive, 0 negative point\(s\) and 0 box\(es\) by the star-shaped method in \d+ ms/);
  const mask = await readNifti(out1);
  assert.deepEqual(mask.dims, PHANTOM.dims);
  assert.equal(mask.header.datatype, 'uint8');
  assert.deepEqual(mask.spacingMm.map((s) => Math.round(s * 1000) / 1000), [1, 1, 3]);
  assert.ok(Array.from(mask.data).every((v) => v === 0 || v === 1));
  assert.ok(diceCoefficient(mask.data, PHANTOM.reference) > 0.9);
  // Refinement: a negative click inside the object removes its neighbourhood.
  const out2 = join(dir, 'object2.nii.gz');
  const negative = [PHANTOM.centre[0] + 9, PHANTOM.centre[1], PHANTOM.centre[2]];
  const r2 = run(image, '--out', out2, '--prompts', prompts({ points: [click, { voxel: negative, positive: false }] }), '--previous', out1);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /refining --previous/);
  const refined = await readNifti(out2);
  assert.equal(refined.data[negative[0] + 48 * (negative[1] + 40 * negative[2])], 0);
  // A caller that sends only the new click: the negative click alone cuts the object so far.
  const out3 = join(dir, 'object3.nii.gz');
  const r3 = run(image, '--out', out3, '--prompts', prompts({ points: [{ voxel: negative, positive: false }] }), '--previous', out1);
  assert.equal(r3.status, 0, r3.stderr);
  assert.match(r3.stdout, /from 0 positive, 1 negative point\(s\) and 0 box\(es\) refining --previous by the star-shaped method/);
  const cut = await readNifti(out3);
  assert.equal(cut.data[negative[0] + 48 * (negative[1] + 40 * negative[2])], 0);
  assert.equal(cut.data[PHANTOM.centre[0] + 48 * (PHANTOM.centre[1] + 40 * PHANTOM.centre[2])], 1);
  assert.ok(diceCoefficient(cut.data, refined.data) > 0.9);
  assert.equal(sha(image), before);
});

test('segment --prompts on a 4-D series segments frame 0 on the 3-D grid and says so', async () => {
  const { dir, prompts } = setup();
  // Two frames: the phantom, then its negative (the object would be dark there).
  const frames = new Float32Array(2 * PHANTOM.values.length);
  frames.set(PHANTOM.values);
  for (let v = 0; v < PHANTOM.values.length; v++) frames[PHANTOM.values.length + v] = 200 - PHANTOM.values[v];
  const series = join(dir, 'series.nii.gz');
  writeFileSync(series, gzip(buildNifti({ dim: [...PHANTOM.dims, 2], datatype: 16, bitpix: 32, pixdim: [1, 1, 1, 3, 1, 1, 1, 1], data: bytesOf(frames) }).file));
  const out = join(dir, 'object.nii.gz');
  const r = run(series, '--out', out, '--prompts', prompts({ points: [{ voxel: PHANTOM.centre, positive: true }] }));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^note: .*series\.nii\.gz holds 2 3-D frames; only frame 0 is used$/m);
  const mask = await readNifti(out);
  assert.deepEqual(mask.dims, PHANTOM.dims);
  assert.ok(diceCoefficient(mask.data, PHANTOM.reference) > 0.9);
});

test('segment --prompts: bad prompts, a --previous on another grid and an output over an input exit 2 with one sentence naming the file', () => {
  const { dir, image, prompts } = setup();
  const out = join(dir, 'out.nii.gz');
  const cases: [string[], RegExp][] = [
    [['--prompts', prompts('{"points": [')], /prompts\d\.json: is not valid JSON/],
    [['--prompts', prompts({ points: [], boxes: [] })], /prompts\d\.json: prompts hold no point, box, lasso or scribble/],
    [['--prompts', prompts({ points: [{ voxel: [48, 0, 0], positive: true }] })], /prompts\d\.json: points\[0\]\.voxel \[48, 0, 0\] lies outside the image/],
    [['--prompts', prompts({ points: [{ voxel: [1, 2, 3], positive: 1 }] })], /prompts\d\.json: points\[0\]\.positive must be true or false, got 1/],
    [['--prompts', join(dir, 'missing.json')], /--prompts .*missing\.json: file not found/],
  ];
  const other = join(dir, 'other-grid.nii.gz');
  writeFileSync(other, gzip(buildNifti({ dim: [48, 40, 15], datatype: 2, bitpix: 8, pixdim: [1, 1, 1, 3, 1, 1, 1, 1], data: new Uint8Array(48 * 40 * 15) }).file));
  // Negative points alone need an object so far to cut: an empty --previous is none.
  const emptyPrevious = join(dir, 'previous.nii.gz');
  writeFileSync(emptyPrevious, gzip(buildNifti({ dim: [48, 40, 16], datatype: 2, bitpix: 8, pixdim: [1, 1, 1, 3, 1, 1, 1, 1], data: new Uint8Array(48 * 40 * 16) }).file));
  const negativeOnly = prompts({ points: [{ voxel: [1, 2, 3], positive: false }] });
  cases.push([['--prompts', negativeOnly, '--previous', emptyPrevious, '--prompt-model', 'none'], /prompts hold no positive point, box, lasso or scribble/]);
  cases.push([['--prompts', prompts({ points: [{ voxel: [1, 2, 3], positive: true }] }), '--prompt-model', join(dir, 'nope')], /--prompt-model .*nope: folder not found/]);
  cases.push([['--prompts', prompts({ points: [{ voxel: [1, 2, 3], positive: true }] }), '--click-model', join(dir, 'nope')], /--click-model .*nope: folder not found/]);
  cases.push([['--prompts', prompts({ points: [{ voxel: [1, 2, 3], positive: true }] }), '--click-model', dir, '--backend', 'cpu'], /--click-model .*: not a click model \(.*card\.json/]);
  cases.push([['--prompts', prompts({ points: [{ voxel: [1, 2, 3], positive: true }] }), '--previous', other], /--previous .*other-grid\.nii\.gz is not on the grid of .*image\.nii\.gz: one slice short along k \(15 vs 16\)/]);
  for (const [args, message] of cases) {
    const r = run(image, '--out', out, ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(out));
  }
  const before = sha(image);
  const r = run(image, '--out', image, '--prompts', prompts({ points: [{ voxel: [1, 2, 3], positive: true }] }));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out .* is the input image/);
  assert.equal(sha(image), before);
});

test('segment --prompts --prompt-model: a prompt model segments (a tiny untrained one), negative points alone cut a --previous object, and a folder that is not a prompt model exits 2', async () => {
  await initBackend({ preferred: 'cpu' });
  const { dir, image, prompts } = setup();
  const modelDir = await tinyPromptModel(dir);
  const out = join(dir, 'by-model.nii.gz');
  const r = run(image, '--out', out, '--prompts', prompts({ points: [{ voxel: PHANTOM.centre, positive: true }] }), '--prompt-model', modelDir, '--backend', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: cpu/m);
  assert.match(r.stdout, /by the prompt model method/);
  assert.deepEqual((await readNifti(out)).dims, PHANTOM.dims);
  const cut = join(dir, 'cut.nii.gz');
  const r2 = run(image, '--out', cut, '--prompts', prompts({ points: [{ voxel: [2, 2, 2], positive: false }] }), '--previous', out, '--prompt-model', modelDir, '--backend', 'cpu');
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stdout, /from 0 positive, 1 negative point\(s\) and 0 box\(es\) refining --previous by the prompt model method/);
  const notPrompt = await tinyModel(dir);
  const r3 = run(image, '--out', join(dir, 'x.nii.gz'), '--prompts', prompts({ points: [{ voxel: PHANTOM.centre, positive: true }] }), '--prompt-model', notPrompt, '--backend', 'cpu');
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /tiny-model\/card\.json: format is "lesion-lab-model", expected "lesion-lab-prompt-model"/);
});

test('segment --prompts --model: the model lesion probability is used as the prior (a tiny untrained network)', async () => {
  await initBackend({ preferred: 'cpu' });
  const { dir, image, prompts } = setup();
  const modelDir = await tinyModel(dir);
  const out = join(dir, 'with-prior.nii.gz');
  const r = run(image, '--out', out, '--prompts', prompts({ points: [{ voxel: PHANTOM.centre, positive: true }] }), '--model', modelDir, '--backend', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: cpu/m);
  assert.match(r.stdout, /prior: lesion probability from model tiny/);
  const mask = await readNifti(out);
  assert.ok(diceCoefficient(mask.data, PHANTOM.reference) > 0.8);
});
