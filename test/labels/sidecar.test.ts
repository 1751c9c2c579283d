import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSidecar, itkSnapLabelFile, parseItkSnapLabelFile, parseSidecar, sidecarToText } from '../../src/labels/sidecar';

test('sidecar: built with counts and volumes, parsed back; bad sidecars named', () => {
  const sc = buildSidecar({
    imageFile: 'case.nii.gz',
    imageSha256: 'ab'.repeat(32),
    maskFile: 'case_seg.nii.gz',
    dims: [10, 10, 4],
    bits: 8,
    voxelVolumeMm3: 0.5,
    labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }, { value: 4, name: 'Unused', color: [1, 2, 3], visible: false, locked: true }],
    voxelCounts: new Map([[0, 380], [1, 15], [9, 5]]),
    modelVersion: 'unet-v2',
    handEditedVoxels: 12,
    reviewed: true,
    savedAt: new Date('2026-01-02T03:04:05Z'),
  });
  assert.deepEqual(sc.labels.map((l) => [l.value, l.name, l.voxelCount, l.volumeMm3]), [[1, 'Lesion', 15, 7.5], [4, 'Unused', 0, 0], [9, 'Label 9', 5, 2.5]]);
  assert.equal(sc.savedAt, '2026-01-02T03:04:05.000Z');
  const parsed = parseSidecar(sidecarToText(sc), 'case_seg.json');
  assert.equal(parsed.modelVersion, 'unet-v2');
  assert.equal(parsed.handEditedVoxels, 12);
  assert.equal(parsed.reviewed, true);
  assert.equal(parsed.imageSha256, 'ab'.repeat(32));
  assert.deepEqual(parsed.labelTable.map((e) => e.value), [1, 4, 9]);
  assert.equal(parsed.labelTable[1].locked, true);
  assert.throws(() => parseSidecar('{', 'x_seg.json'), /^Error: x_seg\.json: not valid JSON|x_seg\.json: not valid JSON/);
  assert.throws(() => parseSidecar('{"format":"other"}', 'x_seg.json'), /x_seg\.json: not a Lesion Lab sidecar/);
  assert.throws(() => parseSidecar(JSON.stringify({ ...sc, labels: [{ value: 1, name: 'a', color: [0, 0], visible: true, locked: false }] }), 'x_seg.json'), /x_seg\.json: labels: row 0 \(value 1\) color/);
});

test('ITK-SNAP label description export parses back and keeps the clear label first', () => {
  const table = [
    { value: 2, name: 'Edema "peritumoral"', color: [0, 0, 255] as [number, number, number], visible: false, locked: false },
    { value: 1, name: 'Lesion', color: [255, 0, 0] as [number, number, number], visible: true, locked: false },
  ];
  const text = itkSnapLabelFile(table);
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.match(rows[0], /^\s+0\s+0\s+0\s+0\s+0 0 0\s+"Clear Label"$/);
  assert.match(rows[1], /^\s+1\s+255\s+0\s+0\s+1 1 1\s+"Lesion"$/);
  assert.match(rows[2], /^\s+2\s+0\s+0\s+255\s+1 0 0\s+"Edema {2}peritumoral "$/);
  const back = parseItkSnapLabelFile(text, 'labels.txt');
  assert.deepEqual(back.map((e) => [e.value, e.color, e.visible]), [[1, [255, 0, 0], true], [2, [0, 0, 255], false]]);
  assert.throws(() => parseItkSnapLabelFile('1 2 3\n', 'bad.txt'), /bad\.txt: line 1 is not/);
});
