// Resampling between voxel grids that cover the same field of view: to a target spacing (for the
// model) and back to the source grid (for the output). Trilinear for images and probabilities,
// nearest neighbour for labels.
//
// Grid alignment: both grids span the same extent, edge to edge (voxel centre j of the output maps
// to source coordinate (j + 0.5)·n_in/n_out − 0.5, as scipy's grid_mode and torch's
// align_corners=false). So the output's first voxel centre moves by half the spacing change,
// and {@link resampledAffine} gives its affine.
import type { Vec3 } from './vec3';

/** Error raised for invalid resampling arguments. */
export class ResampleError extends Error {
  override name = 'ResampleError';
}

/** Typed arrays that nearest-neighbour resampling keeps as they are. */
export type LabelArray = Uint8Array | Uint16Array | Int16Array | Int32Array | Float32Array;

/**
 * Largest output grid resampling allocates (2^28 voxels, 1 GiB as float32): the output size comes
 * from header spacings, and a wrong pixdim (200 mm voxels) would otherwise ask for 10^11 voxels.
 */
export const MAX_RESAMPLED_VOXELS = 2 ** 28;

function check(data: ArrayLike<number>, dims: Vec3, outDims: Vec3): void {
  for (const [name, v] of [['dims', dims], ['outDims', outDims]] as const) {
    if (v.length !== 3 || v.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new ResampleError(`${name} must be three positive integers, got ${JSON.stringify(v)}`);
    }
  }
  const outVoxels = outDims[0] * outDims[1] * outDims[2];
  if (outVoxels > MAX_RESAMPLED_VOXELS) {
    throw new ResampleError(
      `resampling to ${outDims.join('×')} would make ${outVoxels.toLocaleString('en-US')} voxels, more than the ` +
        `${MAX_RESAMPLED_VOXELS.toLocaleString('en-US')} allowed; check the voxel size (pixdim) in the header`,
    );
  }
  if (data.length !== dims[0] * dims[1] * dims[2]) {
    throw new ResampleError(`volume has ${data.length} values but dims ${dims.join('×')} need ${dims[0] * dims[1] * dims[2]}`);
  }
}

/** Grid size that covers the same extent at `targetSpacingMm` (at least 1 voxel per axis). */
export function dimsForSpacing(dims: Vec3, spacingMm: Vec3, targetSpacingMm: Vec3): Vec3 {
  for (let a = 0; a < 3; a++) {
    if (!(spacingMm[a] > 0) || !(targetSpacingMm[a] > 0)) {
      throw new ResampleError(`spacings must be > 0 mm, got ${spacingMm.join(',')} → ${targetSpacingMm.join(',')}`);
    }
  }
  return [0, 1, 2].map((a) => Math.max(1, Math.round((dims[a] * spacingMm[a]) / targetSpacingMm[a]))) as Vec3;
}

function axisMap(nIn: number, nOut: number, nearest: boolean): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(nOut);
  const i1 = new Int32Array(nOut);
  const f = new Float32Array(nOut);
  const scale = nIn / nOut;
  for (let j = 0; j < nOut; j++) {
    let s = (j + 0.5) * scale - 0.5;
    s = Math.min(Math.max(s, 0), nIn - 1);
    if (nearest) {
      i0[j] = i1[j] = Math.min(nIn - 1, Math.round(s));
      continue;
    }
    const lo = Math.floor(s);
    i0[j] = lo;
    i1[j] = Math.min(lo + 1, nIn - 1);
    f[j] = s - lo;
  }
  return { i0, i1, f };
}

/**
 * Trilinear resampling of a volume to `outDims` over the same extent.
 * @returns Float32Array, x fastest. Identity when `outDims` equals `dims`.
 */
export function resampleLinear(data: ArrayLike<number>, dims: Vec3, outDims: Vec3): Float32Array {
  check(data, dims, outDims);
  const [nx, ny] = dims;
  const mx = axisMap(dims[0], outDims[0], false);
  const my = axisMap(dims[1], outDims[1], false);
  const mz = axisMap(dims[2], outDims[2], false);
  const out = new Float32Array(outDims[0] * outDims[1] * outDims[2]);
  let p = 0;
  for (let z = 0; z < outDims[2]; z++) {
    const z0 = mz.i0[z] * nx * ny;
    const z1 = mz.i1[z] * nx * ny;
    const fz = mz.f[z];
    for (let y = 0; y < outDims[1]; y++) {
      const y0 = my.i0[y] * nx;
      const y1 = my.i1[y] * nx;
      const fy = my.f[y];
      for (let x = 0; x < outDims[0]; x++, p++) {
        const x0 = mx.i0[x];
        const x1 = mx.i1[x];
        const fx = mx.f[x];
        const c00 = data[z0 + y0 + x0] * (1 - fx) + data[z0 + y0 + x1] * fx;
        const c10 = data[z0 + y1 + x0] * (1 - fx) + data[z0 + y1 + x1] * fx;
        const c01 = data[z1 + y0 + x0] * (1 - fx) + data[z1 + y0 + x1] * fx;
        const c11 = data[z1 + y1 + x0] * (1 - fx) + data[z1 + y1 + x1] * fx;
        out[p] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
      }
    }
  }
  return out;
}

/**
 * Nearest-neighbour resampling (for labels) to `outDims` over the same extent.
 * @returns an array of the input's type.
 */
export function resampleNearest<T extends LabelArray>(data: T, dims: Vec3, outDims: Vec3): T {
  check(data, dims, outDims);
  const [nx, ny] = dims;
  const mx = axisMap(dims[0], outDims[0], true);
  const my = axisMap(dims[1], outDims[1], true);
  const mz = axisMap(dims[2], outDims[2], true);
  const ctor = data.constructor as new (n: number) => T;
  const out = new ctor(outDims[0] * outDims[1] * outDims[2]);
  let p = 0;
  for (let z = 0; z < outDims[2]; z++)
    for (let y = 0; y < outDims[1]; y++) {
      const row = (mz.i0[z] * ny + my.i0[y]) * nx;
      for (let x = 0; x < outDims[0]; x++, p++) out[p] = data[row + mx.i0[x]];
    }
  return out;
}

/**
 * Resamples to a target spacing: trilinear (`'linear'`) for images, nearest for labels.
 * @returns the values, the new dims and the effective spacing (extent / new dims).
 */
export function resampleToSpacing(
  data: ArrayLike<number>,
  dims: Vec3,
  spacingMm: Vec3,
  targetSpacingMm: Vec3,
): { data: Float32Array; dims: Vec3; spacingMm: Vec3 } {
  const outDims = dimsForSpacing(dims, spacingMm, targetSpacingMm);
  check(data, dims, outDims);
  const spacing = [0, 1, 2].map((a) => (dims[a] * spacingMm[a]) / outDims[a]) as Vec3;
  const same = outDims.every((n, a) => n === dims[a]);
  return { data: same ? Float32Array.from(data) : resampleLinear(data, dims, outDims), dims: outDims, spacingMm: spacing };
}

/**
 * The voxel→world affine (row-major 4×4) of a grid of `outDims` spanning the same extent as the
 * grid of `dims` with affine `affine`.
 */
export function resampledAffine(affine: ArrayLike<number>, dims: Vec3, outDims: Vec3): Float64Array {
  if (affine.length !== 16) throw new ResampleError(`affine must have 16 values, got ${affine.length}`);
  const out = Float64Array.from(affine);
  for (let a = 0; a < 3; a++) {
    const s = dims[a] / outDims[a];
    const shift = 0.5 * s - 0.5; // source coordinate of output voxel 0
    for (let r = 0; r < 3; r++) {
      out[r * 4 + 3] += affine[r * 4 + a] * shift;
      out[r * 4 + a] = affine[r * 4 + a] * s;
    }
  }
  return out;
}
