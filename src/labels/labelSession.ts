// One opened image with its authoritative labels: opening (mask found, missing, or on another
// grid), saving the mask and its sidecar from host state, revert, and hot-exit backups.
// No vscode imports: the VS Code document (src/editor/labelDocument.ts) is a thin wrapper, and this is
// unit-tested with node:test against real files.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, resolve } from 'node:path';
import { encodeMaskLike, readNifti, voxelVolumeMm3, type NiftiImage } from '../nifti';
import { writeFileAtomic } from '../util/atomicWrite';
import { nodeAtomicWriteFs, writeFilesAtomically, type AtomicWriteFs } from '../util/writeFilesAtomically';
import { labelBitsOf, type LabelArray } from '../protocol/labelDelta';
import { LabelModel } from './labelModel';
import { decodeBackup, encodeBackup } from './labelBackup';
import { isSameFile, maskLocationProblem, sha256OfFile, sidecarOverwriteProblem, stampOfFile, type FileStamp, type MaskLocationRule } from './maskFiles';
import { loadLabels, type MaskInfo, type MaskProblem, type MaskProblemChoice } from './maskLoading';
import { maskPathFor, sidecarPathFor } from './maskPath';
import { buildSidecar, sidecarToText, type MaskSidecar } from './sidecar';
import { completeSidecarForSave, type AcceptedProposal } from '../dataset/review';

/** Options of {@link LabelSession.open}. */
export interface OpenSessionOptions {
  /** The `lesionLab.maskPattern` setting. */
  maskPattern?: string;
  /**
   * Asked when the mask exists but cannot be applied as it is. Without it, the safe choice
   * ('readOnly') is taken.
   */
  onMaskProblem?: (problem: MaskProblem) => Promise<MaskProblemChoice>;
  /**
   * Where the mask may be saved. Without it (command line, tests) anywhere the pattern says.
   * With it, a mask outside the image's folder and every `allowedFolders` (compared as real
   * paths) opens read-only, unless the pattern is the user's own setting.
   */
  maskLocation?: MaskLocationRule;
}

/** Options of {@link LabelSession.save}. */
export interface SaveOptions {
  /** Write even though the mask file changed on disk since it was loaded or saved here. */
  overwriteChangedOnDisk?: boolean;
}

/** Thrown by Save when the mask file was changed by another program since it was read or saved. */
export class MaskChangedOnDiskError extends Error {
  constructor(
    message: string,
    readonly maskPath: string,
  ) {
    super(message);
    this.name = 'MaskChangedOnDiskError';
  }
}

/** What a save wrote. */
export interface SaveResult {
  maskPath: string;
  sidecarPath: string;
  sidecar: MaskSidecar;
}

/** Thrown when an operation is not allowed (read-only, saving over the image). */
export class LabelSessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSessionError';
  }
}

/** The image, its labels, and where they are saved. */
export class LabelSession {
  /** The sidecar could not be used (bad JSON…): shown to the user once, then ignored. */
  sidecarWarning: string | null = null;
  /** File operations of Save (replaced in tests to simulate a full disk). */
  fileOps: AtomicWriteFs = nodeAtomicWriteFs;
  /**
   * The mask file as last read or saved here (null: it did not exist; undefined: unknown, e.g.
   * restored from an old backup). Save compares it with the disk to notice outside changes.
   */
  maskStamp: FileStamp | null | undefined = undefined;
  private maskPatternText: string | undefined;
  /** Why the mask path was refused at open (then the document is read-only), else null. */
  private refusedMaskPath: string | null = null;
  private maskLocationRule: MaskLocationRule | undefined;
  private imageSha256: { key: string; hash: string } | null = null;
  /** The proposal last accepted into the labels (set by Accept), for the correction effort at save. */
  acceptedProposal: AcceptedProposal | null = null;

  private constructor(
    /** The image, frame 0 (or the frame last loaded). Never written. */
    public image: NiftiImage,
    readonly imagePath: string,
    /** Where Save writes the mask. */
    readonly maskPath: string,
    public mask: MaskInfo,
    readonly model: LabelModel,
    public readOnly: boolean,
    public readOnlyReason: string | null,
  ) {}

  /**
   * Opens an image and its mask (if any).
   * @throws NiftiReadError (one sentence naming the file) when the image cannot be read;
   *   MaskPathError for a bad mask pattern.
   */
  static async open(imagePath: string, options: OpenSessionOptions = {}): Promise<LabelSession> {
    const absImage = resolve(imagePath);
    const maskPath = maskPathFor(absImage, options.maskPattern);
    const image = await readNifti(absImage);
    // Stamped before reading: a change made while reading shows up as a change at Save.
    const maskStamp = await stampOfFile(maskPath);
    const refused = (await isSameFile(maskPath, absImage))
      ? `lesionLab.maskPattern "${options.maskPattern ?? ''}" names the source image ${basename(absImage)} itself (through a link or another spelling); the image must never be overwritten`
      : await maskLocationProblem(maskPath, absImage, options.maskPattern, options.maskLocation);
    const loaded = refused
      ? await loadLabels(image, maskPath, async () => 'readOnly', refused)
      : await loadLabels(image, maskPath, options.onMaskProblem);
    const model = new LabelModel(image.dims, loaded.labels, loaded.table, loaded.prior);
    const readOnly = refused !== null || loaded.readOnly;
    const reason = refused !== null ? `${refused}. Opened read-only; nothing is saved to that path.` : loaded.readOnlyReason;
    const session = new LabelSession(image, absImage, maskPath, loaded.mask, model, readOnly, reason);
    session.sidecarWarning = loaded.sidecarWarning;
    session.maskStamp = maskStamp;
    session.maskPatternText = options.maskPattern;
    session.maskLocationRule = options.maskLocation;
    session.refusedMaskPath = refused;
    return session;
  }

  /** The model's labels (live). */
  get labels(): LabelArray {
    return this.model.labels;
  }

  /** SHA-256 of the image file, cached while its size and mtime are unchanged. */
  async imageSha256Hex(): Promise<string> {
    const st = await fsp.stat(this.imagePath);
    const key = `${st.size}:${st.mtimeMs}`;
    if (this.imageSha256?.key !== key) this.imageSha256 = { key, hash: await sha256OfFile(this.imagePath) };
    return this.imageSha256.hash;
  }

  /** Builds the sidecar for the current state. */
  async sidecar(maskPath: string, reviewed: boolean, now = new Date()): Promise<MaskSidecar> {
    return buildSidecar({
      imageFile: basename(this.imagePath),
      imageSha256: await this.imageSha256Hex(),
      maskFile: basename(maskPath),
      dims: [...this.image.dims],
      bits: labelBitsOf(this.model.labels),
      voxelVolumeMm3: voxelVolumeMm3(this.image.affine),
      labelTable: this.model.labelTable,
      voxelCounts: this.model.labelVoxelCounts(),
      modelVersion: this.model.proposalModelVersion,
      handEditedVoxels: this.model.handEditedVoxels,
      reviewed,
      savedAt: now,
    });
  }

  /**
   * Writes the mask (on the image's exact grid, atomically) and its sidecar (`reviewed: true`)
   * from host state, to `targetMaskPath` (default: the document's mask path). Saving to the
   * document's own mask path marks the state clean.
   * Mask and sidecar are written as one atomic pair. Before writing the document's own mask
   * path, the file is compared with what was last read or saved here.
   * @throws LabelSessionError when read-only, when the target is the image itself (compared as
   *   real files), when the sidecar path holds a .json that is not a Lesion Lab sidecar, or when
   *   the mask path is no longer allowed; MaskChangedOnDiskError when the mask changed on disk
   *   (unless `options.overwriteChangedOnDisk`); AtomicWriteError (naming the file) when a write fails.
   */
  async save(targetMaskPath: string = this.maskPath, options: SaveOptions = {}): Promise<SaveResult> {
    if (this.readOnly) throw new LabelSessionError(`${basename(this.imagePath)} is open read-only: ${this.readOnlyReason ?? 'saving is disabled'}`);
    const target = resolve(targetMaskPath);
    if (target === this.imagePath || (await isSameFile(target, this.imagePath))) {
      throw new LabelSessionError(`${basename(target)}: refusing to save the mask over the source image; choose another name`);
    }
    if (!/\.nii\.gz$/i.test(target)) throw new LabelSessionError(`${basename(target)}: masks are saved as .nii.gz; choose a name ending in .nii.gz`);
    const ownMask = target === this.maskPath || (await isSameFile(target, this.maskPath));
    if (ownMask) {
      // A folder may have become a link to elsewhere since the document was opened.
      const where = await maskLocationProblem(target, this.imagePath, this.maskPatternText, this.maskLocationRule);
      if (where) throw new LabelSessionError(`${where}; nothing was saved`);
      if (!options.overwriteChangedOnDisk) {
        const change = await this.maskChangeOnDisk();
        if (change) throw new MaskChangedOnDiskError(change, target);
      }
    }
    const sidecarPath = sidecarPathFor(target);
    const sidecarProblem = await sidecarOverwriteProblem(sidecarPath);
    if (sidecarProblem) {
      throw new LabelSessionError(`${sidecarProblem}; refusing to replace it, so nothing was saved. Choose another mask name (Save As) or move ${basename(sidecarPath)} away`);
    }
    // Lesion count, the waiting proposal's record and the correction effort (src/dataset/review.ts).
    const sidecar = await completeSidecarForSave(await this.sidecar(target, true), {
      image: this.image,
      imagePath: this.imagePath,
      maskPath: this.maskPath,
      labels: this.model.labels,
      accepted: this.acceptedProposal,
    });
    const maskBytes = encodeMaskLike(this.image, this.model.labels, target);
    await writeFilesAtomically(
      [
        { path: target, bytes: maskBytes },
        { path: sidecarPath, bytes: sidecarToText(sidecar) },
      ],
      this.fileOps,
    );
    if (ownMask) {
      this.model.markSaved();
      this.mask = { path: this.maskPath, status: 'loaded', message: null };
      const st = await fsp.stat(target);
      this.maskStamp = { size: st.size, mtimeMs: st.mtimeMs, sha256: createHash('sha256').update(maskBytes).digest('hex') };
    }
    return { maskPath: target, sidecarPath, sidecar };
  }

  /**
   * How the mask file differs from what was last read or saved here, as one sentence naming the
   * file, or null when it is unchanged (same bytes; a new mtime alone is no change) or unknown.
   */
  async maskChangeOnDisk(): Promise<string | null> {
    const recorded = this.maskStamp;
    if (recorded === undefined) return null;
    const name = basename(this.maskPath);
    let st;
    try {
      st = await fsp.stat(this.maskPath);
    } catch {
      return recorded === null ? null : `${name} changed on disk: it was deleted since it was last opened or saved here`;
    }
    if (recorded === null) return `${name} changed on disk: another program created it after ${basename(this.imagePath)} was opened`;
    if (st.size === recorded.size && st.mtimeMs === recorded.mtimeMs) return null;
    const hash = await sha256OfFile(this.maskPath);
    if (hash === recorded.sha256) {
      this.maskStamp = { size: st.size, mtimeMs: st.mtimeMs, sha256: hash };
      return null;
    }
    return `${name} changed on disk since it was last opened or saved here (now ${st.size} bytes, modified ${new Date(st.mtimeMs).toISOString()})`;
  }

  /**
   * Re-reads the mask and sidecar from disk and discards the unsaved edits (Revert File). A
   * mask that is now unreadable or off-grid goes through `onMaskProblem` as on open.
   */
  async revert(onMaskProblem?: OpenSessionOptions['onMaskProblem']): Promise<{ historyCleared: boolean }> {
    if (this.refusedMaskPath !== null) {
      // The mask path itself was refused at open: it is neither read nor written.
      const loaded = await loadLabels(this.image, this.maskPath, undefined, this.refusedMaskPath);
      this.model.reset(loaded.labels, loaded.table, loaded.prior);
      return { historyCleared: true };
    }
    const unchanged = this.maskStamp !== undefined && (await this.maskChangeOnDisk()) === null;
    const stamp = await stampOfFile(this.maskPath);
    const loaded = await loadLabels(this.image, this.maskPath, onMaskProblem);
    // The saved mask is back unchanged: edits up to the save point stay undoable (as in VS
    // Code's stack). Anything else (changed on disk, gone, off-grid, unreadable) starts a fresh
    // history: the old edits do not fit the labels read now.
    const keep = loaded.mask.status === 'loaded' && unchanged;
    if (keep) this.model.revertToSaved(loaded.labels, loaded.table, loaded.prior);
    else this.model.reset(loaded.labels, loaded.table, loaded.prior);
    this.maskStamp = stamp;
    this.mask = loaded.mask;
    this.readOnly = loaded.readOnly;
    this.readOnlyReason = loaded.readOnlyReason;
    this.sidecarWarning = loaded.sidecarWarning;
    return { historyCleared: !keep };
  }

  /** Loads another frame of a 4-D image into `image` (labels are shared by all frames). */
  async loadFrame(frame: number): Promise<NiftiImage> {
    if (frame === this.image.frame) return this.image;
    this.image = await readNifti(this.imagePath, { frame });
    return this.image;
  }

  /** Serialises what hot exit must restore (see labelBackup.ts). */
  backupBytes(): Uint8Array {
    return encodeBackup(
      {
        imagePath: this.imagePath,
        maskPath: this.maskPath,
        mask: this.mask,
        readOnly: this.readOnly,
        readOnlyReason: this.readOnlyReason,
        labelTable: this.model.labelTable,
        prior: { modelVersion: this.model.proposalModelVersion, handEditedVoxels: this.model.handEditedVoxels },
        maskStamp: this.maskStamp,
      },
      this.model.labels,
    );
  }

  /** Writes {@link backupBytes} atomically to a file. */
  async writeBackup(backupPath: string): Promise<void> {
    await writeFileAtomic(backupPath, this.backupBytes());
  }

  /**
   * Reopens an image from a hot-exit backup: the image is read from disk, the labels and table
   * from the backup; the state is dirty (unsaved). The mask file is not read.
   * @throws Error naming the backup when it is corrupt or no longer fits the image.
   */
  static async restore(imagePath: string, backup: Uint8Array): Promise<LabelSession> {
    const absImage = resolve(imagePath);
    const { header, table, labels } = decodeBackup(backup, basename(absImage));
    const image = await readNifti(absImage);
    const voxels = image.dims[0] * image.dims[1] * image.dims[2];
    if (voxels !== header.voxelCount) {
      throw new Error(`the backup of ${basename(absImage)} has ${header.voxelCount} voxels but the image now has ${voxels}; the image changed on disk`);
    }
    const model = new LabelModel(image.dims, labels, table, header.prior);
    model.reset(labels, table, header.prior, true);
    const session = new LabelSession(image, absImage, header.maskPath, header.mask, model, header.readOnly, header.readOnlyReason);
    const st = header.maskStamp;
    const validStamp = st === null || (st !== undefined && typeof st === 'object' && typeof st.size === 'number' && typeof st.mtimeMs === 'number' && typeof st.sha256 === 'string');
    session.maskStamp = validStamp ? st : undefined;
    return session;
  }
}
