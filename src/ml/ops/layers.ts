// The U-Net's other hot spots, each with a custom gradient that avoids what the stock tfjs
// gradients do slowly on the wasm backend (broadcast Tile passes, SplitV, per-op reshapes), and
// that frees its intermediates as soon as it returns (tf.tidy inside forward and backward).
import * as tf from '@tensorflow/tfjs';

/** Normalisation statistics: per-channel over [B,D,H,W] ('batch') or per-sample over [D,H,W] ('instance'). */
export type NormMode = 'batch' | 'instance';

/** Options of {@link normAffineRelu} in training mode. */
export interface NormTrainOptions {
  mode: NormMode;
  /** Added to the variance. */
  epsilon: number;
  /** Apply ReLU after the affine transform. */
  relu: boolean;
  /**
   * Receives the batch mean and biased variance ([C], 'batch' mode only) while the op runs, e.g.
   * to update running statistics. The tensors are disposed after the op; copy what you keep.
   */
  onBatchStats?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;
}

/**
 * Normalisation + per-channel affine (+ ReLU) on [B,D,H,W,C] with statistics of this input
 * (training-mode batch norm, or instance norm), fused into one op with a hand-written gradient.
 *
 * @param x - [B,D,H,W,C].
 * @param gamma - scale [C]; @param beta - shift [C].
 * @returns relu?(gamma · (x − mean) / √(var + ε) + beta), same shape as x.
 */
export function normAffineRelu(x: tf.Tensor5D, gamma: tf.Tensor1D, beta: tf.Tensor1D, options: NormTrainOptions): tf.Tensor5D {
  const [b, d, h, w, c] = x.shape;
  // Statistics groups: one for batch norm, one per sample for instance norm. Group means run as a
  // global 2-D average pool (XNNPACK): the wasm backend reduces over non-innermost axes by a full
  // transpose first, and a ones×X matrix product re-packs X as weights on every call (~8 ms at 64³×8).
  const groups = options.mode === 'batch' ? 1 : b;
  const count = (b * d * h * w) / groups;
  const rows = count / w;
  const groupMean = (t: tf.Tensor): tf.Tensor =>
    tf.reshape(tf.avgPool(tf.reshape(t, [groups, rows, w, c]) as tf.Tensor4D, [rows, w], 1, 'valid'), [groups, 1, c]);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, bias] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const kept = tf.tidy(() => {
      const x3 = tf.reshape(xIn, [groups, count, c]) as tf.Tensor3D;
      const mean = groupMean(x3); // [G,1,C]
      const centred = tf.sub(x3, mean);
      const variance = groupMean(tf.square(centred));
      const invStd = tf.rsqrt(tf.add(variance, options.epsilon));
      let y = tf.add(tf.mul(centred, tf.mul(invStd, g)), bias);
      if (options.relu) y = tf.relu(y);
      if (options.onBatchStats && options.mode === 'batch') {
        options.onBatchStats(mean.reshape([c]) as tf.Tensor1D, variance.reshape([c]) as tf.Tensor1D);
      }
      return { y: y.reshape([b, d, h, w, c]) as tf.Tensor5D, centred, invStd };
    });
    save([kept.centred, g, kept.invStd, kept.y]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const [centred, gs, invStd, y] = saved;
        const dz = tf.reshape(options.relu ? tf.mul(dy, tf.step(y)) : dy, [groups, count, c]) as tf.Tensor3D;
        const dzSum = tf.mul(groupMean(dz), count); // [G,1,C]
        const dzXhatSum = tf.mul(tf.mul(groupMean(tf.mul(dz, centred)), invStd), count);
        // dx = γ·invStd/N · (N·dz − Σdz − x̂·Σ(dz·x̂)) with x̂ = centred·invStd, as a·dz + b·centred + c.
        const k = tf.div(tf.mul(gs, invStd), count);
        const coefDz = tf.mul(k, count);
        const coefCentred = tf.neg(tf.mul(tf.mul(k, invStd), dzXhatSum));
        const offset = tf.neg(tf.mul(k, dzSum));
        const dx = tf.add(tf.add(tf.mul(dz, coefDz), tf.mul(centred, coefCentred)), offset).reshape([b, d, h, w, c]);
        const dGamma = tf.sum(tf.reshape(dzXhatSum, [groups, c]), 0);
        const dBeta = tf.sum(tf.reshape(dzSum, [groups, c]), 0);
        return [dx, dGamma, dBeta];
      });
    return { value: kept.y, gradFunc };
  });
  return op(x, gamma, beta) as tf.Tensor5D;
}

/**
 * Inference-mode batch norm with running statistics, + optional ReLU (plain ops: differentiable).
 * @returns relu?((x − runningMean) · γ/√(runningVar + ε) + β).
 */
export function batchNormInference(
  x: tf.Tensor5D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVariance: tf.Tensor1D,
  epsilon: number,
  relu: boolean,
): tf.Tensor5D {
  return tf.tidy(() => {
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVariance, epsilon)));
    const shift = tf.sub(beta, tf.mul(runningMean, scale));
    const y = tf.add(tf.mul(x, scale), shift) as tf.Tensor5D;
    return relu ? tf.relu(y) : y;
  });
}

/**
 * Nearest-neighbour upsampling by 2 along D, H and W, with a gradient that sums each 2×2×2 block.
 * H and W go through the 2-D resize (and its gradient through a 2-D average pool); D is doubled
 * by concatenating whole planes, since the wasm Tile kernel is ~20× slower than that copy.
 *
 * @param x - [B,D,H,W,C]. @returns [B,2D,2H,2W,C].
 */
export function upsampleNearest2x(x: tf.Tensor5D): tf.Tensor5D {
  const [b, d, h, w, c] = x.shape;
  const plane = 4 * h * w * c;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xIn = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([]);
    const value = tf.tidy(() => {
      const x4 = tf.reshape(xIn, [b * d, h, w, c]) as tf.Tensor4D;
      const up = tf.reshape(tf.image.resizeNearestNeighbor(x4, [2 * h, 2 * w]), [b * d, 1, plane]);
      return tf.concat([up, up], 1).reshape([b, 2 * d, 2 * h, 2 * w, c]) as tf.Tensor5D;
    });
    const gradFunc = (dy: tf.Tensor): tf.Tensor =>
      tf.tidy(() => {
        const pairs = tf.reshape(dy, [b * d, 2, plane]);
        const even = tf.slice(pairs, [0, 0, 0], [b * d, 1, plane]);
        const odd = tf.slice(pairs, [0, 1, 0], [b * d, 1, plane]);
        const depthSum = tf.add(even, odd).reshape([b * d, 2 * h, 2 * w, c]) as tf.Tensor4D;
        return tf.mul(tf.avgPool(depthSum, 2, 2, 'valid'), 4).reshape([b, d, h, w, c]);
      });
    return { value, gradFunc };
  });
  return op(x) as tf.Tensor5D;
}

/**
 * 1×1×1 convolution with bias as one matrix product: [B·D·H·W, Cin] × [Cin, Cout].
 * @param x - [B,D,H,W,Cin]; @param kernel - [Cin,Cout]; @param bias - [Cout].
 */
export function pointwiseConv3d(x: tf.Tensor5D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor5D {
  const [b, d, h, w, c] = x.shape;
  return tf.tidy(() => {
    const y = tf.fused.matMul({ a: tf.reshape(x, [b * d * h * w, c]) as tf.Tensor2D, b: kernel, bias });
    return tf.reshape(y, [b, d, h, w, kernel.shape[1]]) as tf.Tensor5D;
  });
}

/** Nearest upsampling by 2 in D, H, W without a custom gradient (used inside other gradients). */
function upsampleValues(x: tf.Tensor5D): tf.Tensor5D {
  const [b, d, h, w, c] = x.shape;
  const x4 = tf.reshape(x, [b * d, h, w, c]) as tf.Tensor4D;
  const up = tf.reshape(tf.image.resizeNearestNeighbor(x4, [2 * h, 2 * w]), [b * d, 1, 4 * h * w * c]);
  return tf.concat([up, up], 1).reshape([b, 2 * d, 2 * h, 2 * w, c]) as tf.Tensor5D;
}

/**
 * 2×2×2 max pooling with stride 2 ('valid'; D, H, W even): a 2-D XNNPACK max-pool over H, W and
 * a maximum of depth pairs. Its gradient routes dy to every input equal to its window's maximum,
 * through masks (the wasm MaxPool3DGrad kernel took ~90 ms at 64³×8). Only ties differ from
 * tf.maxPool3d, which picks one of them; after a ReLU, tied zeros get no gradient either way.
 *
 * @param x - [B,D,H,W,C]. @returns [B,D/2,H/2,W/2,C].
 */
export function maxPool2x(x: tf.Tensor5D): tf.Tensor5D {
  const [b, d, h, w, c] = x.shape;
  if (d % 2 || h % 2 || w % 2) throw new Error(`maxPool2x: shape [${x.shape.join(',')}] has an odd spatial size; D, H, W must be even`);
  const plane = (h / 2) * (w / 2) * c;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xIn = args[0] as tf.Tensor5D;
    const save = args[1] as tf.GradSaveFunc;
    const value = tf.tidy(() => {
      const hw = tf.maxPool(tf.reshape(xIn, [b * d, h, w, c]) as tf.Tensor4D, 2, 2, 'valid');
      const pairs = tf.reshape(hw, [(b * d) / 2, 2, plane]);
      const even = tf.slice(pairs, [0, 0, 0], [(b * d) / 2, 1, plane]);
      const odd = tf.slice(pairs, [0, 1, 0], [(b * d) / 2, 1, plane]);
      return tf.maximum(even, odd).reshape([b, d / 2, h / 2, w / 2, c]) as tf.Tensor5D;
    });
    save([xIn, value]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor =>
      tf.tidy(() => {
        const [xs, ys] = saved as tf.Tensor5D[];
        const mask = tf.cast(tf.equal(xs, upsampleValues(ys)), 'float32');
        return tf.mul(mask, upsampleValues(dy as tf.Tensor5D));
      });
    return { value, gradFunc };
  });
  return op(x) as tf.Tensor5D;
}
