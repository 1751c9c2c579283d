// `npm run train:starter -- --task sarcoma-ct|sarcoma-mr-t1|sarcoma-pet|ms-flair|brain-tumour-flair [--minutes M]
// [--steps N] [--out DIR] [--backend wasm|cpu] [--threads N] [--resume DIR | --init-weights DIR] [--lr LR] [--base-filters N] [--case-voxels N] [--augment strong] [--thick-slices P] [--no-deep-supervision] [--weight-average DECAY] [--seed N] [--all-cases --loo-minutes M] [--pool-modalities] [--pool-tasks T,…] [--train-patients N] [--train-on-held-out CASES] [--name NAME]`: trains the
// starter model of a task from scratch (or, with --resume, continues from a model of that task;
// with --init-weights, starts from another model's weights, e.g. the same lesion on another
// modality, on the task's own configuration)
// with the recipe of scripts/tasks.ts (automatic configuration from the training cases), scores
// it on the task's fixed held-out cases (with the flip test-time augmentation Segment Lesion
// uses), and writes model.json, weights.bin and card.json (task, modality, training cases,
// held-out figures, attribution) into media/models/<task>/ (or --out).
//
// `--weight-average DECAY` validates and keeps the moving average of the weights (fineTune's
// weightAverageDecay; an ablation, docs/training-recipe.md).
//
// `--thick-slices P` makes a share P of the training patches look scanned in slices 1.5–3.2 voxels
// of the working grid thick, along a random axis (3–6.3 mm on the brain-tumour starter's 1.96 mm
// grid: clinical 2-D FLAIR), as inference sees such a scan (src/ml/patchSampler.ts
// simulateThickSlices). With --resume the resumed weights are then not a candidate for the best:
// the validation patches are the cases as stored and cannot show what thick slices teach.
//
// `--case-voxels N` changes the automatic configuration's budget for the median case at the
// working spacing (default 160 000): larger gives a finer grid.
//
// `--all-cases --loo-minutes M` is for a task with too few cases to spare any (ms-flair: three):
// it first runs leave-one-out with the same recipe, M minutes per fold (the card's figures), then
// trains the starter on every case (none held out from the optimiser either).
//
// `--pool-modalities` (sarcoma tasks) adds the training patients' images of the other two
// modalities as training patches, each normalised as its own modality; validation, the
// configuration and the card's preprocessing stay the task's own. `--pool-tasks T,…` adds the
// training cases of other tasks the same way (a prior over several lesion types; `--name
// lesion-prior` names its card).
//
// `--train-patients N` keeps only the first N training cases of the split (a learning curve: how
// held-out Dice grows with the number of training patients; the held-out cases stay the same).
//
// `--train-on-held-out STS_031,…` moves those held-out cases into training (validation is still
// drawn from all training cases) and scores the rest: a cross-validation over the held-out
// patients (does a starter gain from more patients?).
//
// `--task ms-flair --out media/models/starter` keeps the historical folder name.
//
// `--task brain-tumour-flair --synthetic-tumours DIR` trains on generated cases (we have no
// brain-tumour data): DIR/train from scripts/synthetic-brain-tumours.py --white-matter-oedema
// --patients patient19,patient26, DIR/held-out from its default mode (patient07's brain).
import { promises as fsp, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { initBackend } from '../src/ml/backend';
import { DEFAULT_TTA_FLIPS, loadSegmentationModel } from '../src/ml/inference';
import { readCard, writeCard, type ModelCard } from '../src/ml/modelStore';
import { arg, caseName, portableDataPath, pooledModalityPairs, pooledTaskPairs, DEFAULT_RECIPE, STRONG_AUGMENTATION, leaveOneOutScores, removeStore, ROOT, scoreHeldOut, summariseScores, task, TASK_NAMES, trainTask, type Task, type TaskName } from './tasks';
import type { TrainingPair } from '../src/ml/training';
import type { ThickSliceAugmentation } from '../src/ml/patchSampler';

// Kept for scripts/eval.ts and older callers.
export { MS_ATTRIBUTION as STARTER_ATTRIBUTION } from './tasks';

async function main(): Promise<void> {
  const name = (arg('task') ?? 'ms-flair') as TaskName;
  // The card's version and task name (default the task's): e.g. lesion-prior for a prior pooled over tasks.
  const cardName = arg('name') ?? name;
  const pooledTasks = arg('pool-tasks')?.split(',') ?? [];
  if (!TASK_NAMES.includes(name)) throw new Error(`--task must be one of ${TASK_NAMES.join(', ')}, got ${name}`);
  const allCases = process.argv.includes('--all-cases');
  const fixedSplit = task(name);
  const trainPatients = arg('train-patients') === undefined ? undefined : Number(arg('train-patients'));
  if (trainPatients !== undefined && !(Number.isInteger(trainPatients) && trainPatients >= 2 && trainPatients <= fixedSplit.train.length)) {
    throw new Error(`--train-patients must be an integer from 2 to ${fixedSplit.train.length} (the task's training cases), got ${arg('train-patients')}`);
  }
  if (trainPatients !== undefined && allCases) throw new Error('--train-patients and --all-cases exclude each other');
  const moved = heldOutToTrain(fixedSplit, arg('train-on-held-out'));
  if (moved.length > 0 && (allCases || trainPatients !== undefined)) throw new Error('--train-on-held-out excludes --all-cases and --train-patients');
  const split = allCases
    ? { ...fixedSplit, train: [...fixedSplit.train, ...fixedSplit.heldOut], heldOut: [] }
    : { ...fixedSplit, train: [...fixedSplit.train.slice(0, trainPatients), ...moved], heldOut: fixedSplit.heldOut.filter((p) => !moved.includes(p)) };
  const pooled = [
    ...(process.argv.includes('--pool-modalities') ? pooledModalityPairs(name) : []),
    ...pooledTaskPairs(name, pooledTasks),
  ];
  const t = { ...split, train: [...split.train, ...pooled] };
  const minutes = Number(arg('minutes') ?? 15);
  const steps = arg('steps') === undefined ? undefined : Number(arg('steps'));
  const out = resolve(arg('out') ?? join(ROOT, 'media/models', name));
  const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
  const resume = arg('resume') === undefined ? undefined : resolve(arg('resume')!);
  const initWeights = arg('init-weights') === undefined ? undefined : resolve(arg('init-weights')!);
  if (resume && initWeights) throw new Error('--resume and --init-weights exclude each other');
  const backend = await initBackend({ preferred: (arg('backend') as 'wasm' | 'cpu' | undefined) ?? 'auto', ...(threads ? { wasmThreads: threads } : {}) });
  console.log(`backend: ${backend.name} (${backend.reason})`);
  for (const c of [...t.train, ...t.heldOut]) if (!existsSync(c.imagePath)) throw new Error(`${c.imagePath} is missing: the shared data folder is needed`);
  if (pooled.length > 0) console.log(`pooling ${pooled.length} training images of other modalities or tasks (training patches only)`);
  console.log(`${name}: ${t.train.length - pooled.length} training cases, ${t.heldOut.length} held out (${t.heldOut.map((p) => caseName(p.imagePath)).join(', ')})`);
  const recipe = {
    ...DEFAULT_RECIPE,
    ...t.recipe,
    ...(arg('lr') === undefined ? {} : { learningRate: Number(arg('lr')) }),
    ...(arg('case-voxels') === undefined ? {} : { caseVoxelBudget: Number(arg('case-voxels')) }),
    ...(arg('base-filters') === undefined ? {} : { baseFilters: Number(arg('base-filters')) }),
    ...(arg('augment') === 'strong' || arg('thick-slices') !== undefined
      ? { augmentation: { ...(arg('augment') === 'strong' ? STRONG_AUGMENTATION : {}), ...(arg('thick-slices') === undefined ? {} : { thickSlices: thickSliceAugmentation(Number(arg('thick-slices'))) }) } }
      : {}),
    ...(process.argv.includes('--no-deep-supervision') ? { deepSupervision: false } : {}),
    ...(arg('weight-average') === undefined ? {} : { weightAverageDecay: Number(arg('weight-average')) }),
    ...(arg('seed') === undefined ? {} : { seed: Number(arg('seed')) }),
  };
  if (!Number.isInteger(recipe.seed)) throw new Error(`--seed must be an integer, got ${arg('seed')}`);
  if (arg('augment') !== undefined && arg('augment') !== 'strong') throw new Error(`--augment takes 'strong', got ${arg('augment')}`);
  if (!Number.isInteger(recipe.baseFilters) || recipe.baseFilters < 1) throw new Error(`--base-filters must be a positive integer, got ${arg('base-filters')}`);
  if (resume && arg('base-filters') !== undefined) throw new Error('--resume keeps the resumed model\'s network: --base-filters does not apply');
  if (recipe.caseVoxelBudget !== undefined && !(recipe.caseVoxelBudget >= 10_000)) throw new Error(`--case-voxels must be a number ≥ 10000, got ${arg('case-voxels')}`);
  if (resume) console.log(`resuming from ${relative(ROOT, resume)} (its patch size and preprocessing), learning rate ${recipe.learningRate}`);
  if (initWeights) console.log(`initial weights from ${relative(ROOT, initWeights)} on the task's own configuration, learning rate ${recipe.learningRate}`);
  const looMinutes = Number(arg('loo-minutes'));
  if (allCases && !(looMinutes > 0)) throw new Error('--all-cases needs --loo-minutes M: the leave-one-out run that gives the card its figures');
  const loo = allCases
    ? await leaveOneOutScores(fixedSplit, recipe, looMinutes, DEFAULT_TTA_FLIPS, (r, trainedOn, fold) =>
        console.log(`leave-one-out ${r.case}: Dice ${r.dice.toFixed(3)} precision ${r.precision.toFixed(3)} recall ${r.recall.toFixed(3)} (trained on ${trainedOn.join(' + ')}, ${fold.steps} steps)`),
      )
    : null;
  const t0 = Date.now();
  let lastLog = 0;
  const { result, config, store } = await trainTask(t, recipe, { minutes, steps }, {
    backend: `${backend.name} (${backend.threads} thread${backend.threads > 1 ? 's' : ''})`,
    ...(allCases ? { holdOut: false, wholeVolumeValidation: false } : {}),
    // The validation patches are the cases as stored, so the resumed starter would win every comparison.
    ...(resume && arg('thick-slices') !== undefined ? { baseCompetes: false } : {}),
    onProgress: (p) => {
      if (p.phase !== 'training' || Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        console.log(`${p.phase} step ${p.step} epoch ${p.epoch} loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : '-'} valPatchDice ${p.valDice?.toFixed(3) ?? '-'} ${p.elapsedS.toFixed(0)} s`);
      }
    },
  }, resume ? { resume } : initWeights ? { initWeights } : undefined);
  for (const line of config.summary) console.log(`config: ${line}`);
  console.log(
    `${allCases ? 'no case held out from the optimiser' : `validation (${result.validationImages.length} training cases held out from the optimiser): Dice ${result.validationDiceBefore?.toFixed(3)} → ${result.validationDiceAfter?.toFixed(3)}`}; ` +
      `${result.steps} steps, stopped by ${result.stoppedBecause}, ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  const previousSteps = resume ? ((await readCard(resume)).training?.steps ?? '?') : 0;
  const model = await loadSegmentationModel(result.version.dir);
  const scores = loo
    ? summariseScores(loo)
    : await scoreHeldOut(model, t.heldOut, DEFAULT_TTA_FLIPS);
  model.network.dispose();
  for (const r of scores.rows) console.log(`${loo ? 'leave-one-out' : 'held out'} ${r.case}: Dice ${r.dice.toFixed(3)} precision ${r.precision.toFixed(3)} recall ${r.recall.toFixed(3)} (${r.seconds.toFixed(1)} s)`);
  console.log(`${loo ? 'leave-one-out' : 'held-out'} mean Dice ${scores.meanDice.toFixed(3)} precision ${scores.meanPrecision.toFixed(3)} recall ${scores.meanRecall.toFixed(3)}`);
  const heldOutCases = loo ? fixedSplit.train.concat(fixedSplit.heldOut) : t.heldOut;
  await fsp.mkdir(out, { recursive: true });
  for (const f of ['model.json', 'weights.bin']) await fsp.copyFile(join(result.version.dir, f), join(out, f));
  const rel = portableDataPath;
  const training = result.version.card.training!;
  const description = pooledTasks.length
    ? `${t.description}, with the training cases of ${pooledTasks.join(', ')} pooled in (training patches only, each normalised as its own modality)`
    : t.description;
  const card: ModelCard & Record<string, unknown> = {
    ...result.version.card,
    version: cardName,
    parentVersion: null,
    task: { name: cardName, modality: t.modality, description },
    training: {
      ...training,
      pairs: training.pairs.map((p) => ({ ...p, imagePath: rel(p.imagePath), maskPath: rel(p.maskPath) })),
      validationImages: result.validationImages.map(rel),
    },
    autoConfiguration: config.summary,
    heldOut: {
      cases: heldOutCases.map((p) => rel(p.imagePath)),
      ...(loo
        ? { method: `leave-one-out: for each case a network of this recipe trained from scratch on the others for ${looMinutes} min; the shipped model is trained on every case` }
        : {}),
      tta: 'left-right flip (as Segment Lesion)',
      threshold: 0.5,
      meanDice: round(scores.meanDice),
      meanPrecision: round(scores.meanPrecision),
      meanRecall: round(scores.meanRecall),
      perCase: scores.rows.map((r) => ({ case: r.case, dice: round(r.dice), precision: round(r.precision), recall: round(r.recall), seconds: round(r.seconds) })),
    },
    attribution: [...new Set([t.attribution, ...pooledTasks.map((p) => task(p as TaskName).attribution)])].join(' '),
    notes:
      `${pooledTasks.length ? 'Lesion prior' : 'Starter model'} for ${description}. U-Net ${recipe.levels} levels, ${recipe.baseFilters} base filters, ${recipe.normalization} norm, ${recipe.deepSupervision ? 'deep supervision, ' : ''}` +
      `${recipe.augmentation?.thickSlices ? `thick slices (1.5–3.2 voxels) simulated in ${Math.round(recipe.augmentation.thickSlices.probability * 100)} % of patches, ` : ''}` +
      `${resume ? `resumed from the previous ${name} starter (${String(previousSteps)} steps) and trained` : initWeights ? `started from ${(await readCard(initWeights)).version}'s weights and trained` : 'trained from scratch'} for ${result.steps} steps (${(training.durationS / 60).toFixed(1)} min, wasm with ${backend.threads} thread${backend.threads > 1 ? 's' : ''}) on ${t.train.length} cases; ` +
      `${loo ? `leave-one-out mean Dice of the same recipe (${looMinutes} min per fold)` : 'held-out mean Dice'} ${scores.meanDice.toFixed(3)} ` +
      `(precision ${scores.meanPrecision.toFixed(3)}, recall ${scores.meanRecall.toFixed(3)}) on ` +
      `${heldOutCases.map((p) => caseName(p.imagePath)).join(', ')}${loo ? '' : ', which it never saw'}. A demonstration, not a clinical model.`,
  };
  await writeCard(out, card);
  await removeStore(store);
  console.log(`wrote ${relative(ROOT, out)}/ (model.json, weights.bin, card.json)`);
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** `--thick-slices P`: slices of 1.5–3.2 working voxels in a share P of the patches. */
function thickSliceAugmentation(probability: number): ThickSliceAugmentation {
  if (!(probability > 0 && probability <= 1)) throw new Error(`--thick-slices takes a share of patches in (0, 1], got ${probability}`);
  return { probability, minFactor: 1.5, maxFactor: 3.2 };
}

/** The held-out cases that `--train-on-held-out` (names such as STS_031) moves into training. */
function heldOutToTrain(t: Task, value: string | undefined): TrainingPair[] {
  if (value === undefined) return [];
  const names = value.split(',');
  const unknown = names.filter((n) => !t.heldOut.some((p) => caseName(p.imagePath) === n));
  if (unknown.length > 0) throw new Error(`--train-on-held-out: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not among ${t.name}'s held-out cases (${t.heldOut.map((p) => caseName(p.imagePath)).join(', ')})`);
  return t.heldOut.filter((p) => names.includes(caseName(p.imagePath)));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : String(e));
    process.exit(1);
  });
}
