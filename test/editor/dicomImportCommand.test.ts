// Import DICOM Folder (src/editor/dicomImportCommand.ts) with the fake vscode: the command is
// contributed for folders in the explorer, writes the series as NIfTI into the folder given,
// says what it did and offers to open the first one; a folder without importable series gets an
// error that says so, and the reasons go to the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeLog, fakeVscode, installFakeVscode, installModelCommandFakes, shownMessages, Uri } from './fakeVscode';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { writeUndecodableDicom } from '../helpers/undecodableDicom';
import { NIBABEL_PYTHON } from '../nifti/nibabelReference';

installFakeVscode();
installModelCommandFakes(() => undefined);
Object.assign(fakeVscode.window, {
  withProgress: async (_opts: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) => task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) }),
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { importDicomFolder } = require('../../src/editor/dicomImportCommand') as typeof import('../../src/editor/dicomImportCommand');

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;

test('package.json contributes Import DICOM Folder for folders in the explorer, with its activation event', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
  assert.ok(pkg.contributes.commands.some((c: { command: string }) => c.command === 'lesionLab.importDicom'));
  assert.ok(pkg.contributes.menus['explorer/context'].some((m: { command: string; when: string }) => m.command === 'lesionLab.importDicom' && m.when === 'explorerResourceIsFolder'));
  assert.ok(pkg.activationEvents.includes('onCommand:lesionLab.importDicom'));
});

test('Import DICOM Folder writes the series as NIfTI, says so, and says when there was nothing to import', { skip: skipWithoutSharedData(...CT) }, async () => {
  const root = join(tempDir('ll-dicom-cmd-'), 'exam');
  const run = spawnSync(NIBABEL_PYTHON, [join(__dirname, '..', 'helpers', 'write_dicom_series.py'), sharedDataPath(...CT), root, '--crop', '60,100,60,100,20,26', '--series-description', 'CT chest'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const out = join(tempDir('ll-dicom-cmd-out-'), 'exam-nifti');
  shownMessages.length = 0;
  const result = await importDicomFolder(fakeLog as never, Uri.file(root) as never, Uri.file(out) as never);
  assert.equal(result?.imported.length, 1);
  assert.deepEqual(readdirSync(out).sort(), ['exam_s1_CT_chest.dicom.json', 'exam_s1_CT_chest.nii.gz']);
  assert.match(shownMessages.at(-1)?.text ?? '', /^Lesion Lab: imported 1 series from exam into exam-nifti\.$/);
  assert.ok(fakeLog.lines.some((l) => /^info import DICOM: .*series 1 "CT chest" → .*exam_s1_CT_chest\.nii\.gz \(40×40×6\)$/.test(l)));

  const compressed = tempDir('ll-dicom-cmd-j2k-');
  writeUndecodableDicom(join(compressed, 'JPEG2000.dcm'));
  const none = await importDicomFolder(fakeLog as never, Uri.file(compressed) as never, Uri.file(join(tempDir('ll-dicom-cmd-j2k-out-'), 'out')) as never);
  assert.equal(none?.imported.length, 0);
  assert.deepEqual(shownMessages.at(-1), { level: 'error', text: `Lesion Lab: ${compressed.split('/').pop()} holds no DICOM series that could be imported (see the Lesion Lab log for why).` });
  assert.ok(fakeLog.lines.some((l) => /^warn import DICOM: .*JPEG2000\.dcm could not be read: its pixel data are JPEG 2000 Part 2 \(multi-component\) compressed/.test(l)));
});
