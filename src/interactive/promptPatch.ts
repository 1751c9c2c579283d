// The input of the learned prompt model: a cube of `size`³ voxels of `spacingMm` (isotropic) placed
// around the prompts, holding the image (robust z-score of what lies inside the image), the positive
// and negative clicks (balls), the boxes and the object so far. Pure, so training (which simulates
// the clicks) and inference (which maps the user's clicks) build exactly the same channels.
import type { Vec3 } from '../volume/vec3';
import type { VoxelBox } from './box';
import { PromptError } from './errors';

/** Where the patch lies: its centre in (continuous) image voxel indices, its voxel size and side. */
export interface PromptPatchGrid {
  centreVoxel: Vec3;
  spacingMm: number;
  size: number;
}

/** Channels of the model's input, in this order (channels last). */
export const PROMPT_CHANNELS = ['image', 'positive clicks', 'negative clicks', 'boxes', 'object so far'] as const;
export const PROMPT_CHANNEL_COUNT = PROMPT_CHANNELS.length;
/** Radius of a click's ball in patch voxels. */
export const CLICK_RADIUS_VOXELS = 1.5;

/** Patch coordinates (continuous, x fastest) of an image voxel. */
export function imageToPatch(grid: PromptPatchGrid, imageSpacingMm: Vec3, voxel: readonly number[]): Vec3 {
  const h = (grid.size - 1) / 2;
  return [0, 1, 2].map((a) => h + ((voxel[a] - grid.centreVoxel[a]) * imageSpacingMm[a]) / grid.spacingMm) as Vec3;
}

/** Image voxel coordinates (continuous) of patch coordinates. */
export function patchToImage(grid: PromptPatchGrid, imageSpacingMm: Vec3, p: readonly number[]): Vec3 {
  const h = (grid.size - 1) / 2;
  return [0, 1, 2].map((a) => grid.centreVoxel[a] + ((p[a] - h) * grid.spacingMm) / imageSpacingMm[a]) as Vec3;
}

function checkGrid(grid: PromptPatchGrid): void {
  if (!Number.isInteger(grid.size) || grid.size < 8 || grid.size > 256) throw new PromptError(`prompt patch size must be an integer from 8 to 256, got ${grid.size}`);
  if (!(grid.spacingMm > 0)) throw new PromptError(`prompt patch spacing must be > 0 mm, got ${grid.spacingMm}`);
}

/**
 * Trilinear samples of `values` (i fastest, grid `dims`) at every patch voxel; `inside` is 1 where the
 * sample lies within the image (outside, the sample is NaN until {@link normalisePatchImage}).
 */
export function resampleToPatch(values: ArrayLike<number>, dims: Vec3, spacingMm: Vec3, grid: PromptPatchGrid): { patch: Float32Array; inside: Uint8Array } {
  checkGrid(grid);
  const [nx, ny, nz] = dims;
  const P = grid.size;
  const patch = new Float32Array(P * P * P);
  const inside = new Uint8Array(P * P * P);
  const h = (P - 1) / 2;
  const step = [grid.spacingMm / spacingMm[0], grid.spacingMm / spacingMm[1], grid.spacingMm / spacingMm[2]];
  const nxy = nx * ny;
  for (let c = 0; c < P; c++) {
    const z = grid.centreVoxel[2] + (c - h) * step[2];
    for (let b = 0; b < P; b++) {
      const y = grid.centreVoxel[1] + (b - h) * step[1];
      for (let a = 0; a < P; a++) {
        const x = grid.centreVoxel[0] + (a - h) * step[0];
        const o = (c * P + b) * P + a;
        // Half a voxel beyond the outermost centres still belongs to the image (nearest there).
        if (x < -0.5 || y < -0.5 || z < -0.5 || x > nx - 0.5 || y > ny - 0.5 || z > nz - 0.5) {
          patch[o] = NaN;
          continue;
        }
        const xc = Math.min(Math.max(x, 0), nx - 1);
        const yc = Math.min(Math.max(y, 0), ny - 1);
        const zc = Math.min(Math.max(z, 0), nz - 1);
        const x0 = Math.min(Math.floor(xc), nx - 2 < 0 ? 0 : nx - 2);
        const y0 = Math.min(Math.floor(yc), ny - 2 < 0 ? 0 : ny - 2);
        const z0 = Math.min(Math.floor(zc), nz - 2 < 0 ? 0 : nz - 2);
        const fx = nx > 1 ? xc - x0 : 0;
        const fy = ny > 1 ? yc - y0 : 0;
        const fz = nz > 1 ? zc - z0 : 0;
        const dx = nx > 1 ? 1 : 0;
        const dy = ny > 1 ? nx : 0;
        const dz = nz > 1 ? nxy : 0;
        const v = x0 + y0 * nx + z0 * nxy;
        const c00 = values[v] * (1 - fx) + values[v + dx] * fx;
        const c10 = values[v + dy] * (1 - fx) + values[v + dy + dx] * fx;
        const c01 = values[v + dz] * (1 - fx) + values[v + dz + dx] * fx;
        const c11 = values[v + dz + dy] * (1 - fx) + values[v + dz + dy + dx] * fx;
        patch[o] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
        inside[o] = 1;
      }
    }
  }
  return { patch, inside };
}

/**
 * Robust z-score in place: the samples inside the image are clipped to their 0.5th–99.5th
 * percentiles, then centred on their mean and divided by their standard deviation; samples
 * outside the image become 0 (the mean). The model is thus blind to the modality's units.
 */
export function normalisePatchImage(patch: Float32Array, inside: Uint8Array): void {
  const values: number[] = [];
  for (let o = 0; o < patch.length; o++) if (inside[o]) values.push(patch[o]);
  if (values.length === 0) {
    patch.fill(0);
    return;
  }
  const sorted = Float32Array.from(values).sort();
  const lo = sorted[Math.floor(0.005 * (sorted.length - 1))];
  const hi = sorted[Math.ceil(0.995 * (sorted.length - 1))];
  let sum = 0;
  let sumSq = 0;
  for (const v of sorted) {
    const c = Math.min(Math.max(v, lo), hi);
    sum += c;
    sumSq += c * c;
  }
  const mean = sum / sorted.length;
  const sd = Math.sqrt(Math.max(0, sumSq / sorted.length - mean * mean));
  const scale = sd > 1e-6 * Math.max(1, Math.abs(mean)) ? 1 / sd : 0;
  for (let o = 0; o < patch.length; o++) patch[o] = inside[o] ? (Math.min(Math.max(patch[o], lo), hi) - mean) * scale : 0;
}

/** Sets the voxels of `channel` (a P³ cube, x fastest) within `radius` voxels of `centre` to 1. */
export function paintBall(channel: Float32Array, size: number, centre: readonly number[], radius = CLICK_RADIUS_VOXELS): void {
  const lo = centre.map((c) => Math.max(0, Math.ceil(c - radius)));
  const hi = centre.map((c) => Math.min(size - 1, Math.floor(c + radius)));
  // A click that falls between voxel centres still marks the nearest one.
  const nearest = centre.map((c) => Math.round(c));
  if (nearest.every((c) => c >= 0 && c < size)) channel[(nearest[2] * size + nearest[1]) * size + nearest[0]] = 1;
  for (let c = lo[2]; c <= hi[2]; c++) {
    for (let b = lo[1]; b <= hi[1]; b++) {
      for (let a = lo[0]; a <= hi[0]; a++) {
        const d2 = (a - centre[0]) ** 2 + (b - centre[1]) ** 2 + (c - centre[2]) ** 2;
        if (d2 <= radius * radius) channel[(c * size + b) * size + a] = 1;
      }
    }
  }
}

/** Sets the voxels of `channel` inside the patch-coordinate box [min, max] to 1 (at least the nearest slice on a flat axis). */
export function paintPatchBox(channel: Float32Array, size: number, min: readonly number[], max: readonly number[]): void {
  const lo = min.map((m) => Math.max(0, Math.ceil(m - 1e-6)));
  const hi = max.map((m) => Math.min(size - 1, Math.floor(m + 1e-6)));
  for (let a = 0; a < 3; a++) {
    if (hi[a] < lo[a]) {
      const mid = Math.round((min[a] + max[a]) / 2);
      if (mid < 0 || mid >= size) return;
      lo[a] = hi[a] = mid;
    }
  }
  for (let c = lo[2]; c <= hi[2]; c++) for (let b = lo[1]; b <= hi[1]; b++) for (let a = lo[0]; a <= hi[0]; a++) channel[(c * size + b) * size + a] = 1;
}

/** The patch-coordinate extent of an image voxel box (voxel centres ± half a voxel). */
export function boxToPatch(grid: PromptPatchGrid, imageSpacingMm: Vec3, box: VoxelBox): { min: Vec3; max: Vec3 } {
  const lo = imageToPatch(grid, imageSpacingMm, box.min.map((v) => v - 0.5));
  const hi = imageToPatch(grid, imageSpacingMm, box.max.map((v) => v + 0.5));
  // A 2-D box (one slice) keeps one slice thickness along its flat axis.
  return { min: lo, max: hi };
}

/** The model's input channels interleaved channels-last ([z][y][x][channel]) from separate P³ cubes. */
export function interleaveChannels(channels: readonly Float32Array[], size: number): Float32Array {
  const n = size * size * size;
  const C = channels.length;
  const out = new Float32Array(n * C);
  for (let c = 0; c < C; c++) {
    const ch = channels[c];
    if (ch.length !== n) throw new PromptError(`prompt channel ${c} has ${ch.length} values, expected ${n}`);
    for (let o = 0; o < n; o++) out[o * C + c] = ch[o];
  }
  return out;
}

/**
 * Trilinear samples of a patch probability (P³) back on the image grid inside the patch's extent:
 * returns the image voxel box covered and, for each of its voxels (i fastest), the probability.
 */
export function probabilityOnImage(prob: Float32Array, grid: PromptPatchGrid, dims: Vec3, spacingMm: Vec3): { box: VoxelBox; values: Float32Array } | null {
  const P = grid.size;
  const lo = patchToImage(grid, spacingMm, [0, 0, 0]);
  const hi = patchToImage(grid, spacingMm, [P - 1, P - 1, P - 1]);
  const min = [0, 1, 2].map((a) => Math.max(0, Math.ceil(lo[a]))) as Vec3;
  const max = [0, 1, 2].map((a) => Math.min(dims[a] - 1, Math.floor(hi[a]))) as Vec3;
  if ([0, 1, 2].some((a) => max[a] < min[a])) return null;
  const sx = max[0] - min[0] + 1;
  const sy = max[1] - min[1] + 1;
  const sz = max[2] - min[2] + 1;
  const values = new Float32Array(sx * sy * sz);
  const h = (P - 1) / 2;
  const coord = (a: number, v: number): number => Math.min(P - 1, Math.max(0, h + ((v - grid.centreVoxel[a]) * spacingMm[a]) / grid.spacingMm));
  const px = Float64Array.from({ length: sx }, (_, n) => coord(0, min[0] + n));
  const py = Float64Array.from({ length: sy }, (_, n) => coord(1, min[1] + n));
  const pz = Float64Array.from({ length: sz }, (_, n) => coord(2, min[2] + n));
  const PP = P * P;
  let o = 0;
  for (let k = 0; k < sz; k++) {
    const z0 = Math.min(Math.floor(pz[k]), P - 2);
    const fz = pz[k] - z0;
    for (let j = 0; j < sy; j++) {
      const y0 = Math.min(Math.floor(py[j]), P - 2);
      const fy = py[j] - y0;
      for (let i = 0; i < sx; i++, o++) {
        const x0 = Math.min(Math.floor(px[i]), P - 2);
        const fx = px[i] - x0;
        const v = z0 * PP + y0 * P + x0;
        const c00 = prob[v] * (1 - fx) + prob[v + 1] * fx;
        const c10 = prob[v + P] * (1 - fx) + prob[v + P + 1] * fx;
        const c01 = prob[v + PP] * (1 - fx) + prob[v + PP + 1] * fx;
        const c11 = prob[v + PP + P] * (1 - fx) + prob[v + PP + P + 1] * fx;
        values[o] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
      }
    }
  }
  return { box: { min, max }, values };
}

/** Nearest-neighbour samples of a label array at every patch voxel: 1 where the label equals `label` (0 outside the image). */
export function resampleLabelToPatch(labels: ArrayLike<number>, dims: Vec3, spacingMm: Vec3, grid: PromptPatchGrid, label: number): Uint8Array {
  checkGrid(grid);
  const [nx, ny, nz] = dims;
  const P = grid.size;
  const out = new Uint8Array(P * P * P);
  const h = (P - 1) / 2;
  const idx = (a: number, p: number, n: number): number => {
    const v = Math.round(grid.centreVoxel[a] + ((p - h) * grid.spacingMm) / spacingMm[a]);
    return v >= 0 && v < n ? v : -1;
  };
  const xs = Int32Array.from({ length: P }, (_, p) => idx(0, p, nx));
  const ys = Int32Array.from({ length: P }, (_, p) => idx(1, p, ny));
  const zs = Int32Array.from({ length: P }, (_, p) => idx(2, p, nz));
  for (let c = 0; c < P; c++) {
    if (zs[c] < 0) continue;
    for (let b = 0; b < P; b++) {
      if (ys[b] < 0) continue;
      const row = (zs[c] * ny + ys[b]) * nx;
      for (let a = 0; a < P; a++) if (xs[a] >= 0 && labels[row + xs[a]] === label) out[(c * P + b) * P + a] = 1;
    }
  }
  return out;
}
