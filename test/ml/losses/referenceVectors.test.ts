// The 31 shared reference vectors (values and gradients), and the `check:losses` command.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  checkLossVectorFile,
  evaluateLossVectorCase,
  parseLossVectors,
  type LossVectorCase,
} from '../../../src/ml/losses/referenceVectors';
import { SHARED_DIR } from '../../helpers/sharedData';

const VECTORS_PATH = join(SHARED_DIR, 'loss-vectors.json');
const REPO_ROOT = resolve(__dirname, '../../..');

// In CI a missing vectors file fails the suite; elsewhere the tests that need it are skipped.
function skipWithoutVectors(): string | false {
  if (existsSync(VECTORS_PATH)) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true but the shared loss vectors are missing: ${VECTORS_PATH}`);
  return `shared loss vectors not found at ${VECTORS_PATH}`;
}
const skip = skipWithoutVectors();

/** The check:losses command as a process (exit status and output); one test runs it so. */
function runCheckLossesProcess(file: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-losses.ts', file], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What check:losses prints and exits with, computed in this process (tfjs is already on the CPU backend). */
function runCheckLosses(file: string): { status: number; stdout: string; stderr: string } {
  const check = checkLossVectorFile(file);
  const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');
  return { status: check.status, stdout: text(check.stdout), stderr: text(check.stderr) };
}

before(async () => {
  await tf.setBackend('cpu');
});

describe('shared loss vectors', { skip }, () => {
  const cases: LossVectorCase[] = skip ? [] : parseLossVectors(readFileSync(VECTORS_PATH, 'utf8'), VECTORS_PATH);

  test('the file holds the 31 cases, 6 with gradients, and every reference loss', () => {
    assert.equal(cases.length, 31);
    assert.equal(cases.filter((c) => c.grad !== undefined).length, 6);
    assert.equal(new Set(cases.map((c) => c.loss)).size, 12);
  });

  for (const testCase of cases) {
    test(testCase.name, () => {
      const result = evaluateLossVectorCase(testCase);
      assert.equal(result.problem, undefined, result.problem);
      assert.ok(
        result.valueError <= result.valueTolerance,
        `value ${result.value} vs ${result.expected}: error ${result.valueError} > ${result.valueTolerance}`,
      );
      if (testCase.grad !== undefined) {
        assert.ok(
          result.gradientError! <= result.gradientTolerance!,
          `gradient error ${result.gradientError} > ${result.gradientTolerance}`,
        );
      }
      assert.ok(result.passed);
    });
  }

  test('the Unified Focal components match the reference terms', async () => {
    const { AsymmetricUnifiedFocalLoss, SymmetricUnifiedFocalLoss } = await import('../../../src/ml/losses');
    for (const c of cases.filter((x) => x.components !== undefined)) {
      const params = c.params as { weight: number; delta: number; gamma: number; rare_classes?: number[] };
      const options = { weight: params.weight, delta: params.delta, gamma: params.gamma, rareClasses: params.rare_classes };
      const loss = c.loss.startsWith('asym') ? new AsymmetricUnifiedFocalLoss(options) : new SymmetricUnifiedFocalLoss(options);
      const yTrue = tf.tensor(c.y_true, c.shape);
      const yPred = tf.tensor(Float32Array.from(c.y_pred), c.shape);
      const terms = loss.computeTerms(yTrue, yPred);
      const [focalTversky, focal] = [terms.focalTversky.dataSync()[0]!, terms.focal.dataSync()[0]!];
      tf.dispose([yTrue, yPred, terms.focalTversky, terms.focal]);
      for (const [got, expected, what] of [
        [focalTversky, c.components!.focal_tversky!, 'focal_tversky'],
        [focal, c.components!.focal!, 'focal'],
      ] as const) {
        assert.ok(Math.abs(got - expected) <= 1e-6 + 1e-5 * Math.abs(expected), `${c.name} ${what}: ${got} vs ${expected}`);
      }
    }
  });

  test('npm run check:losses passes on the shared file: one line per case, then "31 passed, 0 failed"', () => {
    const { status, stdout, stderr } = runCheckLosses(VECTORS_PATH);
    assert.equal(status, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.equal(lines[lines.length - 1], '31 passed, 0 failed');
    assert.equal(lines.filter((l) => /^PASS \S+ .*value err \d/.test(l)).length, 31);
    assert.equal(lines.filter((l) => l.includes('grad err')).length, 6);
  });

  test('check:losses (the command, as a process) exits 1 and reports the failing case when a value or gradient is off', () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-losses-'));
    try {
      const document = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as { cases: LossVectorCase[] };
      const valueCase = { ...document.cases.find((c) => c.name === 'asym_uf_3d_default')! };
      const gradientCase = { ...valueCase, name: 'bad_gradient', grad: [...valueCase.grad!] };
      valueCase.expected += 1e-4;
      gradientCase.grad[7] = gradientCase.grad[7]! + 1e-3;
      const goodCase = document.cases.find((c) => c.name === 'ce_3d_random')!;
      const unknownLoss = { ...goodCase, name: 'unknown_loss', loss: 'lovasz_loss' };
      const file = join(dir, 'vectors.json');
      writeFileSync(file, JSON.stringify({ cases: [goodCase, valueCase, gradientCase, unknownLoss] }));
      const { status, stdout } = runCheckLossesProcess(file);
      assert.equal(status, 1);
      const lines = stdout.trim().split('\n');
      assert.equal(lines[lines.length - 1], '1 passed, 3 failed');
      assert.match(stdout, /^PASS ce_3d_random /m);
      assert.match(stdout, /^FAIL asym_uf_3d_default .*value err 1\.00e-4/m);
      assert.match(stdout, /^FAIL bad_gradient .*grad err 1\.00e-3/m);
      assert.match(stdout, /^FAIL unknown_loss +error: unknown reference loss 'lovasz_loss'/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('check:losses on bad files', () => {
  test('a missing file or a file without cases exits 1 with a one-sentence error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-losses-'));
    try {
      const missing = runCheckLosses(join(dir, 'absent.json'));
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /check:losses: cannot read .*absent\.json/);
      const noCases = join(dir, 'no-cases.json');
      writeFileSync(noCases, '{"format":"x"}');
      const result = runCheckLosses(noCases);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /no-cases\.json has no 'cases' array\./);
      const badShape = join(dir, 'bad-shape.json');
      writeFileSync(badShape, JSON.stringify({ cases: [{ name: 'x', loss: 'dice_loss', params: {}, shape: [1, 2, 2, 2], y_true: [1], y_pred: [1], expected: 0 }] }));
      const shapeResult = runCheckLosses(badShape);
      assert.equal(shapeResult.status, 1);
      assert.match(shapeResult.stderr, /case 0 \('x'\) has 'y_true' of length 1, expected 8\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
