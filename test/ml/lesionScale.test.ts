import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newLesionTypeReason, typicalLesionVolumeMm3 } from '../../src/ml/training/lesionScale';
import type { Vec3 } from '../../src/volume/vec3';

const dims: Vec3 = [12, 12, 12];
/** A mask with one cube per side given, the cubes apart along i. */
function cubes(...sides: number[]): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  let i0 = 0;
  for (const s of sides) {
    for (let k = 0; k < s; k++) for (let j = 0; j < s; j++) for (let i = i0; i < i0 + s; i++) m[(k * dims[1] + j) * dims[0] + i] = 1;
    i0 += s + 1;
  }
  return m;
}

test('typicalLesionVolumeMm3: the median over masks of each mask’s median lesion volume, in mm³', () => {
  const iso: Vec3 = [1, 1, 1];
  // Medians 8, 27 and 1 voxel(s) → 8; the empty mask does not count.
  const masks = [cubes(2), cubes(3, 3, 1), cubes(1, 1, 4), cubes()].map((labels) => ({ labels, dims, spacingMm: iso }));
  assert.equal(typicalLesionVolumeMm3(masks), 8);
  // Voxel size counts: 2 × 1 × 3 mm voxels.
  assert.equal(typicalLesionVolumeMm3([{ labels: cubes(2), dims, spacingMm: [2, 1, 3] }]), 48);
  assert.equal(typicalLesionVolumeMm3([{ labels: cubes(), dims, spacingMm: iso }]), null);
});

test('typicalLesionVolumeMm3: specks beside a large lesion do not count; many small lesions do', () => {
  const iso: Vec3 = [1, 1, 1];
  // A 512-voxel lesion with two 1-voxel islands (0.4 % of the volume): 512, not 1.
  assert.equal(typicalLesionVolumeMm3([{ labels: cubes(8, 1, 1), dims, spacingMm: iso }]), 512);
  // The same lesion with 18 single voxels around it (3.4 % of the volume): small lesions, as in MS.
  const many = cubes(8);
  let placed = 0;
  for (let k = 0; k < dims[2]; k += 2) {
    for (let i = 0; i < dims[0] && placed < 18; i += 2) {
      many[(k * dims[1] + 10) * dims[0] + i] = 1;
      placed++;
    }
  }
  assert.equal(placed, 18);
  assert.equal(typicalLesionVolumeMm3([{ labels: many, dims, spacingMm: iso }]), 1);
});

test('newLesionTypeReason: lesion scales 10× or more apart are another kind of lesion, either way', () => {
  assert.match(newLesionTypeReason(17, 50_000) as string, /^the cases' lesions \(typically 50,000 mm³\) are 2941× larger than the base model's \(17 mm³\): another kind of lesion$/);
  assert.match(newLesionTypeReason(182_000, 9_000) as string, /20× smaller/);
  assert.equal(newLesionTypeReason(182_000, 50_000), null);
  // Unknown on either side: no claim.
  assert.equal(newLesionTypeReason(undefined, 50_000), null);
  assert.equal(newLesionTypeReason(17, null), null);
});
