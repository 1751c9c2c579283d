// Proposals saved beside a real image and read back; the sidecar's dataset fields on save (lesion
// count, proposal kept, correction effort); Mark Reviewed / Not Reviewed on disk; the pure maths.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readNifti, writeMaskLike, type NiftiImage } from '../../src/nifti';
import { saveProposal, loadProposal, ProposalFileError } from '../../src/dataset/proposalFiles';
import { setCaseReviewed, ReviewError } from '../../src/dataset/review';
import { correctionEffort, meanInside, proposalLabelsFromProbability, summarizeCorrections, CorrectionError } from '../../src/dataset/correction';
import { withDatasetFields, setReviewedText, SidecarFieldError } from '../../src/dataset/sidecarFields';
import { scanCases } from '../../src/dataset/cases';
import { defaultLabelTable } from '../../src/labels/labelModel';
import { LabelSession } from '../../src/labels/labelSession';
import { encodeDelta } from '../../src/protocol/labelDelta';
import { buildSidecar } from '../../src/labels/sidecar';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const SOURCE = ['odd', 'generated_valid', 'ct_int16.nii.gz'] as const;
const skip = skipWithoutSharedData(...SOURCE);

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-proposal-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A proposal on the image's grid: probability 0.9 in a ball around `centre` (radius r voxels), 0.1 elsewhere; uncertainty = k / 1000. */
function syntheticProposal(image: NiftiImage, centre: [number, number, number], r: number): { probability: Float32Array; uncertainty: Float32Array } {
  const [nx, ny, nz] = image.dims;
  const probability = new Float32Array(nx * ny * nz).fill(0.1);
  const uncertainty = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const v = i + nx * (j + ny * k);
        uncertainty[v] = k / 1000;
        if ((i - centre[0]) ** 2 + (j - centre[1]) ** 2 + (k - centre[2]) ** 2 <= r * r) probability[v] = 0.9;
      }
  return { probability, uncertainty };
}

test('correction maths: Dice, added/removed voxels, mean inside, labels from probability, per-model summary', () => {
  const c = correctionEffort('v2', [1, 1, 0, 0, 1], [1, 0, 0, 2, 1], new Date('2026-12-03T00:00:00Z'));
  assert.deepEqual({ ...c }, { modelVersion: 'v2', dice: 2 * 2 / 6, addedVoxels: 1, removedVoxels: 1, proposalVoxels: 3, maskVoxels: 3, measuredAt: '2026-12-03T00:00:00.000Z' });
  assert.equal(correctionEffort('v1', [0, 0], [0, 0], new Date()).dice, 1);
  assert.throws(() => correctionEffort('v1', [0], [0, 0], new Date()), CorrectionError);
  assert.equal(meanInside([0.2, 0.4, 0.9], [1, 1, 0]), 0.30000000000000004);
  assert.equal(meanInside([0.2], [0]), null);
  // Two lesions of 1 and 2 voxels; a minimum of 1.5 mm³ keeps the larger.
  const { labels, lesions } = proposalLabelsFromProbability([0.6, 0, 0.7, 0.8], [4, 1, 1], [1, 1, 1], 0.5, 1.5);
  assert.deepEqual([...labels], [0, 0, 1, 1]);
  assert.equal(lesions.length, 1);
  assert.throws(() => proposalLabelsFromProbability([0.5], [1, 1, 1], [1, 1, 1], 1, 0), /threshold must lie in \(0, 1\), got 1/);
  const summary = summarizeCorrections([
    { ...c, modelVersion: 'v10', dice: 0.5 },
    { ...c, modelVersion: 'v2', dice: 0.8, addedVoxels: 10, removedVoxels: 0 },
    { ...c, modelVersion: 'v2', dice: 0.6, addedVoxels: 0, removedVoxels: 20 },
    { ...c, modelVersion: 'starter', dice: 0.1 },
  ]);
  assert.deepEqual(
    summary.map((s) => [s.modelVersion, s.cases, Number(s.meanDice.toFixed(3)), s.meanChangedVoxels]),
    [['v2', 2, 0.7, 15], ['v10', 1, 0.5, 2], ['starter', 1, 0.1, 2]],
  );
});

test('sidecar fields: kept on save, reviewed set in place, foreign JSON refused', () => {
  const base = buildSidecar({
    imageFile: 'x.nii.gz', imageSha256: '00', maskFile: 'x_seg.nii.gz', dims: [1, 1, 1], bits: 8, voxelVolumeMm3: 1,
    labelTable: [], voxelCounts: new Map(), modelVersion: 'v3', handEditedVoxels: 0, reviewed: true, savedAt: new Date(0),
  });
  const previous = JSON.stringify({ ...base, proposal: { file: 'x_proposal.nii.gz', modelVersion: 'v3', threshold: 0.5, lesionCount: 1, voxelCount: 4, volumeMm3: 4 }, correction: { modelVersion: 'v2', dice: 0.5, addedVoxels: 1, removedVoxels: 1 } });
  const kept = withDatasetFields(base, previous, null);
  assert.equal(kept.proposal?.file, 'x_proposal.nii.gz');
  assert.equal(kept.correction, undefined, 'a correction of another model version than the mask\'s is dropped');
  assert.equal(withDatasetFields(base, '{broken', null).proposal, undefined);
  const text = setReviewedText(previous, 'x_seg.json', false, null, new Date(0));
  const obj = JSON.parse(text) as Record<string, unknown>;
  assert.equal(obj.reviewed, false);
  assert.equal((obj.proposal as { file: string }).file, 'x_proposal.nii.gz');
  assert.throws(() => setReviewedText('{"format":"other"}', 'x_seg.json', true, null, new Date()), (e: unknown) => e instanceof SidecarFieldError && /^x_seg\.json: not a Lesion Lab sidecar \(format is "other"/.test((e as Error).message));
});

test('saveProposal → scan → loadProposal → accept, edit, save → correction effort → Mark Not Reviewed / Reviewed', { skip }, async () => {
  const imagePath = join(dir, 'ct.nii.gz');
  copyFileSync(sharedDataPath(...SOURCE), imagePath);
  const imageBytes = readFileSync(imagePath);
  const image = await readNifti(imagePath);
  const maskPath = join(dir, 'ct_seg.nii.gz');
  const { probability, uncertainty } = syntheticProposal(image, [40, 30, 10], 4);
  const proposed = proposalLabelsFromProbability(probability, image.dims, image.spacingMm, 0.5, 0);
  const record = await saveProposal({
    image, imagePath, maskPath, imageSha256: createHash('sha256').update(imageBytes).digest('hex'), modelVersion: 'v7',
    threshold: 0.5, minLesionMm3: 0, probability, uncertainty, labels: proposed.labels, lesions: proposed.lesions, labelTable: defaultLabelTable(),
  });
  assert.equal(record.lesionCount, 1);
  assert.equal(record.voxelCount, proposed.labels.reduce((a, b) => a + b, 0));
  assert.ok(record.voxelCount > 100);
  assert.ok(Math.abs(record.meanUncertainty! - 0.01) < 1e-6, `mean uncertainty ${record.meanUncertainty}`);
  assert.ok(existsSync(join(dir, 'ct_proposal.nii.gz')) && existsSync(join(dir, 'ct_uncertainty.nii.gz')) && existsSync(join(dir, 'ct_seg.json')));
  assert.ok(!existsSync(maskPath), 'no mask is written for a proposal');

  let { cases } = await scanCases([dir]);
  assert.deepEqual(cases.map((c) => [c.fileName, c.state, c.modelVersion, c.lesionCount]), [['ct.nii.gz', 'proposal', 'v7', 1]]);

  const loaded = await loadProposal(image, imagePath, maskPath);
  assert.ok(loaded);
  assert.deepEqual(loaded.labels, proposed.labels, 'the proposal comes back voxel for voxel');
  assert.equal(loaded.uncertainty?.length, uncertainty.length);

  // Open the case, accept the proposal, then erase 20 of its voxels by hand and save.
  const session = await LabelSession.open(imagePath);
  assert.equal(session.mask.status, 'new');
  const accepted = Uint8Array.from(loaded.labels);
  session.model.applyVoxelEdit('Accept', encodeDelta(session.labels, accepted), 'proposal', 'v7');
  session.acceptedProposal = { modelVersion: 'v7', labels: loaded.labels };
  const edited = Uint8Array.from(accepted);
  let erased = 0;
  for (let v = 0; v < edited.length && erased < 20; v++) {
    if (edited[v]) {
      edited[v] = 0;
      erased++;
    }
  }
  session.model.applyVoxelEdit('Erase', encodeDelta(session.labels, edited));
  const { sidecar } = await session.save();
  const saved = sidecar as typeof sidecar & { lesionCount: number; correction: { dice: number; removedVoxels: number; addedVoxels: number; modelVersion: string }; proposal: { file: string } };
  assert.equal(saved.reviewed, true);
  assert.equal(saved.lesionCount, 1);
  assert.equal(saved.proposal.file, 'ct_proposal.nii.gz');
  assert.equal(saved.correction.modelVersion, 'v7');
  assert.equal(saved.correction.removedVoxels, 20);
  assert.equal(saved.correction.addedVoxels, 0);
  const n = record.voxelCount;
  assert.ok(Math.abs(saved.correction.dice - (2 * (n - 20)) / (2 * n - 20)) < 1e-12);
  assert.deepEqual(readFileSync(imagePath), imageBytes, 'the image is never modified');

  ({ cases } = await scanCases([dir]));
  assert.equal(cases[0].state, 'reviewed');
  assert.equal(cases[0].correction?.removedVoxels, 20);

  // A proposal is never saved over a mask.
  await assert.rejects(
    saveProposal({ image, imagePath, maskPath, imageSha256: '', modelVersion: 'v8', threshold: 0.5, minLesionMm3: 0, probability, uncertainty, labels: proposed.labels, lesions: proposed.lesions, labelTable: [] }),
    (e: unknown) => e instanceof ProposalFileError && /^ct\.nii\.gz already has a mask \(ct_seg\.nii\.gz\)/.test((e as Error).message),
  );

  // Mark Not Reviewed, then Reviewed again from disk: the correction is measured from the saved proposal file.
  assert.equal(await setCaseReviewed(imagePath, maskPath, false), null);
  ({ cases } = await scanCases([dir]));
  assert.equal(cases[0].state, 'edited');
  const maskStat = statSync(maskPath);
  const again = await setCaseReviewed(imagePath, maskPath, true);
  assert.equal(again?.removedVoxels, 20);
  assert.equal(statSync(maskPath).mtimeMs, maskStat.mtimeMs, 'marking never rewrites the mask');
  ({ cases } = await scanCases([dir]));
  assert.equal(cases[0].state, 'reviewed');
});

test('saveProposal refuses a foreign file at the proposal path; setCaseReviewed needs a mask and our sidecar', { skip }, async () => {
  const sub = mkdtempSync(join(dir, 'foreign-'));
  const imagePath = join(sub, 'ct.nii.gz');
  copyFileSync(sharedDataPath(...SOURCE), imagePath);
  const image = await readNifti(imagePath);
  // Somebody's own file named like our proposal: a copy of the image (not a Lesion Lab output).
  copyFileSync(imagePath, join(sub, 'ct_proposal.nii.gz'));
  const before = readFileSync(join(sub, 'ct_proposal.nii.gz'));
  const { probability, uncertainty } = syntheticProposal(image, [10, 10, 5], 2);
  const p = proposalLabelsFromProbability(probability, image.dims, image.spacingMm, 0.5, 0);
  await assert.rejects(
    saveProposal({ image, imagePath, maskPath: join(sub, 'ct_seg.nii.gz'), imageSha256: '', modelVersion: 'v1', threshold: 0.5, minLesionMm3: 0, probability, uncertainty, labels: p.labels, lesions: p.lesions, labelTable: [] }),
    /ct_proposal\.nii\.gz already exists and is not a Lesion Lab output \(its header description is ""\); it is left alone, so no proposal was saved for ct\.nii\.gz$/,
  );
  assert.deepEqual(readFileSync(join(sub, 'ct_proposal.nii.gz')), before);
  assert.ok(!existsSync(join(sub, 'ct_seg.json')), 'nothing written when one file is refused');

  await assert.rejects(setCaseReviewed(imagePath, join(sub, 'ct_seg.nii.gz'), true), (e: unknown) => e instanceof ReviewError && /ct\.nii\.gz has no saved mask \(ct_seg\.nii\.gz\)/.test((e as Error).message));
  await writeMaskLike(image, new Uint8Array(image.dims[0] * image.dims[1] * image.dims[2]), join(sub, 'ct_seg.nii.gz'));
  await assert.rejects(setCaseReviewed(imagePath, join(sub, 'ct_seg.nii.gz'), true), /ct_seg\.nii\.gz has no Lesion Lab sidecar \(ct_seg\.json\)/);
  writeFileSync(join(sub, 'ct_seg.json'), '{"format":"somebody-else"}');
  await assert.rejects(setCaseReviewed(imagePath, join(sub, 'ct_seg.nii.gz'), true), /ct_seg\.json: not a Lesion Lab sidecar .*; it is left alone/);
  assert.equal(readFileSync(join(sub, 'ct_seg.json'), 'utf8'), '{"format":"somebody-else"}');
});
