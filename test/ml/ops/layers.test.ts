// The U-Net's custom-gradient ops against plain-op references differentiated by tfjs on the cpu
// backend, run on cpu and on wasm.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/ml/backend';
import { batchNormInference, maxPool2x, normAffineRelu, pointwiseConv3d, upsampleNearest2x } from '../../../src/ml/ops';

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const av = a.dataSync();
  const bv = b.dataSync();
  assert.equal(av.length, bv.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < bv.length; i++) {
    d = Math.max(d, Math.abs(av[i] - bv[i]));
    m = Math.max(m, Math.abs(bv[i]));
  }
  return m === 0 ? d : d / m;
}

/** Plain-op normalisation + affine + ReLU (autograd reference). */
function referenceNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, axes: number[], relu: boolean): tf.Tensor {
  const { mean, variance } = tf.moments(x, axes, true);
  const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  return relu ? tf.relu(y) : y;
}

/** Nearest upsampling by 2 and its gradient (2×2×2 block sums) as plain loops: backend-independent. */
function upsampleLoops(x: Float32Array, shape: number[], dy: Float32Array): { y: Float32Array; dx: Float32Array } {
  const [b, d, h, w, c] = shape;
  const y = new Float32Array(8 * x.length);
  const dx = new Float32Array(x.length);
  for (let n = 0; n < b; n++)
    for (let z = 0; z < 2 * d; z++)
      for (let r = 0; r < 2 * h; r++)
        for (let q = 0; q < 2 * w; q++)
          for (let k = 0; k < c; k++) {
            const o = (((n * 2 * d + z) * 2 * h + r) * 2 * w + q) * c + k;
            const i = (((n * d + (z >> 1)) * h + (r >> 1)) * w + (q >> 1)) * c + k;
            y[o] = x[i];
            dx[i] += dy[o];
          }
  return { y, dx };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`U-Net ops on ${backend}`, () => {
    before(async () => {
      assert.equal((await initBackend({ preferred: backend, wasmThreads: 1 })).name, backend);
    });

    for (const mode of ['batch', 'instance'] as const) {
      for (const relu of [true, false]) {
        it(`normAffineRelu ${mode}${relu ? ' + ReLU' : ''}: value and gradients match autograd`, () => {
          const axes = mode === 'batch' ? [0, 1, 2, 3] : [1, 2, 3];
          const numBefore = tf.memory().numTensors;
          tf.tidy(() => {
            const x = tf.randomNormal([2, 4, 3, 5, 3], 0.5, 2, 'float32', 5) as tf.Tensor5D;
            const g = tf.tensor1d([1.5, -0.5, 0.8]);
            const b = tf.tensor1d([0.1, 0.2, -0.3]);
            const dy = tf.randomNormal(x.shape, 0, 1, 'float32', 6);
            const ours = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => normAffineRelu(p as tf.Tensor5D, q as tf.Tensor1D, r as tf.Tensor1D, { mode, epsilon: 1e-5, relu }))([x, g, b], dy);
            const ref = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => referenceNorm(p, q, r, axes, relu))([x, g, b], dy);
            assert.ok(relErr(normAffineRelu(x, g, b, { mode, epsilon: 1e-5, relu }), referenceNorm(x, g, b, axes, relu)) < 1e-5);
            ['x', 'gamma', 'beta'].forEach((name, i) => {
              const e = relErr(ours[i], ref[i]);
              assert.ok(e < 1e-4, `${name} gradient rel err ${e}`);
            });
          });
          assert.equal(tf.memory().numTensors, numBefore, 'no tensor leaked');
        });
      }
    }

    it('normAffineRelu reports the batch mean and biased variance per channel', () => {
      tf.tidy(() => {
        const x = tf.randomNormal([1, 2, 3, 4, 2], 3, 2, 'float32', 9) as tf.Tensor5D;
        let seen: number[][] = [];
        normAffineRelu(x, tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, {
          mode: 'batch',
          epsilon: 1e-5,
          relu: true,
          onBatchStats: (m, v) => {
            seen = [Array.from(m.dataSync()), Array.from(v.dataSync())];
          },
        });
        const { mean, variance } = tf.moments(x, [0, 1, 2, 3]);
        assert.ok(relErr(tf.tensor(seen[0]), mean) < 1e-5);
        assert.ok(relErr(tf.tensor(seen[1]), variance) < 1e-5);
      });
    });

    it('batchNormInference applies running statistics', () => {
      tf.tidy(() => {
        const x = tf.randomNormal([1, 2, 2, 2, 2], 0, 1, 'float32', 3) as tf.Tensor5D;
        const g = tf.tensor1d([2, 0.5]);
        const b = tf.tensor1d([1, -1]);
        const m = tf.tensor1d([0.3, -0.2]);
        const v = tf.tensor1d([4, 0.25]);
        const expected = tf.relu(tf.add(tf.mul(tf.div(tf.sub(x, m), tf.sqrt(tf.add(v, 1e-5))), g), b));
        assert.ok(relErr(batchNormInference(x, g, b, m, v, 1e-5, true), expected) < 1e-6);
      });
    });

    it('upsampleNearest2x: value and gradient match plain loops', () => {
      tf.tidy(() => {
        const x = tf.randomNormal([2, 3, 2, 4, 3], 0, 1, 'float32', 7) as tf.Tensor5D;
        const dy = tf.randomNormal([2, 6, 4, 8, 3], 0, 1, 'float32', 8);
        const ref = upsampleLoops(x.dataSync() as Float32Array, x.shape, dy.dataSync() as Float32Array);
        assert.equal(relErr(upsampleNearest2x(x), tf.tensor(ref.y, dy.shape)), 0);
        const ours = tf.grad((p: tf.Tensor) => upsampleNearest2x(p as tf.Tensor5D))(x, dy);
        assert.ok(relErr(ours, tf.tensor(ref.dx, x.shape)) < 1e-6);
      });
    });

    it('maxPool2x equals tf.maxPool3d on cpu (distinct values), gradient included; odd sizes rejected', async () => {
      // A permutation: no ties, so the gradient is unique.
      const n = 2 * 4 * 6 * 4 * 3;
      const values = tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', 21).dataSync() as Float32Array);
      const shape: [number, number, number, number, number] = [2, 4, 6, 4, 3];
      const dyValues = tf.tidy(() => tf.randomNormal([n / 8], 0, 1, 'float32', 22).dataSync() as Float32Array);
      const previous = tf.getBackend();
      await tf.setBackend('cpu');
      const ref = tf.tidy(() => {
        const x = tf.tensor(values, shape) as tf.Tensor5D;
        const y = tf.maxPool3d(x, 2, 2, 'valid');
        const dx = tf.grad((p: tf.Tensor) => tf.maxPool3d(p as tf.Tensor5D, 2, 2, 'valid'))(x, tf.tensor(dyValues, y.shape));
        return { y: y.dataSync(), dx: dx.dataSync() };
      });
      await tf.setBackend(previous);
      tf.tidy(() => {
        const x = tf.tensor(values, shape) as tf.Tensor5D;
        const y = maxPool2x(x);
        assert.deepEqual(y.shape, [2, 2, 3, 2, 3]);
        assert.deepEqual(Array.from(y.dataSync()), Array.from(ref.y));
        const dx = tf.grad((p: tf.Tensor) => maxPool2x(p as tf.Tensor5D))(x, tf.tensor(dyValues, y.shape));
        assert.equal(relErr(dx, tf.tensor(ref.dx, shape)), 0); // (−0 and 0 both appear: compare numerically)
        assert.throws(() => maxPool2x(tf.zeros([1, 3, 4, 4, 1]) as tf.Tensor5D), /odd spatial size/);
      });
    });

    it('pointwiseConv3d equals tf.conv3d with a 1×1×1 kernel plus bias', () => {
      tf.tidy(() => {
        const x = tf.randomNormal([1, 2, 3, 4, 5], 0, 1, 'float32', 1) as tf.Tensor5D;
        const k = tf.randomNormal([5, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
        const bias = tf.tensor1d([0.5, -1, 2]);
        const expected = tf.add(tf.conv3d(x, k.reshape([1, 1, 1, 5, 3]) as tf.Tensor5D, 1, 'same'), bias);
        assert.ok(relErr(pointwiseConv3d(x, k, bias), expected) < 1e-6);
      });
    });
  });
}
