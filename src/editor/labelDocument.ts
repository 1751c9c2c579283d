// The VS Code side of one opened image: a thin CustomDocument around LabelSession (the pure
// model). It turns each edit into a CustomDocumentEditEvent whose undo/redo call the model, and
// tells the provider what to send to the document's webviews. Save, Save As, Revert and Backup
// work from host state only; no webview is ever asked for data.

import * as vscode from 'vscode';
import { basename } from 'node:path';
import { deltaVoxelCount, invertDelta, type LabelArray, type LabelDelta } from '../protocol/labelDelta';
import type { IntensityStats, LabelTableEntry } from '../protocol/messages';
import { Disposable } from './dispose';
import { intensityStats } from '../volume/imageInfo';
import { LabelEditError, type LabelEdit, type VoxelEdit } from '../labels/labelModel';
import { LabelSession, MaskChangedOnDiskError } from '../labels/labelSession';
import type { MaskLocationRule } from '../labels/maskFiles';
import type { MaskProblem, MaskProblemChoice } from '../labels/maskLoading';
import { errorText } from '../util/errorText';

/** What to do when Save finds the mask file changed on disk by another program. */
export type MaskChangedChoice = 'overwrite' | 'reload' | 'saveAs';

/** What changed in a document, for the provider to forward to webviews. */
export type DocumentChange =
  /** Labels changed by `delta` (forward direction); `origin` already has it (it sent the edit). */
  | { kind: 'delta'; delta: LabelDelta; cause: 'undo' | 'redo' | 'edit' | 'host'; label: string; origin: vscode.WebviewPanel | null }
  /** The whole label volume must be resent (revert, bit-depth promotion). */
  | { kind: 'replace'; cause: 'revert' | 'resync' | 'reload' }
  | { kind: 'table' }
  | { kind: 'readOnly' }
  | { kind: 'status'; text: string; level: 'info' | 'warning' };

/** Services the document needs from the extension. */
export interface LabelDocumentDeps {
  /** The `lesionLab.maskPattern` setting. */
  maskPattern: string;
  /** Where masks may be saved (workspace folders; whether the pattern is the user's own). */
  maskLocation?: MaskLocationRule;
  /** Asks the user what to do with a mask that cannot be applied as it is. */
  askMaskProblem(problem: MaskProblem): Promise<MaskProblemChoice>;
  /** Asks what to do when the mask changed on disk; undefined cancels the save. */
  askMaskChanged(message: string): Promise<MaskChangedChoice | undefined>;
  log: vscode.LogOutputChannel;
}

/** An image opened in Lesion Lab, with its authoritative labels. */
export class LabelDocument extends Disposable implements vscode.CustomDocument {
  /**
   * Opens `uri` (restoring the hot-exit backup `backupId` when given). Never throws for a bad
   * file: the returned document carries `openError` (one sentence naming the file and the
   * problem) and the editor shows it.
   */
  static async create(uri: vscode.Uri, backupId: string | undefined, deps: LabelDocumentDeps): Promise<LabelDocument> {
    const name = basename(uri.path);
    if (uri.scheme !== 'file') {
      return new LabelDocument(uri, null, `${name}: Lesion Lab opens files on a local or remote disk only, not "${uri.scheme}:" resources`, deps);
    }
    if (backupId) {
      try {
        const bytes = await vscode.workspace.fs.readFile(vscode.Uri.parse(backupId));
        const session = await LabelSession.restore(uri.fsPath, bytes);
        deps.log.info(`${name}: restored unsaved labels from the hot-exit backup`);
        return new LabelDocument(uri, session, null, deps);
      } catch (err) {
        deps.log.warn(`${name}: the hot-exit backup could not be restored (${errorText(err)}); opening from disk`);
      }
    }
    try {
      const session = await LabelSession.open(uri.fsPath, {
        maskPattern: deps.maskPattern,
        maskLocation: deps.maskLocation,
        onMaskProblem: (p) => deps.askMaskProblem(p),
      });
      if (session.sidecarWarning) deps.log.warn(session.sidecarWarning);
      return new LabelDocument(uri, session, null, deps);
    } catch (err) {
      const message = errorText(err);
      // NiftiReadError messages already start with the file name.
      return new LabelDocument(uri, null, message.startsWith(name) ? message : `${name}: ${message}`, deps);
    }
  }

  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  /** Fired when the document is disposed (last editor closed). */
  readonly onDidDispose = this._onDidDispose.event;

  private readonly _onDidChangeDocument = this._register(new vscode.EventEmitter<vscode.CustomDocumentEditEvent<LabelDocument>>());
  /** Undoable edits, for the provider's onDidChangeCustomDocument. */
  readonly onDidChangeDocument = this._onDidChangeDocument.event;

  private readonly _onDidChange = this._register(new vscode.EventEmitter<DocumentChange>());
  /** What the webviews must be told. */
  readonly onDidChange = this._onDidChange.event;

  private statsCache = new Map<number, IntensityStats>();
  /**
   * Bumped when the labels are reloaded with a fresh history: VS Code still holds the older
   * edits on its undo stack (an extension cannot clear it), and their undo/redo must then do
   * nothing rather than apply deltas to labels they were not made for.
   */
  private historyGeneration = 0;

  private constructor(
    readonly uri: vscode.Uri,
    /** Null when the file could not be opened; then `openError` says why. */
    readonly session: LabelSession | null,
    readonly openError: string | null,
    private readonly deps: LabelDocumentDeps,
  ) {
    super();
  }

  /** Base name of the image. */
  get fileName(): string {
    return basename(this.uri.path);
  }

  /** Intensity statistics of the currently loaded frame (computed once per frame). */
  stats(): IntensityStats {
    const s = this.requireSession();
    const frame = s.image.frame;
    let st = this.statsCache.get(frame);
    if (!st) {
      const h = s.image.header;
      st = intensityStats(s.image.data, { min: h.calMin, max: h.calMax });
      this.statsCache.set(frame, st);
    }
    return st;
  }

  /**
   * Applies one gesture's delta (from a webview, or from a host command) as one undoable edit.
   * @param origin - the webview that sent it (it already shows the change), or null.
   * @throws LabelEditError when read-only or out of sync (nothing changes).
   */
  makeEdit(label: string, delta: LabelDelta, origin: vscode.WebviewPanel | null = null): void {
    const s = this.requireSession();
    if (s.readOnly) throw new LabelEditError(`${this.fileName} is open read-only: ${s.readOnlyReason ?? ''}`);
    if (deltaVoxelCount(delta) === 0) return;
    const tracked = this.applyTracked(() => s.model.applyVoxelEdit(label, delta, 'hand'));
    this.afterVoxelChange(tracked, 'edit', origin);
    this.fireEdit(tracked.edit);
  }

  /**
   * Applies labels imported from another file (a DICOM SEG, an RT Structure Set) with the label
   * table that names them as one undoable edit: one Undo takes back both.
   * @throws LabelEditError when read-only or out of sync (nothing changes).
   */
  importLabels(label: string, delta: LabelDelta, table: LabelTableEntry[]): void {
    const s = this.requireSession();
    if (s.readOnly) throw new LabelEditError(`${this.fileName} is open read-only: ${s.readOnlyReason ?? ''}`);
    if (deltaVoxelCount(delta) === 0) return this.setLabelTable(label, table);
    const tracked = this.applyTracked(() => s.model.applyVoxelEdit(label, delta, 'hand', null, table));
    this._onDidChange.fire({ kind: 'table' });
    this.afterVoxelChange(tracked, 'host', null);
    this.fireEdit(tracked.edit);
  }

  /**
   * Applies a model's proposal (or any host-side operation the model produced) as one undoable
   * edit labelled `label`, records `modelVersion` in the provenance, and sends the delta to every
   * webview. The hook for the Segment Lesion / Accept Proposal commands.
   * @throws LabelEditError when read-only or when `delta.before` does not match the labels.
   */
  recordProposal(modelVersion: string, delta: LabelDelta, label = 'Accept proposal'): void {
    const s = this.requireSession();
    if (s.readOnly) throw new LabelEditError(`${this.fileName} is open read-only: ${s.readOnlyReason ?? ''}`);
    const tracked = this.applyTracked(() => s.model.applyVoxelEdit(label, delta, 'proposal', modelVersion));
    this.afterVoxelChange(tracked, 'host', null);
    this.fireEdit(tracked.edit);
  }

  /** Replaces the label table as one undoable edit. */
  setLabelTable(label: string, table: LabelTableEntry[]): void {
    const s = this.requireSession();
    if (s.readOnly) throw new LabelEditError(`${this.fileName} is open read-only: ${s.readOnlyReason ?? ''}`);
    const edit = s.model.applyTableEdit(label, table);
    this._onDidChange.fire({ kind: 'table' });
    this.fireEdit(edit);
  }

  /** The live label volume (read only; for ML commands). */
  get labels(): LabelArray {
    return this.requireSession().labels;
  }

  private applyTracked<T>(apply: () => T): { edit: T; promoted: boolean } {
    const before = this.requireSession().labels;
    const edit = apply();
    return { edit, promoted: this.requireSession().labels !== before };
  }

  private afterVoxelChange(
    tracked: { edit: VoxelEdit; promoted: boolean },
    cause: 'undo' | 'redo' | 'edit' | 'host',
    origin: vscode.WebviewPanel | null,
    delta: LabelDelta = tracked.edit.delta,
  ): void {
    // A promotion to uint16 changes the array type: every webview needs the whole volume.
    if (tracked.promoted) this._onDidChange.fire({ kind: 'replace', cause: 'reload' });
    else this._onDidChange.fire({ kind: 'delta', delta, cause, label: tracked.edit.label, origin });
  }

  private fireEdit(edit: LabelEdit): void {
    const s = this.requireSession();
    const generation = this.historyGeneration;
    const stale = (what: 'undo' | 'redo'): boolean => {
      if (generation === this.historyGeneration) return false;
      const text = `Nothing to ${what}: "${edit.label}" was made before the labels were reloaded from disk`;
      this.deps.log.info(`${this.fileName}: ${text}`);
      this._onDidChange.fire({ kind: 'status', text, level: 'info' });
      return true;
    };
    this._onDidChangeDocument.fire({
      document: this,
      label: edit.label,
      undo: () => {
        if (stale('undo')) return;
        const before = s.labels;
        s.model.undo(edit);
        if (edit.kind === 'voxels') {
          if (edit.table) this._onDidChange.fire({ kind: 'table' });
          this.afterVoxelChange({ edit, promoted: s.labels !== before }, 'undo', null, invertDelta(edit.delta));
        } else {
          this._onDidChange.fire({ kind: 'table' });
        }
      },
      redo: () => {
        if (stale('redo')) return;
        const before = s.labels;
        s.model.redo(edit);
        if (edit.kind === 'voxels') {
          if (edit.table) this._onDidChange.fire({ kind: 'table' });
          this.afterVoxelChange({ edit, promoted: s.labels !== before }, 'redo', null);
        } else this._onDidChange.fire({ kind: 'table' });
      },
    });
  }

  /**
   * Save: writes the mask and sidecar from host state to the mask path. When the mask changed on
   * disk since it was read or saved here, asks: overwrite it, reload it (dropping the unsaved
   * labels), or save to another file (this document stays unsaved).
   * @throws vscode.CancellationError when the user cancels or saves elsewhere (nothing saved here).
   */
  async save(cancellation: vscode.CancellationToken): Promise<void> {
    const s = this.requireSession();
    let result;
    try {
      result = await s.save();
    } catch (err) {
      if (!(err instanceof MaskChangedOnDiskError)) throw err;
      const choice = await this.deps.askMaskChanged(err.message);
      if (choice === 'overwrite') {
        result = await s.save(undefined, { overwriteChangedOnDisk: true });
      } else if (choice === 'reload') {
        await this.revert(cancellation);
        this.deps.log.info(`${this.fileName}: reloaded ${basename(s.maskPath)} from disk; the unsaved labels were dropped`);
        return;
      } else if (choice === 'saveAs') {
        const destination = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(s.maskPath.replace(/\.nii\.gz$/i, '_copy.nii.gz')),
          filters: { 'NIfTI mask': ['nii.gz'] },
          saveLabel: 'Save Mask As',
        });
        if (destination) await this.saveAs(destination, cancellation);
        // The document's own mask is left as it is on disk, so the document stays unsaved.
        throw new vscode.CancellationError();
      } else {
        throw new vscode.CancellationError();
      }
    }
    this.deps.log.info(`${this.fileName}: saved ${result.maskPath} and ${basename(result.sidecarPath)}`);
    this._onDidChange.fire({ kind: 'status', text: `Saved ${basename(result.maskPath)}`, level: 'info' });
  }

  /**
   * Save As: writes the mask (and its sidecar) to `destination`. The source image is never
   * written; a destination equal to the image is refused.
   */
  async saveAs(destination: vscode.Uri, _cancellation: vscode.CancellationToken): Promise<void> {
    const s = this.requireSession();
    if (destination.scheme !== 'file') throw new Error(`${basename(destination.path)}: Lesion Lab saves masks to files on disk only`);
    const result = await s.save(destination.fsPath);
    this.deps.log.info(`${this.fileName}: saved a copy of the mask as ${result.maskPath}`);
  }

  /** Revert: re-reads the mask from disk, drops the edits, resends the labels to every webview. */
  async revert(_cancellation: vscode.CancellationToken): Promise<void> {
    const s = this.requireSession();
    const wasReadOnly = s.readOnly;
    const { historyCleared } = await s.revert((p) => this.deps.askMaskProblem(p));
    if (historyCleared) this.historyGeneration++;
    this._onDidChange.fire({ kind: 'replace', cause: 'revert' });
    if (s.readOnly !== wasReadOnly) this._onDidChange.fire({ kind: 'readOnly' });
  }

  /** Hot exit: writes labels, table and provenance to `destination`. */
  async backup(destination: vscode.Uri, _cancellation: vscode.CancellationToken): Promise<vscode.CustomDocumentBackup> {
    const s = this.requireSession();
    await vscode.workspace.fs.writeFile(destination, s.backupBytes());
    return {
      id: destination.toString(),
      delete: async () => {
        try {
          await vscode.workspace.fs.delete(destination);
        } catch {
          // Already gone: nothing to clean up.
        }
      },
    };
  }

  /** Loads another frame of a 4-D image. */
  async loadFrame(frame: number): Promise<void> {
    await this.requireSession().loadFrame(frame);
  }

  override dispose(): void {
    this._onDidDispose.fire();
    super.dispose();
  }

  private requireSession(): LabelSession {
    if (!this.session) throw new Error(this.openError ?? `${this.fileName} is not open`);
    return this.session;
  }
}
