// One label edit, shared by the extension host and the webview, and the operations on it
// (encode, record, validate, apply, invert); its postMessage form is in labelDeltaWire.ts.
//
// An edit is the set of voxels it changed, as run-length-encoded runs of linear voxel indices
// (i + nx*(j + ny*k)), with the value before and after for every changed voxel. ITK-SNAP keeps
// its undo history the same way: compact, exact in both directions, independent of the tool.
// Pure and dependency-free: no vscode, no DOM, no Node APIs.

/** A label volume: uint8, or uint16 when there are more than 255 labels. */
export type LabelArray = Uint8Array | Uint16Array;

/** Bits per label voxel. */
export type LabelBits = 8 | 16;

/**
 * One edit: the changed voxels and their values before and after.
 *
 * Invariants (checked by {@link validateDelta}): `runs` holds [start, length] pairs, sorted by
 * start and non-overlapping (adjacent runs are allowed); every length is > 0; `before.length === after.length === sum of lengths`; `before` and
 * `after` have the same element type. Values are listed in run order.
 */
export interface LabelDelta {
  /** Flat [start0, length0, start1, length1, …] over linear voxel indices. */
  readonly runs: Uint32Array;
  /** Values before the edit, one per changed voxel, in run order. */
  readonly before: LabelArray;
  /** Values after the edit, one per changed voxel, in run order. */
  readonly after: LabelArray;
}

/** Thrown when a delta is malformed or does not fit the label volume it is applied to. */
export class LabelDeltaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelDeltaError';
  }
}

/** Which values to write: `redo` writes `after`, `undo` writes `before`. */
export type DeltaDirection = 'redo' | 'undo';

/** Number of voxels a delta changes. */
export function deltaVoxelCount(delta: LabelDelta): number {
  return delta.before.length;
}

/** Bits per value of a label array. */
export function labelBitsOf(labels: LabelArray): LabelBits {
  return labels instanceof Uint16Array ? 16 : 8;
}

/** A new, zeroed label array of `voxelCount` voxels and the given bit depth. */
export function createLabelArray(voxelCount: number, bits: LabelBits): LabelArray {
  return bits === 16 ? new Uint16Array(voxelCount) : new Uint8Array(voxelCount);
}

function sameKind(bits: LabelBits, n: number): LabelArray {
  return createLabelArray(n, bits);
}

/** Options of {@link encodeDelta}. */
export interface EncodeRange {
  /** First linear index to compare (default 0). */
  start?: number;
  /** One past the last linear index to compare (default the array length). */
  end?: number;
}

/**
 * Compares two label volumes of the same size and returns the delta that turns `before` into
 * `after`. Only voxels in [range.start, range.end) are compared, so a tool that knows it touched
 * one slice can pass that slice's index range.
 *
 * @throws LabelDeltaError when the arrays differ in length or the range is out of bounds.
 */
export function encodeDelta(before: LabelArray, after: LabelArray, range: EncodeRange = {}): LabelDelta {
  if (before.length !== after.length) {
    throw new LabelDeltaError(`encodeDelta: volumes differ in size (${before.length} vs ${after.length} voxels)`);
  }
  const start = range.start ?? 0;
  const end = range.end ?? before.length;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > before.length || start > end) {
    throw new LabelDeltaError(
      `encodeDelta: range [${start}, ${end}) is not within the volume's ${before.length} voxels`,
    );
  }
  const bits: LabelBits = labelBitsOf(before) === 16 || labelBitsOf(after) === 16 ? 16 : 8;
  // First pass counts, second fills: no intermediate arrays for large volumes.
  let changed = 0;
  let runCount = 0;
  let inRun = false;
  for (let i = start; i < end; i++) {
    if (before[i] !== after[i]) {
      changed++;
      if (!inRun) {
        runCount++;
        inRun = true;
      }
    } else {
      inRun = false;
    }
  }
  const runs = new Uint32Array(runCount * 2);
  const b = sameKind(bits, changed);
  const a = sameKind(bits, changed);
  let r = -1;
  let v = 0;
  inRun = false;
  for (let i = start; i < end; i++) {
    if (before[i] !== after[i]) {
      if (!inRun) {
        r++;
        runs[2 * r] = i;
        runs[2 * r + 1] = 0;
        inRun = true;
      }
      runs[2 * r + 1]++;
      b[v] = before[i];
      a[v] = after[i];
      v++;
    } else {
      inRun = false;
    }
  }
  return { runs, before: b, after: a };
}

/**
 * Records the changes a tool makes to a label volume, writing them through at once (so the
 * screen can update during the gesture), and turns them into one {@link LabelDelta} at the end.
 *
 * Usage: `const rec = new LabelDeltaRecorder(labels); rec.set(idx, 1); …; const d = rec.finish();`
 * A voxel set back to its original value is not part of the delta.
 */
export class LabelDeltaRecorder {
  private readonly touchedBits: Uint8Array;
  private touched: Uint32Array = new Uint32Array(1024);
  private originals: Uint16Array = new Uint16Array(1024);
  private count = 0;
  private finished = false;
  private originalsByIndex: Map<number, number> | null = null;

  /** @param labels - the live label volume; `set` writes into it. */
  constructor(readonly labels: LabelArray) {
    // One bit per voxel: 10 MB for a 512×512×300 volume, zero-filled by the allocator.
    this.touchedBits = new Uint8Array((labels.length + 7) >>> 3);
  }

  /** Number of distinct voxels touched so far (including ones set back to their value). */
  get touchedCount(): number {
    return this.count;
  }

  /**
   * Sets voxel `index` to `value`, remembering its value before the gesture.
   * @throws LabelDeltaError for an index outside the volume, a value that does not fit, or after finish().
   */
  set(index: number, value: number): void {
    if (this.finished) throw new LabelDeltaError('LabelDeltaRecorder.set: the recorder is already finished');
    if (!(index >= 0 && index < this.labels.length) || !Number.isInteger(index)) {
      throw new LabelDeltaError(`LabelDeltaRecorder.set: index ${index} is outside the volume of ${this.labels.length} voxels`);
    }
    const max = this.labels instanceof Uint16Array ? 65535 : 255;
    if (!(value >= 0 && value <= max) || !Number.isInteger(value)) {
      throw new LabelDeltaError(`LabelDeltaRecorder.set: label value ${value} does not fit a ${max === 255 ? 8 : 16}-bit label volume`);
    }
    const byte = index >>> 3;
    const bit = 1 << (index & 7);
    if ((this.touchedBits[byte] & bit) === 0) {
      this.touchedBits[byte] |= bit;
      if (this.count === this.touched.length) this.grow();
      this.touched[this.count] = index;
      this.originals[this.count] = this.labels[index];
      this.originalsByIndex?.set(index, this.labels[index]);
      this.count++;
    }
    this.labels[index] = value;
  }

  /**
   * Value the voxel had before the gesture started (its current value if untouched). The first
   * call indexes the touched voxels; later calls and sets keep the index up to date (O(1)).
   */
  originalValue(index: number): number {
    const byte = index >>> 3;
    const bit = 1 << (index & 7);
    if ((this.touchedBits[byte] & bit) === 0) return this.labels[index];
    if (!this.originalsByIndex) {
      this.originalsByIndex = new Map();
      for (let n = 0; n < this.count; n++) this.originalsByIndex.set(this.touched[n], this.originals[n]);
    }
    return this.originalsByIndex.get(index) ?? this.labels[index];
  }

  private grow(): void {
    const t = new Uint32Array(this.touched.length * 2);
    t.set(this.touched);
    this.touched = t;
    const o = new Uint16Array(this.originals.length * 2);
    o.set(this.originals);
    this.originals = o;
  }

  /** Puts every touched voxel back to its original value and finishes (a cancelled gesture). */
  cancel(): void {
    for (let n = 0; n < this.count; n++) this.labels[this.touched[n]] = this.originals[n];
    this.finished = true;
  }

  /** Ends the gesture and returns its delta (sorted runs; unchanged voxels dropped). */
  finish(): LabelDelta {
    if (this.finished) throw new LabelDeltaError('LabelDeltaRecorder.finish: the recorder is already finished');
    this.finished = true;
    const n = this.count;
    // Pack (index, original) into one float64 (index < 2^32, value < 2^16: exact below 2^53)
    // so one native numeric sort orders both together.
    const packed = new Float64Array(n);
    for (let t = 0; t < n; t++) packed[t] = this.touched[t] * 65536 + this.originals[t];
    packed.sort();
    const bits = labelBitsOf(this.labels);
    let changed = 0;
    for (let t = 0; t < n; t++) {
      const index = Math.floor(packed[t] / 65536);
      if (this.labels[index] !== packed[t] - index * 65536) changed++;
    }
    const before = sameKind(bits, changed);
    const after = sameKind(bits, changed);
    const runsTmp = new Uint32Array(changed * 2);
    let r = -1;
    let v = 0;
    let last = -2;
    for (let t = 0; t < n; t++) {
      const index = Math.floor(packed[t] / 65536);
      const orig = packed[t] - index * 65536;
      const now = this.labels[index];
      if (now === orig) continue;
      if (index !== last + 1 || r < 0) {
        r++;
        runsTmp[2 * r] = index;
        runsTmp[2 * r + 1] = 0;
      }
      runsTmp[2 * r + 1]++;
      before[v] = orig;
      after[v] = now;
      v++;
      last = index;
    }
    return { runs: runsTmp.slice(0, 2 * (r + 1)), before, after };
  }
}

/**
 * Checks a delta's internal consistency and, when `voxelCount` is given, that it fits a volume
 * of that many voxels.
 * @throws LabelDeltaError naming the first problem found.
 */
export function validateDelta(delta: LabelDelta, voxelCount?: number): void {
  const { runs, before, after } = delta;
  if (!(runs instanceof Uint32Array)) throw new LabelDeltaError('label delta: runs must be a Uint32Array');
  if (runs.length % 2 !== 0) throw new LabelDeltaError(`label delta: runs has ${runs.length} numbers, not [start, length] pairs`);
  const beforeIs16 = before instanceof Uint16Array;
  const afterIs16 = after instanceof Uint16Array;
  if (!(before instanceof Uint8Array || beforeIs16) || !(after instanceof Uint8Array || afterIs16)) {
    throw new LabelDeltaError('label delta: before and after must be Uint8Array or Uint16Array');
  }
  if (beforeIs16 !== afterIs16) throw new LabelDeltaError('label delta: before and after have different bit depths');
  if (before.length !== after.length) {
    throw new LabelDeltaError(`label delta: before has ${before.length} values but after has ${after.length}`);
  }
  let total = 0;
  let prevEnd = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r];
    const length = runs[r + 1];
    if (length === 0) throw new LabelDeltaError(`label delta: run ${r / 2} has length 0`);
    if (r > 0 && start < prevEnd) {
      throw new LabelDeltaError(`label delta: run ${r / 2} (start ${start}) overlaps or precedes the previous run (end ${prevEnd})`);
    }
    prevEnd = start + length;
    total += length;
    if (voxelCount !== undefined && prevEnd > voxelCount) {
      throw new LabelDeltaError(`label delta: run ${r / 2} ends at voxel ${prevEnd}, beyond the volume's ${voxelCount} voxels`);
    }
  }
  if (total !== before.length) {
    throw new LabelDeltaError(`label delta: runs cover ${total} voxels but ${before.length} values are given`);
  }
}

/**
 * Writes a delta into `labels`: the `after` values for `redo`, the `before` values for `undo`.
 * Validates first, so a bad delta leaves `labels` untouched.
 * @throws LabelDeltaError for a malformed delta, one that runs past the volume, or values too
 *   large for an 8-bit volume.
 */
export function applyDelta(labels: LabelArray, delta: LabelDelta, direction: DeltaDirection = 'redo'): void {
  validateDelta(delta, labels.length);
  const values = direction === 'redo' ? delta.after : delta.before;
  if (!(labels instanceof Uint16Array) && values instanceof Uint16Array) {
    for (let v = 0; v < values.length; v++) {
      if (values[v] > 255) {
        throw new LabelDeltaError(`label delta: value ${values[v]} does not fit an 8-bit label volume`);
      }
    }
  }
  let v = 0;
  const runs = delta.runs;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r];
    const end = start + runs[r + 1];
    for (let i = start; i < end; i++) labels[i] = values[v++];
  }
}

/**
 * Counts the voxels whose current value differs from what the delta expects to find: the
 * `before` values (for `redo`) or the `after` values (for `undo`). 0 means the delta applies
 * cleanly; anything else means the two sides are out of sync.
 */
export function deltaMismatchCount(labels: LabelArray, delta: LabelDelta, direction: DeltaDirection = 'redo'): number {
  validateDelta(delta, labels.length);
  const expected = direction === 'redo' ? delta.before : delta.after;
  let v = 0;
  let mismatches = 0;
  const runs = delta.runs;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r];
    const end = start + runs[r + 1];
    for (let i = start; i < end; i++) if (labels[i] !== expected[v++]) mismatches++;
  }
  return mismatches;
}

/** The delta that undoes `delta` (before and after swapped; runs shared, they are read-only). */
export function invertDelta(delta: LabelDelta): LabelDelta {
  return { runs: delta.runs, before: delta.after, after: delta.before };
}
