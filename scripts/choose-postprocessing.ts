// `node --import tsx scripts/choose-postprocessing.ts --task NAME [--dir DIR]`: nnU-Net-style choice of the
// post-processing of a starter model in media/models/<task>/ (or DIR, a candidate), decided on its **validation** cases
// (training cases held out from the optimiser, named in the card), never on the held-out
// patients: keep all lesions, the largest one, or the largest two, whichever gives the best mean
// Dice (a change must gain ≥ 0.005). Writes `postprocessing` into the card and re-scores the
// held-out patients with it (flip TTA, as Segment Lesion), keeping the figures before as well.
import { join, resolve } from 'node:path';
import { readNifti } from '../src/nifti';
import { initBackend } from '../src/ml/backend';
import { DEFAULT_TTA_FLIPS, keepLargestComponents, loadSegmentationModel, segmentVolume, type SegmentationModel } from '../src/ml/inference';
import { overlapScores } from '../src/ml/metrics';
import { readCard, writeCard, type ModelCard } from '../src/ml/modelStore';
import { arg, caseName, DATA_ROOT, ROOT, task, type TaskName } from './tasks';

const CHOICES = [0, 1, 2];

async function diceByChoice(model: SegmentationModel, pairs: { imagePath: string; maskPath: string }[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const p of pairs) {
    const image = await readNifti(p.imagePath);
    const mask = await readNifti(p.maskPath);
    const seg = await segmentVolume(image, { ...model, postprocessing: undefined }, { ttaFlips: DEFAULT_TTA_FLIPS });
    out.push(CHOICES.map((k) => overlapScores(k ? keepLargestComponents(seg.labels, image.dims, k) : seg.labels, mask.data).dice));
  }
  return out;
}

const mean = (rows: number[][], i: number): number => rows.reduce((a, r) => a + r[i], 0) / Math.max(1, rows.length);

async function main(): Promise<void> {
  const name = arg('task') as TaskName;
  const t = task(name);
  await initBackend({ preferred: 'wasm' });
  const dir = arg('dir') === undefined ? join(ROOT, 'media/models', name) : resolve(arg('dir')!);
  const card = (await readCard(dir)) as ModelCard & Record<string, unknown>;
  const pairs = card.training!.pairs.map((p) => ({ imagePath: join(DATA_ROOT, p.imagePath), maskPath: join(DATA_ROOT, p.maskPath) }));
  const validation = card.training!.validationImages.map((v) => pairs.find((p) => p.imagePath === join(DATA_ROOT, v))!);
  const model = await loadSegmentationModel(dir);
  const val = await diceByChoice(model, validation);
  const means = CHOICES.map((_, i) => mean(val, i));
  let best = 0;
  for (let i = 1; i < CHOICES.length; i++) if (means[i] > means[best] + 0.005) best = i;
  console.log(`${name}: validation (${validation.map((p) => caseName(p.imagePath)).join(', ')}) mean Dice keep all ${means[0].toFixed(3)}, largest 1 ${means[1].toFixed(3)}, largest 2 ${means[2].toFixed(3)} → ${best ? `keep the largest ${CHOICES[best]}` : 'keep all'}`);
  const held = await diceByChoice(model, t.heldOut);
  const heldMeans = CHOICES.map((_, i) => mean(held, i));
  console.log(`${name}: held out mean Dice keep all ${heldMeans[0].toFixed(3)}, largest 1 ${heldMeans[1].toFixed(3)}, largest 2 ${heldMeans[2].toFixed(3)} (reported: ${heldMeans[best].toFixed(3)})`);
  model.network.dispose();
  const r3 = (v: number): number => Math.round(v * 1000) / 1000;
  const heldOut = card.heldOut as Record<string, unknown>;
  const next: ModelCard & Record<string, unknown> = {
    ...card,
    postprocessing: best ? { keepLargestComponents: CHOICES[best] } : {},
    postprocessingChoice: {
      decidedOn: validation.map((p) => caseName(p.imagePath)),
      validationMeanDice: { keepAll: r3(means[0]), largest1: r3(means[1]), largest2: r3(means[2]) },
      heldOutMeanDice: { keepAll: r3(heldMeans[0]), largest1: r3(heldMeans[1]), largest2: r3(heldMeans[2]) },
    },
    heldOut: { ...heldOut, meanDiceWithPostprocessing: r3(heldMeans[best]), perCaseDiceWithPostprocessing: held.map((r, i) => ({ case: caseName(t.heldOut[i].imagePath), dice: r3(r[best]) })) },
  };
  await writeCard(dir, next);
  console.log(`wrote ${dir}/card.json`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
