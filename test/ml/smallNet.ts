// A small trainable network for engine tests (conv 3³ → 4 channels, ReLU, conv 1³ → 2, softmax),
// saved as JSON: fast on the cpu backend, and independent of the U-Net under test elsewhere.
import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { NetworkFactory, TrainableNetwork } from '../../src/ml/training';

/** A small trainable network (conv 3³ → 4 channels, ReLU, conv 1³ → 2, softmax), saved as JSON. */
export class SmallNet implements TrainableNetwork {
  constructor(readonly vars: tf.Variable[]) {}
  static create(seed: number): SmallNet {
    return new SmallNet([
      tf.variable(tf.randomNormal([3, 3, 3, 1, 4], 0, 0.3, 'float32', seed)),
      tf.variable(tf.zeros([4])),
      tf.variable(tf.randomNormal([1, 1, 1, 4, 2], 0, 0.3, 'float32', seed + 1)),
      tf.variable(tf.tensor1d([1, -1])),
    ]);
  }
  get trainableVariables(): tf.Variable[] {
    return this.vars;
  }
  apply(x: tf.Tensor5D): tf.Tensor5D {
    return tf.tidy(() => {
      const h = tf.relu(tf.add(tf.conv3d(x, this.vars[0] as tf.Tensor5D, 1, 'same'), this.vars[1])) as tf.Tensor5D;
      return tf.softmax(tf.add(tf.conv3d(h, this.vars[2] as tf.Tensor5D, 1, 'same'), this.vars[3])) as tf.Tensor5D;
    });
  }
  predict(x: tf.Tensor5D): tf.Tensor5D {
    return this.apply(x);
  }
  async save(dir: string): Promise<void> {
    await fsp.writeFile(join(dir, 'small.json'), JSON.stringify(this.vars.map((v) => ({ shape: v.shape, data: Array.from(v.dataSync()) }))));
  }
  dispose(): void {
    this.vars.forEach((v) => v.dispose());
  }
}

export const smallNets: NetworkFactory = {
  load: async (dir) => {
    const weights = JSON.parse(await fsp.readFile(join(dir, 'small.json'), 'utf8')) as { shape: number[]; data: number[] }[];
    return new SmallNet(weights.map((w) => tf.variable(tf.tensor(w.data, w.shape))));
  },
  create: (config) => SmallNet.create(Number(config.seed ?? 1)),
  configOf: () => ({ kind: 'small-test-net' }),
};

