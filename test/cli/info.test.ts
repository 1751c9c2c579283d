// `lesion-lab info` through the built dist/cli.js (npm test builds first): text and --json
// output checked against nibabel, --frame, and the exit code 2 + one sentence for bad input.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { buildNifti, bytesOf } from '../nifti/buildNifti';
import { NIBABEL_PYTHON } from '../nifti/nibabelReference';

const CLI = resolve(__dirname, '../../dist/cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesion-lab-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('lesion-lab info on a synthetic file', () => {
  it('stops quietly when its output is piped into a reader that closes early (| head, | true)', () => {
    const values = new Int16Array(8);
    const { file } = buildNifti({ dim: [2, 2, 2], datatype: 4, bitpix: 16, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: bytesOf(values) });
    const path = join(dir, 'piped.nii');
    writeFileSync(path, file);
    // `true` exits at once, so every write of the CLI meets a closed pipe.
    const run = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" info "${path}" | true`], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    assert.equal(run.stderr, '', 'no EPIPE stack trace');
  });

  it('prints shape, datatype, spacing, orientation, affine and value statistics', () => {
    const values = Int16Array.from([-5, 0, 5, 10, 20, 30, 40, 50]);
    const { file } = buildNifti({
      dim: [2, 2, 2],
      datatype: 4,
      bitpix: 16,
      pixdim: [1, 0.5, 0.5, 2, 1, 1, 1, 1],
      sformCode: 1,
      srow: [-0.5, 0, 0, 10, 0, -0.5, 0, 20, 0, 0, 2, -30],
      sclSlope: 2,
      sclInter: 1,
      data: bytesOf(values),
    });
    const path = join(dir, 'tiny.nii');
    writeFileSync(path, file);
    const text = cli('info', path);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^file: +tiny\.nii$/m);
    assert.match(text.stdout, /^shape: +2 x 2 x 2$/m);
    assert.match(text.stdout, /^datatype: +int16$/m);
    assert.match(text.stdout, /^spacing: +0\.5 x 0\.5 x 2 mm$/m);
    assert.match(text.stdout, /^orientation: +LPS \(affine from sform/m);
    assert.match(text.stdout, /^ +\[ -0\.5 +0 +0 +10 \]$/m);
    assert.match(text.stdout, /^values: +min -9 +max 101 +mean 38\.5$/m);

    const json = cli('info', path, '--json');
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.deepEqual(report.shape, [2, 2, 2]);
    assert.equal(report.datatype, 'int16');
    assert.deepEqual(report.spacing, [0.5, 0.5, 2]);
    assert.equal(report.orientation, 'LPS');
    assert.deepEqual(report.affine, [[-0.5, 0, 0, 10], [0, -0.5, 0, 20], [0, 0, 2, -30], [0, 0, 0, 1]]);
    assert.equal(report.min, -9);
    assert.equal(report.max, 101);
    assert.equal(report.mean, 38.5);
  });

  it('exits 2 with one sentence on stderr for unreadable files and bad arguments', () => {
    const missing = cli('info', join(dir, 'nothing.nii.gz'));
    assert.equal(missing.status, 2);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, 'nothing.nii.gz: the file does not exist\n');

    const text = join(dir, 'notes.nii');
    writeFileSync(text, 'this is not an image at all, just some words in a file');
    const bad = cli('info', text, '--json');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^notes\.nii: this is not a NIfTI or Analyze file: the header size field is \d+, expected 348 \(NIfTI-1\) or 540 \(NIfTI-2\)\n$/);

    assert.equal(cli('info').status, 2);
    assert.match(cli('info', text, '--frame', 'x').stderr, /--frame needs a whole number of at least 0, got 'x'/);
    assert.match(cli('info', text, '--bogus').stderr, /unknown option '--bogus'/);
    const unknown = cli('frobnicate');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'; the commands are info/);
    assert.equal(cli('--help').status, 0);
  });
});

describe('lesion-lab info agrees with nibabel', { skip: skipWithoutSharedData('odd') }, () => {
  const files: [string, number][] = [
    ['generated_valid/ct_int16.nii.gz', 0],
    ['generated_valid/ct_float32_nan_inf.nii.gz', 0],
    ['generated_valid/ct_4d_3vols.nii.gz', 2],
    ['generated_valid/ct_axes_permuted_SLP.nii.gz', 0],
    ['niivue/shear.nii.gz', 0],
    ['nibabel_testdata/functional.nii', 7],
  ];
  let reference: { shape: number[]; zooms: number[]; axcodes: string; affine: number[][]; min: number; max: number; mean: number }[];

  before(() => {
    const script = `
import sys, json, warnings
import numpy as np, nibabel as nib
from nibabel.orientations import aff2axcodes
warnings.simplefilter('ignore')
out = []
for path, frame in json.loads(sys.argv[1]):
    img = nib.load(path)
    data = np.asanyarray(img.dataobj).astype(np.float64)
    if data.ndim > 3:
        data = data.reshape(data.shape[:3] + (-1,), order='F')[..., frame]
    finite = data[np.isfinite(data)]
    out.append(dict(shape=list(img.shape), zooms=[float(z) for z in img.header.get_zooms()[:3]],
                    axcodes=''.join(aff2axcodes(img.affine)), affine=img.affine.tolist(),
                    min=float(finite.min()), max=float(finite.max()), mean=float(finite.mean())))
print(json.dumps(out))
`;
    const args = JSON.stringify(files.map(([f, frame]) => [sharedDataPath('odd', f), frame]));
    const run = spawnSync(NIBABEL_PYTHON, ['-c', script, args], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    reference = JSON.parse(run.stdout);
  });

  files.forEach(([file, frame], index) => {
    it(`${file} frame ${frame}`, () => {
      const run = cli('info', sharedDataPath('odd', file), '--json', '--frame', String(frame));
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout);
      const want = reference[index];
      assert.deepEqual(report.shape, want.shape);
      assert.equal(report.frame, frame);
      assert.equal(report.orientation, want.axcodes);
      report.spacing.forEach((s: number, i: number) => assert.ok(Math.abs(s - want.zooms[i]) < 1e-6, `spacing ${i}`));
      report.affine.flat().forEach((v: number, i: number) => assert.ok(Math.abs(v - want.affine.flat()[i]) < 1e-4, `affine ${i}`));
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
      assert.ok(close(report.min, want.min), `min ${report.min} vs ${want.min}`);
      assert.ok(close(report.max, want.max), `max ${report.max} vs ${want.max}`);
      assert.ok(close(report.mean, want.mean), `mean ${report.mean} vs ${want.mean}`);
    });
  });

  it('refuses a frame that does not exist with exit code 2', () => {
    const run = cli('info', sharedDataPath('odd', 'generated_valid/ct_4d_3vols.nii.gz'), '--frame', '3');
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'ct_4d_3vols.nii.gz: option frame is 3 but the image has 3 frames (0 to 2)\n');
  });
});
