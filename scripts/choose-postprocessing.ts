// `node --import tsx scripts/choose-postprocessing.ts --task NAME [--dir DIR]`: nnU-Net-style choice of the
// post-processing of a starter model in media/models/<task>/ (or DIR, a candidate), decided on its **validation** cases
// (training cases held out from the optimiser, named in the card), never on the held-out
// patients: keep all lesions, the largest one, or the largest two, whichever gives the best mean
// Dice (a change must gain ≥ 0.005; the card's threshold is kept). Writes `postprocessing` into the card and re-scores the
// held-out patients its card names with it (flip TTA, as Segment Lesion), keeping the figures
// before as well.
import { join, resolve } from 'node:path';
import { readNifti } from '../src/nifti';
import { initBackend } from '../src/ml/backend';
import { DEFAULT_TTA_FLIPS, keepLargestComponents, loadSegmentationModel, segmentVolume, type SegmentationModel } from '../src/ml/inference';
import { overlapScores } from '../src/ml/metrics';
import { readCard, writeCard, type ModelCard } from '../src/ml/modelStore';
import type { TrainingPair } from '../src/ml/training';
import { arg, caseName, DATA_ROOT, ROOT, task, type Task, type TaskName } from './tasks';

const CHOICES = [0, 1, 2];

async function diceByChoice(model: SegmentationModel, pairs: { imagePath: string; maskPath: string }[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const p of pairs) {
    const image = await readNifti(p.imagePath);
    const mask = await readNifti(p.maskPath);
    // The card's threshold stays: only which lesions to keep is chosen here.
    const seg = await segmentVolume(image, { ...model, postprocessing: undefined }, { ttaFlips: DEFAULT_TTA_FLIPS, threshold: model.postprocessing?.threshold });
    out.push(CHOICES.map((k) => overlapScores(k ? keepLargestComponents(seg.labels, image.dims, k, seg.probability) : seg.labels, mask.data).dice));
  }
  return out;
}

/** The task's pair (image and mask) of an image path. */
function pairOf(t: Task, imagePath: string): TrainingPair {
  const pair = [...t.train, ...t.heldOut].find((p) => p.imagePath === imagePath);
  if (!pair) throw new Error(`${imagePath}: not a case of ${t.name}`);
  return pair;
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
  // Held out: the patients the card names (a candidate may hold out others than the task's split;
  // a leave-one-out card names every case, and its model is scored on the split's held-out ones).
  const heldOut = card.heldOut as { cases?: string[]; method?: string } | undefined;
  const heldPairs = heldOut?.cases && !heldOut.method ? heldOut.cases.map((c) => pairOf(t, join(DATA_ROOT, c))) : t.heldOut;
  const held = await diceByChoice(model, heldPairs);
  model.network.dispose();
  const heldMeans = CHOICES.map((_, i) => mean(held, i));
  console.log(`${name}: held out (${heldPairs.map((p) => caseName(p.imagePath)).join(', ')}) mean Dice keep all ${heldMeans[0].toFixed(3)}, largest 1 ${heldMeans[1].toFixed(3)}, largest 2 ${heldMeans[2].toFixed(3)} (reported: ${heldMeans[best].toFixed(3)})`);
  const r3 = (v: number): number => Math.round(v * 1000) / 1000;
  const next: ModelCard & Record<string, unknown> = {
    ...card,
    postprocessing: { ...(best ? { keepLargestComponents: CHOICES[best] } : {}), ...(card.postprocessing?.threshold !== undefined ? { threshold: card.postprocessing.threshold } : {}) },
    postprocessingChoice: {
      decidedOn: validation.map((p) => caseName(p.imagePath)),
      validationMeanDice: { keepAll: r3(means[0]), largest1: r3(means[1]), largest2: r3(means[2]) },
      heldOutMeanDice: { keepAll: r3(heldMeans[0]), largest1: r3(heldMeans[1]), largest2: r3(heldMeans[2]) },
    },
    heldOut: { ...(card.heldOut as Record<string, unknown>), meanDiceWithPostprocessing: r3(heldMeans[best]), perCaseDiceWithPostprocessing: held.map((r, i) => ({ case: caseName(heldPairs[i].imagePath), dice: r3(r[best]) })) },
  };
  await writeCard(dir, next);
  console.log(`wrote ${dir}/card.json`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
