// The model card of a fine-tuned version (what was trained on, how, and how it validated) and
// the rule that decides whether the new version becomes the active one.
import * as tf from '@tensorflow/tfjs';
import type { Vec3 } from '../../volume/vec3';
import { sha256File, type BrainImageCounts, type ModelCard, type TrainingPairRecord } from '../modelStore';
import type { Preprocessing } from '../preprocess';
import type { CheckedTrainingOptions, FineTuneOptions, TrainingPair } from './options';
import type { PostprocessingChoice } from './postprocessingChoice';

/** The pairs as a card records them: paths and SHA-256 of image and mask. */
export async function pairRecords(pairs: readonly TrainingPair[]): Promise<TrainingPairRecord[]> {
  const records: TrainingPairRecord[] = [];
  for (const p of pairs) {
    records.push({
      imagePath: p.imagePath,
      maskPath: p.maskPath,
      imageSha256: await sha256File(p.imagePath),
      maskSha256: await sha256File(p.maskPath),
      ...(p.pooledModality ? { pooledModality: p.pooledModality } : {}),
    });
  }
  return records;
}

/** What a run did, for {@link trainingCard}. */
export interface TrainingOutcome {
  pairs: TrainingPairRecord[];
  validationImages: string[];
  validationHeldOut: boolean;
  patchSize: Vec3;
  steps: number;
  stoppedBecause: string;
  durationS: number;
  /** Whole-volume validation Dice of the starting weights (with the base card's post-processing) and the new ones (with the post-processing chosen for them); null when it did not run. */
  diceBefore: number | null;
  diceAfter: number | null;
  wholeVolumeSkipped: string | null;
  /** The post-processing chosen on the whole-volume validation; null when that did not run (the base's is kept). */
  postprocessing: PostprocessingChoice | null;
  typicalLesionMm3: number | null;
  /** How many of the cases were skull-stripped brains and heads with their skull. */
  brainImages: BrainImageCounts;
}

/** The card of a new version (without its version name, which the store assigns). */
export function trainingCard(
  opts: FineTuneOptions,
  checked: CheckedTrainingOptions,
  base: { card: ModelCard | null; patchSizeVoxels: Vec3; preprocessing: Preprocessing; network: Record<string, unknown> },
  outcome: TrainingOutcome,
): Omit<ModelCard, 'version'> {
  return {
    format: 'lesion-lab-model',
    formatVersion: 1,
    parentVersion: opts.parentVersion !== undefined ? opts.parentVersion : base.card?.version ?? null,
    createdAt: new Date().toISOString(),
    patchSizeVoxels: base.patchSizeVoxels,
    preprocessing: base.preprocessing,
    network: base.network,
    training: {
      pairs: outcome.pairs,
      validationImages: outcome.validationImages,
      loss: { name: checked.lossName, options: checked.lossOptions },
      hyperparameters: {
        learningRate: checked.learningRate,
        batchSize: checked.batchSize,
        patchSize: outcome.patchSize,
        seed: checked.seed,
        stepsPerEpoch: checked.stepsPerEpoch,
        patience: checked.patience,
        foregroundFraction: checked.foregroundFraction,
        validationHeldOut: outcome.validationHeldOut,
        budgetMinutes: checked.budgetS / 60,
        ...(Number.isFinite(checked.maxSteps) ? { maxSteps: checked.maxSteps } : {}),
        lrSchedule: checked.lrSchedule,
        ...(checked.weightAverageDecay > 0 ? { weightAverageDecay: checked.weightAverageDecay } : {}),
        minBudgetFractionBeforeEarlyStop: checked.minBudgetFractionBeforeEarlyStop,
        ...(outcome.wholeVolumeSkipped ? { wholeVolumeValidationSkipped: outcome.wholeVolumeSkipped } : {}),
      },
      backend: opts.backend ?? tf.getBackend(),
      durationS: outcome.durationS,
      steps: outcome.steps,
      stoppedBecause: outcome.stoppedBecause,
      validationDiceBefore: outcome.diceAfter === null ? null : outcome.diceBefore,
      validationDiceAfter: outcome.diceAfter,
      ...(opts.replanned ? { replanned: opts.replanned } : {}),
      ...(opts.newLesionType ? { newLesionType: opts.newLesionType } : {}),
      ...(outcome.typicalLesionMm3 !== null ? { typicalLesionMm3: Math.round(outcome.typicalLesionMm3 * 10) / 10 } : {}),
      ...(outcome.brainImages.skullStripped + outcome.brainImages.withSkull > 0 ? { brainImages: outcome.brainImages } : {}),
      ...(outcome.postprocessing ? { postprocessingChoice: { validationDice: outcome.postprocessing.validationDice, notTried: outcome.postprocessing.notTried } } : {}),
    },
    // Chosen on the whole-volume validation, else the base's (same task; a new network has none).
    ...(outcome.postprocessing ? { postprocessing: outcome.postprocessing.postprocessing } : base.card?.postprocessing ? { postprocessing: base.card.postprocessing } : {}),
    ...opts.cardExtras,
  };
}

/**
 * Whether the new version becomes active: always, never, or (default 'if-better') when its Dice
 * is at least the starting model's, whole-volume when both ran, else on the fixed patches.
 */
export function activatesNewVersion(
  mode: FineTuneOptions['activate'],
  whole: { before: number | null; after: number | null },
  patches: { before: number; after: number },
): boolean {
  const m = mode ?? 'if-better';
  if (m === 'always') return true;
  if (m !== 'if-better') return false;
  return whole.before === null || whole.after === null ? patches.after >= patches.before : whole.after >= whole.before;
}
