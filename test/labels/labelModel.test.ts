import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDelta, LabelDeltaRecorder, type LabelDelta } from '../../src/protocol/labelDelta';
import { completeLabelTable, LabelEditError, LabelModel } from '../../src/labels/labelModel';

const dims: [number, number, number] = [4, 3, 2];

function paint(model: LabelModel, indices: number[], value: number): LabelDelta {
  const copy = model.labels.slice();
  const rec = new LabelDeltaRecorder(copy);
  for (const i of indices) rec.set(i, value);
  return rec.finish();
}

test('edits, undo and redo; undoing back to the saved state is clean', () => {
  const m = LabelModel.empty(dims);
  assert.equal(m.isDirty, false);
  const e1 = m.applyVoxelEdit('Brush', paint(m, [0, 1, 2], 1));
  const e2 = m.applyVoxelEdit('Brush', paint(m, [2, 3], 2));
  assert.deepEqual([...m.labels.slice(0, 5)], [1, 1, 2, 2, 0]);
  assert.equal(m.isDirty, true);
  m.markSaved();
  assert.equal(m.isDirty, false);
  m.undo(e2);
  assert.deepEqual([...m.labels.slice(0, 5)], [1, 1, 1, 0, 0]);
  assert.equal(m.isDirty, true);
  m.redo(e2);
  assert.equal(m.isDirty, false, 'redo back to the saved state is clean');
  m.undo(e2);
  m.undo(e1);
  assert.ok(m.labels.every((v) => v === 0));
  assert.equal(m.isDirty, true);
  // A new edit after undo replaces the redo branch; the saved state cannot be reached any more.
  m.applyVoxelEdit('Fill', paint(m, [5], 3));
  assert.equal(m.isDirty, true);
  assert.equal(m.history.length, 1);
});

test('undo out of order and out-of-sync deltas are refused without changing anything', () => {
  const m = LabelModel.empty(dims);
  const e1 = m.applyVoxelEdit('Brush', paint(m, [0], 1));
  m.applyVoxelEdit('Brush', paint(m, [1], 1));
  assert.throws(() => m.undo(e1), /cannot undo "Brush": it is not the most recent edit/);
  const stale = encodeDelta(new Uint8Array(24), new Uint8Array(24).fill(5, 0, 2)); // expects 0 where 1 is
  const before = m.labels.slice();
  assert.throws(() => m.applyVoxelEdit('Brush', stale), (e: unknown) => e instanceof LabelEditError && /2 of 2 voxels differ\); the views are out of sync/.test(e.message));
  assert.deepEqual(m.labels, before);
  assert.throws(() => m.applyVoxelEdit('Brush', { runs: new Uint32Array([23, 2]), before: new Uint8Array(2), after: new Uint8Array(2) }), /malformed: .*beyond the volume's 24 voxels/);
  assert.throws(() => new LabelModel(dims, new Uint8Array(5), []), /5 voxels but the image grid 4×3×2 has 24/);
});

test('label table edits are undoable and copied, not aliased', () => {
  const m = LabelModel.empty(dims);
  const t = m.labelTable;
  t[0].name = 'changed outside';
  assert.equal(m.labelTable[0].name, 'Lesion');
  const e = m.applyTableEdit('Rename label', [{ value: 1, name: 'Tumour', color: [0, 255, 0], visible: true, locked: true }]);
  assert.equal(m.labelTable[0].name, 'Tumour');
  m.undo(e);
  assert.equal(m.labelTable[0].name, 'Lesion');
  m.redo(e);
  assert.equal(m.labelTable[0].locked, true);
});

test('provenance: proposal model version and distinct hand-edited voxels since it', () => {
  const m = new LabelModel(dims, new Uint8Array(24), [], { modelVersion: 'old-v0', handEditedVoxels: 4 });
  assert.equal(m.proposalModelVersion, 'old-v0');
  const h0 = m.applyVoxelEdit('Brush', paint(m, [20], 1));
  assert.equal(m.handEditedVoxels, 5, 'hand edits before a new proposal add to the sidecar count');
  const p = m.applyVoxelEdit('Accept proposal', paint(m, [0, 1, 2, 3, 4, 5], 1), 'proposal', 'unet-v3');
  assert.equal(m.proposalModelVersion, 'unet-v3');
  assert.equal(m.handEditedVoxels, 0);
  const h1 = m.applyVoxelEdit('Eraser', paint(m, [4, 5], 0));
  const h2 = m.applyVoxelEdit('Brush', paint(m, [5, 6, 7], 1)); // voxel 5 restored: net change 4, 6, 7
  assert.equal(m.handEditedVoxels, 3);
  m.undo(h2);
  m.undo(h1);
  assert.equal(m.handEditedVoxels, 0);
  m.undo(p);
  assert.equal(m.proposalModelVersion, 'old-v0', 'undoing the proposal restores the earlier provenance');
  assert.equal(m.handEditedVoxels, 5);
  m.undo(h0);
  assert.equal(m.handEditedVoxels, 4);
});

test('a 16-bit value promotes an 8-bit volume to uint16', () => {
  const m = LabelModel.empty(dims);
  const delta: LabelDelta = { runs: new Uint32Array([3, 1]), before: new Uint16Array([0]), after: new Uint16Array([300]) };
  const e = m.applyVoxelEdit('Brush', delta);
  assert.ok(m.labels instanceof Uint16Array);
  assert.equal(m.labels[3], 300);
  m.undo(e);
  assert.equal(m.labels[3], 0);
});

test('voxel counts and completing the label table from the volume', () => {
  const labels = new Uint8Array(24);
  labels.fill(1, 0, 5);
  labels.fill(7, 10, 12);
  const m = new LabelModel(dims, labels, []);
  assert.deepEqual([...m.labelVoxelCounts()].sort((a, b) => a[0] - b[0]), [[0, 17], [1, 5], [7, 2]]);
  const table = completeLabelTable([{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }], labels);
  assert.deepEqual(table.map((e) => [e.value, e.name]), [[1, 'Lesion'], [7, 'Label 7']]);
});

test('revert keeps the edits up to the save point undoable, like VS Code does', () => {
  const m = LabelModel.empty(dims);
  const e1 = m.applyVoxelEdit('Brush', paint(m, [0, 1], 1));
  m.markSaved();
  const savedLabels = m.labels.slice();
  m.applyVoxelEdit('Brush', paint(m, [2], 1));
  // What the session re-reads from disk: the saved labels.
  m.revertToSaved(savedLabels.slice(), m.labelTable, { modelVersion: 'from-disk', handEditedVoxels: 99 });
  assert.equal(m.isDirty, false);
  assert.equal(m.history.length, 1);
  assert.equal(m.proposalModelVersion, null, 'prior kept: the saved edits are still counted from the open-time state');
  assert.equal(m.handEditedVoxels, 2);
  m.undo(e1);
  assert.ok(m.labels.every((v) => v === 0));
  assert.equal(m.isDirty, true);
  // Nothing saved in the session: the re-read provenance is taken over.
  const fresh = LabelModel.empty(dims);
  fresh.applyVoxelEdit('Brush', paint(fresh, [4], 1));
  fresh.revertToSaved(new Uint8Array(24), fresh.labelTable, { modelVersion: 'from-disk', handEditedVoxels: 7 });
  assert.equal(fresh.history.length, 0);
  assert.equal(fresh.proposalModelVersion, 'from-disk');
  assert.equal(fresh.handEditedVoxels, 7);
});

test('an edit that changes voxels of a locked label is refused by the host; other voxels may change', () => {
  const m = LabelModel.empty(dims, [
    { value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false },
    { value: 2, name: 'Edema', color: [0, 0, 255], visible: true, locked: true },
  ]);
  m.applyVoxelEdit('Fill', paint(m, [0, 1], 2));
  m.applyTableEdit('Lock label', m.labelTable);
  const before = m.labels.slice();
  // Erasing or painting over locked voxels (as a webview that ignores the lock would send).
  assert.throws(() => m.applyVoxelEdit('Eraser', paint(m, [1, 2], 0)), (e: unknown) => e instanceof LabelEditError && /locked label 2 \(Edema\)/.test(e.message) && /1 voxel/.test(e.message));
  assert.throws(() => m.applyVoxelEdit('Brush', paint(m, [0], 1)), /locked/);
  assert.deepEqual(m.labels, before);
  assert.equal(m.history.length, 2);
  // Painting background and unlocked voxels is fine, also with the locked value itself.
  m.applyVoxelEdit('Brush', paint(m, [3, 4], 1));
  m.applyVoxelEdit('Brush', paint(m, [5], 2));
  assert.deepEqual([...m.labels.slice(0, 6)], [2, 2, 0, 1, 1, 2]);
});
