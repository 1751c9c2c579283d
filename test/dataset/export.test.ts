// The pure helpers of the dataset export: folder names, case ids, the consecutive label table.
// The export itself (through the built dist/cli.js, on real cases) is tested in
// test/cli/export.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseIds, datasetFolderName, exportLabelTable, ExportError } from '../../src/dataset/export';

test('pure helpers: folder names, case ids, consecutive label table', () => {
  assert.equal(datasetFolderName('nnunet', 7, 'Lesions'), 'Dataset007_Lesions');
  assert.equal(datasetFolderName('msd', 501, 'Brain'), 'Task501_Brain');
  assert.deepEqual(
    caseIds([
      { relativePath: 'site a/c1.nii.gz', imagePath: '/w/site a/c1.nii.gz' },
      { relativePath: 'c2.nii', imagePath: '/w/c2.nii' },
    ]),
    ['site_a_c1', 'c2'],
  );
  assert.throws(
    () => caseIds([{ relativePath: 'a/b.nii.gz', imagePath: '/w/a/b.nii.gz' }, { relativePath: 'a_b.nii.gz', imagePath: '/w/a_b.nii.gz' }]),
    (e: unknown) => e instanceof ExportError && /\/w\/a_b\.nii\.gz and \/w\/a\/b\.nii\.gz would both be exported as case "a_b"/.test((e as Error).message),
  );
  const { labels, map } = exportLabelTable(new Map<number, string | null>([[0, null], [3, 'Oedema'], [1, 'Lesion'], [7, 'Lesion']]));
  assert.deepEqual(labels, { background: 0, Lesion: 1, Oedema: 2, Lesion_7: 3 });
  assert.deepEqual([...map], [[0, 0], [1, 1], [3, 2], [7, 3]]);
});
