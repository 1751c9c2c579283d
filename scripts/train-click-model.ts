// `npm run train:click-model -- --task sarcoma-mr-t1 [--base DIR] [--minutes M]
// [--steps N] [--threads T] [--lr 3e-4] [--first-layer-lr 3e-3] [--sigma-mm S] [--own-clicks F] [--resume DIR] [--out DIR] [--seed 11]`: makes the task's click model
// (src/ml/clickModel.ts) from its starter: the starter's U-Net with positive- and negative-click
// input channels (zero weights at first, so it starts as the starter), fine-tuned on the task's
// training cases (the starter's own; the held-out patients stay out) with simulated robot-user
// clicks. The clicks of a sample follow the robot user of the CVPR 2025 protocol
// (src/interactive/robotUser.ts) against a simulated object so far: the first click at a deep
// voxel of the tumour; each next one at the deepest voxel of the largest error of the starter's own
// prediction (thresholded at 0.3–0.7, the components holding the first click), which is taken as
// fixed once clicked; with --own-clicks F, that fraction of samples takes its correction clicks from
// the network's own prediction on the patch instead. Checkpoints (model.json, weights.bin,
// card.json) every 5 minutes and at the end, into media/models/click/<task> unless --out.
//
// `--star-channel [--from-click-model DIR] [--star-runs 3] [--star-clicks 6] [--synthetic F]`
// makes a model that refines the star-shaped method's object: a fourth input channel holds the
// star's object for the same clicks (zero weights at first; from a click model, it starts as that
// model). Its samples come from robot-user runs of the star on the training cases (the first run
// from the deepest tumour voxel, the others from random deep voxels), and a fraction F are synthetic
// ellipsoids of any size and polarity put into the task's images, with the star of their clicks.
import * as tf from '@tensorflow/tfjs';
import { join, resolve } from 'node:path';
import { initBackend } from '../src/ml/backend';
import { CLICK_CHANNELS, CLICK_MODEL_FORMAT, clickMaps, componentsAtPositiveClicks, STAR_CHANNEL, starOnWorkingGrid, toWorkingGrid, withExtraInputChannels, type ClickModelCard } from '../src/ml/clickModel';
import { checkWorkingGrid, predictWindowWithFlips } from '../src/ml/inference';
import { normalizeIntensity } from '../src/ml/preprocess';
import { segmentPromptedObject } from '../src/ml/promptModel';
import { readNifti } from '../src/nifti';
import { resampleLinear, resampleNearest } from '../src/volume/resample';
import { createLoss, DeepSupervisionLoss } from '../src/ml/losses';
import { readCard } from '../src/ml/modelStore';
import { loadUNet3d } from '../src/ml/network/serialize';
import { oneHot, prepareCase } from '../src/ml/training/cases';
import { saveNetworkAtomically, scheduleFactor, trainingLoss } from '../src/ml/training/loop';
import { labelComponents } from '../src/interactive/components';
import { distanceTransformMm } from '../src/interactive/distanceTransform';
import { nextRobotClick } from '../src/interactive/robotUser';
import { writeFileAtomic } from '../src/util/atomicWrite';
import { seededRandom } from '../src/util/random';
import { extractPatch, flipInPlace } from '../src/volume/boxes';
import { slidingWindowInfer } from '../src/volume/slidingWindow';
import type { Vec3 } from '../src/volume/vec3';
import { clickModelFolder, STARTER_TASKS, type StarterTask } from '../src/ml/starterChoice';
import { arg, DEFAULT_RECIPE, ROOT, SARCOMA_ATTRIBUTION, task, type TaskName } from './tasks';

/** A training case on the working grid. */
interface GridCase {
  name: string;
  values: Float32Array;
  labels: Uint8Array;
  dims: Vec3;
  spacingMm: Vec3;
  padValue: number;
  lesion: Int32Array;
}

interface ClickCase extends GridCase {
  /** The starter's lesion probability on this grid. */
  starter: Float32Array;
  /** Voxels at least half as deep in the tumour as its deepest (first-click candidates), deepest first. */
  deep: Int32Array;
}

const coords = (v: number, d: Vec3): Vec3 => [v % d[0], Math.floor(v / d[0]) % d[1], Math.floor(v / (d[0] * d[1]))];
const index = (p: Vec3, d: Vec3): number => p[0] + d[0] * (p[1] + d[1] * p[2]);

/** How many clicks a sample holds: 1–8, fewer more often. */
function clickCount(random: () => number): number {
  const r = random();
  return r < 0.25 ? 1 : r < 0.45 ? 2 : r < 0.65 ? 3 : r < 0.8 ? 4 : r < 0.9 ? 5 : 6 + Math.floor(random() * 3);
}

/** Simulated robot clicks for one sample (see the header). */
function simulateClicks(c: ClickCase, random: () => number): { voxel: Vec3; positive: boolean }[] {
  const count = clickCount(random);
  const first = c.deep[random() < 0.5 ? 0 : Math.floor(random() * c.deep.length)];
  const clicks = [{ voxel: coords(first, c.dims), positive: true }];
  const threshold = 0.3 + 0.4 * random();
  const n = c.labels.length;
  let object = new Uint8Array(n);
  for (let v = 0; v < n; v++) object[v] = c.starter[v] >= threshold ? 1 : 0;
  const comps = labelComponents(object, c.dims, 26);
  const id = comps.labels[first];
  for (let v = 0; v < n; v++) object[v] = id > 0 && comps.labels[v] === id ? 1 : 0;
  while (clicks.length < count) {
    const click = nextRobotClick(object, c.labels, c.dims, c.spacingMm);
    if (!click) break;
    clicks.push(click);
    // The click is taken to fix the whole error component it lands in.
    const error = new Uint8Array(n);
    for (let v = 0; v < n; v++) error[v] = object[v] ^ c.labels[v];
    const e = labelComponents(error, c.dims, 26);
    const eid = e.labels[index(click.voxel, c.dims)];
    object = Uint8Array.from(object, (o, v) => (eid > 0 && e.labels[v] === eid ? c.labels[v] : o));
  }
  return clicks;
}

/** Channels-last image and its other channels (clicks, the star's object), with the image's intensity scaled and shifted by `scale` and `shift`. */
function clickInput(image: Float32Array, others: readonly Float32Array[], scale = 1, shift = 0): Float32Array {
  const n = image.length;
  const c = 1 + others.length;
  const x = new Float32Array(n * c);
  for (let v = 0; v < n; v++) {
    x[c * v] = image[v] * scale + shift;
    for (let o = 0; o < others.length; o++) x[c * v + 1 + o] = others[o][v];
  }
  return x;
}

/** The network's input and target of a patch: random flips of every channel alike, intensity ±10 % on the image. */
function finishSample(image: Float32Array, others: readonly Float32Array[], labels: Float32Array, patch: Vec3, random: () => number): { x: Float32Array; y: Uint8Array } {
  for (let a = 0; a < 3; a++) if (random() < 0.5) for (const ch of [image, ...others, labels]) flipInPlace(ch, patch, [a]);
  const scale = 0.9 + 0.2 * random();
  const shift = (random() - 0.5) * 0.2;
  return { x: clickInput(image, others, scale, shift), y: Uint8Array.from(labels, (l) => (l > 0 ? 1 : 0)) };
}

/** One training patch: 3 channels (image, positive, negative clicks) and its labels. */
function makeSample(c: ClickCase, patch: Vec3, sigmaMm: number, random: () => number): { x: Float32Array; y: Uint8Array } {
  const clicks = simulateClicks(c, random);
  const anchor = random() < 0.6 ? coords(c.lesion[Math.floor(random() * c.lesion.length)], c.dims) : clicks[Math.floor(random() * clicks.length)].voxel;
  const start = anchor.map((p, a) => Math.round(p - patch[a] / 2 + (random() - 0.5) * 0.5 * patch[a])) as Vec3;
  const image = extractPatch(c.values, c.dims, start, patch, c.padValue);
  const labels = extractPatch(c.labels, c.dims, start, patch, 0);
  const maps = clickMaps(patch, c.spacingMm, clicks.map((k) => ({ at: k.voxel.map((p, a) => p - start[a]) as Vec3, positive: k.positive })), sigmaMm);
  return finishSample(image, [maps.positive, maps.negative], labels, patch, random);
}

/**
 * A sample whose correction clicks follow the robot user against the network's own prediction on
 * the patch: the first click at a deep tumour voxel, each next one at the deepest voxel of the
 * largest error of what the network makes of the clicks so far.
 */
function makeOwnSample(c: ClickCase, patch: Vec3, sigmaMm: number, random: () => number, network: { predict(x: tf.Tensor5D): tf.Tensor5D }): { x: Float32Array; y: Uint8Array } {
  const count = clickCount(random);
  const first = coords(c.deep[random() < 0.5 ? 0 : Math.floor(random() * c.deep.length)], c.dims);
  const start = first.map((p, a) => Math.round(p - patch[a] / 2 + (random() - 0.5) * 0.5 * patch[a])) as Vec3;
  const image = extractPatch(c.values, c.dims, start, patch, c.padValue);
  const labels = Uint8Array.from(extractPatch(c.labels, c.dims, start, patch, 0), (l) => (l > 0 ? 1 : 0));
  const clicks = [{ voxel: first.map((p, a) => p - start[a]) as Vec3, positive: true }];
  const maps = (): { positive: Float32Array; negative: Float32Array } => clickMaps(patch, c.spacingMm, clicks.map((k) => ({ at: k.voxel, positive: k.positive })), sigmaMm);
  while (clicks.length < count) {
    const m = maps();
    const p = tf.tidy(() => tf.slice(network.predict(tf.tensor5d(clickInput(image, [m.positive, m.negative]), [1, patch[2], patch[1], patch[0], 3])), [0, 0, 0, 0, 1], [1, patch[2], patch[1], patch[0], 1]).dataSync());
    const object = componentsAtPositiveClicks(Uint8Array.from(p, (q) => (q >= 0.5 ? 1 : 0)), patch, clicks);
    const click = nextRobotClick(object, labels, patch, c.spacingMm);
    if (!click) break;
    clicks.push(click);
  }
  const m = maps();
  return finishSample(image, [m.positive, m.negative], Float32Array.from(labels), patch, random);
}

/** A case for a click model that refines the star: its working grid and robot runs of the star-shaped method. */
interface StarCase extends GridCase {
  /** Robot-user runs of the star-shaped method on the source image: the clicks (working grid) and the star's object after each (fraction × 255 per working voxel). */
  runs: { clicks: { voxel: Vec3; positive: boolean }[]; stars: Uint8Array[] }[];
}

/**
 * A star case: the image on the working grid exactly as inference makes it (no crop), and
 * `runCount` robot-user runs of `clicksPerRun` clicks with the star-shaped method on the source
 * image, the first from the deepest tumour voxel, the others from random voxels at least half as deep.
 */
async function prepareStarCase(pair: { imagePath: string; maskPath: string }, preprocessing: ClickModelCard['preprocessing'], runCount: number, clicksPerRun: number, random: () => number): Promise<StarCase | null> {
  const image = await readNifti(pair.imagePath);
  const mask = await readNifti(pair.maskPath);
  const ref = new Uint8Array(mask.data.length);
  for (let v = 0; v < ref.length; v++) ref[v] = mask.data[v] > 0 ? 1 : 0;
  const volume = { values: image.data, dims: image.dims, spacingMm: image.spacingMm };
  const norm = normalizeIntensity(image.data, preprocessing);
  const { workDims, resample } = checkWorkingGrid(image, preprocessing.targetSpacingMm);
  const values = resample ? resampleLinear(norm.values, image.dims, workDims) : norm.values;
  const labels = resample ? resampleNearest(ref, image.dims, workDims) : ref;
  const lesion = Int32Array.from([...labels.keys()].filter((v) => labels[v]));
  if (lesion.length === 0) return null;
  const dt = distanceTransformMm(ref, image.dims, image.spacingMm);
  let maxDt = 0;
  for (let v = 0; v < dt.length; v++) if (ref[v] && dt[v] > maxDt) maxDt = dt[v];
  const deep = [...dt.keys()].filter((v) => ref[v] && dt[v] >= 0.5 * maxDt);
  const runs: StarCase['runs'] = [];
  for (let r = 0; r < runCount; r++) {
    const points: { voxel: Vec3; positive: boolean }[] = [];
    const stars: Uint8Array[] = [];
    let object: Uint8Array | null = null;
    for (let k = 0; k < clicksPerRun; k++) {
      const click = k === 0 && r > 0 ? { voxel: coords(deep[Math.floor(random() * deep.length)], image.dims), positive: true } : nextRobotClick(object, ref, image.dims, image.spacingMm);
      if (!click) break;
      points.push(click);
      object = segmentPromptedObject(volume, { points, boxes: [] }, { previous: object ?? undefined }).mask;
      stars.push(Uint8Array.from(starOnWorkingGrid(object, image.dims, workDims), (f) => Math.round(255 * f)));
    }
    runs.push({ clicks: points.map((p) => ({ voxel: toWorkingGrid(p.voxel, image.dims, workDims), positive: p.positive })), stars });
  }
  const spacingMm = resample ? preprocessing.targetSpacingMm! : image.spacingMm;
  return { name: pair.imagePath, values, labels, dims: workDims, spacingMm, padValue: norm.backgroundValue, lesion, runs };
}

/** A training patch of a star case: the first clicks of one run, the star's object after them, the reference. */
function makeStarSample(c: StarCase, patch: Vec3, sigmaMm: number, random: () => number): { x: Float32Array; y: Uint8Array } {
  const run = c.runs[Math.floor(random() * c.runs.length)];
  const count = Math.min(clickCount(random), run.clicks.length);
  const clicks = run.clicks.slice(0, count);
  const anchor = random() < 0.6 ? coords(c.lesion[Math.floor(random() * c.lesion.length)], c.dims) : clicks[Math.floor(random() * clicks.length)].voxel;
  const start = anchor.map((p, a) => Math.round(p - patch[a] / 2 + (random() - 0.5) * 0.5 * patch[a])) as Vec3;
  const image = extractPatch(c.values, c.dims, start, patch, c.padValue);
  const labels = extractPatch(c.labels, c.dims, start, patch, 0);
  const star = extractPatch(run.stars[count - 1], c.dims, start, patch, 0);
  for (let v = 0; v < star.length; v++) star[v] /= 255;
  const maps = clickMaps(patch, c.spacingMm, clicks.map((k) => ({ at: k.voxel.map((p, a) => p - start[a]) as Vec3, positive: k.positive })), sigmaMm);
  return finishSample(image, [maps.positive, maps.negative, star], labels, patch, random);
}

/**
 * A synthetic training patch for a star-refining model: an ellipsoid of random size, shape and
 * contrast (brighter or darker, the patch's own texture kept) put into a random patch of a real
 * case, 1–3 robot clicks, and the star-shaped object of those clicks on the patch. It teaches the
 * network objects unlike the task's tumours, where the star is right and a tumour prior is not.
 */
function makeSyntheticSample(c: StarCase, patch: Vec3, sigmaMm: number, random: () => number): { x: Float32Array; y: Uint8Array } {
  const anchor = coords(random() < 0.5 ? c.lesion[Math.floor(random() * c.lesion.length)] : Math.floor(random() * c.values.length), c.dims);
  const start = anchor.map((p, a) => Math.round(p - patch[a] / 2)) as Vec3;
  const image = extractPatch(c.values, c.dims, start, patch, c.padValue);
  const sp = c.spacingMm;
  const extentMm = Math.min(...patch.map((n, a) => n * sp[a]));
  const radius = 4 + random() * (0.4 * extentMm - 4);
  const semi = [0, 1, 2].map(() => radius * (0.7 + 0.6 * random()));
  const centre = patch.map((n) => n / 2 + (random() - 0.5) * 0.2 * n);
  const contrast = (random() < 0.5 ? -1 : 1) * (1.5 + 3 * random());
  const labels = new Float32Array(image.length);
  for (let k = 0, v = 0; k < patch[2]; k++)
    for (let j = 0; j < patch[1]; j++)
      for (let i = 0; i < patch[0]; i++, v++) {
        const q = [i, j, k].map((x, a) => ((x - centre[a]) * sp[a]) / semi[a]);
        const r = Math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
        // Partial volume over about one voxel at the surface.
        const inside = 1 / (1 + Math.exp(((r - 1) * radius) / Math.min(...sp)));
        image[v] += contrast * inside;
        labels[v] = r <= 1 ? 1 : 0;
      }
  const ref = Uint8Array.from(labels);
  const volume = { values: image, dims: patch, spacingMm: sp };
  const points = [{ voxel: centre.map(Math.round) as Vec3, positive: true }];
  let star = segmentPromptedObject(volume, { points, boxes: [] }, {}).mask;
  const count = 1 + Math.floor(random() * 3);
  while (points.length < count) {
    const click = nextRobotClick(star, ref, patch, sp);
    if (!click) break;
    points.push(click);
    star = segmentPromptedObject(volume, { points, boxes: [] }, { previous: star }).mask;
  }
  const maps = clickMaps(patch, sp, points.map((k) => ({ at: k.voxel, positive: k.positive })), sigmaMm);
  return finishSample(image, [maps.positive, maps.negative, Float32Array.from(star)], labels, patch, random);
}

async function main(): Promise<void> {
  const name = (arg('task') ?? 'sarcoma-mr-t1') as TaskName;
  if (!(STARTER_TASKS as readonly string[]).includes(name)) throw new Error(`--task must be one of ${STARTER_TASKS.join(', ')}, got ${name}`);
  const baseDir = resolve(arg('base') ?? join(ROOT, 'media/models', name));
  const out = resolve(arg('out') ?? join(ROOT, 'media/models', clickModelFolder(name as StarterTask)));
  const minutes = Number(arg('minutes') ?? 60);
  const maxSteps = Number(arg('steps') ?? Infinity);
  // The starter's weights move slowly, the new click weights of the first convolution 10× faster.
  const lr = Number(arg('lr') ?? 3e-4);
  const firstLayerLr = Number(arg('first-layer-lr') ?? 10 * lr);
  const seed = Number(arg('seed') ?? DEFAULT_RECIPE.seed);
  const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
  const backend = await initBackend({ preferred: 'auto', ...(threads ? { wasmThreads: threads } : {}) });
  console.log(`backend: ${backend.name} (${backend.reason})`);
  const card = await readCard(baseDir);
  const base = await loadUNet3d(baseDir);
  const patch = card.patchSizeVoxels;
  const spacing = card.preprocessing.targetSpacingMm ?? [1, 1, 1];
  const sigmaMm = Number(arg('sigma-mm') ?? 3 * Math.max(...spacing));
  const t = task(name);
  const t0 = Date.now();
  const random = seededRandom(seed);
  // --star-channel: the model refines the star-shaped method's object (a fourth input channel),
  // trained on robot-user runs of the star on the training cases (--star-runs R of --star-clicks K).
  const starChannel = process.argv.includes('--star-channel');
  // --synthetic F: that fraction of a star-refining model's samples are synthetic ellipsoids.
  const synthetic = Number(arg('synthetic') ?? 0);
  if (!(synthetic >= 0 && synthetic <= 1)) throw new Error(`--synthetic must be a fraction from 0 to 1, got ${arg('synthetic')}`);
  if (synthetic > 0 && !starChannel) throw new Error('--synthetic needs --star-channel: synthetic objects come with the star\'s object of their clicks');
  const starCases: StarCase[] = [];
  if (starChannel) {
    const runCount = Number(arg('star-runs') ?? 3);
    const clicksPerRun = Number(arg('star-clicks') ?? 6);
    for (const pair of t.train) {
      const c = await prepareStarCase(pair, card.preprocessing, runCount, clicksPerRun, random);
      if (c) starCases.push(c);
      console.log(`${pair.imagePath.replace(/^.*\/(STS_\d+)\/.*$/, '$1')}: ${c ? c.runs.map((r) => r.stars.length).join('+') : 0} star objects, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  }
  const cases: ClickCase[] = [];
  for (const pair of starChannel ? [] : t.train) {
    const p = await prepareCase(pair, card.preprocessing, false);
    const blended = await slidingWindowInfer(p.values, p.dims, async (w) => predictWindowWithFlips(base, w, patch, [[]]), { patchSize: patch, outChannels: 2, padValue: p.padValue });
    const starter = new Float32Array(p.labels.length);
    for (let v = 0; v < starter.length; v++) starter[v] = blended[2 * v];
    const dt = distanceTransformMm(p.labels, p.dims, p.spacingMm);
    let maxDt = 0;
    for (let v = 0; v < dt.length; v++) if (p.labels[v] && dt[v] > maxDt) maxDt = dt[v];
    const deep = [...dt.keys()].filter((v) => p.labels[v] && dt[v] >= 0.5 * maxDt).sort((a, b) => dt[b] - dt[a]);
    if (deep.length === 0) continue;
    cases.push({ name: pair.imagePath, values: p.values, labels: p.labels, dims: p.dims, spacingMm: p.spacingMm, padValue: p.padValue, starter, lesion: p.lesionIndices, deep: Int32Array.from(deep) });
  }
  console.log(`${name}: ${cases.length + starCases.length} training cases prepared in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  // --resume DIR continues a click model of this task (its weights; the schedule starts again).
  // A star-refining model starts from a click model (--from-click-model DIR) with a zero-weight
  // star channel, so it starts as that click model.
  const resume = arg('resume');
  const fromClickModel = arg('from-click-model');
  const network = resume
    ? await loadUNet3d(resolve(resume))
    : starChannel && fromClickModel
      ? withExtraInputChannels(await loadUNet3d(resolve(fromClickModel)), 1)
      : withExtraInputChannels(base, starChannel ? 3 : 2);
  base.dispose();
  const channels = starChannel ? [...CLICK_CHANNELS, STAR_CHANNEL] : [...CLICK_CHANNELS];
  if (network.config.inChannels !== channels.length) throw new Error(`the network takes ${network.config.inChannels} input channels, not ${channels.length}`);
  // --own-clicks F: that fraction of samples takes its correction clicks from the network's own
  // prediction on the patch (DeepEdit's iterative simulation) instead of the starter's errors.
  const ownClicks = Number(arg('own-clicks') ?? 0);
  const loss = createLoss(DEFAULT_RECIPE.loss, DEFAULT_RECIPE.lossOptions as never);
  const deepLoss = new DeepSupervisionLoss({ loss });
  const optimizer = tf.train.adam(lr);
  const firstOptimizer = tf.train.adam(firstLayerLr);
  const firstLayer = network.trainableVariables.filter((v) => v.name.endsWith('/enc0/conv0/kernel'));
  const others = network.trainableVariables.filter((v) => !firstLayer.includes(v));
  if (firstLayer.length !== 1) throw new Error('the first convolution of the network was not found');
  const batch = DEFAULT_RECIPE.batchSize;
  const budgetMs = minutes * 60_000;
  const makeCard = (steps: number): ClickModelCard => ({
    format: CLICK_MODEL_FORMAT,
    formatVersion: 1,
    task: name,
    patchSizeVoxels: patch,
    preprocessing: card.preprocessing,
    clickSigmaMm: sigmaMm,
    channels,
    training: {
      base: card.version ?? name,
      steps,
      minutes: Number(((Date.now() - t0) / 60000).toFixed(1)),
      learningRate: lr,
      firstLayerLearningRate: firstLayerLr,
      ownClickFraction: ownClicks,
      syntheticFraction: synthetic,
      resumedFrom: resume ?? null,
      batchSize: batch,
      loss: DEFAULT_RECIPE.loss,
      cases: [...cases, ...starCases].map((c) => c.name.replace(/^.*\/(STS_\d+)\/.*$/, '$1')),
      fromClickModel: fromClickModel ?? null,
      recipe: starChannel
        ? 'a click model plus a zero-initialised channel holding the star-shaped object of the same clicks; Adam, warm-up 50 steps then cosine over the budget; robot-user runs of the star-shaped method on the training cases; flips, intensity ±10 %'
        : 'the starter plus two zero-initialised click channels; Adam, warm-up 50 steps then cosine over the budget; simulated robot-user clicks against the starter\'s own prediction; flips, intensity ±10 %',
    },
    attribution: SARCOMA_ATTRIBUTION,
  });
  const save = async (steps: number): Promise<void> => {
    await saveNetworkAtomically(network, out);
    await writeFileAtomic(join(out, 'card.json'), `${JSON.stringify(makeCard(steps), null, 2)}\n`);
  };
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  process.on('SIGINT', () => (stopping = true));
  const tTrain = Date.now();
  let lastSave = tTrain;
  let step = 0;
  let lossSum = 0;
  while (step < maxSteps && Date.now() - tTrain < budgetMs && !stopping) {
    const fraction = Math.max(Number.isFinite(maxSteps) ? step / maxSteps : 0, (Date.now() - tTrain) / budgetMs);
    const factor = scheduleFactor('cosine', step, 50, fraction);
    (optimizer as unknown as { learningRate: number }).learningRate = lr * factor;
    (firstOptimizer as unknown as { learningRate: number }).learningRate = firstLayerLr * factor;
    const samples = Array.from({ length: batch }, () => {
      if (starChannel) {
        const c = starCases[Math.floor(random() * starCases.length)];
        return random() < synthetic ? makeSyntheticSample(c, patch, sigmaMm, random) : makeStarSample(c, patch, sigmaMm, random);
      }
      const c = cases[Math.floor(random() * cases.length)];
      return random() < ownClicks ? makeOwnSample(c, patch, sigmaMm, random, network) : makeSample(c, patch, sigmaMm, random);
    });
    const n = patch[0] * patch[1] * patch[2];
    const nc = channels.length;
    const xBuf = new Float32Array(batch * n * nc);
    samples.forEach((s, b) => xBuf.set(s.x, b * n * nc));
    const x = tf.tensor5d(xBuf, [batch, patch[2], patch[1], patch[0], nc]);
    const y = oneHot(samples.map((s) => s.y), [batch, patch[2], patch[1], patch[0]]);
    const { value: cost, grads } = tf.variableGrads(() => trainingLoss(loss, deepLoss, y, network.apply(x, { training: true })), network.trainableVariables);
    firstOptimizer.applyGradients(firstLayer.map((v) => ({ name: v.name, tensor: grads[v.name] })));
    optimizer.applyGradients(others.map((v) => ({ name: v.name, tensor: grads[v.name] })));
    tf.dispose(grads);
    const value = (await cost.data())[0];
    cost.dispose();
    x.dispose();
    y.dispose();
    if (!Number.isFinite(value)) throw new Error(`loss became ${value} at step ${step + 1}`);
    lossSum += value;
    step++;
    if (step % 25 === 0) {
      console.log(`step ${step} loss ${(lossSum / 25).toFixed(4)} ${((Date.now() - tTrain) / 1000).toFixed(0)} s`);
      lossSum = 0;
    }
    if (Date.now() - lastSave > 5 * 60_000) {
      await save(step);
      lastSave = Date.now();
      console.log(`checkpoint at step ${step} → ${out}`);
    }
    await new Promise((r) => setImmediate(r));
  }
  await save(step);
  console.log(`done: ${step} steps in ${((Date.now() - tTrain) / 1000).toFixed(0)} s → ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
