// DICOM SEG in the editor. Export Mask as DICOM SEG…: the open image's saved mask as a DICOM
// Segmentation referencing the series the image was imported from (src/dataset/dicomSeg.ts);
// unsaved edits are saved first, so the SEG is what is on disk. Import DICOM SEG into Mask…: a
// SEG's segments (or an RT Structure Set's structures) painted into the open labels as one
// undoable edit, locked labels kept (src/dataset/dicomLabels.ts).
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { exportDicomSeg } from '../dataset/dicomSeg';
import { labelsFromDicomFile } from '../dataset/dicomLabels';
import { imageStem } from '../labels/maskPath';
import { readFileBytes } from '../nifti/fileBytes';
import { LabelDeltaRecorder } from '../protocol/labelDelta';
import { errorText } from '../util/errorText';
import type { LabelDocument } from './labelDocument';

type OpenDocument = LabelDocument & { session: NonNullable<LabelDocument['session']> };

/** Exports `doc`'s mask to `target` (asked for when not given); returns the file written, or undefined. */
export async function exportMaskAsDicomSeg(log: vscode.LogOutputChannel, doc: OpenDocument, target?: vscode.Uri): Promise<string | undefined> {
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

/** Paints the segments of a SEG or RT Structure Set (`source`, asked for when not given) into `doc`'s labels; returns whether it did. */
export async function importDicomSegIntoMask(log: vscode.LogOutputChannel, doc: OpenDocument, source?: vscode.Uri): Promise<boolean> {
  let from = source;
  if (!from) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Import', filters: { 'DICOM SEG or RT Structure Set': ['dcm'], 'All files': ['*'] } });
    from = picked?.[0];
  }
  if (!from) return false;
  try {
    const seg = labelsFromDicomFile(await readFileBytes(from.fsPath), basename(from.fsPath), doc.session.image);
    const labels = doc.labels;
    const tooLarge = seg.table.find((e) => e.value > (labels instanceof Uint16Array ? 65535 : 255));
    if (tooLarge) throw new Error(`${basename(from.fsPath)}: segment ${tooLarge.value} does not fit this mask's 8-bit labels; import it with lesion-lab import-seg instead`);
    // The SEG's segments name their labels; the other labels of the table stay.
    const current = doc.session.model.labelTable;
    const locked = new Set(current.filter((e) => e.locked).map((e) => e.value));
    const table = [...current.filter((e) => !seg.table.some((t) => t.value === e.value)), ...seg.table.map((t) => ({ ...t, locked: locked.has(t.value) }))].sort((a, b) => a.value - b.value);
    const recorder = new LabelDeltaRecorder(labels.slice());
    let keptLocked = 0;
    for (let i = 0; i < labels.length; i++) {
      const v = seg.labels[i];
      if (v === 0 || labels[i] === v) continue;
      if (locked.has(labels[i])) keptLocked++;
      else recorder.set(i, v);
    }
    doc.importLabels('Import DICOM SEG', recorder.finish(), table);
    const notes = [keptLocked > 0 ? `${keptLocked} voxel(s) of locked labels kept` : '', seg.overlapping > 0 ? `${seg.overlapping} voxel(s) lay in several of them` : ''].filter((n) => n);
    log.info(`${doc.fileName}: DICOM SEG ${from.fsPath} imported: ${seg.table.map((e) => `${e.value} "${e.name}" (${seg.voxels.get(e.value) ?? 0} voxels)`).join(', ')}${notes.length ? `; ${notes.join('; ')}` : ''}`);
    void vscode.window.showInformationMessage(`Lesion Lab: ${seg.table.length} label(s) of ${basename(from.fsPath)} imported into ${doc.fileName}${notes.length ? ` (${notes.join('; ')})` : ''}; Undo takes them back.`);
    return true;
  } catch (err) {
    void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
    return false;
  }
}
