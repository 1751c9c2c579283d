// One opened image with its authoritative labels: opening (mask found, missing, or on another
// grid), saving the mask and its sidecar from host state, revert, and hot-exit backups.
// No vscode imports: the VS Code document (labelDocument.ts) is a thin wrapper, and this is
// unit-tested with node:test against real files.

import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { basename, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { checkSameGrid, readNifti, writeMaskLike, type NiftiImage } from '../nifti';
import { writeFileAtomic } from '../util/atomicWrite';
import { labelBitsOf, type LabelArray } from '../protocol/labelDelta';
import type { LabelTableEntry, MaskInfo, MaskStatus } from '../protocol/messages';
import { validateLabelTable } from '../protocol/validate';
import { LabelModel, completeLabelTable, defaultLabelTable, type PriorProvenance } from './labelModel';
import { labelsFromMaskData, resampleLabelsToGrid } from './maskGrid';
import { maskPathFor, sidecarPathFor } from './maskPath';
import { buildSidecar, parseSidecar, sidecarToText, type MaskSidecar } from './sidecar';
import { voxelVolumeMm3 } from './imageInfo';

/** What the user chose for a mask that cannot be applied as it is. */
export type MaskProblemChoice =
  /** Resample the mask onto the image grid (nearest neighbour, by world position) and edit it. */
  | 'resample'
  /** Show the resampled mask (if possible) but make the document read-only: nothing is saved. */
  | 'readOnly'
  /** Start with empty labels; Save will replace the mask file. */
  | 'ignore';

/** A mask that exists but cannot be applied as it is. */
export interface MaskProblem {
  maskPath: string;
  /** 'grid': shape or affine differ; 'unreadable': not a valid NIfTI; 'notLabels': values are not labels. */
  kind: 'grid' | 'unreadable' | 'notLabels';
  /** Differences as phrases ("shifted 1.5 mm along x", "one slice short along k (21 vs 22)"). */
  differences: string[];
  /** One sentence for the user naming the mask file and the problem. */
  message: string;
  /** The choices that make sense for this problem (resampling needs a readable mask). */
  choices: MaskProblemChoice[];
}

/** Options of {@link LabelSession.open}. */
export interface OpenSessionOptions {
  /** The `lesionLab.maskPattern` setting. */
  maskPattern?: string;
  /**
   * Asked when the mask exists but cannot be applied as it is. Without it, the safe choice
   * ('readOnly') is taken.
   */
  onMaskProblem?: (problem: MaskProblem) => Promise<MaskProblemChoice>;
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

const BACKUP_MAGIC = 'LLBK1\n';

interface BackupHeader {
  version: 1;
  imagePath: string;
  maskPath: string;
  mask: MaskInfo;
  readOnly: boolean;
  readOnlyReason: string | null;
  bits: 8 | 16;
  voxelCount: number;
  labelTable: LabelTableEntry[];
  prior: PriorProvenance;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolvePromise, reject) => {
    const stream = createReadStream(filePath, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk: Buffer | string) =>
      hash.update(typeof chunk === 'string' ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    );
    stream.on('error', reject);
    stream.on('end', () => resolvePromise());
  });
  return hash.digest('hex');
}

async function fileExists(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The image, its labels, and where they are saved. */
export class LabelSession {
  /** The sidecar could not be used (bad JSON…): shown to the user once, then ignored. */
  sidecarWarning: string | null = null;
  private imageSha256: { key: string; hash: string } | null = null;

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
    const loaded = await LabelSession.loadLabels(image, maskPath, options.onMaskProblem);
    const model = new LabelModel(image.dims, loaded.labels, loaded.table, loaded.prior);
    const session = new LabelSession(image, absImage, maskPath, loaded.mask, model, loaded.readOnly, loaded.readOnlyReason);
    session.sidecarWarning = loaded.sidecarWarning;
    return session;
  }

  /**
   * Reads the mask at `maskPath` for `image`: same grid → loaded; missing → empty; otherwise
   * asks `onMaskProblem` (default: read-only).
   */
  private static async loadLabels(
    image: NiftiImage,
    maskPath: string,
    onMaskProblem: OpenSessionOptions['onMaskProblem'],
  ): Promise<{
    labels: LabelArray;
    table: LabelTableEntry[];
    prior: PriorProvenance;
    mask: MaskInfo;
    readOnly: boolean;
    readOnlyReason: string | null;
    sidecarWarning: string | null;
  }> {
    const voxels = image.dims[0] * image.dims[1] * image.dims[2];
    const empty = (): LabelArray => new Uint8Array(voxels);
    let table = defaultLabelTable();
    let prior: PriorProvenance = { modelVersion: null, handEditedVoxels: 0 };
    let sidecarWarning: string | null = null;
    const sidecarPath = sidecarPathFor(maskPath);
    if (await fileExists(sidecarPath)) {
      try {
        const parsed = parseSidecar(await fsp.readFile(sidecarPath, 'utf8'), basename(sidecarPath));
        if (parsed.labelTable.length > 0) table = parsed.labelTable;
        prior = { modelVersion: parsed.modelVersion, handEditedVoxels: parsed.handEditedVoxels };
      } catch (err) {
        sidecarWarning = `${errorText(err)}; using the default label table`;
      }
    }
    const base = { table, prior, sidecarWarning };
    if (!(await fileExists(maskPath))) {
      return { ...base, labels: empty(), mask: { path: maskPath, status: 'new', message: null }, readOnly: false, readOnlyReason: null };
    }
    const maskName = basename(maskPath);
    let maskImage: NiftiImage | null = null;
    let problem: MaskProblem | null = null;
    try {
      maskImage = await readNifti(maskPath);
    } catch (err) {
      problem = {
        maskPath,
        kind: 'unreadable',
        differences: [],
        message: `The mask ${maskName} cannot be read: ${errorText(err)}`,
        choices: ['readOnly', 'ignore'],
      };
    }
    let maskLabels: LabelArray | null = null;
    if (maskImage) {
      const converted = labelsFromMaskData(maskImage.data);
      if ('problem' in converted) {
        problem = {
          maskPath,
          kind: 'notLabels',
          differences: [],
          message: `The mask ${maskName} is not a label map: ${converted.problem}.`,
          choices: ['readOnly', 'ignore'],
        };
      } else {
        maskLabels = converted.labels;
        const grid = checkSameGrid(image, maskImage);
        if (grid.same) {
          return {
            ...base,
            table: completeLabelTable(table, maskLabels),
            labels: maskLabels,
            mask: { path: maskPath, status: 'loaded', message: null },
            readOnly: false,
            readOnlyReason: null,
          };
        }
        problem = {
          maskPath,
          kind: 'grid',
          differences: grid.differences,
          message: `The mask ${maskName} is not on the grid of ${basename(image.filePath)}: ${grid.differences.join('; ')}.`,
          choices: ['resample', 'readOnly', 'ignore'],
        };
      }
    }
    // problem is set here.
    const p = problem as MaskProblem;
    const choice = onMaskProblem ? await onMaskProblem(p) : 'readOnly';
    const resampled = (): LabelArray =>
      maskImage && maskLabels
        ? resampleLabelsToGrid({ labels: maskLabels, dims: maskImage.dims, affine: maskImage.affine }, image.dims, image.affine)
        : empty();
    const status = (s: MaskStatus, message: string): MaskInfo => ({ path: maskPath, status: s, message });
    switch (choice) {
      case 'resample': {
        const labels = resampled();
        return { ...base, table: completeLabelTable(table, labels), labels, mask: status('resampled', `${p.message} It was resampled onto the image grid; Save replaces it.`), readOnly: false, readOnlyReason: null };
      }
      case 'readOnly': {
        const labels = resampled();
        return {
          ...base,
          table: completeLabelTable(table, labels),
          labels,
          mask: status(p.kind === 'grid' ? 'resampled' : 'ignored', p.message),
          readOnly: true,
          readOnlyReason: `${p.message} Opened read-only so the mask is not overwritten.`,
        };
      }
      case 'ignore':
        return { ...base, labels: empty(), mask: status('ignored', `${p.message} Opened without it; Save replaces it.`), readOnly: false, readOnlyReason: null };
      default: {
        const never: never = choice;
        throw new Error(`unknown mask choice ${String(never)}`);
      }
    }
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
   * @throws LabelSessionError when read-only or when the target is the image itself;
   *   NiftiWriteError when the write fails.
   */
  async save(targetMaskPath: string = this.maskPath): Promise<SaveResult> {
    if (this.readOnly) throw new LabelSessionError(`${basename(this.imagePath)} is open read-only: ${this.readOnlyReason ?? 'saving is disabled'}`);
    const target = resolve(targetMaskPath);
    if (target === this.imagePath) {
      throw new LabelSessionError(`${basename(target)}: refusing to save the mask over the source image; choose another name`);
    }
    if (!/\.nii\.gz$/i.test(target)) throw new LabelSessionError(`${basename(target)}: masks are saved as .nii.gz; choose a name ending in .nii.gz`);
    const sidecar = await this.sidecar(target, true);
    await writeMaskLike(this.image, this.model.labels, target);
    const sidecarPath = sidecarPathFor(target);
    await writeFileAtomic(sidecarPath, sidecarToText(sidecar));
    if (target === this.maskPath) {
      this.model.markSaved();
      this.mask = { path: this.maskPath, status: 'loaded', message: null };
    }
    return { maskPath: target, sidecarPath, sidecar };
  }

  /**
   * Re-reads the mask and sidecar from disk and discards the unsaved edits (Revert File). A
   * mask that is now unreadable or off-grid goes through `onMaskProblem` as on open.
   */
  async revert(onMaskProblem?: OpenSessionOptions['onMaskProblem']): Promise<void> {
    const loaded = await LabelSession.loadLabels(this.image, this.maskPath, onMaskProblem);
    // The saved mask is back: edits up to the save point stay undoable (as in VS Code's stack).
    // Anything else (mask gone, off-grid, unreadable) starts a fresh history.
    if (loaded.mask.status === 'loaded') this.model.revertToSaved(loaded.labels, loaded.table, loaded.prior);
    else this.model.reset(loaded.labels, loaded.table, loaded.prior);
    this.mask = loaded.mask;
    this.readOnly = loaded.readOnly;
    this.readOnlyReason = loaded.readOnlyReason;
    this.sidecarWarning = loaded.sidecarWarning;
  }

  /** Loads another frame of a 4-D image into `image` (labels are shared by all frames). */
  async loadFrame(frame: number): Promise<NiftiImage> {
    if (frame === this.image.frame) return this.image;
    this.image = await readNifti(this.imagePath, { frame });
    return this.image;
  }

  /**
   * Serialises what hot exit must restore: labels (gzip), label table, provenance, mask status.
   * Format: "LLBK1\n", uint32 LE JSON length, JSON header, gzip of the label bytes (LE).
   */
  backupBytes(): Uint8Array {
    const labels = this.model.labels;
    const header: BackupHeader = {
      version: 1,
      imagePath: this.imagePath,
      maskPath: this.maskPath,
      mask: this.mask,
      readOnly: this.readOnly,
      readOnlyReason: this.readOnlyReason,
      bits: labelBitsOf(labels),
      voxelCount: labels.length,
      labelTable: this.model.labelTable,
      prior: { modelVersion: this.model.proposalModelVersion, handEditedVoxels: this.model.handEditedVoxels },
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    // Labels are written little-endian; on a big-endian host Uint16Array bytes would need a swap.
    const body = gzipSync(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength), { level: 1 });
    const out = new Uint8Array(BACKUP_MAGIC.length + 4 + json.length + body.length);
    out.set(Buffer.from(BACKUP_MAGIC, 'latin1'), 0);
    new DataView(out.buffer).setUint32(BACKUP_MAGIC.length, json.length, true);
    out.set(json, BACKUP_MAGIC.length + 4);
    out.set(body, BACKUP_MAGIC.length + 4 + json.length);
    return out;
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
    const magic = Buffer.from(backup.subarray(0, BACKUP_MAGIC.length)).toString('latin1');
    if (magic !== BACKUP_MAGIC || backup.length < BACKUP_MAGIC.length + 4) throw new Error(`the backup of ${basename(absImage)} is not a Lesion Lab backup`);
    const jsonLength = new DataView(backup.buffer, backup.byteOffset).getUint32(BACKUP_MAGIC.length, true);
    const jsonStart = BACKUP_MAGIC.length + 4;
    if (jsonStart + jsonLength > backup.length) throw new Error(`the backup of ${basename(absImage)} is truncated`);
    let header: BackupHeader;
    try {
      header = JSON.parse(Buffer.from(backup.subarray(jsonStart, jsonStart + jsonLength)).toString('utf8')) as BackupHeader;
    } catch (err) {
      throw new Error(`the backup of ${basename(absImage)} is corrupt (${errorText(err)})`);
    }
    if (header.version !== 1 || (header.bits !== 8 && header.bits !== 16)) throw new Error(`the backup of ${basename(absImage)} has an unknown version`);
    const table = validateLabelTable(header.labelTable, `the backup of ${basename(absImage)}`);
    const raw = gunzipSync(backup.subarray(jsonStart + jsonLength));
    const bytesPerVoxel = header.bits / 8;
    if (raw.length !== header.voxelCount * bytesPerVoxel) throw new Error(`the backup of ${basename(absImage)} is truncated (labels incomplete)`);
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    const labels: LabelArray = header.bits === 16 ? new Uint16Array(copy.buffer) : copy;
    const image = await readNifti(absImage);
    const voxels = image.dims[0] * image.dims[1] * image.dims[2];
    if (voxels !== header.voxelCount) {
      throw new Error(`the backup of ${basename(absImage)} has ${header.voxelCount} voxels but the image now has ${voxels}; the image changed on disk`);
    }
    const model = new LabelModel(image.dims, labels, table, header.prior);
    model.reset(labels, table, header.prior, true);
    return new LabelSession(image, absImage, header.maskPath, header.mask, model, header.readOnly, header.readOnlyReason);
  }
}
