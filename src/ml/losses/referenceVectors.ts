// Checks the losses against reference vectors (format of ../shared/loss-vectors.json, produced
// by a float64 NumPy port of the authors' code with PyTorch autograd gradients). Used by
// `npm run check:losses -- FILE` and by the test suite.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { SegmentationLoss } from './base';
import { LossError, describeValue } from './options';
import { createLoss } from './registry';

/** Value tolerance: `|got − expected| <= 1e-6 + 1e-5·|expected|` (float32 port of a float64 reference). */
export const VALUE_ABSOLUTE_TOLERANCE = 1e-6;
export const VALUE_RELATIVE_TOLERANCE = 1e-5;
/** Gradient tolerance: every element within `1e-5·max|g_expected|`. */
export const GRADIENT_RELATIVE_TOLERANCE = 1e-5;

/** One case of a vectors file. */
export interface LossVectorCase {
  name: string;
  loss: string;
  params: Record<string, unknown>;
  shape: number[];
  y_true: number[];
  y_pred: number[];
  expected: number;
  grad?: number[];
  components?: Record<string, number>;
  extension?: boolean;
}

/** Outcome of one case. */
export interface LossVectorResult {
  name: string;
  passed: boolean;
  value: number;
  expected: number;
  valueError: number;
  valueTolerance: number;
  /** max |g − g_expected| over elements, or null when the case has no gradient. */
  gradientError: number | null;
  /** `1e-5·max|g_expected|`, or null when the case has no gradient. */
  gradientTolerance: number | null;
  /** Set when the case could not be evaluated (bad case, unknown loss, thrown error). */
  problem?: string;
}

/** Reference loss names (the authors' function names) → registry names and option renames. */
const REFERENCE_LOSSES: Record<
  string,
  { name: Parameters<typeof createLoss>[0]; rename: Record<string, string>; fixed?: Record<string, number> }
> = {
  cross_entropy: { name: 'cross-entropy', rename: {} },
  focal_loss: { name: 'focal', rename: { gamma_f: 'gamma' } },
  // The authors' dice_loss takes delta but is only the Dice loss at delta = 0.5.
  dice_loss: { name: 'dice', rename: {}, fixed: { delta: 0.5 } },
  tversky_loss: { name: 'tversky', rename: {} },
  focal_tversky_loss: { name: 'focal-tversky', rename: {} },
  combo_loss: { name: 'combo', rename: {} },
  symmetric_focal_loss: { name: 'symmetric-focal', rename: {} },
  asymmetric_focal_loss: { name: 'asymmetric-focal', rename: {} },
  symmetric_focal_tversky_loss: { name: 'symmetric-focal-tversky', rename: {} },
  asymmetric_focal_tversky_loss: { name: 'asymmetric-focal-tversky', rename: {} },
  sym_unified_focal_loss: { name: 'symmetric-unified-focal', rename: { rare_classes: 'rareClasses' } },
  asym_unified_focal_loss: { name: 'asymmetric-unified-focal', rename: { rare_classes: 'rareClasses' } },
};

/** Builds the loss a reference case names, translating the authors' parameter names. */
export function lossForReferenceCase(testCase: LossVectorCase): SegmentationLoss {
  const reference = REFERENCE_LOSSES[testCase.loss];
  if (reference === undefined) {
    throw new LossError(`unknown reference loss ${describeValue(testCase.loss)}; known: ${Object.keys(REFERENCE_LOSSES).join(', ')}.`);
  }
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(testCase.params ?? {})) {
    // The reference writes `alpha: None` for "no class weights".
    if (value === null) continue;
    const fixed = reference.fixed?.[key];
    if (fixed !== undefined) {
      if (value !== fixed) {
        throw new LossError(`reference ${testCase.loss} with ${key} = ${describeValue(value)} is not supported (only ${fixed}).`);
      }
      continue;
    }
    options[reference.rename[key] ?? key] = value;
  }
  return createLoss(reference.name, options);
}

function checkCase(testCase: unknown, index: number): LossVectorCase {
  const c = testCase as Partial<LossVectorCase> | null;
  const size = Array.isArray(c?.shape) ? c!.shape.reduce((a, b) => a * b, 1) : NaN;
  const problem =
    c === null || typeof c !== 'object'
      ? 'is not an object'
      : typeof c.loss !== 'string'
        ? "has no 'loss' name"
        : !Array.isArray(c.shape) || !c.shape.every((d) => Number.isInteger(d) && d > 0)
          ? `has an ill 'shape' ${describeValue(c.shape)}`
          : !Array.isArray(c.y_true) || c.y_true.length !== size
            ? `has 'y_true' of length ${Array.isArray(c.y_true) ? c.y_true.length : 'none'}, expected ${size}`
            : !Array.isArray(c.y_pred) || c.y_pred.length !== size
              ? `has 'y_pred' of length ${Array.isArray(c.y_pred) ? c.y_pred.length : 'none'}, expected ${size}`
              : typeof c.expected !== 'number'
                ? "has no numeric 'expected'"
                : c.grad !== undefined && (!Array.isArray(c.grad) || c.grad.length !== size)
                  ? `has 'grad' of length ${Array.isArray(c.grad) ? c.grad.length : 'none'}, expected ${size}`
                  : null;
  if (problem !== null) throw new LossError(`case ${index} (${describeValue(c?.name)}) ${problem}.`);
  return c as LossVectorCase;
}

/** Parses a vectors file's JSON text into its cases. @throws {LossError} naming the problem. */
export function parseLossVectors(jsonText: string, fileName: string): LossVectorCase[] {
  let document: unknown;
  try {
    document = JSON.parse(jsonText);
  } catch (err) {
    throw new LossError(`${fileName} is not valid JSON: ${(err as Error).message}`);
  }
  const cases = (document as { cases?: unknown } | null)?.cases;
  if (!Array.isArray(cases)) throw new LossError(`${fileName} has no 'cases' array.`);
  return cases.map((c, i) => {
    try {
      return checkCase(c, i);
    } catch (err) {
      throw new LossError(`${fileName}: ${(err as Error).message}`);
    }
  });
}

/** Evaluates one case: value, and gradient w.r.t. `y_pred` (via `tf.grad`) where given. */
export function evaluateLossVectorCase(testCase: LossVectorCase): LossVectorResult {
  const valueTolerance = VALUE_ABSOLUTE_TOLERANCE + VALUE_RELATIVE_TOLERANCE * Math.abs(testCase.expected);
  const base = { name: testCase.name, expected: testCase.expected, valueTolerance };
  try {
    const loss = lossForReferenceCase(testCase);
    const yTrue = tf.tensor(testCase.y_true, testCase.shape, 'float32');
    // Float32Array rounds the float64 text to float32, as the reference did before computing.
    const yPred = tf.tensor(Float32Array.from(testCase.y_pred), testCase.shape, 'float32');
    try {
      const valueTensor = loss.compute(yTrue, yPred);
      const value = valueTensor.dataSync()[0]!;
      valueTensor.dispose();
      const valueError = Math.abs(value - testCase.expected);
      let gradientError: number | null = null;
      let gradientTolerance: number | null = null;
      if (testCase.grad !== undefined) {
        const gradient = tf.grad((p: tf.Tensor) => loss.compute(yTrue, p))(yPred);
        const got = gradient.dataSync();
        gradient.dispose();
        let maxExpected = 0;
        gradientError = 0;
        for (let i = 0; i < got.length; i++) {
          maxExpected = Math.max(maxExpected, Math.abs(testCase.grad[i]!));
          const diff = Math.abs(got[i]! - testCase.grad[i]!);
          gradientError = Number.isFinite(diff) ? Math.max(gradientError, diff) : Infinity;
        }
        gradientTolerance = GRADIENT_RELATIVE_TOLERANCE * maxExpected;
      }
      const passed =
        Number.isFinite(value) &&
        valueError <= valueTolerance &&
        (gradientError === null || gradientError <= gradientTolerance!);
      return { ...base, passed, value, valueError, gradientError, gradientTolerance };
    } finally {
      tf.dispose([yTrue, yPred]);
    }
  } catch (err) {
    return {
      ...base,
      passed: false,
      value: NaN,
      valueError: NaN,
      gradientError: null,
      gradientTolerance: null,
      problem: (err as Error).message,
    };
  }
}

/** One report line for a case, e.g. `PASS asym_uf_3d_default  value err 1.2e-8 (tol 5.0e-6)  grad err …`. */
export function formatLossVectorResult(result: LossVectorResult): string {
  const e = (x: number) => x.toExponential(2);
  const head = `${result.passed ? 'PASS' : 'FAIL'} ${result.name}`;
  if (result.problem !== undefined) return `${head}  error: ${result.problem}`;
  const gradient =
    result.gradientError === null ? '' : `  grad err ${e(result.gradientError)} (tol ${e(result.gradientTolerance!)})`;
  return `${head}  value ${result.value.toPrecision(9)} expected ${result.expected.toPrecision(9)}  value err ${e(
    result.valueError,
  )} (tol ${e(result.valueTolerance)})${gradient}`;
}

/** What `npm run check:losses` prints for a vectors file, and the exit status it ends with. */
export interface LossVectorFileCheck {
  /** 0 when every case passed, 1 when a case failed or the file is unusable. */
  status: 0 | 1;
  /** One line per case, the worst errors, then `N passed, M failed`. */
  stdout: string[];
  /** The one-sentence error of an unreadable or malformed file. */
  stderr: string[];
}

/**
 * Evaluates every case of a loss vectors file on the current tfjs backend (check:losses sets
 * the CPU backend first).
 */
export function checkLossVectorFile(file: string): LossVectorFileCheck {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { status: 1, stdout: [], stderr: [`check:losses: cannot read ${file}: ${(err as Error).message}`] };
  }
  let cases: LossVectorCase[];
  try {
    cases = parseLossVectors(text, file);
  } catch (err) {
    return { status: 1, stdout: [], stderr: [`check:losses: ${(err as Error).message}`] };
  }
  const stdout: string[] = [];
  let passed = 0;
  let worstValue = { error: 0, name: '' };
  let worstGradient = { error: 0, relative: 0, name: '' };
  for (const testCase of cases) {
    const result = evaluateLossVectorCase(testCase);
    stdout.push(formatLossVectorResult(result));
    if (result.passed) passed++;
    if (result.valueError > worstValue.error) worstValue = { error: result.valueError, name: result.name };
    if (result.gradientError !== null && result.gradientTolerance !== null && result.gradientError > worstGradient.error) {
      worstGradient = {
        error: result.gradientError,
        relative: result.gradientError / (result.gradientTolerance / GRADIENT_RELATIVE_TOLERANCE),
        name: result.name,
      };
    }
  }
  stdout.push(
    `worst value error ${worstValue.error.toExponential(2)} (${worstValue.name}); worst gradient error ` +
      `${worstGradient.error.toExponential(2)} = ${worstGradient.relative.toExponential(2)}·max|g| (${worstGradient.name})`,
  );
  stdout.push(`${passed} passed, ${cases.length - passed} failed`);
  return { status: passed === cases.length ? 0 : 1, stdout, stderr: [] };
}
