// Overlay Another Image: another image of the same patient (a PET over its CT, a T2 or a contrast
// series over a T1) resampled onto the open image's grid by the two affines and shown over it in a
// colormap (the webview's "fused image"); Register aligns one that the affines leave off (another
// session) rigidly. Nothing is written next to the images; Remove Overlay Image takes it away.
// Segment Lesion asks a fused image of another modality for a second opinion (src/ml/companion.ts).
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import * as vscode from 'vscode';
import { float32Buffer, fusionRange } from '../labels/proposal';
import { readNifti } from '../nifti';
import { resampleOntoGrid } from '../volume/resampleWorld';
import { registerRigid } from '../volume/rigidRegistration';
import { errorText } from '../util/errorText';
import type { LabelDocument } from './labelDocument';
import type { LesionLabEditorProvider } from './provider';

type OpenDocument = LabelDocument & { session: NonNullable<LabelDocument['session']> };

/** An image fused over a document: its file and, once registered, the affine that places it. */
export interface FusedImage {
  path: string;
  /** Voxel → world (4×4 row-major) found by Register; absent: the file's own affine. */
  registeredAffine?: number[];
}

/** The image fused over each document (Segment Lesion asks it for a second opinion). */
const fusedImages = new WeakMap<LabelDocument, FusedImage>();

/**
 * workspaceState key: image file → the image fused over it, so that reopening the image brings its
 * fused image back, registration included (as an ITK-SNAP workspace or a Slicer scene keeps their layers).
 */
const REMEMBERED_KEY = 'lesionLab.fusedImages';

function asFusedImage(value: unknown): FusedImage | undefined {
  if (typeof value === 'string') return { path: value };
  if (!value || typeof value !== 'object') return undefined;
  const { path, registeredAffine } = value as { path?: unknown; registeredAffine?: unknown };
  if (typeof path !== 'string') return undefined;
  const affine = Array.isArray(registeredAffine) && registeredAffine.length === 16 && registeredAffine.every(Number.isFinite) ? (registeredAffine as number[]) : undefined;
  return affine ? { path, registeredAffine: affine } : { path };
}

function remembered(memento: vscode.Memento): Record<string, FusedImage> {
  const value = memento.get<unknown>(REMEMBERED_KEY);
  if (!value || typeof value !== 'object') return {};
  const out: Record<string, FusedImage> = {};
  for (const [image, entry] of Object.entries(value)) {
    const f = asFusedImage(entry);
    if (f) out[image] = f;
  }
  return out;
}

async function remember(memento: vscode.Memento | undefined, imagePath: string, fused: FusedImage | undefined): Promise<void> {
  if (!memento) return;
  const all = remembered(memento);
  if (fused === undefined) delete all[imagePath];
  else all[imagePath] = fused;
  await memento.update(REMEMBERED_KEY, all);
}

/** The image fused over `doc`, if any. */
export function fusedImageOf(doc: LabelDocument): FusedImage | undefined {
  return fusedImages.get(doc);
}

/** Removes the image fused over `doc` from its views (and from what reopening it restores). */
export async function removeOverlayImage(provider: LesionLabEditorProvider, doc: LabelDocument, memento?: vscode.Memento): Promise<void> {
  fusedImages.delete(doc);
  provider.clearOverlay(doc, 'fusion');
  if (doc.session) await remember(memento, doc.session.image.filePath, undefined);
}

/**
 * Brings back the image that was fused over `doc`'s image when it was last open, if that file is
 * still there and still fits; otherwise forgets it, saying why in the log.
 */
export async function restoreOverlayImage(log: vscode.LogOutputChannel, provider: LesionLabEditorProvider, doc: OpenDocument, memento: vscode.Memento): Promise<boolean> {
  const imagePath = doc.session.image.filePath;
  const last = remembered(memento)[imagePath];
  if (last === undefined || fusedImages.has(doc)) return false;
  if (!existsSync(last.path)) {
    log.info(`${doc.fileName}: the image fused over it last time (${last.path}) is gone; not restored`);
    await remember(memento, imagePath, undefined);
    return false;
  }
  return overlayAnotherImage(log, provider, doc, vscode.Uri.file(last.path), { memento, restoring: true, registeredAffine: last.registeredAffine });
}

/**
 * Register: aligns the fused image to `doc`'s image rigidly (src/volume/rigidRegistration.ts),
 * starting from where it is now, and shows it there.
 */
export async function registerOverlayImage(log: vscode.LogOutputChannel, provider: LesionLabEditorProvider, doc: OpenDocument, memento?: vscode.Memento): Promise<boolean> {
  const current = fusedImages.get(doc);
  if (!current) {
    void vscode.window.showErrorMessage(`Lesion Lab: no image is fused over ${doc.fileName}; Overlay… one first, then Register aligns it.`);
    return false;
  }
  return overlayAnotherImage(log, provider, doc, vscode.Uri.file(current.path), { memento, register: true, registeredAffine: current.registeredAffine });
}

export interface OverlayImageOptions {
  /** Where the fused image is remembered for the next open. */
  memento?: vscode.Memento;
  /** Restoring at open: no notification; a failure forgets it. */
  restoring?: boolean;
  /** Place the image with this affine instead of its own (a registration found before). */
  registeredAffine?: number[];
  /** Register it rigidly to the image first, starting from that placement. */
  register?: boolean;
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
  const REGISTER = 'Register rigidly';
  try {
    if (resolve(from.fsPath) === resolve(image.filePath)) throw new Error(`${name} is the image itself; pick another image of the same patient`);
    const other = await readNifti(from.fsPath);
    let affine: ArrayLike<number> = options.registeredAffine ?? other.affine;
    let registered = '';
    if (options.register) {
      const start = affine;
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Lesion Lab: registering ${name} to ${doc.fileName}…` }, async () => {
        // A moment for the notification to show: the registration then holds the thread (1–3 s).
        await new Promise((r) => setTimeout(r, 50));
        return registerRigid({ data: image.data, dims: image.dims, affine: image.affine }, { data: other.data, dims: other.dims, affine: start });
      });
      affine = result.correctedAffine;
      const fmt = (v: number[], digits: number): string => v.map((x) => x.toFixed(digits)).join(', ');
      registered = `registered rigidly: rotation (${fmt(result.rotationDeg, 1)})°, translation (${fmt(result.translationMm, 1)}) mm; normalised mutual information ${result.nmiBefore.toFixed(3)} → ${result.nmiAfter.toFixed(3)}`;
      log.info(`${doc.fileName}: ${name} ${registered} (${result.evaluations} evaluations)`);
    }
    const { values, coverage } = resampleOntoGrid(other.data, { dims: other.dims, affine }, { dims: image.dims, affine: image.affine });
    if (coverage === 0) {
      const why = `${name} does not overlap ${doc.fileName} in scanner coordinates: their affines place them apart, so they are not in one scanner space (a PET and its CT, or the series of one MR session, are; images of two sessions need registering)`;
      if (options.restoring || options.register) throw new Error(why);
      const pick = await vscode.window.showErrorMessage(`Lesion Lab: ${why}. ${REGISTER} aligns it to the image (same patient only).`, REGISTER);
      return pick === REGISTER ? overlayAnotherImage(log, provider, doc, from, { ...options, register: true }) : false;
    }
    const range = fusionRange(values);
    provider.showOverlay(doc, { type: 'overlay', kind: 'fusion', voxels: float32Buffer(values), range, proposal: null, name });
    const fused: FusedImage = affine === other.affine ? { path: from.fsPath } : { path: from.fsPath, registeredAffine: Array.from(affine) };
    fusedImages.set(doc, fused);
    await remember(options.memento, image.filePath, fused);
    const covers = coverage < 0.999 ? `; it covers ${(100 * coverage).toFixed(0)} % of the image` : '';
    const frames = other.frameCount > 1 ? `; frame 1 of its ${other.frameCount}` : '';
    const placed = fused.registeredAffine ? (registered ? `; ${registered}` : '; placed where Register put it') : '';
    const how = options.restoring ? 'shown over it again (it was when the image was last open)' : 'shown over it';
    log.info(`${doc.fileName}: ${from.fsPath} ${how} (${other.dims.join('×')} voxels of ${other.spacingMm.map((s) => s.toFixed(2)).join(' × ')} mm resampled onto ${image.dims.join('×')}${covers}${frames}${placed}; colours from ${range[0].toPrecision(4)} to ${range[1].toPrecision(4)})`);
    if (options.restoring) {
      provider.postToWebviews(doc, { type: 'status', text: `${name} is shown over this image again (as when it was last open); Remove in the Fused image controls takes it away.`, level: 'info' });
    } else if (registered) {
      void vscode.window.showInformationMessage(`Lesion Lab: ${name} ${registered}. Check it in the views; Overlay… the file again to undo.`);
    } else {
      void vscode.window.showInformationMessage(`Lesion Lab: ${name} shown over ${doc.fileName}${covers}${frames}. Its colours, opacity and lowest value shown are in the Fused image controls (Register aligns it if it is off); Segment Lesion also asks its starter when it is another modality.`);
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
