// Box operations on flat volumes (layout: see ./vec3): copying a box out with padding, padding,
// cropping, pasting, the bounding box of a mask, and flips.
import { checkVec3, checkVolume, PatchError, voxelCount, type NumericArray, type Vec3 } from './vec3';

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
