// What the session writes and where (issue 11): masks only where they may go, never over a .json
// that is not ours or over the image (compared as real files), mask and sidecar as one atomic
// pair with errors naming the file, and masks changed on disk by someone else are noticed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LabelDeltaRecorder } from '../../src/protocol/labelDelta';
import { LabelSession, MaskChangedOnDiskError } from '../../src/labels/labelSession';
import { nodeAtomicWriteFs, type AtomicWriteFs } from '../../src/util/writeFilesAtomically';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const GEN = ['odd', 'generated_valid'];
const skip = skipWithoutSharedData(...GEN);
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-disk-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

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
