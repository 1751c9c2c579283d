// Segmentation metrics and lesion bookkeeping: overlap scores (Dice, precision, recall), connected
// components, the lesion list and the minimum-lesion-size filter. Pure; any value > 0 is lesion.
import type { Vec3 } from '../volume/vec3';

/** Error raised for mismatched sizes or invalid options. */
export class MetricsError extends Error {
  override name = 'MetricsError';
}

/** Voxel counts and scores of a binary prediction against a reference. */
export interface OverlapScores {
  truePositive: number;
  falsePositive: number;
  falseNegative: number;
  /** 2TP / (2TP + FP + FN); 1 when both masks are empty. */
  dice: number;
  /** TP / (TP + FP); null when nothing is predicted. */
  precision: number | null;
  /** TP / (TP + FN); null when the reference is empty. */
  recall: number | null;
}

/**
 * Overlap of a predicted mask with a reference mask (voxels > 0 are positive).
 * @throws MetricsError when the lengths differ.
 */
export function overlapScores(predicted: ArrayLike<number>, reference: ArrayLike<number>): OverlapScores {
  if (predicted.length !== reference.length) {
    throw new MetricsError(`predicted mask has ${predicted.length} voxels but the reference has ${reference.length}`);
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] > 0;
    const r = reference[i] > 0;
    if (p && r) tp++;
    else if (p) fp++;
    else if (r) fn++;
  }
  return {
    truePositive: tp,
    falsePositive: fp,
    falseNegative: fn,
    dice: diceFromCounts(tp, fp, fn),
    precision: tp + fp === 0 ? null : tp / (tp + fp),
    recall: tp + fn === 0 ? null : tp / (tp + fn),
  };
}

/** 2TP / (2TP + FP + FN); 1 when there is nothing at all (both masks empty). */
export function diceFromCounts(truePositive: number, falsePositive: number, falseNegative: number): number {
  const denominator = 2 * truePositive + falsePositive + falseNegative;
  return denominator === 0 ? 1 : (2 * truePositive) / denominator;
}

/**
 * Pooled Dice of several cases: the voxel counts are summed first, so a large lesion weighs more
 * than a small one (the mean of per-case Dice would weigh every case alike).
 */
export function pooledDice(scores: Iterable<Pick<OverlapScores, 'truePositive' | 'falsePositive' | 'falseNegative'>>): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const s of scores) {
    tp += s.truePositive;
    fp += s.falsePositive;
    fn += s.falseNegative;
  }
  return diceFromCounts(tp, fp, fn);
}

/** Dice coefficient of two masks; 1 when both are empty. */
export function diceScore(predicted: ArrayLike<number>, reference: ArrayLike<number>): number {
  return overlapScores(predicted, reference).dice;
}

/**
 * Voxel connectivity: 6 = faces only; 26 = faces, edges and corners (the default, as most lesion
 * counting tools, e.g. the MICCAI MS challenges, use it).
 */
export type Connectivity = 6 | 26;

/** Result of {@link connectedComponents}. */
export interface Components {
  /** Component id per voxel: 0 background, 1..count in scan order (x fastest). */
  labels: Int32Array;
  count: number;
  /** Voxel count of component id c at index c − 1. */
  sizes: number[];
}

function neighbourOffsets(connectivity: Connectivity): Vec3[] {
  const out: Vec3[] = [];
  for (let dz = -1; dz <= 1; dz++)
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const manhattan = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        if (manhattan === 0) continue;
        if (connectivity === 6 && manhattan !== 1) continue;
        out.push([dx, dy, dz]);
      }
  return out;
}

/**
 * Labels the connected components of a binary mask (voxels > 0) by breadth-first flood fill.
 * @param connectivity - 6 (faces) or 26 (faces, edges, corners); default 26.
 * @throws MetricsError when the mask length does not match `dims` or connectivity is not 6 or 26.
 */
export function connectedComponents(mask: ArrayLike<number>, dims: Vec3, connectivity: Connectivity = 26): Components {
  const [nx, ny, nz] = dims;
  if (mask.length !== nx * ny * nz) throw new MetricsError(`mask has ${mask.length} voxels but dims ${dims.join('×')} need ${nx * ny * nz}`);
  if (connectivity !== 6 && connectivity !== 26) throw new MetricsError(`connectivity must be 6 or 26, got ${String(connectivity)}`);
  const offsets = neighbourOffsets(connectivity);
  const labels = new Int32Array(mask.length);
  const queue = new Int32Array(mask.length);
  const sizes: number[] = [];
  let count = 0;
  for (let seed = 0; seed < mask.length; seed++) {
    if (!(mask[seed] > 0) || labels[seed] !== 0) continue;
    count++;
    labels[seed] = count;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const v = queue[head++];
      const x = v % nx;
      const y = Math.floor(v / nx) % ny;
      const z = Math.floor(v / (nx * ny));
      for (const [dx, dy, dz] of offsets) {
        const xx = x + dx;
        const yy = y + dy;
        const zz = z + dz;
        if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
        const w = (zz * ny + yy) * nx + xx;
        if (mask[w] > 0 && labels[w] === 0) {
          labels[w] = count;
          queue[tail++] = w;
        }
      }
    }
    sizes.push(tail);
  }
  return { labels, count, sizes };
}

/** One lesion (connected component) of a mask. */
export interface Lesion {
  /** 1-based, ordered by decreasing volume. */
  id: number;
  voxelCount: number;
  volumeMm3: number;
  /** Mean voxel position [i, j, k]. */
  centroidVoxel: Vec3;
  /** Inclusive voxel bounding box. */
  boxMin: Vec3;
  boxMax: Vec3;
}

/** Options of {@link lesionList} and {@link removeSmallLesions}. */
export interface LesionOptions {
  /** Voxel size in mm along i, j, k. */
  spacingMm: Vec3;
  /** Default 26. */
  connectivity?: Connectivity;
  /** Lesions smaller than this (mm³) are dropped; default 0 (keep all). */
  minLesionMm3?: number;
  /**
   * Volume of one voxel in mm³: pass |det| of the affine's 3×3 (src/nifti/affine.ts
   * voxelVolumeMm3) when the affine is known. Default: the product of `spacingMm`, the same on
   * grids without shear.
   */
  voxelVolumeMm3?: number;
}

function checkLesionOptions(opts: LesionOptions): void {
  if (opts.spacingMm.length !== 3 || opts.spacingMm.some((s) => !(s > 0))) {
    throw new MetricsError(`spacingMm must be three values > 0, got ${JSON.stringify(opts.spacingMm)}`);
  }
  const min = opts.minLesionMm3 ?? 0;
  if (!(min >= 0)) throw new MetricsError(`minLesionMm3 must be ≥ 0, got ${min}`);
  if (opts.voxelVolumeMm3 !== undefined && !(opts.voxelVolumeMm3 > 0)) throw new MetricsError(`voxelVolumeMm3 must be > 0, got ${opts.voxelVolumeMm3}`);
}

function describe(components: Components, dims: Vec3, voxelMm3: number): Lesion[] {
  const n = components.count;
  const sum = new Float64Array(n * 3);
  const boxMin = new Int32Array(n * 3).fill(2 ** 30);
  const boxMax = new Int32Array(n * 3).fill(-1);
  const [nx, ny] = dims;
  const labels = components.labels;
  for (let v = 0; v < labels.length; v++) {
    const c = labels[v];
    if (c === 0) continue;
    const b = (c - 1) * 3;
    const p = [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      sum[b + a] += p[a];
      if (p[a] < boxMin[b + a]) boxMin[b + a] = p[a];
      if (p[a] > boxMax[b + a]) boxMax[b + a] = p[a];
    }
  }
  const lesions: Lesion[] = [];
  for (let c = 0; c < n; c++) {
    const size = components.sizes[c];
    const b = c * 3;
    lesions.push({
      id: c + 1,
      voxelCount: size,
      volumeMm3: size * voxelMm3,
      centroidVoxel: [sum[b] / size, sum[b + 1] / size, sum[b + 2] / size],
      boxMin: [boxMin[b], boxMin[b + 1], boxMin[b + 2]],
      boxMax: [boxMax[b], boxMax[b + 1], boxMax[b + 2]],
    });
  }
  return lesions;
}

/**
 * Lists the lesions of a mask, largest first, dropping those under `minLesionMm3`.
 * @throws MetricsError for invalid options or a mask that does not match `dims`.
 */
export function lesionList(mask: ArrayLike<number>, dims: Vec3, opts: LesionOptions): Lesion[] {
  return removeSmallLesions(mask, dims, opts).lesions;
}

/**
 * Removes lesions smaller than `minLesionMm3` from a mask.
 * @returns the filtered mask (0/1) and its lesions, largest first, renumbered 1..n.
 */
export function removeSmallLesions(mask: ArrayLike<number>, dims: Vec3, opts: LesionOptions): { mask: Uint8Array; lesions: Lesion[] } {
  checkLesionOptions(opts);
  const components = connectedComponents(mask, dims, opts.connectivity ?? 26);
  const voxelMm3 = opts.voxelVolumeMm3 ?? opts.spacingMm[0] * opts.spacingMm[1] * opts.spacingMm[2];
  const min = opts.minLesionMm3 ?? 0;
  const all = describe(components, dims, voxelMm3);
  const keep = new Uint8Array(components.count + 1);
  for (const l of all) if (l.volumeMm3 >= min) keep[l.id] = 1;
  const out = new Uint8Array(mask.length);
  for (let v = 0; v < out.length; v++) out[v] = keep[components.labels[v]];
  const lesions = all
    .filter((l) => keep[l.id] === 1)
    .sort((a, b) => b.voxelCount - a.voxelCount)
    .map((l, i) => ({ ...l, id: i + 1 }));
  return { mask: out, lesions };
}

/** Coordinates (voxel indices) of the surface voxels of a mask: in it, with a face neighbour outside it or the grid. */
function surfaceVoxels(mask: ArrayLike<number>, dims: Vec3): Int32Array {
  const [nx, ny, nz] = dims;
  const out: number[] = [];
  for (let z = 0, v = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, v++) {
        if (!(mask[v] > 0)) continue;
        const edge =
          x === 0 || y === 0 || z === 0 || x === nx - 1 || y === ny - 1 || z === nz - 1 ||
          !(mask[v - 1] > 0) || !(mask[v + 1] > 0) || !(mask[v - nx] > 0) || !(mask[v + nx] > 0) || !(mask[v - nx * ny] > 0) || !(mask[v + nx * ny] > 0);
        if (edge) out.push(x, y, z);
      }
  return Int32Array.from(out);
}

/** Distances (mm) from each point of `a` to the nearest point of `b` (both flat xyz triples). */
function directedDistances(a: Int32Array, b: Int32Array, spacing: Vec3): Float64Array {
  const [sx, sy, sz] = spacing;
  const out = new Float64Array(a.length / 3);
  for (let i = 0; i < a.length; i += 3) {
    const ax = a[i] * sx;
    const ay = a[i + 1] * sy;
    const az = a[i + 2] * sz;
    let best = Infinity;
    for (let j = 0; j < b.length; j += 3) {
      const dx = b[j] * sx - ax;
      const dy = b[j + 1] * sy - ay;
      const dz = b[j + 2] * sz - az;
      const d = dx * dx + dy * dy + dz * dz;
      if (d < best) {
        best = d;
        if (d === 0) break;
      }
    }
    out[i / 3] = Math.sqrt(best);
  }
  return out;
}

function percentile(values: Float64Array, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return 0;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * 95th-percentile Hausdorff distance in mm between the surfaces of two masks (voxels > 0): the
 * larger of the two directed 95th percentiles (surface voxel → nearest surface voxel of the
 * other mask), as MONAI computes it. 0 when both masks are empty; null when exactly one is.
 * Exact (brute force over surface voxels): fine for lesion-sized masks.
 * @throws MetricsError when lengths do not match `dims` or a spacing is not positive.
 */
export function hausdorff95(predicted: ArrayLike<number>, reference: ArrayLike<number>, dims: Vec3, spacingMm: Vec3): number | null {
  const n = dims[0] * dims[1] * dims[2];
  if (predicted.length !== n || reference.length !== n) throw new MetricsError(`masks have ${predicted.length} and ${reference.length} voxels but dims ${dims.join('×')} need ${n}`);
  if (!spacingMm.every((s) => s > 0)) throw new MetricsError(`spacing must be positive, got ${spacingMm.join('×')}`);
  const a = surfaceVoxels(predicted, dims);
  const b = surfaceVoxels(reference, dims);
  if (a.length === 0 && b.length === 0) return 0;
  if (a.length === 0 || b.length === 0) return null;
  return Math.max(percentile(directedDistances(a, b, spacingMm), 0.95), percentile(directedDistances(b, a, spacingMm), 0.95));
}

/** Lesion-wise detection scores: see {@link lesionWiseF1}. */
export interface LesionDetection {
  referenceLesions: number;
  predictedLesions: number;
  /** Reference lesions overlapped by at least one predicted voxel. */
  detected: number;
  /** Predicted lesions that overlap at least one reference voxel. */
  truePredicted: number;
  /** truePredicted / predictedLesions (1 when nothing is predicted and nothing is there). */
  precision: number;
  /** detected / referenceLesions (1 when the reference is empty). */
  recall: number;
  /** 2PR / (P + R); 0 when both are 0. */
  f1: number;
}

/**
 * Lesion-wise F1: lesions are connected components (26-connectivity by default); a reference
 * lesion counts as detected, and a predicted lesion as true, when they share at least one voxel.
 * @throws MetricsError when lengths do not match `dims`.
 */
export function lesionWiseF1(predicted: ArrayLike<number>, reference: ArrayLike<number>, dims: Vec3, connectivity: Connectivity = 26): LesionDetection {
  const p = connectedComponents(predicted, dims, connectivity);
  const r = connectedComponents(reference, dims, connectivity);
  const refHit = new Uint8Array(r.count + 1);
  const predHit = new Uint8Array(p.count + 1);
  for (let v = 0; v < p.labels.length; v++) {
    if (p.labels[v] && r.labels[v]) {
      refHit[r.labels[v]] = 1;
      predHit[p.labels[v]] = 1;
    }
  }
  const detected = refHit.reduce((s, x) => s + x, 0);
  const truePredicted = predHit.reduce((s, x) => s + x, 0);
  const precision = p.count === 0 ? (r.count === 0 ? 1 : 0) : truePredicted / p.count;
  const recall = r.count === 0 ? 1 : detected / r.count;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { referenceLesions: r.count, predictedLesions: p.count, detected, truePredicted, precision, recall, f1 };
}
