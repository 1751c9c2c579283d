// `npm run check:losses -- FILE`: evaluates every case of a loss vectors file (format of
// ../shared/loss-vectors.json) on the tfjs CPU backend, prints one line per case with its error,
// then `N passed, M failed`, and exits 1 on any failure.
import * as tf from '@tensorflow/tfjs';
import { checkLossVectorFile } from '../src/ml/losses/referenceVectors';

async function main(): Promise<number> {
  const file = process.argv[2];
  if (file === undefined || process.argv.length > 3) {
    console.error('usage: npm run check:losses -- FILE   (a loss vectors JSON file)');
    return 2;
  }
  await tf.setBackend('cpu');
  const check = checkLossVectorFile(file);
  for (const line of check.stdout) console.log(line);
  for (const line of check.stderr) console.error(line);
  return check.status;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`check:losses: ${(err as Error).message}`);
    process.exit(1);
  },
);
