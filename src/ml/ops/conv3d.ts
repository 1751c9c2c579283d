// 3-D convolution ('same' padding) at matrix-multiply speed on the wasm and cpu backends.
//
// The stock tfjs 4.22 Conv3D kernels are naive loops (~0.2 GMAC/s), and on wasm the input
// gradient (Conv3DBackpropInputV2) is wrong. Conv2D, however, runs on XNNPACK. So a KD×KH×KW
// convolution is computed as KD 2-D convolutions, one per depth offset, with the depth folded into
// the batch ([B,D,H,W,C] → [B·D,H,W,C]), summed. The gradients are custom:
//  - input: for stride 1 and odd kernels, a 'same' convolution of dy with the flipped, channel-
//    transposed filter (the same fast path); otherwise 2-D transposed convolutions per offset;
//  - filter: per depth offset, a 2-D convolution of the input (channels as batch) with dy (as the
//    filter), so it also runs on XNNPACK (the wasm backend has no Conv2DBackpropFilter at all).
import * as tf from '@tensorflow/tfjs';

/** Output size and padding of TensorFlow 'same' padding along one axis. */
export interface SamePadding {
  outSize: number;
  front: number;
  back: number;
}

/** TensorFlow 'same' padding: out = ceil(n/s), total = max((out−1)·s + k − n, 0), front = ⌊total/2⌋. */
export function samePadding(inSize: number, kernelSize: number, stride: number): SamePadding {
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + kernelSize - inSize, 0);
  const front = Math.floor(total / 2);
  return { outSize, front, back: total - front };
}

export type Conv3dStride = 1 | 2;

function checkStride(stride: number): asserts stride is Conv3dStride {
  if (stride !== 1 && stride !== 2) throw new Error(`conv3d: stride is ${String(stride)}; expected 1 or 2`);
}

function checkShapes(xs: tf.Tensor[], filter: tf.Tensor): void {
  if (xs.length === 0) throw new Error('conv3d: expected at least one input tensor');
  if (filter.rank !== 5) throw new Error(`conv3d: filter has rank ${filter.rank}; expected 5 [KD,KH,KW,Cin,Cout]`);
  const [b, d, h, w] = xs[0].shape;
  let cin = 0;
  for (const x of xs) {
    if (x.rank !== 5) throw new Error(`conv3d: input has shape [${x.shape.join(',')}]; expected rank 5 [B,D,H,W,C]`);
    if (x.shape[0] !== b || x.shape[1] !== d || x.shape[2] !== h || x.shape[3] !== w) {
      throw new Error(`conv3d: inputs have different spatial shapes [${xs.map((t) => t.shape.join(',')).join('] vs [')}]`);
    }
    cin += x.shape[4] ?? 0;
  }
  if (filter.shape[3] !== cin) {
    throw new Error(`conv3d: filter expects ${filter.shape[3]} input channels but the inputs have ${cin}`);
  }
}

/**
 * The input slab of depth offset `k`, as a 4-D [B·Do,H,W,C] tensor (depth folded into batch):
 * the depths k, k+s, k+2s, ... of the input padded along D.
 */
function depthSlab(x: tf.Tensor5D, kernelDepth: number, stride: Conv3dStride, k: number): tf.Tensor4D {
  const [b, d, h, w, c] = x.shape;
  const { outSize: outD, front } = samePadding(d, kernelDepth, stride);
  const plane = h * w * c;
  const x3 = x.reshape([b, d, plane]) as tf.Tensor3D;
  // The centre offset of a 'same' stride-1 convolution is x itself: no copy.
  if (stride === 1 && k === front && outD === d) return x3.reshape([b * outD, h, w, c]) as tf.Tensor4D;
  // Only the rows this offset reads, padded where they fall outside the volume: no full padded copy.
  const first = k - front; // input depth read by output 0
  const last = first + (outD - 1) * stride; // input depth read by the last output
  const lo = Math.max(first, 0);
  const hi = Math.min(last, d - 1);
  let rows: tf.Tensor3D;
  if (hi < lo) {
    rows = tf.zeros([b, outD, plane]);
  } else {
    // Inside the volume, the rows lo..hi (step s); outside, zero rows.
    const firstInside = first < 0 ? Math.ceil(-first / stride) : 0;
    const startRow = first + firstInside * stride;
    const count = Math.floor((hi - startRow) / stride) + 1;
    const inside =
      stride === 1
        ? tf.slice(x3, [0, startRow, 0], [b, count, plane])
        : (tf.stridedSlice(x3, [0, startRow, 0], [b, startRow + (count - 1) * stride + 1, plane], [1, stride, 1]) as tf.Tensor3D);
    const after = outD - firstInside - count;
    rows = firstInside > 0 || after > 0 ? tf.pad(inside, [[0, 0], [firstInside, after], [0, 0]]) : inside;
  }
  return rows.reshape([b * outD, h, w, c]) as tf.Tensor4D;
}

/** Forward pass over several inputs whose channel concatenation is convolved with `filters` (split per input). */
function forward(xs: tf.Tensor5D[], filters: tf.Tensor5D[], stride: Conv3dStride): tf.Tensor5D {
  return tf.tidy(() => {
    const [kd, kh, kw, , cout] = filters[0].shape;
    const [b, d, h, w] = xs[0].shape;
    const terms: tf.Tensor4D[] = [];
    xs.forEach((x, i) => {
      const perOffset = depthFilters(filters[i]);
      for (let k = 0; k < kd; k++) {
        // One slab at a time, freed right after its convolution: at 96³ each is ~28 MB.
        const term = tf.tidy(() => tf.conv2d(depthSlab(x, kd, stride, k), perOffset[k], stride, 'same'));
        terms.push(term);
      }
    });
    const sum = terms.length === 1 ? terms[0] : tf.addN(terms);
    const outD = samePadding(d, kd, stride).outSize;
    const outH = samePadding(h, kh, stride).outSize;
    const outW = samePadding(w, kw, stride).outSize;
    return sum.reshape([b, outD, outH, outW, cout]) as tf.Tensor5D;
  });
}

/**
 * Filter gradient of a 2-D 'same' convolution from already transposed operands: the input with its
 * channels as batch, xt [C,H,W,N], correlated with dy as the filter, dyt [Ho,Wo,N,Cout] (dilated
 * by the stride), as one XNNPACK convolution. Returns [C,KH,KW,Cout].
 */
function filterGradTransposed(xt: tf.Tensor4D, dyt: tf.Tensor4D, kernelHeight: number, kernelWidth: number, stride: Conv3dStride): tf.Tensor4D {
  const [, h, w] = xt.shape;
  const ph = samePadding(h, kernelHeight, stride);
  const pw = samePadding(w, kernelWidth, stride);
  // With stride 2 and an even size, 'same' can need less than nothing at the back: crop instead.
  const backH = kernelHeight + (ph.outSize - 1) * stride - h - ph.front;
  const backW = kernelWidth + (pw.outSize - 1) * stride - w - pw.front;
  const cropped = backH < 0 || backW < 0 ? tf.slice(xt, [0, 0, 0, 0], [-1, h + Math.min(backH, 0), w + Math.min(backW, 0), -1]) : xt;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [ph.front, Math.max(backH, 0)],
    [pw.front, Math.max(backW, 0)],
    [0, 0],
  ];
  return tf.conv2d(cropped, dyt, 1, pad, 'NHWC', stride);
}

/**
 * Gradient of a 2-D 'same' convolution with respect to its filter, as one 2-D convolution
 * (the wasm backend has no Conv2DBackpropFilter kernel).
 *
 * @param x4 - the convolution input [N,H,W,C]; @param dy4 - the output gradient [N,Ho,Wo,Cout].
 * @returns [KH,KW,C,Cout].
 */
export function conv2dFilterGradSame(
  x4: tf.Tensor4D,
  dy4: tf.Tensor4D,
  kernelHeight: number,
  kernelWidth: number,
  stride: Conv3dStride,
): tf.Tensor4D {
  return tf.tidy(() => {
    const xt = tf.transpose(x4, [3, 1, 2, 0]) as tf.Tensor4D; // [C,H,W,N]
    const dyt = tf.transpose(dy4, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho,Wo,N,Cout]
    return tf.transpose(filterGradTransposed(xt, dyt, kernelHeight, kernelWidth, stride), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * Filter gradient of the 3-D convolution of one input: the input is transposed once to
 * [C,H·W,B,D] and padded along D, so each depth offset's operand is a slice of the last axis
 * (no per-offset transposes); dy is transposed once for all offsets. Returns [KD,KH,KW,C,Cout].
 */
function filterGrad3d(x: tf.Tensor5D, dyt: tf.Tensor4D, kernel: [number, number, number], stride: Conv3dStride): tf.Tensor5D {
  const [b, d, h, w, c] = x.shape;
  const [kd, kh, kw] = kernel;
  const { outSize: outD, front, back } = samePadding(d, kd, stride);
  const xt = tf.transpose(tf.reshape(x, [b, d, h * w, c]), [3, 2, 0, 1]) as tf.Tensor4D; // [C,HW,B,D]
  const xtp = front > 0 || back > 0 ? tf.pad(xt, [[0, 0], [0, 0], [0, 0], [front, back]]) : xt;
  const perOffset: tf.Tensor4D[] = [];
  for (let k = 0; k < kd; k++) {
    const slab =
      stride === 1
        ? k === front && outD === d
          ? xt
          : tf.slice(xtp, [0, 0, 0, k], [c, h * w, b, outD])
        : tf.stridedSlice(xtp, [0, 0, 0, k], [c, h * w, b, k + (outD - 1) * stride + 1], [1, 1, 1, stride]);
    perOffset.push(filterGradTransposed(slab.reshape([c, h, w, b * outD]) as tf.Tensor4D, dyt, kh, kw, stride));
    if (slab !== xt) slab.dispose();
  }
  if (xtp !== xt) xtp.dispose();
  xt.dispose();
  const cout = dyt.shape[3];
  // [KD,C,KH,KW,Cout] → [KD,KH,KW,C,Cout]
  return tf.transpose(tf.stack(perOffset, 0), [0, 2, 3, 1, 4]).reshape([kd, kh, kw, c, cout]) as tf.Tensor5D;
}

/** Flips a filter spatially and swaps its channel axes: the filter of the input gradient. */
function flipTransposed(filter: tf.Tensor5D): tf.Tensor5D {
  return tf.transpose(tf.reverse(filter, [0, 1, 2]), [0, 1, 2, 4, 3]) as tf.Tensor5D;
}

/** Input gradient for one input, generic path (any kernel, stride 1 or 2). */
function inputGradGeneric(x: tf.Tensor5D, dy: tf.Tensor5D, filter: tf.Tensor5D, stride: Conv3dStride): tf.Tensor5D {
  const [b, d, h, w, c] = x.shape;
  const [kd] = filter.shape;
  const { outSize: outD, front, back } = samePadding(d, kd, stride);
  const paddedD = d + front + back;
  const plane = h * w * c;
  const dy4 = dy.reshape([b * outD, dy.shape[2], dy.shape[3], dy.shape[4]]) as tf.Tensor4D;
  const perOffset = depthFilters(filter);
  const parts: tf.Tensor3D[] = [];
  for (let k = 0; k < kd; k++) {
    const g4 = tf.conv2dTranspose(dy4, perOffset[k], [b * outD, h, w, c], stride, 'same');
    let g3 = g4.reshape([b, outD, plane]) as tf.Tensor3D;
    if (stride === 2) {
      // Interleave zeros: the slab of offset k touched depths k, k+2, k+4, ...
      g3 = tf.pad(g3.reshape([b, outD, 1, plane]), [[0, 0], [0, 0], [0, 1], [0, 0]]).reshape([b, 2 * outD, plane]) as tf.Tensor3D;
    }
    const len = g3.shape[1];
    const tail = paddedD - k - len;
    if (tail < 0) g3 = tf.slice(g3, [0, 0, 0], [b, len + tail, plane]);
    parts.push(tf.pad(g3, [[0, 0], [k, Math.max(tail, 0)], [0, 0]]));
  }
  const sum = parts.length === 1 ? parts[0] : tf.addN(parts);
  return tf.slice(sum, [0, front, 0], [b, d, plane]).reshape([b, d, h, w, c]) as tf.Tensor5D;
}

/**
 * Splits a filter along its input channels. A rank-3 view [KD·KH·KW, Cin, Cout] keeps the wasm
 * Slice kernel on its fast path (the rank-5 SplitV took ~70 ms for a 3×3×3×64×32 filter).
 */
function splitFilter(filter: tf.Tensor5D, channels: number[]): tf.Tensor5D[] {
  if (channels.length === 1) return [filter];
  const [kd, kh, kw, cin, cout] = filter.shape;
  const f3 = tf.reshape(filter, [kd * kh * kw, cin, cout]) as tf.Tensor3D;
  let offset = 0;
  return channels.map((c) => {
    const part = tf.slice(f3, [0, offset, 0], [kd * kh * kw, c, cout]).reshape([kd, kh, kw, c, cout]) as tf.Tensor5D;
    offset += c;
    return part;
  });
}

/** Per-depth-offset 2-D filters [KH,KW,Cin,Cout] of a 3-D filter (contiguous slices). */
function depthFilters(filter: tf.Tensor5D): tf.Tensor4D[] {
  const [kd, kh, kw, cin, cout] = filter.shape;
  const f2 = tf.reshape(filter, [kd, kh * kw * cin * cout]) as tf.Tensor2D;
  return Array.from({ length: kd }, (_, k) => tf.slice(f2, [k, 0], [1, kh * kw * cin * cout]).reshape([kh, kw, cin, cout]) as tf.Tensor4D);
}

function isOddKernel(filter: tf.Tensor5D): boolean {
  return filter.shape[0] % 2 === 1 && filter.shape[1] % 2 === 1 && filter.shape[2] % 2 === 1;
}

/**
 * 3-D convolution with 'same' padding of the channel concatenation of `xs`, without building the
 * concatenation: conv(concat(a, b), W) = conv(a, W_a) + conv(b, W_b). This removes a U-Net's skip
 * concatenation and its gradient (on wasm, the stock concat gradient was 74 % of training time).
 *
 * @param xs - inputs [B,D,H,W,C_i] with the same B, D, H, W.
 * @param filter - [KD,KH,KW,ΣC_i,Cout].
 * @param stride - 1 (default) or 2, the same along D, H and W.
 * @returns [B,⌈D/s⌉,⌈H/s⌉,⌈W/s⌉,Cout], equal to `tf.conv3d(tf.concat(xs, 4), filter, s, 'same')`.
 * @throws when ranks, shapes, channel counts or the stride do not fit.
 */
export function conv3dSameMulti(xs: tf.Tensor5D[], filter: tf.Tensor5D, stride: Conv3dStride = 1): tf.Tensor5D {
  checkStride(stride);
  checkShapes(xs, filter);
  const [kd, kh, kw] = filter.shape;
  const channels = xs.map((x) => x.shape[4]);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const inputs = args.slice(0, xs.length) as tf.Tensor5D[];
    const w = args[xs.length] as tf.Tensor5D;
    save([...inputs, w]);
    // tidy: only the output survives; slabs and per-offset terms are freed at once.
    const value = tf.tidy(() => forward(inputs, splitFilter(w, channels), stride));
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => tf.tidy(() => {
      const dy5 = dy as tf.Tensor5D;
      const savedXs = saved.slice(0, xs.length) as tf.Tensor5D[];
      const savedW = saved[xs.length] as tf.Tensor5D;
      const parts = splitFilter(savedW, channels);
      const [b, outD, outH, outW, cout] = dy5.shape;
      const dy4 = dy5.reshape([b * outD, outH, outW, cout]) as tf.Tensor4D;
      // Each part in its own tidy, so that its temporaries are freed before the next one starts.
      const dxs = savedXs.map((x, i) =>
        tf.tidy(() =>
          stride === 1 && isOddKernel(parts[i])
            ? forward([dy5], [flipTransposed(parts[i])], 1)
            : inputGradGeneric(x, dy5, parts[i], stride),
        ),
      );
      const dyt = tf.transpose(dy4, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho,Wo,N,Cout], shared by all offsets
      const dws = savedXs.map((x) => tf.tidy(() => filterGrad3d(x, dyt, [kd, kh, kw], stride)));
      const [kd_, kh_, kw_, , cout_] = savedW.shape;
      const dw = dws.length === 1 ? dws[0] : tf.concat(dws.map((g) => g.reshape([kd_ * kh_ * kw_, g.shape[3], cout_])), 1).reshape(savedW.shape);
      return [...dxs, dw];
    });
    return { value, gradFunc };
  });
  return op(...xs, filter) as tf.Tensor5D;
}

/**
 * 3-D convolution with 'same' padding, fast on the wasm and cpu backends, with input and filter
 * gradients (see the file comment). Equal to `tf.conv3d(x, filter, stride, 'same')` whenever the
 * kernel is at least as large as the stride; for a smaller kernel (e.g. 1×1×1, stride 2) tfjs 4.22
 * pads by a negative amount along D, while this follows TensorFlow ({@link samePadding}).
 *
 * @param x - [B,D,H,W,Cin].
 * @param filter - [KD,KH,KW,Cin,Cout].
 * @param stride - 1 (default) or 2, the same along D, H and W.
 * @returns [B,⌈D/s⌉,⌈H/s⌉,⌈W/s⌉,Cout].
 * @throws when ranks, shapes, channel counts or the stride do not fit.
 * @example const y = conv3dSame(x, w); // x [1,16,16,16,4], w [3,3,3,4,8] → y [1,16,16,16,8]
 */
export function conv3dSame(x: tf.Tensor5D, filter: tf.Tensor5D, stride: Conv3dStride = 1): tf.Tensor5D {
  return conv3dSameMulti([x], filter, stride);
}
