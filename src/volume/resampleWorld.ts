// One image onto another image's grid by their affines (scanner mm): each target voxel centre is
// carried into the source's voxel coordinates and sampled trilinearly. Where it falls outside the
// source (beyond half a voxel past its edge voxels' centres) the value is NaN, so that a display
// can leave it uncoloured. How a PET is shown over its CT, or a T2 over a T1, of the same session.
import { ResampleError, MAX_RESAMPLED_VOXELS } from './resample';
import type { Vec3 } from './vec3';

/** A grid with its voxel → world (mm) affine, 4×4 row-major. */
export interface WorldGrid {
  dims: Vec3;
  affine: ArrayLike<number>;
}

/** The 4×4 inverse of an affine (row-major) whose last row is 0 0 0 1: [R t; 0 1]⁻¹ = [R⁻¹ −R⁻¹t; 0 1]. */
export function invertAffine(a: ArrayLike<number>): Float64Array {
  const [m00, m01, m02, t0, m10, m11, m12, t1, m20, m21, m22, t2] = Array.from(a);
  const c00 = m11 * m22 - m12 * m21;
  const c01 = m02 * m21 - m01 * m22;
  const c02 = m01 * m12 - m02 * m11;
  const det = m00 * c00 + m10 * c01 + m20 * c02;
  if (!Number.isFinite(det) || !(Math.abs(det) > 0)) throw new ResampleError('the affine cannot be inverted (its 3×3 part is singular)');
  const r = [
    c00 / det, c01 / det, c02 / det,
    (m12 * m20 - m10 * m22) / det, (m00 * m22 - m02 * m20) / det, (m02 * m10 - m00 * m12) / det,
    (m10 * m21 - m11 * m20) / det, (m01 * m20 - m00 * m21) / det, (m00 * m11 - m01 * m10) / det,
  ];
  const out = new Float64Array(16);
  for (let i = 0; i < 3; i++) {
    out[4 * i] = r[3 * i];
    out[4 * i + 1] = r[3 * i + 1];
    out[4 * i + 2] = r[3 * i + 2];
    out[4 * i + 3] = -(r[3 * i] * t0 + r[3 * i + 1] * t1 + r[3 * i + 2] * t2);
  }
  out[15] = 1;
  return out;
}

/**
 * The 3×4 row-major map from a target grid's voxel coordinates to a source grid's (inverse source
 * affine · target affine), for resampling one grid onto another by world position.
 * @throws ResampleError when the source affine is singular.
 */
export function targetToSourceVoxels(sourceAffine: ArrayLike<number>, targetAffine: ArrayLike<number>): Float64Array {
  const inv = invertAffine(sourceAffine);
  const t = targetAffine;
  const m = new Float64Array(12);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      m[4 * r + c] = inv[4 * r] * t[c] + inv[4 * r + 1] * t[4 + c] + inv[4 * r + 2] * t[8 + c] + (c === 3 ? inv[4 * r + 3] : 0);
    }
  }
  return m;
}

/**
 * `source` (values on `sourceGrid`, i fastest) sampled at every voxel centre of `target`.
 * @returns the values (NaN outside the source) and the fraction of target voxels the source covers.
 * @throws ResampleError for a grid that does not match its values, a singular affine, or a target too large.
 */
export function resampleOntoGrid(source: ArrayLike<number>, sourceGrid: WorldGrid, target: WorldGrid): { values: Float32Array; coverage: number } {
  const [sx, sy, sz] = sourceGrid.dims;
  if (source.length !== sx * sy * sz) throw new ResampleError(`the source has ${source.length} values but dims ${sourceGrid.dims.join('×')} need ${sx * sy * sz}`);
  const [tx, ty, tz] = target.dims;
  const count = tx * ty * tz;
  if (count > MAX_RESAMPLED_VOXELS) throw new ResampleError(`the target grid ${target.dims.join('×')} has more than ${MAX_RESAMPLED_VOXELS.toLocaleString('en-US')} voxels`);
  const m = targetToSourceVoxels(sourceGrid.affine, target.affine);
  const values = new Float32Array(count);
  const sxy = sx * sy;
  // A sample within half a voxel past the edge centres takes the edge value (clamped), as the
  // source's voxels reach there; farther out it is NaN.
  const inside = (x: number, n: number): boolean => x >= -0.5 && x <= n - 0.5;
  const clampIndex = (i: number, n: number): number => (i < 0 ? 0 : i > n - 1 ? n - 1 : i);
  let covered = 0;
  let p = 0;
  for (let k = 0; k < tz; k++) {
    for (let j = 0; j < ty; j++) {
      const bx = m[1] * j + m[2] * k + m[3];
      const by = m[5] * j + m[6] * k + m[7];
      const bz = m[9] * j + m[10] * k + m[11];
      for (let i = 0; i < tx; i++, p++) {
        const x = m[0] * i + bx;
        const y = m[4] * i + by;
        const z = m[8] * i + bz;
        if (!inside(x, sx) || !inside(y, sy) || !inside(z, sz)) {
          values[p] = NaN;
          continue;
        }
        const x0 = Math.floor(x);
        const y0 = Math.floor(y);
        const z0 = Math.floor(z);
        const fx = x - x0;
        const fy = y - y0;
        const fz = z - z0;
        const i0 = clampIndex(x0, sx);
        const i1 = clampIndex(x0 + 1, sx);
        const j0 = clampIndex(y0, sy) * sx;
        const j1 = clampIndex(y0 + 1, sy) * sx;
        const k0 = clampIndex(z0, sz) * sxy;
        const k1 = clampIndex(z0 + 1, sz) * sxy;
        const c00 = source[k0 + j0 + i0] * (1 - fx) + source[k0 + j0 + i1] * fx;
        const c10 = source[k0 + j1 + i0] * (1 - fx) + source[k0 + j1 + i1] * fx;
        const c01 = source[k1 + j0 + i0] * (1 - fx) + source[k1 + j0 + i1] * fx;
        const c11 = source[k1 + j1 + i0] * (1 - fx) + source[k1 + j1 + i1] * fx;
        values[p] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
        covered++;
      }
    }
  }
  return { values, coverage: count > 0 ? covered / count : 0 };
}
