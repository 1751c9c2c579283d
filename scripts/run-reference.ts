// `node --import tsx scripts/run-reference.ts --task NAME --minutes M [--threads N] [--loo] [--spacing MM] [--patch N]`:
// runs the PyTorch reference recipe (../shared/reference/torch_unet_reference.py, Debian
// python3-torch) on a task's split (scripts/tasks.ts): the fixed held-out split, or with --loo
// one fold per case. Records the Dice per held-out case in docs/reference-results.json under
// NAME (or NAME:loo), which `npm run eval` prints next to our figures. Not part of npm test.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../src/util/atomicWrite';
import type { TrainingPair } from '../src/ml/training';
import { arg, caseName, ROOT, task, TASK_NAMES, type TaskName } from './tasks';

const REFERENCE = resolve(ROOT, '../shared/reference/torch_unet_reference.py');
const RESULTS = join(ROOT, 'docs/reference-results.json');

export interface Run {
  dice: Map<string, number>;
  steps: number;
}

/**
 * The reference's figures from its standard output: one "NAME Dice D" line per test case, in the
 * order given (NAME is the image's folder, e.g. MR_T1 for every sarcoma case, so the order names
 * the case), and "after N steps".
 */
export function parseReferenceOutput(stdout: string, caseNames: string[]): Run {
  const values = [...stdout.matchAll(/^\S+ Dice ([\d.]+)$/gm)].map((m) => Number(m[1]));
  const steps = /after (\d+) steps/.exec(stdout);
  if (values.length !== caseNames.length || !steps) throw new Error(`unexpected output of the reference recipe (${values.length} Dice lines for ${caseNames.length} cases):\n${stdout}`);
  return { dice: new Map(caseNames.map((c, i) => [c, values[i]!])), steps: Number(steps[1]) };
}

function runReference(train: TrainingPair[], test: TrainingPair[], options: string[]): Run {
  const spec = (p: TrainingPair): string => `${p.imagePath}:${p.maskPath}`;
  const args = [REFERENCE, ...options, '--train', ...train.map(spec), '--test', ...test.map(spec)];
  console.error(`/usr/bin/python3 ${args.map((a) => a.replace(ROOT, '.')).join(' ').slice(0, 300)} …`);
  const out = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (out.status !== 0) throw new Error(`the reference recipe exited with status ${out.status}: ${out.stdout}`);
  return parseReferenceOutput(out.stdout, test.map((p) => caseName(p.imagePath)));
}

async function main(): Promise<void> {
  const name = arg('task') as TaskName;
  if (!TASK_NAMES.includes(name)) throw new Error(`--task must be one of ${TASK_NAMES.join(', ')}`);
  const minutes = Number(arg('minutes'));
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  if (!existsSync(REFERENCE)) throw new Error(`${REFERENCE} is missing`);
  const threads = arg('threads') ?? '2';
  const options = ['--minutes', String(minutes), '--threads', threads];
  for (const o of ['spacing', 'patch', 'seed']) if (arg(o) !== undefined) options.push(`--${o}`, arg(o)!);
  const t = task(name);
  const loo = process.argv.includes('--loo');
  const folds = loo
    ? [...t.train, ...t.heldOut].map((left, _, all) => ({ train: all.filter((p) => p !== left), test: [left] }))
    : [{ train: t.train, test: t.heldOut }];
  const cases: string[] = [];
  const perCase: number[] = [];
  const steps: number[] = [];
  for (const fold of folds) {
    const run = runReference(fold.train, fold.test, options);
    for (const p of fold.test) {
      cases.push(caseName(p.imagePath));
      perCase.push(run.dice.get(caseName(p.imagePath))!);
    }
    steps.push(run.steps);
    console.error(`fold ${fold.test.map((p) => caseName(p.imagePath)).join(', ')}: ${fold.test.map((p) => run.dice.get(caseName(p.imagePath))!.toFixed(3)).join(', ')} after ${run.steps} steps`);
  }
  const meanDice = Math.round((perCase.reduce((a, b) => a + b, 0) / perCase.length) * 1000) / 1000;
  const results = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  results[loo ? `${name}:loo` : name] = {
    meanDice,
    minutes,
    steps: Math.round(steps.reduce((a, b) => a + b, 0) / steps.length),
    command: `node --import tsx scripts/run-reference.ts ${process.argv.slice(2).join(' ')} (reference defaults otherwise: 2 mm isotropic, 64³ patches, 16 base filters, Adam 3e-4, CE + Dice)`,
    measured: `${new Date().toISOString().slice(0, 10)}, ${threads} thread(s), ${loo ? 'minutes and steps per fold' : 'one run'}`,
    perCase,
    cases,
  };
  await writeFileAtomic(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`${name}${loo ? ' (leave-one-out)' : ''}: mean Dice ${meanDice.toFixed(3)} over ${perCase.length} cases; written to docs/reference-results.json`);
}

if (require.main === module) main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
