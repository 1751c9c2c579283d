import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CASE_NAMES,
  COMPARED_LOSSES,
  DEFAULT_BUDGET,
  ExperimentError,
  orderForHoldOut,
  parseExperimentArgs,
  renderMarkdown,
  type ExperimentResult,
} from '../../scripts/experiment-losses';
import { splitCases } from '../../src/ml/training';
import { seededRandom } from '../../src/util/random';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const REPO = resolve(__dirname, '../..');
const MS = ['lesion', 'ms-flair-mni'];

function runScript(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/experiment-losses.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Rows of the markdown table that follows `heading`, as cell arrays (header first, separator dropped). */
function tableAfter(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `heading ${heading} is present`);
  const rows: string[][] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i];
    if (!l.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    if (/^\|(-+\|)+$/.test(l)) continue;
    rows.push(l.slice(1, -1).split('|').map((c) => c.trim()));
  }
  return rows;
}

describe('experiment:losses options', () => {
  test('defaults: the eight compared losses, three folds, the default budget', () => {
    const o = parseExperimentArgs([]);
    assert.deepEqual(o.losses, [...COMPARED_LOSSES]);
    assert.equal(o.losses.length, 8);
    assert.deepEqual(o.folds, [1, 2, 3]);
    assert.equal(o.budget.steps, DEFAULT_BUDGET.steps);
    assert.equal(o.quick, false);
    assert.equal(o.cropVoxels, null);
    assert.ok(o.out.endsWith(join('docs', 'loss-comparison.md')));
  });

  test('--quick, --steps, --losses, --folds, --crop, --out', () => {
    const o = parseExperimentArgs(['--quick', '--steps', '5', '--losses', 'dice,combo', '--folds', '3,1', '--crop', '40', '--out', '/tmp/x.md']);
    assert.equal(o.quick, true);
    assert.equal(o.budget.steps, 5);
    assert.ok(o.budget.patchSizeVoxels[0] < DEFAULT_BUDGET.patchSizeVoxels[0], 'quick uses smaller patches');
    assert.deepEqual(o.losses, ['dice', 'combo']);
    assert.deepEqual(o.folds, [1, 3]);
    assert.equal(o.cropVoxels, 40);
    assert.equal(o.out, '/tmp/x.md');
    assert.equal(DEFAULT_BUDGET.steps, parseExperimentArgs([]).budget.steps, 'the default budget is not mutated');
  });

  test('bad options name the option and value', () => {
    assert.throws(() => parseExperimentArgs(['--losses', 'dice,dise']), (e: Error) => e instanceof ExperimentError && /--losses.*"dise"/.test(e.message));
    assert.throws(() => parseExperimentArgs(['--folds', '4']), (e: Error) => e instanceof ExperimentError && /--folds is "4"/.test(e.message));
    assert.throws(() => parseExperimentArgs(['--steps', '0']), /--steps must be a positive integer, got "0"/);
    assert.throws(() => parseExperimentArgs(['--steps']), /--steps must be a positive integer, got null/);
    assert.throws(() => parseExperimentArgs(['--epochs', '3']), /unknown argument "--epochs"/);
    assert.throws(() => parseExperimentArgs(['--backend', 'gpu']), /--backend is "gpu"/);
  });

  test('orderForHoldOut makes the engine split hold out the requested case, for every fold', () => {
    for (const seed of [1, 11, 12345]) {
      for (let k = 0; k < CASE_NAMES.length; k++) {
        const ordered = orderForHoldOut(CASE_NAMES, k, seed);
        const split = splitCases(ordered.length, seededRandom(seed));
        assert.deepEqual(split.validation.map((i) => ordered[i]), [CASE_NAMES[k]]);
        assert.deepEqual([...ordered].sort(), [...CASE_NAMES].sort(), 'every case appears once');
      }
    }
  });
});

describe('experiment:losses report', () => {
  test('renderMarkdown: summary and per-fold tables, n/a for undefined precision, attribution', () => {
    const options = parseExperimentArgs(['--losses', 'dice,cross-entropy', '--folds', '1,2']);
    const base = { heldOut: 'patient07', referenceVoxels: 100, finalTrainingLoss: 0.5, trainS: 10, evalS: 2 };
    const result: ExperimentResult = {
      options,
      backend: 'wasm (2 threads)',
      startedAt: '2026-11-27T12:00:00.000Z',
      wallS: 90,
      caseLesionVoxels: { patient07: 100, patient19: 200 },
      workGrid: '91×109×91',
      results: [
        { ...base, loss: 'dice', fold: 1, dice: 0.5, precision: 0.4, recall: 0.6, predictedVoxels: 150 },
        { ...base, loss: 'dice', fold: 2, heldOut: 'patient19', dice: 0.3, precision: 0.2, recall: 0.8, predictedVoxels: 800 },
        { ...base, loss: 'cross-entropy', fold: 1, dice: 0, precision: null, recall: 0, predictedVoxels: 0 },
        { ...base, loss: 'cross-entropy', fold: 2, heldOut: 'patient19', dice: 0.1, precision: 0.5, recall: 0.05, predictedVoxels: 20 },
      ],
    };
    const md = renderMarkdown(result);
    const summary = tableAfter(md, '## Mean over folds');
    assert.deepEqual(summary[0], ['Loss', 'Registry name', 'Dice', 'Precision', 'Recall', 'Folds']);
    assert.deepEqual(summary[1].slice(1), ['`dice`', '0.400', '0.300', '0.700', '2']);
    assert.deepEqual(summary[2].slice(1), ['`cross-entropy`', '0.050', '0.500 (1 of 2)', '0.025', '2']);
    const perFold = tableAfter(md, '## Per fold');
    assert.equal(perFold.length, 5);
    assert.equal(perFold[3][4], 'n/a');
    assert.match(md, /Lesjak/);
    assert.match(md, /CC-BY/);
    assert.match(md, /1\.5 min/);
    assert.match(md, /`npm run experiment:losses -- --losses dice,cross-entropy --folds 1,2`/);
  });
});

describe('npm run experiment:losses', () => {
  test('a missing data folder fails with a clear one-line error and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-losses-'));
    try {
      const out = join(dir, 'out.md');
      const r = runScript(['--quick', '--data', join(dir, 'no-such-folder'), '--out', out]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /experiment:losses: data folder .*no-such-folder not found/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(existsSync(out), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--quick on cropped cases writes the table with finite numbers', { skip: skipWithoutSharedData(...MS) }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-losses-'));
    try {
      const out = join(dir, 'loss-comparison.md');
      const r = runScript(['--quick', '--losses', 'dice,asymmetric-unified-focal', '--folds', '1', '--crop', '48', '--data', sharedDataPath(...MS), '--out', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /\[1\/2\] fold 1 \(held out patient07\) dice: Dice/);
      assert.match(r.stdout, /\[2\/2\] fold 1 \(held out patient07\) asymmetric-unified-focal: Dice/);
      const md = readFileSync(out, 'utf8');
      const summary = tableAfter(md, '## Mean over folds');
      assert.deepEqual(summary[0], ['Loss', 'Registry name', 'Dice', 'Precision', 'Recall', 'Folds']);
      assert.deepEqual(summary.slice(1).map((row) => row[1]), ['`dice`', '`asymmetric-unified-focal`']);
      const perFold = tableAfter(md, '## Per fold');
      assert.equal(perFold[0].join('|'), 'Loss|Fold|Held-out case|Dice|Precision|Recall|Predicted voxels|Reference voxels|Last training loss|Train s|Eval s');
      assert.equal(perFold.length, 3);
      for (const row of perFold.slice(1)) {
        const [dice, precision, recall, predicted, reference, lastLoss] = [row[3], row[4], row[5], Number(row[6]), Number(row[7]), Number(row[8])];
        assert.ok(Number.isFinite(Number(dice)) && Number(dice) >= 0 && Number(dice) <= 1, `Dice ${dice}`);
        assert.ok(Number.isFinite(Number(recall)), `recall ${recall}`);
        // Precision is undefined only when nothing is predicted.
        assert.ok(Number.isFinite(Number(precision)) || (precision === 'n/a' && predicted === 0), `precision ${precision}`);
        assert.ok(reference > 0, 'the crop holds lesion voxels');
        assert.ok(Number.isFinite(lastLoss), `last training loss ${row[8]}`);
      }
      assert.match(md, /Smoke-test run/);
      assert.match(md, /3 Adam steps/);
      assert.match(md, /Lesjak/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
