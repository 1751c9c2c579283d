// Export Mask as DICOM SEG…: the open image's saved mask as a DICOM Segmentation referencing the
// series the image was imported from (src/dataset/dicomSeg.ts). Unsaved edits are saved first, so
// the SEG is what is on disk.
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { exportDicomSeg } from '../dataset/dicomSeg';
import { imageStem } from '../labels/maskPath';
import { errorText } from '../util/errorText';
import type { LabelDocument } from './labelDocument';

/** Exports `doc`'s mask to `target` (asked for when not given); returns the file written, or undefined. */
export async function exportMaskAsDicomSeg(log: vscode.LogOutputChannel, doc: LabelDocument & { session: NonNullable<LabelDocument['session']> }, target?: vscode.Uri): Promise<string | undefined> {
  const imagePath = doc.uri.fsPath;
  if (doc.session.model.isDirty || doc.session.mask.status === 'new') {
    const saved = await vscode.workspace.save(doc.uri);
    if (!saved) {
      void vscode.window.showWarningMessage(`Lesion Lab: ${basename(imagePath)} was not saved, so no DICOM SEG was written.`);
      return undefined;
    }
  }
  let destination = target;
  if (!destination) {
    destination = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(join(dirname(doc.session.maskPath), `${imageStem(imagePath)}_seg.dcm`)),
      filters: { 'DICOM Segmentation': ['dcm'] },
      saveLabel: 'Export DICOM SEG',
    });
  }
  if (!destination) return undefined;
  try {
    const result = await exportDicomSeg(imagePath, doc.session.maskPath, destination.fsPath);
    log.info(`${basename(imagePath)}: DICOM SEG ${result.outPath} (${result.segments.map((s) => `"${s.name}" on ${s.frames} slice(s)`).join(', ')}; series ${result.seriesInstanceUid})`);
    void vscode.window.showInformationMessage(`Lesion Lab: DICOM SEG of ${result.segments.length} segment(s) written to ${basename(result.outPath)}.`);
    return result.outPath;
  } catch (err) {
    void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
    return undefined;
  }
}
