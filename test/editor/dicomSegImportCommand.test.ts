// Import DICOM SEG into Mask (src/editor/dicomSegCommand.ts) in an open editor, with the fake
// vscode: the SEG's segments are painted and named in one undoable edit that keeps a locked
// label's voxels; one Undo restores both the voxels and the label table, Redo brings them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fakeLog, shownMessages, Uri } from './fakeVscode';
import { fakeProviderSetup, settle } from './fakeProvider';
import { runCli } from '../../src/cli';
import { readNifti, writeMaskLike } from '../../src/nifti';
import { encodeDelta } from '../../src/protocol/labelDelta';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { NIBABEL_PYTHON } from '../nifti/nibabelReference';

const setup = fakeProviderSetup('ll-segcmd-');
const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;

test('Import DICOM SEG into Mask is one undoable edit of voxels and label names that keeps locked labels', { skip: skipWithoutSharedData(...CT) }, async () => {
  const root = setup.tempDir();
  const write = spawnSync(NIBABEL_PYTHON, [join(__dirname, '..', 'helpers', 'write_dicom_series.py'), sharedDataPath(...CT), join(root, 'dicom', 'ct'), '--crop', '67,131,77,125,25,35'], { encoding: 'utf8' });
  assert.equal(write.status, 0, write.stderr);
  const quiet = { stdout() {}, stderr() {} };
  assert.equal(await runCli(['import-dicom', join(root, 'dicom'), '--out', join(root, 'nifti')], quiet), 0);
  const imagePath = join(root, 'nifti', 'ct_s1_test_series.nii.gz');
  const image = await readNifti(imagePath);
  const [nx, ny] = image.dims;
  const at = (i: number, j: number, k: number): number => i + nx * (j + ny * k);

  // A SEG of label 4 (a block over slices 1–7; its segment 1), written from a mask that is then emptied.
  const segLabels = new Uint8Array(image.data.length);
  for (let k = 1; k < 8; k++) for (let j = 5; j < 25; j++) for (let i = 10; i < 30; i++) segLabels[at(i, j, k)] = 4;
  const maskPath = join(root, 'nifti', 'ct_s1_test_series_seg.nii.gz');
  await writeMaskLike(image, segLabels, maskPath);
  assert.equal(await runCli(['export-seg', imagePath, '--out', join(root, 'seg.dcm')], quiet), 0);
  await writeMaskLike(image, new Uint8Array(segLabels.length), maskPath);

  const { provider, edits } = setup.makeProvider();
  const doc = await setup.open(provider, imagePath);
  // The user's own work first: label 3 (locked) on voxels the SEG also covers.
  const own = [at(12, 6, 2), at(13, 6, 2), at(40, 40, 4)];
  const painted = doc.labels.slice();
  for (const v of own) painted[v] = 3;
  doc.makeEdit('Brush', encodeDelta(doc.labels, painted));
  doc.setLabelTable('Lock', [
    { value: 1, name: 'Old name', color: [1, 2, 3], visible: true, locked: false },
    { value: 3, name: 'Mine', color: [0, 0, 255], visible: true, locked: true },
  ]);
  const before = { labels: doc.labels.slice(), table: structuredClone(doc.session!.model.labelTable) };
  const editsBefore = edits.length;

  const { importDicomSegIntoMask } = await import('../../src/editor/dicomSegCommand');
  assert.equal(await importDicomSegIntoMask(fakeLog as never, doc as never, Uri.file(join(root, 'seg.dcm')) as never), true);
  await settle();
  assert.equal(edits.length, editsBefore + 1, 'the import is one edit');
  assert.equal(edits.at(-1)!.label, 'Import DICOM SEG');
  const imported = (): void => {
    for (let v = 0; v < segLabels.length; v++) {
      const want = own.includes(v) ? 3 : segLabels[v] ? 1 : 0;
      assert.equal(doc.labels[v], want, `voxel ${v}`);
    }
    assert.deepEqual(doc.session!.model.labelTable.map((e) => [e.value, e.name, e.locked]), [[1, 'Label 4', false], [3, 'Mine', true]]);
  };
  imported();
  assert.match(shownMessages.at(-1)?.text ?? '', /1 label\(s\) of seg\.dcm imported into ct_s1_test_series\.nii\.gz \(2 voxel\(s\) of locked labels kept\); Undo takes them back\./);

  edits.at(-1)!.undo();
  assert.deepEqual(doc.labels, before.labels, 'one Undo takes back the voxels');
  assert.deepEqual(doc.session!.model.labelTable, before.table, 'and the label table');
  edits.at(-1)!.redo();
  imported();
});
