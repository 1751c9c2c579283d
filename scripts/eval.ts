// `npm run eval [-- --minutes-per-fold 4] [--backend wasm|cpu] [--skip-starter]`: leave-one-out
// over the MS FLAIR cases of ../shared/data/lesion/ms-flair-mni. For each case, a network of the
// starter's configuration is trained from scratch on the other cases within the time budget and
// scored on the held-out case (Dice, precision, recall, lesion counts, time). The shipped starter
// model is also scored on every case, marking the cases it was trained on (not held out).
// Budgeted: on 2 shared cores a fold gets minutes, not the hours a real model needs.
import { existsSync, mkdtempSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readNifti } from '../src/nifti';
import { initBackend } from '../src/ml/backend';
import { loadSegmentationModel, segmentVolume, type SegmentationModel } from '../src/ml/inference';
import { lesionList, overlapScores } from '../src/ml/metrics';
import { findStarterModelDir, ModelStore, readCard } from '../src/ml/modelStore';
import { fineTune } from '../src/ml/training';
import { MS_CASES, MS_DATA_DIR, msCasePair, STARTER_TRAINING } from './train-starter';

const DATA = MS_DATA_DIR;
const CASES = MS_CASES;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const fmt = (v: number | null): string => (v === null ? '  -  ' : v.toFixed(3));

async function score(model: SegmentationModel, caseName: string): Promise<string> {
  const pair = msCasePair(caseName);
  const image = await readNifti(pair.imagePath);
  const mask = await readNifti(pair.maskPath);
  const t0 = Date.now();
  const seg = await segmentVolume(image, model, { ttaFlips: [[]] });
  const seconds = (Date.now() - t0) / 1000;
  const s = overlapScores(seg.labels, mask.data);
  const truth = lesionList(mask.data, mask.dims, { spacingMm: mask.spacingMm });
  return (
    `${caseName}  Dice ${fmt(s.dice)}  precision ${fmt(s.precision)}  recall ${fmt(s.recall)}  ` +
    `lesions found ${String(seg.lesions.length).padStart(3)} / reference ${String(truth.length).padStart(3)}  segment ${seconds.toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) throw new Error(`${DATA} is missing: the shared data folder is needed`);
  const minutes = Number(arg('minutes-per-fold') ?? 4);
  const backend = await initBackend({ preferred: (arg('backend') as 'wasm' | 'cpu' | undefined) ?? 'auto' });
  console.log(`backend: ${backend.name} (${backend.reason})`);
  console.log('MS FLAIR cases: Lesjak et al. 2017 (CC-BY), via muschellij2/open_ms_data');
  const tAll = Date.now();

  if (!process.argv.includes('--skip-starter')) {
    const starterDir = findStarterModelDir(__dirname);
    const card = await readCard(starterDir);
    const trained = new Set((card.training?.pairs ?? []).map((p) => dirname(p.imagePath)));
    const heldOut = new Set((card.training?.validationImages ?? []).map((p) => dirname(p)));
    const starter = await loadSegmentationModel(starterDir);
    console.log(`\nshipped starter model (${starterDir}):`);
    for (const c of CASES) {
      const role = heldOut.has(c) ? 'held out' : trained.has(c) ? 'TRAINED ON' : 'unseen';
      console.log(`  ${await score(starter, c)}  [${role}]`);
    }
    starter.network.dispose();
  }

  console.log(`\nleave-one-out, starter configuration trained from scratch for ${minutes} min per fold:`);
  const rows: string[] = [];
  for (const heldOutCase of CASES) {
    const train = CASES.filter((c) => c !== heldOutCase).map(msCasePair);
    const store = new ModelStore(mkdtempSync(join(tmpdir(), 'lesion-lab-eval-')));
    const t0 = Date.now();
    const r = await fineTune({
      ...STARTER_TRAINING,
      pairs: train,
      store,
      minutes,
      holdOut: false,
      wholeVolumeValidation: false,
    });
    const trainS = (Date.now() - t0) / 1000;
    const model = await loadSegmentationModel(r.version.dir);
    const row = `  ${await score(model, heldOutCase)}  train ${trainS.toFixed(0)} s, ${r.steps} steps (${r.stoppedBecause}) on ${train.map((p) => basename(dirname(p.imagePath))).join('+')}`;
    console.log(row);
    rows.push(row);
    model.network.dispose();
    await fsp.rm(store.root, { recursive: true, force: true });
  }
  console.log(`\ntotal ${((Date.now() - tAll) / 1000).toFixed(0)} s (2 shared cores: timings vary with other load)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
