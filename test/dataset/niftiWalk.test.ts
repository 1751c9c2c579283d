// The bounded NIfTI folder walk shared by the case scan and the training-pair search: what it
// enters and skips, its order, the file names it lists per folder, and its limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isInsideFolder, walkNiftiFiles } from '../../src/dataset/niftiWalk';
import { tempDir } from '../helpers/tempDir';

const invalid = (message: string): Error => new RangeError(message);

function tree(): string {
  const root = tempDir('ll-walk-');
  for (const dir of ['b', 'a/deep/deeper', '.hidden', 'node_modules', 'out']) mkdirSync(join(root, dir), { recursive: true });
  for (const file of ['b/2.nii.gz', 'b/10.nii', 'b/notes.txt', 'a/1.NII.GZ', 'a/deep/deeper/3.nii.gz', '.hidden/h.nii.gz', 'node_modules/n.nii.gz', 'out/o.nii.gz', 'top.nii.gz']) {
    writeFileSync(join(root, file), '');
  }
  symlinkSync(join(root, 'top.nii.gz'), join(root, 'b', 'link.nii.gz'));
  return root;
}

test('walkNiftiFiles: NIfTI files and links in name order; hidden, excluded and too-deep folders are not entered', async () => {
  const root = tree();
  const walk = await walkNiftiFiles([root], { excludeFolders: [join(root, 'out')] }, invalid);
  assert.equal(walk.truncated, false);
  assert.deepEqual(
    walk.niftiPaths.map((p) => relative(root, p)),
    ['a/1.NII.GZ', 'a/deep/deeper/3.nii.gz', 'b/10.nii', 'b/2.nii.gz', 'b/link.nii.gz', 'top.nii.gz'],
  );
  assert.deepEqual([...(walk.fileNamesByFolder.get(join(root, 'b')) ?? [])], ['10.nii', '2.nii.gz', 'link.nii.gz', 'notes.txt']);
  const shallow = await walkNiftiFiles([root], { maxDepth: 1, excludeFolderNames: [] }, invalid);
  assert.deepEqual(
    shallow.niftiPaths.map((p) => relative(root, p)),
    ['a/1.NII.GZ', 'b/10.nii', 'b/2.nii.gz', 'b/link.nii.gz', 'node_modules/n.nii.gz', 'out/o.nii.gz', 'top.nii.gz'],
  );
  const inside = await walkNiftiFiles([join(root, 'out')], { excludeFolders: [root] }, invalid);
  assert.deepEqual(inside.niftiPaths, [], 'a root inside an excluded folder is not walked');
  assert.deepEqual((await walkNiftiFiles([join(root, 'missing')], {}, invalid)).niftiPaths, [], 'an unreadable folder holds nothing');
});

test("walkNiftiFiles: stops at maxEntries and says so; invalid limits raise the caller's error", async () => {
  const root = tree();
  const walk = await walkNiftiFiles([root, root], { maxEntries: 3 }, invalid);
  assert.equal(walk.truncated, true);
  assert.deepEqual(walk.niftiPaths.map((p) => relative(root, p)), ['a/1.NII.GZ']);
  await assert.rejects(walkNiftiFiles([root], { maxDepth: 1.5 }, invalid), (e: unknown) => e instanceof RangeError && /option maxDepth must be an integer ≥ 0, got 1.5/.test((e as Error).message));
  await assert.rejects(walkNiftiFiles([root], { maxEntries: 0 }, invalid), /option maxEntries must be an integer ≥ 1, got 0/);
  assert.equal(isInsideFolder(join(root, 'a', 'b'), root), true);
  assert.equal(isInsideFolder(root, root), true);
  assert.equal(isInsideFolder(`${root}-sibling`, root), false);
});
