// The training recipe of a new network (the starters' and `npm run train:starter`'s; measured in
// docs/training-recipe.md), and where a fine-tune run starts: the base model, or a new network of
// the general lesion prior's weights (or a new network of this recipe) on a configuration planned
// for the cases when the base does not suit them (src/ml/autoConfig.ts replanForCases).
import { replanForCases } from '../autoConfig';
import { newLesionTypeReason, typicalLesionVolumeOfFiles } from './lesionScale';
import { REGION_LOSS_NAMES } from '../losses/names';
import { findShippedModelDir, LESION_PRIOR_MODEL, readCard, type ModelCard } from '../modelStore';
import type { Augmentation } from '../patchSampler';
import type { FineTuneOptions, TrainingPair, TrainingStart } from './options';

/** The recipe's knobs (ablations change one at a time). */
export interface Recipe {
  normalization: 'instance' | 'batch';
  baseFilters: number;
  levels: number;
  loss: string;
  lossOptions: Record<string, unknown>;
  learningRate: number;
  batchSize: number;
  foregroundFraction: number;
  lrSchedule: 'cosine' | 'poly' | 'constant';
  deepSupervision: boolean;
  caseVoxelBudget?: number;
  patchVoxelBudget?: number;
  /** The patch sampler's augmentation; absent = its defaults (flips, ±10 % intensity, rotations ≤ 10° with p 0.3). */
  augmentation?: Augmentation;
  /** CT's clip window in HU; absent: the lesion voxels' 0.5–99.5 percentiles (autoConfigure's ctClipHu). */
  ctClipHu?: [number, number];
  /** Keep a moving average of the weights (fineTune's weightAverageDecay); absent: off. */
  weightAverageDecay?: number;
  seed: number;
}

export const DEFAULT_RECIPE: Recipe = {
  normalization: 'instance',
  baseFilters: 8,
  levels: 4,
  loss: 'asymmetric-unified-focal',
  // Pool TP/FP/FN over the batch: patches without lesion otherwise make the foreground term constant.
  lossOptions: { regionPooling: 'batch' },
  learningRate: 3e-3,
  batchSize: 2,
  foregroundFraction: 0.5,
  lrSchedule: 'cosine',
  // The loss on the ½- and ¼-resolution outputs too: MR T1 at 1,025 steps, held out 0.738 → 0.768;
  // CT at 150 steps 0.607 → 0.652 (docs/training-recipe.md).
  deepSupervision: true,
  seed: 11,
};

/** nnU-Net-like spatial augmentation (rotations ≤ 30°, zoom 0.75–1.25, each with p 0.5; intensity ±20 %), against the sampler's mild defaults. */
export const STRONG_AUGMENTATION: Augmentation = { maxRotationDeg: 30, rotationProbability: 0.5, maxZoom: 0.25, zoomProbability: 0.5, intensityScale: 0.2, intensityShift: 0.1 };

/**
 * Fine-tuning's learning rate when the cases hold another kind of lesion than the base's (the
 * default stays 1e-4): a new network's. MS FLAIR starter → synthetic whole brain tumours in 15
 * minutes, held-out Dice 0.81 at 1e-4, 0.86–0.87 at 1e-3, 0.90 at 3e-3 and at 1e-2 (a second
 * split: 0.77 at 1e-4, 0.84 at 3e-3; docs/training-recipe.md).
 */
export const NEW_LESION_TYPE_LEARNING_RATE = DEFAULT_RECIPE.learningRate;

/** The U-Net configuration of a recipe (src/ml/network). */
export function recipeNetworkConfig(recipe: Recipe): Record<string, unknown> {
  return { levels: recipe.levels, baseFilters: recipe.baseFilters, normalization: recipe.normalization, deepSupervision: recipe.deepSupervision, seed: recipe.seed };
}

/** The optimiser, loss and sampling options of a recipe, for {@link fineTune}. */
export function recipeTrainingOptions(recipe: Recipe): Partial<FineTuneOptions> {
  return {
    loss: recipe.loss,
    lossOptions: recipe.lossOptions,
    learningRate: recipe.learningRate,
    batchSize: recipe.batchSize,
    foregroundFraction: recipe.foregroundFraction,
    lrSchedule: recipe.lrSchedule,
    stepsPerEpoch: 25,
    patience: 8,
    seed: recipe.seed,
    ...(recipe.augmentation ? { augmentation: recipe.augmentation } : {}),
    ...(recipe.weightAverageDecay ? { weightAverageDecay: recipe.weightAverageDecay } : {}),
  };
}

/**
 * The recipe's loss options for another loss the user chose: its pooling of region terms where
 * that loss has region terms (cross-entropy and the focal losses refuse the option).
 */
export function recipeLossOptions(recipe: Recipe, lossName: string): Record<string, unknown> {
  if (lossName === recipe.loss) return recipe.lossOptions;
  const pooling = recipe.lossOptions.regionPooling;
  return pooling !== undefined && (REGION_LOSS_NAMES as readonly string[]).includes(lossName) ? { regionPooling: pooling } : {};
}

/** Where a fine-tune run starts, with the options that go with it. */
export interface FineTuneStart {
  start: TrainingStart;
  /** Options of the recipe when the run trains a new network (empty for the base). */
  options: Partial<FineTuneOptions>;
  /** Why the base was not used, and the configuration planned instead; null when it was. */
  replanned: string[] | null;
  /** Why the cases' lesions are another kind than the base's (then `options` raise the learning rate), or null. */
  newLesionType: string | null;
  /** The working spacing the run resamples to (for checking grid sizes before it starts). */
  targetSpacingMm: ModelCard['preprocessing']['targetSpacingMm'];
}

/**
 * The base model, unless its grid or modality does not suit the pairs (another modality, or
 * another kind of lesion than the base's on slices over 1.5× coarser than its grid): then a
 * configuration planned from the pairs, starting from the weights of the general lesion prior
 * (media/models/lesion-prior, trained on several lesion types and modalities) when it is shipped,
 * else a new network of {@link DEFAULT_RECIPE}. Adapting to
 * sarcoma CT, which the prior never saw, from 4 cases in 250 steps: prior 0.653 held out, the MR
 * starter's weights 0.614, a new network 0.561; the MS FLAIR starter's weights were worse than a
 * new network for sarcoma MR (0.44 against 0.65; docs/training-recipe.md). `keepWeights` starts
 * from the base's own weights on the planned configuration instead.
 */
export async function fineTuneStart(
  base: { dir: string; card: ModelCard },
  pairs: TrainingPair[],
  opts: { replan: boolean; keepWeights?: boolean; lesionPriorDir?: string | null; loss?: string; casesLesionMm3?: number | null },
): Promise<FineTuneStart> {
  const baseMm3 = base.card.training?.typicalLesionMm3;
  // (The CLI has measured it already, to choose the starter.)
  const casesMm3 = opts.casesLesionMm3 !== undefined ? opts.casesLesionMm3 : await typicalLesionVolumeOfFiles(pairs.map((p) => p.maskPath));
  const newLesionType = newLesionTypeReason(baseMm3, casesMm3);
  const sameLesionKind = newLesionType === null && !!baseMm3 && casesMm3 !== null;
  const plan = opts.replan ? await replanForCases(base.card, pairs, { levels: DEFAULT_RECIPE.levels }, sameLesionKind) : null;
  if (plan === null) {
    return {
      start: { baseModelDir: base.dir },
      options: newLesionType ? { learningRate: NEW_LESION_TYPE_LEARNING_RATE, newLesionType } : {},
      replanned: null,
      newLesionType,
      targetSpacingMm: base.card.preprocessing.targetSpacingMm,
    };
  }
  const priorDir = opts.keepWeights ? null : opts.lesionPriorDir === undefined ? findShippedModelDir(LESION_PRIOR_MODEL) : opts.lesionPriorDir;
  const weightsFrom = opts.keepWeights ? base : priorDir ? { dir: priorDir, card: await readCard(priorDir) } : null;
  if (weightsFrom) {
    // Weights on the configuration planned for the cases, at a new network's rate.
    return {
      start: { baseModelDir: weightsFrom.dir, configuration: { patchSizeVoxels: plan.patchSizeVoxels, preprocessing: plan.preprocessing } },
      options: { learningRate: NEW_LESION_TYPE_LEARNING_RATE, ...(opts.keepWeights ? {} : { parentVersion: null }) },
      replanned: [
        ...plan.summary,
        opts.keepWeights
          ? `${base.card.version}'s weights on this configuration (--replan keep-weights)`
          : `the general lesion prior's weights (${weightsFrom.card.version}) on this configuration instead of ${base.card.version}'s`,
      ],
      newLesionType: null,
      targetSpacingMm: plan.preprocessing.targetSpacingMm,
    };
  }
  return {
    start: { newNetwork: { config: recipeNetworkConfig(DEFAULT_RECIPE), patchSizeVoxels: plan.patchSizeVoxels, preprocessing: plan.preprocessing } },
    options: {
      ...recipeTrainingOptions(DEFAULT_RECIPE),
      ...(opts.loss === undefined ? {} : { loss: opts.loss, lossOptions: recipeLossOptions(DEFAULT_RECIPE, opts.loss) }),
      parentVersion: null,
    },
    replanned: [...plan.summary, `a new network of the starter recipe instead of ${base.card.version}'s weights`],
    newLesionType: null,
    targetSpacingMm: plan.preprocessing.targetSpacingMm,
  };
}
