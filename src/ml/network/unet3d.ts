// The project's 3-D U-Net on the fast ops of src/ml/ops: per level two 3×3×3 convolutions (no
// bias) each followed by normalisation and ReLU; 2×2×2 max-pooling down; on the way up a 1×1×1
// convolution halving the channels then nearest upsampling (the two commute, so the convolution
// runs at the coarse resolution, 8× cheaper), then the skip connection, whose concatenation is
// never built (conv3dSameMulti splits the filter instead); a 1×1×1 head and a softmax.
// With the defaults (4 levels, 8 base filters, 1 input channel, 2 classes) it has 332 002 parameters.
import * as tf from '@tensorflow/tfjs';
import { conv3dSame, conv3dSameMulti } from '../ops/conv3d';
import { batchNormInference, maxPool2x, normAffineRelu, pointwiseConv3d, upsampleNearest2x } from '../ops/layers';
import { checkInputShape, resolveUNet3dConfig, type UNet3dConfig } from './config';
import type { WeightPrecision } from './serialize';

/** Batch-norm running-statistics momentum (PyTorch's convention: new = (1−m)·old + m·batch). */
export const BATCH_NORM_MOMENTUM = 0.1;
/** Added to variances in every normalisation. */
export const NORM_EPSILON = 1e-5;

/** Options of {@link UNet3d.apply}. */
export interface UNet3dApplyOptions {
  /** Training mode: batch statistics (and running-statistics updates) instead of running statistics. */
  training: boolean;
}

/** A 3-D U-Net. Tensors are [B,D,H,W,C]; D, H, W multiples of 2^(levels−1). */
export interface UNet3d {
  readonly config: Readonly<UNet3dConfig>;
  /** Trainable weights (convolution kernels and biases, normalisation scales and shifts). */
  readonly trainableVariables: tf.Variable[];
  /** Batch-norm running means and variances (updated by apply in training mode). */
  readonly nonTrainableVariables: tf.Variable[];
  /** Number of trainable scalars. */
  readonly paramCount: number;
  /** Inference: softmax probabilities [B,D,H,W,numClasses]. */
  predict(x: tf.Tensor5D): tf.Tensor5D;
  /**
   * Softmax probabilities [B,D,H,W,numClasses]; with deepSupervision a list, full resolution first,
   * then each coarser decoder level (its own resolution). Differentiable with respect to the variables.
   */
  apply(x: tf.Tensor5D, options: UNet3dApplyOptions): tf.Tensor5D | tf.Tensor5D[];
  /** Writes model.json and weights.bin into `dir` (created if missing), each atomically; float16 for shipped models. */
  save(dir: string, precision?: WeightPrecision): Promise<void>;
  /** Frees every variable; the network cannot be used afterwards. */
  dispose(): void;
}

/** Ordered description of one weight: its name in model.json and its shape. */
export interface WeightSpec {
  name: string;
  shape: number[];
  trainable: boolean;
  init: 'he' | 'zeros' | 'ones';
  /** He initialisation fan-in. */
  fanIn?: number;
}

interface ConvBlockNames {
  kernel: string;
  bias?: string;
  gamma?: string;
  beta?: string;
  mean?: string;
  variance?: string;
}

function convBlockSpecs(prefix: string, cin: number, cout: number, config: UNet3dConfig): { specs: WeightSpec[]; names: ConvBlockNames } {
  const names: ConvBlockNames = { kernel: `${prefix}/kernel` };
  const specs: WeightSpec[] = [{ name: names.kernel, shape: [3, 3, 3, cin, cout], trainable: true, init: 'he', fanIn: 27 * cin }];
  if (config.normalization === 'none') {
    names.bias = `${prefix}/bias`;
    specs.push({ name: names.bias, shape: [cout], trainable: true, init: 'zeros' });
  } else {
    names.gamma = `${prefix}/norm/gamma`;
    names.beta = `${prefix}/norm/beta`;
    specs.push({ name: names.gamma, shape: [cout], trainable: true, init: 'ones' });
    specs.push({ name: names.beta, shape: [cout], trainable: true, init: 'zeros' });
    if (config.normalization === 'batch') {
      names.mean = `${prefix}/norm/running_mean`;
      names.variance = `${prefix}/norm/running_variance`;
      specs.push({ name: names.mean, shape: [cout], trainable: false, init: 'zeros' });
      specs.push({ name: names.variance, shape: [cout], trainable: false, init: 'ones' });
    }
  }
  return { specs, names };
}

function pointwiseSpecs(prefix: string, cin: number, cout: number): WeightSpec[] {
  return [
    { name: `${prefix}/kernel`, shape: [cin, cout], trainable: true, init: 'he', fanIn: cin },
    { name: `${prefix}/bias`, shape: [cout], trainable: true, init: 'zeros' },
  ];
}

/** Filters at level l. */
function filtersAt(config: UNet3dConfig, level: number): number {
  return config.baseFilters * 2 ** level;
}

/** Every weight of a network with this configuration, in a fixed order (the order of weights.bin). */
export function unet3dWeightSpecs(config: UNet3dConfig): WeightSpec[] {
  const specs: WeightSpec[] = [];
  for (let l = 0; l < config.levels; l++) {
    const cin = l === 0 ? config.inChannels : filtersAt(config, l - 1);
    const f = filtersAt(config, l);
    specs.push(...convBlockSpecs(`enc${l}/conv0`, cin, f, config).specs);
    specs.push(...convBlockSpecs(`enc${l}/conv1`, f, f, config).specs);
  }
  for (let l = config.levels - 2; l >= 0; l--) {
    const f = filtersAt(config, l);
    specs.push(...pointwiseSpecs(`dec${l}/up`, filtersAt(config, l + 1), f));
    specs.push(...convBlockSpecs(`dec${l}/conv0`, 2 * f, f, config).specs);
    specs.push(...convBlockSpecs(`dec${l}/conv1`, f, f, config).specs);
    if (config.deepSupervision && l > 0) specs.push(...pointwiseSpecs(`dec${l}/head`, f, config.numClasses));
  }
  specs.push(...pointwiseSpecs('head', config.baseFilters, config.numClasses));
  return specs;
}

let instanceCounter = 0;

/** Deterministic He-normal / constant initial values for the specs (seeded per weight). */
function initialValues(specs: WeightSpec[], seed: number): Map<string, tf.Tensor> {
  const values = new Map<string, tf.Tensor>();
  specs.forEach((s, i) => {
    if (s.init === 'he') {
      values.set(s.name, tf.randomNormal(s.shape, 0, Math.sqrt(2 / (s.fanIn ?? 1)), 'float32', seed * 1009 + i));
    } else {
      values.set(s.name, s.init === 'ones' ? tf.ones(s.shape) : tf.zeros(s.shape));
    }
  });
  return values;
}

class UNet3dImpl implements UNet3d {
  readonly config: Readonly<UNet3dConfig>;
  readonly trainableVariables: tf.Variable[] = [];
  readonly nonTrainableVariables: tf.Variable[] = [];
  readonly paramCount: number;
  private readonly specs: WeightSpec[];
  private readonly vars = new Map<string, tf.Variable>();
  private disposed = false;

  constructor(config: UNet3dConfig, values: Map<string, tf.Tensor>) {
    this.config = Object.freeze({ ...config });
    this.specs = unet3dWeightSpecs(config);
    const prefix = `unet3d_${++instanceCounter}`;
    for (const s of this.specs) {
      const value = values.get(s.name);
      if (!value) throw new Error(`UNet3d: no value for weight ${s.name}`);
      // Variable names are global in tfjs: prefix them per instance.
      const v = tf.variable(value, s.trainable, `${prefix}/${s.name}`);
      this.vars.set(s.name, v);
      (s.trainable ? this.trainableVariables : this.nonTrainableVariables).push(v);
    }
    this.paramCount = this.trainableVariables.reduce((n, v) => n + v.size, 0);
  }

  private v(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`UNet3d: missing weight ${name}`);
    return v;
  }

  /** Convolution + normalisation + ReLU in its own tidy: the convolution output is freed at once. */
  private convBlock(inputs: tf.Tensor5D[], prefix: string, training: boolean): tf.Tensor5D {
    return tf.tidy(() => this.convBlockUntidy(inputs, prefix, training));
  }

  private convBlockUntidy(inputs: tf.Tensor5D[], prefix: string, training: boolean): tf.Tensor5D {
    const kernel = this.v(`${prefix}/kernel`) as tf.Tensor as tf.Tensor5D;
    const conv = inputs.length === 1 ? conv3dSame(inputs[0], kernel) : conv3dSameMulti(inputs, kernel);
    const norm = this.config.normalization;
    if (norm === 'none') return tf.relu(tf.add(conv, this.v(`${prefix}/bias`))) as tf.Tensor5D;
    const gamma = this.v(`${prefix}/norm/gamma`) as tf.Tensor as tf.Tensor1D;
    const beta = this.v(`${prefix}/norm/beta`) as tf.Tensor as tf.Tensor1D;
    if (norm === 'instance') return normAffineRelu(conv, gamma, beta, { mode: 'instance', epsilon: NORM_EPSILON, relu: true });
    const runningMean = this.v(`${prefix}/norm/running_mean`);
    const runningVariance = this.v(`${prefix}/norm/running_variance`);
    if (!training) {
      return batchNormInference(conv, gamma, beta, runningMean as tf.Tensor as tf.Tensor1D, runningVariance as tf.Tensor as tf.Tensor1D, NORM_EPSILON, true);
    }
    const n = conv.size / conv.shape[4];
    return normAffineRelu(conv, gamma, beta, {
      mode: 'batch',
      epsilon: NORM_EPSILON,
      relu: true,
      onBatchStats: (mean, variance) => {
        // Running variance is unbiased (n/(n−1)), as in PyTorch.
        const m = BATCH_NORM_MOMENTUM;
        runningMean.assign(tf.add(tf.mul(runningMean, 1 - m), tf.mul(mean, m)));
        runningVariance.assign(tf.add(tf.mul(runningVariance, 1 - m), tf.mul(variance, (m * n) / Math.max(n - 1, 1))));
      },
    });
  }

  private pointwise(x: tf.Tensor5D, prefix: string): tf.Tensor5D {
    return pointwiseConv3d(x, this.v(`${prefix}/kernel`) as tf.Tensor as tf.Tensor2D, this.v(`${prefix}/bias`) as tf.Tensor as tf.Tensor1D);
  }

  apply(x: tf.Tensor5D, options: UNet3dApplyOptions): tf.Tensor5D | tf.Tensor5D[] {
    if (this.disposed) throw new Error('UNet3d: the network was disposed');
    if (typeof options !== 'object' || options === null || typeof options.training !== 'boolean') {
      throw new Error(`UNet3d.apply: option training is ${JSON.stringify(options?.training)}; expected true or false`);
    }
    checkInputShape(x.shape, this.config);
    const training = options.training;
    return tf.tidy(() => {
      const skips: tf.Tensor5D[] = [];
      let h = x;
      const levels = this.config.levels;
      for (let l = 0; l < levels; l++) {
        h = this.convBlock([h], `enc${l}/conv0`, training);
        h = this.convBlock([h], `enc${l}/conv1`, training);
        if (l < levels - 1) {
          skips.push(h);
          h = maxPool2x(h);
        }
      }
      const outputs: tf.Tensor5D[] = [];
      for (let l = levels - 2; l >= 0; l--) {
        const up = tf.tidy(() => upsampleNearest2x(this.pointwise(h, `dec${l}/up`)));
        h = this.convBlock([up, skips[l]], `dec${l}/conv0`, training);
        up.dispose();
        h = this.convBlock([h], `dec${l}/conv1`, training);
        if (this.config.deepSupervision && l > 0) outputs.unshift(tf.softmax(this.pointwise(h, `dec${l}/head`)) as tf.Tensor5D);
      }
      const full = tf.softmax(this.pointwise(h, 'head')) as tf.Tensor5D;
      return this.config.deepSupervision ? [full, ...outputs] : full;
    });
  }

  predict(x: tf.Tensor5D): tf.Tensor5D {
    const out = this.apply(x, { training: false });
    if (Array.isArray(out)) {
      out.slice(1).forEach((t) => t.dispose());
      return out[0];
    }
    return out;
  }

  /** Current values in weights.bin order, with their specs. */
  weightEntries(): { spec: WeightSpec; variable: tf.Variable }[] {
    return this.specs.map((spec) => ({ spec, variable: this.v(spec.name) }));
  }

  async save(dir: string, precision?: WeightPrecision): Promise<void> {
    if (this.disposed) throw new Error('UNet3d: the network was disposed');
    const { saveUNet3d } = await import('./serialize');
    await saveUNet3d(this, dir, precision);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** Internal: the network class, for serialisation. */
export type UNet3dInternal = UNet3dImpl;

/** Internal: true when `net` was made by this module (and so can be serialised). */
export function isUNet3dInternal(net: UNet3d): net is UNet3dImpl {
  return net instanceof UNet3dImpl;
}

/**
 * Builds a 3-D U-Net with freshly initialised (seeded He-normal) weights.
 *
 * @param config - {@link UNet3dConfig} fields; missing ones take the defaults (levels 4,
 *   baseFilters 8, inChannels 1, numClasses 2, normalization 'batch', deepSupervision false, seed 1).
 * @throws when an option is invalid (the message names it and its value).
 * @example const net = createUNet3d({ levels: 3 }); const probs = net.predict(x); // x [1,32,32,32,1]
 */
export function createUNet3d(config: Partial<UNet3dConfig> = {}): UNet3d {
  const resolved = resolveUNet3dConfig(config);
  const specs = unet3dWeightSpecs(resolved);
  const values = initialValues(specs, resolved.seed);
  try {
    return new UNet3dImpl(resolved, values);
  } finally {
    for (const t of values.values()) t.dispose();
  }
}

/** Internal: builds a network from given weight values (used by loadUNet3d). */
export function unet3dFromValues(config: UNet3dConfig, values: Map<string, tf.Tensor>): UNet3d {
  return new UNet3dImpl(config, values);
}
