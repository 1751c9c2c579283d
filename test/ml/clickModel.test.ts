import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { clickModelFolder } from '../../src/ml/starterChoice';
import { CLICK_MODEL_FORMAT, clickMaps, clickModelObject, loadClickModel, STAR_CHANNEL, toWorkingGrid, withExtraInputChannels, type ClickModel } from '../../src/ml/clickModel';
import { createUNet3d, type UNet3d } from '../../src/ml/network';
import { segmentPromptedObject } from '../../src/ml/promptModel';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import { resampleLinear } from '../../src/volume/resample';
import { diceCoefficient } from '../../src/interactive/robotUser';
import type { Vec3 } from '../../src/volume/vec3';
import { tempDir } from '../helpers/tempDir';

before(async () => {
  await tf.setBackend('cpu');
});

test('clickModel: click maps are Gaussian bumps in mm, one map per sign, zero beyond 3σ', () => {
  const dims: Vec3 = [21, 21, 7];
  const spacing: Vec3 = [1, 1, 3];
  const { positive, negative } = clickMaps(dims, spacing, [{ at: [10, 10, 3], positive: true }, { at: [2, 2, 0], positive: false }], 2);
  const at = (m: Float32Array, i: number, j: number, k: number): number => m[i + 21 * (j + 21 * k)];
  assert.equal(at(positive, 10, 10, 3), 1);
  assert.ok(Math.abs(at(positive, 12, 10, 3) - Math.exp(-4 / 8)) < 1e-6, '2 mm along x');
  assert.ok(Math.abs(at(positive, 10, 10, 4) - Math.exp(-9 / 8)) < 1e-6, 'one slice is 3 mm');
  assert.equal(at(positive, 17, 10, 3), 0, '7 mm is beyond 3σ');
  assert.equal(at(positive, 2, 2, 0), 0);
  assert.equal(at(negative, 2, 2, 0), 1);
  assert.equal(at(negative, 10, 10, 3), 0);
});

test('clickModel: source voxels map onto the working grid as resampleLinear maps them', () => {
  const src: Vec3 = [30, 20, 10];
  const work: Vec3 = [12, 8, 10];
  const data = new Float32Array(30 * 20 * 10);
  const voxel: Vec3 = [17, 6, 4];
  data[voxel[0] + 30 * (voxel[1] + 20 * voxel[2])] = 1;
  // A smooth blob around the voxel, resampled: its peak lies where toWorkingGrid puts the voxel.
  for (let k = 0; k < 10; k++)
    for (let j = 0; j < 20; j++)
      for (let i = 0; i < 30; i++) data[i + 30 * (j + 20 * k)] = Math.exp(-((i - 17) ** 2 + (j - 6) ** 2 + (k - 4) ** 2) / 50);
  const r = resampleLinear(data, src, work);
  let best = 0;
  for (let v = 1; v < r.length; v++) if (r[v] > r[best]) best = v;
  const peak = [best % 12, Math.floor(best / 12) % 8, Math.floor(best / 96)];
  const mapped = toWorkingGrid(voxel, src, work);
  for (let a = 0; a < 3; a++) assert.ok(Math.abs(mapped[a] - peak[a]) <= 0.5, `axis ${a}: ${mapped[a]} vs peak ${peak[a]}`);
  assert.deepEqual(toWorkingGrid(voxel, src, src), voxel);
});

test('clickModel: the extra input channels start at zero, so the network first computes what its base computes', () => {
  const base = createUNet3d({ levels: 2, baseFilters: 2, seed: 5, normalization: 'instance' });
  const net = withExtraInputChannels(base, 2);
  assert.equal(net.config.inChannels, 3);
  const image = tf.randomNormal([1, 8, 8, 8, 1], 0, 1, 'float32', 7);
  const clicks = tf.randomUniform([1, 8, 8, 8, 2], 0, 1, 'float32', 9);
  const a = base.predict(image as tf.Tensor5D);
  const b = net.predict(tf.concat([image, clicks], 4) as tf.Tensor5D);
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  assert.ok(diff < 1e-5, `max difference ${diff}`);
  tf.dispose([image, clicks, a, b]);
  base.dispose();
  net.dispose();
});

test('clickModel: a folder that is not a click model is refused with its card named', async () => {
  const dir = join(tempDir('ll-click-'), 'm');
  mkdirSync(dir);
  writeFileSync(join(dir, 'card.json'), JSON.stringify({ format: 'lesion-lab-model' }));
  await assert.rejects(loadClickModel(dir), (e: Error) => e.message.includes(join(dir, 'card.json')) && e.message.includes('lesion-lab-click-model'));
});

/**
 * A click model whose "network" marks the voxels near positive clicks (its positive-click
 * channel ≥ `level`) and ignores negative clicks: enough to test the plumbing around a model.
 */
function ballClickModel(patch: Vec3, sigmaMm: number, level = 0.3): ClickModel {
  const network = {
    predict: (x: tf.Tensor5D) =>
      tf.tidy(() => {
        const pos = tf.slice(x, [0, 0, 0, 0, 1], [-1, -1, -1, -1, 1]);
        const p = tf.cast(tf.greaterEqual(pos, level), 'float32');
        return tf.concat([tf.sub(1, p), p], 4) as tf.Tensor5D;
      }),
  } as unknown as UNet3d;
  return { network, dir: 'ball', card: { format: CLICK_MODEL_FORMAT, formatVersion: 1, task: 'test', patchSizeVoxels: patch, preprocessing: defaultPreprocessing('MR', null), clickSigmaMm: sigmaMm, channels: ['image', 'positive clicks', 'negative clicks'], training: {} } };
}

const DIMS: Vec3 = [40, 40, 20];
const SPACING: Vec3 = [1, 1, 2];
// A bright ball of radius 8 mm at (20, 20, 10) on a dark background.
const IMAGE = Float32Array.from({ length: 40 * 40 * 20 }, (_, v) => {
  const i = v % 40, j = Math.floor(v / 40) % 40, k = Math.floor(v / 1600);
  return (i - 20) ** 2 + (j - 20) ** 2 + (2 * (k - 10)) ** 2 <= 64 ? 100 : 10;
});
const idx = (p: Vec3): number => p[0] + 40 * (p[1] + 40 * p[2]);

test('clickModel: the object is what the model marks at the positive clicks; boxes and negative-only prompts are left to the star', () => {
  const model = ballClickModel([16, 16, 8], 4);
  const volume = { data: IMAGE, dims: DIMS, spacingMm: SPACING };
  const r = clickModelObject(model, volume, { points: [{ voxel: [20, 20, 10], positive: true }], boxes: [] });
  assert.ok(r);
  // exp(−d²/2σ²) ≥ 0.3 within d ≤ 6.2 mm of the click.
  assert.equal(r.mask[idx([20, 20, 10])], 1);
  assert.equal(r.mask[idx([26, 20, 10])], 1);
  assert.equal(r.mask[idx([27, 20, 10])], 0);
  assert.equal(r.mask[idx([20, 20, 13])], 1, '6 mm is three 2 mm slices');
  assert.equal(r.mask[idx([20, 20, 14])], 0);
  assert.equal(clickModelObject(model, volume, { points: [{ voxel: [20, 20, 10], positive: true }], boxes: [{ min: [10, 10, 5], max: [30, 30, 15] }] }), null);
  assert.equal(clickModelObject(model, volume, { points: [{ voxel: [20, 20, 10], positive: false }], boxes: [] }), null);
});

test('clickModel: one window around a small object; the box grows past each face a larger object touches', () => {
  const volume = { data: IMAGE, dims: DIMS, spacingMm: SPACING };
  const click = { points: [{ voxel: [20, 20, 10] as Vec3, positive: true }], boxes: [] };
  const counted = (m: ClickModel): { model: ClickModel; calls: () => number } => {
    let calls = 0;
    const predict = m.network.predict.bind(m.network);
    return { model: { ...m, network: { predict: (x: tf.Tensor5D) => (calls++, predict(x)) } as unknown as UNet3d }, calls: () => calls };
  };
  // The object (6.2 mm around the click: 7 slices of 2 mm) fits one 16 × 16 × 10 window.
  const small = counted(ballClickModel([16, 16, 10], 4));
  clickModelObject(small.model, volume, click);
  assert.equal(small.calls(), 1);
  // With 8 × 8 × 4 windows it reaches the first window's faces; the grown box holds all of it.
  const large = counted(ballClickModel([8, 8, 4], 4));
  const r = clickModelObject(large.model, volume, click);
  assert.ok(r && large.calls() > 1);
  for (const [p, inside] of [[[26, 20, 10], 1], [[27, 20, 10], 0], [[14, 20, 10], 1], [[13, 20, 10], 0], [[20, 20, 13], 1], [[20, 20, 14], 0], [[20, 20, 7], 1], [[20, 20, 6], 0]] as [Vec3, number][])
    assert.equal(r.mask[idx(p)], inside, `voxel ${p.join(',')}`);
});

test('clickModel: a click the model does not honour gets the star-shaped correction; without a model object the star answers', () => {
  // The model marks 9.8 mm around the click (exp(−d²/2σ²) ≥ 0.05), more than the 8 mm ball.
  const model = ballClickModel([16, 16, 8], 4, 0.05);
  const volume = { values: IMAGE, dims: DIMS, spacingMm: SPACING };
  const first = { voxel: [20, 20, 10] as Vec3, positive: true };
  const one = segmentPromptedObject(volume, { points: [first], boxes: [] }, { clickModel: model });
  assert.equal(one.method, 'click model');
  // A negative click in the excess, which the model ignores.
  const outside = { voxel: [29, 20, 10] as Vec3, positive: false };
  assert.equal(one.mask[idx(outside.voxel)], 1);
  const two = segmentPromptedObject(volume, { points: [first, outside], boxes: [] }, { clickModel: model, previous: one.mask });
  assert.equal(two.method, 'click model + star-shaped correction');
  assert.equal(two.mask[idx(outside.voxel)], 0, 'the correction takes the click out');
  const ball = Uint8Array.from(IMAGE, (v) => (v > 50 ? 1 : 0));
  const dice = (m: Uint8Array): number => diceCoefficient(m, ball);
  assert.ok(dice(two.mask) > dice(one.mask), `Dice ${dice(one.mask).toFixed(3)} → ${dice(two.mask).toFixed(3)}`);
  // A model that marks nothing: the star-shaped method segments the ball.
  const blind = { ...model, network: { predict: (x: tf.Tensor5D) => tf.tidy(() => tf.concat([tf.onesLike(tf.slice(x, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 1])), tf.zerosLike(tf.slice(x, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 1]))], 4) as tf.Tensor5D) } as unknown as UNet3d };
  const star = segmentPromptedObject(volume, { points: [first], boxes: [] }, { clickModel: blind });
  assert.equal(star.method, 'star-shaped');
  assert.ok(dice(star.mask) > 0.8, `star Dice ${dice(star.mask).toFixed(3)}`);
});

test('clickModel: a model that refines the star gets the star-shaped object of the same clicks as its fourth channel', () => {
  // Stand-in networks: one returns the star channel (≥ 0.5), one marks 6.2 mm around the positive
  // clicks and ignores the star; each sees exactly 4 input channels.
  const channelModel = (pick: (x: tf.Tensor5D) => tf.Tensor): ClickModel => {
    const m = ballClickModel([16, 16, 8], 4);
    const network = {
      predict: (x: tf.Tensor5D) =>
        tf.tidy(() => {
          assert.equal(x.shape[4], 4);
          const p = tf.cast(pick(x), 'float32');
          return tf.concat([tf.sub(1, p), p], 4) as tf.Tensor5D;
        }),
    } as unknown as UNet3d;
    return { ...m, network, card: { ...m.card, channels: [...m.card.channels, STAR_CHANNEL] } };
  };
  const copiesStar = channelModel((x) => tf.greaterEqual(tf.slice(x, [0, 0, 0, 0, 3], [-1, -1, -1, -1, 1]), 0.5));
  const nearClicks = channelModel((x) => tf.greaterEqual(tf.slice(x, [0, 0, 0, 0, 1], [-1, -1, -1, -1, 1]), 0.3));
  const ball = (radiusMm: number): Float32Array =>
    Float32Array.from(IMAGE, (_, v) => ((v % 40) - 20) ** 2 + ((Math.floor(v / 40) % 40) - 20) ** 2 + (2 * (Math.floor(v / 1600) - 10)) ** 2 <= radiusMm ** 2 ? 100 : 10);
  const volume = { values: ball(12), dims: DIMS, spacingMm: SPACING };
  const prompts = { points: [{ voxel: [20, 20, 10] as Vec3, positive: true }], boxes: [] };
  const star = segmentPromptedObject(volume, prompts, {});
  const copied = segmentPromptedObject(volume, prompts, { clickModel: copiesStar });
  assert.equal(copied.method, 'click model');
  assert.equal(diceCoefficient(copied.mask, star.mask), 1, 'the star\'s object reached the network whole');
  const own = segmentPromptedObject(volume, prompts, { clickModel: nearClicks });
  assert.equal(own.mask[idx([26, 20, 10])], 1);
  assert.equal(own.mask[idx([27, 20, 10])], 0, 'the network\'s answer, not the star\'s, is the object');
  // An object under 4 working voxels (2 mm here) in radius is the star's: the grid cannot resolve it.
  const small = { values: ball(5), dims: DIMS, spacingMm: SPACING };
  const tiny = segmentPromptedObject(small, prompts, { clickModel: nearClicks });
  assert.equal(tiny.method, 'star-shaped');
  assert.equal(diceCoefficient(tiny.mask, segmentPromptedObject(small, prompts, {}).mask), 1);
  // A refining model needs the star; a plain one refuses it.
  const image = { data: volume.values, dims: DIMS, spacingMm: SPACING };
  assert.throws(() => clickModelObject(copiesStar, image, prompts), /needs it/);
  assert.throws(() => clickModelObject(ballClickModel([16, 16, 8], 4), image, prompts, star.mask), /takes no star/);
});

test('clickModel: a negative click\'s star correction never takes more than half of the model\'s object', () => {
  // A 2 mm bright speck where the model marks 9.8 mm around the click: the star from the first
  // click finds the speck, so its correction of a negative click in the model's object would
  // take most of that object.
  const speck = Float32Array.from({ length: 40 * 40 * 20 }, (_, v) => {
    const i = v % 40, j = Math.floor(v / 40) % 40, k = Math.floor(v / 1600);
    return (i - 20) ** 2 + (j - 20) ** 2 + (2 * (k - 10)) ** 2 <= 4 ? 100 : 10;
  });
  const model = ballClickModel([16, 16, 8], 4, 0.05);
  const volume = { values: speck, dims: DIMS, spacingMm: SPACING };
  const first = { voxel: [20, 20, 10] as Vec3, positive: true };
  const one = segmentPromptedObject(volume, { points: [first], boxes: [] }, { clickModel: model });
  const negative = { voxel: [26, 20, 10] as Vec3, positive: false };
  assert.equal(one.mask[idx(negative.voxel)], 1);
  const two = segmentPromptedObject(volume, { points: [first, negative], boxes: [] }, { clickModel: model, previous: one.mask });
  let kept = 0;
  let total = 0;
  for (let v = 0; v < one.mask.length; v++) {
    if (!one.mask[v]) continue;
    total++;
    kept += two.mask[v];
  }
  assert.ok(kept >= total / 2, `kept ${kept} of ${total} voxels (${two.method})`);
  assert.equal(two.mask[idx(first.voxel)], 1);
});

test('clickModel: a saved click model loads, and its card and channel count are checked', async () => {
  const dir = join(tempDir('ll-click-'), 'model');
  const base = createUNet3d({ levels: 2, baseFilters: 2, seed: 3, normalization: 'instance' });
  const net = withExtraInputChannels(base, 2);
  base.dispose();
  await net.save(dir);
  net.dispose();
  const card = { ...ballClickModel([8, 8, 8], 3).card };
  writeFileSync(join(dir, 'card.json'), JSON.stringify(card));
  const model = await loadClickModel(dir);
  assert.equal(model.network.config.inChannels, 3);
  const r = clickModelObject(model, { data: IMAGE, dims: DIMS, spacingMm: SPACING }, { points: [{ voxel: [20, 20, 10], positive: true }], boxes: [] });
  if (r) assert.equal(r.mask.length, IMAGE.length);
  model.network.dispose();
  const one = join(tempDir('ll-click-'), 'one-channel');
  const plain = createUNet3d({ levels: 2, baseFilters: 2, seed: 3 });
  await plain.save(one);
  plain.dispose();
  writeFileSync(join(one, 'card.json'), JSON.stringify(card));
  await assert.rejects(loadClickModel(one), /takes 1 input channels; a click model takes 3/);
  assert.equal(clickModelFolder('sarcoma-mr-t1'), 'click/sarcoma-mr-t1');
});
