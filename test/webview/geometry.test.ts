// Screen geometry from the affine (pure): axis codes, display affine, oblique detection, view
// planes and their letters, tie-breaking of the crosshair snap.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { readNiftiHeader } from '../../src/nifti/index';
import { axisCodes, displayBounds, planeToVoxelMatrix, snapToVoxelCentre, transformPoint, viewPlane, volumeGeometry, voxelIndexAt } from '../../webview/geometry';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const NIFTI_SPACE = ['odd', 'niivue', 'nifti_space'];

test('axis codes from the affine match the 48 nifti_space file names, and their bounds agree', { skip: skipWithoutSharedData(...NIFTI_SPACE) }, async () => {
  const files = readdirSync(sharedDataPath(...NIFTI_SPACE)).filter((f) => f.endsWith('.nii.gz'));
  assert.equal(files.length, 48);
  let refBounds: string | null = null;
  for (const f of files) {
    const info = await readNiftiHeader(sharedDataPath(...NIFTI_SPACE, f));
    const g = volumeGeometry(info.dims, info.affine);
    assert.equal(axisCodes(g), f.slice(0, 3), f);
    assert.equal(g.obliqueDeg, 0);
    const b = displayBounds(g);
    const s = JSON.stringify([b.min.map((x) => x.toFixed(4)), b.max.map((x) => x.toFixed(4))]);
    refBounds ??= s;
    assert.equal(s, refBounds, `${f}: the same anatomy occupies the same world box`);
  }
});

test('display affine of an axis-aligned image equals its affine; an oblique one is snapped with its angle', () => {
  const las = [-1, 0, 0, 90, 0, 1, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1];
  const g = volumeGeometry([182, 218, 91], las);
  assert.equal(axisCodes(g), 'LAS');
  assert.deepEqual(Array.from(g.displayAffine), las);
  assert.deepEqual(g.spacingMm, [1, 1, 2]);
  const c = Math.cos((20 * Math.PI) / 180);
  const s = Math.sin((20 * Math.PI) / 180);
  const oblique = volumeGeometry([10, 10, 10], [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.ok(Math.abs(oblique.obliqueDeg - 20) < 1e-9);
  assert.equal(axisCodes(oblique), 'RAS');
  // The display keeps the volume centre where the true affine puts it.
  const centre = [4.5, 4.5, 4.5];
  const a = transformPoint(oblique.affine, centre);
  const d = transformPoint(oblique.displayAffine, centre);
  assert.ok(a.every((x, n) => Math.abs(x - d[n]) < 1e-9));
  assert.throws(() => volumeGeometry([10, 10, 10], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), /affine column 1 has length 0/);
});

test('view planes: letters for both conventions; the plane maps to voxels', () => {
  assert.deepEqual(viewPlane('axial', 'radiological').letters, { left: 'R', right: 'L', top: 'A', bottom: 'P' });
  assert.deepEqual(viewPlane('axial', 'neurological').letters, { left: 'L', right: 'R', top: 'A', bottom: 'P' });
  assert.deepEqual(viewPlane('coronal', 'radiological').letters, { left: 'R', right: 'L', top: 'S', bottom: 'I' });
  assert.deepEqual(viewPlane('sagittal', 'radiological').letters, { left: 'A', right: 'P', top: 'S', bottom: 'I' });
  const g = volumeGeometry([10, 20, 30], [-2, 0, 0, 10, 0, 1, 0, -5, 0, 0, 3, 0, 0, 0, 0, 1]);
  const m = planeToVoxelMatrix(g, viewPlane('axial', 'radiological'), [0, 0, 12]);
  // Radiological u = −x; x = 10 − 2i → i = (10 + u) / 2; v = y = j − 5; z = 3k → k = 4.
  assert.deepEqual(transformPoint(m, [-4, 1, 0]), [3, 6, 4]);
});

test('crosshair snap: to voxel centres, ties to the +world side whatever the flips', () => {
  const ras = volumeGeometry([4, 4, 4], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const las = volumeGeometry([4, 4, 4], [-1, 0, 0, 3, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  // World x = 1.5 lies between voxel centres 1 and 2 (RAS) = 2 and 1 (LAS): both choose x = 2.
  assert.deepEqual(snapToVoxelCentre(ras, [1.5, 0.2, 3.7]), [2, 0, 3]);
  assert.deepEqual(snapToVoxelCentre(las, [1.5, 0.2, 3.7]), [2, 0, 3]);
  assert.deepEqual(snapToVoxelCentre(ras, [-9, 9, 1]), [0, 3, 1], 'clamped into the grid');
  assert.equal(voxelIndexAt(ras, [4.6, 0, 0]), null);
  assert.deepEqual(voxelIndexAt(las, [2, 0, 0]), [1, 0, 0]);
});
