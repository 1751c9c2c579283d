// Overlay Another Image: another image of the same patient (a PET over its CT, a T2 or a contrast
// series over a T1) resampled onto the open image's grid by the two affines and shown over it in a
// colormap (the webview's "fused image"). Nothing is written; Remove Overlay Image takes it away.
// Segment Lesion asks a fused image of another modality for a second opinion (src/ml/companion.ts).
import { basename, dirname, resolve } from 'node:path';
import * as vscode from 'vscode';
import { float32Buffer, fusionRange } from '../labels/proposal';
import { readNifti } from '../nifti';
import { resampleOntoGrid } from '../volume/resampleWorld';
import { errorText } from '../util/errorText';
import type { LabelDocument } from './labelDocument';
import type { LesionLabEditorProvider } from './provider';

type OpenDocument = LabelDocument & { session: NonNullable<LabelDocument['session']> };

/** The file of the image fused over each document (Segment Lesion asks it for a second opinion). */
const fusedPaths = new WeakMap<LabelDocument, string>();

/** The file of the image fused over `doc`, if any. */
export function fusedImagePath(doc: LabelDocument): string | undefined {
  return fusedPaths.get(doc);
}

/** Removes the image fused over `doc` from its views. */
export function removeOverlayImage(provider: LesionLabEditorProvider, doc: LabelDocument): void {
  fusedPaths.delete(doc);
  provider.clearOverlay(doc, 'fusion');
}

/** Shows `source` (asked for when not given) over `doc`'s image; returns whether it did. */
export async function overlayAnotherImage(log: vscode.LogOutputChannel, provider: LesionLabEditorProvider, doc: OpenDocument, source?: vscode.Uri): Promise<boolean> {
  let from = source;
  if (!from) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Overlay',
      title: `Image to show over ${doc.fileName}`,
      // The patient's other images are usually beside the open one.
      defaultUri: vscode.Uri.file(dirname(doc.session.image.filePath)),
      filters: { 'Images (NIfTI, NRRD, MetaImage, MGH, DICOM)': ['nii', 'gz', 'hdr', 'nrrd', 'nhdr', 'mha', 'mhd', 'mgh', 'mgz', 'dcm'], 'All files': ['*'] },
    });
    from = picked?.[0];
  }
  if (!from) return false;
  const image = doc.session.image;
  const name = basename(from.fsPath);
  try {
    if (resolve(from.fsPath) === resolve(image.filePath)) throw new Error(`${name} is the image itself; pick another image of the same patient`);
    const other = await readNifti(from.fsPath);
    const { values, coverage } = resampleOntoGrid(other.data, { dims: other.dims, affine: other.affine }, { dims: image.dims, affine: image.affine });
    if (coverage === 0) {
      throw new Error(`${name} does not overlap ${doc.fileName} in scanner coordinates: their affines place them apart, so they are not in one scanner space (a PET and its CT, or the series of one MR session, are; images of two sessions need registering first)`);
    }
    const range = fusionRange(values);
    provider.showOverlay(doc, { type: 'overlay', kind: 'fusion', voxels: float32Buffer(values), range, proposal: null, name });
    fusedPaths.set(doc, from.fsPath);
    const covers = coverage < 0.999 ? `; it covers ${(100 * coverage).toFixed(0)} % of the image` : '';
    const frames = other.frameCount > 1 ? `; frame 1 of its ${other.frameCount}` : '';
    log.info(`${doc.fileName}: ${from.fsPath} shown over it (${other.dims.join('×')} voxels of ${other.spacingMm.map((s) => s.toFixed(2)).join(' × ')} mm resampled onto ${image.dims.join('×')}${covers}${frames}; colours from ${range[0].toPrecision(4)} to ${range[1].toPrecision(4)})`);
    void vscode.window.showInformationMessage(`Lesion Lab: ${name} shown over ${doc.fileName}${covers}${frames}. Its colours, opacity and lowest value shown are in the Fused image controls; Segment Lesion also asks its starter when it is another modality.`);
    return true;
  } catch (err) {
    void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
    return false;
  }
}
