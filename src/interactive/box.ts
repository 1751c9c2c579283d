// Axis-aligned voxel boxes (inclusive corners) and cropping a region of interest out of a volume.
import type { Vec3 } from '../volume/vec3';

/** Inclusive voxel corners: every voxel with min[a] ≤ index[a] ≤ max[a] on each axis a. */
export interface VoxelBox {
  min: Vec3;
  max: Vec3;
}

/** Size of a box in voxels along i, j, k. */
export function boxSize(box: VoxelBox): Vec3 {
  return [box.max[0] - box.min[0] + 1, box.max[1] - box.min[1] + 1, box.max[2] - box.min[2] + 1];
}

/** Number of voxels of a box. */
export function boxVoxelCount(box: VoxelBox): number {
  const s = boxSize(box);
  return s[0] * s[1] * s[2];
}

/** The box grown by `marginMm` on every side (converted per axis with `spacingMm`) and clipped to the grid `dims`. */
export function growBoxMm(box: VoxelBox, marginMm: number, spacingMm: Vec3, dims: Vec3): VoxelBox {
  const min = [0, 0, 0] as Vec3;
  const max = [0, 0, 0] as Vec3;
  for (let a = 0; a < 3; a++) {
    const m = Math.ceil(marginMm / spacingMm[a] - 1e-9);
    min[a] = Math.max(0, box.min[a] - m);
    max[a] = Math.min(dims[a] - 1, box.max[a] + m);
  }
  return { min, max };
}

/** The smallest box holding both boxes. */
export function unionBox(a: VoxelBox, b: VoxelBox): VoxelBox {
  return { min: [0, 1, 2].map((x) => Math.min(a.min[x], b.min[x])) as Vec3, max: [0, 1, 2].map((x) => Math.max(a.max[x], b.max[x])) as Vec3 };
}

/** Whether two boxes are the same. */
export function sameBox(a: VoxelBox, b: VoxelBox): boolean {
  return a.min.every((v, i) => v === b.min[i]) && a.max.every((v, i) => v === b.max[i]);
}

/** Whether the box covers the whole grid along every axis. */
export function boxCoversGrid(box: VoxelBox, dims: Vec3): boolean {
  return box.min.every((v) => v === 0) && box.max.every((v, a) => v === dims[a] - 1);
}

/** The values of `box` out of a volume on `dims` (i fastest), as Float32Array. */
export function cropToFloat32(values: ArrayLike<number>, dims: Vec3, box: VoxelBox): Float32Array {
  const [sx, sy, sz] = boxSize(box);
  const out = new Float32Array(sx * sy * sz);
  const nx = dims[0];
  const nxy = dims[0] * dims[1];
  let o = 0;
  for (let k = 0; k < sz; k++) {
    for (let j = 0; j < sy; j++) {
      let src = (box.min[2] + k) * nxy + (box.min[1] + j) * nx + box.min[0];
      for (let i = 0; i < sx; i++) out[o++] = values[src++];
    }
  }
  return out;
}

/** The 0/1 values of `box` out of a mask on `dims`. */
export function cropMask(mask: ArrayLike<number>, dims: Vec3, box: VoxelBox): Uint8Array {
  const [nx, ny] = dims;
  const [sx, sy, sz] = boxSize(box);
  const out = new Uint8Array(sx * sy * sz);
  for (let k = 0, o = 0; k < sz; k++) {
    for (let j = 0; j < sy; j++) {
      let src = ((box.min[2] + k) * ny + box.min[1] + j) * nx + box.min[0];
      for (let i = 0; i < sx; i++, o++) if (mask[src++]) out[o] = 1;
    }
  }
  return out;
}

/** Writes a box-sized mask into a full-grid mask (the box's voxels are replaced). */
export function pasteMask(target: Uint8Array, dims: Vec3, box: VoxelBox, boxMask: Uint8Array): void {
  const [sx, sy, sz] = boxSize(box);
  const nx = dims[0];
  const nxy = dims[0] * dims[1];
  let o = 0;
  for (let k = 0; k < sz; k++) {
    for (let j = 0; j < sy; j++) {
      let dst = (box.min[2] + k) * nxy + (box.min[1] + j) * nx + box.min[0];
      for (let i = 0; i < sx; i++) target[dst++] = boxMask[o++];
    }
  }
}

/** Bounding box of the non-zero voxels of a mask, or null when it is empty. */
export function maskBoundingBox(mask: ArrayLike<number>, dims: Vec3): VoxelBox | null {
  const [nx, ny, nz] = dims;
  const min: Vec3 = [nx, ny, nz];
  const max: Vec3 = [-1, -1, -1];
  let idx = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, idx++) {
        if (!mask[idx]) continue;
        if (i < min[0]) min[0] = i;
        if (i > max[0]) max[0] = i;
        if (j < min[1]) min[1] = j;
        if (j > max[1]) max[1] = j;
        if (k < min[2]) min[2] = k;
        if (k > max[2]) max[2] = k;
      }
    }
  }
  return max[0] < 0 ? null : { min, max };
}
