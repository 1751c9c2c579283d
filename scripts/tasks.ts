// The lesion-segmentation tasks we have permissive data for, their fixed training / held-out
// splits, and the training recipe shared by `npm run train:starter`, the ablations and `npm run eval`.
import { existsSync, mkdtempSync, promises as fsp, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { readNifti } from '../src/nifti';
import { autoConfigure, type AutoConfigOptions, type AutoConfiguration } from '../src/ml/autoConfig';
import { loadSegmentationModel, segmentVolume, unetNetworks, type SegmentationModel } from '../src/ml/inference';
import { hausdorff95, lesionWiseF1, overlapScores } from '../src/ml/metrics';
import { ModelStore } from '../src/ml/modelStore';
import { fineTune, recipeNetworkConfig, recipeTrainingOptions, type FineTuneOptions, type FineTuneResult, type Recipe, type TrainingPair } from '../src/ml/training';
import type { Modality } from '../src/ml/preprocess';

export const ROOT = resolve(__dirname, '..');
export const DATA_ROOT = resolve(ROOT, '../shared/data/lesion');
const SARCOMA = join(DATA_ROOT, 'sarcoma-ct-mr-pet');
const MS = join(DATA_ROOT, 'ms-flair-mni');
export const FLAIR = 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz';
export const MS_MASK = 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz';

export const TASK_NAMES = ['sarcoma-ct', 'sarcoma-mr-t1', 'sarcoma-pet', 'ms-flair', 'brain-tumour-flair'] as const;
export type TaskName = (typeof TASK_NAMES)[number];
/** The tasks on ../shared/data alone (`npm run eval` without --tasks); brain-tumour-flair needs generated cases. */
export const SHARED_DATA_TASKS: readonly TaskName[] = ['sarcoma-ct', 'sarcoma-mr-t1', 'sarcoma-pet', 'ms-flair'];

export const MS_ATTRIBUTION =
  'Trained on the 3D MR image database of Multiple Sclerosis patients with white matter lesion segmentations ' +
  '(Lesjak, Pernuš, Likar, Špiclin, "A Novel Public MR Image Dataset of Multiple Sclerosis Patients With Lesion ' +
  'Segmentations Based on Multi-rater Consensus", Neuroinformatics 2017, DOI 10.1007/s12021-017-9348-7), CC-BY, ' +
  'MNI-registered FLAIR and consensus masks via github.com/muschellij2/open_ms_data (J. Muschelli).';
export const SARCOMA_ATTRIBUTION =
  'Trained on the Soft-tissue Sarcoma collection (Vallières et al. 2015, TCIA DOI 10.7937/K9/TCIA.2015.7GO2GSKS; ' +
  'Phys Med Biol 60:5471; Clark et al. 2013, TCIA), CC BY 3.0, as prepared by A. Zwanenburg for MIRP and the IBSI ' +
  'validation set (Zwanenburg et al., "The Image Biomarker Standardization Initiative", Radiology 295:328, 2020): ' +
  'SUV for PET, N4 and fat-based normalisation for MR, GTV_Mass contour, images cropped 5 cm around the tumour.';

export const SYNTHETIC_TUMOUR_ATTRIBUTION =
  'Synthetic whole brain tumours (scripts/synthetic-brain-tumours.py) put into the MS FLAIR brains above; white matter ' +
  'from mni152_pveseg.nii.gz of the NiiVue repository (github.com/niivue/niivue, packages/niivue/demos/images; BSD-2-Clause, ' +
  'no separate licence stated for the image). No real brain tumour was seen in training or in the held-out figures.';

/**
 * The synthetic brain-tumour cases: DIR/train/caseNN (scripts/synthetic-brain-tumours.py
 * --white-matter-oedema --patients patient19,patient26 …) and DIR/held-out/case01–04 (the default
 * generator's four tumours in patient07's brain, which training never sees).
 */
function syntheticTumourPairs(dir: string | undefined, part: 'train' | 'held-out', only?: string[]): TrainingPair[] {
  if (!dir) throw new Error('brain-tumour-flair needs --synthetic-tumours DIR (DIR/train and DIR/held-out from scripts/synthetic-brain-tumours.py)');
  const root = join(resolve(dir), part);
  if (!existsSync(root)) throw new Error(`${root} does not exist: generate it with scripts/synthetic-brain-tumours.py`);
  const cases = (only ?? readdirSync(root).filter((c) => /^case\d+$/.test(c)).sort()).filter((c) => existsSync(join(root, c, 'image.nii.gz')));
  return cases.map((c) => ({ imagePath: join(root, c, 'image.nii.gz'), maskPath: join(root, c, 'mask.nii.gz') }));
}

/**
 * A data path as a card records it (the card must not carry this machine's layout): relative to
 * ../shared/data/lesion, or for generated cases to the --synthetic-tumours folder, as
 * `synthetic-brain-tumours/train/case01/image.nii.gz`.
 */
export function portableDataPath(path: string): string {
  const synthetic = arg('synthetic-tumours');
  if (synthetic) {
    const rel = relative(resolve(synthetic), path);
    if (!rel.startsWith('..') && !isAbsolute(rel)) return join('synthetic-brain-tumours', rel);
  }
  return relative(DATA_ROOT, path);
}

/** A task: modality, data, fixed split, and the configuration budgets. */
export interface Task {
  name: TaskName;
  modality: Modality;
  description: string;
  train: TrainingPair[];
  heldOut: TrainingPair[];
  attribution: string;
  plan: AutoConfigOptions;
  /** Changes to the default recipe for this task. */
  recipe?: Partial<Recipe>;
  /** Inference window when it differs from the training patch (needs batch norm or none). */
  inferencePatchSizeVoxels?: [number, number, number];
}

/** `STS_0NN` of a sarcoma image path, or the MS patient folder. */
export function caseName(imagePath: string): string {
  const parts = imagePath.split(/[\\/]/);
  return parts.find((p) => /^STS_\d+$/.test(p) || /^patient\d+$/.test(p) || /^case\d+$/.test(p)) ?? parts.at(-1)!;
}

function sarcomaPairs(folder: string, from: number, to: number): TrainingPair[] {
  const out: TrainingPair[] = [];
  for (let i = from; i <= to; i++) {
    const d = join(SARCOMA, `STS_${String(i).padStart(3, '0')}`, folder);
    if (existsSync(join(d, 'image.nii.gz'))) out.push({ imagePath: join(d, 'image.nii.gz'), maskPath: join(d, 'mask.nii.gz') });
  }
  return out;
}

const msPair = (p: string): TrainingPair => ({ imagePath: join(MS, p, FLAIR), maskPath: join(MS, p, MS_MASK) });

/** Held out for the figures: STS_031..STS_040 (sarcoma) and patient07 (MS); training on the rest. */
export function task(name: TaskName): Task {
  const sarcoma = (folder: string, modality: Modality, what: string, plan: AutoConfigOptions): Task => ({
    name,
    modality,
    description: `soft-tissue sarcoma (GTV) on ${what}, images cropped 5 cm around the tumour`,
    train: sarcomaPairs(folder, 1, 30),
    heldOut: sarcomaPairs(folder, 31, 40),
    attribution: SARCOMA_ATTRIBUTION,
    plan,
  });
  switch (name) {
    case 'sarcoma-ct':
      return sarcoma('CT', 'CT', 'CT', {});
    case 'sarcoma-mr-t1':
      return sarcoma('MR_T1', 'MR', 'MR T1', {});
    case 'sarcoma-pet':
      return sarcoma('PET', 'PET', 'FDG-PET (SUV)', {});
    case 'ms-flair':
      return {
        name,
        modality: 'MR',
        description: 'multiple-sclerosis white-matter lesions on skull-stripped, MNI-registered FLAIR at 1 mm',
        train: ['patient19', 'patient26'].map(msPair),
        heldOut: ['patient07'].map(msPair),
        attribution: MS_ATTRIBUTION,
        // Lesions of a few voxels: keep 1 mm (the median spacing). Segment Lesion must stay
        // within 20 s on a 240×240×155 brain with flip TTA, which 1 mm windows of 48³ do not
        // allow: train on 32³ patches with batch norm (window-size independent at inference)
        // and infer on 96³ windows, as the first starter did.
        plan: { caseVoxelBudget: 8_000_000, patchVoxelBudget: 32 * 32 * 32 },
        recipe: { normalization: 'batch', baseFilters: 4, learningRate: 1e-2, batchSize: 4 },
        inferencePatchSizeVoxels: [96, 96, 96],
      };
    case 'brain-tumour-flair':
      return {
        name,
        modality: 'MR',
        description: 'whole brain tumours (oedema, core and necrosis) on skull-stripped FLAIR at 1 mm; trained and held out on synthetic tumours in real FLAIR brains',
        train: syntheticTumourPairs(arg('synthetic-tumours'), 'train'),
        heldOut: syntheticTumourPairs(arg('synthetic-tumours'), 'held-out', ['case01', 'case02', 'case03', 'case04']),
        attribution: `${MS_ATTRIBUTION} ${SYNTHETIC_TUMOUR_ATTRIBUTION}`,
        // Whole tumours are 20–240 cm³: a 2 mm grid (the whole brain in about 10⁶ voxels) keeps
        // their outline and lets one patch hold most of a tumour.
        plan: { caseVoxelBudget: 1_000_000 },
      };
  }
}

/**
 * The same training patients' images of the task's other modalities (sarcoma: CT, MR T1 and PET
 * of STS_001–030), pooled in for training patches only, each normalised as its own modality.
 */
export function pooledModalityPairs(name: TaskName): TrainingPair[] {
  const sarcomaTasks: TaskName[] = ['sarcoma-ct', 'sarcoma-mr-t1', 'sarcoma-pet'];
  if (!sarcomaTasks.includes(name)) throw new Error(`pooling modalities needs a sarcoma task, got ${name}`);
  return pooledTaskPairs(name, sarcomaTasks.filter((t) => t !== name));
}

/**
 * The training pairs of other tasks (their training split only, never their held-out cases),
 * pooled in for training patches only, each normalised as its own modality: a prior over several
 * lesion types (`npm run train:starter -- --pool-tasks sarcoma-pet,ms-flair`).
 */
export function pooledTaskPairs(name: TaskName, others: string[]): TrainingPair[] {
  return others.flatMap((other) => {
    if (!TASK_NAMES.includes(other as TaskName)) throw new Error(`--pool-tasks: unknown task ${other}; known: ${TASK_NAMES.join(', ')}`);
    if (other === name) throw new Error(`--pool-tasks: ${other} is the task being trained`);
    const t = task(other as TaskName);
    return t.train.map((p) => ({ ...p, pooledModality: t.modality }));
  });
}

// The recipe lives in src/ml/training/recipe.ts (fine-tuning trains a new network with it too).
export { DEFAULT_RECIPE, STRONG_AUGMENTATION, type Recipe } from '../src/ml/training';

/** Per-case and pooled held-out scores. */
export interface HeldOutScores {
  rows: { case: string; dice: number; precision: number; recall: number; seconds: number }[];
  meanDice: number;
  meanPrecision: number;
  meanRecall: number;
}

/** Every figure `npm run eval` reports for one case. */
export interface CaseScores {
  case: string;
  dice: number;
  precision: number;
  recall: number;
  f1: number;
  hd95: number | null;
  s: number;
}

/** Segments one case (flip TTA as given) and scores it against its mask. */
export async function scoreCase(model: SegmentationModel, p: TrainingPair, flips: number[][]): Promise<CaseScores> {
  const image = await readNifti(p.imagePath);
  const mask = await readNifti(p.maskPath);
  const t0 = Date.now();
  const seg = await segmentVolume(image, model, { ttaFlips: flips });
  const s = (Date.now() - t0) / 1000;
  const o = overlapScores(seg.labels, mask.data);
  const f = lesionWiseF1(seg.labels, mask.data, mask.dims);
  const hd95 = hausdorff95(seg.labels, mask.data, mask.dims, mask.spacingMm);
  return { case: caseName(p.imagePath), dice: o.dice, precision: o.precision ?? 0, recall: o.recall ?? 0, f1: f.f1, hd95, s };
}

/**
 * Leave-one-out over every case of a task (train and held out): for each case a network of the
 * recipe is trained from scratch on all the others (none held out from the optimiser: the
 * validation patches come from them and only pick the best weights) within `minutesPerFold`,
 * then scored on that case.
 */
export async function leaveOneOutScores(
  t: Task,
  recipe: Recipe,
  minutesPerFold: number,
  flips: number[][],
  onFold?: (scores: CaseScores, trainedOn: string[], result: FineTuneResult) => void,
): Promise<CaseScores[]> {
  const all = [...t.train, ...t.heldOut];
  if (all.length > 6) throw new Error(`leave-one-out trains one network per case: ${t.name} has ${all.length} cases; use the fixed held-out split`);
  const rows: CaseScores[] = [];
  for (const left of all) {
    const fold = { ...t, train: all.filter((p) => p !== left), heldOut: [left] };
    const { result, store } = await trainTask(fold, recipe, { minutes: minutesPerFold }, { holdOut: false, wholeVolumeValidation: false });
    const model = await loadSegmentationModel(result.version.dir);
    rows.push(await scoreCase(model, left, flips));
    model.network.dispose();
    await removeStore(store);
    onFold?.(rows.at(-1)!, fold.train.map((p) => caseName(p.imagePath)), result);
  }
  return rows;
}

/** Per-case rows and their means, from the scores of {@link scoreCase}. */
export function summariseScores(scores: readonly CaseScores[]): HeldOutScores {
  const rows = scores.map((r) => ({ case: r.case, dice: r.dice, precision: r.precision, recall: r.recall, seconds: r.s }));
  const mean = (f: (r: HeldOutScores['rows'][number]) => number): number => rows.reduce((a, r) => a + f(r), 0) / Math.max(1, rows.length);
  return { rows, meanDice: mean((r) => r.dice), meanPrecision: mean((r) => r.precision), meanRecall: mean((r) => r.recall) };
}

/** Segments each held-out case (flip TTA as given) and scores it against its mask. */
export async function scoreHeldOut(model: SegmentationModel, pairs: TrainingPair[], ttaFlips: number[][] = [[]]): Promise<HeldOutScores> {
  const scores: CaseScores[] = [];
  for (const p of pairs) scores.push(await scoreCase(model, p, ttaFlips));
  return summariseScores(scores);
}

/** Trains a new network for a task with a recipe; returns the run, its configuration and store. */
export async function trainTask(
  t: Task,
  recipe: Recipe,
  budget: { minutes: number; steps?: number },
  extra: Partial<FineTuneOptions> = {},
  from?: { resume: string } | { initWeights: string },
): Promise<{ result: FineTuneResult; config: AutoConfiguration; store: ModelStore }> {
  const config = await autoConfigure(t.train.filter((p) => p.pooledModality === undefined), {
    ...t.plan,
    levels: recipe.levels,
    modality: t.modality,
    ...(recipe.caseVoxelBudget ? { caseVoxelBudget: recipe.caseVoxelBudget } : {}),
    ...(recipe.patchVoxelBudget ? { patchVoxelBudget: recipe.patchVoxelBudget } : {}),
    ...(recipe.ctClipHu ? { ctClipHu: recipe.ctClipHu } : {}),
  });
  const store = new ModelStore(mkdtempSync(join(tmpdir(), `lesion-lab-${t.name}-`)));
  // Resuming keeps the model's own configuration (its card's patch and preprocessing): weights
  // trained on one grid and normalisation are only worth continuing on that grid. Initial weights
  // from another model (the same lesion on another modality) go on the task's own configuration.
  const patchSizeVoxels = t.inferencePatchSizeVoxels ?? config.patchSizeVoxels;
  const resumeFrom = from && 'resume' in from ? from.resume : undefined;
  const start = resumeFrom
    ? { baseModelDir: resumeFrom }
    : from && 'initWeights' in from
      ? { baseModelDir: from.initWeights, configuration: { patchSizeVoxels, preprocessing: config.preprocessing } }
      : {
        newNetwork: {
          config: recipeNetworkConfig(recipe),
          patchSizeVoxels,
          preprocessing: config.preprocessing,
        },
      };
  const result = await fineTune({
    ...start,
    networks: unetNetworks,
    pairs: t.train,
    store,
    minutes: budget.minutes,
    steps: budget.steps,
    ...recipeTrainingOptions(recipe),
    ...(resumeFrom ? {} : { patchSize: config.patchSizeVoxels }),
    activate: 'always',
    parentVersion: null,
    ...extra,
  });
  return { result, config, store };
}

export async function removeStore(store: ModelStore): Promise<void> {
  await fsp.rm(store.root, { recursive: true, force: true });
}

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
