// `node --import tsx scripts/ablate.ts --task sarcoma-ct --steps 150 [--variants base,batch,…] [--threads N] [--seed S]`:
// trains the recipe and one-knob variants from scratch at a fixed step budget (same seed, same
// split) and scores each on the task's held-out cases (no test-time augmentation). Step
// budgets, not wall-clock, so a busy machine changes the timings but not the figures.
import { initBackend } from '../src/ml/backend';
import { loadSegmentationModel } from '../src/ml/inference';
import { arg, DEFAULT_RECIPE, removeStore, scoreHeldOut, task, trainTask, type Recipe, type TaskName } from './tasks';

const VARIANTS: Record<string, Partial<Recipe>> = {
  base: {},
  batch: { normalization: 'batch' },
  f4: { baseFilters: 4 },
  f16: { baseFilters: 16 },
  dicece: { loss: 'combo', lossOptions: { regionPooling: 'batch' } },
  suf: { loss: 'symmetric-unified-focal', lossOptions: { regionPooling: 'batch' } },
  aufimage: { lossOptions: {} },
  fine: { caseVoxelBudget: 600_000 },
  constlr: { lrSchedule: 'constant' },
  lr1e3: { learningRate: 1e-3 },
  fg33: { foregroundFraction: 1 / 3 },
  // The recipe before deep supervision became its default (this variant was `ds` against it).
  nods: { deepSupervision: false },
  // The weights' moving average validated and kept (decay ≤ 0.99: about the last tenth of the steps, at most 100).
  ema: { weightAverageDecay: 0.99 },
  // CT windows wider than the lesion voxels' 0.5–99.5 percentiles (−87…147 HU on the sarcoma CTs): fat, bone and air stay apart.
  ctsoft: { ctClipHu: [-200, 300] },
  ctwide: { ctClipHu: [-500, 1000] },
};

async function main(): Promise<void> {
  const t = task((arg('task') ?? 'sarcoma-ct') as TaskName);
  const steps = Number(arg('steps') ?? 150);
  const names = (arg('variants') ?? 'base,batch,f4,dicece').split(',');
  const backend = await initBackend({ preferred: 'wasm', wasmThreads: arg('threads') ? Number(arg('threads')) : undefined });
  console.log(`# ${t.name}: ${t.train.length} training cases, ${t.heldOut.length} held out; ${steps} steps per variant; backend ${backend.name} ${backend.threads} threads`);
  console.log('| variant | held-out Dice | precision | recall | steps | train s | patch | spacing mm |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    const recipe: Recipe = { ...DEFAULT_RECIPE, ...t.recipe, ...VARIANTS[name], ...(arg('seed') ? { seed: Number(arg('seed')) } : {}) };
    if (!VARIANTS[name]) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
    const t0 = Date.now();
    const { result, config, store } = await trainTask(t, recipe, { minutes: 600, steps }, { wholeVolumeValidation: false, minBudgetFractionBeforeEarlyStop: 1 });
    const trainS = (Date.now() - t0) / 1000;
    const model = await loadSegmentationModel(result.version.dir);
    const s = await scoreHeldOut(model, t.heldOut);
    model.network.dispose();
    console.log(
      `| ${name} | ${s.meanDice.toFixed(3)} | ${s.meanPrecision.toFixed(3)} | ${s.meanRecall.toFixed(3)} | ${result.steps} | ${trainS.toFixed(0)} | ` +
        `${config.patchSizeVoxels.join('×')} | ${config.preprocessing.targetSpacingMm?.join('×')} |`,
    );
    console.log(`#   ${name}: per case ${s.rows.map((r) => `${r.case} ${r.dice.toFixed(2)}`).join(', ')}; last losses ${result.losses.slice(-5).map((l) => l.toFixed(3)).join(' ')}`);
    await removeStore(store);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
