// The training patch sampler: patches with foreground oversampling and augmentation (rotation,
// zoom, thick slices, flips, intensity scale and shift). Volume layout: see ../volume/vec3.
import { extractPatch, flipInPlace } from '../volume/boxes';
import { checkVec3, checkVolume, PatchError, voxelCount, type NumericArray, type Vec3 } from '../volume/vec3';
import { rotationMatrix } from '../volume/rotation';

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
  /** Largest zoom: a patch shows the image magnified by a factor drawn from [1 − s, 1 + s]; default 0 (off). */
  maxZoom?: number;
  /** Probability of zooming a patch; default 0.3. */
  zoomProbability?: number;
  /** Thick slices along one random axis (see {@link simulateThickSlices}); absent: off. */
  thickSlices?: ThickSliceAugmentation;
}

/** How often a patch is made to look as if scanned in thick slices, and how thick (in patch voxels). */
export interface ThickSliceAugmentation {
  probability: number;
  /** Slice thickness drawn from [minFactor, maxFactor] voxels of the patch's grid; minFactor ≥ 1. */
  minFactor: number;
  maxFactor: number;
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
  /** Magnification of the patch (1 = none). */
  zoom: number;
  /** Thick slices simulated on the image: the axis and the thickness in voxels; null when none. */
  thickSlices: { axis: number; factor: number } | null;
}

/**
 * Cuts one augmented training patch: with probability `foregroundFraction` centred on a random
 * lesion voxel, otherwise at a uniformly random position (patches may extend past the volume,
 * padded with `padValue` / label 0). A rotation or zoom resamples about the patch centre (trilinear
 * for the image, nearest for the labels); flips and intensity changes follow.
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
  const maxZoom = aug?.maxZoom ?? 0;
  if (!(maxZoom >= 0 && maxZoom < 1)) throw new PatchError(`maxZoom must lie in [0, 1), got ${maxZoom}`);
  const zoom = aug !== null && maxZoom > 0 && random() < (aug.zoomProbability ?? 0.3) ? 1 + (2 * random() - 1) * maxZoom : 1;
  let img: Float32Array;
  let lab: Uint8Array;
  if (rotate || zoom !== 1) {
    const r = rotate ? rotationMatrix((2 * random() - 1) * maxRot, (2 * random() - 1) * maxRot, (2 * random() - 1) * maxRot) : [1, 0, 0, 0, 1, 0, 0, 0, 1];
    ({ img, lab } = sampleTransformed(image, labels, dims, start, size, r.map((x) => x / zoom), pad));
  } else {
    img = extractPatch(image, dims, start, size, pad);
    const labF = extractPatch(labels, dims, start, size, 0);
    lab = new Uint8Array(labF.length);
    for (let i = 0; i < lab.length; i++) lab[i] = labF[i] > 0 ? 1 : 0;
  }
  let thickSlices: TrainingPatch['thickSlices'] = null;
  // Drawn only when enabled, so a seed gives the same patches as before without it.
  if (aug?.thickSlices && random() < aug.thickSlices.probability) {
    const { minFactor, maxFactor } = aug.thickSlices;
    if (!(minFactor >= 1 && maxFactor >= minFactor)) throw new PatchError(`thick slices need 1 ≤ minFactor ≤ maxFactor, got ${minFactor} and ${maxFactor}`);
    thickSlices = { axis: Math.floor(random() * 3), factor: minFactor + random() * (maxFactor - minFactor) };
    simulateThickSlices(img, size, thickSlices.axis, thickSlices.factor, random());
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
  return { image: img, labels: lab, start, centredOnLesion, flippedAxes, rotated: rotate, zoom, thickSlices };
}

/**
 * Makes `img` (in place) look as a scan in slices `factor` voxels thick along `axis` looks once
 * resampled back onto this grid, as inference resamples a 5 mm FLAIR onto a 2 mm working grid:
 * each slice the mean of the voxels it covers (a box slice profile; slice edges start `phase`
 * of a slice before voxel 0), then linear interpolation between slice centres, held flat past the
 * first and last. The labels stay the object's true extent.
 */
export function simulateThickSlices(img: Float32Array, size: Vec3, axis: number, factor: number, phase: number): void {
  if (!(factor >= 1)) throw new PatchError(`slice thickness must be ≥ 1 voxel, got ${factor}`);
  if (!(phase >= 0 && phase < 1)) throw new PatchError(`slice phase must lie in [0, 1), got ${phase}`);
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new PatchError(`axis must be 0, 1 or 2, got ${axis}`);
  const n = size[axis];
  const stride = axis === 0 ? 1 : axis === 1 ? size[0] : size[0] * size[1];
  const origin = -phase * factor;
  const slices = Math.ceil((n - origin) / factor);
  // Each voxel's overlap with each slice (voxel x spans [x, x + 1)).
  const weights: { slice: number; voxel: number; w: number }[] = [];
  const sliceWeight = new Float64Array(slices);
  for (let j = 0; j < slices; j++) {
    const lo = origin + j * factor;
    const hi = lo + factor;
    for (let x = Math.max(0, Math.floor(lo)); x < Math.min(n, Math.ceil(hi)); x++) {
      const w = Math.min(hi, x + 1) - Math.max(lo, x);
      if (w > 1e-9) {
        weights.push({ slice: j, voxel: x, w });
        sliceWeight[j] += w;
      }
    }
  }
  // Each voxel's two nearest slice centres and its weight between them.
  const centre = (j: number): number => origin + (j + 0.5) * factor - 0.5;
  const interp = Array.from({ length: n }, (_, x) => {
    const u = Math.min(slices - 1, Math.max(0, (x - centre(0)) / factor));
    const j0 = Math.min(slices - 2, Math.floor(u));
    return j0 < 0 ? { j0: 0, t: 0 } : { j0, t: u - j0 };
  });
  const line = new Float64Array(n);
  const sliceValue = new Float64Array(slices);
  const lines = img.length / n;
  for (let l = 0; l < lines; l++) {
    // The first voxel of line l: the other two axes enumerated in layout order.
    const base = axis === 0 ? l * n : axis === 1 ? (l % size[0]) + Math.floor(l / size[0]) * size[0] * size[1] : l;
    for (let x = 0; x < n; x++) line[x] = img[base + x * stride];
    sliceValue.fill(0);
    for (const { slice, voxel, w } of weights) sliceValue[slice] += w * line[voxel];
    for (let j = 0; j < slices; j++) sliceValue[j] /= sliceWeight[j];
    for (let x = 0; x < n; x++) {
      const { j0, t } = interp[x];
      img[base + x * stride] = slices === 1 ? sliceValue[0] : sliceValue[j0] * (1 - t) + sliceValue[j0 + 1] * t;
    }
  }
}

/** The patch at `start` resampled through the linear map `r` (row-major, patch voxels → volume voxels) about its centre. */
function sampleTransformed(
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
