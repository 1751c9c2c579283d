// `lesion-lab export` through the built dist/cli.js on real sarcoma MR cases (CC BY 3.0): the
// nnU-Net v2 and MSD layouts checked with nibabel (test/cli/check_export.py), images
// hard-linked and never modified, an idempotent rerun, --reviewed-only removing what is no longer
// exported, and exit status 2 with one sentence for bad input. The pure helpers of
// src/dataset/export.ts are tested in test/dataset/export.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { buildSidecar, sidecarToText } from '../../src/labels/sidecar';
import { writeNrrdFloat } from '../helpers/nrrdFile';

const CLI = resolve(__dirname, '../../dist/cli.js');
const CHECK = resolve(__dirname, 'check_export.py');
const PYTHON = '/usr/bin/python3';
const STS = ['lesion', 'sarcoma-ct-mr-pet'] as const;
const skip = skipWithoutSharedData(...STS);


function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function check(folder: string, format: 'nnunet' | 'msd'): { ok: boolean; problems: string[]; cases: number; values: number[] } {
  const run = spawnSync(PYTHON, [CHECK, folder, format], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { ok: boolean; problems: string[]; cases: number; values: number[] };
}

function sidecarFor(image: string, reviewed: boolean, labelValue = 1): string {
  return sidecarToText(
    buildSidecar({
      imageFile: image,
      imageSha256: '00'.repeat(32),
      maskFile: image.replace('.nii.gz', '_seg.nii.gz'),
      dims: [1, 1, 1],
      bits: 8,
      voxelVolumeMm3: 1,
      labelTable: [{ value: labelValue, name: 'Tumour', color: [255, 0, 0], visible: true, locked: false }],
      voxelCounts: new Map(),
      modelVersion: null,
      handEditedVoxels: 0,
      reviewed,
      savedAt: new Date('2026-12-03T00:00:00Z'),
    }),
  );
}

describe('lesion-lab export on sarcoma MR cases', { skip }, () => {
  let dir = '';
  let ws = '';
  let out = '';
  const sources: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lesionlab-export-'));
    ws = join(dir, 'ws');
    out = join(dir, 'nnUNet_raw');
    mkdirSync(join(ws, 'mr'), { recursive: true });
    mkdirSync(out);
    // Three labelled cases (two reviewed, one not) and one image without a mask.
    for (const [n, id] of ['STS_001', 'STS_002', 'STS_003', 'STS_004'].entries()) {
      const image = join(ws, 'mr', `${id}.nii.gz`);
      copyFileSync(sharedDataPath(...STS, id, 'MR_T1', 'image.nii.gz'), image);
      sources.push(image);
      if (n === 3) continue;
      copyFileSync(sharedDataPath(...STS, id, 'MR_T1', 'mask.nii.gz'), join(ws, 'mr', `${id}_seg.nii.gz`));
      writeFileSync(join(ws, 'mr', `${id}_seg.json`), sidecarFor(`${id}.nii.gz`, n !== 2));
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the nnU-Net v2 layout: images hard-linked, labels on the grid, dataset.json valid for nibabel checks', () => {
    const before = sources.map((s) => readFileSync(s));
    const r = cli('export', '--format', 'nnunet', '--out', out, '--dataset-id', '501', '--name', 'Lesions', ws);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^exported 3 case\(s\) to .*Dataset501_Lesions \(nnunet\): images 3 hard-linked, 0 copied, 0 already there; labels 0=background, 1=Tumour\n/);
    assert.match(r.stdout, /1 image\(s\) without a mask were not exported/);
    const ds = join(out, 'Dataset501_Lesions');
    assert.deepEqual(readdirSync(join(ds, 'imagesTr')).sort(), ['mr_STS_001_0000.nii.gz', 'mr_STS_002_0000.nii.gz', 'mr_STS_003_0000.nii.gz']);
    const json = JSON.parse(readFileSync(join(ds, 'dataset.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(json.channel_names, { '0': 'image' });
    assert.deepEqual(json.labels, { background: 0, Tumour: 1 });
    assert.equal(json.numTraining, 3);
    assert.equal(json.file_ending, '.nii.gz');
    const checked = check(ds, 'nnunet');
    assert.deepEqual(checked.problems, []);
    assert.equal(checked.cases, 3);
    assert.deepEqual(checked.values, [0, 1]);
    sources.forEach((s, n) => assert.deepEqual(readFileSync(s), before[n], `${s} is never modified`));
    assert.equal(statSync(join(ds, 'imagesTr', 'mr_STS_001_0000.nii.gz')).ino, statSync(sources[0]).ino);
  });

  it('is idempotent: a rerun changes no file', () => {
    const ds = join(out, 'Dataset501_Lesions');
    const stamp = (p: string) => statSync(p).mtimeMs;
    const files = [join(ds, 'labelsTr', 'mr_STS_001.nii.gz'), join(ds, 'imagesTr', 'mr_STS_002_0000.nii.gz')];
    const t = files.map(stamp);
    const r = cli('export', '--format', 'nnunet', '--out', out, ws);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /images 0 hard-linked, 0 copied, 3 already there/);
    assert.deepEqual(files.map(stamp), t);
    assert.deepEqual(check(ds, 'nnunet').problems, []);
  });

  it('--reviewed-only exports the two reviewed cases and removes the third from the earlier export', () => {
    const ds = join(out, 'Dataset501_Lesions');
    const r = cli('export', '--format', 'nnunet', '--out', out, '--reviewed-only', ws);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /exported 2 case\(s\)/);
    assert.match(r.stdout, /removed 2 file\(s\) of the previous export that are no longer part of it: imagesTr\/mr_STS_003_0000\.nii\.gz, labelsTr\/mr_STS_003\.nii\.gz/);
    const checked = check(ds, 'nnunet');
    assert.deepEqual(checked.problems, []);
    assert.equal(checked.cases, 2);
  });

  it('--format msd writes the Decathlon layout', () => {
    const r = cli('export', '--format', 'msd', '--out', out, '--dataset-id', '12', '--name', 'Sarcoma', ws);
    assert.equal(r.status, 0, r.stderr);
    const ds = join(out, 'Task012_Sarcoma');
    const json = JSON.parse(readFileSync(join(ds, 'dataset.json'), 'utf8')) as { training: { image: string }[]; labels: Record<string, string>; modality: Record<string, string> };
    assert.deepEqual(json.labels, { '0': 'background', '1': 'Tumour' });
    assert.equal(json.training[0].image, './imagesTr/mr_STS_001.nii.gz');
    assert.deepEqual(check(ds, 'msd').problems, []);
  });

  it('a NRRD image is exported as NIfTI on its grid (its voxels and affine), with its NIfTI mask', async () => {
    const { readNifti } = await import('../../src/nifti');
    const ws2 = join(dir, 'ws-nrrd');
    mkdirSync(ws2);
    const nii = await readNifti(sharedDataPath(...STS, 'STS_005', 'MR_T1', 'image.nii.gz'));
    writeNrrdFloat(join(ws2, 'STS_005.nrrd'), nii.dims, nii.affine, nii.data);
    copyFileSync(sharedDataPath(...STS, 'STS_005', 'MR_T1', 'mask.nii.gz'), join(ws2, 'STS_005_seg.nii.gz'));
    writeFileSync(join(ws2, 'STS_005_seg.json'), sidecarFor('STS_005.nrrd', true));
    const out2 = join(dir, 'nnUNet_raw_nrrd');
    mkdirSync(out2);
    const r = cli('export', '--format', 'nnunet', '--out', out2, '--dataset-id', '503', '--name', 'Nrrd', ws2);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /images 0 hard-linked, 0 copied, 1 converted to NIfTI, 0 already there/);
    const ds = join(out2, 'Dataset503_Nrrd');
    assert.deepEqual(check(ds, 'nnunet').problems, []);
    const exported = await readNifti(join(ds, 'imagesTr', 'STS_005_0000.nii.gz'));
    assert.deepEqual(exported.dims, nii.dims);
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(exported.affine[i] - nii.affine[i]) < 1e-3, `affine[${i}]`);
    assert.deepEqual(Array.from(exported.data), Array.from(nii.data as ArrayLike<number>), 'the same voxels');
  });

  it('bad input: exit 2 with one sentence naming the file and the problem; nothing of others replaced', () => {
    // A foreign dataset.json in the dataset folder is never replaced.
    mkdirSync(join(out, 'Dataset502_Other'));
    writeFileSync(join(out, 'Dataset502_Other', 'dataset.json'), '{"mine": true}');
    let r = cli('export', '--format', 'nnunet', '--out', out, '--dataset-id', '502', '--name', 'Other', ws);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lesion-lab export: .*Dataset502_Other\/dataset\.json already exists and was not written by a Lesion Lab export; choose another --out folder or dataset name\n$/);
    assert.equal(readFileSync(join(out, 'Dataset502_Other', 'dataset.json'), 'utf8'), '{"mine": true}');

    // A mask on another grid (STS_004's image with STS_001's mask).
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    copyFileSync(sharedDataPath(...STS, 'STS_004', 'MR_T1', 'image.nii.gz'), join(bad, 'c.nii.gz'));
    copyFileSync(sharedDataPath(...STS, 'STS_001', 'MR_T1', 'mask.nii.gz'), join(bad, 'c_seg.nii.gz'));
    r = cli('export', '--format', 'nnunet', '--out', out, '--dataset-id', '503', bad);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lesion-lab export: the mask .*c_seg\.nii\.gz is not on the grid of c\.nii\.gz \(.+\); open the case in Lesion Lab, let it resample the mask and save, then export again\n$/);
    assert.ok(!existsSync(join(out, 'Dataset503_Lesions', 'dataset.json')));

    r = cli('export', '--format', 'nnUNet', '--out', out, ws);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--format must be one of nnunet, msd, got "nnUNet"/);
    r = cli('export', '--format', 'msd', '--out', join(dir, 'missing'), ws);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lesion-lab export: the output folder .*missing does not exist; create it first\n$/);
    r = cli('export', '--format', 'msd', '--out', out, '--dataset-id', '1000', ws);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--dataset-id must be a whole number from 1 to 999, got "1000"/);
  });
});
