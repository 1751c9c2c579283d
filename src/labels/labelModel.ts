// The authoritative label volume of one open image, with its edit history and save state.
// Pure: no vscode, no file system. The VS Code document (src/editor/labelDocument.ts) wraps it and turns
// each edit into a CustomDocumentEditEvent whose undo/redo call back into this model.

import {
  applyDelta,
  createLabelArray,
  deltaMismatchCount,
  deltaVoxelCount,
  labelBitsOf,
  validateDelta,
  type LabelArray,
  type LabelDelta,
} from '../protocol/labelDelta';
import type { LabelTableEntry } from '../protocol/messages';

/** Thrown when an edit cannot be applied (out of sync, read-only, wrong size). */
export class LabelEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelEditError';
  }
}

/** Where a label edit came from: a tool in the webview, or a model's proposal. */
export type LabelEditSource = 'hand' | 'proposal';

/** A change to the label voxels. */
export interface VoxelEdit {
  readonly kind: 'voxels';
  readonly id: number;
  readonly label: string;
  readonly delta: LabelDelta;
  readonly source: LabelEditSource;
  /** For proposals: the model version that produced it. */
  readonly modelVersion: string | null;
  /** The label table this edit replaced and set with its voxels (an import's names and colours), or undefined. */
  readonly table?: { readonly before: readonly LabelTableEntry[]; readonly after: readonly LabelTableEntry[] };
}

/** A change to the label table (names, colours, visibility, lock). */
export interface TableEdit {
  readonly kind: 'table';
  readonly id: number;
  readonly label: string;
  readonly before: readonly LabelTableEntry[];
  readonly after: readonly LabelTableEntry[];
}

/** One undoable step. Immutable once made. */
export type LabelEdit = VoxelEdit | TableEdit;

/** Provenance carried over from the sidecar of a previous session. */
export interface PriorProvenance {
  /** Model version that proposed the saved mask, or null when it was drawn by hand. */
  modelVersion: string | null;
  /** Voxels changed by hand since that proposal, as recorded at the last save. */
  handEditedVoxels: number;
}

function cloneTable(table: readonly LabelTableEntry[]): LabelTableEntry[] {
  return table.map((e) => ({ value: e.value, name: e.name, color: [e.color[0], e.color[1], e.color[2]], visible: e.visible, locked: e.locked }));
}

/** The default table: one red "Lesion" label. */
export function defaultLabelTable(): LabelTableEntry[] {
  return [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }];
}

/** Distinct colours for labels added automatically (ITK-SNAP-like order). */
const AUTO_COLORS: [number, number, number][] = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255], [255, 239, 213],
  [0, 0, 205], [205, 133, 63], [210, 180, 140], [102, 205, 170], [0, 0, 128], [0, 139, 139], [46, 139, 87],
];

/**
 * Returns `table` plus a row for every value present in `labels` but missing from the table
 * (name "Label N", an automatic colour), sorted by value. Background (0) is never added.
 */
export function completeLabelTable(table: readonly LabelTableEntry[], labels: LabelArray): LabelTableEntry[] {
  const present = new Uint8Array(labelBitsOf(labels) === 16 ? 65536 : 256);
  for (let i = 0; i < labels.length; i++) present[labels[i]] = 1;
  const out = cloneTable(table);
  const known = new Set(out.map((e) => e.value));
  for (let v = 1; v < present.length; v++) {
    if (present[v] && !known.has(v)) {
      out.push({ value: v, name: `Label ${v}`, color: AUTO_COLORS[(v - 1) % AUTO_COLORS.length], visible: true, locked: false });
    }
  }
  return out.sort((a, b) => a.value - b.value);
}

/**
 * The label volume, label table and edit history of one document.
 *
 * History: `applied` is the list of edits in effect, oldest first (like VS Code's undo stack
 * below its cursor). `savedApplied` is a copy of that list at the last save; the model is dirty
 * exactly when the two differ, so undoing back to the saved state is clean again.
 */
export class LabelModel {
  private labelsArray: LabelArray;
  private table: LabelTableEntry[];
  private applied: LabelEdit[] = [];
  private savedApplied: LabelEdit[] = [];
  private nextId = 1;
  private prior: PriorProvenance;

  /**
   * @param dims - [nx, ny, nz]; `labels.length` must equal their product.
   * @param labels - the initial label volume (taken over, not copied).
   * @param table - the initial label table (copied).
   * @param prior - provenance of the loaded mask (from its sidecar).
   * @throws LabelEditError when the volume size does not match `dims`.
   */
  constructor(
    readonly dims: readonly [number, number, number],
    labels: LabelArray,
    table: readonly LabelTableEntry[],
    prior: PriorProvenance = { modelVersion: null, handEditedVoxels: 0 },
  ) {
    const n = dims[0] * dims[1] * dims[2];
    if (labels.length !== n) {
      throw new LabelEditError(`label volume has ${labels.length} voxels but the image grid ${dims.join('×')} has ${n}`);
    }
    this.labelsArray = labels;
    this.table = cloneTable(table);
    this.prior = { ...prior };
  }

  /** A model with an empty label volume of the given bit depth. */
  static empty(dims: readonly [number, number, number], table = defaultLabelTable()): LabelModel {
    return new LabelModel(dims, createLabelArray(dims[0] * dims[1] * dims[2], 8), table);
  }

  /** The live label volume (do not modify; use {@link applyVoxelEdit}). */
  get labels(): LabelArray {
    return this.labelsArray;
  }

  get voxelCount(): number {
    return this.labelsArray.length;
  }

  /** A copy of the label table. */
  get labelTable(): LabelTableEntry[] {
    return cloneTable(this.table);
  }

  /** Edits in effect, oldest first (copy). */
  get history(): LabelEdit[] {
    return this.applied.slice();
  }

  /** True when the labels or table differ from the last save (or load). */
  get isDirty(): boolean {
    if (this.applied.length !== this.savedApplied.length) return true;
    for (let n = 0; n < this.applied.length; n++) if (this.applied[n] !== this.savedApplied[n]) return true;
    return false;
  }

  /**
   * Applies a voxel delta as a new edit and returns it. The delta's `before` values must match
   * the current labels (the webview and host are in sync); otherwise nothing changes.
   * A 16-bit delta on an 8-bit volume promotes the volume to 16 bits when a value needs it.
   * Voxels of a locked label are never changed: the webview's tools respect locks, and the host
   * enforces them too, so no message can bypass them.
   * With `table`, the label table is replaced in the same step (an import names its labels), so
   * one undo takes back both; locks are those of the current table.
   * @throws LabelEditError (out of sync, malformed, too large for the volume, changes a locked label).
   */
  applyVoxelEdit(label: string, delta: LabelDelta, source: LabelEditSource = 'hand', modelVersion: string | null = null, table?: readonly LabelTableEntry[]): VoxelEdit {
    this.checkDelta(delta, 'redo', label);
    this.checkLocks(delta, label);
    const tableChange = table ? { before: cloneTable(this.table), after: cloneTable(table) } : undefined;
    const edit: VoxelEdit = { kind: 'voxels', id: this.nextId++, label, delta, source, modelVersion, ...(tableChange ? { table: tableChange } : {}) };
    this.writeDelta(delta, 'redo');
    if (tableChange) this.table = cloneTable(tableChange.after);
    this.applied.push(edit);
    return edit;
  }

  /**
   * Replaces the label table as a new edit (values outside 0…65535 or duplicates must have been
   * rejected by validateLabelTable already).
   */
  applyTableEdit(label: string, table: readonly LabelTableEntry[]): TableEdit {
    const edit: TableEdit = { kind: 'table', id: this.nextId++, label, before: cloneTable(this.table), after: cloneTable(table) };
    this.table = cloneTable(table);
    this.applied.push(edit);
    return edit;
  }

  /**
   * Undoes `edit`, which must be the most recent edit in effect (VS Code calls undo in order).
   * @throws LabelEditError when it is not, or when the labels no longer match the edit.
   */
  undo(edit: LabelEdit): void {
    const top = this.applied[this.applied.length - 1];
    if (top !== edit) {
      throw new LabelEditError(`cannot undo "${edit.label}": it is not the most recent edit (that is "${top ? top.label : 'nothing'}")`);
    }
    if (edit.kind === 'voxels') {
      this.checkDelta(edit.delta, 'undo', edit.label);
      this.writeDelta(edit.delta, 'undo');
      if (edit.table) this.table = cloneTable(edit.table.before);
    } else {
      this.table = cloneTable(edit.before);
    }
    this.applied.pop();
  }

  /**
   * Redoes `edit` (previously undone).
   * @throws LabelEditError when the labels no longer match the edit.
   */
  redo(edit: LabelEdit): void {
    if (this.applied.includes(edit)) throw new LabelEditError(`cannot redo "${edit.label}": it is already in effect`);
    if (edit.kind === 'voxels') {
      this.checkDelta(edit.delta, 'redo', edit.label);
      this.writeDelta(edit.delta, 'redo');
      if (edit.table) this.table = cloneTable(edit.table.after);
    } else {
      this.table = cloneTable(edit.after);
    }
    this.applied.push(edit);
  }

  /** Records that the current state was saved: it becomes the clean state. */
  markSaved(): void {
    this.savedApplied = this.applied.slice();
  }

  /**
   * Replaces everything with freshly loaded state (revert, or restore from backup): new labels,
   * table and prior provenance; the history is cleared and the state is clean unless `dirty`.
   */
  reset(labels: LabelArray, table: readonly LabelTableEntry[], prior: PriorProvenance, dirty = false): void {
    if (labels.length !== this.voxelCount) {
      throw new LabelEditError(`label volume has ${labels.length} voxels but the image grid has ${this.voxelCount}`);
    }
    this.labelsArray = labels;
    this.table = cloneTable(table);
    this.prior = { ...prior };
    this.applied = [];
    // A restored backup is dirty: a sentinel edit-free "saved" list that can never match.
    this.savedApplied = dirty ? [{ kind: 'table', id: 0, label: '(restored from backup)', before: [], after: [] }] : [];
  }

  /**
   * Revert File: the labels and table were re-read from the saved files. VS Code keeps the edits
   * up to its save point on its undo stack after a revert, so those stay in effect here too
   * (they can still be undone); later edits are dropped. With nothing saved in this session,
   * the history is empty and `priorFromDisk` (the re-read sidecar) becomes the provenance.
   */
  revertToSaved(labels: LabelArray, table: readonly LabelTableEntry[], priorFromDisk: PriorProvenance): void {
    if (labels.length !== this.voxelCount) {
      throw new LabelEditError(`label volume has ${labels.length} voxels but the image grid has ${this.voxelCount}`);
    }
    // id 0 is the sentinel of a restored backup, not an edit.
    const kept = this.savedApplied.filter((e) => e.id !== 0);
    this.labelsArray = labels;
    this.table = cloneTable(table);
    if (kept.length === 0) this.prior = { ...priorFromDisk };
    this.applied = kept.slice();
    this.savedApplied = kept.slice();
  }

  /**
   * The model version behind the current labels: the latest proposal edit in effect, else the
   * one recorded in the sidecar at load, else null (drawn by hand).
   */
  get proposalModelVersion(): string | null {
    for (let n = this.applied.length - 1; n >= 0; n--) {
      const e = this.applied[n];
      if (e.kind === 'voxels' && e.source === 'proposal') return e.modelVersion;
    }
    return this.prior.modelVersion;
  }

  /**
   * Voxels changed by hand since the model's proposal: distinct voxels whose label now differs
   * from what it was right after the proposal (a stroke undone by an eraser counts 0). Hand
   * edits before any proposal in effect add to the count carried from the sidecar.
   */
  get handEditedVoxels(): number {
    let start = 0;
    let base = this.prior.handEditedVoxels;
    for (let n = this.applied.length - 1; n >= 0; n--) {
      const e = this.applied[n];
      if (e.kind === 'voxels' && e.source === 'proposal') {
        start = n + 1;
        base = 0;
        break;
      }
    }
    // Value before the first hand edit touching each voxel, in order.
    const firstBefore = new Map<number, number>();
    for (let n = start; n < this.applied.length; n++) {
      const e = this.applied[n];
      if (e.kind !== 'voxels') continue;
      const { runs, before } = e.delta;
      let v = 0;
      for (let r = 0; r < runs.length; r += 2) {
        for (let i = runs[r], end = runs[r] + runs[r + 1]; i < end; i++, v++) {
          if (!firstBefore.has(i)) firstBefore.set(i, before[v]);
        }
      }
    }
    let changed = 0;
    for (const [i, v] of firstBefore) if (this.labelsArray[i] !== v) changed++;
    return base + changed;
  }

  /** Voxel count per label value present (background 0 included). */
  labelVoxelCounts(): Map<number, number> {
    const counts = new Float64Array(labelBitsOf(this.labelsArray) === 16 ? 65536 : 256);
    const labels = this.labelsArray;
    for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
    const out = new Map<number, number>();
    for (let v = 0; v < counts.length; v++) if (counts[v] > 0) out.set(v, counts[v]);
    return out;
  }

  private checkDelta(delta: LabelDelta, direction: 'redo' | 'undo', label: string): void {
    try {
      validateDelta(delta, this.voxelCount);
    } catch (err) {
      throw new LabelEditError(`edit "${label}" is malformed: ${(err as Error).message}`);
    }
    const mismatches = deltaMismatchCount(this.labelsArray, delta, direction);
    if (mismatches > 0) {
      throw new LabelEditError(
        `edit "${label}" does not match the current labels (${mismatches} of ${deltaVoxelCount(delta)} voxels differ); the views are out of sync`,
      );
    }
  }

  private checkLocks(delta: LabelDelta, label: string): void {
    const locked = new Map<number, string>();
    for (const e of this.table) if (e.locked) locked.set(e.value, e.name);
    if (locked.size === 0) return;
    const hit = new Map<number, number>();
    for (let v = 0; v < delta.before.length; v++) {
      const was = delta.before[v];
      if (was !== delta.after[v] && locked.has(was)) hit.set(was, (hit.get(was) ?? 0) + 1);
    }
    if (hit.size === 0) return;
    const parts = [...hit].map(([value, count]) => `${count} voxel${count === 1 ? '' : 's'} of locked label ${value} (${locked.get(value)})`);
    throw new LabelEditError(`edit "${label}" would change ${parts.join(', ')}; unlock the label in the label table first`);
  }

  private writeDelta(delta: LabelDelta, direction: 'redo' | 'undo'): void {
    const values = direction === 'redo' ? delta.after : delta.before;
    if (this.labelsArray instanceof Uint8Array && values instanceof Uint16Array) {
      let max = 0;
      for (let v = 0; v < values.length; v++) if (values[v] > max) max = values[v];
      // More than 255 labels: the volume becomes uint16 (saved as uint16 too).
      if (max > 255) this.labelsArray = Uint16Array.from(this.labelsArray);
    }
    applyDelta(this.labelsArray, delta, direction);
  }
}
