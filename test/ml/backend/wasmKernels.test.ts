// The replaced wasm Identity (shares data) and Slice (copies only the slice) kernels: same results
// as the cpu backend for every slice shape, and clones that outlive their originals.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/ml/backend';
import { copySliceRuns } from '../../../src/ml/backend/wasmKernels';

before(async () => {
  assert.equal((await initBackend({ preferred: 'wasm', wasmThreads: 1 })).name, 'wasm');
});

const CASES: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [10], begin: [3], size: [4] },
  { shape: [4, 5], begin: [1, 0], size: [2, 5] },
  { shape: [4, 5], begin: [1, 2], size: [3, 2] },
  { shape: [3, 4, 5], begin: [0, 1, 0], size: [3, 2, 5] },
  { shape: [3, 4, 5], begin: [1, 1, 1], size: [2, 3, 3] },
  { shape: [2, 3, 4, 5], begin: [1, 0, 2, 1], size: [1, 3, 2, 4] },
  { shape: [2, 3, 4, 5, 2], begin: [0, 1, 0, 2, 1], size: [2, 2, 4, 3, 1] },
  { shape: [2, 3, 4, 5, 2], begin: [1, 0, 0, 0, 0], size: [1, 3, 4, 5, 2] },
  { shape: [2, 3], begin: [0, 0], size: [2, 3] },
  { shape: [2, 3], begin: [1, 1], size: [0, 2] },
];

describe('wasm Slice replacement', () => {
  for (const c of CASES) {
    it(`slice of [${c.shape}] at [${c.begin}] size [${c.size}] equals the cpu backend`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: n }, (_, i) => i * 1.5 - 7);
      const onWasm = tf.tidy(() => tf.slice(tf.tensor(values, c.shape), c.begin, c.size).dataSync());
      await tf.setBackend('cpu');
      const onCpu = tf.tidy(() => tf.slice(tf.tensor(values, c.shape), c.begin, c.size).dataSync());
      await tf.setBackend('wasm');
      assert.deepEqual(Array.from(onWasm), Array.from(onCpu));
    });
  }

  it('int32 slices too', () => {
    const r = tf.tidy(() => Array.from(tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]).dataSync()));
    assert.deepEqual(r, [2, 3, 5, 6]);
  });

  it('copySliceRuns handles a whole-tensor slice as one run', () => {
    const out = new Float32Array(6);
    copySliceRuns(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [0, 0], [2, 3], out);
    assert.deepEqual(Array.from(out), [1, 2, 3, 4, 5, 6]);
  });
});

describe('wasm Identity replacement', () => {
  it('tf.clone shares the data (same data id) and the clone survives disposing the original', () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    assert.equal(b.dataId, a.dataId);
    a.dispose();
    assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
    b.dispose();
  });
});
