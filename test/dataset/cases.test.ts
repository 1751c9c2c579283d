// Case discovery and the Cases view's pure logic: which files are images, their states, orders,
// filter, progress line, next case; and that 5,000 images are scanned quickly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  caseDescription,
  casesToSegment,
  CaseScanError,
  filterCases,
  groupCasesByFolder,
  nextCase,
  parseCaseFilter,
  progressLine,
  scanCases,
  sortCases,
  type CaseInfo,
} from '../../src/dataset/cases';
import { buildSidecar, sidecarToText } from '../../src/labels/sidecar';
import type { ProposalRecord } from '../../src/dataset/sidecarFields';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-cases-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function touch(path: string, text = 'only existence matters here'): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

function proposal(modelVersion: string, meanUncertainty: number | null, lesionCount = 2): ProposalRecord {
  return {
    file: 'unused',
    uncertaintyFile: null,
    modelVersion,
    threshold: 0.5,
    minLesionMm3: 0,
    lesionCount,
    voxelCount: 10,
    volumeMm3: 12.5,
    meanUncertainty,
    imageSha256: 'ab'.repeat(32),
    createdAt: '2026-12-03T10:00:00.000Z',
  };
}

function sidecar(opts: { reviewed: boolean; modelVersion?: string | null; voxels?: number; proposal?: ProposalRecord; lesionCount?: number }): string {
  const base = buildSidecar({
    imageFile: 'x.nii.gz',
    imageSha256: 'ab'.repeat(32),
    maskFile: 'x_seg.nii.gz',
    dims: [2, 2, 2],
    bits: 8,
    voxelVolumeMm3: 2,
    labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }],
    voxelCounts: new Map([[1, opts.voxels ?? 3]]),
    modelVersion: opts.modelVersion ?? null,
    handEditedVoxels: 0,
    reviewed: opts.reviewed,
    savedAt: new Date('2026-12-03T10:00:00Z'),
  });
  return sidecarToText({ ...base, ...(opts.proposal ? { proposal: opts.proposal } : {}), ...(opts.lesionCount !== undefined ? { lesionCount: opts.lesionCount } : {}) } as typeof base);
}

test('scanCases: images only (not masks, proposals, uncertainty maps), with states and sidecar numbers', async () => {
  const root = join(dir, 'ws1');
  // a/: one of each state.
  touch(join(root, 'a/none.nii.gz'));
  touch(join(root, 'a/prop.nii.gz'));
  touch(join(root, 'a/prop_proposal.nii.gz'));
  touch(join(root, 'a/prop_uncertainty.nii.gz'));
  touch(join(root, 'a/prop_seg.json'), sidecar({ reviewed: false, proposal: { ...proposal('v2', 0.04, 3), file: 'prop_proposal.nii.gz', uncertaintyFile: 'prop_uncertainty.nii.gz' } }));
  touch(join(root, 'a/edit.nii'));
  touch(join(root, 'a/edit_seg.nii.gz'));
  touch(join(root, 'a/edit_seg.json'), sidecar({ reviewed: false, modelVersion: 'v1', voxels: 5, lesionCount: 1 }));
  touch(join(root, 'a/done.nii.gz'));
  touch(join(root, 'a/done_seg.nii.gz'));
  touch(join(root, 'a/done_seg.json'), sidecar({ reviewed: true, modelVersion: 'v1', voxels: 7, lesionCount: 2 }));
  // b/: a proposal whose file is gone is no proposal; a bad sidecar is reported, the state comes from the files.
  touch(join(root, 'b/gone.nii.gz'));
  touch(join(root, 'b/gone_seg.json'), sidecar({ reviewed: false, proposal: { ...proposal('v2', 0.1), file: 'gone_proposal.nii.gz' } }));
  touch(join(root, 'b/bad.nii.gz'));
  touch(join(root, 'b/bad_seg.nii.gz'));
  touch(join(root, 'b/bad_seg.json'), '{ not json');
  // A file named like a proposal without its image is an image; hidden folders are not entered.
  touch(join(root, 'b/orphan_proposal.nii.gz'));
  touch(join(root, '.lesion-lab/models/x.nii.gz'));
  touch(join(root, 'node_modules/y.nii.gz'));

  const { cases, truncated } = await scanCases([root]);
  assert.equal(truncated, false);
  const byName = new Map(cases.map((c) => [c.relativePath, c]));
  assert.deepEqual([...byName.keys()], ['a/done.nii.gz', 'a/edit.nii', 'a/none.nii.gz', 'a/prop.nii.gz', 'b/bad.nii.gz', 'b/gone.nii.gz', 'b/orphan_proposal.nii.gz']);
  const state = (p: string) => byName.get(p)!.state;
  assert.equal(state('a/none.nii.gz'), 'no-mask');
  assert.equal(state('a/prop.nii.gz'), 'proposal');
  assert.equal(state('a/edit.nii'), 'edited');
  assert.equal(state('a/done.nii.gz'), 'reviewed');
  assert.equal(state('b/gone.nii.gz'), 'no-mask');
  assert.equal(state('b/bad.nii.gz'), 'edited');
  assert.match(byName.get('b/bad.nii.gz')!.problem!, /^bad_seg\.json: not valid JSON/);

  const prop = byName.get('a/prop.nii.gz')!;
  assert.equal(prop.lesionCount, 3);
  assert.equal(prop.volumeMm3, 12.5);
  assert.equal(prop.modelVersion, 'v2');
  assert.equal(prop.meanUncertainty, 0.04);
  assert.equal(prop.folder, 'a');
  const done = byName.get('a/done.nii.gz')!;
  assert.equal(done.volumeMm3, 14); // 7 voxels × 2 mm³
  assert.equal(done.lesionCount, 2);
  assert.equal(done.modelVersion, 'v1');
  assert.equal(caseDescription(done), 'reviewed · 2 lesions · 14 mm³ · v1');
  assert.equal(caseDescription(prop), 'proposal ready · 3 lesions · 13 mm³ · v2 · u 0.040');
  assert.equal(progressLine(cases), '1 / 7 reviewed');
});

test('scanCases: a mask pattern into another folder; the pattern is checked up front; options checked', async () => {
  const root = join(dir, 'ws2');
  touch(join(root, 'images/c1.nii.gz'));
  touch(join(root, 'masks/c1.nii.gz'));
  touch(join(root, 'masks/c1.json'), sidecar({ reviewed: true }));
  const { cases } = await scanCases([root], { maskPattern: '../masks/${name}.nii.gz' });
  assert.deepEqual(
    cases.map((c) => [c.relativePath, c.state]),
    [['images/c1.nii.gz', 'reviewed']],
  );
  await assert.rejects(scanCases([root], { maskPattern: '${name}_seg.nii' }), /must end in \.nii\.gz/);
  await assert.rejects(scanCases([root], { maxDepth: -1 }), (e: unknown) => e instanceof CaseScanError && /maxDepth must be an integer ≥ 0, got -1/.test((e as Error).message));
  const excluded = await scanCases([root], { excludeFolders: [join(root, 'images')] });
  assert.deepEqual(excluded.cases.map((c) => c.relativePath), ['masks/c1.nii.gz']);
});

function info(relativePath: string, state: CaseInfo['state'], meanUncertainty: number | null = null): CaseInfo {
  return {
    imagePath: `/ws/${relativePath}`,
    folder: relativePath.includes('/') ? relativePath.slice(0, relativePath.lastIndexOf('/')) : '',
    relativePath,
    fileName: relativePath.slice(relativePath.lastIndexOf('/') + 1),
    maskPath: '',
    sidecarPath: '',
    state,
    lesionCount: null,
    volumeMm3: null,
    modelVersion: null,
    meanUncertainty,
    proposal: null,
    correction: null,
    problem: null,
  };
}

test('sortCases: by name (numbers as numbers), by state, most informative first', () => {
  const cases = [info('c10.nii.gz', 'reviewed'), info('c2.nii.gz', 'proposal', 0.01), info('c1.nii.gz', 'no-mask'), info('c3.nii.gz', 'proposal', 0.2), info('c4.nii.gz', 'edited', 0.05)];
  const names = (list: CaseInfo[]) => list.map((c) => c.fileName.replace('.nii.gz', ''));
  assert.deepEqual(names(sortCases(cases, 'name')), ['c1', 'c2', 'c3', 'c4', 'c10']);
  assert.deepEqual(names(sortCases(cases, 'state')), ['c2', 'c3', 'c4', 'c1', 'c10']);
  assert.deepEqual(names(sortCases(cases, 'informative')), ['c3', 'c4', 'c2', 'c1', 'c10']);
  assert.deepEqual(names(cases), ['c10', 'c2', 'c1', 'c3', 'c4'], 'the input is not reordered');
});

test('parseCaseFilter / filterCases: words in the path and is: states; unknown is: word refused', () => {
  const cases = [info('mr/c1.nii.gz', 'reviewed'), info('mr/c2.nii.gz', 'proposal'), info('ct/c3.nii.gz', 'edited'), info('ct/c4.nii.gz', 'no-mask')];
  const paths = (text: string) => filterCases(cases, parseCaseFilter(text)).map((c) => c.relativePath);
  assert.deepEqual(paths(''), ['mr/c1.nii.gz', 'mr/c2.nii.gz', 'ct/c3.nii.gz', 'ct/c4.nii.gz']);
  assert.deepEqual(paths('MR'), ['mr/c1.nii.gz', 'mr/c2.nii.gz']);
  assert.deepEqual(paths('is:unreviewed ct'), ['ct/c3.nii.gz', 'ct/c4.nii.gz']);
  assert.deepEqual(paths('is:proposal is:reviewed'), ['mr/c1.nii.gz', 'mr/c2.nii.gz']);
  assert.throws(() => parseCaseFilter('is:done'), /unknown filter word "is:done"; use is:no-mask, is:proposal, is:edited, is:reviewed, is:unreviewed/);
});

test('nextCase: the next unreviewed after the current one, wrapping; null when all are reviewed', () => {
  const cases = [info('a.nii.gz', 'proposal'), info('b.nii.gz', 'reviewed'), info('c.nii.gz', 'no-mask'), info('d.nii.gz', 'reviewed')];
  assert.equal(nextCase(cases, null)?.fileName, 'a.nii.gz');
  assert.equal(nextCase(cases, '/ws/a.nii.gz')?.fileName, 'c.nii.gz');
  assert.equal(nextCase(cases, '/ws/c.nii.gz')?.fileName, 'a.nii.gz');
  assert.equal(nextCase(cases, '/ws/elsewhere.nii.gz')?.fileName, 'a.nii.gz');
  assert.equal(nextCase([info('a.nii.gz', 'reviewed')], null), null);
  assert.equal(nextCase([info('a.nii.gz', 'proposal')], '/ws/a.nii.gz'), null, 'the open case is not "next"');
});

test('scanCases: 5,000 images in 100 folders, 1,000 with sidecars, in well under a few seconds', async () => {
  const root = join(dir, 'big');
  for (let f = 0; f < 100; f++) {
    const folder = join(root, `site${f}`);
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 50; i++) {
      writeFileSync(join(folder, `case${i}.nii.gz`), '');
      if (i % 5 === 0) {
        writeFileSync(join(folder, `case${i}_seg.nii.gz`), '');
        writeFileSync(join(folder, `case${i}_seg.json`), sidecar({ reviewed: i % 10 === 0 }));
      }
    }
  }
  const t0 = Date.now();
  const { cases } = await scanCases([root]);
  const ms = Date.now() - t0;
  assert.equal(cases.length, 5000);
  assert.equal(progressLine(cases), '500 / 5000 reviewed');
  assert.equal(cases.filter((c) => c.state === 'edited').length, 500);
  const t1 = Date.now();
  sortCases(cases, 'informative');
  filterCases(cases, parseCaseFilter('site4 is:unreviewed'));
  const sortMs = Date.now() - t1;
  // Shared 2-core machine: generous bounds that still catch a quadratic walk.
  assert.ok(ms < 5000, `scan took ${ms} ms`);
  assert.ok(sortMs < 1000, `sort and filter took ${sortMs} ms`);
});

test('groupCasesByFolder: folders in the order of their first case, cases in order within', () => {
  const ordered = [info('b/x.nii.gz', 'proposal', 0.3), info('a/y.nii.gz', 'proposal', 0.2), info('b/z.nii.gz', 'no-mask'), info('top.nii.gz', 'edited')];
  assert.deepEqual(
    groupCasesByFolder(ordered).map((g) => [g.folder, g.cases.map((c) => c.fileName)]),
    [['b', ['x.nii.gz', 'z.nii.gz']], ['a', ['y.nii.gz']], ['', ['top.nii.gz']]],
  );
});

test('casesToSegment: no mask, and proposals of another model; never a mask; resumes after a cancel', () => {
  const withProposal = (c: CaseInfo, version: string): CaseInfo => ({ ...c, proposal: { ...proposal(version, 0.1), file: 'p.nii.gz' } });
  const cases = [
    info('a.nii.gz', 'no-mask'),
    withProposal(info('b.nii.gz', 'proposal'), 'v1'),
    withProposal(info('c.nii.gz', 'proposal'), 'v2'),
    info('d.nii.gz', 'edited'),
    info('e.nii.gz', 'reviewed'),
  ];
  assert.deepEqual(casesToSegment(cases, 'v2').map((c) => c.fileName), ['a.nii.gz', 'b.nii.gz']);
  // After a run cancelled once a.nii.gz was done (its proposal from v2 saved), the rerun does b only.
  const resumed = [withProposal(info('a.nii.gz', 'proposal'), 'v2'), ...cases.slice(1)];
  assert.deepEqual(casesToSegment(resumed, 'v2').map((c) => c.fileName), ['b.nii.gz']);
});

test('scanCases: NRRD images (.nrrd, .nhdr) are cases with NIfTI masks beside them; Slicer segmentations (.seg.nrrd) are not', async () => {
  const root = join(dir, 'nrrd');
  touch(join(root, 'ct.nrrd'));
  touch(join(root, 'mr.nhdr'));
  touch(join(root, 'mr.raw'));
  touch(join(root, 'ct.seg.nrrd'));
  touch(join(root, 'ct_seg.nii.gz'));
  const { cases } = await scanCases([root]);
  assert.deepEqual(
    cases.map((c) => [c.fileName, c.maskPath.slice(root.length + 1), c.state]),
    [
      ['ct.nrrd', 'ct_seg.nii.gz', 'edited'],
      ['mr.nhdr', 'mr_seg.nii.gz', 'no-mask'],
    ],
  );
});

test('scanCases: MetaImage (.mha, .mhd) and FreeSurfer (.mgz, .mgh) images are cases; FreeSurfer and SAMSEG label maps are not', async () => {
  const root = join(dir, 'itk-freesurfer');
  for (const name of ['lesion.mha', 'scan.mhd', 'scan.raw', 'scan.zraw', 'T1.mgz', 'flair.mgh', 'aseg.mgz', 'aparc+aseg.mgz', 'wmparc.mgz', 'lh.ribbon.mgz', 'seg.mgz', 'T1_seg.nii.gz']) touch(join(root, name));
  const { cases } = await scanCases([root]);
  assert.deepEqual(
    cases.map((c) => [c.fileName, c.maskPath.slice(root.length + 1), c.state]),
    [
      ['flair.mgh', 'flair_seg.nii.gz', 'no-mask'],
      ['lesion.mha', 'lesion_seg.nii.gz', 'no-mask'],
      ['scan.mhd', 'scan_seg.nii.gz', 'no-mask'],
      ['T1.mgz', 'T1_seg.nii.gz', 'edited'],
    ],
  );
});
