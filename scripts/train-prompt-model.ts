// `npm run train:prompt-model -- [--minutes M] [--steps N] [--out DIR] [--patch 48] [--filters 16]
// [--batch 2] [--lr 0.001] [--seed 1] [--resume DIR]`: trains the class-agnostic prompt model
// (src/ml/promptModel.ts) with simulated clicks (src/interactive/clickSimulation.ts) on every
// lesion we have: soft-tissue sarcoma on CT, MR T1 and PET (the whole tumour is one object) and MS
// lesions on FLAIR (each 26-connected lesion of ≥ 20 voxels is one object). Held out for the
// figures (scripts/eval-interactive.ts): the odd-numbered sarcoma patients STS_011..STS_039 and
// MS patient07. Checkpoints (model.json, weights.bin, card.json) are written atomically into
// --out every 5 minutes and at the end; the schedule is warm-up then cosine over the budget.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/ml/backend';
import { createUNet3d, type UNet3d } from '../src/ml/network/unet3d';
import { loadUNet3d, saveUNet3d } from '../src/ml/network/serialize';
import { PROMPT_MODEL_FORMAT, type PromptModelCard } from '../src/ml/promptModel';
import { readNifti } from '../src/nifti';
import { labelComponents } from '../src/interactive/components';
import { distanceTransformMm } from '../src/interactive/distanceTransform';
import { simulatePrompts } from '../src/interactive/clickSimulation';
import {
  imageToPatch,
  interleaveChannels,
  normalisePatchImage,
  PROMPT_CHANNELS,
  PROMPT_CHANNEL_COUNT,
  resampleLabelToPatch,
  resampleToPatch,
  type PromptPatchGrid,
} from '../src/interactive/promptPatch';
import { seededRandom } from '../src/util/random';
import type { Vec3 } from '../src/volume/vec3';
import { arg, DATA_ROOT as DATA, FLAIR, MS_ATTRIBUTION, MS_MASK, ROOT, SARCOMA_ATTRIBUTION } from './tasks';
import { writeFileAtomic } from '../src/util/atomicWrite';

export const PROMPT_HELD_OUT_SARCOMA = Array.from({ length: 15 }, (_, n) => 11 + 2 * n);
export const PROMPT_HELD_OUT_MS = ['patient07'];

/** One object to learn: its label in `labels`, its bounding box and a few deep voxels to click. */
interface TrainingObject {
  label: number;
  min: Vec3;
  max: Vec3;
  deepVoxels: Vec3[];
}

interface TrainingCase {
  name: string;
  group: string;
  values: Float32Array;
  labels: Int32Array;
  dims: Vec3;
  spacingMm: Vec3;
  objects: TrainingObject[];
}

function coordsOf(v: number, dims: Vec3): Vec3 {
  return [v % dims[0], Math.floor(v / dims[0]) % dims[1], Math.floor(v / (dims[0] * dims[1]))];
}

/** The objects of a mask: the whole mask (sarcoma) or every component of ≥ minVoxels (MS lesions). */
function objectsOf(mask: ArrayLike<number>, dims: Vec3, spacingMm: Vec3, perLesion: boolean): { labels: Int32Array; objects: TrainingObject[] } {
  let labels: Int32Array;
  let ids: number[];
  if (perLesion) {
    const c = labelComponents(mask, dims, 26);
    labels = c.labels;
    ids = c.sizes.map((s, n) => (s >= 20 ? n + 1 : 0)).filter((x) => x > 0);
  } else {
    labels = Int32Array.from(mask as ArrayLike<number>, (v) => (v ? 1 : 0));
    ids = [1];
  }
  const objects: TrainingObject[] = [];
  for (const id of ids) {
    const min: Vec3 = [Infinity, Infinity, Infinity];
    const max: Vec3 = [-1, -1, -1];
    for (let v = 0; v < labels.length; v++) {
      if (labels[v] !== id) continue;
      const c = coordsOf(v, dims);
      for (let a = 0; a < 3; a++) {
        if (c[a] < min[a]) min[a] = c[a];
        if (c[a] > max[a]) max[a] = c[a];
      }
    }
    // Distance transform inside the object's box (one voxel wider) for the deep voxels.
    const lo = min.map((m) => Math.max(0, m - 1)) as Vec3;
    const hi = max.map((m, a) => Math.min(dims[a] - 1, m + 1)) as Vec3;
    const size = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1] as Vec3;
    const local = new Uint8Array(size[0] * size[1] * size[2]);
    for (let k = 0; k < size[2]; k++) for (let j = 0; j < size[1]; j++) for (let i = 0; i < size[0]; i++) {
      local[(k * size[1] + j) * size[0] + i] = labels[((k + lo[2]) * dims[1] + j + lo[1]) * dims[0] + i + lo[0]] === id ? 1 : 0;
    }
    const dt = distanceTransformMm(local, size, spacingMm, true);
    let maxDt = 0;
    let arg = 0;
    for (let v = 0; v < dt.length; v++) if (dt[v] > maxDt) [maxDt, arg] = [dt[v], v];
    const deep: Vec3[] = [];
    const toImage = (v: number): Vec3 => coordsOf(v, size).map((c, a) => c + lo[a]) as Vec3;
    deep.push(toImage(arg));
    const candidates: number[] = [];
    for (let v = 0; v < dt.length; v++) if (dt[v] >= 0.4 * maxDt && local[v]) candidates.push(v);
    for (let n = 0; n < 64 && candidates.length; n++) deep.push(toImage(candidates[Math.floor((n * candidates.length) / 64)]));
    objects.push({ label: id, min, max, deepVoxels: deep });
  }
  return { labels, objects };
}

async function loadCases(): Promise<TrainingCase[]> {
  const cases: TrainingCase[] = [];
  const add = async (name: string, group: string, imagePath: string, maskPath: string, perLesion: boolean): Promise<void> => {
    const image = await readNifti(imagePath);
    const mask = await readNifti(maskPath);
    const { labels, objects } = objectsOf(mask.data, image.dims, image.spacingMm, perLesion);
    if (objects.length === 0) return;
    cases.push({ name, group, values: Float32Array.from(image.data), labels, dims: image.dims, spacingMm: image.spacingMm, objects });
  };
  for (let p = 1; p <= 40; p++) {
    if (PROMPT_HELD_OUT_SARCOMA.includes(p)) continue;
    const id = `STS_${String(p).padStart(3, '0')}`;
    for (const m of ['CT', 'MR_T1', 'PET']) {
      const d = join(DATA, 'sarcoma-ct-mr-pet', id, m);
      if (existsSync(join(d, 'image.nii.gz'))) await add(`${id}/${m}`, `sarcoma ${m}`, join(d, 'image.nii.gz'), join(d, 'mask.nii.gz'), false);
    }
  }
  for (const p of ['patient07', 'patient19', 'patient26']) {
    if (PROMPT_HELD_OUT_MS.includes(p)) continue;
    const d = join(DATA, 'ms-flair-mni', p);
    await add(p, 'ms lesions', join(d, FLAIR), join(d, MS_MASK), true);
  }
  return cases;
}

interface Sample {
  input: Float32Array;
  target: Uint8Array;
}

/** One training patch: object, zoom, placement, simulated prompts, flips. */
function makeSample(c: TrainingCase, P: number, random: () => number, minSpacingMm: number, maxSpacingMm: number): Sample {
  const o = c.objects[Math.floor(random() * c.objects.length)];
  const extentMm = Math.max(...[0, 1, 2].map((a) => (o.max[a] - o.min[a] + 1) * c.spacingMm[a]));
  // The object fills 25–100 % of the patch (sometimes more: the model must then reach the border, which makes inference zoom out).
  const fill = random() < 0.1 ? 1 + 0.5 * random() : 0.25 + 0.75 * random();
  const spacing = Math.min(maxSpacingMm, Math.max(minSpacingMm, extentMm / (fill * P)));
  const click = random() < 0.5 ? o.deepVoxels[0] : o.deepVoxels[Math.floor(random() * o.deepVoxels.length)];
  let centre: Vec3;
  if (random() < 0.5) {
    centre = [...click] as Vec3;
  } else {
    const jitterMm = 0.1 * P * spacing;
    centre = [0, 1, 2].map((a) => (o.min[a] + o.max[a]) / 2 + ((random() - 0.5) * 2 * jitterMm) / c.spacingMm[a]) as Vec3;
  }
  const grid: PromptPatchGrid = { centreVoxel: centre, spacingMm: spacing, size: P };
  const { patch, inside } = resampleToPatch(c.values, c.dims, c.spacingMm, grid);
  normalisePatchImage(patch, inside);
  const scale = 0.9 + 0.2 * random();
  const shift = (random() - 0.5) * 0.2;
  for (let v = 0; v < patch.length; v++) patch[v] = patch[v] * scale + shift;
  const target = resampleLabelToPatch(c.labels, c.dims, c.spacingMm, grid, o.label);
  let firstClick = imageToPatch(grid, c.spacingMm, click).map((x) => Math.round(x)) as Vec3;
  const at = (p: Vec3): number => (p[2] * P + p[1]) * P + p[0];
  if (!firstClick.every((x) => x >= 0 && x < P) || !target[at(firstClick)]) {
    // The click's voxel fell off the object at this zoom: take the object's voxel nearest the patch centre.
    let best = -1;
    let bestD = Infinity;
    for (let v = 0; v < target.length; v++) {
      if (!target[v]) continue;
      const d = (v % P - P / 2) ** 2 + ((Math.floor(v / P) % P) - P / 2) ** 2 + (Math.floor(v / (P * P)) - P / 2) ** 2;
      if (d < bestD) [bestD, best] = [d, v];
    }
    if (best < 0) return makeSample(c, P, random, minSpacingMm, maxSpacingMm);
    firstClick = [best % P, Math.floor(best / P) % P, Math.floor(best / (P * P))];
  }
  const s = simulatePrompts(target, P, firstClick, random);
  const channels = [patch, s.positive, s.negative, s.boxes, s.previous];
  const flips = [random() < 0.5, random() < 0.5, random() < 0.5];
  const swapXY = random() < 0.5;
  const transform = (src: ArrayLike<number>, dst: Float32Array | Uint8Array): void => {
    for (let z = 0; z < P; z++) for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) {
      let sx = flips[0] ? P - 1 - x : x;
      let sy = flips[1] ? P - 1 - y : y;
      const sz = flips[2] ? P - 1 - z : z;
      if (swapXY) [sx, sy] = [sy, sx];
      dst[(z * P + y) * P + x] = src[(sz * P + sy) * P + sx];
    }
  };
  const moved = channels.map((ch) => {
    const out = new Float32Array(ch.length);
    transform(ch, out);
    return out;
  });
  const movedTarget = new Uint8Array(target.length);
  transform(target, movedTarget);
  return { input: interleaveChannels(moved, P), target: movedTarget };
}

/** Soft Dice (per patch, mean) + binary cross-entropy on the object probability. */
function diceCeLoss(probs: tf.Tensor5D, target: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const p = probs.slice([0, 0, 0, 0, 1], [-1, -1, -1, -1, 1]).squeeze([4]) as tf.Tensor4D;
    const pc = p.clipByValue(1e-6, 1 - 1e-6);
    const inter = p.mul(target).sum([1, 2, 3]);
    const denom = p.sum([1, 2, 3]).add(target.sum([1, 2, 3]));
    const dice = tf.scalar(1).sub(inter.mul(2).add(1).div(denom.add(1))).mean();
    const ce = target.mul(pc.log()).add(tf.scalar(1).sub(target).mul(tf.scalar(1).sub(pc).log())).mean().neg();
    return dice.add(ce) as tf.Scalar;
  });
}

async function saveCheckpoint(network: UNet3d, out: string, card: PromptModelCard): Promise<void> {
  await saveUNet3d(network, out);
  await writeFileAtomic(join(out, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
}

async function main(): Promise<void> {
  const minutes = Number(arg('minutes') ?? 60);
  const maxSteps = Number(arg('steps') ?? Infinity);
  const P = Number(arg('patch') ?? 48);
  const filters = Number(arg('filters') ?? 16);
  const batch = Number(arg('batch') ?? 2);
  const lr = Number(arg('lr') ?? 1e-3);
  const seed = Number(arg('seed') ?? 1);
  const out = resolve(arg('out') ?? join(ROOT, 'media/models/prompt'));
  const minSpacingMm = 1;
  const maxSpacingMm = 6;
  const backend = await initBackend({ preferred: 'auto' });
  console.log(`backend: ${backend.name} (${backend.reason})`);
  const t0 = Date.now();
  const cases = await loadCases();
  const groups = [...new Set(cases.map((c) => c.group))];
  console.log(`loaded ${cases.length} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${groups.map((g) => `${g} ${cases.filter((c) => c.group === g).length}`).join(', ')}`);
  const resume = arg('resume');
  const network = resume
    ? await loadUNet3d(resume)
    : createUNet3d({ levels: 4, baseFilters: filters, inChannels: PROMPT_CHANNEL_COUNT, numClasses: 2, normalization: 'instance', seed });
  const random = seededRandom(seed);
  const optimizer = tf.train.adam(lr);
  const card = (steps: number): PromptModelCard => ({
    format: PROMPT_MODEL_FORMAT,
    formatVersion: 1,
    patchSizeVoxels: P,
    minSpacingMm,
    maxSpacingMm,
    channels: [...PROMPT_CHANNELS],
    description: 'Class-agnostic click/box-guided 3-D segmentation (image + positive clicks + negative clicks + boxes + object so far → object).',
    training: {
      steps,
      minutes: (Date.now() - t0) / 60000,
      batch,
      learningRate: lr,
      baseFilters: network.config.baseFilters,
      cases: cases.map((c) => c.name),
      heldOut: [...PROMPT_HELD_OUT_SARCOMA.map((p) => `STS_${String(p).padStart(3, '0')}`), ...PROMPT_HELD_OUT_MS],
      recipe: 'Adam, warm-up 100 steps then cosine over the time budget; soft Dice + cross-entropy; objects 25–100 % of the patch at 1–6 mm; flips and in-plane transposition; simulated first clicks, boxes and corrections of perturbed objects',
    },
    attribution: [SARCOMA_ATTRIBUTION, MS_ATTRIBUTION],
  });
  const budgetMs = minutes * 60_000;
  const tTrain = Date.now();
  let lastSave = Date.now();
  let step = 0;
  let lossSum = 0;
  let lossN = 0;
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  process.on('SIGINT', () => (stopping = true));
  while (step < maxSteps && Date.now() - tTrain < budgetMs && !stopping) {
    const fraction = Math.min(1, Math.max(step / maxSteps, (Date.now() - tTrain) / budgetMs));
    const warm = Math.min(1, (step + 1) / 100);
    (optimizer as unknown as { learningRate: number }).learningRate = lr * warm * (0.02 + 0.98 * 0.5 * (1 + Math.cos(Math.PI * fraction)));
    const inputs: Float32Array[] = [];
    const targets: Uint8Array[] = [];
    for (let b = 0; b < batch; b++) {
      const group = groups[Math.floor(random() * groups.length)];
      const inGroup = cases.filter((c) => c.group === group);
      const s = makeSample(inGroup[Math.floor(random() * inGroup.length)], P, random, minSpacingMm, maxSpacingMm);
      inputs.push(s.input);
      targets.push(s.target);
    }
    const n = P * P * P;
    const xBuf = new Float32Array(batch * n * PROMPT_CHANNEL_COUNT);
    inputs.forEach((x, b) => xBuf.set(x, b * n * PROMPT_CHANNEL_COUNT));
    const yBuf = new Float32Array(batch * n);
    targets.forEach((y, b) => yBuf.set(y, b * n));
    const x = tf.tensor5d(xBuf, [batch, P, P, P, PROMPT_CHANNEL_COUNT]);
    const y = tf.tensor4d(yBuf, [batch, P, P, P]);
    const cost = optimizer.minimize(() => diceCeLoss(network.apply(x, { training: true }) as tf.Tensor5D, y), true, network.trainableVariables);
    const value = cost ? (await cost.data())[0] : NaN;
    cost?.dispose();
    x.dispose();
    y.dispose();
    if (!Number.isFinite(value)) throw new Error(`loss became ${value} at step ${step + 1}`);
    lossSum += value;
    lossN++;
    step++;
    if (step % 25 === 0) {
      console.log(`step ${step} loss ${(lossSum / lossN).toFixed(4)} lr ${(optimizer as unknown as { learningRate: number }).learningRate.toExponential(2)} ${((Date.now() - tTrain) / 1000).toFixed(0)} s`);
      lossSum = 0;
      lossN = 0;
    }
    if (Date.now() - lastSave > 5 * 60_000) {
      await saveCheckpoint(network, out, card(step));
      lastSave = Date.now();
      console.log(`checkpoint at step ${step} → ${out}`);
    }
    await new Promise((r) => setImmediate(r));
  }
  await saveCheckpoint(network, out, card(step));
  console.log(`done: ${step} steps in ${((Date.now() - tTrain) / 1000).toFixed(0)} s → ${out}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
