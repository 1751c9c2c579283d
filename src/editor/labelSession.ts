// One opened image with its authoritative labels: opening (mask found, missing, or on another
// grid), saving the mask and its sidecar from host state, revert, and hot-exit backups.
// No vscode imports: the VS Code document (labelDocument.ts) is a thin wrapper, and this is
// unit-tested with node:test against real files.

import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { checkSameGrid, encodeMaskLike, readNifti, type NiftiImage } from '../nifti';
import { writeFileAtomic } from '../util/atomicWrite';
import { nodeAtomicWriteFs, writeFilesAtomically, type AtomicWriteFs } from '../util/writeFilesAtomically';
import { labelBitsOf, type LabelArray } from '../protocol/labelDelta';
import type { LabelTableEntry, MaskInfo, MaskStatus } from '../protocol/messages';
import { validateLabelTable } from '../protocol/validate';
import { LabelModel, completeLabelTable, defaultLabelTable, type PriorProvenance } from './labelModel';
import { labelsFromMaskData, resampleLabelsToGrid } from './maskGrid';
import { isInsideFolder, maskPathFor, sidecarPathFor } from './maskPath';
import { buildSidecar, parseSidecar, SIDECAR_FORMAT, sidecarToText, type MaskSidecar } from './sidecar';
import { voxelVolumeMm3 } from './imageInfo';
import { completeSidecarForSave, type AcceptedProposal } from '../dataset/review';

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
  /**
   * Where the mask may be saved. Without it (command line, tests) anywhere the pattern says.
   * With it, a mask outside the image's folder and every `allowedFolders` (compared as real
   * paths) opens read-only, unless the pattern is the user's own setting.
   */
  maskLocation?: MaskLocationRule;
}

/** Where a mask pattern may put masks (see {@link OpenSessionOptions.maskLocation}). */
export interface MaskLocationRule {
  /** The workspace folders. */
  allowedFolders: readonly string[];
  /** The pattern comes from the user's settings (or is the default), not from the workspace. */
  patternFromUserSettings: boolean;
  /** Where the pattern came from, named in the message when refused (default "the workspace settings"). */
  patternOrigin?: string;
}

/** Options of {@link LabelSession.save}. */
export interface SaveOptions {
  /** Write even though the mask file changed on disk since it was loaded or saved here. */
  overwriteChangedOnDisk?: boolean;
}

/** Size, modification time and SHA-256 of a file as last read or written here. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  sha256: string;
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
  /** The mask file as last read or saved (null: it did not exist); absent in older backups. */
  maskStamp?: FileStamp | null;
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

/** The stamp of a file, or null when there is none. */
async function stampOfFile(filePath: string): Promise<FileStamp | null> {
  let st;
  try {
    st = await fsp.stat(filePath);
  } catch {
    return null;
  }
  return { size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256OfFile(filePath) };
}

/** True when both paths exist and are the same file (symbolic links, hard links, case folding). */
async function isSameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([fsp.stat(a), fsp.stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** The real path of `p`, resolving symbolic links in its longest existing ancestor. */
async function realPathOf(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await fsp.realpath(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(await realPathOf(parent), basename(abs));
  }
}

/**
 * Why `maskPath` may not be written under `rule`, or null when it may: it must be in the image's
 * folder or inside a workspace folder (as real paths), unless the pattern is the user's own.
 */
async function maskLocationProblem(maskPath: string, imagePath: string, pattern: string | undefined, rule: MaskLocationRule | undefined): Promise<string | null> {
  if (!rule || rule.patternFromUserSettings) return null;
  const folder = await realPathOf(dirname(maskPath));
  if (folder === (await realPathOf(dirname(imagePath)))) return null;
  for (const allowed of rule.allowedFolders) if (isInsideFolder(folder, await realPathOf(allowed))) return null;
  const origin = rule.patternOrigin ?? 'the workspace settings';
  return (
    `lesionLab.maskPattern "${pattern ?? ''}" from ${origin} puts the mask of ${basename(imagePath)} at ${maskPath}, ` +
    `outside the workspace folder and the image's folder; a workspace may only save masks inside itself ` +
    `(set the pattern in your user settings to allow this, or use Save As)`
  );
}

/**
 * Why the sidecar at `sidecarPath` may not be replaced, or null: an existing file is replaced
 * only when it is a Lesion Lab sidecar (its "format" field says so).
 */
async function sidecarOverwriteProblem(sidecarPath: string): Promise<string | null> {
  let text: string;
  try {
    const st = await fsp.lstat(sidecarPath);
    if (!st.isFile()) return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (it is not a regular file)`;
    // Our sidecars are small; a big file is somebody else's.
    if (st.size > 16 * 1024 * 1024) return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (${st.size} bytes)`;
    text = await fsp.readFile(sidecarPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `${basename(sidecarPath)} cannot be checked before it is replaced (${errorText(err)})`;
  }
  let format: unknown;
  try {
    const parsed = JSON.parse(text) as unknown;
    format = parsed !== null && typeof parsed === 'object' ? (parsed as { format?: unknown }).format : undefined;
  } catch {
    return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (not JSON)`;
  }
  if (format !== SIDECAR_FORMAT) {
    return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (its "format" is ${JSON.stringify(format ?? null)}, not "${SIDECAR_FORMAT}")`;
  }
  return null;
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
      ? await LabelSession.loadLabels(image, maskPath, async () => 'readOnly', refused)
      : await LabelSession.loadLabels(image, maskPath, options.onMaskProblem);
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

  /**
   * Reads the mask at `maskPath` for `image`: same grid → loaded; missing → empty; otherwise
   * asks `onMaskProblem` (default: read-only).
   */
  private static async loadLabels(
    image: NiftiImage,
    maskPath: string,
    onMaskProblem: OpenSessionOptions['onMaskProblem'],
    /** Set when the mask path itself is refused: the mask is then neither read nor written. */
    refusedPath: string | null = null,
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
    if (refusedPath !== null) {
      return { table, prior, sidecarWarning, labels: empty(), mask: { path: maskPath, status: 'ignored', message: refusedPath }, readOnly: true, readOnlyReason: refusedPath };
    }
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
      const loaded = await LabelSession.loadLabels(this.image, this.maskPath, undefined, this.refusedMaskPath);
      this.model.reset(loaded.labels, loaded.table, loaded.prior);
      return { historyCleared: true };
    }
    const unchanged = this.maskStamp !== undefined && (await this.maskChangeOnDisk()) === null;
    const stamp = await stampOfFile(this.maskPath);
    const loaded = await LabelSession.loadLabels(this.image, this.maskPath, onMaskProblem);
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
      maskStamp: this.maskStamp,
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
      throw new Error(`the backup of ${basename(absImage)} is corrupt (${errorText(err)})`, { cause: err });
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
    const session = new LabelSession(image, absImage, header.maskPath, header.mask, model, header.readOnly, header.readOnlyReason);
    const st = header.maskStamp;
    const validStamp = st === null || (st !== undefined && typeof st === 'object' && typeof st.size === 'number' && typeof st.mtimeMs === 'number' && typeof st.sha256 === 'string');
    session.maskStamp = validStamp ? st : undefined;
    return session;
  }
}
