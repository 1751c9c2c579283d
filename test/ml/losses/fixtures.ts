// Small deterministic tensors for the loss tests.
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../../src/util/random';

/** Deterministic uniform [0,1) generator (mulberry32): the engine's, re-exported for the tests. */
export { seededRandom };

/** Random labels `[B,…spatial]` (class c with probability `classProbabilities[c]`). */
export function randomLabels(spatialShape: number[], classProbabilities: number[], seed: number): Int32Array {
  const random = seededRandom(seed);
  const size = spatialShape.reduce((a, b) => a * b, 1);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    let u = random();
    let c = 0;
    while (c < classProbabilities.length - 1 && u >= classProbabilities[c]!) {
      u -= classProbabilities[c]!;
      c++;
    }
    labels[i] = c;
  }
  return labels;
}

/** One-hot float32 tensor `[…spatial, C]` from labels. */
export function oneHotTensor(labels: Int32Array, spatialShape: number[], numClasses: number): tf.Tensor {
  return tf.tidy(() => tf.oneHot(tf.tensor(labels, spatialShape, 'int32'), numClasses).toFloat());
}

/** Random softmax probabilities `[…spatial, C]`, mildly correlated with `labels` so losses are mid-range. */
export function randomProbabilities(labels: Int32Array, spatialShape: number[], numClasses: number, seed: number): tf.Tensor {
  const random = seededRandom(seed);
  const logits = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    for (let c = 0; c < numClasses; c++) {
      logits[i * numClasses + c] = 2 * (random() - 0.5) + (labels[i] === c ? 1 : 0);
    }
  }
  return tf.tidy(() => tf.softmax(tf.tensor(logits, [...spatialShape, numClasses]), -1));
}

/** A random case: one-hot target, probabilities and labels. */
export function randomCase(
  spatialShape: number[],
  numClasses = 2,
  seed = 1,
  classProbabilities?: number[],
): { labels: Int32Array; yTrue: tf.Tensor; yPred: tf.Tensor } {
  const probabilities = classProbabilities ?? [0.8, ...Array.from({ length: numClasses - 1 }, () => 0.2 / (numClasses - 1))];
  const labels = randomLabels(spatialShape, probabilities, seed);
  return {
    labels,
    yTrue: oneHotTensor(labels, spatialShape, numClasses),
    yPred: randomProbabilities(labels, spatialShape, numClasses, seed + 1000),
  };
}

/** Reads a scalar or vector tensor, disposes it, and returns its values. */
export function values(t: tf.Tensor): number[] {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

/** Reads a scalar tensor and disposes it. */
export function scalarValue(t: tf.Tensor): number {
  const [v] = values(t);
  if (t.rank !== 0) throw new Error(`expected a scalar, got shape [${t.shape.join(',')}]`);
  return v!;
}
