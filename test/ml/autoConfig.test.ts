import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNifti, writeVolumeLike } from '../../src/nifti';
import { autoConfigure, ctWithoutInterceptSigns, detectModality, median, modalityMismatch, planConfiguration, replanForCases, replanReason } from '../../src/ml/autoConfig';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { brainImageKind, chooseStarterTask, skullMismatch } from '../../src/ml/starterChoice';
import { normalizeIntensity, validatePreprocessing } from '../../src/ml/preprocess';
import type { Vec3 } from '../../src/volume/vec3';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { writeSideways } from '../helpers/sideways';

const STS = (id: string, m: string, f = 'image.nii.gz'): string => sharedDataPath('lesion', 'sarcoma-ct-mr-pet', id, m, f);
const skip = skipWithoutSharedData('lesion', 'sarcoma-ct-mr-pet', 'STS_001');
const skipMs = skipWithoutSharedData('lesion', 'ms-flair-mni', 'patient07');

test('planConfiguration: median spacing kept where it fits, coarsened only as needed; patch axes multiples of 2^(levels−1) within budget', () => {
  // PET-like: 5.47 × 5.47 × 3.27 mm, small cases → the median spacing as it is (anisotropic).
  const pet = planConfiguration([
    { dims: [30, 27, 48], spacingMm: [5.47, 5.47, 3.27] },
    { dims: [41, 43, 59], spacingMm: [4.69, 4.69, 3.27] },
    { dims: [33, 32, 64], spacingMm: [5.47, 5.47, 3.27] },
  ]);
  assert.deepEqual(pet.medianSpacingMm, [5.47, 5.47, 3.27]);
  assert.deepEqual(pet.targetSpacingMm, [5.47, 5.47, 3.27]);
  assert.ok(pet.patchSizeVoxels.every((n, a) => n % 8 === 0 && n >= pet.targetShape[a]), `patch ${pet.patchSizeVoxels} covers ${pet.targetShape}`);
  // CT-like: 0.98 × 0.98 × 3.27 mm, 170 × 165 × 58 → in-plane coarsened, slices kept at 3.27 mm.
  const ct = planConfiguration([{ dims: [170, 165, 58], spacingMm: [0.977, 0.977, 3.27] }], { caseVoxelBudget: 300_000, patchVoxelBudget: 64 * 64 * 32 });
  assert.equal(ct.targetSpacingMm[2], 3.27);
  assert.ok(ct.targetSpacingMm[0] > 1.5 && ct.targetSpacingMm[0] < 3.27 && ct.targetSpacingMm[0] === ct.targetSpacingMm[1], `${ct.targetSpacingMm}`);
  assert.ok(ct.targetShape[0] * ct.targetShape[1] * ct.targetShape[2] <= 300_000);
  const p = ct.patchSizeVoxels;
  assert.ok(p.every((n) => n % 8 === 0) && p[0] * p[1] * p[2] <= 64 * 64 * 32, `patch ${p}`);
  // Levels 3 → multiples of 4.
  assert.ok(planConfiguration([{ dims: [21, 22, 23], spacingMm: [1, 1, 1] }], { levels: 3 }).patchSizeVoxels.every((n) => n % 4 === 0));
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.throws(() => planConfiguration([]), /at least one case/);
});

test('CT z-score preprocessing: clip to the lesion percentiles, z-score; invalid descriptors are refused', () => {
  const p = validatePreprocessing({ modality: 'CT', targetSpacingMm: null, ctZScore: { clipHu: [-100, 150], mean: 40, std: 30 } });
  const n = normalizeIntensity(Float32Array.from([-1000, -100, 40, 70, 1000]), p);
  assert.deepEqual(Array.from(n.values).map((v) => +v.toFixed(4)), [-4.6667, -4.6667, 0, 1, 3.6667]);
  assert.deepEqual(Array.from(n.foreground), [0, 1, 1, 1, 1]);
  assert.ok(Math.abs(n.backgroundValue - -4.6667) < 1e-3);
  assert.throws(() => validatePreprocessing({ modality: 'CT', targetSpacingMm: null, ctZScore: { clipHu: [150, -100], mean: 40, std: 30 } }), /ctZScore/);
  assert.throws(() => validatePreprocessing({ modality: 'CT', targetSpacingMm: null, ctZScore: { clipHu: [-100, 150], mean: 40, std: 0 } }), /ctZScore/);
});

test('detectModality and chooseStarterTask on real CT, MR T1 and PET sarcoma images', { skip }, async () => {
  const ct = await readNifti(STS('STS_001', 'CT'));
  const mr = await readNifti(STS('STS_001', 'MR_T1'));
  const pet = await readNifti(STS('STS_001', 'PET'));
  assert.equal(detectModality(ct.data).modality, 'CT');
  assert.equal(detectModality(mr.data).modality, 'MR');
  assert.equal(detectModality(pet.data).modality, 'PET');
  assert.equal(chooseStarterTask(ct).task, 'sarcoma-ct');
  assert.equal(chooseStarterTask(mr).task, 'sarcoma-mr-t1');
  assert.equal(chooseStarterTask(pet).task, 'sarcoma-pet');
  // The int16-stored cases too.
  assert.equal(detectModality((await readNifti(STS('STS_004', 'CT'))).data).modality, 'CT');
  assert.equal(detectModality((await readNifti(STS('STS_004', 'MR_T1'))).data).modality, 'MR');
});

test('detectModality: a CT resampled by interpolation (float, non-integer HU) is still CT', { skip }, async () => {
  // Each voxel the mean of itself and its neighbour along i: what linear resampling by half a
  // voxel gives. The values are no longer integers; air stays at −1000 HU.
  const ct = await readNifti(STS('STS_004', 'CT'));
  const resampled = Float32Array.from(ct.data as ArrayLike<number>, (v, i) => (v + (ct.data[i % ct.dims[0] === ct.dims[0] - 1 ? i : i + 1] as number)) / 2 + 0.25);
  const guess = detectModality(resampled, ct.spacingMm);
  assert.equal(guess.modality, 'CT', guess.reason);
  assert.match(guess.reason, /air in HU, with \d+ % non-integer values \(a CT resampled by interpolation\)/);
  assert.equal(chooseStarterTask({ ...ct, data: resampled }).task, 'sarcoma-ct');
  // Not every float image with very negative values: an MR padded with −32768 around the body.
  const padded = Float32Array.from({ length: 4000 }, (_, i) => (i % 20 === 0 ? -32768 : 100.5 + ((i * 7919) % 997) / 3.1));
  assert.equal(detectModality(padded).modality, 'MR');
});

test('detectModality: a CT cropped to the bounding box of its tumour (little air left) is still CT', { skip }, async () => {
  const ct = await readNifti(STS('STS_035', 'CT'));
  const mask = await readNifti(STS('STS_035', 'CT', 'mask.nii.gz'));
  const lo: Vec3 = [...ct.dims];
  const hi: Vec3 = [0, 0, 0];
  for (let k = 0, v = 0; k < ct.dims[2]; k++)
    for (let j = 0; j < ct.dims[1]; j++)
      for (let i = 0; i < ct.dims[0]; i++, v++) {
        if (!mask.data[v]) continue;
        [i, j, k].forEach((c, a) => ((lo[a] = Math.min(lo[a], c)), (hi[a] = Math.max(hi[a], c))));
      }
  const size = [0, 1, 2].map((a) => hi[a] - lo[a] + 1) as Vec3;
  const crop = new Float32Array(size[0] * size[1] * size[2]);
  for (let k = 0, v = 0; k < size[2]; k++)
    for (let j = 0; j < size[1]; j++)
      for (let i = 0; i < size[0]; i++, v++) crop[v] = ct.data[lo[0] + i + ct.dims[0] * (lo[1] + j + ct.dims[1] * (lo[2] + k))] as number;
  const guess = detectModality(crop, ct.spacingMm);
  assert.equal(guess.modality, 'CT', guess.reason);
  assert.match(guess.reason, /0\.1st percentile -\d+ \(a little air in HU\) and median \d+ \(soft tissue\): a CT cropped close to its lesion/);
  assert.equal(chooseStarterTask({ data: crop, dims: size, spacingMm: ct.spacingMm }).task, 'sarcoma-ct');
});

test('modalityMismatch: a CT model refuses images without HU, an MR or PET model refuses CTs', { skip }, async () => {
  const ct = await readNifti(STS('STS_004', 'CT'));
  const mr = await readNifti(STS('STS_004', 'MR_T1'));
  const pet = await readNifti(STS('STS_004', 'PET'));
  assert.equal(modalityMismatch(ct.data, ct.spacingMm, { modality: 'CT' }), null);
  assert.equal(modalityMismatch(mr.data, mr.spacingMm, { modality: 'MR' }), null);
  assert.equal(modalityMismatch(pet.data, pet.spacingMm, { modality: 'MR' }), null, 'MR and PET share the normalisation');
  assert.equal(modalityMismatch(mr.data, mr.spacingMm, { modality: 'PET' }), null);
  assert.match(modalityMismatch(mr.data, mr.spacingMm, { modality: 'CT' }) ?? '', /no values below -50 \(0\.1st percentile [\d.]+\), so it is not a CT in Hounsfield units/);
  assert.match(modalityMismatch(pet.data, pet.spacingMm, { modality: 'CT' }) ?? '', /not a CT in Hounsfield units/);
  // An MR already z-scored has negative values, but not HU ones.
  const values = Float64Array.from(mr.data as ArrayLike<number>);
  const m = values.reduce((a, v) => a + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length);
  const z = Float32Array.from(values, (v) => (v - m) / sd);
  assert.match(modalityMismatch(z, mr.spacingMm, { modality: 'CT' }) ?? '', /not a CT/);
  assert.match(modalityMismatch(ct.data, ct.spacingMm, { modality: 'MR' }) ?? '', /^it is a CT \(1st percentile -1000 ≤ −500 \(air in HU\) and integer values\), and the model works on MR$/);
});

test('chooseStarterTask: a brain FLAIR goes to ms-flair', { skip: skipMs }, async () => {
  const flair = await readNifti(sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'));
  const c = chooseStarterTask(flair);
  assert.equal(c.task, 'ms-flair', c.reason);
});

/** An ellipsoid "brain" (semi-axes in mm, integer MR-like values) in a zero background. */
function ellipsoidBrain(dims: Vec3, spacingMm: Vec3, semiAxesMm: Vec3, centreShiftMm: Vec3 = [0, 0, 0]): Float32Array {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, v = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, v++) {
        const d = [i, j, k].map((x, a) => ((x - (dims[a] - 1) / 2) * spacingMm[a] - centreShiftMm[a]) / semiAxesMm[a]);
        if (d[0] ** 2 + d[1] ** 2 + d[2] ** 2 <= 1) data[v] = 60 + ((v * 7919) % 41);
      }
    }
  }
  return data;
}

test('chooseStarterTask: a 1 mm brain FLAIR cropped 5 cm around a lesion is still a brain', { skip: skipMs }, async () => {
  // Cropped as the shared sarcoma images are (the lesion's box + 5 cm): at least 100 mm a side.
  // (With the earlier 140 mm, crops around two of the 12 synthetic brain tumours were body MR:
  // sarcoma rules for the Prompt tool, 0.05 / 0.80 / 0.68 after 1 / 3 / 5 clicks instead of 0.89 / 0.91 / 0.91.)
  const flair = await readNifti(sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'));
  const crop = (side: number) => {
    const lo = flair.dims.map((n) => Math.floor((n - side) / 2));
    const data = new Float32Array(side ** 3);
    for (let k = 0, v = 0; k < side; k++) for (let j = 0; j < side; j++) for (let i = 0; i < side; i++, v++) data[v] = flair.data[((lo[2] + k) * flair.dims[1] + lo[1] + j) * flair.dims[0] + lo[0] + i] as number;
    return chooseStarterTask({ data, dims: [side, side, side], spacingMm: flair.spacingMm });
  };
  const cropped = crop(110);
  assert.equal(cropped.task, 'ms-flair', cropped.reason);
  assert.match(cropped.reason, /brain-sized near-isotropic grid \(110×110×110 mm/);
  assert.equal(crop(90).task, 'sarcoma-mr-t1', 'under 100 mm a side: not taken for a brain');
});

test('chooseStarterTask: a skull-stripped brain on thick slices is a brain; a body MR that fills its field of view is not', () => {
  const dims: Vec3 = [180, 216, 30];
  const spacingMm: Vec3 = [1, 1, 5];
  const brain = chooseStarterTask({ data: ellipsoidBrain(dims, spacingMm, [70, 85, 65]), dims, spacingMm });
  assert.equal(brain.task, 'ms-flair', brain.reason);
  assert.match(brain.reason, /MR of a skull-stripped brain \(140×168×130 mm inside a constant background, 180×216×150 mm at 1\.00×1\.00×5\.00 mm\)/);
  // Cut by two in-plane faces of its field of view (a crop around a tumour): not a whole brain.
  const cut = chooseStarterTask({ data: ellipsoidBrain(dims, spacingMm, [70, 85, 65], [40, 40, 0]), dims, spacingMm });
  assert.equal(cut.task, 'sarcoma-mr-t1', cut.reason);
  // Object too small for a brain (a limb in air, 60 mm across).
  assert.equal(chooseStarterTask({ data: ellipsoidBrain(dims, spacingMm, [30, 30, 65]), dims, spacingMm }).task, 'sarcoma-mr-t1');
  // No constant background (noise everywhere): not skull-stripped, but still a brain-sized object in air.
  const noisy = ellipsoidBrain(dims, spacingMm, [70, 85, 65]).map((x, v) => x + 1 + (v % 5));
  const inNoise = chooseStarterTask({ data: noisy, dims, spacingMm });
  assert.equal(inNoise.task, 'ms-flair', inNoise.reason);
  assert.match(inNoise.reason, /MR of a head/);
  // Slices coarser than 7 mm are not taken for a brain.
  const coarse: Vec3 = [1, 1, 8];
  const coarseDims: Vec3 = [180, 216, 18];
  assert.equal(chooseStarterTask({ data: ellipsoidBrain(coarseDims, coarse, [70, 85, 65]), dims: coarseDims, spacingMm: coarse }).task, 'sarcoma-mr-t1');
});

test('chooseStarterTask: a head with its skull on thick slices is a brain; a limb, a trunk or a crop that leaves the field of view is not', () => {
  // A 2-D FLAIR: 1 × 1 × 5 mm, 200 × 240 × 200 mm field of view, noise in the air around the head.
  const dims: Vec3 = [200, 240, 40];
  const spacingMm: Vec3 = [1, 1, 5];
  const inAir = (semiAxesMm: Vec3, centreShiftMm: Vec3): Float32Array => ellipsoidBrain(dims, spacingMm, semiAxesMm, centreShiftMm).map((x, v) => x + 1 + (v % 5));
  const choose = (data: Float32Array) => chooseStarterTask({ data, dims, spacingMm });
  // The head leaves through the bottom face only (its neck), its section there 40 % of its fullest.
  const head = choose(inAir([75, 100, 90], [0, 0, -30]));
  assert.equal(head.task, 'ms-flair', head.reason);
  assert.match(head.reason, /^MR of a head \(150×200×160 mm in air, leaving the field of view through one face at most, 200×240×200 mm at 1\.00×1\.00×5\.00 mm\)/);
  // The same head cut by a side of the field of view too (a crop around a lesion): two faces.
  assert.equal(choose(inAir([75, 100, 90], [60, 0, -30])).task, 'sarcoma-mr-t1');
  // A limb or trunk along the slices leaves through both ends.
  assert.equal(choose(inAir([75, 100, 1000], [0, 0, 0])).task, 'sarcoma-mr-t1');
  // A limb in air, whole within the field of view, narrower than a head (100 mm).
  assert.equal(choose(inAir([50, 50, 90], [0, 0, 0])).task, 'sarcoma-mr-t1');
});

test('brainImageKind and skullMismatch: a head with its skull given to a model trained on skull-stripped brains only is named', () => {
  const dims: Vec3 = [200, 240, 40];
  const spacingMm: Vec3 = [1, 1, 5];
  const stripped = { data: ellipsoidBrain(dims, spacingMm, [70, 85, 65]), dims, spacingMm };
  const head = { data: ellipsoidBrain(dims, spacingMm, [75, 100, 90], [0, 0, -30]).map((x, v) => x + 1 + (v % 5)), dims, spacingMm };
  const limb = { data: ellipsoidBrain(dims, spacingMm, [75, 100, 1000]).map((x, v) => x + 1 + (v % 5)), dims, spacingMm };
  assert.equal(brainImageKind(stripped), 'skull-stripped');
  assert.equal(brainImageKind(head), 'with skull');
  assert.equal(brainImageKind(limb), null);
  assert.equal(brainImageKind({ ...head, spacingMm: [1, 1, 8] }), null, 'slices too thick for a brain');
  assert.match(skullMismatch(head, { skullStripped: 3, withSkull: 0 }) ?? '', /^it shows a head with its skull, but the model was trained on skull-stripped brains only \(3 images\): expect false lesions in the scalp and across the brain; strip the skull first/);
  assert.equal(skullMismatch(head, { skullStripped: 3, withSkull: 1 }), null, 'a model that has seen a head');
  assert.equal(skullMismatch(head, { skullStripped: 0, withSkull: 0 }), null, 'a body model');
  assert.equal(skullMismatch(head, undefined), null, 'not recorded');
  assert.equal(skullMismatch(stripped, { skullStripped: 3, withSkull: 0 }), null);
  assert.equal(skullMismatch(limb, { skullStripped: 3, withSkull: 0 }), null);
});

test('chooseStarterTask: Colin27 with its skull averaged into 3 and 6 mm slices is a head; the sarcoma T1s with air in their crop stay body MR', { skip: skipWithoutSharedData('normal', 'mricron_debian', 'ch2.nii.gz') || skip }, async () => {
  // ch2 is cropped to MNI's 181 mm, so its ears graze both sides (2–5 % of the fullest section).
  const ch2 = await readNifti(sharedDataPath('normal', 'mricron_debian', 'ch2.nii.gz'));
  assert.equal(brainImageKind(ch2), 'with skull');
  assert.equal(brainImageKind(await readNifti(sharedDataPath('normal', 'mricron_debian', 'ch2bet.nii.gz'))), 'skull-stripped');
  const [nx, ny, nz] = ch2.dims;
  for (const t of [3, 6]) {
    const slabs = Math.floor(nz / t);
    const thick = new Float32Array(nx * ny * slabs);
    for (let k = 0; k < slabs * t; k++) for (let p = 0; p < nx * ny; p++) thick[Math.floor(k / t) * nx * ny + p] += (ch2.data[k * nx * ny + p] as number) / t;
    const c = chooseStarterTask({ data: thick, dims: [nx, ny, slabs], spacingMm: [ch2.spacingMm[0], ch2.spacingMm[1], t * ch2.spacingMm[2]] });
    assert.equal(c.task, 'ms-flair', `${t} mm: ${c.reason}`);
    assert.match(c.reason, /MR of a head/);
  }
  // An oblique limb in air (122 × 104 × 154 mm) and two crops leaving through 2 and 3 faces.
  for (const id of ['STS_019', 'STS_034', 'STS_037']) {
    const c = chooseStarterTask(await readNifti(STS(id, 'MR_T1')));
    assert.equal(c.task, 'sarcoma-mr-t1', `${id}: ${c.reason}`);
  }
});

test('chooseStarterTask: the shared brain FLAIR averaged into 5 mm slices is still a brain', { skip: skipMs }, async () => {
  const flair = await readNifti(sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'));
  const [nx, ny, nz] = flair.dims;
  const slabs = Math.floor(nz / 5);
  const thick = new Float32Array(nx * ny * slabs);
  for (let k = 0; k < slabs * 5; k++) for (let p = 0; p < nx * ny; p++) thick[Math.floor(k / 5) * nx * ny + p] += (flair.data[k * nx * ny + p] as number) / 5;
  const c = chooseStarterTask({ data: thick, dims: [nx, ny, slabs], spacingMm: [flair.spacingMm[0], flair.spacingMm[1], 5 * flair.spacingMm[2]] });
  assert.equal(c.task, 'ms-flair', c.reason);
  assert.match(c.reason, /skull-stripped brain/);
  // The same with NaN outside the brain, as masking pipelines write it.
  const noData = thick.map((v) => (v === thick[0] ? NaN : v));
  const n = chooseStarterTask({ data: noData, dims: [nx, ny, slabs], spacingMm: [flair.spacingMm[0], flair.spacingMm[1], 5 * flair.spacingMm[2]] });
  assert.equal(n.task, 'ms-flair', n.reason);
});

test('detectModality: SUV-like floats are PET only on a PET-sized grid (voxels ≥ 1.5 mm)', () => {
  // Non-negative, non-integer, 99.9th percentile < 200: what PET and an MR rescaled to floats share.
  const values = Float32Array.from({ length: 4000 }, (_, i) => (i % 10 === 0 ? 0 : 0.3 + ((i * 7919) % 997) / 10.01));
  assert.equal(detectModality(values).modality, 'PET', 'no grid given: intensities alone, as before');
  assert.equal(detectModality(values, [4.7, 4.7, 3.27]).modality, 'PET');
  assert.equal(detectModality(values, [2, 2, 2]).modality, 'PET');
  const mr = detectModality(values, [1, 1, 1]);
  assert.equal(mr.modality, 'MR');
  assert.match(mr.reason, /SUV-like values .* but 1\.00 mm voxels, finer than PET's \(≥ 1\.5 mm\): MR rescaled to floats/);
  assert.equal(detectModality(values, [0.98, 0.98, 3.27]).modality, 'MR', 'a body MR stored as small floats');
});

test('detectModality: PET in activity units (Bq/mL, as DICOM converters write it) is PET; MR at any scale is not', { skip }, async () => {
  // SUV × dose / weight (350 MBq, 60 kg): values in the tens of thousands, no longer SUV-like.
  const pet = await readNifti(STS('STS_031', 'PET'));
  const bqPerMl = Float32Array.from(pet.data as ArrayLike<number>, (v) => v * 5833.3);
  const guess = detectModality(bqPerMl, pet.spacingMm);
  assert.equal(guess.modality, 'PET', guess.reason);
  assert.match(guess.reason, /uptake-like contrast \(the 99\.9th percentile of the body [\d.]+ times its median ≥ 4\.5\): PET in activity units/);
  assert.equal(chooseStarterTask({ ...pet, data: bqPerMl }).task, 'sarcoma-pet');
  // Stored as int16 with a scale slope, as many converters do: the reader's values are multiples of it.
  const slope = 2.6263;
  const quantised = bqPerMl.map((v) => Math.round(v / slope) * slope);
  assert.equal(detectModality(quantised, pet.spacingMm).modality, 'PET');
  // MR rescaled to non-integer values keeps MR: the sarcoma T1 with the heaviest tail (STS_019,
  // 1.17 mm voxels, finer than PET's) and a 3 mm body MR (coarse, but its tail is MR's).
  for (const path of [STS('STS_019', 'MR_T1'), sharedDataPath('normal', 'totalsegmentator_examples', 'example_mr_sm.nii.gz')]) {
    const mr = await readNifti(path);
    const scaled = Float32Array.from(mr.data as ArrayLike<number>, (v) => Math.max(0, v) * 7.31 + 0.5);
    const m = detectModality(scaled, mr.spacingMm);
    assert.equal(m.modality, 'MR', `${path}: ${m.reason}`);
  }
  // STS_019 as floats on a PET-sized grid: its fat gives it PET's tail (7.3), but not Bq/mL's values.
  const fatty = await readNifti(STS('STS_019', 'MR_T1'));
  const floats = Float32Array.from(fatty.data as ArrayLike<number>, (v) => v + 0.5);
  assert.equal(detectModality(floats, [2, 2, 3.27]).modality, 'MR');
});

test('a brain FLAIR with its negatives clipped, or scaled to 0..1, stays whole-brain MR: ms-flair, base grid kept', { skip: skipMs }, async () => {
  // The shared FLAIRs escape the PET rule only by a few slightly negative voxels (N4); a pipeline
  // that clips them, or scales to 0..1, gives SUV-like values on a 1 mm grid.
  const flairPath = sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz');
  const flair = await readNifti(flairPath);
  const clipped = Float32Array.from(flair.data as ArrayLike<number>, (v) => Math.max(0, v));
  let max = 0;
  for (const v of clipped) if (v > max) max = v;
  const unit = clipped.map((v) => v / max);
  for (const data of [clipped, unit]) {
    assert.equal(detectModality(data).modality, 'PET', 'the intensities alone look like PET');
    const c = chooseStarterTask({ data, dims: flair.dims, spacingMm: flair.spacingMm });
    assert.equal(c.task, 'ms-flair', c.reason);
  }
  const dir = await mkdtemp(join(tmpdir(), 'modality-'));
  try {
    const imagePath = join(dir, 'flair_clipped.nii.gz');
    await writeVolumeLike(flair, clipped, imagePath);
    const brain = { preprocessing: defaultPreprocessing('MR', [1, 1, 1]) };
    assert.equal(await replanForCases(brain, [{ imagePath, maskPath: flairPath.replace('FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4', 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR') }]), null, 'fine-tuning keeps the brain model');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('autoConfigure on CT sarcoma cases: CT detected, clip window from lesion voxels, anisotropic target spacing', { skip }, async () => {
  const pairs = ['STS_001', 'STS_002', 'STS_003'].map((id) => ({ imagePath: STS(id, 'CT'), maskPath: STS(id, 'CT', 'mask.nii.gz') }));
  const c = await autoConfigure(pairs, { caseVoxelBudget: 300_000 });
  assert.equal(c.preprocessing.modality, 'CT');
  assert.match(c.modalityReason, /detected: 3 of 3/);
  const z = c.preprocessing.ctZScore!;
  assert.ok(z.clipHu[0] > -300 && z.clipHu[0] < 0 && z.clipHu[1] > 50 && z.clipHu[1] < 400, `clip ${z.clipHu}`);
  assert.ok(z.mean > 0 && z.mean < 100 && z.std > 5 && z.std < 150, `mean ${z.mean} std ${z.std}`);
  const t = c.preprocessing.targetSpacingMm as Vec3;
  assert.ok(Math.abs(t[2] - 3.27) < 0.01 && t[0] < t[2], `target ${t}`);
  validatePreprocessing(c.preprocessing);
  // A given window (an ablation) replaces the lesion percentiles; the z-score still uses the lesion voxels.
  const wide = await autoConfigure(pairs, { caseVoxelBudget: 300_000, ctClipHu: [-500, 1000] });
  assert.deepEqual(wide.preprocessing.ctZScore!.clipHu, [-500, 1000]);
  assert.ok(Math.abs(wide.preprocessing.ctZScore!.mean - z.mean) < 30, `mean ${wide.preprocessing.ctZScore!.mean} against ${z.mean}`);
  assert.match(wide.summary.join('\n'), /clip to \[-500, 1000\] HU \(given\)/);
  await assert.rejects(autoConfigure(pairs, { ctClipHu: [300, -200] }), /the CT clip window must be \[low, high\] HU with low < high, got \[300, -200\]/);
});



test('replanReason: the base grid is kept unless the cases are another modality or over 1.5× coarser along an axis', () => {
  const brain = defaultPreprocessing('MR', [1, 1, 1]);
  assert.equal(replanReason(brain, [{ spacingMm: [1, 1, 1] }, { spacingMm: [0.9, 0.9, 1.2] }], 'MR'), null);
  assert.equal(replanReason(brain, [{ spacingMm: [1.5, 1.5, 1.5] }], 'MR'), null, 'exactly 1.5× is kept');
  assert.equal(replanReason(defaultPreprocessing('MR', [3.14, 3.14, 3.27]), [{ spacingMm: [0.7, 0.7, 1] }], 'MR'), null, 'finer cases are resampled to the base grid');
  assert.equal(replanReason(defaultPreprocessing('MR', null), [{ spacingMm: [5, 5, 5] }], 'MR'), null, 'a native-grid base has no grid to keep');
  assert.match(replanReason(brain, [{ spacingMm: [0.98, 0.98, 3.27] }, { spacingMm: [0.98, 0.98, 3.27] }, { spacingMm: [1, 1, 1] }], 'MR')!, /median spacing 0\.98×0\.98×3\.27 mm is over 1\.5× coarser than the base model's 1×1×1 mm grid along z/);
  assert.match(replanReason(brain, [{ spacingMm: [1, 1, 1] }], 'CT')!, /the cases look like CT, the base model works on MR/);
  // The base's own kind of lesion on thick slices keeps its grid; another modality still re-plans.
  assert.equal(replanReason(brain, [{ spacingMm: [1, 1, 5] }], 'MR', true), null);
  assert.ok(replanReason(brain, [{ spacingMm: [1, 1, 5] }], 'MR', false));
  assert.ok(replanReason(brain, [{ spacingMm: [1, 1, 1] }], 'CT', true));
});

test('replanForCases: a brain model kept for brain FLAIR, re-planned for sarcoma MR slices and for CT', { skip: skip || skipMs }, async () => {
  const flair = { imagePath: sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'), maskPath: sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz') };
  const brain = { preprocessing: defaultPreprocessing('MR', [1, 1, 1]) };
  assert.equal(await replanForCases(brain, [flair]), null);
  const mr = await replanForCases(brain, [{ imagePath: STS('STS_001', 'MR_T1'), maskPath: STS('STS_001', 'MR_T1', 'mask.nii.gz') }]);
  assert.ok(mr, 'sarcoma MR is re-planned');
  assert.equal(mr.preprocessing.modality, 'MR');
  assert.equal(mr.preprocessing.targetSpacingMm![2], 3.27);
  assert.ok(mr.patchSizeVoxels.every((n) => n % 8 === 0), `patch ${mr.patchSizeVoxels}`);
  assert.match(mr.summary[0], /^re-planned for the new cases: .* along z$/);
  const ct = await replanForCases(brain, [{ imagePath: STS('STS_001', 'CT'), maskPath: STS('STS_001', 'CT', 'mask.nii.gz') }]);
  assert.equal(ct?.preprocessing.modality, 'CT');
  assert.ok(ct.preprocessing.ctZScore, 'CT normalisation from the new lesions');
  assert.match(ct.summary[0], /the cases look like CT, the base model works on MR/);
});

test('replanForCases and autoConfigure plan on the axes the network sees: a PET stored sideways keeps the PET grid', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sideways-plan-'));
  try {
    const upright = { imagePath: STS('STS_031', 'PET'), maskPath: STS('STS_031', 'PET', 'mask.nii.gz') };
    const side = { imagePath: join(dir, 'pet.nii.gz'), maskPath: join(dir, 'pet_mask.nii.gz') };
    await writeSideways(upright.imagePath, upright.maskPath, side.imagePath, side.maskPath);
    // Slices (3.27 mm) along i, 5.47 mm along j and k: read per voxel axis, k looks 1.7× coarser than the PET starter's 3.27 mm.
    const pet = { preprocessing: defaultPreprocessing('PET', [5.469, 5.469, 3.27]) };
    assert.equal(await replanForCases(pet, [upright]), null);
    assert.equal(await replanForCases(pet, [side]), null, 'the base grid is kept for the same PET stored sideways');
    const a = await autoConfigure([upright]);
    const b = await autoConfigure([side]);
    assert.deepEqual(b.preprocessing.targetSpacingMm, a.preprocessing.targetSpacingMm);
    assert.deepEqual(b.patchSizeVoxels, a.patchSizeVoxels);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('starterForImage: media/models/<task> when installed, else media/models/starter, else a clear error', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { starterForImage } = await import('../../src/ml/starterChoice');
  const root = mkdtempSync(join(tmpdir(), 'll-starters-'));
  const ct = { data: Int16Array.from({ length: 1000 }, (_, i) => (i % 3 ? -1000 : 40)), dims: [10, 10, 10] as Vec3, spacingMm: [1, 1, 3] as Vec3 };
  assert.throws(() => starterForImage(ct, root), /no starter model for sarcoma-ct/);
  mkdirSync(join(root, 'media/models/starter'), { recursive: true });
  writeFileSync(join(root, 'media/models/starter/card.json'), '{}');
  assert.match(starterForImage(ct, root).reason, /media\/models\/sarcoma-ct is missing, so the general starter is used/);
  mkdirSync(join(root, 'media/models/sarcoma-ct'), { recursive: true });
  writeFileSync(join(root, 'media/models/sarcoma-ct/card.json'), '{}');
  const c = starterForImage(ct, join(root, 'media'));
  assert.equal(c.dir, join(root, 'media/models/sarcoma-ct'));
  assert.equal(c.task, 'sarcoma-ct');
  rmSync(root, { recursive: true, force: true });
});

test('ctWithoutInterceptSigns: a CT stored as HU + 1024 is named (and a CT model\'s refusal says so); MR, PET and FLAIR are not', { skip: skip || skipMs }, async () => {
  const shifted = async (path: string): Promise<{ data: Float32Array; spacingMm: Vec3 }> => {
    const ct = await readNifti(path);
    return { data: Float32Array.from(ct.data as ArrayLike<number>, (v) => Math.round(v) + 1024), spacingMm: ct.spacingMm };
  };
  // STS_019's CT is mostly air around a thin limb (29 % body); example_ct_sm is an abdomen.
  for (const path of [STS('STS_001', 'CT'), STS('STS_019', 'CT'), STS('STS_032', 'CT'), sharedDataPath('normal', 'totalsegmentator_examples', 'example_ct_sm.nii.gz')]) {
    const ct = await shifted(path);
    assert.equal(detectModality(ct.data, ct.spacingMm).modality, 'MR', 'without HU it is not taken for CT');
    assert.match(ctWithoutInterceptSigns(ct.data) ?? '', /^it looks like a CT stored without its rescale intercept: integer values from \d+ .* median 1\d{3} .*set its header's scl_slope to 1 and scl_inter to −1024$/, path);
    // Not a refusal for a model of MR: one fine-tuned on CTs stored the same way suits them.
    assert.equal(modalityMismatch(ct.data, ct.spacingMm, { modality: 'MR' }), null);
    assert.match(modalityMismatch(ct.data, ct.spacingMm, { modality: 'CT' }) ?? '', /so it is not a CT in Hounsfield units, and the model works on CT \(it looks like a CT stored without its rescale intercept/);
  }
  // The same CT in HU is a CT, not a shifted one.
  assert.equal(ctWithoutInterceptSigns((await readNifti(STS('STS_001', 'CT'))).data), null);
  // Not MR (the T1 of narrowest spread, STS_025, also scaled so that its body's median lies at
  // 1,024; the one of highest median, STS_015), PET, FLAIR, nor a T1 brain template.
  const t1 = await readNifti(STS('STS_025', 'MR_T1'));
  const others: [string, ArrayLike<number>][] = [
    ['STS_025 T1', t1.data],
    ['STS_025 T1 × 2.52', Float32Array.from(t1.data as ArrayLike<number>, (v) => Math.round(v * 2.52))],
    ['STS_015 T1', (await readNifti(STS('STS_015', 'MR_T1'))).data],
    ['STS_001 PET', (await readNifti(STS('STS_001', 'PET'))).data],
    ['patient07 FLAIR', (await readNifti(sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'))).data],
  ];
  const mni = sharedDataPath('normal', 'niivue_images', 'MNI152_2009_template.nii.gz');
  if (!skipWithoutSharedData('normal', 'niivue_images', 'MNI152_2009_template.nii.gz')) others.push(['MNI152', (await readNifti(mni)).data]);
  for (const [name, data] of others) assert.equal(ctWithoutInterceptSigns(data), null, name);
});
