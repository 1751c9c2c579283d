// Fine-tune on corrected masks: patches with foreground oversampling and augmentation, Adam, the
// asymmetric Unified Focal loss by default, a held-out validation split, early stopping, a time
// budget, cancellation between steps, atomic checkpoints, and a new model-store version that is
// renamed into place only when complete (so a cancelled or killed run changes nothing).
import * as tf from '@tensorflow/tfjs';
import { promises as fsp, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readNifti, checkSameGrid } from '../nifti';
import type { NiftiImage } from '../nifti';
import {
  cropVolume,
  foregroundIndices,
  patchGrid,
  samplePatch,
  seededRandom,
  voxelCount,
  type Augmentation,
  type Vec3,
} from '../volume/patches';
import { resampleLinear, resampleNearest, dimsForSpacing } from '../volume/resample';
import { labelMaskProblem } from '../volume/labelMask';
import { createLoss, type SegmentationLoss } from './losses';
import { normalizeIntensity, type Preprocessing } from './preprocess';
import { segmentVolume, type SegmentationNetwork } from './inference';
import { overlapScores } from './metrics';
import { ModelStore, readCard, sha256File, type ModelCard, type StoredVersion, type TrainingPairRecord } from './modelStore';

/** A network that can be trained and saved (the U-Net of ./network satisfies it). */
export interface TrainableNetwork extends SegmentationNetwork {
  /** Probabilities; with deep supervision a list whose first entry is full resolution. */
  apply(x: tf.Tensor5D, opts: { training: boolean }): tf.Tensor5D | tf.Tensor5D[];
  readonly trainableVariables: tf.Variable[];
  /** State that is not trained by gradients but must be kept with the best weights (batch-norm statistics). */
  readonly nonTrainableVariables?: tf.Variable[];
  save(dir: string): Promise<void>;
  dispose(): void;
}

/** How to load and build networks (injected so the engine knows no particular architecture). */
export interface NetworkFactory {
  load(dir: string): Promise<TrainableNetwork>;
  create(config: Record<string, unknown>): TrainableNetwork;
  /** The configuration to record in the card. */
  configOf(network: TrainableNetwork): Record<string, unknown>;
}

/** An image and its mask (voxels > 0 are lesion) on the same grid. */
export interface TrainingPair {
  imagePath: string;
  maskPath: string;
}

/** Progress report after each step (and after each validation). */
export interface TrainingProgress {
  step: number;
  epoch: number;
  /** Loss of this step's batch. */
  loss: number;
  /** Dice on the fixed validation patches at the last validation, if any. */
  valDice: number | null;
  elapsedS: number;
  phase: 'validating-before' | 'training' | 'validating-after' | 'saving';
}

/** Where training starts from: an existing model folder, or a new network. */
export type TrainingStart =
  | { baseModelDir: string }
  | { newNetwork: { config: Record<string, unknown>; patchSizeVoxels: Vec3; preprocessing: Preprocessing } };

/** Options of {@link fineTune}. */
export type FineTuneOptions = TrainingStart & {
  pairs: TrainingPair[];
  /** Store the new version goes into. */
  store: ModelStore;
  networks: NetworkFactory;
  /** Time budget in minutes for the whole run (validation and saving included); default 10. */
  minutes?: number;
  /** Largest number of optimiser steps; default unlimited (the time budget decides). */
  steps?: number;
  /** Loss name from the losses registry; default 'asymmetric-unified-focal'. */
  loss?: string;
  lossOptions?: Record<string, unknown>;
  /** Adam learning rate; default 1e-4 (fine-tune) or 1e-3 (new network). */
  learningRate?: number;
  /** Patch size [x, y, z]; default the model's. */
  patchSize?: Vec3;
  /** Patches per step; default 2. */
  batchSize?: number;
  /** Seed for sampling and augmentation; default 1. */
  seed?: number;
  /** Steps between validations; default 20. */
  stepsPerEpoch?: number;
  /**
   * Validations without improvement before stopping; default 5. Improvement: a higher Dice on
   * the fixed validation patches, or the same Dice with a lower loss (so early training, still at
   * Dice 0, is not stopped while it learns).
   */
  patience?: number;
  /** Validation patches per held-out case; default 8. */
  validationPatchesPerCase?: number;
  augmentation?: Augmentation | null;
  /** Fraction of patches centred on a lesion voxel; default 1/3. */
  foregroundFraction?: number;
  /**
   * Learning-rate schedule over the budget (the larger of steps done / `steps` and training time
   * used / time left for training): 'cosine' (default: linear warm-up over the first 5 % (at
   * most 50 steps), then cosine decay to 1 % of the rate), 'poly' (warm-up, then (1 − t)^0.9),
   * or 'constant'.
   */
  lrSchedule?: 'cosine' | 'poly' | 'constant';
  /**
   * Early stopping never fires before this fraction of the budget (steps or time, whichever is
   * further along) is used; default 0.5.
   */
  minBudgetFractionBeforeEarlyStop?: number;
  /**
   * Hold cases out for validation (default true). False validates on the training cases, e.g.
   * when the caller evaluates on cases of its own (leave-one-out evaluation).
   */
  holdOut?: boolean;
  /**
   * Whole-volume validation Dice before and after (slower, exact); default true. It counts in
   * the time budget: when its estimated cost (one window's measured time × windows, twice)
   * exceeds a third of the budget it is skipped and the fixed validation patches decide.
   */
  wholeVolumeValidation?: boolean;
  /** Make the new version active: 'if-better' (default: when Dice after ≥ before), 'always', 'never'. */
  activate?: 'if-better' | 'always' | 'never';
  /** Parent version recorded in the card; default the base card's version. */
  parentVersion?: string | null;
  /** Backend description recorded in the card. */
  backend?: string;
  onProgress?: (p: TrainingProgress) => void;
  signal?: AbortSignal;
  /** Extra card fields (attribution, notes). */
  cardExtras?: Pick<ModelCard, 'attribution' | 'notes'>;
};

/** Result of {@link fineTune}. */
export interface FineTuneResult {
  version: StoredVersion;
  activated: boolean;
  validationDiceBefore: number | null;
  validationDiceAfter: number | null;
  /** Dice on the fixed validation patches of the starting and of the best weights. */
  patchDiceBefore: number;
  patchDiceAfter: number;
  validationImages: string[];
  steps: number;
  stoppedBecause: string;
  durationS: number;
  losses: number[];
  /** Why whole-volume validation was skipped (null when it ran or was not asked for). */
  wholeVolumeSkipped: string | null;
}

/** Error raised for invalid training options or unusable pairs. */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Raised when training was cancelled; the store is left as it was. */
export class TrainingCancelledError extends Error {
  override name = 'TrainingCancelledError';
  constructor() {
    super('fine-tuning was cancelled; the previous model version is still the active one');
  }
}

interface PreparedCase {
  pair: TrainingPair;
  values: Float32Array;
  labels: Uint8Array;
  dims: Vec3;
  padValue: number;
  lesionIndices: Int32Array;
  /** Source image and mask (kept for whole-volume validation cases only). */
  image?: NiftiImage;
  sourceMask?: Uint8Array;
}

function positiveNumber(name: string, v: number | undefined, fallback: number, integer = false): number {
  const x = v ?? fallback;
  if (!(x > 0) || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new TrainingError(`option ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return x;
}

/** Reads a pair, checks the grids match, normalises, resamples and crops to the foreground box. */
async function prepareCase(pair: TrainingPair, p: Preprocessing, keepSource: boolean): Promise<PreparedCase> {
  const image = await readNifti(pair.imagePath);
  const mask = await readNifti(pair.maskPath);
  const maskProblem = labelMaskProblem(mask.data, basename(pair.maskPath));
  if (maskProblem) throw new TrainingError(maskProblem);
  const grid = checkSameGrid(image, mask);
  if (!grid.same) {
    throw new TrainingError(`${basename(pair.maskPath)} is not on the grid of ${basename(pair.imagePath)}: ${grid.differences.join(', ')}`);
  }
  const sourceMask = new Uint8Array(mask.data.length);
  for (let i = 0; i < sourceMask.length; i++) sourceMask[i] = mask.data[i] > 0 ? 1 : 0;
  const norm = normalizeIntensity(image.data, p);
  let dims = image.dims;
  let values = norm.values;
  let labels = sourceMask;
  let fg = norm.foreground;
  const t = p.targetSpacingMm;
  if (t && !t.every((s, a) => Math.abs(s - image.spacingMm[a]) <= 1e-3 * s)) {
    const out = dimsForSpacing(dims, image.spacingMm, t);
    values = resampleLinear(values, dims, out);
    labels = resampleNearest(labels, dims, out);
    fg = resampleNearest(fg, dims, out);
    dims = out;
  }
  // Crop to the box of foreground ∪ lesion: random patches then land on anatomy, not air.
  const lo: Vec3 = [dims[0], dims[1], dims[2]];
  const hi: Vec3 = [-1, -1, -1];
  for (let z = 0, v = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, v++) {
        if (!fg[v] && !labels[v]) continue;
        const c = [x, y, z];
        for (let a = 0; a < 3; a++) {
          if (c[a] < lo[a]) lo[a] = c[a];
          if (c[a] > hi[a]) hi[a] = c[a];
        }
      }
  if (hi[0] >= 0) {
    const size: Vec3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
    values = cropVolume(values, dims, lo, size);
    labels = cropVolume(labels, dims, lo, size);
    dims = size;
  }
  return {
    pair,
    values,
    labels,
    dims,
    padValue: norm.backgroundValue,
    lesionIndices: foregroundIndices(labels),
    image: keepSource ? image : undefined,
    sourceMask: keepSource ? sourceMask : undefined,
  };
}

/** Splits case indices into training and validation (leave one out for 2–4 cases, 20 % from 5). */
export function splitCases(count: number, random: () => number, holdOut = true): { train: number[]; validation: number[]; heldOut: boolean } {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (count === 1 || !holdOut) return { train: order, validation: order, heldOut: false };
  const nVal = count < 5 ? 1 : Math.round(count * 0.2);
  return { train: order.slice(nVal), validation: order.slice(0, nVal), heldOut: true };
}

function oneHot(labels: Uint8Array[], shape: [number, number, number, number]): tf.Tensor5D {
  const [b, d, h, w] = shape;
  const n = d * h * w;
  const buf = new Float32Array(b * n * 2);
  for (let i = 0; i < b; i++)
    for (let v = 0; v < n; v++) {
      const l = labels[i][v];
      buf[(i * n + v) * 2 + l] = 1;
    }
  return tf.tensor5d(buf, [b, d, h, w, 2]);
}

/** Dice pooled over fixed validation patches (predicted without augmentation) and their mean loss. */
function validatePatches(
  network: SegmentationNetwork,
  loss: SegmentationLoss,
  patches: { image: Float32Array; labels: Uint8Array }[],
  size: Vec3,
): { dice: number; loss: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let lossSum = 0;
  for (const p of patches) {
    const [probs, value] = tf.tidy(() => {
      const out = network.predict(tf.tensor5d(p.image, [1, size[2], size[1], size[0], 1]));
      const y = oneHot([p.labels], [1, size[2], size[1], size[0]]);
      return [tf.slice(out, [0, 0, 0, 0, 1], [1, size[2], size[1], size[0], 1]), loss.compute(y, out)];
    });
    const fg = probs.dataSync();
    lossSum += value.dataSync()[0];
    probs.dispose();
    value.dispose();
    const pred = new Uint8Array(fg.length);
    for (let i = 0; i < fg.length; i++) pred[i] = fg[i] >= 0.5 ? 1 : 0;
    const s = overlapScores(pred, p.labels);
    tp += s.truePositive;
    fp += s.falsePositive;
    fn += s.falseNegative;
  }
  return { dice: tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn), loss: patches.length ? lossSum / patches.length : 0 };
}

/** Validation improved: higher Dice, or (Dice within 1e-4, e.g. still 0 early on) lower loss. */
function improved(now: { dice: number; loss: number }, best: { dice: number; loss: number }): boolean {
  if (now.dice > best.dice + 1e-4) return true;
  return Math.abs(now.dice - best.dice) <= 1e-4 && now.loss < best.loss - 1e-4;
}

async function wholeVolumeDice(
  network: SegmentationNetwork,
  cases: PreparedCase[],
  patchSizeVoxels: Vec3,
  preprocessing: Preprocessing,
  signal: AbortSignal | undefined,
): Promise<number> {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const c of cases) {
    const seg = await segmentVolume(c.image!, { network, patchSizeVoxels, preprocessing }, { ttaFlips: [[]], signal });
    const s = overlapScores(seg.labels, c.sourceMask!);
    tp += s.truePositive;
    fp += s.falsePositive;
    fn += s.falseNegative;
  }
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

/** Seconds one inference window takes (a forward pass of batch 1; the first call also warms up). */
function timeOneWindow(network: SegmentationNetwork, patchSizeVoxels: Vec3): number {
  const t = Date.now();
  tf.tidy(() => {
    const out = network.predict(tf.zeros([1, patchSizeVoxels[2], patchSizeVoxels[1], patchSizeVoxels[0], 1]) as tf.Tensor5D);
    out.dataSync();
  });
  return (Date.now() - t) / 1000;
}

/**
 * Learning-rate factor at `step`: linear warm-up over `warmupSteps`, then by the fraction `t`
 * (0..1) of the budget used: cosine to 1 %, poly (1 − t)^0.9 (floor 1 %), or constant.
 */
export function scheduleFactor(schedule: 'cosine' | 'poly' | 'constant', step: number, warmupSteps: number, t: number): number {
  const warm = step < warmupSteps ? (step + 1) / warmupSteps : 1;
  const u = Math.min(1, Math.max(0, t));
  if (schedule === 'constant') return warm;
  const decay = schedule === 'cosine' ? 0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * u)) : Math.max(0.01, (1 - u) ** 0.9);
  return warm * decay;
}

/** Saves the network into `dir` atomically: a temporary sibling folder renamed over the old one. */
export async function saveNetworkAtomically(network: TrainableNetwork, dir: string): Promise<void> {
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${dir}.tmp-${tag}`;
  const old = `${dir}.old-${tag}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  await network.save(tmp);
  const hadOld = existsSync(dir);
  if (hadOld) await fsp.rename(dir, old);
  await fsp.rename(tmp, dir);
  if (hadOld) await fsp.rm(old, { recursive: true, force: true });
}

function allVariables(network: TrainableNetwork): tf.Variable[] {
  return [...network.trainableVariables, ...(network.nonTrainableVariables ?? [])];
}

function snapshot(network: TrainableNetwork): tf.Tensor[] {
  return allVariables(network).map((v) => tf.keep(v.clone()));
}

function restore(network: TrainableNetwork, weights: tf.Tensor[]): void {
  allVariables(network).forEach((v, i) => v.assign(weights[i]));
}

/** Full-resolution output of `apply` (deep-supervision heads are dropped). */
function fullResolution(out: tf.Tensor5D | tf.Tensor5D[]): tf.Tensor5D {
  return Array.isArray(out) ? out[0] : out;
}

/**
 * Fine-tunes a model on image/mask pairs and stores the result as a new version.
 *
 * Runs: read and normalise the pairs (as the model's card says) → split off validation cases
 * (leave one out for 2–4 pairs; with one pair it validates on the training case) → validation
 * Dice of the starting weights → Adam steps on augmented patches (a third centred on lesions)
 * until the step limit, the time budget, early stopping or cancellation → restore the best
 * weights → validation Dice after → save into a temporary folder of the store and rename it to
 * the next `vN`.
 *
 * @throws TrainingError for invalid options or pairs (naming the file); TrainingCancelledError
 *   when `signal` aborts (the temporary folder is removed, the active version is unchanged).
 */
export async function fineTune(opts: FineTuneOptions): Promise<FineTuneResult> {
  const t0 = Date.now();
  const elapsedS = (): number => (Date.now() - t0) / 1000;
  if (!Array.isArray(opts.pairs) || opts.pairs.length === 0) throw new TrainingError('fine-tuning needs at least one image/mask pair');
  const budgetS = positiveNumber('minutes', opts.minutes, 10) * 60;
  const maxSteps = opts.steps === undefined ? Infinity : positiveNumber('steps', opts.steps, 1, true);
  const batchSize = positiveNumber('batchSize', opts.batchSize, 2, true);
  const stepsPerEpoch = positiveNumber('stepsPerEpoch', opts.stepsPerEpoch, 20, true);
  const patience = positiveNumber('patience', opts.patience, 5, true);
  const valPatches = positiveNumber('validationPatchesPerCase', opts.validationPatchesPerCase, 8, true);
  const isNew = 'newNetwork' in opts;
  const learningRate = positiveNumber('learningRate', opts.learningRate, isNew ? 1e-3 : 1e-4);
  const schedule = opts.lrSchedule ?? 'cosine';
  if (!['cosine', 'poly', 'constant'].includes(schedule)) throw new TrainingError(`option lrSchedule must be cosine, poly or constant, got ${JSON.stringify(schedule)}`);
  const minFractionBeforeStop = opts.minBudgetFractionBeforeEarlyStop ?? 0.5;
  if (!(minFractionBeforeStop >= 0 && minFractionBeforeStop <= 1)) {
    throw new TrainingError(`option minBudgetFractionBeforeEarlyStop must lie in [0, 1], got ${String(opts.minBudgetFractionBeforeEarlyStop)}`);
  }
  const lossName = opts.loss ?? 'asymmetric-unified-focal';
  const lossOptions = opts.lossOptions ?? {};
  let loss: SegmentationLoss;
  try {
    loss = createLoss(lossName, lossOptions);
  } catch (e) {
    throw new TrainingError((e as Error).message);
  }
  for (const p of opts.pairs) {
    for (const f of [p.imagePath, p.maskPath]) if (!existsSync(f)) throw new TrainingError(`${f}: file not found`);
  }

  // Starting network and what its card says.
  let network: TrainableNetwork;
  let baseCard: ModelCard | null = null;
  let patchSizeVoxels: Vec3;
  let preprocessing: Preprocessing;
  if (isNew) {
    network = opts.networks.create(opts.newNetwork.config);
    patchSizeVoxels = opts.newNetwork.patchSizeVoxels;
    preprocessing = opts.newNetwork.preprocessing;
  } else {
    baseCard = await readCard(opts.baseModelDir);
    network = await opts.networks.load(opts.baseModelDir);
    patchSizeVoxels = baseCard.patchSizeVoxels;
    preprocessing = baseCard.preprocessing;
  }
  const patchSize = opts.patchSize ?? patchSizeVoxels;
  const random = seededRandom(opts.seed ?? 1);
  const split = splitCases(opts.pairs.length, random, opts.holdOut ?? true);
  const wholeVolumeAsked = opts.wholeVolumeValidation ?? true;
  const cases: PreparedCase[] = [];
  try {
    for (let i = 0; i < opts.pairs.length; i++) {
      cases.push(await prepareCase(opts.pairs[i], preprocessing, wholeVolumeAsked && split.validation.includes(i)));
      if (opts.signal?.aborted) throw new TrainingCancelledError();
    }
    if (!split.train.some((i) => cases[i].lesionIndices.length > 0)) {
      throw new TrainingError('none of the training masks has a lesion voxel (mask > 0); nothing to learn from');
    }
  } catch (e) {
    network.dispose();
    throw e;
  }
  const trainCases = split.train.map((i) => cases[i]);
  const valCases = split.validation.map((i) => cases[i]);
  // Fixed validation patches: half centred on lesions, no augmentation.
  const valRandom = seededRandom((opts.seed ?? 1) + 7919);
  const fixedPatches = valCases.flatMap((c) =>
    Array.from({ length: valPatches }, () =>
      samplePatch(c.values, c.labels, c.dims, valRandom, { patchSize, lesionIndices: c.lesionIndices, foregroundFraction: 0.5, augmentation: null, padValue: c.padValue }),
    ),
  );

  // Whole-volume validation counts in the budget: estimate it from one window's time.
  let wholeVolume = wholeVolumeAsked;
  let wholeVolumeSkipped: string | null = null;
  if (wholeVolume) {
    const windowS = timeOneWindow(network, patchSizeVoxels);
    const windows = valCases.reduce((n, c) => n + patchGrid(c.dims, patchSizeVoxels, 0.25).length, 0);
    const estimateS = 2 * (windowS * windows + 0.5 * valCases.length);
    const leftS = budgetS - elapsedS();
    if (estimateS > leftS / 3) {
      wholeVolume = false;
      wholeVolumeSkipped =
        `whole-volume validation before and after would take about ${estimateS.toFixed(1)} s (${windows} windows × ${windowS.toFixed(2)} s, twice), ` +
        `more than a third of the ${Math.max(0, leftS).toFixed(1)} s left of the budget; the fixed validation patches decide instead`;
    }
  }

  const pending = await opts.store.beginVersion();
  const best: { weights: tf.Tensor[] | null } = { weights: null };
  const optimizer = tf.train.adam(learningRate);
  const setLearningRate = (lr: number): void => {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };
  const losses: number[] = [];
  try {
    const report = (p: Omit<TrainingProgress, 'elapsedS'>): void => opts.onProgress?.({ ...p, elapsedS: elapsedS() });
    const checkCancel = (): void => {
      if (opts.signal?.aborted) throw new TrainingCancelledError();
    };
    report({ step: 0, epoch: 0, loss: NaN, valDice: null, phase: 'validating-before' });
    const tWhole = Date.now();
    const diceBefore = wholeVolume ? await wholeVolumeDice(network, valCases, patchSizeVoxels, preprocessing, opts.signal) : null;
    const wholeS = (Date.now() - tWhole) / 1000;
    const tPatches = Date.now();
    const validationBefore = validatePatches(network, loss, fixedPatches, patchSize);
    // Seconds of one validation on the fixed patches (forward passes of batch 1).
    let patchValS = (Date.now() - tPatches) / 1000;
    const patchDiceBefore = validationBefore.dice;
    // Reserve for the final validation and saving: what the first validation took, plus margin.
    const saveS = 1 + 0.05 * budgetS ** 0.5;
    const reserveS = wholeS * 1.2 + patchValS + saveS;
    // Until a step is measured: forward + backward ≈ 3 forward passes per patch.
    const forwardS = fixedPatches.length > 0 ? patchValS / fixedPatches.length : 0;
    let stepTimeS = 3 * forwardS * batchSize;
    let stepMeasured = false;
    let bestValidation = validationBefore;
    best.weights = snapshot(network);
    let sinceBest = 0;
    let step = 0;
    let lastValDice: number | null = patchDiceBefore;
    let stoppedBecause = 'steps';
    const tTrain = elapsedS();
    const trainBudgetS = Math.max(1e-3, budgetS - reserveS - tTrain);
    const budgetFraction = (): number => Math.max(Number.isFinite(maxSteps) ? step / maxSteps : 0, (elapsedS() - tTrain) / trainBudgetS);
    const warmupSteps = Math.max(1, Math.min(50, Math.round(0.05 * (Number.isFinite(maxSteps) ? maxSteps : 1000))));
    const samplerOpts = { patchSize, augmentation: opts.augmentation, foregroundFraction: opts.foregroundFraction };
    for (;;) {
      checkCancel();
      if (step >= maxSteps) break;
      const validatesNext = (step + 1) % stepsPerEpoch === 0;
      if (elapsedS() + reserveS + stepTimeS * 1.2 + (validatesNext ? patchValS : 0) > budgetS) {
        stoppedBecause = 'time budget';
        break;
      }
      setLearningRate(learningRate * scheduleFactor(schedule, step, warmupSteps, budgetFraction()));
      const ts = Date.now();
      const images: Float32Array[] = [];
      const labels: Uint8Array[] = [];
      for (let b = 0; b < batchSize; b++) {
        const c = trainCases[Math.floor(random() * trainCases.length)];
        const p = samplePatch(c.values, c.labels, c.dims, random, { ...samplerOpts, lesionIndices: c.lesionIndices, padValue: c.padValue });
        images.push(p.image);
        labels.push(p.labels);
      }
      const n = voxelCount(patchSize);
      const xBuf = new Float32Array(batchSize * n);
      images.forEach((im, b) => xBuf.set(im, b * n));
      const x = tf.tensor5d(xBuf, [batchSize, patchSize[2], patchSize[1], patchSize[0], 1]);
      const y = oneHot(labels, [batchSize, patchSize[2], patchSize[1], patchSize[0]]);
      const cost = optimizer.minimize(() => loss.compute(y, fullResolution(network.apply(x, { training: true }))) as tf.Scalar, true, network.trainableVariables);
      const lossValue = cost ? (await cost.data())[0] : NaN;
      cost?.dispose();
      x.dispose();
      y.dispose();
      if (!Number.isFinite(lossValue)) throw new TrainingError(`the loss became ${lossValue} at step ${step + 1}; try a lower learning rate (now ${learningRate})`);
      losses.push(lossValue);
      step++;
      const took = (Date.now() - ts) / 1000;
      // The first step also warms the kernels up: take the larger of it and the estimate.
      stepTimeS = stepMeasured ? 0.8 * stepTimeS + 0.2 * took : Math.max(took, stepTimeS);
      stepMeasured = true;
      const epoch = Math.floor(step / stepsPerEpoch);
      if (step % stepsPerEpoch === 0) {
        const tv = Date.now();
        const validation = validatePatches(network, loss, fixedPatches, patchSize);
        lastValDice = validation.dice;
        let stop = false;
        if (improved(validation, bestValidation)) {
          bestValidation = validation;
          sinceBest = 0;
          best.weights.forEach((t) => t.dispose());
          best.weights = snapshot(network);
          await saveNetworkAtomically(network, join(pending.dir, 'checkpoint'));
        } else if (++sinceBest >= patience && budgetFraction() >= minFractionBeforeStop) {
          stop = true;
        }
        patchValS = Math.max(patchValS, (Date.now() - tv) / 1000);
        if (stop) {
          report({ step, epoch, loss: lossValue, valDice: lastValDice, phase: 'training' });
          stoppedBecause = 'early stopping';
          break;
        }
      }
      report({ step, epoch, loss: lossValue, valDice: lastValDice, phase: 'training' });
      // Yield so a cancellation (or a progress UI) gets through between steps.
      await new Promise((r) => setImmediate(r));
    }
    checkCancel();
    if (step === 0) {
      throw new TrainingError(
        `the time budget (${(budgetS / 60).toFixed(2)} min = ${budgetS.toFixed(1)} s) is too small for one training step: ` +
          `${tTrain.toFixed(1)} s went to reading ${cases.length} case(s) and validating the starting model, ` +
          `${reserveS.toFixed(1)} s are kept for the final validation and saving, and one step of ${batchSize} patch(es) of ` +
          `${patchSize.join('×')} takes about ${stepTimeS.toFixed(2)} s (measured: ${forwardS.toFixed(2)} s per forward pass of one validation patch, ×3 for the backward pass). ` +
          'No version was written; raise the budget (minutes) or use a smaller patch or batch',
      );
    }
    // Keep the last weights when validation never ran after training started (few steps).
    const validatedSinceStart = step >= stepsPerEpoch;
    if (validatedSinceStart) restore(network, best.weights);
    const patchDiceAfter = validatedSinceStart ? bestValidation.dice : validatePatches(network, loss, fixedPatches, patchSize).dice;
    report({ step, epoch: Math.floor(step / stepsPerEpoch), loss: losses.at(-1) ?? NaN, valDice: patchDiceAfter, phase: 'validating-after' });
    let diceAfter: number | null = null;
    if (wholeVolume) {
      if (elapsedS() + wholeS * 1.1 + saveS <= budgetS) {
        diceAfter = await wholeVolumeDice(network, valCases, patchSizeVoxels, preprocessing, opts.signal);
      } else {
        wholeVolumeSkipped = `whole-volume validation after training was skipped: it took ${wholeS.toFixed(1)} s before and only ${(budgetS - elapsedS()).toFixed(1)} s of the budget were left; the fixed validation patches decide instead`;
      }
    }
    checkCancel();
    report({ step, epoch: Math.floor(step / stepsPerEpoch), loss: losses.at(-1) ?? NaN, valDice: patchDiceAfter, phase: 'saving' });
    await network.save(pending.dir);
    await fsp.rm(join(pending.dir, 'checkpoint'), { recursive: true, force: true });
    const pairs: TrainingPairRecord[] = [];
    for (const p of opts.pairs) {
      pairs.push({ imagePath: p.imagePath, maskPath: p.maskPath, imageSha256: await sha256File(p.imagePath), maskSha256: await sha256File(p.maskPath) });
    }
    const durationS = elapsedS();
    const validationImages = valCases.map((c) => c.pair.imagePath);
    const card: Omit<ModelCard, 'version'> = {
      format: 'lesion-lab-model',
      formatVersion: 1,
      parentVersion: opts.parentVersion !== undefined ? opts.parentVersion : baseCard?.version ?? null,
      createdAt: new Date().toISOString(),
      patchSizeVoxels,
      preprocessing,
      network: opts.networks.configOf(network),
      training: {
        pairs,
        validationImages,
        loss: { name: lossName, options: lossOptions },
        hyperparameters: {
          learningRate,
          batchSize,
          patchSize,
          seed: opts.seed ?? 1,
          stepsPerEpoch,
          patience,
          foregroundFraction: opts.foregroundFraction ?? 1 / 3,
          validationHeldOut: split.heldOut,
          budgetMinutes: budgetS / 60,
          ...(Number.isFinite(maxSteps) ? { maxSteps } : {}),
          lrSchedule: schedule,
          minBudgetFractionBeforeEarlyStop: minFractionBeforeStop,
          ...(wholeVolumeSkipped ? { wholeVolumeValidationSkipped: wholeVolumeSkipped } : {}),
        },
        backend: opts.backend ?? tf.getBackend(),
        durationS,
        steps: step,
        stoppedBecause,
        validationDiceBefore: diceAfter === null ? null : diceBefore,
        validationDiceAfter: diceAfter,
      },
      ...opts.cardExtras,
    };
    const mode = opts.activate ?? 'if-better';
    const activate = mode === 'always' || (mode === 'if-better' && (diceBefore === null || diceAfter === null ? patchDiceAfter >= patchDiceBefore : diceAfter >= diceBefore));
    const reportedBefore = diceAfter === null ? null : diceBefore;
    const version = await pending.commit(card, { activate });
    return {
      version,
      activated: activate,
      validationDiceBefore: reportedBefore,
      validationDiceAfter: diceAfter,
      patchDiceBefore,
      patchDiceAfter,
      validationImages,
      steps: step,
      stoppedBecause,
      durationS,
      losses,
      wholeVolumeSkipped,
    };
  } catch (e) {
    await pending.abandon();
    if (opts.signal?.aborted && !(e instanceof TrainingCancelledError)) throw new TrainingCancelledError();
    throw e;
  } finally {
    best.weights?.forEach((t) => t.dispose());
    optimizer.dispose();
    network.dispose();
  }
}
