// Segment Lesion: normalise the image as the model's card says, resample to the model's spacing
// where it differs, run the network over overlapping windows with Gaussian blending (optionally
// with flip test-time augmentation, whose spread is the uncertainty map), go back to the source
// grid, threshold, drop small lesions and list the rest.
import * as tf from '@tensorflow/tfjs';
import { basename } from 'node:path';
import { boundingBox, cropVolume, extractPatch, pasteVolume } from '../volume/boxes';
import { patchGrid, slidingWindowInfer } from '../volume/slidingWindow';
import { voxelCount, type Vec3 } from '../volume/vec3';
import { resampleLinear, resampleNearest, dimsForSpacing, MAX_RESAMPLED_VOXELS } from '../volume/resample';
import { normalizeIntensity, type Preprocessing } from './preprocess';
import { voxelVolumeMm3 } from '../nifti/affine';
import type { VoxelArray } from '../nifti/types';
import { fromWorldAxisOrder, toWorldAxisOrder } from '../volume/orientation';
import { connectedComponents, removeSmallLesions, type Connectivity, type Lesion } from './metrics';
import { brainImagesOf, MAX_PATCH_SIDE_VOXELS, ModelStoreError, readCard, type BrainImageCounts } from './modelStore';
import { createUNet3d, loadUNet3d, type UNet3d, type UNet3dConfig } from './network';
import { spatialMultiple } from './network/config';
import { inferenceWindow } from './inferenceWindow';
import { maskedToBrain } from './brainExtraction';
import { isImportedNetworkSpec, loadImportedNetwork, type ImportedNetwork } from './importedModel';
import { errorText } from '../util/errorText';

export { MAX_PATCH_SIDE_VOXELS };

/**
 * Largest grid inference works on (2^28 voxels): it holds about six float32 copies of it (image,
 * blended sums, probability, uncertainty), so this bounds memory at a few GiB whatever the header says.
 */
export const MAX_WORKING_GRID_VOXELS = MAX_RESAMPLED_VOXELS;

/** The part of a network inference needs: softmax probabilities `[B,D,H,W,2]` from `[B,D,H,W,1]`. */
export interface SegmentationNetwork {
  predict(x: tf.Tensor5D): tf.Tensor5D;
}

/** A network with what its card says about its input. */
export interface SegmentationModel {
  network: SegmentationNetwork;
  patchSizeVoxels: Vec3;
  preprocessing: Preprocessing;
  /** Version name for reports ('v3', 'starter'). */
  version?: string;
  /** Post-processing from the card: keep only the N largest lesions (chosen on validation cases). */
  postprocessing?: ModelPostprocessing;
  /**
   * Set when the network's output at a voxel depends only on the voxels around it (batch norm
   * with running statistics, or no normalisation; not instance norm, whose statistics span the
   * window), so that inference may use windows larger than patchSizeVoxels whose sides are
   * multiples of `multiple` (2^(levels−1)). Absent: the card's window only.
   */
  windowGrowth?: { multiple: number };
  /** From the card: how many training images were skull-stripped brains and heads with their skull (absent: not recorded, or neither). */
  brainImages?: BrainImageCounts;
}

/** card.json `postprocessing`: how Segment Lesion turns the probability into lesions. */
export interface ModelPostprocessing {
  /** Keep only this many largest connected lesions (26-connectivity); absent = keep all. */
  keepLargestComponents?: number;
  /**
   * The probability at or above which a voxel is lesion when the caller gives none; absent = 0.5.
   * For a model whose probabilities run low on the images it is meant for (a starter trained on
   * synthetic tumours, on real ones: docs/training-recipe.md, "A starter's threshold").
   */
  threshold?: number;
}

/** The card's `postprocessing` if it is valid, else undefined (an unknown or bad field is ignored). */
function cardPostprocessing(card: unknown): ModelPostprocessing | undefined {
  const p = (card as { postprocessing?: { keepLargestComponents?: unknown; threshold?: unknown } }).postprocessing;
  const k = p?.keepLargestComponents;
  const t = p?.threshold;
  const out: ModelPostprocessing = {
    ...(typeof k === 'number' && Number.isInteger(k) && k >= 1 ? { keepLargestComponents: k } : {}),
    ...(isThreshold(t) ? { threshold: t } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** 1 where the lesion probability is at or above `threshold`. */
export function thresholdProbability(probability: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(probability.length);
  for (let v = 0; v < out.length; v++) out[v] = probability[v] >= threshold ? 1 : 0;
  return out;
}

/** A lesion probability threshold: a number strictly between 0 and 1. */
function isThreshold(t: unknown): t is number {
  return typeof t === 'number' && t > 0 && t < 1;
}

/**
 * Lesion probabilities at or above which the network is sure of a voxel, strictest first.
 * Components are ranked by how many voxels they hold at the first level, ties by the next, then by
 * size. At 0.9 alone a fine-tuned brain-tumour model's 87 cm³ of mildly bright brain (p mostly
 * 0.5–0.9) lost to the 63 cm³ tumour beside it (p > 0.9 in 79 %), where the largest had been the
 * wrong one; but on 5 mm slices a 32 cm³ region of mildly bright brain held more voxels at 0.9
 * than pat0005's tumour (6,957 against 5,534) and fewer at 0.98 (1,236 against 3,849). Over 98
 * predictions by 9 models, 0.98 changed three lesions kept, each from 0.000 to 0.69–0.92
 * (docs/training-recipe.md, "Which lesion to keep").
 */
export const CONFIDENCE_LEVELS: readonly number[] = [0.98, 0.9];

/**
 * Keeps the `k` largest connected components (26-connectivity) of a binary mask; with the
 * probability map, largest by their voxels at each of {@link CONFIDENCE_LEVELS} in turn, ties by size.
 */
export function keepLargestComponents(mask: Uint8Array, dims: Vec3, k: number, probability?: ArrayLike<number>): Uint8Array {
  const c = connectedComponents(mask, dims, 26);
  if (c.count <= k) return mask;
  const confident = CONFIDENCE_LEVELS.map(() => new Float64Array(c.count + 1));
  if (probability)
    for (let v = 0; v < mask.length; v++) {
      const id = c.labels[v];
      if (id) for (let l = 0; l < CONFIDENCE_LEVELS.length; l++) if (probability[v] >= CONFIDENCE_LEVELS[l]) confident[l][id]++;
    }
  const rank = (id: number, size: number): number[] => [...confident.map((counts) => counts[id]), size];
  const keep = new Uint8Array(c.count + 1);
  c.sizes
    .map((size, i) => ({ key: rank(i + 1, size), id: i + 1 }))
    .sort((a, b) => {
      for (let j = 0; j < a.key.length; j++) if (a.key[j] !== b.key[j]) return b.key[j] - a.key[j];
      return 0;
    })
    .slice(0, k)
    .forEach((x) => (keep[x.id] = 1));
  const out = new Uint8Array(mask.length);
  for (let v = 0; v < mask.length; v++) out[v] = keep[c.labels[v]];
  return out;
}

/** A network loaded from a model folder (the project's U-Net or an imported model), with its card's settings. */
export interface LoadedModel extends SegmentationModel {
  network: UNet3d | ImportedNetwork;
  dir: string;
}

/**
 * Loads the U-Net and card of a model folder (model.json + weights.bin + card.json).
 * @throws ModelStoreError for a missing or invalid card; the network loader's error for bad weights.
 */
export async function loadSegmentationModel(dir: string): Promise<LoadedModel> {
  const card = await readCard(dir);
  if (isImportedNetworkSpec(card.network)) {
    // A TensorFlow.js model brought by the user (src/ml/importedModel.ts).
    const network = await loadImportedNetwork(dir, card.network);
    return { network, dir, version: card.version, patchSizeVoxels: card.patchSizeVoxels, preprocessing: card.preprocessing, postprocessing: cardPostprocessing(card), brainImages: brainImagesOf(card) };
  }
  const network = await loadNetworkFiles(dir);
  const multiple = spatialMultiple(network.config.levels);
  if (card.patchSizeVoxels.some((n) => n % multiple !== 0)) {
    network.dispose();
    throw new ModelStoreError(
      `${dir}: card.json's patchSizeVoxels [${card.patchSizeVoxels.join(',')}] must be multiples of ${multiple} for the ${network.config.levels}-level network in model.json`,
    );
  }
  return {
    network,
    dir,
    version: card.version,
    patchSizeVoxels: card.patchSizeVoxels,
    preprocessing: card.preprocessing,
    postprocessing: cardPostprocessing(card),
    windowGrowth: network.config.normalization === 'instance' ? undefined : { multiple },
    brainImages: brainImagesOf(card),
  };
}

/**
 * Loads model.json + weights.bin; any problem with them (missing, truncated, malformed) is a
 * ModelStoreError, whose message names the file.
 */
async function loadNetworkFiles(dir: string): Promise<UNet3d> {
  try {
    return await loadUNet3d(dir);
  } catch (e) {
    const message = errorText(e);
    throw new ModelStoreError(message.includes(dir) ? message : `${dir}: the network could not be loaded (${message})`);
  }
}

/** How the training engine builds, loads and describes the project's U-Net. */
export const unetNetworks = {
  load: (dir: string): Promise<UNet3d> => loadNetworkFiles(dir),
  create: (config: Record<string, unknown>): UNet3d => createUNet3d(config as Partial<UNet3dConfig>),
  configOf: (network: UNet3d): Record<string, unknown> => ({ ...network.config }),
};

/** The image to segment (a NiftiImage fits). */
export interface VolumeInput {
  data: ArrayLike<number>;
  dims: Vec3;
  spacingMm: Vec3;
  /** The affine (a NiftiImage has it): lesion volumes then use |det| of its 3×3 (right on sheared grids). */
  affine?: ArrayLike<number>;
  /** The image's file, named in error messages (a NiftiImage has it). */
  filePath?: string;
}

/** Error raised for invalid segmentation options. */
export class InferenceError extends Error {
  override name = 'InferenceError';
}

/** Options of {@link segmentVolume}. */
export interface SegmentOptions {
  /** Probability at or above which a voxel is lesion; default the model card's (`postprocessing.threshold`), else 0.5. */
  threshold?: number;
  /** Lesions smaller than this are removed; default 0 mm³. */
  minLesionMm3?: number;
  /** Connectivity of lesions; default 26. */
  connectivity?: Connectivity;
  /**
   * Flip test-time augmentation: each entry is a set of axes (0 = x, 1 = y, 2 = z) flipped for
   * one extra prediction; `[]` is the unflipped pass. Default {@link DEFAULT_TTA_FLIPS} (unflipped
   * and left–right). Pass `[[]]` for no augmentation (the uncertainty map is then all zero).
   */
  ttaFlips?: number[][];
  /** Window overlap in [0, 1); default {@link defaultOverlap} of the model. */
  overlap?: number;
  /** Skip windows with no foreground (body / brain) voxel; default true. */
  skipBackground?: boolean;
  /**
   * Let a network with {@link SegmentationModel.windowGrowth} run on windows larger than its card's
   * (src/ml/inferenceWindow.ts: fewer windows, as much context or more); default true. False keeps
   * the card's window (the speed benchmark compares both).
   */
  growWindow?: boolean;
  /** Called after each window with (windows done, windows in total). */
  onProgress?: (done: number, total: number) => void;
  /** Cancels between windows. */
  signal?: AbortSignal;
  /**
   * The brain of a head with its skull (src/ml/brainExtraction.ts), one value per voxel: the
   * network sees the image skull-stripped (everything else set to one background value, as its
   * training images were), and no voxel outside it is lesion.
   */
  brainMask?: Uint8Array;
  /**
   * Another model's lesion probability for the same patient on this image's grid (NaN where it has
   * none): the starter of another modality on a co-registered image (src/ml/companion.ts), e.g. the
   * PET starter on the patient's PET. Averaged with this model's probability before the threshold.
   */
  companion?: Float32Array;
}

/** Default flip TTA: the image as it is and mirrored left–right (x), the cheapest useful pair. */
export const DEFAULT_TTA_FLIPS: number[][] = [[], [0]];
/** Every single-axis flip plus the unflipped pass (4 predictions per window). */
export const ALL_AXIS_FLIPS: number[][] = [[], [0], [1], [2]];

/** Result of {@link segmentVolume}; all arrays are on the source grid. */
export interface Segmentation {
  /** 1 = lesion, after threshold and minimum lesion size. */
  labels: Uint8Array;
  /** The probability threshold used (the caller's, else the model card's, else 0.5). */
  threshold: number;
  /** Lesion probability (mean over the flips). */
  probability: Float32Array;
  /** Standard deviation of the probability across flips (0 where all flips agree). */
  uncertainty: Float32Array;
  lesions: Lesion[];
  windowsTotal: number;
  windowsPredicted: number;
  /** Grid the network ran on (differs from the source when resampled). */
  workDims: Vec3;
  /** The window slid over the grid: the card's, or a larger one (see {@link SegmentOptions.growWindow}). */
  windowSize: Vec3;
}

/**
 * The window overlap a model is run with by default: 0.5, nnU-Net's, for a network whose output
 * depends on its window (instance norm: each window is normalised by its own statistics, so
 * windows disagree where they overlap, and each voxel is better as the blend of more of them);
 * 0.25 for a network without statistics over the window, whose windows agree. The brain-tumour
 * starter on one of the 12 synthetic tumours marked an 85 cm³ block of cortex at 0.25, larger than
 * the tumour, which keeping the largest lesion then kept (Dice 0.000); at 0.5 the block shrinks
 * to 60 cm³ and the tumour scores 0.935. The other 11 and the sarcoma starters' held-out patients
 * move by under 0.005, for 0–45 % more time (docs/training-recipe.md).
 */
export function defaultOverlap(windowIndependent: boolean): number {
  return windowIndependent ? 0.25 : 0.5;
}

function validateOptions(opts: SegmentOptions, model: Pick<SegmentationModel, 'windowGrowth' | 'postprocessing'>): Required<Omit<SegmentOptions, 'onProgress' | 'signal' | 'brainMask' | 'companion'>> {
  const threshold = opts.threshold ?? model.postprocessing?.threshold ?? 0.5;
  if (!isThreshold(threshold)) throw new InferenceError(`threshold must lie in (0, 1), got ${threshold}`);
  const minLesionMm3 = opts.minLesionMm3 ?? 0;
  if (!(minLesionMm3 >= 0)) throw new InferenceError(`minLesionMm3 must be ≥ 0, got ${minLesionMm3}`);
  const overlap = opts.overlap ?? defaultOverlap(model.windowGrowth !== undefined);
  if (!(overlap >= 0 && overlap < 1)) throw new InferenceError(`overlap must lie in [0, 1), got ${overlap}`);
  const ttaFlips = opts.ttaFlips ?? DEFAULT_TTA_FLIPS;
  if (!Array.isArray(ttaFlips) || ttaFlips.length === 0 || ttaFlips.some((f) => !Array.isArray(f) || f.some((a) => a !== 0 && a !== 1 && a !== 2))) {
    throw new InferenceError(`ttaFlips must be a non-empty list of axis lists (axes 0, 1, 2), got ${JSON.stringify(ttaFlips)}`);
  }
  const connectivity = opts.connectivity ?? 26;
  return { threshold, minLesionMm3, overlap, ttaFlips, connectivity, skipBackground: opts.skipBackground ?? true, growWindow: opts.growWindow ?? true };
}

/** Tensor axes of a patch `[B, D=z, H=y, W=x, C]` for volume axes 0 = x, 1 = y, 2 = z. */
function tensorAxes(volumeAxes: number[]): number[] {
  return volumeAxes.map((a) => 3 - a);
}

/**
 * Predicts one window under every flip of `flips` in one batch.
 * @returns per voxel (channels-last) [mean probability, standard deviation across flips].
 */
export function predictWindowWithFlips(network: SegmentationNetwork, patch: Float32Array, patchSize: Vec3, flips: number[][]): Float32Array {
  const [px, py, pz] = patchSize;
  const k = flips.length;
  const probs = tf.tidy(() => {
    const x = tf.tensor5d(patch, [1, pz, py, px, 1]);
    const batch = tf.concat(flips.map((f) => (f.length ? tf.reverse(x, tensorAxes(f)) : x)), 0) as tf.Tensor5D;
    const out = network.predict(batch);
    const fg = tf.slice(out, [0, 0, 0, 0, 1], [k, pz, py, px, 1]);
    const unflipped = flips.map((f, i) => {
      const one = tf.slice(fg, [i, 0, 0, 0, 0], [1, pz, py, px, 1]);
      return f.length ? tf.reverse(one, tensorAxes(f)) : one;
    });
    return tf.concat(unflipped, 0);
  });
  const values = probs.dataSync() as Float32Array;
  probs.dispose();
  const n = voxelCount(patchSize);
  const out = new Float32Array(n * 2);
  for (let v = 0; v < n; v++) {
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < k; i++) {
      const p = values[i * n + v];
      sum += p;
      if (p < min) min = p;
      if (p > max) max = p;
    }
    const mean = sum / k;
    let variance = 0;
    if (max !== min) for (let i = 0; i < k; i++) variance += (values[i * n + v] - mean) ** 2;
    out[2 * v] = k === 1 ? values[v] : mean;
    out[2 * v + 1] = max === min ? 0 : Math.sqrt(variance / k);
  }
  return out;
}

function mm(spacing: readonly number[]): string {
  return spacing.map((s) => String(Number(s.toFixed(4)))).join('×');
}

/**
 * The grid a model with `targetSpacingMm` works on for `image` (training and inference alike),
 * checked against {@link MAX_WORKING_GRID_VOXELS} before anything of that size is allocated. Needs
 * only the header's dims and spacing.
 * @throws InferenceError naming the image and the sizes.
 */
export function checkWorkingGrid(
  image: Pick<VolumeInput, 'dims' | 'spacingMm' | 'filePath'>,
  targetSpacingMm: Vec3 | null,
): { workDims: Vec3; resample: boolean } {
  const dims = image.dims;
  const target = targetSpacingMm;
  const resample = target !== null && !sameSpacing(image.spacingMm, target);
  const workDims: Vec3 = resample ? dimsForSpacing(dims, image.spacingMm, target) : dims;
  const voxels = workDims[0] * workDims[1] * workDims[2];
  if (voxels > MAX_WORKING_GRID_VOXELS) {
    const name = image.filePath ? basename(image.filePath) : 'the image';
    const count = `${voxels.toLocaleString('en-US')} voxels`;
    const limit = `more than the ${MAX_WORKING_GRID_VOXELS.toLocaleString('en-US')} that Lesion Lab works on`;
    throw new InferenceError(
      resample
        ? `${name}: resampling its ${dims.join('×')} voxels of ${mm(image.spacingMm)} mm to the model's ${mm(target!)} mm spacing would make a ` +
            `${workDims.join('×')} grid (${count}), ${limit}; check the voxel size (pixdim) in its header`
        : `${name}: its ${dims.join('×')} grid (${count}) is ${limit}`,
    );
  }
  return { workDims, resample };
}

/** The model's window, checked against {@link MAX_PATCH_SIDE_VOXELS} before windows are allocated. */
function checkPatchSize(patch: Vec3): void {
  if (!(Array.isArray(patch) && patch.length === 3 && patch.every((n) => Number.isInteger(n) && n >= 1))) {
    throw new InferenceError(`the model's patch size must be three positive integers, got ${JSON.stringify(patch)}`);
  }
  if (patch.some((n) => n > MAX_PATCH_SIDE_VOXELS)) {
    throw new InferenceError(`the model's patch size ${patch.join('×')} has a side over ${MAX_PATCH_SIDE_VOXELS} voxels`);
  }
}

/** Voxels kept around the foreground's bounding box. */
const FOREGROUND_MARGIN_VOXELS = 4;

function sameSpacing(a: Vec3, b: Vec3): boolean {
  return a.every((s, i) => Math.abs(s - b[i]) <= 1e-3 * Math.max(s, b[i]));
}

/**
 * Segments lesions in a volume with a model.
 *
 * @param image - the volume on its own grid (a NiftiImage fits: data x fastest, dims, spacingMm).
 * @param model - network plus the patch size and preprocessing from its card.
 * @param opts - see {@link SegmentOptions}.
 * @returns labels, probability and uncertainty on the source grid, and the lesion list.
 * @throws InferenceError for invalid options; the signal's reason when cancelled.
 * @example const seg = await segmentVolume(await readNifti(p), model, { ttaFlips: [[]] });
 */
export async function segmentVolume(image: VolumeInput, model: SegmentationModel, opts: SegmentOptions = {}): Promise<Segmentation> {
  const o = validateOptions(opts, model);
  const dims = image.dims;
  const n = dims[0] * dims[1] * dims[2];
  if (image.data.length !== n) throw new InferenceError(`image has ${image.data.length} voxels but dims ${dims.join('×')} need ${n}`);
  checkPatchSize(model.patchSizeVoxels);
  const brain = opts.brainMask;
  if (brain && brain.length !== n) throw new InferenceError(`the brain mask has ${brain.length} voxels but the image ${n}`);
  if (brain) image = { ...image, data: maskedToBrain(image.data, brain) };
  const companion = opts.companion;
  if (companion && companion.length !== n) throw new InferenceError(`the companion probability has ${companion.length} voxels but the image ${n}`);
  // The network sees the axes in world order (i, j, k along x, y, z), as it was trained: a
  // sagittal or coronal stack is not shown to it lying on its side.
  const reordered = image.affine
    ? toWorldAxisOrder({ data: ArrayBuffer.isView(image.data) ? (image.data as VoxelArray) : Float32Array.from(image.data), dims, affine: image.affine, spacingMm: image.spacingMm })
    : null;
  const net = await networkProbability(reordered ? { ...image, data: reordered.data, dims: reordered.dims, spacingMm: reordered.spacingMm, affine: reordered.affine } : image, model, o, opts);
  const probability = reordered ? fromWorldAxisOrder(net.probability, dims, reordered.orientation) : net.probability;
  const uncertainty = reordered ? fromWorldAxisOrder(net.uncertainty, dims, reordered.orientation) : net.uncertainty;
  if (brain) {
    for (let v = 0; v < n; v++) {
      if (brain[v]) continue;
      probability[v] = 0;
      uncertainty[v] = 0;
    }
  }
  // Where another modality's model also looked, the two models vote equally.
  if (companion) {
    for (let v = 0; v < n; v++) if (Number.isFinite(companion[v]) && (!brain || brain[v])) probability[v] = 0.5 * (probability[v] + companion[v]);
  }
  let raw = thresholdProbability(probability, o.threshold);
  const largest = model.postprocessing?.keepLargestComponents;
  if (largest) raw = keepLargestComponents(raw, dims, largest, probability);
  const { mask, lesions } = removeSmallLesions(raw, dims, {
    spacingMm: image.spacingMm,
    voxelVolumeMm3: image.affine ? voxelVolumeMm3(image.affine) : undefined,
    minLesionMm3: o.minLesionMm3,
    connectivity: o.connectivity,
  });
  const { windowsTotal, windowsPredicted, workDims, windowSize } = net;
  return { labels: mask, threshold: o.threshold, probability, uncertainty, lesions, windowsTotal, windowsPredicted, workDims, windowSize };
}

/** The network's lesion probability and its spread over the flips, on the image's grid. */
async function networkProbability(
  image: VolumeInput,
  model: SegmentationModel,
  o: ReturnType<typeof validateOptions>,
  opts: SegmentOptions,
): Promise<Pick<Segmentation, 'probability' | 'uncertainty' | 'windowsTotal' | 'windowsPredicted' | 'workDims' | 'windowSize'>> {
  const dims = image.dims;
  const { workDims, resample } = checkWorkingGrid(image, model.preprocessing.targetSpacingMm);
  const norm = normalizeIntensity(image.data, model.preprocessing);
  const values = resample ? resampleLinear(norm.values, dims, workDims) : norm.values;
  const foreground = resample ? resampleNearest(norm.foreground, dims, workDims) : norm.foreground;
  // Work only inside the foreground's bounding box (plus a margin): air around a head or body
  // holds no lesion, and on a skull-stripped brain it is most of the grid.
  const box = o.skipBackground ? boundingBox(foreground, workDims, FOREGROUND_MARGIN_VOXELS) : { start: [0, 0, 0] as Vec3, size: workDims };
  // A network without statistics over the window may cover the box in fewer, larger windows.
  const patchSize =
    box && o.growWindow && model.windowGrowth
      ? inferenceWindow(model.patchSizeVoxels, box.size, { windowIndependent: true, multiple: model.windowGrowth.multiple, overlap: o.overlap })
      : model.patchSizeVoxels;
  const m = values.length;
  let probability: Float32Array = new Float32Array(m);
  let uncertainty: Float32Array = new Float32Array(m);
  let windowsTotal = 0;
  let windowsPredicted = 0;
  if (box) {
    const whole = box.size.every((n, a) => n === workDims[a]);
    const boxValues = whole ? values : cropVolume(values, workDims, box.start, box.size);
    const boxForeground = whole ? foreground : cropVolume(foreground, workDims, box.start, box.size);
    windowsTotal = patchGrid(box.size, patchSize, o.overlap).length;
    const fgPatch = new Float32Array(voxelCount(patchSize));
    const blended = await slidingWindowInfer(
      boxValues,
      box.size,
      async (patch) => {
        windowsPredicted++;
        const out = predictWindowWithFlips(model.network, patch, patchSize, o.ttaFlips);
        // Let a cancellation or progress message through between windows.
        await new Promise((r) => setImmediate(r));
        return out;
      },
      {
        patchSize,
        overlap: o.overlap,
        outChannels: 2,
        padValue: norm.backgroundValue,
        skipWindow: o.skipBackground
          ? (start) => {
              extractPatch(boxForeground, box.size, start, patchSize, 0, fgPatch);
              return !fgPatch.some((v) => v > 0);
            }
          : undefined,
        onProgress: opts.onProgress,
        signal: opts.signal,
      },
    );
    const nBox = voxelCount(box.size);
    const boxProbability = new Float32Array(nBox);
    const boxUncertainty = new Float32Array(nBox);
    for (let v = 0; v < nBox; v++) {
      boxProbability[v] = blended[2 * v];
      boxUncertainty[v] = blended[2 * v + 1];
    }
    pasteVolume(probability, workDims, boxProbability, box.start, box.size);
    pasteVolume(uncertainty, workDims, boxUncertainty, box.start, box.size);
  } else {
    opts.onProgress?.(0, 0);
  }
  if (resample) {
    probability = resampleLinear(probability, workDims, dims);
    uncertainty = resampleLinear(uncertainty, workDims, dims);
  }
  return { probability, uncertainty, windowsTotal, windowsPredicted, workDims, windowSize: patchSize };
}
