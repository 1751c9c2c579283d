// `npm run experiment:losses [-- --steps N] [--losses a,b] [--folds 1,3] [--quick] [--crop N]
// [--out FILE] [--data DIR] [--backend wasm|cpu]`: "show that the loss matters". Trains the same
// small 3-D U-Net from scratch with each loss (same initial weights, seed, patches and step
// budget) on the MS FLAIR cases of ../shared/data/lesion/ms-flair-mni (Lesjak et al. 2017, CC-BY,
// via open_ms_data), leave-one-out over the three cases, segments each held-out volume as a whole
// (sliding window, lesion probability ≥ 0.5) and writes a markdown table of Dice, precision and
// recall per loss, with the budget used, to docs/loss-comparison.md (atomically).
import { promises as fsp, existsSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../src/ml/backend';
import { segmentVolume, unetNetworks, type SegmentationModel } from '../src/ml/inference';
import { LOSS_NAMES, type LossName } from '../src/ml/losses';
import { overlapScores } from '../src/ml/metrics';
import { ModelStore } from '../src/ml/modelStore';
import { loadUNet3d } from '../src/ml/network';
import { defaultPreprocessing, type Preprocessing } from '../src/ml/preprocess';
import { fineTune, splitCases, type TrainingPair } from '../src/ml/training';
import { readNifti, writeMaskLike, writeVolumeLike, type NiftiImage } from '../src/nifti';
import { writeFileAtomic } from '../src/util/atomicWrite';
import { foregroundIndices } from '../src/ml/patchSampler';
import { seededRandom } from '../src/util/random';
import { cropVolume } from '../src/volume/boxes';
import type { Vec3 } from '../src/volume/vec3';

const ROOT = resolve(__dirname, '..');
export const DEFAULT_DATA_DIR = resolve(ROOT, '../shared/data/lesion/ms-flair-mni');
export const DEFAULT_OUT = join(ROOT, 'docs/loss-comparison.md');
export const CASE_NAMES = ['patient07', 'patient19', 'patient26'] as const;
export const FLAIR_FILE = 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz';
export const MASK_FILE = 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz';

/** The losses compared by default: the paper's baselines and both Unified Focal variants. */
export const COMPARED_LOSSES: readonly LossName[] = [
  'cross-entropy',
  'dice',
  'focal',
  'tversky',
  'focal-tversky',
  'combo',
  'symmetric-unified-focal',
  'asymmetric-unified-focal',
];

/** Short labels for the table. */
const LOSS_LABELS: Partial<Record<LossName, string>> = {
  'cross-entropy': 'Cross entropy (CE)',
  dice: 'Dice',
  focal: 'Focal',
  tversky: 'Tversky',
  'focal-tversky': 'Focal Tversky',
  combo: 'Combo',
  'symmetric-unified-focal': 'Symmetric Unified Focal (sUF)',
  'asymmetric-unified-focal': 'Asymmetric Unified Focal (aUF)',
};

export const DATA_ATTRIBUTION =
  'Data: 3D MR image database of Multiple Sclerosis patients with white matter lesion segmentations ' +
  '(Lesjak, Pernuš, Likar, Špiclin, "A Novel Public MR Image Dataset of Multiple Sclerosis Patients With Lesion ' +
  'Segmentations Based on Multi-rater Consensus", Neuroinformatics 2017, DOI 10.1007/s12021-017-9348-7), CC-BY; ' +
  'MNI-registered FLAIR images and consensus masks of patients 07, 19 and 26 via github.com/muschellij2/open_ms_data.';

/** Error for bad options or unusable data; main prints its message alone. */
export class ExperimentError extends Error {
  override name = 'ExperimentError';
}

/** Everything that defines the training and evaluation budget (identical for every loss). */
export interface ExperimentBudget {
  network: { levels: number; baseFilters: number; normalization: 'batch' | 'instance' | 'none'; deepSupervision: false; seed: number };
  /** Training patch size [x, y, z] in voxels of the working grid. */
  patchSizeVoxels: Vec3;
  /** Sliding-window size for the held-out volume. */
  evalWindowVoxels: Vec3;
  /** Working grid spacing (the engine resamples to it; evaluation is on the source grid). */
  spacingMm: Vec3;
  batchSize: number;
  steps: number;
  learningRate: number;
  /** Fraction of patches centred on a lesion voxel. */
  foregroundFraction: number;
  seed: number;
  threshold: number;
}

/** Default budget: sized so 8 losses × 3 folds take about half an hour on 2 shared cores (wasm). */
export const DEFAULT_BUDGET: ExperimentBudget = {
  network: { levels: 4, baseFilters: 4, normalization: 'batch', deepSupervision: false, seed: 7 },
  // Small patches, larger batch: in trials on fold 3 (Dice loss) the 16³ × 8 setting reached a
  // patch Dice of 0.6 in 100 steps, where 24³ × 4 needed about 280 steps.
  patchSizeVoxels: [16, 16, 16],
  // Windows near the training patch size: one 96×112×96 window over the whole grid scored a
  // whole-volume Dice of 0.18 where 32³ windows scored 0.34 (same model, trained on 16³ patches).
  evalWindowVoxels: [32, 32, 32],
  spacingMm: [2, 2, 2],
  batchSize: 8,
  steps: 100,
  learningRate: 3e-3,
  // Strong oversampling: with 0.02–0.7 % lesion voxels, uniform patches teach only background.
  foregroundFraction: 0.7,
  seed: 11,
  threshold: 0.5,
};

/** `--quick`: a tiny budget for smoke tests (numbers are meaningless). */
export const QUICK_BUDGET: ExperimentBudget = {
  network: { levels: 2, baseFilters: 2, normalization: 'batch', deepSupervision: false, seed: 7 },
  patchSizeVoxels: [8, 8, 8],
  evalWindowVoxels: [16, 16, 16],
  spacingMm: [2, 2, 2],
  batchSize: 2,
  steps: 3,
  learningRate: 3e-3,
  foregroundFraction: 0.5,
  seed: 11,
  threshold: 0.5,
};

/** Parsed command line. */
export interface ExperimentOptions {
  /** The arguments as given (recorded in the report). */
  argv: string[];
  dataDir: string;
  out: string;
  losses: LossName[];
  /** 1-based fold numbers; fold k holds out CASE_NAMES[k − 1]. */
  folds: number[];
  quick: boolean;
  /** Crop every case to a cube of this many source voxels around a lesion (null: whole volumes). */
  cropVoxels: number | null;
  backend: BackendPreference;
  budget: ExperimentBudget;
}

function positiveInteger(option: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) {
    throw new ExperimentError(`option --${option} must be a positive integer, got ${JSON.stringify(value ?? null)}`);
  }
  return n;
}

/**
 * Parses the command-line arguments (after the script name).
 * @throws ExperimentError naming the option and its value.
 */
export function parseExperimentArgs(argv: readonly string[]): ExperimentOptions {
  const values = new Map<string, string | undefined>();
  const flags = new Set(['quick', 'help']);
  const known = new Set(['steps', 'losses', 'folds', 'out', 'data', 'crop', 'backend', ...flags]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || !known.has(a.slice(2))) {
      throw new ExperimentError(`unknown argument ${JSON.stringify(a)}; expected --steps N, --losses a,b, --folds 1,2, --quick, --crop N, --out FILE, --data DIR, --backend wasm|cpu|auto|tensorflow`);
    }
    const name = a.slice(2);
    if (flags.has(name)) values.set(name, 'true');
    else values.set(name, argv[++i]);
  }
  const quick = values.has('quick');
  const budget: ExperimentBudget = structuredClone(quick ? QUICK_BUDGET : DEFAULT_BUDGET);
  if (values.has('steps')) budget.steps = positiveInteger('steps', values.get('steps'));
  let losses = [...COMPARED_LOSSES];
  if (values.has('losses')) {
    const raw = values.get('losses') ?? '';
    losses = raw.split(',').map((s) => s.trim()).filter(Boolean) as LossName[];
    const bad = losses.filter((l) => !(LOSS_NAMES as readonly string[]).includes(l));
    if (losses.length === 0 || bad.length > 0) {
      throw new ExperimentError(`option --losses has ${JSON.stringify(bad[0] ?? raw)}; expected a comma list of ${LOSS_NAMES.join(', ')}`);
    }
  }
  let folds = CASE_NAMES.map((_, i) => i + 1);
  if (values.has('folds')) {
    const raw = values.get('folds') ?? '';
    folds = raw.split(',').map((s) => Number(s.trim()));
    if (folds.length === 0 || folds.some((f) => !Number.isInteger(f) || f < 1 || f > CASE_NAMES.length)) {
      throw new ExperimentError(`option --folds is ${JSON.stringify(raw)}; expected a comma list of fold numbers from 1 to ${CASE_NAMES.length}`);
    }
    folds = [...new Set(folds)].sort((a, b) => a - b);
  }
  const cropVoxels = values.has('crop') ? positiveInteger('crop', values.get('crop')) : null;
  const backend = (values.get('backend') ?? 'wasm') as BackendPreference;
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) {
    throw new ExperimentError(`option --backend is ${JSON.stringify(backend)}; expected wasm, cpu, tensorflow or auto`);
  }
  for (const o of ['out', 'data'] as const) {
    if (values.has(o) && !values.get(o)) throw new ExperimentError(`option --${o} needs a path`);
  }
  return {
    argv: [...argv],
    dataDir: resolve(values.get('data') ?? DEFAULT_DATA_DIR),
    out: resolve(values.get('out') ?? DEFAULT_OUT),
    losses,
    folds,
    quick,
    cropVoxels,
    backend,
    budget,
  };
}

/** One case on disk. */
interface CaseFiles extends TrainingPair {
  name: string;
}

/**
 * Checks that the data folder holds every case's FLAIR and mask.
 * @throws ExperimentError naming the missing folder or file.
 */
export function locateCases(dataDir: string): CaseFiles[] {
  if (!existsSync(dataDir)) {
    throw new ExperimentError(`data folder ${dataDir} not found: the MS FLAIR cases (${CASE_NAMES.join(', ')}) of ../shared/data/lesion/ms-flair-mni are needed (or pass --data DIR)`);
  }
  return CASE_NAMES.map((name) => {
    const c = { name, imagePath: join(dataDir, name, FLAIR_FILE), maskPath: join(dataDir, name, MASK_FILE) };
    for (const f of [c.imagePath, c.maskPath]) {
      if (!existsSync(f)) throw new ExperimentError(`${f} not found: every case folder of ${dataDir} needs ${FLAIR_FILE} and ${MASK_FILE}`);
    }
    return c;
  });
}

/** An image moved by `start` voxels: same header, new dims and origin (so image and mask stay aligned). */
function croppedImage(img: NiftiImage, start: Vec3, size: Vec3, data: NiftiImage['data']): NiftiImage {
  const a = img.affine;
  const origin = [0, 1, 2].map((r) => a[r * 4] * start[0] + a[r * 4 + 1] * start[1] + a[r * 4 + 2] * start[2] + a[r * 4 + 3]);
  const srow = [...img.header.srow];
  if (srow.length === 12) [srow[3], srow[7], srow[11]] = origin;
  const header = { ...img.header, qoffsetX: origin[0], qoffsetY: origin[1], qoffsetZ: origin[2], srow };
  const affine = Float64Array.from(a);
  [affine[3], affine[7], affine[11]] = origin;
  return { ...img, header, dims: size, shape: [...size], affine, data };
}

/**
 * Writes a `size`³ crop of each case around one of its lesion voxels into `dir` (sources untouched).
 * Used by `--crop` (smoke tests): every crop is guaranteed to hold lesion voxels.
 */
async function cropCases(cases: CaseFiles[], size: number, dir: string): Promise<CaseFiles[]> {
  const out: CaseFiles[] = [];
  for (const c of cases) {
    const img = await readNifti(c.imagePath);
    const mask = await readNifti(c.maskPath);
    const lesions = foregroundIndices(mask.data);
    if (lesions.length === 0) throw new ExperimentError(`${c.maskPath} has no lesion voxel; --crop centres on a lesion`);
    // The median lesion voxel in scan order: inside a lesion, not at an extreme of the brain.
    const idx = lesions[Math.floor(lesions.length / 2)];
    const [nx, ny] = img.dims;
    const centre = [idx % nx, Math.floor(idx / nx) % ny, Math.floor(idx / (nx * ny))];
    const box: Vec3 = [0, 1, 2].map((a) => Math.min(size, img.dims[a])) as Vec3;
    const start = [0, 1, 2].map((a) => Math.max(0, Math.min(img.dims[a] - box[a], centre[a] - Math.floor(box[a] / 2)))) as Vec3;
    const imgData = cropVolume(Float32Array.from(img.data), img.dims, start, box);
    const maskData = cropVolume(Uint8Array.from(mask.data, (v) => (v > 0 ? 1 : 0)), mask.dims, start, box);
    await fsp.mkdir(join(dir, c.name), { recursive: true });
    const files = { name: c.name, imagePath: join(dir, c.name, FLAIR_FILE), maskPath: join(dir, c.name, MASK_FILE) };
    await writeVolumeLike(croppedImage(img, start, box, imgData), imgData, files.imagePath, { description: 'lesion-lab experiment crop' });
    await writeMaskLike(croppedImage(mask, start, box, maskData), maskData, files.maskPath);
    out.push(files);
  }
  return out;
}

/** Scores of one trained model on its held-out case. */
export interface FoldResult {
  loss: LossName;
  fold: number;
  heldOut: string;
  dice: number;
  precision: number | null;
  recall: number | null;
  predictedVoxels: number;
  referenceVoxels: number;
  finalTrainingLoss: number;
  trainS: number;
  evalS: number;
}

/** Result of {@link runExperiment}. */
export interface ExperimentResult {
  options: ExperimentOptions;
  backend: string;
  results: FoldResult[];
  wallS: number;
  startedAt: string;
  caseLesionVoxels: Record<string, number>;
  workGrid: string;
}

/**
 * Orders the pairs so that the engine's own split (leave one out for three pairs, drawn with the
 * seed) holds out `testIndex`: one seed for every loss and fold, and the engine's split unchanged.
 */
export function orderForHoldOut<T>(items: readonly T[], testIndex: number, seed: number): T[] {
  const split = splitCases(items.length, seededRandom(seed));
  if (split.validation.length !== 1) throw new ExperimentError(`the training engine holds out ${split.validation.length} of ${items.length} cases; leave-one-out needs exactly one`);
  const others = items.filter((_, i) => i !== testIndex);
  const ordered: T[] = [];
  for (let i = 0; i < items.length; i++) ordered.push(i === split.validation[0] ? items[testIndex] : (others.shift() as T));
  return ordered;
}

function fmt(x: number | null, digits = 3): string {
  return x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

function meanOf(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

/**
 * Trains one network per loss and fold and scores it on the held-out volume.
 * @param log - receives one progress line at a time.
 */
export async function runExperiment(options: ExperimentOptions, log: (line: string) => void): Promise<ExperimentResult> {
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  let cases = locateCases(options.dataDir);
  const b = options.budget;
  const backendInfo = await initBackend({ preferred: options.backend });
  const backend = `${backendInfo.name} (${backendInfo.threads} thread${backendInfo.threads > 1 ? 's' : ''}${backendInfo.simd ? ', SIMD' : ''}; ${cpus().length} logical cores)`;
  log(`backend: ${backend}: ${backendInfo.reason}`);
  const work = mkdtempSync(join(tmpdir(), 'lesion-lab-loss-experiment-'));
  try {
    if (options.cropVoxels !== null) {
      cases = await cropCases(cases, options.cropVoxels, join(work, 'crops'));
      log(`cropped every case to ${options.cropVoxels}³ voxels around a lesion`);
    }
    const preprocessing: Preprocessing = defaultPreprocessing('MR', b.spacingMm);
    const results: FoldResult[] = [];
    const caseLesionVoxels: Record<string, number> = {};
    let workGrid = '';
    const total = options.folds.length * options.losses.length;
    let done = 0;
    for (const fold of options.folds) {
      const testIndex = fold - 1;
      const test = cases[testIndex];
      const testImage = await readNifti(test.imagePath);
      const testMaskImage = await readNifti(test.maskPath);
      const testMask = Uint8Array.from(testMaskImage.data, (v) => (v > 0 ? 1 : 0));
      caseLesionVoxels[test.name] = foregroundIndices(testMask).length;
      const pairs = orderForHoldOut(cases, testIndex, b.seed);
      for (const loss of options.losses) {
        const store = new ModelStore(join(work, `f${fold}-${loss}`));
        const tTrain = Date.now();
        let lastLine = 0;
        const result = await fineTune({
          newNetwork: { config: { ...b.network }, patchSizeVoxels: b.patchSizeVoxels, preprocessing },
          pairs: pairs.map(({ imagePath, maskPath }) => ({ imagePath, maskPath })),
          store,
          networks: unetNetworks,
          loss,
          steps: b.steps,
          // The step budget decides, never the clock, so every loss gets the same number of steps.
          minutes: 24 * 60,
          patchSize: b.patchSizeVoxels,
          batchSize: b.batchSize,
          learningRate: b.learningRate,
          foregroundFraction: b.foregroundFraction,
          seed: b.seed,
          // No validation during training: the only held-out case is the test case, and choosing
          // weights (or stopping) on it would leak the test set into training.
          stepsPerEpoch: b.steps + 1,
          validationPatchesPerCase: 1,
          wholeVolumeValidation: false,
          activate: 'never',
          parentVersion: null,
          backend,
          onProgress: (p) => {
            if (p.phase === 'training' && Date.now() - lastLine > 15_000) {
              lastLine = Date.now();
              log(`  fold ${fold} ${loss}: step ${p.step}/${b.steps} loss ${p.loss.toFixed(4)} (${p.elapsedS.toFixed(0)} s)`);
            }
          },
        });
        if (result.validationImages.length !== 1 || resolve(result.validationImages[0]) !== resolve(test.imagePath)) {
          throw new ExperimentError(`the training engine held out ${result.validationImages.join(', ')} instead of ${test.imagePath}; the leave-one-out split is broken`);
        }
        if (result.steps !== b.steps) throw new ExperimentError(`fold ${fold} ${loss}: trained ${result.steps} steps instead of ${b.steps} (${result.stoppedBecause})`);
        const trainS = (Date.now() - tTrain) / 1000;
        const tEval = Date.now();
        const network = await loadUNet3d(result.version.dir);
        let seg;
        try {
          const model: SegmentationModel = { network, patchSizeVoxels: b.evalWindowVoxels, preprocessing };
          seg = await segmentVolume(testImage, model, { threshold: b.threshold, ttaFlips: [[]], minLesionMm3: 0, overlap: 0.25 });
        } finally {
          network.dispose();
        }
        workGrid = seg.workDims.join('×');
        const s = overlapScores(seg.labels, testMask);
        const evalS = (Date.now() - tEval) / 1000;
        const r: FoldResult = {
          loss,
          fold,
          heldOut: test.name,
          dice: s.dice,
          precision: s.precision,
          recall: s.recall,
          predictedVoxels: s.truePositive + s.falsePositive,
          referenceVoxels: s.truePositive + s.falseNegative,
          finalTrainingLoss: result.losses.at(-1) ?? NaN,
          trainS,
          evalS,
        };
        results.push(r);
        done++;
        log(
          `[${done}/${total}] fold ${fold} (held out ${test.name}) ${loss}: Dice ${fmt(r.dice)} precision ${fmt(r.precision)} recall ${fmt(r.recall)} ` +
            `predicted ${r.predictedVoxels} / reference ${r.referenceVoxels} voxels; train ${trainS.toFixed(0)} s, eval ${evalS.toFixed(0)} s, total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
        );
        await fsp.rm(store.root, { recursive: true, force: true });
        if (tf.memory().numTensors > 1000) log(`  warning: ${tf.memory().numTensors} tensors alive`);
      }
    }
    return { options, backend, results, wallS: (Date.now() - t0) / 1000, startedAt, caseLesionVoxels, workGrid };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** The markdown report: summary table, per-fold table, budget, method and attribution. */
export function renderMarkdown(r: ExperimentResult): string {
  const o = r.options;
  const b = o.budget;
  const L: string[] = [];
  L.push('# Loss comparison on MS lesion segmentation (from scratch, leave-one-out)');
  L.push('');
  L.push(`Generated by \`npm run experiment:losses${o.argv.length > 0 ? ` -- ${o.argv.join(' ')}` : ''}\` (scripts/experiment-losses.ts) on ${r.startedAt.slice(0, 10)}. Do not edit by hand.`);
  if (o.quick || o.cropVoxels !== null) L.push('', '**Smoke-test run (tiny budget and/or cropped volumes): the numbers below mean nothing.**');
  L.push('');
  L.push('## Mean over folds');
  L.push('');
  L.push('| Loss | Registry name | Dice | Precision | Recall | Folds |');
  L.push('|---|---|---|---|---|---|');
  for (const loss of o.losses) {
    const rs = r.results.filter((x) => x.loss === loss);
    if (rs.length === 0) continue;
    const p = rs.filter((x) => x.precision !== null).length;
    L.push(
      `| ${LOSS_LABELS[loss] ?? loss} | \`${loss}\` | ${fmt(meanOf(rs.map((x) => x.dice)))} | ${fmt(meanOf(rs.map((x) => x.precision)))}${p < rs.length ? ` (${p} of ${rs.length})` : ''} | ` +
        `${fmt(meanOf(rs.map((x) => x.recall)))} | ${rs.length} |`,
    );
  }
  L.push('');
  L.push('Precision is undefined (n/a) for a fold where the model predicts no lesion voxel; its mean is then over the other folds, as counted in brackets.');
  L.push('');
  L.push('## Per fold');
  L.push('');
  L.push('| Loss | Fold | Held-out case | Dice | Precision | Recall | Predicted voxels | Reference voxels | Last training loss | Train s | Eval s |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const x of r.results) {
    L.push(
      `| \`${x.loss}\` | ${x.fold} | ${x.heldOut} | ${fmt(x.dice)} | ${fmt(x.precision)} | ${fmt(x.recall)} | ${x.predictedVoxels} | ${x.referenceVoxels} | ` +
        `${fmt(x.finalTrainingLoss, 4)} | ${x.trainS.toFixed(0)} | ${x.evalS.toFixed(0)} |`,
    );
  }
  L.push('');
  L.push('## Budget and method');
  L.push('');
  const n = b.network;
  L.push(`- Network: 3-D U-Net (\`createUNet3d\`), ${n.levels} levels, ${n.baseFilters} base filters, ${n.normalization} normalisation, no deep supervision, softmax over 2 classes, initial weights seed ${n.seed} (identical for every loss).`);
  L.push(`- Training (\`fineTune\`, from scratch): ${b.steps} Adam steps, learning rate ${b.learningRate}, batch ${b.batchSize} patches of ${b.patchSizeVoxels.join('×')} voxels at ${b.spacingMm.join('×')} mm, ${Math.round(b.foregroundFraction * 100)} % of patches centred on a lesion voxel, the engine's default augmentation (flips, intensity, small rotations), seed ${b.seed}: the same patch sequence for every loss. No validation or early stopping during training (the only held-out case is the test case); the last weights are scored.`);
  L.push(`- Losses: the registry defaults (\`createLoss(name, {})\`): the authors' settings, e.g. aUF λ = 0.5, δ = 0.6, γ = 0.5.`);
  L.push(`- Folds: leave-one-out over ${CASE_NAMES.join(', ')}: train on two cases, test on the third. Lesion voxels of the held-out cases: ${Object.entries(r.caseLesionVoxels).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  L.push(
    `- Evaluation: the whole held-out volume${o.cropVoxels !== null ? ` (cropped to ${o.cropVoxels}³ voxels around a lesion)` : ''}, z-scored and resampled to ${b.spacingMm.join('×')} mm (working grid ${r.workGrid}), sliding window ${b.evalWindowVoxels.join('×')} voxels with 25 % overlap and Gaussian blending over the brain's bounding box (\`segmentVolume\`, no test-time flips), lesion probability resampled back to the source 1 mm grid and thresholded at ≥ ${b.threshold}, no minimum lesion size. Dice, precision and recall are voxel-wise on the source grid against the consensus mask.`,
  );
  L.push(`- Backend: ${r.backend}. Wall time of the whole run: ${(r.wallS / 60).toFixed(1)} min (${r.results.length} trainings; mean ${fmt(meanOf(r.results.map((x) => x.trainS)), 0)} s training and ${fmt(meanOf(r.results.map((x) => x.evalS)), 0)} s evaluation each).`);
  L.push('');
  L.push('## Data');
  L.push('');
  L.push(DATA_ATTRIBUTION);
  L.push('');
  return L.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log('usage: npm run experiment:losses -- [--steps N] [--losses a,b] [--folds 1,2,3] [--quick] [--crop N] [--out FILE] [--data DIR] [--backend wasm|cpu|auto|tensorflow]');
    return;
  }
  const options = parseExperimentArgs(argv);
  if (!existsSync(dirname(options.out))) throw new ExperimentError(`the folder of --out ${options.out} does not exist`);
  console.log(
    `loss experiment: ${options.losses.length} losses × ${options.folds.length} folds, ${options.budget.steps} steps each, ` +
      `patches ${options.budget.patchSizeVoxels.join('×')} at ${options.budget.spacingMm.join('×')} mm; data ${options.dataDir}`,
  );
  const result = await runExperiment(options, (line) => console.log(line));
  await writeFileAtomic(options.out, renderMarkdown(result));
  console.log(`wrote ${relative(process.cwd(), options.out) || basename(options.out)} (${(result.wallS / 60).toFixed(1)} min)`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof ExperimentError ? `experiment:losses: ${e.message}` : e instanceof Error ? `experiment:losses failed: ${e.message}` : String(e));
    process.exit(1);
  });
}
