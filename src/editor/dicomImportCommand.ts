// Import DICOM Folder: every image series under a folder written as NIfTI (src/dataset/
// dicomImport.ts) into a folder the user picks (by default a sibling "<folder>-nifti"), so the
// series become cases of the Cases view; then the first one opens in Lesion Lab.

import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { importDicom, type DicomImport } from '../dataset/dicomImport';
import { errorText } from '../util/errorText';

/**
 * Runs the import. `folder` and `outDir` come from the explorer's context menu and the folder
 * dialog, or from the caller (tests); nothing is asked for what is given.
 */
export async function importDicomFolder(log: vscode.LogOutputChannel, folder?: vscode.Uri, outDir?: vscode.Uri, openFirst = true): Promise<DicomImport | undefined> {
  let source = folder;
  if (!source) {
    const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Import DICOM from here' });
    source = picked?.[0];
  }
  if (!source) return undefined;
  let target = outDir;
  if (!target) {
    const suggested = vscode.Uri.file(join(dirname(source.fsPath), `${basename(source.fsPath)}-nifti`));
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      defaultUri: suggested,
      openLabel: 'Write NIfTI files here',
      title: `Lesion Lab: where to write the NIfTI files of ${basename(source.fsPath)} (e.g. ${basename(suggested.fsPath)})`,
    });
    target = picked?.[0];
  }
  if (!target) return undefined;
  const from = source.fsPath;
  const to = target.fsPath;
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Lesion Lab: Import DICOM' }, (progress) =>
      importDicom(from, to, { onSeries: (done, seriesFolder) => progress.report({ message: `${done} series (${basename(seriesFolder)})` }) }),
    );
    for (const s of result.imported) log.info(`import DICOM: ${s.folder} series ${s.series.number} "${s.series.description}" → ${s.niftiPath} (${s.dims.join('×')}${s.volumes ? ` × ${s.volumes.labels.length} volumes by ${s.volumes.by}` : ''})${s.pet ? `; PET ${s.pet.note}` : ''}${s.lossy ? `; lossy: ${s.lossy}` : ''}`);
    for (const s of result.skippedSeries) log.warn(`import DICOM: series ${s.series.number} "${s.series.description}" in ${s.folder} skipped: ${s.why}`);
    for (const f of result.unreadableFiles) log.warn(`import DICOM: ${f.file} could not be read: ${f.why}`);
    const problems = result.skippedSeries.length + result.unreadableFiles.length;
    const text = `imported ${result.imported.length} series from ${basename(from)} into ${basename(to)}${problems > 0 ? `; ${result.skippedSeries.length} series skipped and ${result.unreadableFiles.length} file(s) unreadable (see the Lesion Lab log)` : ''}`;
    if (result.imported.length === 0) {
      void vscode.window.showErrorMessage(`Lesion Lab: ${basename(from)} holds no DICOM series that could be imported${problems > 0 ? ' (see the Lesion Lab log for why)' : ''}.`);
      return result;
    }
    const first = result.imported[0].niftiPath;
    if (openFirst) {
      void vscode.window.showInformationMessage(`Lesion Lab: ${text}.`, 'Open').then((choice) => {
        if (choice === 'Open') void vscode.commands.executeCommand('lesionLab.openWith', vscode.Uri.file(first));
      });
    }
    return result;
  } catch (err) {
    log.error(`import DICOM: ${errorText(err)}`);
    void vscode.window.showErrorMessage(`Lesion Lab: import failed: ${errorText(err)}`);
    return undefined;
  }
}
