import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { defaultOverlap, loadSegmentationModel, segmentVolume, predictWindowWithFlips, keepLargestComponents, MAX_PATCH_SIDE_VOXELS, MAX_WORKING_GRID_VOXELS, type SegmentationNetwork } from '../../src/ml/inference';
import { patchGrid } from '../../src/volume/slidingWindow';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import type { Vec3 } from '../../src/volume/vec3';
import { sidewaysVoxels } from '../helpers/sideways';
import { tempDir } from '../helpers/tempDir';
import { createUNet3d } from '../../src/ml/network';
import { writeCard, type ModelCard } from '../../src/ml/modelStore';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Voxel-wise "network": p(lesion) = sigmoid(4·(x − 1)); flip-equivariant by construction. */
const voxelwise: SegmentationNetwork = {
  predict: (x) =>
    tf.tidy(() => {
      const p = tf.sigmoid(tf.mul(tf.sub(x, 1), 4));
      return tf.concat([tf.sub(1, p), p], 4) as tf.Tensor5D;
    }),
};

/** A "network" with a one-sided 3×3×3 kernel (it looks only towards +x), so flips disagree near edges. */
const kernel = (() => {
  const k = new Float32Array(27);
  for (let z = 0; z < 3; z++) for (let y = 0; y < 3; y++) k[(z * 3 + y) * 3 + 2] = 1 / 9; // x = +1 column
  return k;
})();
const oneSided: SegmentationNetwork = {
  predict: (x) =>
    tf.tidy(() => {
      const w = tf.tensor5d(kernel, [3, 3, 3, 1, 1]);
      const c = tf.conv3d(x, w, 1, 'same');
      const p = tf.sigmoid(tf.mul(tf.sub(c, 1), 4));
      return tf.concat([tf.sub(1, p), p], 4) as tf.Tensor5D;
    }),
};

function phantom(dims: Vec3): Float32Array {
  // Background 0, a "brain" box of intensity 100 with a bright 6³ "lesion" of 200.
  const v = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) {
    const i = (z * dims[1] + y) * dims[0] + x;
    const inBrain = x >= 4 && x < dims[0] - 4 && y >= 4 && y < dims[1] - 4 && z >= 2 && z < dims[2] - 2;
    const inLesion = x >= 10 && x < 16 && y >= 12 && y < 18 && z >= 8 && z < 14;
    v[i] = inLesion ? 200 : inBrain ? 100 + ((x * 7 + y * 3 + z) % 5) : 0;
  }
  return v;
}

/** The same voxels stored with the axes in the order k, i, j (a stack lying on its side), and its affine. */
function storedSideways(data: Float32Array, dims: Vec3, spacingMm: Vec3): { data: Float32Array; dims: Vec3; affine: Float64Array } {
  // Voxel axis 0 runs along world z, axis 1 along x, axis 2 along y.
  const [sx, sy, sz] = spacingMm;
  const affine = Float64Array.from([0, sx, 0, 5, 0, 0, sy, -7, sz, 0, 0, 3, 0, 0, 0, 1]);
  return { data: sidewaysVoxels(data, dims, new Float32Array(data.length)), dims: [dims[2], dims[0], dims[1]], affine };
}

test('segmentVolume: a volume stored with its axes in another order is shown to the network in world order; the result comes back on its own grid', async () => {
  const dims: Vec3 = [32, 28, 24];
  const spacingMm: Vec3 = [1, 1, 2];
  const data = phantom(dims);
  // The one-sided kernel looks along the voxels' first axis: a network that is not symmetric
  // under swapping axes, as no trained network is.
  const model = { network: oneSided, patchSizeVoxels: [32, 32, 24] as Vec3, preprocessing: defaultPreprocessing('MR', null) };
  const upright = await segmentVolume({ data, dims, spacingMm, affine: Float64Array.from([1, 0, 0, 5, 0, 1, 0, -7, 0, 0, 2, 3, 0, 0, 0, 1]) }, model, { ttaFlips: [[]] });
  const side = storedSideways(data, dims, spacingMm);
  const sideways = await segmentVolume({ data: side.data, dims: side.dims, spacingMm: [spacingMm[2], spacingMm[0], spacingMm[1]], affine: side.affine }, model, { ttaFlips: [[]] });
  assert.deepEqual(sideways.probability, storedSideways(upright.probability, dims, spacingMm).data);
  assert.deepEqual(Float32Array.from(sideways.labels), storedSideways(Float32Array.from(upright.labels), dims, spacingMm).data);
  assert.ok(upright.labels.some((v) => v > 0), 'the lesion is found');
  // Without an affine the voxel order is all there is: the network then sees the stack on its side.
  const blind = await segmentVolume({ data: side.data, dims: side.dims, spacingMm: [2, 1, 1] }, model, { ttaFlips: [[]] });
  assert.notDeepEqual(blind.probability, sideways.probability);
});

test('segmentVolume: sliding-window result equals whole-volume inference (one window covers all)', async () => {
  const dims: Vec3 = [32, 32, 24];
  const data = phantom(dims);
  const model = { network: oneSided, patchSizeVoxels: dims, preprocessing: defaultPreprocessing('MR', null) };
  const whole = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: [[]] });
  const tiled = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, { ...model, patchSizeVoxels: [16, 16, 16] }, { ttaFlips: [[]], overlap: 0.5 });
  assert.equal(whole.windowsTotal, 1);
  assert.ok(tiled.windowsTotal > 1);
  // The one-sided kernel has a 1-voxel reach, so windows agree with the whole volume away from
  // window borders; compare voxels whose every covering window contains their neighbourhood.
  let maxDiff = 0;
  let compared = 0;
  for (let z = 1; z < dims[2] - 1; z++) for (let y = 1; y < dims[1] - 1; y++) for (let x = 1; x < dims[0] - 1; x++) {
    const i = (z * dims[1] + y) * dims[0] + x;
    compared++;
    maxDiff = Math.max(maxDiff, Math.abs(whole.probability[i] - tiled.probability[i]));
  }
  assert.ok(compared > 1000);
  // Window edges see zero padding instead of neighbours; the Gaussian weighting keeps that error small.
  assert.ok(maxDiff < 0.05, `max difference ${maxDiff}`);
  // A voxel-wise network must match exactly everywhere.
  const m2 = { network: voxelwise, patchSizeVoxels: dims, preprocessing: defaultPreprocessing('MR', null) };
  const w2 = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, m2, { ttaFlips: [[]], skipBackground: false });
  const t2 = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, { ...m2, patchSizeVoxels: [16, 16, 8] }, { ttaFlips: [[]], overlap: 0.25, skipBackground: false });
  for (let i = 0; i < w2.probability.length; i++) assert.ok(Math.abs(w2.probability[i] - t2.probability[i]) < 1e-5);
  assert.deepEqual(w2.labels, t2.labels);
});

test('segmentVolume: finds the lesion, lists it in mm³, uncertainty is zero where all flips agree', async () => {
  const dims: Vec3 = [32, 32, 24];
  const data = phantom(dims);
  const seg = await segmentVolume({ data, dims, spacingMm: [1, 1, 2] }, { network: voxelwise, patchSizeVoxels: [16, 16, 16], preprocessing: defaultPreprocessing('MR', null) }, {});
  assert.equal(seg.lesions.length, 1);
  assert.equal(seg.lesions[0].voxelCount, 216);
  assert.equal(seg.lesions[0].volumeMm3, 432);
  assert.ok(seg.uncertainty.every((u) => u === 0), 'a flip-equivariant network gives zero uncertainty');
  const seg2 = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, { network: oneSided, patchSizeVoxels: [16, 16, 16], preprocessing: defaultPreprocessing('MR', null) }, { ttaFlips: [[], [0]] });
  let positive = 0;
  let zeroInFlat = 0;
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) {
    const i = (z * dims[1] + y) * dims[0] + x;
    if (seg2.uncertainty[i] > 1e-3) positive++;
    // Inside the lesion (constant 200, ≥ 1 voxel from its x-edges) both flips see the same values.
    if (x >= 11 && x < 15 && y >= 13 && y < 17 && z >= 9 && z < 13 && seg2.uncertainty[i] === 0) zeroInFlat++;
  }
  assert.ok(positive > 0, 'a one-sided kernel disagrees with its flip at edges');
  assert.equal(zeroInFlat, 64);
});

test('segmentVolume: resamples to the model spacing and returns to the source grid; progress, cancel, min size', async () => {
  const dims: Vec3 = [32, 32, 24];
  const data = phantom(dims);
  const model = { network: voxelwise, patchSizeVoxels: [16, 16, 16] as Vec3, preprocessing: defaultPreprocessing('MR', [2, 2, 2]) };
  const calls: string[] = [];
  const seg = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: [[]], onProgress: (d, t) => calls.push(`${d}/${t}`) });
  assert.deepEqual(seg.workDims, [16, 16, 12]);
  assert.equal(seg.labels.length, data.length);
  assert.equal(calls.at(-1), '1/1');
  assert.equal(seg.lesions.length, 1);
  assert.ok(Math.abs(seg.lesions[0].voxelCount - 216) < 120, `lesion voxels ${seg.lesions[0].voxelCount}`);
  const small = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: [[]], minLesionMm3: 1000 });
  assert.equal(small.lesions.length, 0);
  assert.equal(small.labels.reduce((a, b) => a + b, 0), 0);
  const ctrl = new AbortController();
  ctrl.abort(new Error('user cancelled'));
  await assert.rejects(segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { signal: ctrl.signal }), /user cancelled/);
  await assert.rejects(segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { threshold: 1.5 }), /threshold must lie in \(0, 1\), got 1.5/);
  await assert.rejects(segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: [[3]] }), /ttaFlips must be/);
});

test('predictWindowWithFlips: mean over flips and exact zero spread for agreeing flips', () => {
  const patch = new Float32Array(4 * 4 * 4).fill(2);
  const out = predictWindowWithFlips(voxelwise, patch, [4, 4, 4], [[], [0], [1, 2]]);
  const p = 1 / (1 + Math.exp(-4));
  for (let v = 0; v < 64; v++) {
    assert.ok(Math.abs(out[2 * v] - p) < 1e-6);
    assert.equal(out[2 * v + 1], 0);
  }
});

test('postprocessing keepLargestComponents: the card can keep only the largest lesion', async () => {
  const dims: Vec3 = [32, 32, 24];
  const data = phantom(dims);
  // A second, smaller bright blob (2³) far from the 6³ lesion.
  for (let z = 4; z < 6; z++) for (let y = 24; y < 26; y++) for (let x = 22; x < 24; x++) data[(z * dims[1] + y) * dims[0] + x] = 200;
  const model = { network: voxelwise, patchSizeVoxels: [16, 16, 16] as Vec3, preprocessing: defaultPreprocessing('MR', null) };
  const all = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: [[]] });
  assert.deepEqual(all.lesions.map((l) => l.voxelCount), [216, 8]);
  const one = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, { ...model, postprocessing: { keepLargestComponents: 1 } }, { ttaFlips: [[]] });
  assert.deepEqual(one.lesions.map((l) => l.voxelCount), [216]);
  const two = keepLargestComponents(all.labels, dims, 2);
  assert.equal(two, all.labels, 'unchanged when there are no more components than asked');
});

test('postprocessing threshold: the card\'s threshold is the default, the caller\'s overrides it, and the result says which was used', async () => {
  const dims: Vec3 = [24, 24, 16];
  // A ramp along x: p = sigmoid(4·(x − 1)) of the normalised value rises across the volume.
  const data = new Float32Array(dims[0] * dims[1] * dims[2]).map((_, v) => v % dims[0]);
  const model = { network: voxelwise, patchSizeVoxels: [16, 16, 16] as Vec3, preprocessing: defaultPreprocessing('MR', null) };
  const image = { data, dims, spacingMm: [1, 1, 1] as Vec3 };
  const plain = await segmentVolume(image, model, { ttaFlips: [[]] });
  const low = await segmentVolume(image, { ...model, postprocessing: { threshold: 0.3 } }, { ttaFlips: [[]] });
  const told = await segmentVolume(image, { ...model, postprocessing: { threshold: 0.3 } }, { ttaFlips: [[]], threshold: 0.5 });
  assert.deepEqual([plain.threshold, low.threshold, told.threshold], [0.5, 0.3, 0.5]);
  const count = (m: Uint8Array): number => m.reduce((a, b) => a + b, 0);
  assert.equal(count(low.labels), low.probability.filter((p) => p >= 0.3).length);
  assert.ok(count(low.labels) > count(plain.labels), `${count(low.labels)} voxels at 0.3 against ${count(plain.labels)} at 0.5`);
  assert.deepEqual(told.labels, plain.labels);
});

test('loadSegmentationModel reads the card\'s threshold and ignores one that is not a probability', async () => {
  const dir = tempDir('ll-threshold-');
  const net = createUNet3d({ levels: 2, baseFilters: 2, seed: 1 });
  await net.save(dir);
  net.dispose();
  const card = { format: 'lesion-lab-model', formatVersion: 1, version: 'starter', parentVersion: null, createdAt: '2026-12-07T00:00:00Z', patchSizeVoxels: [16, 16, 16], preprocessing: defaultPreprocessing('MR', null), network: { levels: 2 }, training: null } as const;
  for (const [postprocessing, expected] of [
    [{ threshold: 0.3, keepLargestComponents: 1 }, { threshold: 0.3, keepLargestComponents: 1 }],
    [{ threshold: 0.3 }, { threshold: 0.3 }],
    [{ threshold: 1.5, keepLargestComponents: 1 }, { keepLargestComponents: 1 }],
    [{ threshold: '0.3' }, undefined],
  ] as const) {
    await writeCard(dir, { ...card, postprocessing } as unknown as ModelCard);
    const model = await loadSegmentationModel(dir);
    model.network.dispose();
    assert.deepEqual(model.postprocessing, expected, JSON.stringify(postprocessing));
  }
});

test('keepLargestComponents: with the probability map, the lesion with the most confident voxels wins, not the widest; 0.98 before 0.9', () => {
  // A 4×4×4 lesion the network is unsure of (p 0.6) and a 3×3×3 one it is sure of (p 0.95), as a
  // fine-tuned model's mildly bright brain beside the tumour.
  const dims: Vec3 = [16, 16, 8];
  const mask = new Uint8Array(16 * 16 * 8);
  const probability = new Float32Array(mask.length);
  const put = (x0: number, size: number, p: number): void => {
    for (let z = 2; z < 2 + size; z++) for (let y = 2; y < 2 + size; y++) for (let x = x0; x < x0 + size; x++) {
      mask[(z * 16 + y) * 16 + x] = 1;
      probability[(z * 16 + y) * 16 + x] = p;
    }
  };
  put(1, 4, 0.6);
  put(10, 3, 0.95);
  const count = (m: Uint8Array): number => m.reduce((a, b) => a + b, 0);
  assert.equal(count(keepLargestComponents(mask, dims, 1)), 64, 'without probabilities: the largest');
  const sure = keepLargestComponents(mask, dims, 1, probability);
  assert.equal(count(sure), 27);
  assert.equal(sure[(3 * 16 + 3) * 16 + 11], 1, 'the confident lesion is kept');
  // No confident voxel anywhere: the largest, as before.
  assert.equal(count(keepLargestComponents(mask, dims, 1, probability.map((p) => p * 0.5))), 64);
  // pat0005 on 5 mm slices: a wide region holds more voxels at 0.9 than the tumour, fewer at 0.98.
  const wide = new Float32Array(mask.length);
  mask.forEach((m, v) => { if (m) wide[v] = v % 16 < 8 ? (v % 2 ? 0.95 : 0.7) : 0.99; });
  // Wide: 32 of its 64 voxels at 0.95; sure: all 27 at 0.99.
  assert.equal(count(keepLargestComponents(mask, dims, 1, wide)), 27, 'more voxels at 0.98 win over more at 0.9');
  // No voxel at 0.98 anywhere: the count at 0.9 decides (the wide one, 32 against 27).
  assert.equal(count(keepLargestComponents(mask, dims, 1, wide.map((p) => Math.min(p, 0.96)))), 64);
});

// Issue 11, item 8: sizes taken from a header or a model card are checked before anything of that
// size is allocated.
test('segmentVolume refuses a working grid or a patch that is too large, naming the image and the sizes', async () => {
  const dims: Vec3 = [32, 32, 32];
  const data = new Float32Array(32 ** 3).fill(1);
  const model = { network: voxelwise, patchSizeVoxels: [16, 16, 16] as Vec3, preprocessing: defaultPreprocessing('MR', [1, 1, 1]) };
  await assert.rejects(segmentVolume({ data, dims, spacingMm: [200, 200, 200], filePath: '/data/huge.nii.gz' }, model, { ttaFlips: [[]] }), {
    name: 'InferenceError',
    message:
      "huge.nii.gz: resampling its 32×32×32 voxels of 200×200×200 mm to the model's 1×1×1 mm spacing would make a 6400×6400×6400 grid " +
      '(262,144,000,000 voxels), more than the 268,435,456 that Lesion Lab works on; check the voxel size (pixdim) in its header',
  });
  assert.equal(MAX_WORKING_GRID_VOXELS, 2 ** 28);
  await assert.rejects(segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, { ...model, patchSizeVoxels: [4096, 4096, 4096] }, { ttaFlips: [[]] }), {
    name: 'InferenceError',
    message: `the model's patch size 4096×4096×4096 has a side over ${MAX_PATCH_SIDE_VOXELS} voxels`,
  });
});

test('segmentVolume: windows overlap by half for a network whose output depends on its window, by a quarter for one without statistics over the window, unless told', async () => {
  const dims: Vec3 = [48, 48, 32];
  const data = phantom(dims);
  const model = { network: voxelwise, patchSizeVoxels: [16, 16, 16] as Vec3, preprocessing: defaultPreprocessing('MR', null) };
  const windows = async (m: typeof model & { windowGrowth?: { multiple: number } }, overlap?: number): Promise<number> =>
    (await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, m, { ttaFlips: [[]], skipBackground: false, growWindow: false, overlap })).windowsTotal;
  assert.equal(await windows(model), patchGrid(dims, model.patchSizeVoxels, 0.5).length);
  assert.equal(await windows({ ...model, windowGrowth: { multiple: 8 } }), patchGrid(dims, model.patchSizeVoxels, 0.25).length);
  assert.equal(await windows(model, 0.25), patchGrid(dims, model.patchSizeVoxels, 0.25).length);
  assert.ok(patchGrid(dims, model.patchSizeVoxels, 0.5).length > patchGrid(dims, model.patchSizeVoxels, 0.25).length);
  assert.equal(defaultOverlap(false), 0.5);
  assert.equal(defaultOverlap(true), 0.25);
});
