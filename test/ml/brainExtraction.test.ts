import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BrainExtractionError, extractBrain, maskedToBrain } from '../../src/ml/brainExtraction';
import { diceScore } from '../../src/ml/metrics';
import { readNifti } from '../../src/nifti/read';
import type { Vec3 } from '../../src/volume/vec3';
import { HEAD_DIMS, headBrain, writeHeadImage } from '../helpers/headImage';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';

test('extractBrain: the brain of a head with scalp and skull, its bright lesion included', async () => {
  const dir = tempDir('ll-brain-');
  writeHeadImage(join(dir, 'head.nii.gz'), join(dir, 'lesion.nii.gz'), { layers: true });
  const head = await readNifti(join(dir, 'head.nii.gz'));
  const lesion = await readNifti(join(dir, 'lesion.nii.gz'));
  const [nx, ny, nz] = HEAD_DIMS;
  const truth = new Uint8Array(nx * ny * nz);
  for (let k = 0, v = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, v++) truth[v] = headBrain(i, j, k) ? 1 : 0;
  const { mask, volumeMm3 } = extractBrain(head);
  assert.ok(diceScore(mask, truth) >= 0.95, `Dice with the brain ${diceScore(mask, truth).toFixed(3)}`);
  let lesionKept = 0;
  let lesionVoxels = 0;
  let scalp = 0;
  for (let v = 0; v < mask.length; v++) {
    lesionVoxels += lesion.data[v];
    lesionKept += lesion.data[v] && mask[v] ? 1 : 0;
    if (mask[v] && head.data[v] === 110) scalp++;
  }
  assert.equal(lesionKept, lesionVoxels, 'the lesion, brighter than the scalp, stays in the brain');
  assert.equal(scalp, 0, 'no scalp');
  assert.ok(Math.abs(volumeMm3 - (4 / 3) * Math.PI * 53 * 63 * 53) < 0.1 * volumeMm3, `${volumeMm3} mm³`);
  const masked = maskedToBrain(head.data, mask);
  for (let v = 0; v < mask.length; v++) assert.equal(masked[v], mask[v] ? head.data[v] : 0);
});

test('extractBrain: a head that is tissue throughout, a flat image and a body crop have no brain to tell, and say why', async () => {
  const dir = tempDir('ll-brain-');
  writeHeadImage(join(dir, 'head.nii.gz'), join(dir, 'lesion.nii.gz'));
  const head = await readNifti(join(dir, 'head.nii.gz'));
  assert.throws(() => extractBrain(head), (e: Error) => e instanceof BrainExtractionError && /the brain found is \d+ cm³, outside 600–2600 cm³/.test(e.message));
  const dims: Vec3 = [20, 20, 20];
  assert.throws(() => extractBrain({ data: new Float32Array(8000).fill(3), dims, spacingMm: [1, 1, 1] }), /the image is flat/);
  const crop = new Float32Array(8000).map((_, v) => (v % 20 > 3 ? 100 + (v % 13) : 0));
  assert.throws(() => extractBrain({ data: crop, dims, spacingMm: [3, 3, 3] }), /outside 600–2600 cm³/);
  assert.throws(() => extractBrain({ data: new Float32Array(10), dims, spacingMm: [1, 1, 1] }), /10 voxels but its dims 20×20×20 need 8000/);
});

const ch2 = ['normal', 'mricron_debian'];
test("extractBrain: Colin27's head on 5 mm slices against its BET brain", { skip: skipWithoutSharedData(...ch2, 'ch2bet.nii.gz') }, async () => {
  const head = await readNifti(sharedDataPath(...ch2, 'ch2.nii.gz'));
  const bet = await readNifti(sharedDataPath(...ch2, 'ch2bet.nii.gz'));
  const thick = (data: ArrayLike<number>, t: number, of: (x: number) => number): { data: Float32Array; dims: Vec3 } => {
    const [nx, ny, nz] = head.dims;
    const oz = Math.floor(nz / t);
    const out = new Float32Array(nx * ny * oz);
    for (let k = 0; k < oz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      let s = 0;
      for (let d = 0; d < t; d++) s += of(data[i + nx * (j + ny * (k * t + d))]);
      out[i + nx * (j + ny * k)] = s / t;
    }
    return { data: out, dims: [nx, ny, oz] };
  };
  const image = thick(head.data, 5, (x) => x);
  const brain = thick(bet.data, 5, (x) => (x > 0 ? 1 : 0)).data.map((x) => (x >= 0.5 ? 1 : 0));
  const { mask, volumeMm3 } = extractBrain({ ...image, spacingMm: [1, 1, 5] });
  const d = diceScore(mask, brain);
  assert.ok(d >= 0.93, `Dice with BET's brain ${d.toFixed(3)} (measured 0.964)`);
  assert.ok(volumeMm3 > 1_600_000 && volumeMm3 < 2_000_000, `${volumeMm3} mm³`);
});
