// A task's click model (DeepEdit-style): the task starter's U-Net with two more input channels,
// positive and negative clicks as Gaussian bumps, fine-tuned with simulated robot-user clicks
// (scripts/train-click-model.ts). It segments the clicked tumour on the starter's own grid and
// normalisation, so it knows the task's texture, where the star-shaped method sees only edges
// (a sarcoma on T1 or CT is nearly iso-intense with muscle). A click model may also take the
// star-shaped method's object for the same clicks as a fourth channel and correct it
// (`--star-channel`; measured, not shipped: docs/interactive-segmentation.md).
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { promises as fsp } from 'node:fs';
import { componentsFromSeeds } from '../interactive/components';
import type { PointPrompt, Prompts } from '../interactive/prompts';
import { maskBoundingBox, type VoxelBox } from '../interactive/box';
import { resampleLinear } from '../volume/resample';
import { extractPatch } from '../volume/boxes';
import { gaussianImportanceMap, patchGrid } from '../volume/slidingWindow';
import type { Vec3 } from '../volume/vec3';
import { isUNet3dInternal, unet3dFromValues, type UNet3d } from './network/unet3d';
import { loadUNet3d } from './network/serialize';
import { checkWorkingGrid } from './inference';
import { normalizeIntensity, validatePreprocessing, type Preprocessing } from './preprocess';

export const CLICK_MODEL_FORMAT = 'lesion-lab-click-model';
export const CLICK_CHANNELS = ['image', 'positive clicks', 'negative clicks'] as const;
/**
 * The channel of a refining click model: the star-shaped method's object for the same clicks
 * (src/interactive), which the network corrects (as nnInteractive takes the previous object).
 */
export const STAR_CHANNEL = 'star object';

/** Whether a click model takes the star-shaped method's object as a fourth input channel. */
export function refinesStar(model: ClickModel): boolean {
  return model.card.channels.includes(STAR_CHANNEL);
}

/** card.json of a click model. */
export interface ClickModelCard {
  format: typeof CLICK_MODEL_FORMAT;
  formatVersion: 1;
  /** The starter task it was made from (e.g. sarcoma-mr-t1). */
  task: string;
  patchSizeVoxels: Vec3;
  preprocessing: Preprocessing;
  /** Standard deviation of each click's Gaussian bump, mm. */
  clickSigmaMm: number;
  channels: string[];
  training: Record<string, unknown>;
  attribution?: string;
}

export interface ClickModel {
  network: UNet3d;
  card: ClickModelCard;
  dir: string;
}

/** A click on a grid, in (possibly fractional) voxel coordinates of that grid. */
export interface GridClick {
  at: Vec3;
  positive: boolean;
}

/**
 * Positive and negative click maps on a grid: exp(−d²/2σ²) of the mm distance d to the nearest
 * click of each sign, within 3σ (0 beyond).
 */
export function clickMaps(dims: Vec3, spacingMm: Vec3, clicks: readonly GridClick[], sigmaMm: number): { positive: Float32Array; negative: Float32Array } {
  const n = dims[0] * dims[1] * dims[2];
  const positive = new Float32Array(n);
  const negative = new Float32Array(n);
  const reachMm = 3 * sigmaMm;
  for (const c of clicks) {
    const map = c.positive ? positive : negative;
    const lo = c.at.map((x, a) => Math.max(0, Math.floor(x - reachMm / spacingMm[a]))) as Vec3;
    const hi = c.at.map((x, a) => Math.min(dims[a] - 1, Math.ceil(x + reachMm / spacingMm[a]))) as Vec3;
    for (let k = lo[2]; k <= hi[2]; k++) {
      const dz = (k - c.at[2]) * spacingMm[2];
      for (let j = lo[1]; j <= hi[1]; j++) {
        const dy = (j - c.at[1]) * spacingMm[1];
        for (let i = lo[0]; i <= hi[0]; i++) {
          const dx = (i - c.at[0]) * spacingMm[0];
          const d2 = dx * dx + dy * dy + dz * dz;
          if (d2 > reachMm * reachMm) continue;
          const v = i + dims[0] * (j + dims[1] * k);
          const g = Math.exp(-d2 / (2 * sigmaMm * sigmaMm));
          if (g > map[v]) map[v] = g;
        }
      }
    }
  }
  return { positive, negative };
}

/**
 * The base network with `extra` more input channels whose first-convolution weights are zero, so
 * that it starts out computing exactly what the base computes.
 */
export function withExtraInputChannels(base: UNet3d, extra: number): UNet3d {
  if (!isUNet3dInternal(base)) throw new Error('withExtraInputChannels needs a project U-Net');
  const values = new Map<string, tf.Tensor>();
  for (const { spec, variable } of base.weightEntries()) {
    if (spec.name === 'enc0/conv0/kernel') {
      const [kz, ky, kx, , cout] = spec.shape;
      values.set(spec.name, tf.concat([variable, tf.zeros([kz, ky, kx, extra, cout])], 3));
    } else {
      values.set(spec.name, variable.clone());
    }
  }
  const net = unet3dFromValues({ ...base.config, inChannels: base.config.inChannels + extra }, values);
  for (const t of values.values()) t.dispose();
  return net;
}

/**
 * Loads a click model folder (model.json, weights.bin, card.json).
 * @throws Error naming the file for a card that is not a click model's or a network of another shape.
 */
export async function loadClickModel(dir: string): Promise<ClickModel> {
  const path = join(dir, 'card.json');
  let card: ClickModelCard;
  try {
    card = JSON.parse(await fsp.readFile(path, 'utf8')) as ClickModelCard;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(message.includes(path) ? message : `${path}: ${message}`, { cause: e });
  }
  if (card?.format !== CLICK_MODEL_FORMAT) throw new Error(`${path}: format is ${JSON.stringify(card?.format)}; expected "${CLICK_MODEL_FORMAT}"`);
  validatePreprocessing(card.preprocessing);
  const patch = card.patchSizeVoxels;
  if (!(Array.isArray(patch) && patch.length === 3 && patch.every((n) => Number.isInteger(n) && n >= 1))) {
    throw new Error(`${path}: patchSizeVoxels must be three positive integers, got ${JSON.stringify(patch)}`);
  }
  if (!(typeof card.clickSigmaMm === 'number' && card.clickSigmaMm > 0)) throw new Error(`${path}: clickSigmaMm must be a number > 0 (mm), got ${JSON.stringify(card.clickSigmaMm)}`);
  const refines = Array.isArray(card.channels) && card.channels.includes(STAR_CHANNEL);
  const expected = CLICK_CHANNELS.length + (refines ? 1 : 0);
  const network = await loadUNet3d(dir);
  const multiple = 2 ** (network.config.levels - 1);
  const problem =
    network.config.inChannels !== expected
      ? `the network takes ${network.config.inChannels} input channels; a click model ${refines ? 'that refines the star-shaped object ' : ''}takes ${expected}`
      : patch.some((n) => n % multiple !== 0)
        ? `patchSizeVoxels [${patch.join(',')}] must be multiples of ${multiple} for the ${network.config.levels}-level network`
        : null;
  if (problem) {
    network.dispose();
    throw new Error(`${dir}: ${problem}`);
  }
  return { network, card, dir };
}

/** An image on its own grid, x fastest. */
export interface ClickImage {
  data: ArrayLike<number>;
  dims: Vec3;
  spacingMm: Vec3;
}

/** The image normalised and resampled to the model's grid (computed once per image). */
export interface ClickWorkingImage {
  values: Float32Array;
  dims: Vec3;
  spacingMm: Vec3;
  padValue: number;
}

export function clickWorkingImage(image: ClickImage, model: ClickModel): ClickWorkingImage {
  const p = model.card.preprocessing;
  const norm = normalizeIntensity(image.data, p);
  const { workDims, resample } = checkWorkingGrid(image, p.targetSpacingMm);
  return {
    values: resample ? resampleLinear(norm.values, image.dims, workDims) : norm.values,
    dims: workDims,
    spacingMm: resample ? p.targetSpacingMm! : image.spacingMm,
    padValue: norm.backgroundValue,
  };
}

/** A source voxel's coordinates on the working grid (resampleLinear's voxel-centre mapping). */
export function toWorkingGrid(voxel: Vec3, sourceDims: Vec3, dims: Vec3): Vec3 {
  return voxel.map((i, a) => ((i + 0.5) * dims[a]) / sourceDims[a] - 0.5) as Vec3;
}

/**
 * The clicked object's probability on the working grid: Gaussian-blended windows of the card's
 * patch (25 % overlap) over the box `lo`..`hi` (inclusive voxel corners); 0 outside it. The card's
 * window, not a larger one: the network's instance norm makes its output depend on the window's
 * size (grown windows cost 0.016 of mean Dice after 3 robot clicks on held-out MR T1).
 */
export function clickProbability(model: ClickModel, work: ClickWorkingImage, clicks: readonly GridClick[], lo: Vec3, hi: Vec3, star?: Float32Array): Float32Array {
  const { dims } = work;
  const patch = model.card.patchSizeVoxels;
  const maps = clickMaps(dims, work.spacingMm, clicks, model.card.clickSigmaMm);
  const size = [0, 1, 2].map((a) => hi[a] - lo[a] + 1) as Vec3;
  const importance = gaussianImportanceMap(patch);
  const pv = patch[0] * patch[1] * patch[2];
  const sum = new Float32Array(dims[0] * dims[1] * dims[2]);
  const weight = new Float32Array(sum.length);
  const image = new Float32Array(pv);
  const positive = new Float32Array(pv);
  const negative = new Float32Array(pv);
  const starPatch = star ? new Float32Array(pv) : undefined;
  const channels = star ? 4 : 3;
  for (const s of patchGrid(size, patch, 0.25)) {
    const start = s.map((x, a) => x + lo[a]) as Vec3;
    extractPatch(work.values, dims, start, patch, work.padValue, image);
    extractPatch(maps.positive, dims, start, patch, 0, positive);
    extractPatch(maps.negative, dims, start, patch, 0, negative);
    if (star && starPatch) extractPatch(star, dims, start, patch, 0, starPatch);
    const x = new Float32Array(channels * pv);
    for (let v = 0; v < pv; v++) {
      x[channels * v] = image[v];
      x[channels * v + 1] = positive[v];
      x[channels * v + 2] = negative[v];
      if (starPatch) x[channels * v + 3] = starPatch[v];
    }
    const fg = tf.tidy(() => tf.slice(model.network.predict(tf.tensor5d(x, [1, patch[2], patch[1], patch[0], channels])), [0, 0, 0, 0, 1], [1, patch[2], patch[1], patch[0], 1]));
    const p = fg.dataSync() as Float32Array;
    fg.dispose();
    for (let k = 0; k < patch[2]; k++) {
      const z = start[2] + k;
      if (z < 0 || z >= dims[2]) continue;
      for (let j = 0; j < patch[1]; j++) {
        const y = start[1] + j;
        if (y < 0 || y >= dims[1]) continue;
        for (let i = 0; i < patch[0]; i++) {
          const xx = start[0] + i;
          if (xx < 0 || xx >= dims[0]) continue;
          const q = i + patch[0] * (j + patch[1] * k);
          const v = xx + dims[0] * (y + dims[1] * z);
          sum[v] += importance[q] * p[q];
          weight[v] += importance[q];
        }
      }
    }
  }
  for (let v = 0; v < sum.length; v++) if (weight[v] > 0) sum[v] /= weight[v];
  return sum;
}

/**
 * The 26-connected components of `mask` that hold a positive click (voxel coordinates, rounded
 * and clamped to the grid); empty when none does.
 */
export function componentsAtPositiveClicks(mask: Uint8Array, dims: Vec3, clicks: readonly { voxel: Vec3; positive: boolean }[]): Uint8Array {
  const seeds = clicks.filter((c) => c.positive).map((c) => {
    const v = c.voxel.map((x, a) => Math.min(dims[a] - 1, Math.max(0, Math.round(x))));
    return v[0] + dims[0] * (v[1] + dims[1] * v[2]);
  });
  return componentsFromSeeds(mask, dims, seeds, 26);
}

/** 1 where `p` ≥ 0.5 (a plain loop: a typed array's from() with a callback is ~100× slower on millions of voxels). */
function atLeastHalf(p: Float32Array): Uint8Array {
  const out = new Uint8Array(p.length);
  for (let v = 0; v < p.length; v++) out[v] = p[v] >= 0.5 ? 1 : 0;
  return out;
}

/**
 * The faces of the box `lo`..`hi` (low x, high x, low y, …) that the components of `probability`
 * ≥ 0.5 holding a positive click touch, where the box does not end at the grid's border.
 */
function touchedBoxFaces(probability: Float32Array, dims: Vec3, lo: Vec3, hi: Vec3, clicks: readonly GridClick[]): boolean[] {
  const object = componentsAtPositiveClicks(atLeastHalf(probability), dims, clicks.map((c) => ({ voxel: c.at, positive: c.positive })));
  const touched = [false, false, false, false, false, false];
  for (let k = lo[2]; k <= hi[2]; k++)
    for (let j = lo[1]; j <= hi[1]; j++)
      for (let i = lo[0]; i <= hi[0]; i++) {
        if (!object[i + dims[0] * (j + dims[1] * k)]) continue;
        const p = [i, j, k];
        for (let a = 0; a < 3; a++) {
          if (p[a] === lo[a] && lo[a] > 0) touched[2 * a] = true;
          if (p[a] === hi[a] && hi[a] < dims[a] - 1) touched[2 * a + 1] = true;
        }
      }
  return touched;
}

/**
 * The first box the click model looks at: one card window centred on the positive clicks (their
 * extent plus a quarter window per side when that is larger), inside the grid where it fits.
 */
function firstClickBox(dims: Vec3, patch: Vec3, anchors: readonly Vec3[]): { lo: Vec3; hi: Vec3 } {
  const lo = [0, 0, 0] as Vec3;
  const hi = [0, 0, 0] as Vec3;
  for (let a = 0; a < 3; a++) {
    const min = Math.min(...anchors.map((p) => p[a]));
    const max = Math.max(...anchors.map((p) => p[a]));
    const length = Math.max(patch[a], Math.ceil(max - min + patch[a] / 2));
    const start = Math.round((min + max) / 2 - (length - 1) / 2);
    lo[a] = Math.max(0, Math.min(start, dims[a] - length));
    hi[a] = Math.min(dims[a] - 1, lo[a] + length - 1);
  }
  return { lo, hi };
}

/**
 * The clicked object on the source grid: the click model's probability ≥ 0.5, the 26-connected
 * components holding a positive click (negative clicks act only through the model's input).
 * Empty when no positive click lands on what the model marks.
 */
export function segmentWithClickModel(model: ClickModel, image: ClickImage, points: readonly PointPrompt[], work = clickWorkingImage(image, model), star?: Uint8Array): Uint8Array {
  const clicks = points.map((p) => ({ at: toWorkingGrid(p.voxel, image.dims, work.dims), positive: p.positive }));
  if (!clicks.some((c) => c.positive)) return new Uint8Array(image.dims[0] * image.dims[1] * image.dims[2]);
  if (refinesStar(model) !== (star !== undefined)) throw new Error(`${model.dir}: ${refinesStar(model) ? 'this click model refines the star-shaped object and needs it' : 'this click model takes no star-shaped object'}`);
  const starWork = star ? starOnWorkingGrid(star, image.dims, work.dims) : undefined;
  // One window around the clicks (and the star's object) first; the box grows by half a window
  // past each face the object touches (three times at most), so a small object costs one window.
  const patch = model.card.patchSizeVoxels;
  const anchors = clicks.filter((c) => c.positive).map((c) => c.at);
  const starBox = star ? maskBoundingBox(star, image.dims) : null;
  if (starBox) anchors.push(toWorkingGrid(starBox.min, image.dims, work.dims), toWorkingGrid(starBox.max, image.dims, work.dims));
  const { lo, hi } = firstClickBox(work.dims, patch, anchors);
  let probWork = clickProbability(model, work, clicks, lo, hi, starWork);
  for (let grow = 0; grow < 3; grow++) {
    const touched = touchedBoxFaces(probWork, work.dims, lo, hi, clicks);
    if (!touched.some(Boolean)) break;
    for (let a = 0; a < 3; a++) {
      if (touched[2 * a]) lo[a] = Math.max(0, lo[a] - Math.ceil(patch[a] / 2));
      if (touched[2 * a + 1]) hi[a] = Math.min(work.dims[a] - 1, hi[a] + Math.ceil(patch[a] / 2));
    }
    probWork = clickProbability(model, work, clicks, lo, hi, starWork);
  }
  const prob = work.dims.every((n, a) => n === image.dims[a]) ? probWork : resampleLinear(probWork, work.dims, image.dims);
  return componentsAtPositiveClicks(atLeastHalf(prob), image.dims, points);
}

/** A source-grid mask as a fraction per working-grid voxel. */
export function starOnWorkingGrid(star: Uint8Array, sourceDims: Vec3, dims: Vec3): Float32Array {
  return dims.every((n, a) => n === sourceDims[a]) ? Float32Array.from(star) : resampleLinear(star, sourceDims, dims);
}

const workingImages = new WeakMap<object, { model: ClickModel; work: ClickWorkingImage }>();

/** The working image of `volume` for `model`, computed once per image and model. */
function cachedWorkingImage(model: ClickModel, volume: ClickImage): ClickWorkingImage {
  const hit = workingImages.get(volume.data as object);
  if (hit && hit.model === model) return hit.work;
  const work = clickWorkingImage(volume, model);
  workingImages.set(volume.data as object, { model, work });
  return work;
}

/**
 * The Prompt tool's object by the click model, or null when the star-shaped method should answer:
 * boxes (the model takes clicks only), no positive click, or nothing of the model's at the
 * positive clicks. The object is recomputed from every click (so a caller sends all clicks so far).
 */
export function clickModelObject(model: ClickModel, volume: ClickImage, prompts: Prompts, star?: Uint8Array): { mask: Uint8Array; roi: VoxelBox; totalMs: number } | null {
  if (prompts.boxes.length > 0 || !prompts.points.some((p) => p.positive)) return null;
  const t0 = performance.now();
  const mask = segmentWithClickModel(model, volume, prompts.points, cachedWorkingImage(model, volume), star);
  const roi = maskBoundingBox(mask, volume.dims);
  if (!roi) return null;
  return { mask, roi, totalMs: performance.now() - t0 };
}
