// Rigid registration (src/volume/rigidRegistration.ts) on soft-tissue sarcoma patients (CC BY 3.0)
// and two public brain templates: an image whose affine was moved by a known rotation and shift is
// put back where its own affine had it, to a fraction of a voxel for the same image and within
// about a PET voxel for a PET against its CT; two different brains reach the same pose from far
// off as from their affines; images placed 300 mm apart meet by their centroids first; bad input
// is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNifti } from '../../src/nifti';
import { RegistrationError, registerRigid, type RegistrationImage } from '../../src/volume/rigidRegistration';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const STS = (patient: string, modality: string, file = 'image.nii.gz') => sharedDataPath('lesion', 'sarcoma-ct-mr-pet', patient, modality, file);

/** A rigid world transform: rotations (degrees, about x then y then z) about `centre`, then a shift (mm). */
function rigid(deg: number[], shiftMm: number[], centre: number[]): Float64Array {
  const [ax, ay, az] = deg.map((d) => (d * Math.PI) / 180);
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const R = [cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx, sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx, -sy, cy * sx, cy * cx];
  const m = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) m[4 * r + c] = R[3 * r + c];
    m[4 * r + 3] = centre[r] + shiftMm[r] - (R[3 * r] * centre[0] + R[3 * r + 1] * centre[1] + R[3 * r + 2] * centre[2]);
  }
  m[15] = 1;
  return m;
}

function multiply(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) out[4 * r + c] += a[4 * r + k] * b[4 * k + c];
  return out;
}

const worldOf = (a: ArrayLike<number>, v: number[]): number[] => [0, 1, 2].map((r) => a[4 * r] * v[0] + a[4 * r + 1] * v[1] + a[4 * r + 2] * v[2] + a[4 * r + 3]);

/** Largest distance (mm) between where two affines put the image's 8 corner voxels. */
function cornerErrorMm(a: ArrayLike<number>, b: ArrayLike<number>, dims: number[]): number {
  let worst = 0;
  for (const i of [0, dims[0] - 1]) for (const j of [0, dims[1] - 1]) for (const k of [0, dims[2] - 1]) {
    const p = worldOf(a, [i, j, k]);
    const q = worldOf(b, [i, j, k]);
    worst = Math.max(worst, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
  }
  return worst;
}

const centreOf = (img: RegistrationImage): number[] => worldOf(img.affine, img.dims.map((d) => (d - 1) / 2));
const MOVE_DEG = [4, -3, 8];
const MOVE_MM = [15, -10, 6];

test('the same image moved by 9° and 19 mm is put back to a fraction of a voxel (CT, MR T1, PET)', { skip: skipWithoutSharedData('lesion', 'sarcoma-ct-mr-pet', 'STS_002', 'PET', 'image.nii.gz') }, async () => {
  for (const modality of ['CT', 'MR_T1', 'PET']) {
    const image = await readNifti(STS('STS_002', modality));
    const moved = multiply(rigid(MOVE_DEG, MOVE_MM, centreOf(image)), image.affine);
    const before = cornerErrorMm(moved, image.affine, image.dims);
    const t0 = Date.now();
    const r = registerRigid(image, { data: image.data, dims: image.dims, affine: moved });
    const after = cornerErrorMm(r.correctedAffine, image.affine, image.dims);
    const voxelMm = Math.min(...image.spacingMm);
    assert.ok(before > 25, `${modality}: the move shifts a corner by ${before.toFixed(1)} mm`);
    assert.ok(after < 0.5 * voxelMm, `${modality}: corners within ${after.toFixed(2)} mm after (${voxelMm.toFixed(2)} mm voxels; ${Date.now() - t0} ms)`);
    assert.ok(r.nmiAfter > r.nmiBefore + 0.1, `${modality}: NMI ${r.nmiBefore.toFixed(3)} → ${r.nmiAfter.toFixed(3)}`);
  }
});

test('a PET moved off its CT comes back within about one PET voxel of where the scanner put it (tumour centre)', { skip: skipWithoutSharedData('lesion', 'sarcoma-ct-mr-pet', 'STS_012', 'PET', 'image.nii.gz') }, async () => {
  for (const patient of ['STS_002', 'STS_012']) {
    const ct = await readNifti(STS(patient, 'CT'));
    const pet = await readNifti(STS(patient, 'PET'));
    const mask = await readNifti(STS(patient, 'PET', 'mask.nii.gz'));
    const [mx, my] = mask.dims;
    const sum = [0, 0, 0];
    let n = 0;
    for (let v = 0; v < mask.data.length; v++) {
      if (!mask.data[v]) continue;
      sum[0] += v % mx;
      sum[1] += Math.floor(v / mx) % my;
      sum[2] += Math.floor(v / (mx * my));
      n++;
    }
    const tumour = sum.map((s) => s / n);
    const errorAtTumour = (a: ArrayLike<number>): number => {
      const p = worldOf(a, tumour);
      const q = worldOf(pet.affine, tumour);
      return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
    };
    const moved = multiply(rigid(MOVE_DEG, MOVE_MM, centreOf(ct)), pet.affine);
    const r = registerRigid(ct, { data: pet.data, dims: pet.dims, affine: moved });
    const petVoxelMm = Math.max(pet.spacingMm[0], pet.spacingMm[1]);
    assert.ok(errorAtTumour(moved) > 15, `${patient}: the tumour moved by ${errorAtTumour(moved).toFixed(1)} mm`);
    assert.ok(errorAtTumour(r.correctedAffine) < 1.5 * petVoxelMm, `${patient}: the tumour centre is ${errorAtTumour(r.correctedAffine).toFixed(1)} mm from the scanner's placement (PET voxels ${petVoxelMm.toFixed(2)} mm)`);
  }
});

test('images 300 mm apart (no overlap) meet by their centroids first, then align', { skip: skipWithoutSharedData('lesion', 'sarcoma-ct-mr-pet', 'STS_031', 'MR_T1', 'image.nii.gz') }, async () => {
  const image = await readNifti(STS('STS_031', 'MR_T1'));
  const moved = multiply(rigid([0, 0, 5], [300, -40, 20], centreOf(image)), image.affine);
  const r = registerRigid(image, { data: image.data, dims: image.dims, affine: moved });
  const after = cornerErrorMm(r.correctedAffine, image.affine, image.dims);
  assert.ok(after < 1, `corners within ${after.toFixed(2)} mm (translation found ${r.translationMm.map((t) => t.toFixed(1)).join(', ')} mm)`);
  assert.equal(r.nmiBefore, 0, 'no overlap at the start: no mutual information');
});

test('refused: one value only, bad options, a cancelled search, values that do not fit the grid', () => {
  const dims: [number, number, number] = [16, 16, 16];
  const affine = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1];
  const blob = new Float32Array(16 ** 3).map((_, v) => (Math.hypot((v % 16) - 8, (Math.floor(v / 16) % 16) - 7, Math.floor(v / 256) - 8) < 5 ? 100 : 0));
  const flat = new Float32Array(16 ** 3).fill(7);
  assert.throws(() => registerRigid({ data: blob, dims, affine }, { data: flat, dims, affine }), (e: unknown) => e instanceof RegistrationError && /one value only/.test(e.message));
  assert.throws(() => registerRigid({ data: blob, dims, affine }, { data: blob, dims, affine }, { bins: 2 }), /bins must be 4–256/);
  assert.throws(() => registerRigid({ data: blob, dims, affine }, { data: blob, dims, affine }, { levelsMm: [] }), /levelsMm/);
  assert.throws(() => registerRigid({ data: blob, dims, affine }, { data: blob, dims, affine }, { levelsMm: [2, 4] }), /from coarse to fine, got \[2, 4\]/);
  const aborted = new AbortController();
  aborted.abort();
  assert.throws(() => registerRigid({ data: blob, dims, affine }, { data: blob, dims, affine }, { signal: aborted.signal }), /cancelled/);
  assert.throws(() => registerRigid({ data: blob.subarray(1), dims, affine }, { data: blob, dims, affine }), /4095 values for dims 16×16×16/);
  // A small synthetic blob shifted by 3 mm comes back.
  const shifted = multiply(rigid([0, 0, 0], [3, -2, 1], [16, 16, 16]), affine);
  const r = registerRigid({ data: blob, dims, affine }, { data: blob, dims, affine: shifted }, { levelsMm: [4, 2] });
  assert.ok(cornerErrorMm(r.correctedAffine, affine, dims) < 1, `blob: ${r.translationMm.map((t) => t.toFixed(2))}`);
});

test('two brains of different people (Colin27 onto the MNI152 2009 template): from 9° and 19 mm off, the same pose as from their affines', { skip: skipWithoutSharedData('normal', 'mricron_debian', 'ch2.nii.gz') || skipWithoutSharedData('normal', 'niivue_images', 'MNI152_2009_template.nii.gz') }, async () => {
  const template = await readNifti(sharedDataPath('normal', 'niivue_images', 'MNI152_2009_template.nii.gz'));
  const colin = await readNifti(sharedDataPath('normal', 'mricron_debian', 'ch2.nii.gz'));
  const fromAffines = registerRigid(template, colin);
  const moved = multiply(rigid(MOVE_DEG, MOVE_MM, centreOf(template)), colin.affine);
  const fromOff = registerRigid(template, { data: colin.data, dims: colin.dims, affine: moved });
  // Both are in MNI space already: the registration moves Colin27 by a few mm at most.
  assert.ok(cornerErrorMm(fromAffines.correctedAffine, colin.affine, colin.dims) < 6, `from the affines it moves corners by ${cornerErrorMm(fromAffines.correctedAffine, colin.affine, colin.dims).toFixed(2)} mm`);
  const apart = cornerErrorMm(fromOff.correctedAffine, fromAffines.correctedAffine, colin.dims);
  assert.ok(apart < 1.5, `the two results' corners ${apart.toFixed(2)} mm apart (the move was ${cornerErrorMm(moved, colin.affine, colin.dims).toFixed(1)} mm)`);
});
