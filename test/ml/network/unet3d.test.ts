// The project's 3-D U-Net: configuration checks, shapes, batch-norm running statistics, memory,
// whole-network gradients on wasm against the cpu backend, and the save/load round trip.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/ml/backend';
import { createUNet3d, loadUNet3d, resolveUNet3dConfig, checkInputShape, type UNet3d } from '../../../src/ml/network';

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lesion-lab-unet-'));
  await initBackend({ preferred: 'wasm', wasmThreads: 1 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function input(n: number, seed = 1, channels = 1): tf.Tensor5D {
  return tf.randomNormal([1, n, n, n, channels], 0, 1, 'float32', seed) as tf.Tensor5D;
}

describe('UNet3d configuration', () => {
  it('defaults to the reference network: 4 levels, base 8, batch norm, 332 002 parameters', () => {
    const net = createUNet3d();
    try {
      assert.deepEqual({ ...net.config }, { levels: 4, baseFilters: 8, inChannels: 1, numClasses: 2, normalization: 'batch', deepSupervision: false, seed: 1 });
      assert.equal(net.paramCount, 332002);
      assert.equal(net.nonTrainableVariables.length, 28); // running mean + variance of 14 batch norms
    } finally {
      net.dispose();
    }
  });

  const bad: [Record<string, unknown>, RegExp][] = [
    [{ levels: 0 }, /levels is 0; expected an integer from 1 to 6/],
    [{ levels: 2.5 }, /levels is 2.5/],
    [{ baseFilters: -1 }, /baseFilters is -1/],
    [{ inChannels: '1' }, /inChannels is "1"/],
    [{ numClasses: 1 }, /numClasses is 1; expected an integer from 2 to 64/],
    [{ normalization: 'group' }, /normalization is "group"; expected one of batch, instance, none/],
    [{ deepSupervision: 1 }, /deepSupervision is 1; expected true or false/],
    [{ seed: 0.5 }, /seed is 0.5/],
    [{ level: 3 }, /unknown option "level"/],
  ];
  for (const [config, message] of bad) {
    it(`rejects ${JSON.stringify(config)}`, () => {
      assert.throws(() => resolveUNet3dConfig(config as never), message);
    });
  }

  it('rejects inputs whose spatial sizes are not multiples of 2^(levels-1), saying so', () => {
    const config = resolveUNet3dConfig({ levels: 3 });
    assert.throws(() => checkInputShape([1, 10, 16, 16, 1], config), /multiple of 2\^\(levels-1\) = 4 \(levels = 3\)/);
    assert.throws(() => checkInputShape([1, 16, 16, 16, 2], config), /2 channels; the network expects inChannels = 1/);
    assert.throws(() => checkInputShape([16, 16, 16, 1], config), /expected rank 5/);
    checkInputShape([1, 8, 12, 16, 1], config);
  });
});

describe('UNet3d forward', () => {
  it('predict returns softmax probabilities of shape [B,D,H,W,numClasses] and leaks nothing', () => {
    const net = createUNet3d({ levels: 3, baseFilters: 4, numClasses: 3 });
    const x = input(8);
    const before = tf.memory().numTensors;
    const p = net.predict(x);
    assert.deepEqual(p.shape, [1, 8, 8, 8, 3]);
    const sums = tf.tidy(() => tf.sum(p, -1).dataSync());
    for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5);
    p.dispose();
    assert.equal(tf.memory().numTensors, before);
    net.dispose();
    x.dispose();
  });

  it('deep supervision returns full resolution first, then each coarser decoder level', () => {
    const net = createUNet3d({ levels: 3, baseFilters: 4, deepSupervision: true });
    const x = input(8);
    const outs = net.apply(x, { training: false }) as tf.Tensor5D[];
    assert.deepEqual(outs.map((o) => o.shape), [[1, 8, 8, 8, 2], [1, 4, 4, 4, 2]]);
    outs.forEach((o) => o.dispose());
    const p = net.predict(x);
    assert.deepEqual(p.shape, [1, 8, 8, 8, 2]);
    p.dispose();
    net.dispose();
    x.dispose();
  });

  it('training mode updates the running statistics, which inference then uses', () => {
    const net = createUNet3d({ levels: 2, baseFilters: 4, seed: 3 });
    const x = tf.add(tf.mul(input(8, 5), 3), 2) as tf.Tensor5D;
    const p0 = net.predict(x);
    const mean0 = net.nonTrainableVariables[0].dataSync().slice();
    tf.dispose(net.apply(x, { training: true }));
    const mean1 = net.nonTrainableVariables[0].dataSync();
    // First batch norm sees conv(x) with x ~ N(2, 3²): its running mean moves by 0.1 × batch mean.
    assert.ok(mean1.some((v, i) => Math.abs(v - mean0[i]) > 1e-4), 'running mean changed');
    const p1 = net.predict(x);
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(p0, p1))).dataSync()[0]) > 1e-4, 'inference output changed with the statistics');
    // Inference itself does not touch the statistics.
    const before = net.nonTrainableVariables[0].dataSync().slice();
    tf.dispose(net.predict(x));
    assert.deepEqual(Array.from(net.nonTrainableVariables[0].dataSync()), Array.from(before));
    tf.dispose([p0, p1, x]);
    net.dispose();
  });

  it('an Adam training step frees every intermediate tensor', () => {
    const net = createUNet3d({ levels: 3, baseFilters: 4 });
    const x = input(8);
    const y = tf.oneHot(tf.zeros([1, 8, 8, 8], 'int32') as tf.Tensor4D, 2);
    const opt = tf.train.adam(1e-3);
    const step = (): void => {
      const loss = opt.minimize(() => tf.neg(tf.mean(tf.mul(y, tf.log(tf.add(net.apply(x, { training: true }) as tf.Tensor, 1e-7))))) as tf.Scalar, true, net.trainableVariables);
      loss?.dispose();
    };
    step(); // creates the Adam slots
    const before = tf.memory().numTensors;
    step();
    step();
    assert.equal(tf.memory().numTensors, before);
    opt.dispose();
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('UNet3d whole-network gradients: wasm against cpu', () => {
  it('every weight gradient of a 4-level U-Net at 16³ matches (batch norm, training mode)', async () => {
    const net = createUNet3d({ levels: 4, baseFilters: 4, seed: 11 });
    const x = input(16, 2);
    const target = tf.tidy(() => tf.oneHot(tf.cast(tf.greater(input(16, 3).reshape([1, 16, 16, 16]), 0.5), 'int32') as tf.Tensor4D, 2));
    const grads = (): Float32Array[] =>
      tf.tidy(() => {
        const { grads: g } = tf.variableGrads(
          () => tf.neg(tf.mean(tf.mul(target, tf.log(tf.add(net.apply(x, { training: true }) as tf.Tensor, 1e-7))))) as tf.Scalar,
          net.trainableVariables,
        );
        return net.trainableVariables.map((v) => g[v.name].dataSync() as Float32Array);
      });
    const stats = net.nonTrainableVariables.map((v) => v.dataSync().slice());
    await tf.setBackend('cpu');
    const onCpu = grads();
    net.nonTrainableVariables.forEach((v, i) => v.assign(tf.tensor(stats[i], v.shape)));
    await tf.setBackend('wasm');
    const onWasm = grads();
    const errors = onCpu.map((ref, i) => {
      let d = 0;
      let m = 0;
      for (let j = 0; j < ref.length; j++) {
        assert.ok(Number.isFinite(onWasm[i][j]), `${net.trainableVariables[i].name} has a non-finite gradient`);
        d = Math.max(d, Math.abs(onWasm[i][j] - ref[j]));
        m = Math.max(m, Math.abs(ref[j]));
      }
      return d / (m || 1);
    });
    const worst = Math.max(...errors);
    assert.ok(worst < 1e-4, `worst relative gradient error ${worst.toExponential(2)} (${net.trainableVariables[errors.indexOf(worst)].name})`);
    tf.dispose([x, target]);
    net.dispose();
  });
});

describe('UNet3d save and load', () => {
  let net: UNet3d;
  before(() => {
    net = createUNet3d({ levels: 3, baseFilters: 4, normalization: 'batch', seed: 5 });
    // Move the running statistics away from their initial values so the round trip checks them.
    const x = input(8, 9);
    tf.dispose(net.apply(x, { training: true }));
    x.dispose();
  });
  after(() => net.dispose());

  it('round-trips config, weights and running statistics: identical predictions', async () => {
    const target = join(dir, 'model-a');
    await net.save(target);
    assert.ok(existsSync(join(target, 'model.json')) && existsSync(join(target, 'weights.bin')));
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8'));
    assert.equal(json.format, 'lesion-lab-unet3d');
    assert.equal(json.weightsManifest[0].paths[0], 'weights.bin');
    const loaded = await loadUNet3d(target);
    try {
      assert.deepEqual({ ...loaded.config }, { ...net.config });
      const x = input(8, 4);
      const a = net.predict(x);
      const b = loaded.predict(x);
      assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
      tf.dispose([x, a, b]);
    } finally {
      loaded.dispose();
    }
  });

  it('stores half precision on request: half the bytes, predictions within 1e-3, and checked on loading', async () => {
    const full = join(dir, 'model-f32');
    const half = join(dir, 'model-f16');
    await net.save(full);
    await net.save(half, 'float16');
    const fullBytes = readFileSync(join(full, 'weights.bin')).length;
    const bin = readFileSync(join(half, 'weights.bin'));
    assert.equal(bin.length * 2, fullBytes);
    const json = JSON.parse(readFileSync(join(half, 'model.json'), 'utf8'));
    assert.deepEqual(json.weightsManifest[0].weights[0].quantization, { dtype: 'float16' });
    const loaded = await loadUNet3d(half);
    try {
      const x = input(8, 4);
      const a = net.predict(x);
      const b = loaded.predict(x);
      const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      assert.ok(diff > 0 && diff < 1e-3, `largest probability difference ${diff}`);
      tf.dispose([x, a, b]);
    } finally {
      loaded.dispose();
    }
    writeFileSync(join(half, 'weights.bin'), bin.subarray(0, bin.length - 2));
    await assert.rejects(loadUNet3d(half), /weights\.bin: \d+ bytes; model\.json describes \d+ float16 values/);
    writeFileSync(join(half, 'weights.bin'), bin);
    const mixed = structuredClone(json);
    delete mixed.weightsManifest[0].weights[1].quantization;
    writeFileSync(join(half, 'model.json'), JSON.stringify(mixed));
    await assert.rejects(loadUNet3d(half), /model\.json: weight 1 is .*"quantization":\{"dtype":"float16"\}\} \(every weight stored alike\)/);
    const other = structuredClone(json);
    for (const w of other.weightsManifest[0].weights) w.quantization = { dtype: 'uint8' };
    writeFileSync(join(half, 'model.json'), JSON.stringify(other));
    await assert.rejects(loadUNet3d(half), /model\.json: weight 0 is .*uint8/);
  });

  it('names the file and the problem when loading fails', async () => {
    const target = join(dir, 'model-b');
    await net.save(target);
    await assert.rejects(loadUNet3d(join(dir, 'missing')), /model\.json: cannot read the model description \(file not found\)/);
    const bin = readFileSync(join(target, 'weights.bin'));
    writeFileSync(join(target, 'weights.bin'), bin.subarray(0, bin.length - 4));
    await assert.rejects(loadUNet3d(target), /weights\.bin: \d+ bytes; model\.json describes \d+ float32 values/);
    writeFileSync(join(target, 'weights.bin'), bin);
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8'));
    writeFileSync(join(target, 'model.json'), '{ not json');
    await assert.rejects(loadUNet3d(target), /model\.json: not valid JSON/);
    writeFileSync(join(target, 'model.json'), JSON.stringify({ ...json, config: { ...json.config, levels: 9 } }));
    await assert.rejects(loadUNet3d(target), /model\.json: UNet3d config: levels is 9/);
    writeFileSync(join(target, 'model.json'), JSON.stringify({ ...json, config: { ...json.config, baseFilters: 8 } }));
    await assert.rejects(loadUNet3d(target), /model\.json: weight 0 is .*expected \{"name":"enc0\/conv0\/kernel","shape":\[3,3,3,1,8\]/);
    writeFileSync(join(target, 'model.json'), JSON.stringify({ ...json, format: 'keras' }));
    await assert.rejects(loadUNet3d(target), /model\.json: format is "keras"; expected "lesion-lab-unet3d"/);
    const nan = Buffer.from(bin);
    nan.writeFloatLE(Number.NaN, 8);
    writeFileSync(join(target, 'model.json'), JSON.stringify(json));
    writeFileSync(join(target, 'weights.bin'), nan);
    await assert.rejects(loadUNet3d(target), /weights\.bin: value 2 is NaN; weights must be finite/);
  });
});
