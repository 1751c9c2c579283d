// Patches of a 3-D volume: the sliding-window grid with overlap, the Gaussian importance map used
// to blend overlapping windows (MONAI / nnU-Net style), padding and cropping, the sliding-window
// inferer (which knows no model), and the training patch sampler with foreground oversampling
// and augmentation.
//
// Conventions (shared with src/nifti): a volume is a flat array with i (x) fastest, then j (y),
// then k (z); `dims` and every size / start below are [x, y, z] in voxels. A flat patch has the
// same layout, so it is a tfjs tensor [D=z, H=y, W=x] with no transposition.

/** Three integers along i (x), j (y), k (z). */
export type Vec3 = [number, number, number];

/** Numeric arrays the volume helpers read. */
export type NumericArray = ArrayLike<number>;

/** Error raised for invalid patch options or mismatched volume sizes. */
export class PatchError extends Error {
  override name = 'PatchError';
}

function checkVec3(name: string, v: readonly number[], min: number): void {
  if (!Array.isArray(v) || v.length !== 3 || v.some((n) => !Number.isInteger(n) || n < min)) {
    throw new PatchError(`${name} must be three integers ≥ ${min}, got ${JSON.stringify(v)}`);
  }
}

function checkVolume(data: NumericArray, dims: Vec3, what = 'volume'): void {
  checkVec3('dims', dims, 1);
  const n = dims[0] * dims[1] * dims[2];
  if (data.length !== n) {
    throw new PatchError(`${what} has ${data.length} values but dims ${dims.join('×')} need ${n}`);
  }
}

/** Number of voxels of a box. */
export function voxelCount(size: Vec3): number {
  return size[0] * size[1] * size[2];
}

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

/**
 * Copies the box at `start` of size `size` out of a volume; voxels outside the volume get
 * `padValue`. The start may be negative (padding before the volume).
 */
export function extractPatch(
  data: NumericArray,
  dims: Vec3,
  start: Vec3,
  size: Vec3,
  padValue = 0,
  out: Float32Array = new Float32Array(voxelCount(size)),
): Float32Array {
  const [nx, ny, nz] = dims;
  if (out.length !== voxelCount(size)) throw new PatchError(`output buffer has ${out.length} values, patch needs ${voxelCount(size)}`);
  let p = 0;
  for (let z = 0; z < size[2]; z++) {
    const sz = start[2] + z;
    for (let y = 0; y < size[1]; y++) {
      const sy = start[1] + y;
      if (sz < 0 || sz >= nz || sy < 0 || sy >= ny) {
        out.fill(padValue, p, p + size[0]);
        p += size[0];
        continue;
      }
      const row = (sz * ny + sy) * nx;
      for (let x = 0; x < size[0]; x++, p++) {
        const sx = start[0] + x;
        out[p] = sx >= 0 && sx < nx ? data[row + sx] : padValue;
      }
    }
  }
  return out;
}

/**
 * Pads a volume to at least `minDims`, centring it, with `padValue`.
 * @returns the padded volume, its dims and the offset of the original voxel (0,0,0) inside it.
 */
export function padVolume(
  data: NumericArray,
  dims: Vec3,
  minDims: Vec3,
  padValue = 0,
): { data: Float32Array; dims: Vec3; offset: Vec3 } {
  checkVolume(data, dims);
  checkVec3('minDims', minDims, 1);
  const outDims: Vec3 = [Math.max(dims[0], minDims[0]), Math.max(dims[1], minDims[1]), Math.max(dims[2], minDims[2])];
  const offset: Vec3 = [
    Math.floor((outDims[0] - dims[0]) / 2),
    Math.floor((outDims[1] - dims[1]) / 2),
    Math.floor((outDims[2] - dims[2]) / 2),
  ];
  const out = extractPatch(data, dims, [-offset[0], -offset[1], -offset[2]], outDims, padValue);
  return { data: out, dims: outDims, offset };
}

/** Copies the box at `start` (inside the volume) of size `size` into a new array of the input's type. */
export function cropVolume<T extends Float32Array | Uint8Array | Uint16Array | Int16Array | Float64Array>(
  data: T,
  dims: Vec3,
  start: Vec3,
  size: Vec3,
): T {
  checkVolume(data, dims);
  for (let a = 0; a < 3; a++) {
    if (start[a] < 0 || start[a] + size[a] > dims[a]) {
      throw new PatchError(`crop box start ${start.join(',')} size ${size.join('×')} leaves the volume ${dims.join('×')}`);
    }
  }
  const ctor = data.constructor as new (n: number) => T;
  const out = new ctor(voxelCount(size));
  let p = 0;
  for (let z = 0; z < size[2]; z++)
    for (let y = 0; y < size[1]; y++) {
      const row = ((start[2] + z) * dims[1] + start[1] + y) * dims[0] + start[0];
      out.set(data.subarray(row, row + size[0]) as unknown as ArrayLike<number>, p);
      p += size[0];
    }
  return out;
}

/** Writes `box` (of size `size`) into `target` at `start` (inside the volume). */
export function pasteVolume(target: { [i: number]: number; length: number }, dims: Vec3, box: ArrayLike<number>, start: Vec3, size: Vec3): void {
  for (let a = 0; a < 3; a++) {
    if (start[a] < 0 || start[a] + size[a] > dims[a]) {
      throw new PatchError(`paste box start ${start.join(',')} size ${size.join('×')} leaves the volume ${dims.join('×')}`);
    }
  }
  if (box.length !== voxelCount(size)) throw new PatchError(`box has ${box.length} values, size ${size.join('×')} needs ${voxelCount(size)}`);
  let p = 0;
  for (let z = 0; z < size[2]; z++)
    for (let y = 0; y < size[1]; y++) {
      const row = ((start[2] + z) * dims[1] + start[1] + y) * dims[0] + start[0];
      for (let x = 0; x < size[0]; x++) target[row + x] = box[p++];
    }
}

/**
 * Bounding box of the voxels > 0, grown by `marginVoxels` and clipped to the volume; null when
 * there is none.
 */
export function boundingBox(mask: ArrayLike<number>, dims: Vec3, marginVoxels = 0): { start: Vec3; size: Vec3 } | null {
  checkVolume(mask, dims, 'mask');
  const lo: Vec3 = [dims[0], dims[1], dims[2]];
  const hi: Vec3 = [-1, -1, -1];
  for (let z = 0, v = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, v++) {
        if (!(mask[v] > 0)) continue;
        if (x < lo[0]) lo[0] = x;
        if (x > hi[0]) hi[0] = x;
        if (y < lo[1]) lo[1] = y;
        if (y > hi[1]) hi[1] = y;
        if (z < lo[2]) lo[2] = z;
        if (z > hi[2]) hi[2] = z;
      }
  if (hi[0] < 0) return null;
  const start = [0, 1, 2].map((a) => Math.max(0, lo[a] - marginVoxels)) as Vec3;
  const end = [0, 1, 2].map((a) => Math.min(dims[a] - 1, hi[a] + marginVoxels)) as Vec3;
  return { start, size: [end[0] - start[0] + 1, end[1] - start[1] + 1, end[2] - start[2] + 1] };
}

/** Flips a volume in place along the given axes (0 = x, 1 = y, 2 = z). */
export function flipInPlace(data: { [i: number]: number; length: number }, dims: Vec3, axes: readonly number[]): void {
  const [nx, ny, nz] = dims;
  for (const axis of axes) {
    if (axis === 0) {
      for (let r = 0; r < ny * nz; r++) {
        const b = r * nx;
        for (let x = 0; x < nx >> 1; x++) {
          const t = data[b + x];
          data[b + x] = data[b + nx - 1 - x];
          data[b + nx - 1 - x] = t;
        }
      }
    } else if (axis === 1) {
      for (let z = 0; z < nz; z++)
        for (let y = 0; y < ny >> 1; y++) {
          const a = (z * ny + y) * nx;
          const b = (z * ny + ny - 1 - y) * nx;
          for (let x = 0; x < nx; x++) {
            const t = data[a + x];
            data[a + x] = data[b + x];
            data[b + x] = t;
          }
        }
    } else if (axis === 2) {
      const plane = nx * ny;
      for (let z = 0; z < nz >> 1; z++) {
        const a = z * plane;
        const b = (nz - 1 - z) * plane;
        for (let i = 0; i < plane; i++) {
          const t = data[a + i];
          data[a + i] = data[b + i];
          data[b + i] = t;
        }
      }
    } else {
      throw new PatchError(`flip axis must be 0, 1 or 2, got ${axis}`);
    }
  }
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

// ---------------------------------------------------------------------------------------------
// Training patches

/** A seeded pseudo-random generator returning numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Augmentation settings of {@link samplePatch}; each is off when absent. */
export interface Augmentation {
  /** Probability of flipping along each axis independently; default 0.5. */
  flipProbability?: number;
  /** Axes that may be flipped; default all three. */
  flipAxes?: number[];
  /** Intensity multiplied by a factor drawn from [1 − s, 1 + s]; default 0.1. */
  intensityScale?: number;
  /** Intensity shifted by a value drawn from [−s, s] (in normalised units); default 0.1. */
  intensityShift?: number;
  /** Largest rotation about each axis in degrees; default 10 (0 turns rotation off). */
  maxRotationDeg?: number;
  /** Probability of rotating a patch at all; default 0.3. */
  rotationProbability?: number;
}

/** Options of {@link samplePatch}. */
export interface PatchSamplerOptions {
  patchSize: Vec3;
  /** Fraction of patches centred on a random lesion voxel (when there is one); default 1/3. */
  foregroundFraction?: number;
  /** Flat indices of lesion voxels (precomputed with {@link foregroundIndices}). */
  lesionIndices: Int32Array;
  /** Augmentation; `null` turns it off. */
  augmentation?: Augmentation | null;
  /** Intensity of voxels outside the volume; default 0. */
  padValue?: number;
}

/** Flat indices of voxels whose value is > 0. */
export function foregroundIndices(labels: NumericArray): Int32Array {
  let count = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0) count++;
  const out = new Int32Array(count);
  let p = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0) out[p++] = i;
  return out;
}

/** A training patch: image in patch layout, labels {0,1}, where it was cut, and how. */
export interface TrainingPatch {
  image: Float32Array;
  labels: Uint8Array;
  start: Vec3;
  centredOnLesion: boolean;
  flippedAxes: number[];
  rotated: boolean;
}

function rotationMatrix(ax: number, ay: number, az: number): number[] {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  // R = Rz · Ry · Rx, row-major.
  return [
    cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx,
    sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx,
    -sy, cy * sx, cy * cx,
  ];
}

/**
 * Cuts one augmented training patch: with probability `foregroundFraction` centred on a random
 * lesion voxel, otherwise at a uniformly random position (patches may extend past the volume,
 * padded with `padValue` / label 0). A rotation resamples about the patch centre (trilinear for
 * the image, nearest for the labels); flips and intensity changes follow.
 */
export function samplePatch(
  image: NumericArray,
  labels: NumericArray,
  dims: Vec3,
  random: () => number,
  opts: PatchSamplerOptions,
): TrainingPatch {
  checkVolume(image, dims, 'image');
  checkVolume(labels, dims, 'label volume');
  const size = opts.patchSize;
  checkVec3('patchSize', size, 1);
  const fgFraction = opts.foregroundFraction ?? 1 / 3;
  if (!(fgFraction >= 0 && fgFraction <= 1)) throw new PatchError(`foregroundFraction must lie in [0, 1], got ${fgFraction}`);
  const [nx, ny, nz] = dims;
  const pad = opts.padValue ?? 0;
  let centre: Vec3;
  let centredOnLesion = false;
  if (opts.lesionIndices.length > 0 && random() < fgFraction) {
    const idx = opts.lesionIndices[Math.floor(random() * opts.lesionIndices.length)];
    centre = [idx % nx, Math.floor(idx / nx) % ny, Math.floor(idx / (nx * ny))];
    centredOnLesion = true;
  } else {
    const pick = (n: number, p: number): number => (n <= p ? Math.floor(n / 2) : Math.floor(p / 2) + Math.floor(random() * (n - p + 1)));
    centre = [pick(nx, size[0]), pick(ny, size[1]), pick(nz, size[2])];
  }
  const start: Vec3 = [centre[0] - Math.floor(size[0] / 2), centre[1] - Math.floor(size[1] / 2), centre[2] - Math.floor(size[2] / 2)];
  const aug = opts.augmentation === null ? null : opts.augmentation ?? {};
  const maxRot = ((aug?.maxRotationDeg ?? 10) * Math.PI) / 180;
  const rotate = aug !== null && maxRot > 0 && random() < (aug.rotationProbability ?? 0.3);
  let img: Float32Array;
  let lab: Uint8Array;
  if (rotate) {
    const r = rotationMatrix((2 * random() - 1) * maxRot, (2 * random() - 1) * maxRot, (2 * random() - 1) * maxRot);
    ({ img, lab } = sampleRotated(image, labels, dims, start, size, r, pad));
  } else {
    img = extractPatch(image, dims, start, size, pad);
    const labF = extractPatch(labels, dims, start, size, 0);
    lab = new Uint8Array(labF.length);
    for (let i = 0; i < lab.length; i++) lab[i] = labF[i] > 0 ? 1 : 0;
  }
  const flippedAxes: number[] = [];
  if (aug !== null) {
    const pFlip = aug.flipProbability ?? 0.5;
    for (const axis of aug.flipAxes ?? [0, 1, 2]) if (random() < pFlip) flippedAxes.push(axis);
    flipInPlace(img, size, flippedAxes);
    flipInPlace(lab, size, flippedAxes);
    const s = aug.intensityScale ?? 0.1;
    const t = aug.intensityShift ?? 0.1;
    const scale = 1 + (2 * random() - 1) * s;
    const shift = (2 * random() - 1) * t;
    if (scale !== 1 || shift !== 0) for (let i = 0; i < img.length; i++) img[i] = img[i] * scale + shift;
  }
  return { image: img, labels: lab, start, centredOnLesion, flippedAxes, rotated: rotate };
}

function sampleRotated(
  image: NumericArray,
  labels: NumericArray,
  dims: Vec3,
  start: Vec3,
  size: Vec3,
  r: number[],
  pad: number,
): { img: Float32Array; lab: Uint8Array } {
  const [nx, ny, nz] = dims;
  const img = new Float32Array(voxelCount(size));
  const lab = new Uint8Array(img.length);
  const pc = [(size[0] - 1) / 2, (size[1] - 1) / 2, (size[2] - 1) / 2];
  const vc = [start[0] + pc[0], start[1] + pc[1], start[2] + pc[2]];
  const at = (x: number, y: number, z: number): number =>
    x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz ? pad : image[(z * ny + y) * nx + x];
  let p = 0;
  for (let z = 0; z < size[2]; z++)
    for (let y = 0; y < size[1]; y++)
      for (let x = 0; x < size[0]; x++, p++) {
        const dx = x - pc[0];
        const dy = y - pc[1];
        const dz = z - pc[2];
        const sx = vc[0] + r[0] * dx + r[1] * dy + r[2] * dz;
        const sy = vc[1] + r[3] * dx + r[4] * dy + r[5] * dz;
        const sz = vc[2] + r[6] * dx + r[7] * dy + r[8] * dz;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const z0 = Math.floor(sz);
        const fx = sx - x0;
        const fy = sy - y0;
        const fz = sz - z0;
        const c00 = at(x0, y0, z0) * (1 - fx) + at(x0 + 1, y0, z0) * fx;
        const c10 = at(x0, y0 + 1, z0) * (1 - fx) + at(x0 + 1, y0 + 1, z0) * fx;
        const c01 = at(x0, y0, z0 + 1) * (1 - fx) + at(x0 + 1, y0, z0 + 1) * fx;
        const c11 = at(x0, y0 + 1, z0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1, z0 + 1) * fx;
        img[p] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
        const lx = Math.round(sx);
        const ly = Math.round(sy);
        const lz = Math.round(sz);
        lab[p] = lx >= 0 && ly >= 0 && lz >= 0 && lx < nx && ly < ny && lz < nz && labels[(lz * ny + ly) * nx + lx] > 0 ? 1 : 0;
      }
  return { img, lab };
}
