// Overlay Another Image: another image of the same patient (a PET over its CT, a T2 or a contrast
// series over a T1) resampled onto the open image's grid by the two affines and shown over it in a
// colormap (the webview's "fused image"). Nothing is written; Remove Overlay Image takes it away.
// Segment Lesion asks a fused image of another modality for a second opinion (src/ml/companion.ts).
import { existsSync } from 'node:fs';
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

/**
 * workspaceState key: image file → the file fused over it, so that reopening the image brings its
 * fused image back (as an ITK-SNAP workspace or a Slicer scene keeps their layers).
 */
const REMEMBERED_KEY = 'lesionLab.fusedImages';

function remembered(memento: vscode.Memento): Record<string, string> {
  const value = memento.get<unknown>(REMEMBERED_KEY);
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

async function remember(memento: vscode.Memento | undefined, imagePath: string, fusedPath: string | undefined): Promise<void> {
  if (!memento) return;
  const all = remembered(memento);
  if (fusedPath === undefined) delete all[imagePath];
  else all[imagePath] = fusedPath;
  await memento.update(REMEMBERED_KEY, all);
}

/** The file of the image fused over `doc`, if any. */
export function fusedImagePath(doc: LabelDocument): string | undefined {
  return fusedPaths.get(doc);
}

/** Removes the image fused over `doc` from its views (and from what reopening it restores). */
export async function removeOverlayImage(provider: LesionLabEditorProvider, doc: LabelDocument, memento?: vscode.Memento): Promise<void> {
  fusedPaths.delete(doc);
  provider.clearOverlay(doc, 'fusion');
  if (doc.session) await remember(memento, doc.session.image.filePath, undefined);
}

/**
 * Brings back the image that was fused over `doc`'s image when it was last open, if that file is
 * still there and still fits; otherwise forgets it, saying why in the log and the status line.
 */
export async function restoreOverlayImage(log: vscode.LogOutputChannel, provider: LesionLabEditorProvider, doc: OpenDocument, memento: vscode.Memento): Promise<boolean> {
  const imagePath = doc.session.image.filePath;
  const fusedPath = remembered(memento)[imagePath];
  if (fusedPath === undefined || fusedPaths.has(doc)) return false;
  if (!existsSync(fusedPath)) {
    log.info(`${doc.fileName}: the image fused over it last time (${fusedPath}) is gone; not restored`);
    await remember(memento, imagePath, undefined);
    return false;
  }
  return overlayAnotherImage(log, provider, doc, vscode.Uri.file(fusedPath), { memento, restoring: true });
}

/** Where a fused image is remembered, and whether it is being restored (no notification then). */
export interface OverlayImageOptions {
  memento?: vscode.Memento;
  restoring?: boolean;
}

/** Shows `source` (asked for when not given) over `doc`'s image; returns whether it did. */
export async function overlayAnotherImage(log: vscode.LogOutputChannel, provider: LesionLabEditorProvider, doc: OpenDocument, source?: vscode.Uri, options: OverlayImageOptions = {}): Promise<boolean> {
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
    await remember(options.memento, image.filePath, from.fsPath);
    const how = options.restoring ? 'shown over it again (it was when the image was last open)' : 'shown over it';
    log.info(`${doc.fileName}: ${from.fsPath} ${how} (${other.dims.join('×')} voxels of ${other.spacingMm.map((s) => s.toFixed(2)).join(' × ')} mm resampled onto ${image.dims.join('×')}${covers}${frames}; colours from ${range[0].toPrecision(4)} to ${range[1].toPrecision(4)})`);
    if (options.restoring) {
      provider.postToWebviews(doc, { type: 'status', text: `${name} is shown over this image again (as when it was last open); Remove in the Fused image controls takes it away.`, level: 'info' });
    } else {
      void vscode.window.showInformationMessage(`Lesion Lab: ${name} shown over ${doc.fileName}${covers}${frames}. Its colours, opacity and lowest value shown are in the Fused image controls; Segment Lesion also asks its starter when it is another modality.`);
    }
    return true;
  } catch (err) {
    if (options.restoring) {
      // Changed since: forgotten, with the reason, without an error notification at open.
      log.warn(`${doc.fileName}: the image fused over it last time is not restored: ${errorText(err)}`);
      await remember(options.memento, image.filePath, undefined);
    } else {
      void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
    }
    return false;
  }
}
