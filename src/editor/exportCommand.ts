// Export Cases for Training: asks for the layout (nnU-Net v2 or MSD), which cases and the
// folder, then writes the dataset (src/dataset/export.ts) in a cancellable notification.

import * as vscode from 'vscode';
import { exportDataset, type ExportResult } from '../dataset/export';
import type { ModelCommandHost } from './modelRuntime';
import { errorText } from '../util/errorText';

/** Export for Training: the workspace's labelled cases in the nnU-Net v2 or MSD layout. */
export async function exportCasesForTraining(roots: string[], host: ModelCommandHost): Promise<ExportResult | undefined> {
  if (roots.length === 0) {
    void vscode.window.showErrorMessage('Lesion Lab: open a folder with images and saved masks first, then export it.');
    return undefined;
  }
  const format = await vscode.window.showQuickPick(
    [
      { label: 'nnU-Net v2', description: 'Dataset501_Lesions/imagesTr/<case>_0000.nii.gz, labelsTr, dataset.json', format: 'nnunet' as const },
      { label: 'Medical Segmentation Decathlon', description: 'Task501_Lesions/imagesTr/<case>.nii.gz, labelsTr, dataset.json', format: 'msd' as const },
    ],
    { title: 'Lesion Lab: export the labelled cases for training' },
  );
  if (!format) return undefined;
  const which = await vscode.window.showQuickPick(
    [
      { label: 'Reviewed cases only', reviewedOnly: true },
      { label: 'Every case with a saved mask', reviewedOnly: false },
    ],
    { title: 'Lesion Lab: which cases' },
  );
  if (!which) return undefined;
  const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Export here' });
  const outDir = picked?.[0]?.fsPath;
  if (!outDir) return undefined;
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Lesion Lab: Export for Training', cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const listener = token.onCancellationRequested(() => abort.abort());
        try {
          return await exportDataset(roots, {
            format: format.format,
            outDir,
            reviewedOnly: which.reviewedOnly,
            maskPattern: host.provider.currentSettings.maskPattern,
            signal: abort.signal,
            onProgress: (done, total, caseId) => progress.report({ message: `${done} / ${total}: ${caseId}`, increment: 100 / total }),
          });
        } finally {
          listener.dispose();
        }
      },
    );
    const text = `exported ${result.cases.length} case(s) to ${result.datasetDir}; every label file is on its image's grid`;
    host.log.info(`export: ${text}`);
    void vscode.window.showInformationMessage(`Lesion Lab: ${text}.`);
    return result;
  } catch (err) {
    host.log.error(`export: ${errorText(err)}`);
    void vscode.window.showErrorMessage(`Lesion Lab: export failed: ${errorText(err)}`);
    return undefined;
  }
}
