// The options, progress reports and results of fine-tuning, the interfaces a trainable network
// and its factory meet, the errors training raises, and the check of the numeric options.
import type { PostprocessingChoice } from './postprocessingChoice';
import type * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { createLoss, type SegmentationLoss } from '../losses';
import type { Augmentation } from '../patchSampler';
import { MODALITIES, type Modality, type Preprocessing } from '../preprocess';
import type { SegmentationNetwork } from '../inference';
import type { ModelCard, ModelStore, StoredVersion } from '../modelStore';
import type { Vec3 } from '../../volume/vec3';

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
  /**
   * Set only for a pair of another modality than the model's, pooled in to show the network more
   * lesions (e.g. the same tumours on MR and PET for a CT model): it is normalised as its own
   * modality by default and gives training patches only, never validation.
   */
  pooledModality?: Modality;
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
  | {
      baseModelDir: string;
      /** A configuration planned for the cases instead of the base's (its weights on another grid and normalisation). */
      configuration?: { patchSizeVoxels: Vec3; preprocessing: Preprocessing };
    }
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
   * Validate, keep and save an exponential moving average of the weights instead of the last
   * weights (Polyak averaging): its decay after step t is min(this, (1 + t) / (10 + t)), so the
   * average spans about a tenth of the steps so far up to 1 / (1 − this) steps. Absent or 0: off.
   */
  weightAverageDecay?: number;
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
  /** Why the run did not start from the base it was given, recorded in the card (see ./recipe fineTuneStart). */
  replanned?: string[] | null;
  /** Why the cases' lesions are another kind than the base's (./lesionScale), recorded in the card. */
  newLesionType?: string | null;
  /**
   * Whether the base's own weights may be kept as the best (default true, except for a new lesion
   * type). Not for a starter resumed under a new augmentation: its validation patches cannot show
   * what the augmentation is for, so the base would be kept whenever it scores as well on them.
   */
  baseCompetes?: boolean;
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
  /** The post-processing chosen on the whole-volume validation (null: not run; the base's is kept). */
  postprocessing: PostprocessingChoice | null;
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

/** The options of {@link FineTuneOptions} that are numbers or names, checked, defaults filled in. */
export interface CheckedTrainingOptions {
  /** Time budget in seconds. */
  budgetS: number;
  /** Largest number of optimiser steps; Infinity when the time budget decides. */
  maxSteps: number;
  batchSize: number;
  stepsPerEpoch: number;
  patience: number;
  validationPatchesPerCase: number;
  learningRate: number;
  lrSchedule: 'cosine' | 'poly' | 'constant';
  /** 0 when off. */
  weightAverageDecay: number;
  minBudgetFractionBeforeEarlyStop: number;
  seed: number;
  foregroundFraction: number;
  lossName: string;
  lossOptions: Record<string, unknown>;
  loss: SegmentationLoss;
}

function positiveNumber(name: string, v: number | undefined, fallback: number, integer = false): number {
  const x = v ?? fallback;
  if (!(x > 0) || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new TrainingError(`option ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return x;
}

/**
 * Checks the options of a fine-tune run and fills in the defaults; also that there is a pair and
 * that every image and mask file exists.
 * @throws TrainingError naming the first option or file that is wrong.
 */
export function checkTrainingOptions(opts: FineTuneOptions): CheckedTrainingOptions {
  if (!Array.isArray(opts.pairs) || opts.pairs.length === 0) throw new TrainingError('fine-tuning needs at least one image/mask pair');
  const budgetS = positiveNumber('minutes', opts.minutes, 10) * 60;
  const maxSteps = opts.steps === undefined ? Infinity : positiveNumber('steps', opts.steps, 1, true);
  const batchSize = positiveNumber('batchSize', opts.batchSize, 2, true);
  const stepsPerEpoch = positiveNumber('stepsPerEpoch', opts.stepsPerEpoch, 20, true);
  const patience = positiveNumber('patience', opts.patience, 5, true);
  const validationPatchesPerCase = positiveNumber('validationPatchesPerCase', opts.validationPatchesPerCase, 8, true);
  const learningRate = positiveNumber('learningRate', opts.learningRate, 'newNetwork' in opts ? 1e-3 : 1e-4);
  const lrSchedule = opts.lrSchedule ?? 'cosine';
  if (!['cosine', 'poly', 'constant'].includes(lrSchedule)) throw new TrainingError(`option lrSchedule must be cosine, poly or constant, got ${JSON.stringify(lrSchedule)}`);
  const weightAverageDecay = opts.weightAverageDecay ?? 0;
  if (!(weightAverageDecay >= 0 && weightAverageDecay < 1)) throw new TrainingError(`option weightAverageDecay must lie in [0, 1), got ${String(opts.weightAverageDecay)}`);
  const minBudgetFractionBeforeEarlyStop = opts.minBudgetFractionBeforeEarlyStop ?? 0.5;
  if (!(minBudgetFractionBeforeEarlyStop >= 0 && minBudgetFractionBeforeEarlyStop <= 1)) {
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
    if (p.pooledModality !== undefined && !MODALITIES.includes(p.pooledModality)) {
      throw new TrainingError(`${p.imagePath}: pooledModality must be one of ${MODALITIES.join(', ')}, got ${String(p.pooledModality)}`);
    }
  }
  if (opts.pairs.every((p) => p.pooledModality !== undefined)) throw new TrainingError('every pair is pooled from another modality: at least one must be of the model\'s own');
  return {
    budgetS,
    maxSteps,
    batchSize,
    stepsPerEpoch,
    patience,
    validationPatchesPerCase,
    learningRate,
    lrSchedule,
    weightAverageDecay,
    minBudgetFractionBeforeEarlyStop,
    seed: opts.seed ?? 1,
    foregroundFraction: opts.foregroundFraction ?? 1 / 3,
    lossName,
    lossOptions,
    loss,
  };
}
