// Interpolation of one label between the slices where it was drawn: each gap between two
// drawn slices is filled by blending the two slices' signed distance maps (in mm, true to the
// in-plane voxel sizes), the usual shape-based interpolation. Pure.
import { squaredDistance1d } from './distance';

export interface InterpolateOptions {
  dims: readonly [number, number, number];
  spacingMm: readonly [number, number, number];
  /** Label value to interpolate. */
  label: number;
  /** Voxel axis across the drawn slices (the slice normal of the view where they were drawn). */
  axis: number;
}

/**
 * Linear indices (ascending) of voxels in the gaps between drawn slices that interpolation puts
 * inside the label and that do not already carry it. The caller applies its paint rule.
 */
export function interpolatedVoxels(labels: ArrayLike<number>, o: InterpolateOptions): Uint32Array {
  const [nx, ny, nz] = o.dims;
  if (labels.length !== nx * ny * nz) throw new Error(`interpolate: labels have ${labels.length} values, expected ${nx * ny * nz}`);
  if (![0, 1, 2].includes(o.axis)) throw new Error(`interpolate: axis must be 0, 1 or 2, got ${o.axis}`);
  const strides = [1, nx, nx * ny];
  // In-plane axes (a fastest) of the slices across `axis`.
  const [pa, pb] = [0, 1, 2].filter((n) => n !== o.axis);
  const na = o.dims[pa];
  const nb = o.dims[pb];
  const ns = o.dims[o.axis];
  const sliceMask = (s: number): Uint8Array => {
    const m = new Uint8Array(na * nb);
    for (let b = 0; b < nb; b++) {
      for (let a = 0; a < na; a++) {
        m[a + na * b] = labels[a * strides[pa] + b * strides[pb] + s * strides[o.axis]] === o.label ? 1 : 0;
      }
    }
    return m;
  };
  const drawn: number[] = [];
  for (let s = 0; s < ns; s++) if (sliceMask(s).some((v) => v === 1)) drawn.push(s);
  const out: number[] = [];
  for (let g = 0; g + 1 < drawn.length; g++) {
    const s0 = drawn[g];
    const s1 = drawn[g + 1];
    if (s1 - s0 < 2) continue;
    const d0 = signedDistance(sliceMask(s0), na, nb, o.spacingMm[pa], o.spacingMm[pb]);
    const d1 = signedDistance(sliceMask(s1), na, nb, o.spacingMm[pa], o.spacingMm[pb]);
    for (let s = s0 + 1; s < s1; s++) {
      const t = (s - s0) / (s1 - s0);
      for (let b = 0; b < nb; b++) {
        for (let a = 0; a < na; a++) {
          const p = a + na * b;
          if ((1 - t) * d0[p] + t * d1[p] < 0) {
            const idx = a * strides[pa] + b * strides[pb] + s * strides[o.axis];
            if (labels[idx] !== o.label) out.push(idx);
          }
        }
      }
    }
  }
  return Uint32Array.from(out).sort();
}

/**
 * Signed distance (mm) of a 2-D mask: negative inside (distance to the nearest outside voxel),
 * positive outside (distance to the nearest inside voxel), with voxel sizes sa × sb.
 */
export function signedDistance(mask: Uint8Array, na: number, nb: number, sa: number, sb: number): Float64Array {
  const toInside = edt2(mask, na, nb, sa, sb, 1);
  const toOutside = edt2(mask, na, nb, sa, sb, 0);
  const out = new Float64Array(na * nb);
  for (let p = 0; p < out.length; p++) out[p] = mask[p] ? -toOutside[p] : toInside[p];
  return out;
}

/** Exact Euclidean distance (mm) from each pixel to the nearest pixel whose mask equals `target`. */
function edt2(mask: Uint8Array, na: number, nb: number, sa: number, sb: number, target: number): Float64Array {
  const INF = 1e20;
  const f = new Float64Array(na * nb);
  for (let p = 0; p < f.length; p++) f[p] = mask[p] === target ? 0 : INF;
  // Felzenszwalb–Huttenlocher: 1-D squared transforms along a, then along b.
  const line = new Float64Array(Math.max(na, nb));
  const res = new Float64Array(Math.max(na, nb));
  for (let b = 0; b < nb; b++) {
    for (let a = 0; a < na; a++) line[a] = f[a + na * b];
    squaredDistance1d(line, na, sa, res);
    for (let a = 0; a < na; a++) f[a + na * b] = res[a];
  }
  for (let a = 0; a < na; a++) {
    for (let b = 0; b < nb; b++) line[b] = f[a + na * b];
    squaredDistance1d(line, nb, sb, res);
    for (let b = 0; b < nb; b++) f[a + na * b] = Math.sqrt(res[b]);
  }
  return f;
}
