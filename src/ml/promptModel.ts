// The learned prompt model (nnInteractive-style): a 3-D U-Net whose input is the image patch plus
// the prompts as channels (src/interactive/promptPatch.ts) and whose output is the prompted
// object. It is class-agnostic: trained with simulated clicks (src/interactive/clickSimulation.ts,
// scripts/train-prompt-model.ts) on every lesion type we have. The patch is placed around the
// prompts and zoomed out while the object touches its border, so one network serves objects from
// a few millimetres to over 100 mm.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Vec3 } from '../volume/vec3';
import { maskBoundingBox, pasteMask, type VoxelBox } from '../interactive/box';
import { labelComponents } from '../interactive/components';
import { equivalentRadiusMm } from '../interactive/sphere';
import { PromptError } from '../interactive/errors';
import { validatePrompts, type Prompts } from '../interactive/prompts';
import { segmentFromPrompts, type PromptSegmentationOptions } from '../interactive/segmentFromPrompts';
import {
  boxToPatch,
  imageToPatch,
  interleaveChannels,
  normalisePatchImage,
  paintBall,
  paintPatchBox,
  probabilityOnImage,
  PROMPT_CHANNEL_COUNT,
  resampleLabelToPatch,
  resampleToPatch,
  type PromptPatchGrid,
} from '../interactive/promptPatch';
import { findShippedModelDir } from './modelStore';
import { clickModelObject, refinesStar, type ClickModel } from './clickModel';
import { chooseStarterTask } from './starterChoice';
import { loadUNet3d } from './network/serialize';
import type { UNet3d } from './network/unet3d';

export const PROMPT_MODEL_FORMAT = 'lesion-lab-prompt-model';

/** card.json of a prompt model. */
export interface PromptModelCard {
  format: typeof PROMPT_MODEL_FORMAT;
  formatVersion: 1;
  /** Side of the cubic patch, voxels. */
  patchSizeVoxels: number;
  /** Finest and coarsest patch voxel size the model was trained on, mm. */
  minSpacingMm: number;
  maxSpacingMm: number;
  [key: string]: unknown;
}

export interface PromptModel {
  dir: string;
  card: PromptModelCard;
  network: UNet3d;
}

/** The image the prompts refer to (as in src/interactive). */
export interface PromptModelVolume {
  values: ArrayLike<number>;
  dims: Vec3;
  spacingMm: Vec3;
}

export interface PromptModelResult {
  mask: Uint8Array;
  /** The image box the object was computed in; outside it `mask` equals `previous` (or 0). */
  roi: VoxelBox;
  /** Patch voxel size of each network run, mm (a run is repeated zoomed out when the object touches the border). */
  runsSpacingMm: number[];
  timingsMs: { total: number; network: number };
}

function cardError(dir: string, what: string): PromptError {
  return new PromptError(`prompt model ${join(dir, 'card.json')}: ${what}`);
}

/** Loads a prompt model folder (card.json, model.json, weights.bin); errors name the file. */
export async function loadPromptModel(dir: string): Promise<PromptModel> {
  let card: PromptModelCard;
  try {
    card = JSON.parse(await fsp.readFile(join(dir, 'card.json'), 'utf8')) as PromptModelCard;
  } catch (e) {
    throw cardError(dir, `cannot be read (${(e as Error).message})`);
  }
  if (card.format !== PROMPT_MODEL_FORMAT) throw cardError(dir, `format is ${JSON.stringify(card.format)}, expected "${PROMPT_MODEL_FORMAT}"`);
  for (const k of ['patchSizeVoxels', 'minSpacingMm', 'maxSpacingMm'] as const) {
    if (typeof card[k] !== 'number' || !(card[k] > 0)) throw cardError(dir, `${k} must be a positive number, got ${JSON.stringify(card[k])}`);
  }
  const network = await loadUNet3d(dir);
  const P = card.patchSizeVoxels;
  if (network.config.inChannels !== PROMPT_CHANNEL_COUNT) {
    network.dispose();
    throw cardError(dir, `the network has ${network.config.inChannels} input channels, a prompt model needs ${PROMPT_CHANNEL_COUNT}`);
  }
  if (P % 2 ** (network.config.levels - 1) !== 0) {
    network.dispose();
    throw cardError(dir, `patchSizeVoxels ${P} is not a multiple of ${2 ** (network.config.levels - 1)}`);
  }
  return { dir, card, network };
}

/** The network's object probability (P³, x fastest) for channels already built. */
export function predictPromptPatch(network: UNet3d, input: Float32Array, P: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor5d(input, [1, P, P, P, PROMPT_CHANNEL_COUNT]);
    const probs = network.predict(x);
    return probs.slice([0, 0, 0, 0, 1], [1, P, P, P, 1]).dataSync() as Float32Array;
  }).slice();
}

/** The channels of one patch for the user's prompts and the object so far. */
export function promptInput(volume: PromptModelVolume, grid: PromptPatchGrid, prompts: Prompts, previous: Uint8Array | undefined): Float32Array {
  const P = grid.size;
  const n = P * P * P;
  const { patch, inside } = resampleToPatch(volume.values, volume.dims, volume.spacingMm, grid);
  normalisePatchImage(patch, inside);
  const positive = new Float32Array(n);
  const negative = new Float32Array(n);
  const boxes = new Float32Array(n);
  for (const p of prompts.points) paintBall(p.positive ? positive : negative, P, imageToPatch(grid, volume.spacingMm, p.voxel));
  for (const b of prompts.boxes) {
    const { min, max } = boxToPatch(grid, volume.spacingMm, b);
    paintPatchBox(boxes, P, min, max);
  }
  // Nearest neighbour, as the training targets: a one-voxel object so far must not vanish.
  const prev = previous ? Float32Array.from(resampleLabelToPatch(previous, volume.dims, volume.spacingMm, grid, 1)) : new Float32Array(n);
  return interleaveChannels([patch, positive, negative, boxes, prev], P);
}

/** Patch voxel size of the coarse first look when only clicks are given, mm. */
const COARSE_LOOK_MM = 3;

/** Largest side (voxels) of the bounding box of the probability ≥ 0.5, 0 when there is none. */
function objectExtentVoxels(prob: Float32Array, P: number): number {
  const min = [P, P, P];
  const max = [-1, -1, -1];
  for (let v = 0; v < prob.length; v++) {
    if (prob[v] < 0.5) continue;
    const c = [v % P, Math.floor(v / P) % P, Math.floor(v / (P * P))];
    for (let a = 0; a < 3; a++) {
      if (c[a] < min[a]) min[a] = c[a];
      if (c[a] > max[a]) max[a] = c[a];
    }
  }
  return max[0] < 0 ? 0 : Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2]) + 1;
}

/** Whether the object (probability ≥ 0.5) reaches within `margin` voxels of the patch's border. */
function touchesBorder(prob: Float32Array, P: number, margin = 1): boolean {
  for (let c = 0; c < P; c++) {
    for (let b = 0; b < P; b++) {
      for (let a = 0; a < P; a++) {
        const edge = a <= margin || b <= margin || c <= margin || a >= P - 1 - margin || b >= P - 1 - margin || c >= P - 1 - margin;
        if (edge && prob[(c * P + b) * P + a] >= 0.5) return true;
      }
    }
  }
  return false;
}

/** Extent (mm, largest axis) and centre (voxel) of the prompts' region: positive clicks, boxes and the object so far. */
function promptRegion(volume: PromptModelVolume, prompts: Prompts, previous: Uint8Array | undefined): { centre: Vec3; extentMm: number; fromObject: boolean } {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  const add = (v: readonly number[]): void => {
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a], v[a]);
      max[a] = Math.max(max[a], v[a]);
    }
  };
  let fromObject = false;
  const prevBox = previous ? maskBoundingBox(previous, volume.dims) : null;
  if (prevBox) {
    add(prevBox.min);
    add(prevBox.max);
    fromObject = true;
  }
  for (const b of prompts.boxes) {
    add(b.min);
    add(b.max);
    fromObject = true;
  }
  for (const p of prompts.points) if (p.positive) add(p.voxel);
  if (!Number.isFinite(min[0])) {
    // Only negative clicks and no object: nothing to segment.
    throw new PromptError('the prompts need at least one positive point, a box, or a --previous object');
  }
  const firstPositive = prompts.points.find((p) => p.positive);
  const centre = (fromObject || !firstPositive ? [0, 1, 2].map((a) => (min[a] + max[a]) / 2) : [...firstPositive.voxel]) as Vec3;
  const extentMm = Math.max(...[0, 1, 2].map((a) => (max[a] - min[a] + 1) * volume.spacingMm[a]));
  return { centre, extentMm, fromObject };
}

/**
 * Segments the prompted object. The first patch is placed on the prompts' region (the object so
 * far, the boxes and the positive clicks) at a voxel size that fits it into 60 % of the patch, or
 * on the first positive click at the finest voxel size when there is only a click; while the
 * object touches the patch's border the run is repeated 2× zoomed out (at most `maxRuns`).
 * Outside the final patch the result keeps `previous` (or 0); inside it the object is the
 * probability ≥ 0.5, restricted to the components holding a positive click or overlapping a box
 * or the object so far (nearest component when a click sits just off it).
 */
export interface PromptModelOptions {
  /** Most network runs per call (zooming out while the object touches the border); default 3. */
  maxRuns?: number;
  /** Patch voxel size of the first look when only clicks are given, mm; default 3 (0: start at the finest). */
  coarseLookMm?: number;
}

export function segmentWithPromptModel(model: PromptModel, volume: PromptModelVolume, prompts: Prompts, previous?: Uint8Array, options: PromptModelOptions = {}): PromptModelResult {
  const maxRuns = options.maxRuns ?? 3;
  const coarseLookMm = options.coarseLookMm ?? COARSE_LOOK_MM;
  const t0 = performance.now();
  const { card } = model;
  const P = card.patchSizeVoxels;
  const n = volume.dims[0] * volume.dims[1] * volume.dims[2];
  if (volume.values.length !== n) throw new PromptError(`the image has ${volume.values.length} values but dims ${volume.dims.join('×')} need ${n}`);
  if (previous && previous.length !== n) throw new PromptError(`the previous object has ${previous.length} voxels, the image ${n}`);
  const hasPrevious = previous !== undefined && previous.some((v) => v !== 0);
  const region = promptRegion(volume, prompts, hasPrevious ? previous : undefined);
  const clampSpacing = (s: number): number => Math.min(card.maxSpacingMm, Math.max(card.minSpacingMm, s));
  const runsSpacingMm: number[] = [];
  let networkMs = 0;
  const runAt = (spacingMm: number): { grid: PromptPatchGrid; prob: Float32Array } => {
    const g: PromptPatchGrid = { centreVoxel: region.centre, spacingMm, size: P };
    const input = promptInput(volume, g, prompts, hasPrevious ? previous : undefined);
    const tn = performance.now();
    const p = predictPromptPatch(model.network, input, P);
    networkMs += performance.now() - tn;
    runsSpacingMm.push(spacingMm);
    return { grid: g, prob: p };
  };
  let spacing: number;
  let result: { grid: PromptPatchGrid; prob: Float32Array } | null = null;
  if (region.fromObject) {
    spacing = clampSpacing(region.extentMm / (0.6 * P));
  } else if (coarseLookMm <= 0) {
    spacing = clampSpacing(Math.max(region.extentMm / (0.6 * P), Math.min(...volume.spacingMm)));
  } else {
    // Clicks only: the object's size is unknown. A coarse look (wide field of view) measures it,
    // then the patch is zoomed so that the object fills about 60 % of it.
    const coarse = clampSpacing(Math.max(coarseLookMm, Math.min(...volume.spacingMm)));
    result = runAt(coarse);
    const extentMm = objectExtentVoxels(result.prob, P) * coarse;
    spacing = clampSpacing(Math.max(region.extentMm, extentMm) / (0.6 * P));
    if (spacing >= 0.8 * coarse) spacing = coarse;
    else result = null;
  }
  for (let run = runsSpacingMm.length; run < maxRuns || !result; run++) {
    result ??= runAt(spacing);
    if (!touchesBorder(result.prob, P) || spacing >= card.maxSpacingMm || run + 1 >= maxRuns) break;
    spacing = clampSpacing(spacing * 2);
    result = null;
  }
  const { grid, prob } = result;
  const mask = previous && hasPrevious ? Uint8Array.from(previous, (v) => (v ? 1 : 0)) : new Uint8Array(n);
  const onImage = probabilityOnImage(prob, grid, volume.dims, volume.spacingMm);
  if (!onImage) throw new PromptError('the prompts lie outside the image');
  const { box, values } = onImage;
  const size: Vec3 = [box.max[0] - box.min[0] + 1, box.max[1] - box.min[1] + 1, box.max[2] - box.min[2] + 1];
  const local = Uint8Array.from(values, (p) => (p >= 0.5 ? 1 : 0));
  const kept = keepPromptedComponents(local, size, box, prompts, hasPrevious ? previous : undefined, volume.dims, volume.spacingMm);
  pasteMask(mask, volume.dims, box, kept);
  return { mask, roi: box, runsSpacingMm, timingsMs: { total: performance.now() - t0, network: networkMs } };
}

/** The components (26-connected) of `local` that a positive click, a box or the object so far points at. */
function keepPromptedComponents(
  local: Uint8Array,
  size: Vec3,
  box: VoxelBox,
  prompts: Prompts,
  previous: Uint8Array | undefined,
  dims: Vec3,
  spacingMm: Vec3,
): Uint8Array {
  const { labels, sizes } = labelComponents(local, size, 26);
  if (sizes.length <= 1) return local;
  const keep = new Set<number>();
  const toLocal = (v: readonly number[]): Vec3 | null => {
    const l = [v[0] - box.min[0], v[1] - box.min[1], v[2] - box.min[2]] as Vec3;
    return l.every((x, a) => x >= 0 && x < size[a]) ? l : null;
  };
  for (const p of prompts.points) {
    if (!p.positive) continue;
    const l = toLocal(p.voxel);
    if (!l) continue;
    const at = labels[(l[2] * size[1] + l[1]) * size[0] + l[0]];
    if (at > 0) {
      keep.add(at);
      continue;
    }
    // The click sits just off the predicted object: keep the nearest component within 5 mm.
    let best = 0;
    let bestD = 25;
    for (let v = 0; v < labels.length; v++) {
      if (!labels[v]) continue;
      const i = v % size[0];
      const j = Math.floor(v / size[0]) % size[1];
      const k = Math.floor(v / (size[0] * size[1]));
      const d = ((i - l[0]) * spacingMm[0]) ** 2 + ((j - l[1]) * spacingMm[1]) ** 2 + ((k - l[2]) * spacingMm[2]) ** 2;
      if (d < bestD) [bestD, best] = [d, labels[v]];
    }
    if (best) keep.add(best);
  }
  for (const b of prompts.boxes) {
    for (let k = Math.max(b.min[2], box.min[2]); k <= Math.min(b.max[2], box.max[2]); k++) {
      for (let j = Math.max(b.min[1], box.min[1]); j <= Math.min(b.max[1], box.max[1]); j++) {
        for (let i = Math.max(b.min[0], box.min[0]); i <= Math.min(b.max[0], box.max[0]); i++) {
          const at = labels[((k - box.min[2]) * size[1] + (j - box.min[1])) * size[0] + (i - box.min[0])];
          if (at) keep.add(at);
        }
      }
    }
  }
  if (previous) {
    let o = 0;
    for (let k = box.min[2]; k <= box.max[2]; k++) {
      for (let j = box.min[1]; j <= box.max[1]; j++) {
        const row = (k * dims[1] + j) * dims[0];
        for (let i = box.min[0]; i <= box.max[0]; i++, o++) if (labels[o] && previous[row + i]) keep.add(labels[o]);
      }
    }
  }
  if (keep.size === 0) return local;
  return Uint8Array.from(labels, (l) => (keep.has(l) ? 1 : 0));
}

/** Which method segments prompted objects: the learned prompt model, or src/interactive's star-shaped method. */
export type PromptMethod = 'prompt model' | 'click model' | 'click model + star-shaped correction' | 'star-shaped';

/** What the editor, the CLI and the robot user get from either method. */
export interface PromptedObject {
  mask: Uint8Array;
  roi: VoxelBox;
  method: PromptMethod;
  totalMs: number;
}

/**
 * The prompted object by the prompt model when one is given, else by the task's click model when
 * one is given and it takes these prompts (clicks only; src/ml/clickModel.ts; a model that refines
 * the star gets the star's object of the same clicks, except for objects too small for its grid),
 * else by the star-shaped method (with the segmentation model's probability as its prior where
 * there is one).
 */
export function segmentPromptedObject(
  volume: PromptModelVolume,
  prompts: Prompts,
  opts: { previous?: Uint8Array; prior?: Float32Array; promptModel?: PromptModel; clickModel?: ClickModel; modelOptions?: PromptModelOptions; tuning?: PromptSegmentationOptions } = {},
): PromptedObject {
  // Lassos and scribbles are the star-shaped method's alone (neither network was trained with them).
  const hasLasso = (prompts.lassos?.length ?? 0) > 0 || (prompts.scribbles?.length ?? 0) > 0;
  if (opts.promptModel && !hasLasso) {
    const refines = opts.previous !== undefined && opts.previous.some((v) => v !== 0);
    const r = segmentWithPromptModel(opts.promptModel, volume, validatePrompts(prompts, volume.dims, refines), opts.previous, opts.modelOptions);
    return { mask: r.mask, roi: r.roi, method: 'prompt model', totalMs: r.timingsMs.total };
  }
  const byImage = optionsForImage(volume);
  const tuning = Object.fromEntries(Object.entries(opts.tuning ?? {}).filter(([, v]) => v !== undefined));
  const star = (previous: Uint8Array | undefined, extra: PromptSegmentationOptions = {}) => segmentFromPrompts(volume, prompts, { ...byImage, ...tuning, ...extra, previous, prior: opts.prior });
  if (opts.clickModel && !hasLasso) {
    const clean = validatePrompts(prompts, volume.dims, opts.previous !== undefined);
    const image = { data: volume.values, dims: volume.dims, spacingMm: volume.spacingMm };
    if (refinesStar(opts.clickModel)) {
      const s = star(opts.previous);
      const r = resolvedOnWorkingGrid(s.mask, volume.spacingMm, opts.clickModel) ? clickModelObject(opts.clickModel, image, clean, s.mask) : null;
      return r ? withStarCorrection({ ...r, totalMs: r.totalMs + s.timingsMs.total }, volume, clean, star) : starObject(s);
    }
    const r = clickModelObject(opts.clickModel, image, clean);
    if (r) return withStarCorrection(r, volume, clean, star);
  }
  return starObject(star(opts.previous));
}

function starObject(s: { mask: Uint8Array; roi: VoxelBox; timingsMs: { total: number } }): PromptedObject {
  return { mask: s.mask, roi: s.roi, method: 'star-shaped', totalMs: s.timingsMs.total };
}

/**
 * The click model's object, recomputed from every click; when the latest click is not honoured
 * (a positive click left outside the object, a negative one inside), the star-shaped method
 * corrects the object near that click (its local edit): a click the model ignores still moves the
 * object (held-out sarcoma MR T1 after 5 clicks: 0.824 → 0.836; docs/interactive-segmentation.md).
 */
function withStarCorrection(
  r: { mask: Uint8Array; roi: VoxelBox; totalMs: number },
  volume: PromptModelVolume,
  prompts: Prompts,
  star: (previous: Uint8Array, extra?: PromptSegmentationOptions) => { mask: Uint8Array; roi: VoxelBox },
): PromptedObject {
  const last = prompts.points[prompts.points.length - 1];
  const at = last.voxel[0] + volume.dims[0] * (last.voxel[1] + volume.dims[1] * last.voxel[2]);
  if (prompts.points.length < 2 || (r.mask[at] === 1) === last.positive) return { ...r, method: 'click model' };
  const t0 = performance.now();
  let corrected = star(r.mask);
  // A negative click says its voxel is not the object, not that most of it is wrong: a correction
  // that keeps less than half of the model's object (a poor star, e.g. around a large PET
  // tumour's hot spot) is redone with the edit reaching only the click's depth in the object.
  if (!last.positive && keptFraction(corrected.mask, r.mask) < 0.5) corrected = star(r.mask, { localEditFactor: 1 });
  if (!last.positive && keptFraction(corrected.mask, r.mask) < 0.5) return { ...r, method: 'click model' };
  return { mask: corrected.mask, roi: maskBoundingBox(corrected.mask, volume.dims) ?? r.roi, method: 'click model + star-shaped correction', totalMs: r.totalMs + performance.now() - t0 };
}

/** Least equivalent radius, in the click model's largest working voxel size, of a star object that the model refines. */
const REFINE_MIN_RADIUS_VOXELS = 4;

/**
 * Whether the star's object is large enough for a click model's working grid: a refining model
 * on a coarser grid than the image (2.6 × 2.6 × 3.3 mm for sarcoma MR T1) blurs a small object
 * (a 6 mm bright ellipsoid: star 1.00, refined 0.33; docs/interactive-segmentation.md).
 */
function resolvedOnWorkingGrid(mask: Uint8Array, spacingMm: Vec3, model: ClickModel): boolean {
  let count = 0;
  for (let v = 0; v < mask.length; v++) count += mask[v];
  const radiusMm = equivalentRadiusMm(count, spacingMm[0] * spacingMm[1] * spacingMm[2]);
  const voxelMm = Math.max(...(model.card.preprocessing.targetSpacingMm ?? spacingMm));
  return radiusMm >= REFINE_MIN_RADIUS_VOXELS * voxelMm;
}

/** The fraction of `object`'s voxels that `mask` keeps. */
function keptFraction(mask: Uint8Array, object: Uint8Array): number {
  let kept = 0;
  let total = 0;
  for (let v = 0; v < object.length; v++) {
    if (!object[v]) continue;
    total++;
    kept += mask[v];
  }
  return total > 0 ? kept / total : 1;
}

type ImageOptions = Required<Pick<PromptSegmentationOptions, 'starPolarity' | 'regionLargeObjects' | 'edgeCap'>> & Pick<PromptSegmentationOptions, 'regionMinContrast'>;
const optionsByImage = new WeakMap<object, ImageOptions>();
/** Edge strength (noise units) above which every edge of a star counts the same, on CT and on MR other than a whole brain. */
const CT_EDGE_CAP = 3;
const MR_EDGE_CAP = 5;
/** Least contrast of a small bright region (step 0) on CT, robust SDs of its shell; 2.5 elsewhere. */
const CT_REGION_MIN_CONTRAST = 4;

/**
 * Options by the kind of image, told apart as the starter choice does (src/ml/starterChoice.ts),
 * once per image.
 * - The star's starting edge: where lesions are brighter than their surroundings, the star starts
 *   at an edge where intensity falls outwards, so a click in a necrotic core does not stop at the
 *   core's rim. That is PET (robot user, 15 held-out tumours: Dice after 1 click 0.39 → 0.58, after
 *   3 0.73 → 0.76) and MR on a whole-brain grid, FLAIR's lesions and tumours (MS lesions unchanged,
 *   0.555 / 0.649 after 1 / 3 clicks either way). Elsewhere any edge: sarcoma is darker than the
 *   fat around it on T1 (MR after 1 click 0.66 → 0.33 with bright edges only).
 * - Large bright objects as thresholded regions (step 0a of segmentFromPrompts) on whole-brain MR
 *   grids only: whole tumours on FLAIR are bright but not star-shaped (synthetic tumours in real
 *   FLAIR, 3 clicks: 0.61 → 0.82; docs/interactive-segmentation.md); on PET, large regions cost
 *   Dice (hot spots inside the tumour).
 * - The star's edges capped at 3 noise units on CT, whose fat, bone and air edges are tens of
 *   times the tumour's edge against muscle and drew the star out to them (all 28 sarcoma CTs, 3
 *   clicks: 0.64 → 0.76, with the starting sphere's edges capped too); at 5 on MR that is not a
 *   whole brain (37 sarcoma T1: 1 click 0.67 → 0.70, 3 clicks 0.75 → 0.76). PET gains nothing
 *   (0.763 → 0.756), and whole-brain grids keep their tuning.
 * - A small bright region (step 0) on CT needs contrast 4, not 2.5: CT's noise makes specks of
 *   2.5–3.7 robust SDs at 4–8 % of random soft-tissue clicks (none on FLAIR's white matter), and a
 *   click in a gallbladder took such a 15-voxel speck (Dice 0.02; the star gives 0.77).
 */
function optionsForImage(volume: PromptModelVolume): ImageOptions {
  let o = optionsByImage.get(volume.values);
  if (o === undefined) {
    const task = chooseStarterTask({ data: volume.values, dims: volume.dims, spacingMm: volume.spacingMm }).task;
    o = {
      starPolarity: task === 'sarcoma-pet' || task === 'ms-flair' ? 'bright' : 'any',
      regionLargeObjects: task === 'ms-flair',
      edgeCap: task === 'sarcoma-ct' ? CT_EDGE_CAP : task === 'sarcoma-mr-t1' ? MR_EDGE_CAP : 0,
      ...(task === 'sarcoma-ct' ? { regionMinContrast: CT_REGION_MIN_CONTRAST } : {}),
    };
    optionsByImage.set(volume.values, o);
  }
  return o;
}

/** The prompt model shipped in media/models/prompt, or null when the extension has none. */
export async function loadShippedPromptModel(from?: string): Promise<PromptModel | null> {
  const dir = findShippedModelDir('prompt', from);
  return dir ? loadPromptModel(dir) : null;
}
