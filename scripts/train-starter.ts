// `npm run train:starter [-- --minutes M] [--steps N] [--backend wasm|cpu]`: trains the small
// starter model shipped in media/models/starter on the CC-BY MS FLAIR cases of
// ../shared/data/lesion/ms-flair-mni (Lesjak et al. 2017, via muschellij2/open_ms_data), with
// one case held out for an honest validation Dice, and writes model.json, weights.bin and
// card.json (with attribution and the held-out figures).
import { promises as fsp, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { initBackend } from '../src/ml/backend';
import { unetNetworks } from '../src/ml/inference';
import { ModelStore, writeCard, type ModelCard } from '../src/ml/modelStore';
import { defaultPreprocessing } from '../src/ml/preprocess';
import { fineTune, type FineTuneOptions, type TrainingPair } from '../src/ml/training';

const ROOT = resolve(__dirname, '..');
const DATA = resolve(ROOT, '../shared/data/lesion/ms-flair-mni');
const OUT = join(ROOT, 'media/models/starter');
const FLAIR = 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz';
const MASK = 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz';

/** The MS FLAIR data folder and its cases (one subfolder each). */
export const MS_DATA_DIR = DATA;
export const MS_CASES = ['patient07', 'patient19', 'patient26'] as const;

/** The FLAIR image and reference mask of one MS case. */
export function msCasePair(caseName: string): TrainingPair {
  return { imagePath: join(DATA, caseName, FLAIR), maskPath: join(DATA, caseName, MASK) };
}

export const STARTER_ATTRIBUTION =
  'Trained on the 3D MR image database of Multiple Sclerosis patients with white matter lesion segmentations ' +
  '(Lesjak, Pernuš, Likar, Špiclin, "A Novel Public MR Image Dataset of Multiple Sclerosis Patients With Lesion ' +
  'Segmentations Based on Multi-rater Consensus", Neuroinformatics 2017, DOI 10.1007/s12021-017-9348-7), CC-BY, ' +
  'MNI-registered FLAIR and consensus masks of patients 07, 19 and 26 via github.com/muschellij2/open_ms_data.';

/** The starter network: 4 levels, 4 base filters, batch norm (≈83k parameters, ≈330 KB). */
export const STARTER_NETWORK = { levels: 4, baseFilters: 4, normalization: 'batch', deepSupervision: false, seed: 7 } as const;

/** The starter's training recipe; `npm run eval` retrains it per fold with the same one. */
export const STARTER_TRAINING = {
  newNetwork: { config: { ...STARTER_NETWORK }, patchSizeVoxels: [96, 96, 96], preprocessing: defaultPreprocessing('MR', [1, 1, 1]) },
  networks: unetNetworks,
  patchSize: [32, 32, 32],
  batchSize: 4,
  learningRate: 1e-2,
  // Pool TP/FP/FN over the batch: half the patches hold no lesion, and per-image pooling makes
  // their foreground term a constant.
  lossOptions: { regionPooling: 'batch' },
  foregroundFraction: 0.5,
  stepsPerEpoch: 25,
  patience: 10,
  seed: 11,
  activate: 'always',
} satisfies Partial<FineTuneOptions>;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const minutes = Number(arg('minutes') ?? 15);
  const steps = arg('steps') === undefined ? undefined : Number(arg('steps'));
  const out = resolve(arg('out') ?? OUT);
  const backend = await initBackend({ preferred: (arg('backend') as 'wasm' | 'cpu' | undefined) ?? 'auto' });
  console.log(`backend: ${backend.name} (${backend.reason})`);
  const cases = MS_CASES.map(msCasePair);
  for (const c of cases) if (!existsSync(c.imagePath)) throw new Error(`${c.imagePath} is missing: the shared data folder is needed`);
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'lesion-lab-starter-')));
  const t0 = Date.now();
  const result = await fineTune({
    ...STARTER_TRAINING,
    pairs: cases,
    store,
    minutes,
    steps,
    parentVersion: null,
    backend: `${backend.name} (${backend.threads} thread${backend.threads > 1 ? 's' : ''})`,
    onProgress: (p) => {
      if (p.phase !== 'training' || p.step % 25 === 0) {
        console.log(`${p.phase} step ${p.step} epoch ${p.epoch} loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : '-'} valPatchDice ${p.valDice?.toFixed(3) ?? '-'} ${p.elapsedS.toFixed(0)} s`);
      }
    },
  });
  const held = result.validationImages.map((p) => relative(DATA, p)).join(', ');
  console.log(
    `held-out ${held}: Dice before ${result.validationDiceBefore?.toFixed(3)} after ${result.validationDiceAfter?.toFixed(3)}; ` +
      `${result.steps} steps, stopped by ${result.stoppedBecause}, ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  await fsp.mkdir(out, { recursive: true });
  for (const f of ['model.json', 'weights.bin']) await fsp.copyFile(join(result.version.dir, f), join(out, f));
  const card: ModelCard = {
    ...result.version.card,
    version: 'starter',
    parentVersion: null,
    training: result.version.card.training && {
      ...result.version.card.training,
      // Paths relative to the shared data folder: the card must not carry this machine's layout.
      pairs: result.version.card.training.pairs.map((p) => ({ ...p, imagePath: relative(DATA, p.imagePath), maskPath: relative(DATA, p.maskPath) })),
      validationImages: result.validationImages.map((p) => relative(DATA, p)),
    },
    attribution: STARTER_ATTRIBUTION,
    notes:
      `Small starter model (U-Net ${STARTER_NETWORK.levels} levels, ${STARTER_NETWORK.baseFilters} base filters), trained ${result.steps} steps ` +
      `on 32³ FLAIR patches of two cases; validation Dice is on the held-out case (${held}) only, so it is a rough figure.`,
  };
  await writeCard(out, card);
  await fsp.rm(store.root, { recursive: true, force: true });
  console.log(`wrote ${relative(ROOT, out)}/ (model.json, weights.bin, card.json)`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
