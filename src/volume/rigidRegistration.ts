// Rigid registration of one image to another (6 degrees of freedom: 3 rotations about the fixed
// image's intensity centroid and 3 translations, in scanner mm), so that an image of another
// session, or one whose affine is off, can be fused over the image being labelled. The metric is
// normalised mutual information (Studholme 1999), which works across modalities and does not
// reward shrinking the overlap; the optimiser a compass search (derivative-free, robust to the
// histogram's steps), coarse to fine on block-averaged copies of the two images, as ITK-SNAP's
// and Slicer's rigid registrations go coarse to fine.
//
// The result is a corrected affine for the moving image: resampling it with that affine
// (resampleOntoGrid) puts it on the fixed image. Nothing is written.
import { invertAffine, type WorldGrid } from './resampleWorld';
import { ResampleError } from './resample';
import { rotationMatrix } from './rotation';
import type { Vec3 } from './vec3';

/** An image: values (i fastest) on a grid. */
export interface RegistrationImage extends WorldGrid {
  data: ArrayLike<number>;
}

export interface RigidRegistrationOptions {
  /** Working spacings, coarse to fine (mm). */
  levelsMm?: number[];
  /** Intensity bins of the joint histogram, per image. */
  bins?: number;
  /** Most fixed-image samples per level. */
  maxSamples?: number;
  /** Largest rotation (degrees) and translation (mm) the search may reach from its start. */
  maxRotationDeg?: number;
  maxTranslationMm?: number;
  signal?: AbortSignal;
}

export interface RigidRegistrationResult {
  /** The moving image's voxel → world affine that puts it on the fixed image (4×4 row-major). */
  correctedAffine: Float64Array;
  /** Fixed-world → moving-world map found (4×4 row-major). */
  transform: Float64Array;
  rotationDeg: [number, number, number];
  translationMm: [number, number, number];
  /** Normalised mutual information (1 = independent, 2 = identical) at the start (affines as given) and at the end. */
  nmiBefore: number;
  nmiAfter: number;
  evaluations: number;
}

export class RegistrationError extends Error {
  override name = 'RegistrationError';
}

const DEFAULTS = { levelsMm: [8, 4, 2], bins: 32, maxSamples: 40_000, maxRotationDeg: 45, maxTranslationMm: 150 };

/** A block-averaged copy of an image at about `mm` spacing (factor ≥ 1 per axis), with its affine. */
interface Level {
  data: Float32Array;
  dims: Vec3;
  affine: Float64Array;
  /** World → voxel of this level (3×4 used). */
  inverse: Float64Array;
}

function spacingOf(affine: ArrayLike<number>): Vec3 {
  return [0, 1, 2].map((c) => Math.hypot(affine[c], affine[4 + c], affine[8 + c])) as Vec3;
}

function downsample(image: RegistrationImage, mm: number): Level {
  const spacing = spacingOf(image.affine);
  const f = spacing.map((s) => Math.max(1, Math.round(mm / s))) as Vec3;
  const [nx, ny, nz] = image.dims;
  const dims = [0, 1, 2].map((a) => Math.max(1, Math.floor(image.dims[a] / f[a]))) as Vec3;
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const counts = new Uint32Array(data.length);
  const src = image.data;
  for (let k = 0; k < dims[2] * f[2] && k < nz; k++) {
    const kk = Math.floor(k / f[2]) * dims[0] * dims[1];
    for (let j = 0; j < dims[1] * f[1] && j < ny; j++) {
      const jj = kk + Math.floor(j / f[1]) * dims[0];
      const row = (k * ny + j) * nx;
      for (let i = 0; i < dims[0] * f[0] && i < nx; i++) {
        const v = src[row + i];
        if (!Number.isFinite(v)) continue;
        const o = jj + Math.floor(i / f[0]);
        data[o] += v;
        counts[o]++;
      }
    }
  }
  for (let o = 0; o < data.length; o++) data[o] = counts[o] > 0 ? data[o] / counts[o] : NaN;
  // Voxel I of the level is the centre of voxels f·I … f·I + f − 1 of the image.
  const a = image.affine;
  const affine = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) affine[4 * r + c] = a[4 * r + c] * f[c];
    affine[4 * r + 3] = a[4 * r + 3] + a[4 * r] * (f[0] - 1) / 2 + a[4 * r + 1] * (f[1] - 1) / 2 + a[4 * r + 2] * (f[2] - 1) / 2;
  }
  affine[15] = 1;
  return { data, dims, affine, inverse: invertAffine(affine) };
}

/**
 * The 0.5th and 99.5th percentiles of the finite values (a sample of them); the whole range when
 * those coincide (a small object on an even background); null when every value is the same.
 */
function robustRange(values: ArrayLike<number>): [number, number] | null {
  const step = Math.max(1, Math.floor(values.length / 50_000));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i])) sample.push(values[i]);
  if (sample.length === 0) return null;
  sample.sort((x, y) => x - y);
  const lo = sample[Math.floor(0.005 * (sample.length - 1))];
  const hi = sample[Math.floor(0.995 * (sample.length - 1))];
  if (hi > lo) return [lo, hi];
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return max > min ? [min, max] : null;
}

/** Fixed world → moving world for parameters [ax, ay, az (rad), tx, ty, tz (mm)] about `centre`: R(x − c) + c + t. */
function transformOf(p: number[], centre: Vec3): Float64Array {
  const R = rotationMatrix(p[0], p[1], p[2]);
  const m = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    m[4 * r] = R[3 * r];
    m[4 * r + 1] = R[3 * r + 1];
    m[4 * r + 2] = R[3 * r + 2];
    m[4 * r + 3] = centre[r] + p[3 + r] - (R[3 * r] * centre[0] + R[3 * r + 1] * centre[1] + R[3 * r + 2] * centre[2]);
  }
  m[15] = 1;
  return m;
}

function multiply(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) out[4 * r + c] += a[4 * r + k] * b[4 * k + c];
  return out;
}

/** The world position of voxel (i, j, k) under `affine`. */
function worldOf(affine: ArrayLike<number>, i: number, j: number, k: number): Vec3 {
  return [0, 1, 2].map((r) => affine[4 * r] * i + affine[4 * r + 1] * j + affine[4 * r + 2] * k + affine[4 * r + 3]) as Vec3;
}

/** The intensity-weighted centroid (world mm) of the values above the image's median: where the object is. */
function centroid(level: Level): Vec3 {
  const [lo] = robustRange(level.data) ?? [0];
  const sorted = Array.from(level.data).filter(Number.isFinite).sort((x, y) => x - y);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  const floor = Math.max(lo, median);
  const [nx, ny, nz] = level.dims;
  let w = 0;
  const s = [0, 0, 0];
  for (let k = 0, o = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, o++) {
        const v = level.data[o] - floor;
        if (!(v > 0)) continue;
        s[0] += v * i;
        s[1] += v * j;
        s[2] += v * k;
        w += v;
      }
    }
  }
  if (w === 0) return worldOf(level.affine, (nx - 1) / 2, (ny - 1) / 2, (nz - 1) / 2);
  return worldOf(level.affine, s[0] / w, s[1] / w, s[2] / w);
}

/** Normalised mutual information of the fixed samples and the moving image under `transform`. */
class Metric {
  evaluations = 0;
  private readonly joint: Float64Array;
  private readonly movingBins: Float64Array;

  constructor(
    private readonly samples: { world: Float64Array; bin: Uint16Array },
    private readonly moving: Level,
    private readonly movingRange: [number, number],
    private readonly bins: number,
  ) {
    this.joint = new Float64Array(bins * bins);
    this.movingBins = new Float64Array(bins);
  }

  /** NMI, or 0 when under a fifth of the samples fall in the moving image. */
  value(transform: Float64Array): number {
    this.evaluations++;
    const { world, bin } = this.samples;
    const mv = this.moving;
    const inv = mv.inverse;
    // Fixed world → moving voxel in one 3×4 map.
    const m = multiply(inv, transform);
    const [sx, sy, sz] = mv.dims;
    const sxy = sx * sy;
    const joint = this.joint;
    joint.fill(0);
    const nb = this.bins;
    const [lo, hi] = this.movingRange;
    const scale = (nb - 1) / (hi - lo);
    let inside = 0;
    const n = bin.length;
    for (let s = 0; s < n; s++) {
      const wx = world[3 * s];
      const wy = world[3 * s + 1];
      const wz = world[3 * s + 2];
      const x = m[0] * wx + m[1] * wy + m[2] * wz + m[3];
      const y = m[4] * wx + m[5] * wy + m[6] * wz + m[7];
      const z = m[8] * wx + m[9] * wy + m[10] * wz + m[11];
      if (x < 0 || y < 0 || z < 0 || x > sx - 1 || y > sy - 1 || z > sz - 1) continue;
      const x0 = Math.min(Math.floor(x), sx - 2 < 0 ? 0 : sx - 2);
      const y0 = Math.min(Math.floor(y), sy - 2 < 0 ? 0 : sy - 2);
      const z0 = Math.min(Math.floor(z), sz - 2 < 0 ? 0 : sz - 2);
      const fx = x - x0;
      const fy = y - y0;
      const fz = z - z0;
      const x1 = Math.min(x0 + 1, sx - 1);
      const y1 = Math.min(y0 + 1, sy - 1) * sx;
      const z1 = Math.min(z0 + 1, sz - 1) * sxy;
      const yb = y0 * sx;
      const zb = z0 * sxy;
      const d = mv.data;
      const v =
        ((d[zb + yb + x0] * (1 - fx) + d[zb + yb + x1] * fx) * (1 - fy) + (d[zb + y1 + x0] * (1 - fx) + d[zb + y1 + x1] * fx) * fy) * (1 - fz) +
        ((d[z1 + yb + x0] * (1 - fx) + d[z1 + yb + x1] * fx) * (1 - fy) + (d[z1 + y1 + x0] * (1 - fx) + d[z1 + y1 + x1] * fx) * fy) * fz;
      if (!Number.isFinite(v)) continue;
      // The moving value shared between its two nearest bins (smoother in the parameters than one bin).
      let t = (v - lo) * scale;
      t = t < 0 ? 0 : t > nb - 1 ? nb - 1 : t;
      const b0 = Math.min(Math.floor(t), nb - 2 < 0 ? 0 : nb - 2);
      const w1 = t - b0;
      const row = bin[s] * nb;
      joint[row + b0] += 1 - w1;
      if (b0 + 1 < nb) joint[row + b0 + 1] += w1;
      inside++;
    }
    if (inside < 0.2 * n || inside < 100) return 0;
    const mb = this.movingBins;
    mb.fill(0);
    let hJoint = 0;
    let hFixed = 0;
    for (let a = 0; a < nb; a++) {
      let rowSum = 0;
      for (let b = 0; b < nb; b++) {
        const p = joint[a * nb + b];
        if (p > 0) {
          const q = p / inside;
          hJoint -= q * Math.log(q);
        }
        rowSum += p;
        mb[b] += p;
      }
      if (rowSum > 0) {
        const q = rowSum / inside;
        hFixed -= q * Math.log(q);
      }
    }
    let hMoving = 0;
    for (let b = 0; b < nb; b++) {
      if (mb[b] > 0) {
        const q = mb[b] / inside;
        hMoving -= q * Math.log(q);
      }
    }
    return hJoint > 0 ? (hFixed + hMoving) / hJoint : 0;
  }
}

/** Fixed-image samples of a level: world positions of (up to `max`) voxels in a regular stride, and their bins. */
function fixedSamples(level: Level, range: [number, number], bins: number, max: number): { world: Float64Array; bin: Uint16Array } {
  const [nx, ny, nz] = level.dims;
  const total = nx * ny * nz;
  const stride = Math.max(1, Math.ceil(total / max));
  const world: number[] = [];
  const bin: number[] = [];
  const [lo, hi] = range;
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  for (let o = 0; o < total; o += stride) {
    const v = level.data[o];
    if (!Number.isFinite(v)) continue;
    const i = o % nx;
    const j = Math.floor(o / nx) % ny;
    const k = Math.floor(o / (nx * ny));
    // A random offset within the voxel: samples on the moving grid's own lattice make the
    // interpolation's blur vary with the pose, which biases mutual information (Pluim 2000).
    world.push(...worldOf(level.affine, i + random() - 0.5, j + random() - 0.5, k + random() - 0.5));
    bin.push(Math.max(0, Math.min(bins - 1, Math.round(((v - lo) / (hi - lo)) * (bins - 1)))));
  }
  return { world: Float64Array.from(world), bin: Uint16Array.from(bin) };
}

/**
 * Registers `moving` to `fixed` rigidly. Starts from the affines as they are, or, when the two
 * images do not overlap there, with their intensity centroids aligned.
 * @throws RegistrationError when an image is empty or the search is aborted.
 */
export function registerRigid(fixed: RegistrationImage, moving: RegistrationImage, options: RigidRegistrationOptions = {}): RigidRegistrationResult {
  const o = { ...DEFAULTS, ...options };
  if (!(o.bins >= 4 && o.bins <= 256)) throw new RegistrationError(`bins must be 4–256, got ${o.bins}`);
  if (o.levelsMm.length === 0 || o.levelsMm.some((l, i) => !(l > 0) || (i > 0 && !(l < o.levelsMm[i - 1])))) {
    throw new RegistrationError(`levelsMm must be positive spacings from coarse to fine, got [${o.levelsMm.join(', ')}]`);
  }
  for (const [name, img] of [['fixed', fixed], ['moving', moving]] as const) {
    if (img.data.length !== img.dims[0] * img.dims[1] * img.dims[2]) throw new ResampleError(`the ${name} image has ${img.data.length} values for dims ${img.dims.join('×')}`);
  }
  const fixedRange = robustRange(fixed.data);
  const movingRange = robustRange(moving.data);
  if (!fixedRange || !movingRange) throw new RegistrationError(`the ${fixedRange ? 'moving' : 'fixed'} image holds one value only: there is nothing to align`);

  // Finest level from the image, each coarser one from the next finer: one pass over the full volume.
  const pyramid = (image: RegistrationImage): Level[] => {
    const levels: Level[] = new Array(o.levelsMm.length);
    for (let l = o.levelsMm.length - 1; l >= 0; l--) levels[l] = downsample(l === o.levelsMm.length - 1 ? image : levels[l + 1], o.levelsMm[l]);
    return levels;
  };
  const fixedLevels = pyramid(fixed);
  const movingLevels = pyramid(moving);
  const coarseFixed = fixedLevels[0];
  const coarseMoving = movingLevels[0];
  const centre = centroid(coarseFixed);
  const identity = [0, 0, 0, 0, 0, 0];
  const atStart = (level: Level, mv: Level, p: number[]): number =>
    new Metric(fixedSamples(level, fixedRange, o.bins, o.maxSamples), mv, movingRange, o.bins).value(transformOf(p, centre));
  const nmiBefore = atStart(coarseFixed, coarseMoving, identity);
  // Where the affines leave the images apart (or barely overlapping), the centroids meet first.
  const moved = centroid(coarseMoving);
  const shift = [0, 0, 0, moved[0] - centre[0], moved[1] - centre[1], moved[2] - centre[2]];
  let p = atStart(coarseFixed, coarseMoving, shift) > nmiBefore ? shift : identity.slice();
  const start = p.slice();

  const maxRad = (o.maxRotationDeg * Math.PI) / 180;
  let evaluations = 0;
  for (let l = 0; l < o.levelsMm.length; l++) {
    const mm = o.levelsMm[l];
    const f = fixedLevels[l];
    const mv = movingLevels[l];
    const metric = new Metric(fixedSamples(f, fixedRange, o.bins, o.maxSamples), mv, movingRange, o.bins);
    let best = metric.value(transformOf(p, centre));
    // Steps: a translation of two working voxels, and the rotation that moves a point 50 mm from the centre as far.
    let stepMm = 2 * mm;
    let stepRad = (2 * mm) / 50;
    const minMm = l === o.levelsMm.length - 1 ? mm / 8 : mm / 2;
    while (stepMm >= minMm) {
      if (o.signal?.aborted) throw new RegistrationError('registration cancelled');
      let improved = false;
      for (let d = 0; d < 6; d++) {
        const step = d < 3 ? stepRad : stepMm;
        for (const sign of [1, -1]) {
          const q = p.slice();
          q[d] += sign * step;
          if (d < 3 && Math.abs(q[d] - start[d]) > maxRad) continue;
          if (d >= 3 && Math.abs(q[d] - start[d]) > o.maxTranslationMm) continue;
          const v = metric.value(transformOf(q, centre));
          if (v > best + 1e-6) {
            best = v;
            p = q;
            improved = true;
            break;
          }
        }
      }
      if (!improved) {
        stepMm /= 2;
        stepRad /= 2;
      }
    }
    evaluations += metric.evaluations;
  }
  const transform = transformOf(p, centre);
  // resample(moving, A′) at fixed world x reads moving voxel A⁻¹·T·x, so A′ = T⁻¹·A.
  const correctedAffine = multiply(invertAffine(transform), moving.affine);
  return {
    correctedAffine,
    transform,
    rotationDeg: [p[0], p[1], p[2]].map((r) => (r * 180) / Math.PI) as [number, number, number],
    translationMm: [p[3], p[4], p[5]],
    nmiBefore,
    // Both on the coarsest level, so that they compare.
    nmiAfter: atStart(coarseFixed, coarseMoving, p),
    evaluations,
  };
}
