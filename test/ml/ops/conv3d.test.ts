// Our conv3dSame/conv3dSameMulti against tf.conv3d on the cpu backend (itself the reference:
// the stock wasm Conv3DBackpropInputV2 is wrong), forward and gradients, run on cpu and on wasm.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/ml/backend';
import { conv3dSame, conv3dSameMulti, samePadding } from '../../../src/ml/ops';

/** max |a − b| / max |b| (0 when b is all zero and a equals it). */
function relErr(a: Float32Array | number[], b: Float32Array | number[]): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

interface Reference {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** Forward and gradients of the stock tf.conv3d on the cpu backend. */
async function cpuReference(x: Float32Array, xShape: number[], w: Float32Array, wShape: number[], dy: (shape: number[]) => Float32Array, stride: 1 | 2): Promise<Reference & { dyValues: Float32Array }> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  const out = tf.tidy(() => {
    const xt = tf.tensor(x, xShape) as unknown as tf.Tensor5D;
    const wt = tf.tensor(w, wShape) as unknown as tf.Tensor5D;
    const y = tf.conv3d(xt, wt, stride, 'same');
    const dyValues = dy(y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, stride, 'same'))([xt, wt], tf.tensor(dyValues, y.shape));
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array, dyValues };
  });
  await tf.setBackend(previous);
  return out;
}

function random(n: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

const CASES: { x: number[]; w: number[]; stride: 1 | 2 }[] = [
  { x: [1, 8, 8, 8, 3], w: [3, 3, 3, 3, 4], stride: 1 },
  { x: [2, 7, 6, 5, 2], w: [3, 3, 3, 2, 3], stride: 1 },
  { x: [1, 6, 6, 6, 2], w: [1, 1, 1, 2, 3], stride: 1 },
  { x: [1, 6, 5, 6, 2], w: [2, 2, 2, 2, 3], stride: 1 },
  { x: [1, 8, 8, 8, 3], w: [3, 3, 3, 3, 4], stride: 2 },
  { x: [1, 7, 9, 6, 2], w: [3, 3, 3, 2, 3], stride: 2 },
  { x: [2, 6, 6, 6, 2], w: [2, 2, 2, 2, 2], stride: 2 },
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`conv3dSame on ${backend} equals tf.conv3d on cpu`, () => {
    before(async () => {
      const info = await initBackend({ preferred: backend, wasmThreads: 1 });
      assert.equal(info.name, backend);
    });
    for (const c of CASES) {
      it(`x [${c.x}] w [${c.w}] stride ${c.stride}: value, input and filter gradients`, async () => {
        const xs = c.x.reduce((a, b) => a * b, 1);
        const ws = c.w.reduce((a, b) => a * b, 1);
        const x = random(xs, 11);
        const w = random(ws, 12);
        const ref = await cpuReference(x, c.x, w, c.w, (shape) => random(shape.reduce((a, b) => a * b, 1), 13), c.stride);
        const before = tf.memory().numTensors;
        const got = tf.tidy(() => {
          const xt = tf.tensor(x, c.x) as unknown as tf.Tensor5D;
          const wt = tf.tensor(w, c.w) as unknown as tf.Tensor5D;
          const y = conv3dSame(xt, wt, c.stride);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv3dSame(a as tf.Tensor5D, b as tf.Tensor5D, c.stride))([xt, wt], tf.tensor(ref.dyValues, y.shape));
          assert.deepEqual(dx.shape, c.x);
          assert.deepEqual(dw.shape, c.w);
          return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
        });
        assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
        assert.ok(relErr(got.y, ref.y) < 2e-6, `value rel err ${relErr(got.y, ref.y)}`);
        assert.ok(relErr(got.dx, ref.dx) < 2e-6, `input gradient rel err ${relErr(got.dx, ref.dx)}`);
        assert.ok(relErr(got.dw, ref.dw) < 2e-6, `filter gradient rel err ${relErr(got.dw, ref.dw)}`);
      });
    }

    it('conv3dSameMulti([a, b]) equals conv3dSame(concat(a, b)), gradients included', () => {
      tf.tidy(() => {
        const a = tf.randomNormal([1, 6, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor5D;
        const b = tf.randomNormal([1, 6, 6, 6, 2], 0, 1, 'float32', 2) as tf.Tensor5D;
        const w = tf.randomNormal([3, 3, 3, 5, 4], 0, 1, 'float32', 3) as tf.Tensor5D;
        const dy = tf.randomNormal([1, 6, 6, 6, 4], 0, 1, 'float32', 4);
        const multi = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => conv3dSameMulti([p as tf.Tensor5D, q as tf.Tensor5D], r as tf.Tensor5D))([a, b, w], dy);
        const single = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => conv3dSame(tf.concat([p, q], 4) as tf.Tensor5D, r as tf.Tensor5D))([a, b, w], dy);
        const ym = conv3dSameMulti([a, b], w).dataSync() as Float32Array;
        const ys = conv3dSame(tf.concat([a, b], 4) as tf.Tensor5D, w).dataSync() as Float32Array;
        assert.ok(relErr(ym, ys) < 1e-6);
        for (let i = 0; i < 3; i++) {
          const e = relErr(multi[i].dataSync() as Float32Array, single[i].dataSync() as Float32Array);
          assert.ok(e < 1e-6, `gradient ${i} rel err ${e}`);
        }
      });
    });
  });
}

describe('conv3dSame input checks', () => {
  it('rejects a stride other than 1 or 2, wrong ranks and channel mismatches with clear messages', () => {
    tf.tidy(() => {
      const x = tf.zeros([1, 4, 4, 4, 2]) as tf.Tensor5D;
      assert.throws(() => conv3dSame(x, tf.zeros([3, 3, 3, 2, 1]) as tf.Tensor5D, 3 as 1), /stride is 3; expected 1 or 2/);
      assert.throws(() => conv3dSame(x, tf.zeros([3, 3, 3, 5, 1]) as tf.Tensor5D), /filter expects 5 input channels but the inputs have 2/);
      assert.throws(() => conv3dSame(tf.zeros([4, 4, 4, 2]) as unknown as tf.Tensor5D, tf.zeros([3, 3, 3, 2, 1]) as tf.Tensor5D), /expected rank 5/);
      assert.throws(
        () => conv3dSameMulti([x, tf.zeros([1, 4, 4, 2, 2]) as tf.Tensor5D], tf.zeros([3, 3, 3, 4, 1]) as tf.Tensor5D),
        /different spatial shapes/,
      );
    });
  });

  it('samePadding follows TensorFlow: out = ceil(n/s), front = floor(total/2)', () => {
    assert.deepEqual(samePadding(8, 3, 1), { outSize: 8, front: 1, back: 1 });
    assert.deepEqual(samePadding(8, 3, 2), { outSize: 4, front: 0, back: 1 });
    assert.deepEqual(samePadding(7, 3, 2), { outSize: 4, front: 1, back: 1 });
    assert.deepEqual(samePadding(6, 2, 1), { outSize: 6, front: 0, back: 1 });
    assert.deepEqual(samePadding(6, 1, 2), { outSize: 3, front: 0, back: 0 });
  });
});
