// Exact Euclidean distance transform in millimetres on anisotropic grids (Felzenszwalb &
// Huttenlocher 2012, separable lower envelope of parabolas).
import type { Vec3 } from '../volume/vec3';
import { PromptError } from './errors';

/** Squared 1-D distance transform of `f` (length n, sampled every `step` mm) into `d`. */
function edt1d(f: Float64Array, n: number, step: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  const w2 = step * step;
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    if (f[q] === Infinity) continue;
    if (f[v[k]] === Infinity) {
      v[k] = q;
      continue;
    }
    let s = (f[q] + w2 * q * q - (f[v[k]] + w2 * v[k] * v[k])) / (2 * w2 * (q - v[k]));
    while (s <= z[k]) {
      k--;
      if (k < 0) break;
      s = (f[q] + w2 * q * q - (f[v[k]] + w2 * v[k] * v[k])) / (2 * w2 * (q - v[k]));
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : s;
    z[k + 1] = Infinity;
  }
  if (f[v[0]] === Infinity) {
    for (let q = 0; q < n; q++) d[q] = Infinity;
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = q - v[k];
    d[q] = w2 * dq * dq + f[v[k]];
  }
}

/**
 * Distance (mm) from every voxel where `inside(v)` holds to the nearest voxel where it does not;
 * 0 outside. With `outsideIsBackground` (default true) the space beyond the grid counts as
 * outside, so a mask touching the edge gets small distances there.
 * @param mask - one value per voxel, i fastest; non-zero is inside.
 * @throws PromptError for a length that does not match `dims` or a spacing that is not > 0.
 */
export function distanceTransformMm(mask: ArrayLike<number>, dims: Vec3, spacingMm: Vec3, outsideIsBackground = true): Float32Array {
  const [nx, ny, nz] = dims;
  if (mask.length !== nx * ny * nz) throw new PromptError(`distanceTransformMm: mask has ${mask.length} values but dims ${dims.join('×')} need ${nx * ny * nz}`);
  if (!spacingMm.every((s) => s > 0)) throw new PromptError(`distanceTransformMm: spacing must be > 0 mm, got ${spacingMm.join(', ')}`);
  const pad = outsideIsBackground ? 1 : 0;
  const px = nx + 2 * pad;
  const py = ny + 2 * pad;
  const pz = nz + 2 * pad;
  const n = px * py * pz;
  const g = new Float64Array(n);
  for (let kk = 0; kk < nz; kk++) {
    for (let jj = 0; jj < ny; jj++) {
      let src = (kk * ny + jj) * nx;
      let dst = ((kk + pad) * py + jj + pad) * px + pad;
      for (let ii = 0; ii < nx; ii++, src++, dst++) if (mask[src]) g[dst] = Infinity;
    }
  }
  const maxLen = Math.max(px, py, pz);
  const f = new Float64Array(maxLen);
  const d = new Float64Array(maxLen);
  const v = new Int32Array(maxLen);
  const z = new Float64Array(maxLen + 1);
  const strides = [1, px, px * py];
  const lens = [px, py, pz];
  for (let axis = 0; axis < 3; axis++) {
    const len = lens[axis];
    const stride = strides[axis];
    const others = [0, 1, 2].filter((a) => a !== axis);
    const [a1, a2] = others;
    for (let c2 = 0; c2 < lens[a2]; c2++) {
      for (let c1 = 0; c1 < lens[a1]; c1++) {
        const base = c1 * strides[a1] + c2 * strides[a2];
        // A line all at 0 or all at infinity (no outside voxel reaches it yet) is already what
        // the 1-D transform would give.
        let anyNonZero = false;
        let anyFinite = false;
        for (let q = 0; q < len; q++) {
          const x = g[base + q * stride];
          f[q] = x;
          if (x !== 0) anyNonZero = true;
          if (x !== Infinity) anyFinite = true;
        }
        if (!anyNonZero || !anyFinite) continue;
        edt1d(f, len, spacingMm[axis], d, v, z);
        for (let q = 0; q < len; q++) g[base + q * stride] = d[q];
      }
    }
  }
  const out = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const val = g[((k + pad) * py + j + pad) * px + i + pad];
        out[(k * ny + j) * nx + i] = val === Infinity ? Infinity : Math.sqrt(val);
      }
    }
  }
  return out;
}
