// `npm run eval [-- --tasks sarcoma-ct,sarcoma-mr-t1,sarcoma-pet,ms-flair] [--tta none|lr|all]`:
// scores each shipped starter model (media/models/<task>/) on its task's fixed held-out cases,
// which it never saw: Dice, precision, recall, lesion-wise F1 and the 95th-percentile Hausdorff
// distance (mm, on the source grid), next to the PyTorch reference recipe's figures on the same
// split where docs/reference-results.json has them (written by scripts/run-reference.ts).
//
// `--loo --minutes-per-fold M [--threads N]`: leave-one-out instead, for tasks with few cases
// (ms-flair: three): for each case a network of the task's recipe is trained from scratch on all
// the others (none held out from the optimiser) within M minutes, then scored on that case.
// `--base-filters N` changes the recipe's network width for that run (an ablation).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/ml/backend';
import { ALL_AXIS_FLIPS, DEFAULT_TTA_FLIPS, loadSegmentationModel } from '../src/ml/inference';
import { arg, DEFAULT_RECIPE, leaveOneOutScores, ROOT, scoreCase, SHARED_DATA_TASKS, task, TASK_NAMES, type CaseScores, type TaskName } from './tasks';

const fmt = (v: number | null): string => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(3));

function logCase(name: string, r: CaseScores, extra = ''): void {
  console.error(
    `  ${name} ${r.case}: Dice ${fmt(r.dice)} precision ${fmt(r.precision)} recall ${fmt(r.recall)} lesion F1 ${fmt(r.f1)} HD95 ${fmt(r.hd95)} mm (${r.s.toFixed(1)} s)${extra}`,
  );
}

function mean(rows: CaseScores[], f: (r: CaseScores) => number | null): number | null {
  const v = rows.map(f).filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

interface ReferenceResult {
  meanDice: number;
  minutes: number;
  steps?: number;
  perCase?: number[];
}

function readReference(): Record<string, ReferenceResult> {
  const refPath = join(ROOT, 'docs/reference-results.json');
  return existsSync(refPath) ? (JSON.parse(readFileSync(refPath, 'utf8')) as Record<string, ReferenceResult>) : {};
}

const referenceCell = (ref: ReferenceResult | undefined): string =>
  ref ? `${ref.meanDice.toFixed(3)} (${ref.minutes} min${ref.steps === undefined ? '' : `, ${ref.steps} steps`})` : 'not run';

async function heldOut(names: TaskName[], flips: number[][]): Promise<void> {
  const reference = readReference();
  console.log('\n| task | held-out cases | Dice | precision | recall | lesion F1 | HD95 mm | segment s/case | PyTorch reference Dice (budget) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    const t = task(name);
    const dir = join(ROOT, 'media/models', name);
    if (!existsSync(join(dir, 'card.json'))) {
      console.log(`| ${name} | - | no model in media/models/${name} | | | | | | |`);
      continue;
    }
    const model = await loadSegmentationModel(dir);
    const rows: CaseScores[] = [];
    for (const p of t.heldOut) {
      rows.push(await scoreCase(model, p, flips));
      logCase(name, rows.at(-1)!);
    }
    model.network.dispose();
    console.log(
      `| ${name} | ${rows.length} | ${fmt(mean(rows, (r) => r.dice))} | ${fmt(mean(rows, (r) => r.precision))} | ${fmt(mean(rows, (r) => r.recall))} | ` +
        `${fmt(mean(rows, (r) => r.f1))} | ${fmt(mean(rows, (r) => r.hd95))} | ${fmt(mean(rows, (r) => r.s))} | ${referenceCell(reference[name])} |`,
    );
  }
}

async function leaveOneOut(names: TaskName[], flips: number[][], minutesPerFold: number): Promise<void> {
  const reference = readReference();
  const table: string[] = [];
  for (const name of names) {
    const t = task(name);
    const recipe = { ...DEFAULT_RECIPE, ...t.recipe, ...(arg('base-filters') === undefined ? {} : { baseFilters: Number(arg('base-filters')) }) };
    if (!(Number.isInteger(recipe.baseFilters) && recipe.baseFilters > 0)) throw new Error(`--base-filters must be a positive integer, got ${arg('base-filters')}`);
    const rows = await leaveOneOutScores(t, recipe, minutesPerFold, flips, (r, trainedOn, result) =>
      logCase(name, r, `, trained on ${trainedOn.join(' + ')}: ${result.steps} steps, ${result.stoppedBecause}`),
    );
    const ref = reference[`${name}:loo`];
    table.push(
      `| ${name} | ${rows.map((r) => `${r.case} ${fmt(r.dice)}`).join(', ')} | ${fmt(mean(rows, (r) => r.dice))} | ${fmt(mean(rows, (r) => r.precision))} | ` +
        `${fmt(mean(rows, (r) => r.recall))} | ${fmt(mean(rows, (r) => r.f1))} | ${fmt(mean(rows, (r) => r.hd95))} | ${minutesPerFold} | ` +
        `${ref ? `${ref.perCase?.map((d) => d.toFixed(3)).join(' / ') ?? ''} mean ${referenceCell(ref)}` : 'not run'} |`,
    );
  }
  console.log('\n| task (leave-one-out) | Dice per held-out case | mean Dice | precision | recall | lesion F1 | HD95 mm | min per fold | PyTorch reference (budget per fold) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of table) console.log(row);
}

async function main(): Promise<void> {
  const names = (arg('tasks') ?? SHARED_DATA_TASKS.join(',')).split(',') as TaskName[];
  for (const name of names) if (!TASK_NAMES.includes(name)) throw new Error(`unknown task ${name}; known: ${TASK_NAMES.join(', ')}`);
  const flips = arg('tta') === 'none' ? [[]] : arg('tta') === 'all' ? ALL_AXIS_FLIPS : DEFAULT_TTA_FLIPS;
  const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
  const backend = await initBackend({ preferred: (arg('backend') as 'wasm' | 'cpu' | undefined) ?? 'auto', ...(threads ? { wasmThreads: threads } : {}) });
  console.log(`backend: ${backend.name} (${backend.reason}); flip TTA ${flips.length > 2 ? 'every axis' : flips.length > 1 ? 'left-right' : 'none'}, threshold 0.5`);
  if (process.argv.includes('--loo')) {
    const minutes = Number(arg('minutes-per-fold') ?? 5);
    if (!(minutes > 0)) throw new Error(`--minutes-per-fold must be a positive number of minutes, not ${arg('minutes-per-fold')}`);
    await leaveOneOut(names, flips, minutes);
  } else {
    await heldOut(names, flips);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
