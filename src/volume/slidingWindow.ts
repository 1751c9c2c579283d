// Sliding-window geometry and inference: the window grid with overlap, the Gaussian importance
// map used to blend overlapping windows (MONAI / nnU-Net style), and the sliding-window inferer,
// which knows no model. Volume layout: see ./vec3.
import { extractPatch } from './boxes';
import { checkVec3, checkVolume, PatchError, voxelCount, type NumericArray, type Vec3 } from './vec3';

/**
 * Start positions of windows of length `patchLength` along an axis of length `axisLength`, with
 * the given fractional overlap. Windows are evenly spread so that the first starts at 0 and the
 * last ends at the axis end. An axis shorter than the window gets one window centred on it (its
 * start is negative; the part outside the volume is padding).
 *
 * @param overlap - fraction of a window shared with its neighbour, in [0, 1).
 * @throws PatchError for a non-positive length or an overlap outside [0, 1).
 */
export function windowStarts(axisLength: number, patchLength: number, overlap: number): number[] {
  if (!Number.isInteger(axisLength) || axisLength < 1) throw new PatchError(`axis length must be a positive integer, got ${axisLength}`);
  if (!Number.isInteger(patchLength) || patchLength < 1) throw new PatchError(`patch length must be a positive integer, got ${patchLength}`);
  if (!(overlap >= 0 && overlap < 1)) throw new PatchError(`overlap must lie in [0, 1), got ${overlap}`);
  if (axisLength <= patchLength) return [0 - Math.floor((patchLength - axisLength) / 2) || 0];
  const step = Math.max(1, Math.floor(patchLength * (1 - overlap)));
  const count = Math.ceil((axisLength - patchLength) / step) + 1;
  const span = axisLength - patchLength;
  const starts: number[] = [];
  for (let w = 0; w < count; w++) starts.push(Math.round((w * span) / (count - 1)));
  return [...new Set(starts)];
}

/**
 * Every window start of the sliding-window grid over `dims`, x fastest.
 * @see windowStarts for the spacing along each axis.
 */
export function patchGrid(dims: Vec3, patchSize: Vec3, overlap: number): Vec3[] {
  checkVec3('dims', dims, 1);
  checkVec3('patchSize', patchSize, 1);
  const sx = windowStarts(dims[0], patchSize[0], overlap);
  const sy = windowStarts(dims[1], patchSize[1], overlap);
  const sz = windowStarts(dims[2], patchSize[2], overlap);
  const out: Vec3[] = [];
  for (const z of sz) for (const y of sy) for (const x of sx) out.push([x, y, z]);
  return out;
}

/**
 * Gaussian importance map of a patch: exp(−d²/2σ²) per axis with σ = `sigmaScale` × the patch
 * length (1/8 as in nnU-Net and MONAI), centred on the patch centre, scaled so the maximum is 1
 * and clamped below at `minWeight` so that no voxel of a window gets zero weight.
 *
 * @param sigmaScale - σ as a fraction of the patch length; default 1/8.
 * @param minWeight - smallest weight; default 1e-4.
 * @returns Float32Array in patch layout (x fastest).
 */
export function gaussianImportanceMap(patchSize: Vec3, sigmaScale = 1 / 8, minWeight = 1e-4): Float32Array {
  checkVec3('patchSize', patchSize, 1);
  if (!(sigmaScale > 0)) throw new PatchError(`sigmaScale must be > 0, got ${sigmaScale}`);
  const axis = (n: number): Float64Array => {
    const sigma = sigmaScale * n;
    const c = (n - 1) / 2;
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    return w;
  };
  const [wx, wy, wz] = [axis(patchSize[0]), axis(patchSize[1]), axis(patchSize[2])];
  const out = new Float32Array(voxelCount(patchSize));
  let max = 0;
  let p = 0;
  for (let z = 0; z < patchSize[2]; z++)
    for (let y = 0; y < patchSize[1]; y++)
      for (let x = 0; x < patchSize[0]; x++) {
        const v = wx[x] * wy[y] * wz[z];
        out[p++] = v;
        if (v > max) max = v;
      }
  for (let i = 0; i < out.length; i++) out[i] = Math.max(minWeight, out[i] / max);
  return out;
}

/** Options of {@link slidingWindowInfer}. */
export interface SlidingWindowOptions {
  /** Window size [x, y, z] in voxels. */
  patchSize: Vec3;
  /** Fraction of a window shared with its neighbour, in [0, 1); default 0.25. */
  overlap?: number;
  /** 'gaussian' (default) weights window centres more; 'constant' averages evenly. */
  blend?: 'gaussian' | 'constant';
  /** Values the predictor returns per voxel (channels-last, interleaved); default 1. */
  outChannels?: number;
  /** Value of voxels outside the volume in a window; default 0. */
  padValue?: number;
  /** Returns true for windows not worth predicting (e.g. outside the body); they contribute nothing. */
  skipWindow?: (start: Vec3, patch: Float32Array) => boolean;
  /** Output value of voxels that no predicted window covered; default 0. */
  fillValue?: number;
  /** Called after each window with (windows done, windows in total). */
  onProgress?: (done: number, total: number) => void;
  /** Cancels between windows (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Sliding-window inference: cuts the volume into overlapping windows, calls `predict` on each,
 * and blends the outputs with an importance map, dividing the weighted sum by the summed weights
 * (both accumulated in Float32Arrays). Knows no model.
 *
 * @param volume - input values, x fastest, length dims[0]·dims[1]·dims[2].
 * @param predict - maps a window (patch layout, x fastest) to `outChannels` values per voxel,
 *   channels-last; it may reuse nothing of the input buffer after it resolves.
 * @returns the blended output, `outChannels` values per voxel, channels-last.
 * @throws PatchError for invalid options or a predictor output of the wrong length.
 * @example
 * const out = await slidingWindowInfer(vol, [64, 64, 40], async (p) => p.map((v) => v + 1), { patchSize: [32, 32, 32] });
 */
export async function slidingWindowInfer(
  volume: NumericArray,
  dims: Vec3,
  predict: (patch: Float32Array, start: Vec3) => Promise<Float32Array>,
  opts: SlidingWindowOptions,
): Promise<Float32Array> {
  checkVolume(volume, dims);
  const patchSize = opts.patchSize;
  checkVec3('patchSize', patchSize, 1);
  const overlap = opts.overlap ?? 0.25;
  const channels = opts.outChannels ?? 1;
  if (!Number.isInteger(channels) || channels < 1) throw new PatchError(`outChannels must be a positive integer, got ${channels}`);
  const blend = opts.blend ?? 'gaussian';
  if (blend !== 'gaussian' && blend !== 'constant') throw new PatchError(`blend must be 'gaussian' or 'constant', got ${String(blend)}`);
  const starts = patchGrid(dims, patchSize, overlap);
  const pv = voxelCount(patchSize);
  const importance = blend === 'gaussian' ? gaussianImportanceMap(patchSize) : new Float32Array(pv).fill(1);
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const sum = new Float32Array(n * channels);
  const weight = new Float32Array(n);
  const patch = new Float32Array(pv);
  let done = 0;
  for (const start of starts) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
    extractPatch(volume, dims, start, patchSize, opts.padValue ?? 0, patch);
    if (!opts.skipWindow?.(start, patch)) {
      const out = await predict(patch, start);
      if (out.length !== pv * channels) {
        throw new PatchError(`predictor returned ${out.length} values for a ${patchSize.join('×')} window with ${channels} channel(s); expected ${pv * channels}`);
      }
      let p = 0;
      for (let z = 0; z < patchSize[2]; z++) {
        const vz = start[2] + z;
        for (let y = 0; y < patchSize[1]; y++) {
          const vy = start[1] + y;
          if (vz < 0 || vz >= nz || vy < 0 || vy >= ny) {
            p += patchSize[0];
            continue;
          }
          const row = (vz * ny + vy) * nx;
          for (let x = 0; x < patchSize[0]; x++, p++) {
            const vx = start[0] + x;
            if (vx < 0 || vx >= nx) continue;
            const w = importance[p];
            const v = row + vx;
            weight[v] += w;
            for (let c = 0; c < channels; c++) sum[v * channels + c] += w * out[p * channels + c];
          }
        }
      }
    }
    done++;
    opts.onProgress?.(done, starts.length);
  }
  const fill = opts.fillValue ?? 0;
  for (let v = 0; v < n; v++) {
    const w = weight[v];
    for (let c = 0; c < channels; c++) sum[v * channels + c] = w > 0 ? sum[v * channels + c] / w : fill;
  }
  return sum;
}
