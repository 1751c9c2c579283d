// Connected components of binary masks (6- or 26-connectivity). Pure and iterative (explicit queue).
import type { Vec3 } from '../volume/vec3';
import { maskBoundingBox } from './box';
import { PromptError } from './errors';

/** Voxel connectivity: faces only (6) or faces, edges and corners (26). */
export type Connectivity = 6 | 26;

/** Labelled components: `labels[v]` is 0 for background, else 1 + the component's index in `sizes`. */
export interface Components {
  labels: Int32Array;
  /** Voxel count of each component, in label order (label n has size sizes[n − 1]). */
  sizes: number[];
}

function neighbourOffsets(connectivity: Connectivity): Vec3[] {
  const out: Vec3[] = [];
  for (let dk = -1; dk <= 1; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const n = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (n === 0 || (connectivity === 6 && n > 1)) continue;
        out.push([di, dj, dk]);
      }
    }
  }
  return out;
}

function checkMask(mask: ArrayLike<number>, dims: Vec3, what: string): void {
  const n = dims[0] * dims[1] * dims[2];
  if (mask.length !== n) throw new PromptError(`${what}: mask has ${mask.length} values but dims ${dims.join('×')} need ${n}`);
}

/**
 * Labels the connected components of the non-zero voxels of `mask`.
 * @param connectivity - 6 or 26 (default 26).
 * @throws PromptError when the mask length does not match `dims`.
 */
export function labelComponents(mask: ArrayLike<number>, dims: Vec3, connectivity: Connectivity = 26): Components {
  checkMask(mask, dims, 'labelComponents');
  const labels = new Int32Array(mask.length);
  const sizes: number[] = [];
  const offsets = neighbourOffsets(connectivity);
  const queue = new Int32Array(mask.length);
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start] !== 0) continue;
    const label = sizes.length + 1;
    queue[0] = start;
    labels[start] = label;
    sizes.push(flood(mask, dims, offsets, labels, label, queue, 1));
  }
  return { labels, sizes };
}

/**
 * Breadth-first flood: from the `tail` voxels already in `queue` (and labelled), labels with
 * `label` every unlabelled voxel of `mask` connected to them; returns the voxels labelled in all.
 */
function flood(mask: ArrayLike<number>, dims: Vec3, offsets: Vec3[], labels: Int32Array | Uint8Array, label: number, queue: Int32Array, tail: number): number {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  for (let head = 0; head < tail; head++) {
    const v = queue[head];
    const i = v % nx;
    const j = ((v - i) / nx) % ny;
    const k = Math.floor(v / nxy);
    for (const [di, dj, dk] of offsets) {
      const ii = i + di;
      const jj = j + dj;
      const kk = k + dk;
      if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz) continue;
      const u = v + di + dj * nx + dk * nxy;
      if (mask[u] && labels[u] === 0) {
        labels[u] = label;
        queue[tail++] = u;
      }
    }
  }
  return tail;
}

/**
 * The voxels of the components of `mask` that hold one of `seeds` (voxel indices; background seeds
 * are ignored), as 0/1. Visits only those components, so it costs their size, not the grid's.
 */
export function componentsFromSeeds(mask: ArrayLike<number>, dims: Vec3, seeds: Iterable<number>, connectivity: Connectivity = 26): Uint8Array {
  checkMask(mask, dims, 'componentsFromSeeds');
  const out = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let tail = 0;
  for (const s of seeds) {
    if (mask[s] && !out[s]) {
      out[s] = 1;
      queue[tail++] = s;
    }
  }
  flood(mask, dims, neighbourOffsets(connectivity), out, 1, queue, tail);
  return out;
}

/**
 * The label at voxel `p`, or when that is background the label of the labelled voxel nearest to
 * it (mm; the first in voxel order at equal distance); 0 when nothing is labelled.
 */
export function labelAtOrNearest(labels: Int32Array, dims: Vec3, spacingMm: Vec3, p: Vec3): number {
  const at = labels[(p[2] * dims[1] + p[1]) * dims[0] + p[0]];
  if (at !== 0) return at;
  let nearest = Infinity;
  let label = 0;
  for (let k = 0, v = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, v++) {
        if (!labels[v]) continue;
        const d = ((i - p[0]) * spacingMm[0]) ** 2 + ((j - p[1]) * spacingMm[1]) ** 2 + ((k - p[2]) * spacingMm[2]) ** 2;
        if (d < nearest) {
          nearest = d;
          label = labels[v];
        }
      }
    }
  }
  return label;
}

/**
 * A copy of `mask` with its holes filled: background voxels not 6-connected to the border of the
 * mask's bounding box (a necrotic core enclosed by a bright rim) become 1.
 * @throws PromptError when the mask length does not match `dims`.
 */
export function fillHoles(mask: ArrayLike<number>, dims: Vec3): Uint8Array {
  checkMask(mask, dims, 'fillHoles');
  const [nx, ny] = dims;
  const nxy = nx * ny;
  const out = new Uint8Array(mask.length);
  for (let v = 0; v < mask.length; v++) if (mask[v]) out[v] = 1;
  const bbox = maskBoundingBox(mask, dims);
  if (!bbox) return out;
  const lo = bbox.min;
  const hi = bbox.max;
  // Background reachable from the bounding box's faces, within the box.
  const [sx, sy, sz] = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
  const reached = new Uint8Array(sx * sy * sz);
  const queue = new Int32Array(sx * sy * sz);
  let tail = 0;
  const visit = (i: number, j: number, k: number): void => {
    const b = (k * sy + j) * sx + i;
    if (reached[b] || out[(k + lo[2]) * nxy + (j + lo[1]) * nx + i + lo[0]]) return;
    reached[b] = 1;
    queue[tail++] = b;
  };
  for (let k = 0; k < sz; k++) {
    for (let j = 0; j < sy; j++) {
      for (let i = 0; i < sx; i++) {
        if (i === 0 || j === 0 || k === 0 || i === sx - 1 || j === sy - 1 || k === sz - 1) visit(i, j, k);
      }
    }
  }
  for (let head = 0; head < tail; head++) {
    const b = queue[head];
    const i = b % sx;
    const j = ((b - i) / sx) % sy;
    const k = (b - i - j * sx) / (sx * sy);
    if (i > 0) visit(i - 1, j, k);
    if (i < sx - 1) visit(i + 1, j, k);
    if (j > 0) visit(i, j - 1, k);
    if (j < sy - 1) visit(i, j + 1, k);
    if (k > 0) visit(i, j, k - 1);
    if (k < sz - 1) visit(i, j, k + 1);
  }
  for (let k = 0; k < sz; k++) {
    for (let j = 0; j < sy; j++) {
      for (let i = 0; i < sx; i++) if (!reached[(k * sy + j) * sx + i]) out[(k + lo[2]) * nxy + (j + lo[1]) * nx + i + lo[0]] = 1;
    }
  }
  return out;
}

/**
 * A copy of `mask` with its holes filled slice by slice across `axis` (0 = i, 1 = j, 2 = k):
 * background voxels not 4-connected, within their slice, to the border of the slice's part of the
 * mask's bounding box become 1. A core that opens to the outside in 3-D through a narrow channel is
 * still enclosed in most slices.
 * @throws PromptError when the mask length does not match `dims`.
 */
export function fillHolesInSlices(mask: ArrayLike<number>, dims: Vec3, axis: 0 | 1 | 2): Uint8Array {
  checkMask(mask, dims, 'fillHolesInSlices');
  const out = new Uint8Array(mask.length);
  for (let v = 0; v < mask.length; v++) if (mask[v]) out[v] = 1;
  const bbox = maskBoundingBox(mask, dims);
  if (!bbox) return out;
  const [u, w] = [0, 1, 2].filter((a) => a !== axis);
  const strides = [1, dims[0], dims[0] * dims[1]];
  const su = bbox.max[u] - bbox.min[u] + 1;
  const sw = bbox.max[w] - bbox.min[w] + 1;
  const reached = new Uint8Array(su * sw);
  const queue = new Int32Array(su * sw);
  for (let s = bbox.min[axis]; s <= bbox.max[axis]; s++) {
    const base = s * strides[axis] + bbox.min[u] * strides[u] + bbox.min[w] * strides[w];
    const at = (a: number, b: number): number => base + a * strides[u] + b * strides[w];
    reached.fill(0);
    let tail = 0;
    const visit = (a: number, b: number): void => {
      const q = b * su + a;
      if (reached[q] || out[at(a, b)]) return;
      reached[q] = 1;
      queue[tail++] = q;
    };
    for (let a = 0; a < su; a++) {
      visit(a, 0);
      visit(a, sw - 1);
    }
    for (let b = 0; b < sw; b++) {
      visit(0, b);
      visit(su - 1, b);
    }
    for (let head = 0; head < tail; head++) {
      const q = queue[head];
      const a = q % su;
      const b = (q - a) / su;
      if (a > 0) visit(a - 1, b);
      if (a < su - 1) visit(a + 1, b);
      if (b > 0) visit(a, b - 1);
      if (b < sw - 1) visit(a, b + 1);
    }
    for (let b = 0; b < sw; b++) for (let a = 0; a < su; a++) if (!reached[b * su + a]) out[at(a, b)] = 1;
  }
  return out;
}
