// Backend selection: tfjs-node when it loads, else wasm (threads where we can start them), else
// cpu; the reason names every failure; option checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { currentBackend, findWasmBinaryDir, initBackend, validateInitBackendOptions } from '../../../src/ml/backend';

/** Whether tfjs-node loads here: installed with its native libtensorflow (a package whose install script could not download it is present but fails to load). */
async function tfjsNodeLoads(): Promise<boolean> {
  try {
    // A module name in a variable: the package is optional, so tsc must not resolve it statically.
    const optionalPackage = '@tensorflow/tfjs-node';
    await import(optionalPackage);
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  it('auto: tfjs-node when it loads, otherwise wasm with the reason for the fallback', async () => {
    const info = await initBackend({ wasmThreads: 2 });
    assert.equal(tf.getBackend(), info.name);
    assert.deepEqual(currentBackend(), info);
    if (await tfjsNodeLoads()) {
      assert.equal(info.name, 'tensorflow');
    } else {
      assert.equal(info.name, 'wasm');
      assert.match(info.reason, /^wasm \(XNNPACK, SIMD (on|off), \d threads?\), because tensorflow failed: \S/);
    }
  });

  it('runs 2 wasm threads in Node, computing what the cpu backend computes', async (t) => {
    const info = await initBackend({ preferred: 'wasm', wasmThreads: 2 });
    if (!info.simd) return t.skip('this Node has no wasm SIMD: the threaded binary needs it');
    assert.equal(info.threads, 2, info.reason);
    const run = (): Float32Array =>
      tf.tidy(() => {
        const x = tf.randomNormal([4, 16, 16, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.randomNormal([3, 3, 8, 8], 0, 1, 'float32', 2) as tf.Tensor4D;
        return tf.conv2d(x, w, 1, 'same').dataSync() as Float32Array;
      });
    const onWasm = run();
    await tf.setBackend('cpu');
    const onCpu = run();
    await tf.setBackend('wasm');
    let worst = 0;
    for (let i = 0; i < onCpu.length; i++) worst = Math.max(worst, Math.abs(onWasm[i] - onCpu[i]));
    assert.ok(worst < 1e-4, `max abs difference ${worst}`);
  });

  it('cpu when asked for it', async () => {
    const info = await initBackend({ preferred: 'cpu' });
    assert.deepEqual(info, { name: 'cpu', reason: 'cpu (pure JavaScript) was requested', simd: false, threads: 1 });
    assert.equal(tf.getBackend(), 'cpu');
  });

  it('finds the wasm binaries (package dist/ when running from source)', () => {
    assert.match(findWasmBinaryDir(), /tfjs-backend-wasm[\\/]dist$|dist$/);
  });

  it('validates its options, naming the option and the value', () => {
    assert.throws(() => validateInitBackendOptions({ preferred: 'webgl' as never }), /option preferred is "webgl"; expected one of auto, tensorflow, wasm, cpu/);
    assert.throws(() => validateInitBackendOptions({ wasmThreads: 0 }), /option wasmThreads is 0; expected an integer from 1 to 8/);
    assert.throws(() => validateInitBackendOptions({ wasmThreads: 1.5 }), /option wasmThreads is 1.5/);
    assert.equal(validateInitBackendOptions({}).wasmThreads, cpus().length > 1 ? Math.min(cpus().length, 8) : 1);
  });
});
