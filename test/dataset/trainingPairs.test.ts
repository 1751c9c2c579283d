// Finding reviewed training pairs in a folder tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSidecar, sidecarToText } from '../../src/labels/sidecar';
import { findReviewedTrainingPairs, TrainingPairError } from '../../src/dataset/trainingPairs';
import { MaskPathError } from '../../src/labels/maskPath';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-modelcmd-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sidecarText(reviewed: boolean): string {
  return sidecarToText(
    buildSidecar({
      imageFile: 'x.nii.gz',
      imageSha256: 'ab'.repeat(32),
      maskFile: 'x_seg.nii.gz',
      dims: [2, 2, 2],
      bits: 8,
      voxelVolumeMm3: 1,
      labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }],
      voxelCounts: new Map([[1, 3]]),
      modelVersion: null,
      handEditedVoxels: 3,
      reviewed,
      savedAt: new Date('2026-11-27T10:00:00Z'),
    }),
  );
}

function touch(path: string, text = 'not really nifti; only existence matters here'): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

// ───────────── training pairs ─────────────

test('findReviewedTrainingPairs: only reviewed masks with a sidecar; hidden and node_modules folders skipped; reasons given', async () => {
  const root = mkdtempSync(join(dir, 'ws-'));
  touch(join(root, 'a/case1.nii.gz'));
  touch(join(root, 'a/case1_seg.nii.gz'));
  touch(join(root, 'a/case1_seg.json'), sidecarText(true));
  touch(join(root, 'a/case2.nii.gz'));
  touch(join(root, 'a/case2_seg.nii.gz')); // no sidecar
  touch(join(root, 'b/deep/case3.nii'));
  touch(join(root, 'b/deep/case3_seg.nii.gz'));
  touch(join(root, 'b/deep/case3_seg.json'), sidecarText(false));
  touch(join(root, 'b/case4.nii.gz')); // no mask
  touch(join(root, 'c/case5.nii.gz'));
  touch(join(root, 'c/case5_seg.nii.gz'));
  touch(join(root, 'c/case5_seg.json'), '{ not json');
  touch(join(root, 'c/case6.nii.gz'));
  touch(join(root, 'c/case6_seg.nii.gz'));
  touch(join(root, 'c/case6_seg.json'), sidecarText(true));
  for (const hidden of ['.lesion-lab/models/v1', 'node_modules/pkg']) {
    touch(join(root, hidden, 'case9.nii.gz'));
    touch(join(root, hidden, 'case9_seg.nii.gz'));
    touch(join(root, hidden, 'case9_seg.json'), sidecarText(true));
  }
  const r = await findReviewedTrainingPairs([root]);
  assert.deepEqual(
    r.pairs.map((p) => [p.imagePath, p.maskPath, p.sidecarPath]),
    [
      [join(root, 'a/case1.nii.gz'), join(root, 'a/case1_seg.nii.gz'), join(root, 'a/case1_seg.json')],
      [join(root, 'c/case6.nii.gz'), join(root, 'c/case6_seg.nii.gz'), join(root, 'c/case6_seg.json')],
    ],
  );
  // case1..case6 are images; the *_seg files are their masks, not images.
  assert.equal(r.imagesSeen, 6);
  assert.equal(r.truncated, false);
  const reasons = new Map(r.skipped.map((s) => [s.imagePath, s.reason]));
  assert.deepEqual([...reasons.keys()].sort(), [join(root, 'a/case2.nii.gz'), join(root, 'b/deep/case3.nii'), join(root, 'c/case5.nii.gz')]);
  assert.match(reasons.get(join(root, 'a/case2.nii.gz'))!, /a\/case2_seg\.nii\.gz has no sidecar a\/case2_seg\.json/);
  assert.match(reasons.get(join(root, 'b/deep/case3.nii'))!, /b\/deep\/case3_seg\.json says the mask is not reviewed/);
  assert.match(reasons.get(join(root, 'c/case5.nii.gz'))!, /c\/case5_seg\.json: not valid JSON/);
});

test('findReviewedTrainingPairs: masks in a sibling folder (pattern ../masks/${name}.nii.gz) are not taken for images', async () => {
  const root = mkdtempSync(join(dir, 'ws-'));
  touch(join(root, 'img/p1.nii.gz'));
  touch(join(root, 'img/p2.nii.gz'));
  touch(join(root, 'masks/p1.nii.gz'));
  touch(join(root, 'masks/p1.json'), sidecarText(true));
  const r = await findReviewedTrainingPairs([root], { maskPattern: '../masks/${name}.nii.gz' });
  assert.deepEqual(r.pairs, [{ imagePath: join(root, 'img/p1.nii.gz'), maskPath: join(root, 'masks/p1.nii.gz'), sidecarPath: join(root, 'masks/p1.json') }]);
  assert.equal(r.imagesSeen, 2);
  assert.deepEqual(r.skipped, []);
});

test('findReviewedTrainingPairs: several roots, the entry limit, and errors for a bad pattern or options', async () => {
  const r1 = mkdtempSync(join(dir, 'ws-'));
  const r2 = mkdtempSync(join(dir, 'ws-'));
  for (const r of [r1, r2]) {
    touch(join(r, 'x.nii.gz'));
    touch(join(r, 'x_seg.nii.gz'));
    touch(join(r, 'x_seg.json'), sidecarText(true));
  }
  assert.equal((await findReviewedTrainingPairs([r1, r2])).pairs.length, 2);
  const limited = await findReviewedTrainingPairs([r1, r2], { maxEntries: 2 });
  assert.equal(limited.truncated, true);
  assert.ok(limited.pairs.length < 2);
  await assert.rejects(findReviewedTrainingPairs([r1], { maskPattern: '${name}_seg.nii' }), (e: Error) => e instanceof MaskPathError && /must end in \.nii\.gz/.test(e.message));
  await assert.rejects(findReviewedTrainingPairs([r1], { maxDepth: -1 }), (e: Error) => e instanceof TrainingPairError && /option maxDepth must be an integer ≥ 0, got -1/.test(e.message));
  // A missing root holds nothing (no throw).
  assert.deepEqual((await findReviewedTrainingPairs([join(dir, 'nope')])).pairs, []);
});
