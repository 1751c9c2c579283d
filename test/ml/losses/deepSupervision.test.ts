// Deep supervision: weights 1, 1/2, 1/4, … (normalised by default) and target downsampling.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  AsymmetricUnifiedFocalLoss,
  DeepSupervisionLoss,
  DiceLoss,
  downsampleTarget,
} from '../../../src/ml/losses';
import { randomCase, randomProbabilities, scalarValue, values } from './fixtures';

before(async () => {
  await tf.setBackend('cpu');
});

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: got ${actual}, expected ${expected}`);
}

describe('DeepSupervisionLoss', () => {
  const inner = new AsymmetricUnifiedFocalLoss();

  test('one output gives the wrapped loss', () => {
    const { yTrue, yPred } = randomCase([2, 4, 8, 8], 2, 41);
    const wrapped = new DeepSupervisionLoss({ loss: inner });
    close(scalarValue(wrapped.compute(yTrue, [yPred])), scalarValue(inner.compute(yTrue, yPred)), 1e-7, 'single');
    tf.dispose([yTrue, yPred]);
  });

  test('weights 1, 1/2, 1/4 are normalised by default and summed as given when normalizeWeights is false', () => {
    assert.deepEqual(new DeepSupervisionLoss({ loss: inner }).effectiveWeights(3), [4 / 7, 2 / 7, 1 / 7]);
    assert.deepEqual(new DeepSupervisionLoss({ loss: inner, normalizeWeights: false }).effectiveWeights(3), [1, 0.5, 0.25]);
    const { yTrue, yPred } = randomCase([2, 4, 8, 8], 2, 42);
    const plain = scalarValue(inner.compute(yTrue, yPred));
    // The same output three times: normalised gives the plain value, unnormalised 1.75×.
    close(scalarValue(new DeepSupervisionLoss({ loss: inner }).compute(yTrue, [yPred, yPred, yPred])), plain, 1e-6, 'normalised');
    close(
      scalarValue(new DeepSupervisionLoss({ loss: inner, normalizeWeights: false }).compute(yTrue, [yPred, yPred, yPred])),
      1.75 * plain,
      1e-6,
      'unnormalised',
    );
    tf.dispose([yTrue, yPred]);
  });

  test('coarser outputs are scored against the downsampled target', () => {
    const full = randomCase([2, 4, 8, 8], 2, 43);
    const half = randomCase([2, 2, 4, 4], 2, 44);
    const quarter = randomCase([2, 1, 2, 2], 2, 45);
    const halfTarget = full.yTrue.stridedSlice([0, 0, 0, 0, 0], [2, 4, 8, 8, 2], [1, 2, 2, 2, 1]);
    const quarterTarget = full.yTrue.stridedSlice([0, 0, 0, 0, 0], [2, 4, 8, 8, 2], [1, 4, 4, 4, 1]);
    const expected =
      (1 * scalarValue(inner.compute(full.yTrue, full.yPred)) +
        0.5 * scalarValue(inner.compute(halfTarget, half.yPred)) +
        0.25 * scalarValue(inner.compute(quarterTarget, quarter.yPred))) /
      1.75;
    const got = scalarValue(new DeepSupervisionLoss({ loss: inner }).compute(full.yTrue, [full.yPred, half.yPred, quarter.yPred]));
    close(got, expected, 1e-6, 'three scales');
    // Custom weights, one of them zero.
    const custom = new DeepSupervisionLoss({ loss: inner, weights: [1, 0, 1], normalizeWeights: false });
    close(
      scalarValue(custom.compute(full.yTrue, [full.yPred, half.yPred, quarter.yPred])),
      scalarValue(inner.compute(full.yTrue, full.yPred)) + scalarValue(inner.compute(quarterTarget, quarter.yPred)),
      1e-6,
      'custom weights',
    );
    tf.dispose([full.yTrue, full.yPred, half.yTrue, half.yPred, quarter.yTrue, quarter.yPred, halfTarget, quarterTarget]);
  });

  test("index targets and reduction 'none' pass through", () => {
    const full = randomCase([2, 4, 4], 2, 46);
    const half = randomCase([2, 2, 2], 2, 47);
    const labels = tf.tensor(full.labels, [2, 4, 4], 'int32');
    const indexLoss = new AsymmetricUnifiedFocalLoss({ target: 'index', reduction: 'none' });
    const oneHotLoss = new AsymmetricUnifiedFocalLoss({ reduction: 'none' });
    const fromIndex = new DeepSupervisionLoss({ loss: indexLoss }).compute(labels, [full.yPred, half.yPred]);
    const fromOneHot = new DeepSupervisionLoss({ loss: oneHotLoss }).compute(full.yTrue, [full.yPred, half.yPred]);
    assert.deepEqual(fromIndex.shape, [2]);
    const a = values(fromIndex);
    const b = values(fromOneHot);
    a.forEach((v, i) => close(v, b[i]!, 1e-7, `image ${i}`));
    tf.dispose([full.yTrue, full.yPred, half.yTrue, half.yPred, labels]);
  });

  test('gradients flow to every output', () => {
    const full = randomCase([1, 4, 4], 2, 48);
    const half = randomCase([1, 2, 2], 2, 49);
    const wrapped = new DeepSupervisionLoss({ loss: new DiceLoss() });
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => wrapped.compute(full.yTrue, [a, b]))([full.yPred, half.yPred]);
    for (const g of grads) {
      const v = values(g);
      assert.ok(v.every(Number.isFinite) && v.some((x) => x !== 0));
    }
    tf.dispose([full.yTrue, full.yPred, half.yTrue, half.yPred]);
  });

  test('ill options and mismatched outputs', () => {
    assert.throws(() => new DeepSupervisionLoss({ loss: {} as never }), /^LossError: DeepSupervisionLoss: option 'loss' is a value of type object; expected a loss object with compute\(\)\./);
    assert.throws(
      () => new DeepSupervisionLoss({ loss: inner, weights: [1, -1] }),
      /DeepSupervisionLoss: option 'weights' is \[1,-1\]; expected a non-empty list of finite weights >= 0, not all 0\./,
    );
    assert.throws(() => new DeepSupervisionLoss({ loss: inner, weights: [0, 0] }), /not all 0/);
    assert.throws(() => new DeepSupervisionLoss({ loss: inner, normalizeWeights: 'yes' as never }), /option 'normalizeWeights' is 'yes'; expected true or false\./);
    assert.throws(() => new DeepSupervisionLoss({ loss: inner, targetDownsampling: 'linear' as never }), /option 'targetDownsampling' is 'linear'; expected one of 'nearest', 'max-pool'/);
    const wrapped = new DeepSupervisionLoss({ loss: inner, weights: [1, 0.5] });
    const { yTrue, yPred } = randomCase([1, 6, 6], 2, 50);
    const coarse = tf.fill([1, 4, 4, 2], 0.5);
    assert.throws(() => wrapped.compute(yTrue, [yPred]), /option 'weights' has 2 entries but 1 outputs were given\./);
    assert.throws(() => wrapped.compute(yTrue, []), /no outputs were given/);
    assert.throws(
      () => wrapped.compute(yTrue, [yPred, coarse]),
      /DeepSupervisionLoss: output of shape \[1,4,4,2\] does not divide target of shape \[1,6,6,2\]/,
    );
    tf.dispose([yTrue, yPred, coarse]);
  });
});

describe('downsampleTarget', () => {
  // One lesion voxel at (1,1) of a 4×4 image: nearest (first voxel of each 2×2 block) loses it,
  // max-pool keeps it.
  const labels = new Int32Array(16);
  labels[5] = 1;

  test('nearest picks the first voxel of each block; max-pool keeps a lesion anywhere in the block', () => {
    const index = tf.tensor(labels, [1, 4, 4], 'int32');
    const oneHot = tf.oneHot(index, 2).toFloat();
    const nearest = downsampleTarget('test', index, [1, 2, 2, 2], 'index', 'nearest');
    assert.deepEqual(Array.from(nearest.dataSync()), [0, 0, 0, 0]);
    const pooled = downsampleTarget('test', index, [1, 2, 2, 2], 'index', 'max-pool');
    assert.deepEqual(pooled.shape, [1, 2, 2]);
    assert.deepEqual(Array.from(pooled.dataSync()), [1, 0, 0, 0]);
    const pooledOneHot = downsampleTarget('test', oneHot, [1, 2, 2, 2], 'one-hot', 'max-pool');
    assert.deepEqual(pooledOneHot.shape, [1, 2, 2, 2]);
    assert.deepEqual(Array.from(pooledOneHot.dataSync()), [0, 1, 1, 0, 1, 0, 1, 0]);
    const withChannel = downsampleTarget('test', index.expandDims(-1), [1, 2, 2, 2], 'index', 'max-pool');
    assert.deepEqual(withChannel.shape, [1, 2, 2, 1]);
    tf.dispose([index, oneHot, nearest, pooled, pooledOneHot, withChannel]);
  });

  test('3-D max-pool and the wrapper option', () => {
    const labels3d = new Int32Array(2 * 4 * 4);
    labels3d[1 * 16 + 3 * 4 + 3] = 1; // depth 1, row 3, column 3 → block (0,1,1)
    const index = tf.tensor(labels3d, [1, 2, 4, 4], 'int32');
    const pooled = downsampleTarget('test', index, [1, 1, 2, 2, 2], 'index', 'max-pool');
    assert.deepEqual(Array.from(pooled.dataSync()), [0, 0, 0, 1]);
    const prediction = tf.tidy(() => randomProbabilities(new Int32Array([0, 0, 0, 1]), [1, 1, 2, 2], 2, 3));
    const fullPrediction = tf.fill([1, 2, 4, 4, 2], 0.5);
    const loss = new DiceLoss({ target: 'index' });
    const wrapped = new DeepSupervisionLoss({ loss, targetDownsampling: 'max-pool', weights: [0, 1] });
    close(
      scalarValue(wrapped.compute(index, [fullPrediction, prediction])),
      scalarValue(loss.compute(pooled, prediction)),
      1e-7,
      'max-pool wrapper',
    );
    tf.dispose([index, pooled, prediction, fullPrediction]);
  });
});
