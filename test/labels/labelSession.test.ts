// LabelSession: opening with or without a mask (and masks on another grid), save, revert, backup
// and restore; then what it writes to disk and where.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LabelDeltaRecorder } from '../../src/protocol/labelDelta';
import { LabelSession, MaskChangedOnDiskError } from '../../src/labels/labelSession';
import { sha256OfFile } from '../../src/labels/maskFiles';
import type { MaskProblem, MaskProblemChoice } from '../../src/labels/maskLoading';
import { parseSidecar } from '../../src/labels/sidecar';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { readNifti } from '../../src/nifti';
import { nodeAtomicWriteFs, type AtomicWriteFs } from '../../src/util/writeFilesAtomically';

const GEN = ['odd', 'generated_valid'];
const skip = skipWithoutSharedData(...GEN);
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-session-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder with ct_int16 as case.nii.gz and optionally a shared mask as case_seg.nii.gz. */
function caseWith(mask: string | null): string {
  const d = mkdtempSync(join(dir, 'case-'));
  copyFileSync(sharedDataPath(...GEN, 'ct_int16.nii.gz'), join(d, 'case.nii.gz'));
  if (mask) copyFileSync(sharedDataPath(...GEN, mask), join(d, 'case_seg.nii.gz'));
  return join(d, 'case.nii.gz');
}

function paintSlice(session: LabelSession, k: number, value: number): void {
  const [nx, ny] = session.image.dims;
  const copy = session.labels.slice();
  const rec = new LabelDeltaRecorder(copy);
  for (let j = 10; j < 20; j++) for (let i = 10; i < 30; i++) rec.set(i + nx * (j + ny * k), value);
  session.model.applyVoxelEdit('Brush', rec.finish());
}

/** nibabel's view of a mask: shape, affine, dtype and voxel sum / count per label (Debian python). */
function nibabelInfo(path: string): { shape: number[]; affine: number[][]; dtype: string; counts: Record<string, number>; sform: number; qform: number } {
  const py = `
import json, sys, nibabel as nib, numpy as np
img = nib.load(sys.argv[1])
d = np.asarray(img.dataobj)
u, c = np.unique(d, return_counts=True)
print(json.dumps({"shape": list(d.shape), "affine": img.affine.tolist(), "dtype": str(d.dtype),
  "counts": {str(int(a)): int(b) for a, b in zip(u, c)},
  "sform": int(img.header["sform_code"]), "qform": int(img.header["qform_code"])}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('no mask: empty labels, status new, Save writes a mask nibabel reads on the exact grid, and a sidecar', { skip }, async () => {
  const imagePath = caseWith(null);
  const s = await LabelSession.open(imagePath);
  assert.equal(s.mask.status, 'new');
  assert.equal(s.maskPath, imagePath.replace('case.nii.gz', 'case_seg.nii.gz'));
  assert.ok(s.labels.every((v) => v === 0));
  assert.equal(s.model.isDirty, false);
  paintSlice(s, 5, 1);
  assert.equal(s.model.isDirty, true);
  const imageBytes = readFileSync(imagePath);
  const imageMtime = statSync(imagePath).mtimeMs;
  const result = await s.save();
  assert.equal(s.model.isDirty, false);
  assert.deepEqual(readFileSync(imagePath), imageBytes, 'the source image is never modified');
  assert.equal(statSync(imagePath).mtimeMs, imageMtime);

  const img = nibabelInfo(imagePath);
  const mask = nibabelInfo(result.maskPath);
  assert.deepEqual(mask.shape, img.shape);
  assert.deepEqual(mask.affine, img.affine, 'identical affine');
  assert.equal(mask.dtype, 'uint8');
  assert.equal(mask.counts['1'], 200);
  assert.equal(mask.sform, img.sform);
  assert.equal(mask.qform, img.qform);

  const sidecar = JSON.parse(readFileSync(result.sidecarPath, 'utf8'));
  assert.equal(result.sidecarPath, imagePath.replace('case.nii.gz', 'case_seg.json'));
  assert.equal(sidecar.reviewed, true);
  assert.equal(sidecar.image.file, 'case.nii.gz');
  assert.equal(sidecar.image.sha256, await sha256OfFile(imagePath));
  assert.match(sidecar.image.sha256, /^[0-9a-f]{64}$/);
  assert.equal(sidecar.labels.length, 1);
  assert.equal(sidecar.labels[0].voxelCount, 200);
  // 0.977 × 0.977 × 3.27 mm per voxel (read from the header, not assumed).
  const sp = (await readNifti(imagePath)).spacingMm;
  assert.ok(Math.abs(sidecar.labels[0].volumeMm3 - 200 * sp[0] * sp[1] * sp[2]) < 0.01);
  assert.equal(sidecar.provenance.modelVersion, null);
  assert.equal(sidecar.provenance.handEditedVoxels, 200);
  assert.equal(sidecar.mask.datatype, 'uint8');
});

test('an existing same-grid mask loads; its sidecar table and provenance are used; reopen after save round-trips', { skip }, async () => {
  const imagePath = caseWith('mask_uint8.nii.gz');
  const s = await LabelSession.open(imagePath);
  assert.equal(s.mask.status, 'loaded');
  const want = nibabelInfo(imagePath.replace('case.nii.gz', 'case_seg.nii.gz')).counts['1'];
  assert.equal(s.model.labelVoxelCounts().get(1), want);
  s.model.applyTableEdit('Rename label', [{ value: 1, name: 'Sarcoma', color: [0, 200, 0], visible: true, locked: false }]);
  // A hand edit of 200 voxels on slice 0 (empty in this mask).
  paintSlice(s, 0, 1);
  await s.save();
  const again = await LabelSession.open(imagePath);
  assert.equal(again.model.labelTable[0].name, 'Sarcoma');
  assert.deepEqual(again.labels, s.labels);
  assert.equal(again.model.labelVoxelCounts().get(1), want + 200);
});

test('multi-label int16 and float32 masks load as labels; the table lists every value', { skip }, async () => {
  const multi = await LabelSession.open(caseWith('mask_multilabel_int16.nii.gz'));
  assert.equal(multi.mask.status, 'loaded');
  assert.deepEqual(multi.model.labelTable.map((e) => e.value), [1, 2, 7]);
  assert.ok(multi.labels instanceof Uint8Array);
  const f32 = await LabelSession.open(caseWith('mask_float32.nii.gz'));
  assert.equal(f32.mask.status, 'loaded');
  assert.ok((f32.model.labelVoxelCounts().get(1) ?? 0) > 0);
  const empty = await LabelSession.open(caseWith('mask_empty.nii.gz'));
  assert.equal(empty.mask.status, 'loaded');
  assert.equal(empty.model.labelVoxelCounts().get(1), undefined);
});

test('a shifted mask is not silently applied: the user is told "shifted 1.5 mm" and chooses', { skip }, async () => {
  const seen: MaskProblem[] = [];
  const ask = (choice: MaskProblemChoice) => async (p: MaskProblem) => {
    seen.push(p);
    return choice;
  };
  const imagePath = caseWith('mask_shifted_1.5mm.nii.gz');
  const ro = await LabelSession.open(imagePath, { onMaskProblem: ask('readOnly') });
  assert.equal(seen[0].kind, 'grid');
  assert.deepEqual(seen[0].differences, ['shifted 1.5 mm along x']);
  assert.match(seen[0].message, /case_seg\.nii\.gz is not on the grid of case\.nii\.gz: shifted 1\.5 mm along x/);
  assert.deepEqual(seen[0].choices, ['resample', 'readOnly', 'ignore']);
  assert.equal(ro.readOnly, true);
  await assert.rejects(ro.save(), /open read-only/);

  // Resampled: each image voxel takes the mask voxel nearest to its world position. Only x
  // differs, so the expected value is computed independently from the two affines' x rows.
  const rs = await LabelSession.open(imagePath, { onMaskProblem: ask('resample') });
  assert.equal(rs.mask.status, 'resampled');
  assert.equal(rs.readOnly, false);
  const maskImg = await readNifti(imagePath.replace('case.nii.gz', 'case_seg.nii.gz'));
  const [nx, ny, nz] = rs.image.dims;
  const a = rs.image.affine;
  const b = maskImg.affine;
  let compared = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    // World x of image voxel i, then the mask voxel index at that x.
    const x = a[0] * i + a[3];
    const mi = Math.round((x - b[3]) / b[0] + 1e-6);
    const want = mi >= 0 && mi < nx ? maskImg.data[mi + nx * (j + ny * k)] : 0;
    assert.equal(rs.labels[i + nx * (j + ny * k)], want);
    compared++;
  }
  assert.equal(compared, nx * ny * nz);
  assert.ok(rs.model.labelVoxelCounts().get(1)! > 0);

  const ig = await LabelSession.open(imagePath, { onMaskProblem: ask('ignore') });
  assert.equal(ig.mask.status, 'ignored');
  assert.ok(ig.labels.every((v) => v === 0));
  assert.match(ig.mask.message ?? '', /Save replaces it/);
});

test('a mask one slice short is reported as such, and without a handler opens read-only', { skip }, async () => {
  let problem: MaskProblem | null = null;
  const imagePath = caseWith('mask_one_slice_short.nii.gz');
  await LabelSession.open(imagePath, {
    onMaskProblem: async (p) => {
      problem = p;
      return 'ignore';
    },
  });
  assert.ok(problem);
  assert.deepEqual((problem as MaskProblem).differences, ['one slice short along k (21 vs 22)']);
  const s = await LabelSession.open(imagePath);
  assert.equal(s.readOnly, true);
  assert.match(s.readOnlyReason ?? '', /one slice short along k/);
});

test('an unreadable mask offers read-only or ignore, never resample', { skip }, async () => {
  const imagePath = caseWith(null);
  writeFileSync(imagePath.replace('case.nii.gz', 'case_seg.nii.gz'), 'not a nifti');
  let problem: MaskProblem | null = null;
  const s = await LabelSession.open(imagePath, {
    onMaskProblem: async (p) => {
      problem = p;
      return 'readOnly';
    },
  });
  assert.equal((problem as MaskProblem | null)?.kind, 'unreadable');
  assert.deepEqual((problem as MaskProblem | null)?.choices, ['readOnly', 'ignore']);
  assert.match((problem as MaskProblem | null)?.message ?? '', /^The mask case_seg\.nii\.gz cannot be read: case_seg\.nii\.gz: /);
  assert.equal(s.readOnly, true);
});

test('revert re-reads the mask from disk and clears the edits', { skip }, async () => {
  const imagePath = caseWith('mask_uint8.nii.gz');
  const s = await LabelSession.open(imagePath);
  const original = s.labels.slice();
  paintSlice(s, 3, 2);
  assert.notDeepEqual(s.labels, original);
  await s.revert();
  assert.deepEqual(s.labels, original);
  assert.equal(s.model.isDirty, false);
  assert.equal(s.model.history.length, 0);
  // Save, edit, revert: the saved edit stays undoable and the unsaved one is gone.
  paintSlice(s, 3, 2);
  const saved = s.model.history[0];
  await s.save();
  const afterSave = s.labels.slice();
  paintSlice(s, 4, 2);
  await s.revert();
  assert.deepEqual(s.labels, afterSave);
  assert.equal(s.model.isDirty, false);
  s.model.undo(saved);
  assert.deepEqual(s.labels, original);
});

test('backup and restore (hot exit) bring back unsaved labels, table and provenance; the result is dirty', { skip }, async () => {
  const imagePath = caseWith(null);
  const s = await LabelSession.open(imagePath);
  const copy = s.labels.slice();
  const rec = new LabelDeltaRecorder(copy);
  for (let i = 0; i < 50; i++) rec.set(i, 1);
  s.model.applyVoxelEdit('Accept proposal', rec.finish(), 'proposal', 'unet-v7');
  paintSlice(s, 2, 3);
  s.model.applyTableEdit('Add label', [
    { value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false },
    { value: 3, name: 'Edema', color: [0, 0, 255], visible: false, locked: true },
  ]);
  const backupPath = join(dir, 'backup.bin');
  await s.writeBackup(backupPath);
  assert.ok(statSync(backupPath).size < 10_000, 'labels are compressed in the backup');
  const r = await LabelSession.restore(imagePath, new Uint8Array(readFileSync(backupPath)));
  assert.deepEqual(r.labels, s.labels);
  assert.deepEqual(r.model.labelTable, s.model.labelTable);
  assert.equal(r.model.proposalModelVersion, 'unet-v7');
  assert.equal(r.model.handEditedVoxels, 200);
  assert.equal(r.model.isDirty, true);
  assert.equal(r.maskPath, s.maskPath);
  assert.equal(existsSync(r.maskPath), false, 'restoring writes nothing');
  const saved = await r.save();
  const sc = parseSidecar(readFileSync(saved.sidecarPath, 'utf8'), 'sidecar');
  assert.equal(sc.modelVersion, 'unet-v7');
  assert.equal(sc.handEditedVoxels, 200);
  assert.equal(r.model.isDirty, false);
  await assert.rejects(LabelSession.restore(imagePath, new Uint8Array([1, 2, 3])), /not a Lesion Lab backup/);
  const truncated = new Uint8Array(readFileSync(backupPath)).subarray(0, 40);
  await assert.rejects(LabelSession.restore(imagePath, truncated), /truncated|corrupt/);
});

test('save refuses to write over the image or to a non-.nii.gz name; save to another path leaves the state dirty', { skip }, async () => {
  const imagePath = caseWith(null);
  const s = await LabelSession.open(imagePath);
  paintSlice(s, 1, 1);
  await assert.rejects(s.save(imagePath), /refusing to save the mask over the source image/);
  await assert.rejects(s.save(join(dir, 'x.nii')), /choose a name ending in \.nii\.gz/);
  const other = join(dir, 'elsewhere_seg.nii.gz');
  const res = await s.save(other);
  assert.ok(existsSync(other) && existsSync(res.sidecarPath));
  assert.equal(s.model.isDirty, true);
});

// What the session writes and where (issue 11): masks only where they may go, never over a .json
// that is not ours or over the image (compared as real files), mask and sidecar as one atomic
// pair with errors naming the file, and masks changed on disk by someone else are noticed.
/** <root>/work/case.nii.gz in a fresh root; returns the image path. */
function workspaceCase(): string {
  const root = mkdtempSync(join(dir, 'root-'));
  mkdirSync(join(root, 'work'));
  copyFileSync(sharedDataPath(...GEN, 'ct_int16.nii.gz'), join(root, 'work', 'case.nii.gz'));
  return join(root, 'work', 'case.nii.gz');
}

function paint(session: LabelSession, first: number, value: number): void {
  const copy = session.labels.slice();
  const rec = new LabelDeltaRecorder(copy);
  for (let i = first; i < first + 50; i++) rec.set(i, value);
  session.model.applyVoxelEdit('Brush', rec.finish());
}

test('a workspace mask pattern cannot put the mask (and sidecar) outside the workspace or the image folder', { skip }, async () => {
  const imagePath = workspaceCase();
  const work = dirname(imagePath);
  const root = dirname(work);
  mkdirSync(join(root, 'victim'));
  writeFileSync(join(root, 'victim', 'settings.json'), '{"editor.fontSize": 20}\n');
  const pattern = '../victim/settings.nii.gz';
  const s = await LabelSession.open(imagePath, { maskPattern: pattern, maskLocation: { allowedFolders: [work], patternFromUserSettings: false } });
  assert.equal(s.readOnly, true);
  assert.match(s.readOnlyReason ?? '', /lesionLab\.maskPattern "\.\.\/victim\/settings\.nii\.gz"/);
  assert.match(s.readOnlyReason ?? '', /outside the workspace folder/);
  paint(s, 0, 1);
  await assert.rejects(s.save(), /read-only/);
  assert.equal(readFileSync(join(root, 'victim', 'settings.json'), 'utf8'), '{"editor.fontSize": 20}\n');
  assert.equal(existsSync(join(root, 'victim', 'settings.nii.gz')), false);

  // A folder inside the workspace that is a symbolic link to the outside is outside too.
  symlinkSync(join(root, 'victim'), join(work, 'masks'));
  const viaLink = await LabelSession.open(imagePath, { maskPattern: 'masks/${name}_seg.nii.gz', maskLocation: { allowedFolders: [work], patternFromUserSettings: false } });
  assert.equal(viaLink.readOnly, true);

  // The same pattern from the user's own settings is the user's choice; inside the workspace is fine.
  const user = await LabelSession.open(imagePath, { maskPattern: pattern, maskLocation: { allowedFolders: [work], patternFromUserSettings: true } });
  assert.equal(user.readOnly, false);
  mkdirSync(join(work, 'seg'));
  const inside = await LabelSession.open(imagePath, { maskPattern: 'seg/${name}.nii.gz', maskLocation: { allowedFolders: [work], patternFromUserSettings: false } });
  assert.equal(inside.readOnly, false);
  // Beside the image is allowed even with no workspace folder.
  const beside = await LabelSession.open(imagePath, { maskPattern: '${name}_seg.nii.gz', maskLocation: { allowedFolders: [], patternFromUserSettings: false } });
  assert.equal(beside.readOnly, false);
});

test('a .json that is not a Lesion Lab sidecar is never overwritten (Save As package.nii.gz)', { skip }, async () => {
  const imagePath = workspaceCase();
  const work = dirname(imagePath);
  const pkg = '{"name": "my-project", "version": "1.0.0"}\n';
  writeFileSync(join(work, 'package.json'), pkg);
  const s = await LabelSession.open(imagePath);
  paint(s, 0, 1);
  await assert.rejects(s.save(join(work, 'package.nii.gz')), /package\.json already exists and is not a Lesion Lab sidecar/);
  assert.equal(readFileSync(join(work, 'package.json'), 'utf8'), pkg);
  assert.equal(existsSync(join(work, 'package.nii.gz')), false, 'the mask is not written without its sidecar');
  // Not JSON at all: refused as well.
  writeFileSync(join(work, 'notes.json'), 'free text');
  await assert.rejects(s.save(join(work, 'notes.nii.gz')), /notes\.json already exists and is not a Lesion Lab sidecar/);
  assert.equal(readFileSync(join(work, 'notes.json'), 'utf8'), 'free text');
  // Our own sidecar is replaced.
  await s.save();
  await s.save();
  assert.equal(JSON.parse(readFileSync(join(work, 'case_seg.json'), 'utf8')).format, 'lesion-lab-mask-sidecar');
});

test('the image guard compares real files: a symbolic link to the image is refused', { skip }, async () => {
  const imagePath = workspaceCase();
  const work = dirname(imagePath);
  symlinkSync(imagePath, join(work, 'alias.nii.gz'));
  const before = readFileSync(imagePath);
  const s = await LabelSession.open(imagePath);
  paint(s, 0, 1);
  await assert.rejects(s.save(join(work, 'alias.nii.gz')), /refusing to save the mask over the source image/);
  assert.deepEqual(readFileSync(imagePath), before);
  // A pattern that names the image through a link opens read-only rather than risking it.
  const viaPattern = await LabelSession.open(imagePath, { maskPattern: 'alias.nii.gz' });
  assert.equal(viaPattern.readOnly, true);
  assert.match(viaPattern.readOnlyReason ?? '', /source image/);
});

test('mask and sidecar are written as a pair: a full disk on the sidecar leaves no new mask and names the sidecar', { skip }, async () => {
  const imagePath = workspaceCase();
  const work = dirname(imagePath);
  const s = await LabelSession.open(imagePath);
  paint(s, 0, 1);
  const full: AtomicWriteFs = {
    ...nodeAtomicWriteFs,
    writeTemp: async (path, bytes) => {
      if (/case_seg\.json/.test(path)) {
        const err = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
        err.code = 'ENOSPC';
        throw err;
      }
      return nodeAtomicWriteFs.writeTemp(path, bytes);
    },
  };
  s.fileOps = full;
  await assert.rejects(s.save(), (e: unknown) => /case_seg\.json/.test(String((e as Error).message)) && /ENOSPC/.test(String((e as Error).message)));
  assert.deepEqual(readdirSync(work).sort(), ['case.nii.gz']);
  assert.equal(s.model.isDirty, true);
  s.fileOps = nodeAtomicWriteFs;
  await s.save();
  assert.deepEqual(readdirSync(work).sort(), ['case.nii.gz', 'case_seg.json', 'case_seg.nii.gz']);
});

test('a mask changed on disk is not silently overwritten; overwrite is explicit; revert then starts a fresh history', { skip }, async () => {
  const imagePath = workspaceCase();
  const work = dirname(imagePath);
  const maskPath = join(work, 'case_seg.nii.gz');
  const s = await LabelSession.open(imagePath);
  paint(s, 0, 1);
  await s.save();
  assert.equal(await s.maskChangeOnDisk(), null);
  // Another program (git checkout, a script) replaces the mask.
  copyFileSync(sharedDataPath(...GEN, 'mask_uint8.nii.gz'), maskPath);
  const external = readFileSync(maskPath);
  paint(s, 100, 2);
  await assert.rejects(s.save(), (e: unknown) => e instanceof MaskChangedOnDiskError && /case_seg\.nii\.gz changed on disk/.test(e.message));
  assert.deepEqual(readFileSync(maskPath), external);
  assert.equal(s.model.isDirty, true);

  // Revert reads the new file; the old edits do not fit it, so the history is cleared.
  const savedEdit = s.model.history[0];
  const r = await s.revert();
  assert.equal(r.historyCleared, true);
  assert.equal(s.model.history.length, 0);
  assert.throws(() => s.model.undo(savedEdit));
  assert.equal(await s.maskChangeOnDisk(), null);

  // Touching the file without changing its bytes is not a change.
  writeFileSync(maskPath, external);
  assert.equal(await s.maskChangeOnDisk(), null);

  // Changed again, then saved with an explicit overwrite.
  writeFileSync(maskPath, Buffer.concat([external, Buffer.from([0])]));
  paint(s, 200, 3);
  await s.save(undefined, { overwriteChangedOnDisk: true });
  assert.notDeepEqual(readFileSync(maskPath), external);
  assert.equal(s.model.isDirty, false);

  // A mask created on disk after opening without one counts as a change too.
  const other = workspaceCase();
  const s2 = await LabelSession.open(other);
  copyFileSync(sharedDataPath(...GEN, 'mask_uint8.nii.gz'), join(dirname(other), 'case_seg.nii.gz'));
  paint(s2, 0, 1);
  await assert.rejects(s2.save(), MaskChangedOnDiskError);
  // Revert with the file unchanged since the save keeps the saved edits undoable.
  const s3 = await LabelSession.open(other);
  paint(s3, 0, 1);
  await s3.save();
  const kept = await s3.revert();
  assert.equal(kept.historyCleared, false);
  assert.equal(s3.model.history.length, 1);
});
