// `npm run check:losses -- FILE`: evaluates every case of a loss vectors file (format of
// ../shared/loss-vectors.json) on the tfjs CPU backend, prints one line per case with its error,
// then `N passed, M failed`, and exits 1 on any failure.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {
  evaluateLossVectorCase,
  formatLossVectorResult,
  parseLossVectors,
} from '../src/ml/losses/referenceVectors';

async function main(): Promise<number> {
  const file = process.argv[2];
  if (file === undefined || process.argv.length > 3) {
    console.error('usage: npm run check:losses -- FILE   (a loss vectors JSON file)');
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    console.error(`check:losses: cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  let cases;
  try {
    cases = parseLossVectors(text, file);
  } catch (err) {
    console.error(`check:losses: ${(err as Error).message}`);
    return 1;
  }
  await tf.setBackend('cpu');
  let passed = 0;
  let worstValue = { error: 0, name: '' };
  let worstGradient = { error: 0, relative: 0, name: '' };
  for (const testCase of cases) {
    const result = evaluateLossVectorCase(testCase);
    console.log(formatLossVectorResult(result));
    if (result.passed) passed++;
    if (result.valueError > worstValue.error) worstValue = { error: result.valueError, name: result.name };
    if (result.gradientError !== null && result.gradientError > worstGradient.error) {
      worstGradient = {
        error: result.gradientError,
        relative: result.gradientError / (result.gradientTolerance! / 1e-5),
        name: result.name,
      };
    }
  }
  console.log(
    `worst value error ${worstValue.error.toExponential(2)} (${worstValue.name}); worst gradient error ` +
      `${worstGradient.error.toExponential(2)} = ${worstGradient.relative.toExponential(2)}·max|g| (${worstGradient.name})`,
  );
  console.log(`${passed} passed, ${cases.length - passed} failed`);
  return passed === cases.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`check:losses: ${(err as Error).message}`);
    process.exit(1);
  },
);
