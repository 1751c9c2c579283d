// The fine-tune run: starting network, cases, validation before, Adam steps on augmented patches
// under a learning-rate schedule, a time budget, early stopping and cancellation, the best
// weights restored, validation after, and a new model-store version renamed into place only when
// complete (so a cancelled or killed run changes nothing).
import * as tf from '@tensorflow/tfjs';
import { promises as fsp, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { seededRandom } from '../../util/random';
import type { Vec3 } from '../../volume/vec3';
import { brainImagesOf, readCard, type ModelCard } from '../modelStore';
import { seesSkullStrippedOnly } from '../starterChoice';
import type { Preprocessing } from '../preprocess';
import { defaultOverlap } from '../inference';
import { DeepSupervisionLoss, type SegmentationLoss } from '../losses';
import { activatesNewVersion, pairRecords, trainingCard } from './card';
import { prepareCase, splitCases, trainingBatch, type PreparedCase } from './cases';
import {
  checkTrainingOptions,
  TrainingCancelledError,
  TrainingError,
  type FineTuneOptions,
  type FineTuneResult,
  type TrainableNetwork,
  type TrainingProgress,
} from './options';
import { typicalLesionVolumeMm3 } from './lesionScale';
import { candidatesForMasks, choosePostprocessing, predictionsDice, type PostprocessingChoice } from './postprocessingChoice';
import { fixedValidationPatches, improved, planWholeVolumeValidation, validatePatches, wholeVolumePredictions } from './validation';

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

/** Moves each tensor of `average` towards the network's weights: average ← decay · average + (1 − decay) · weights. */
function updateAverage(average: tf.Tensor[], network: TrainableNetwork, decay: number): void {
  allVariables(network).forEach((v, i) => {
    const next = tf.tidy(() => average[i].mul(decay).add(v.mul(1 - decay)));
    average[i].dispose();
    average[i] = tf.keep(next);
  });
}

/** Runs `fn` with the network holding `weights` (when given), then puts its own weights back. */
async function withWeights<T>(network: TrainableNetwork, weights: tf.Tensor[] | null, fn: () => T | Promise<T>): Promise<T> {
  if (!weights) return fn();
  const own = snapshot(network);
  restore(network, weights);
  try {
    return await fn();
  } finally {
    restore(network, own);
    own.forEach((t) => t.dispose());
  }
}

/**
 * The training loss of one batch: with deep-supervision heads, the loss on every scale weighted
 * 1, 1/2, 1/4 (nnU-Net's; the target brought down by nearest neighbour), else the plain loss.
 */
export function trainingLoss(loss: SegmentationLoss, deepLoss: DeepSupervisionLoss<'none' | 'mean'>, y: tf.Tensor, out: tf.Tensor5D | tf.Tensor5D[]): tf.Scalar {
  return (Array.isArray(out) ? deepLoss.compute(y, out) : loss.compute(y, out)) as tf.Scalar;
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
  const checked = checkTrainingOptions(opts);
  const { budgetS, maxSteps, batchSize, stepsPerEpoch, patience, learningRate, loss } = checked;
  const isNew = 'newNetwork' in opts;
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
    patchSizeVoxels = opts.configuration?.patchSizeVoxels ?? baseCard.patchSizeVoxels;
    preprocessing = opts.configuration?.preprocessing ?? baseCard.preprocessing;
    // A card's threshold suits its network's probabilities on its own grid and intensities; on another
    // configuration (re-planned) the weights are retrained from a new start and 0.5 applies again.
    if (opts.configuration && baseCard.postprocessing?.threshold !== undefined) {
      const { threshold: _dropped, ...rest } = baseCard.postprocessing;
      baseCard = { ...baseCard, postprocessing: rest };
    }
  }
  const patchSize = opts.patchSize ?? patchSizeVoxels;
  const random = seededRandom(checked.seed);
  // Validation comes from the model's own modality; pooled pairs only add training patches.
  const ownIndices = opts.pairs.flatMap((p, i) => (p.pooledModality === undefined ? [i] : []));
  const ownSplit = splitCases(ownIndices.length, random, opts.holdOut ?? true);
  const split = {
    train: [...ownSplit.train.map((i) => ownIndices[i]), ...opts.pairs.flatMap((p, i) => (p.pooledModality === undefined ? [] : [i]))],
    validation: ownSplit.validation.map((i) => ownIndices[i]),
    heldOut: ownSplit.heldOut,
  };
  const wholeVolumeAsked = opts.wholeVolumeValidation ?? true;
  const stripSkull = baseCard !== null && seesSkullStrippedOnly(brainImagesOf(baseCard));
  // Validation runs the windows as Segment Lesion will run this network.
  const overlap = defaultOverlap(opts.networks.configOf(network).normalization !== 'instance');
  const cases: PreparedCase[] = [];
  try {
    for (let i = 0; i < opts.pairs.length; i++) {
      cases.push(await prepareCase(opts.pairs[i], preprocessing, wholeVolumeAsked && split.validation.includes(i), { stripSkull }));
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
  const fixedPatches = fixedValidationPatches(valCases, checked.validationPatchesPerCase, patchSize, seededRandom(checked.seed + 7919));

  // Whole-volume validation counts in the budget: estimate it from one window's time.
  let wholeVolume = wholeVolumeAsked;
  let wholeVolumeSkipped: string | null = null;
  if (wholeVolume) {
    const plan = planWholeVolumeValidation(network, valCases, patchSizeVoxels, overlap, () => budgetS - elapsedS());
    wholeVolume = plan.run;
    wholeVolumeSkipped = plan.skipped;
  }

  const pending = await opts.store.beginVersion();
  // The best weights so far, and the moving average of the weights (option weightAverageDecay).
  const best: { weights: tf.Tensor[] | null; average: tf.Tensor[] | null } = { weights: null, average: null };
  const optimizer = tf.train.adam(learningRate);
  const setLearningRate = (lr: number): void => {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };
  const losses: number[] = [];
  const deepLoss = new DeepSupervisionLoss({ loss });
  try {
    const report = (p: Omit<TrainingProgress, 'elapsedS'>): void => opts.onProgress?.({ ...p, elapsedS: elapsedS() });
    const checkCancel = (): void => {
      if (opts.signal?.aborted) throw new TrainingCancelledError();
    };
    report({ step: 0, epoch: 0, loss: NaN, valDice: null, phase: 'validating-before' });
    const tWhole = Date.now();
    // Each version is scored as it would segment: the base with its card's post-processing, the
    // new version with the one chosen for it below (a base that keeps the largest lesion scored
    // 0.900 on a validation tumour whose raw 0.690 made a fine-tuned 0.667 look merely worse).
    const diceBefore = wholeVolume ? predictionsDice(await wholeVolumePredictions(network, valCases, patchSizeVoxels, preprocessing, overlap, opts.signal), baseCard?.postprocessing) : null;
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
    // For another kind of lesion than the base's, the base's score on the validation patches is
    // not a candidate: it is chance overlap, and with one validation case it could keep the base's
    // weights through noise alone. The best weights are then chosen among the trained ones; the
    // version is still activated only when its whole-volume Dice is at least the base's.
    let bestValidation = opts.newLesionType || opts.baseCompetes === false ? { dice: -Infinity, loss: Infinity } : validationBefore;
    best.weights = snapshot(network);
    // The average is validated and kept instead of the last weights.
    const average = (best.average = checked.weightAverageDecay > 0 ? snapshot(network) : null);
    let sinceBest = 0;
    let step = 0;
    let lastValDice: number | null = patchDiceBefore;
    let stoppedBecause = 'steps';
    const tTrain = elapsedS();
    const trainBudgetS = Math.max(1e-3, budgetS - reserveS - tTrain);
    const budgetFraction = (): number => Math.max(Number.isFinite(maxSteps) ? step / maxSteps : 0, (elapsedS() - tTrain) / trainBudgetS);
    const warmupSteps = Math.max(1, Math.min(50, Math.round(0.05 * (Number.isFinite(maxSteps) ? maxSteps : 1000))));
    const sampling = { patchSize, batchSize, augmentation: opts.augmentation, foregroundFraction: opts.foregroundFraction };
    for (;;) {
      checkCancel();
      if (step >= maxSteps) break;
      const validatesNext = (step + 1) % stepsPerEpoch === 0;
      if (elapsedS() + reserveS + stepTimeS * 1.2 + (validatesNext ? patchValS : 0) > budgetS) {
        stoppedBecause = 'time budget';
        break;
      }
      setLearningRate(learningRate * scheduleFactor(checked.lrSchedule, step, warmupSteps, budgetFraction()));
      const ts = Date.now();
      const { x, y } = trainingBatch(trainCases, random, sampling);
      const cost = optimizer.minimize(() => trainingLoss(loss, deepLoss, y, network.apply(x, { training: true })), true, network.trainableVariables);
      const lossValue = cost ? (await cost.data())[0] : NaN;
      cost?.dispose();
      x.dispose();
      y.dispose();
      if (!Number.isFinite(lossValue)) throw new TrainingError(`the loss became ${lossValue} at step ${step + 1}; try a lower learning rate (now ${learningRate})`);
      losses.push(lossValue);
      step++;
      if (average) updateAverage(average, network, Math.min(checked.weightAverageDecay, (1 + step) / (10 + step)));
      const took = (Date.now() - ts) / 1000;
      // The first step also warms the kernels up: take the larger of it and the estimate.
      stepTimeS = stepMeasured ? 0.8 * stepTimeS + 0.2 * took : Math.max(took, stepTimeS);
      stepMeasured = true;
      const epoch = Math.floor(step / stepsPerEpoch);
      if (step % stepsPerEpoch === 0) {
        const tv = Date.now();
        const validation = await withWeights(network, average, () => validatePatches(network, loss, fixedPatches, patchSize));
        lastValDice = validation.dice;
        let stop = false;
        if (improved(validation, bestValidation)) {
          bestValidation = validation;
          sinceBest = 0;
          best.weights.forEach((t) => t.dispose());
          best.weights = average ? average.map((t) => tf.keep(t.clone())) : snapshot(network);
          await withWeights(network, average, () => saveNetworkAtomically(network, join(pending.dir, 'checkpoint')));
        } else if (++sinceBest >= patience && budgetFraction() >= checked.minBudgetFractionBeforeEarlyStop) {
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
    else if (average) restore(network, average);
    const patchDiceAfter = validatedSinceStart ? bestValidation.dice : validatePatches(network, loss, fixedPatches, patchSize).dice;
    report({ step, epoch: Math.floor(step / stepsPerEpoch), loss: losses.at(-1) ?? NaN, valDice: patchDiceAfter, phase: 'validating-after' });
    let diceAfter: number | null = null;
    let postprocessing: PostprocessingChoice | null = null;
    if (wholeVolume) {
      if (elapsedS() + wholeS * 1.1 + saveS <= budgetS) {
        const predictions = await wholeVolumePredictions(network, valCases, patchSizeVoxels, preprocessing, overlap, opts.signal);
        const { allowed, notTried } = candidatesForMasks(trainCases);
        postprocessing = choosePostprocessing(predictions, allowed, baseCard?.postprocessing, notTried);
        diceAfter = predictionsDice(predictions, postprocessing.postprocessing);
      } else {
        wholeVolumeSkipped = `whole-volume validation after training was skipped: it took ${wholeS.toFixed(1)} s before and only ${(budgetS - elapsedS()).toFixed(1)} s of the budget were left; the fixed validation patches decide instead`;
      }
    }
    checkCancel();
    report({ step, epoch: Math.floor(step / stepsPerEpoch), loss: losses.at(-1) ?? NaN, valDice: patchDiceAfter, phase: 'saving' });
    await network.save(pending.dir);
    await fsp.rm(join(pending.dir, 'checkpoint'), { recursive: true, force: true });
    const pairs = await pairRecords(opts.pairs);
    const durationS = elapsedS();
    const validationImages = valCases.map((c) => c.pair.imagePath);
    const card = trainingCard(
      opts,
      checked,
      { card: baseCard, patchSizeVoxels, preprocessing, network: opts.networks.configOf(network) },
      {
        pairs,
        validationImages,
        validationHeldOut: split.heldOut,
        patchSize,
        steps: step,
        stoppedBecause,
        durationS,
        diceBefore,
        diceAfter,
        wholeVolumeSkipped,
        postprocessing,
        typicalLesionMm3: typicalLesionVolumeMm3(cases),
        brainImages: {
          skullStripped: cases.filter((c) => c.brainImage === 'skull-stripped').length,
          withSkull: cases.filter((c) => c.brainImage === 'with skull').length,
        },
      },
    );
    const activate = activatesNewVersion(opts.activate, { before: diceBefore, after: diceAfter }, { before: patchDiceBefore, after: patchDiceAfter });
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
      postprocessing,
    };
  } catch (e) {
    await pending.abandon();
    if (opts.signal?.aborted && !(e instanceof TrainingCancelledError)) throw new TrainingCancelledError();
    throw e;
  } finally {
    best.weights?.forEach((t) => t.dispose());
    best.average?.forEach((t) => t.dispose());
    optimizer.dispose();
    network.dispose();
  }
}
