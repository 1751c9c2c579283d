// Margin and smoothing of one label, as 3D Slicer's Margin and Smoothing effects give them: grow
// or shrink by a distance in mm, and a closing then an opening of a radius in mm (fills dents and
// small holes, then removes thin spurs). Distances are exact Euclidean distances between voxel
// centres in mm, true to anisotropic voxels (squared distance transform, Felzenszwalb &
// Huttenlocher 2012), computed on the label's bounding box grown by what the operation can reach.
// The volume's faces neither erode the label nor let it grow past them. Pure.
import { squaredDistance1d } from './distance';

export interface MorphologyOptions {
  dims: readonly [number, number, number];
  spacingMm: readonly [number, number, number];
  /** The label value operated on. */
  label: number;
}

/** What an operation changes: voxels to set to the label, and voxels of the label to clear (linear indices, ascending). */
export interface LabelChange {
  add: Uint32Array;
  remove: Uint32Array;
}

/** Grows the label by `marginMm` (> 0) or shrinks it by −`marginMm` (< 0). */
export function marginChange(labels: ArrayLike<number>, o: MorphologyOptions & { marginMm: number }): LabelChange {
  if (!Number.isFinite(o.marginMm) || o.marginMm === 0) throw new Error(`margin: marginMm must be a non-zero number of mm, got ${o.marginMm}`);
  return change(labels, o, Math.abs(o.marginMm), (crop, r) => (o.marginMm > 0 ? dilate(crop, r) : erode(crop, r)));
}

/** Closing then opening of radius `radiusMm` (> 0). */
export function smoothChange(labels: ArrayLike<number>, o: MorphologyOptions & { radiusMm: number }): LabelChange {
  if (!Number.isFinite(o.radiusMm) || o.radiusMm <= 0) throw new Error(`smooth: radiusMm must be a positive number of mm, got ${o.radiusMm}`);
  return change(
    labels,
    o,
    2 * o.radiusMm,
    (crop, r) => {
      const closed = erode(withMask(crop, dilate(crop, r)), r);
      return dilate(withMask(crop, erode(withMask(crop, closed), r)), r);
    },
    o.radiusMm,
  );
}

/** A box of the volume with the label as a 0/1 mask. */
interface Crop {
  dims: [number, number, number];
  spacingMm: readonly [number, number, number];
  mask: Uint8Array;
}

/**
 * Runs `op` on the label cropped to its bounding box grown by `reachMm`, and returns the
 * differences. `radiusMm` is what `op` is given (defaults to `reachMm`).
 */
function change(labels: ArrayLike<number>, o: MorphologyOptions, reachMm: number, op: (crop: Crop, radiusMm: number) => Uint8Array, radiusMm = reachMm): LabelChange {
  const [nx, ny, nz] = o.dims;
  if (labels.length !== nx * ny * nz) throw new Error(`morphology: labels have ${labels.length} values, expected ${nx * ny * nz}`);
  const lo: [number, number, number] = [nx, ny, nz];
  const hi: [number, number, number] = [-1, -1, -1];
  for (let k = 0, v = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, v++) {
        if (labels[v] !== o.label) continue;
        if (i < lo[0]) lo[0] = i;
        if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k;
        if (k > hi[2]) hi[2] = k;
      }
  if (hi[0] < 0) return { add: new Uint32Array(0), remove: new Uint32Array(0) };
  for (let a = 0; a < 3; a++) {
    // One voxel more than the reach, so that an erosion sees background beside the label.
    const pad = Math.ceil(reachMm / o.spacingMm[a]) + 1;
    lo[a] = Math.max(0, lo[a] - pad);
    hi[a] = Math.min(o.dims[a] - 1, hi[a] + pad);
  }
  const cd: [number, number, number] = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
  const mask = new Uint8Array(cd[0] * cd[1] * cd[2]);
  forCrop(cd, lo, o.dims, (c, v) => (mask[c] = labels[v] === o.label ? 1 : 0));
  const result = op({ dims: cd, spacingMm: o.spacingMm, mask }, radiusMm);
  const add: number[] = [];
  const remove: number[] = [];
  forCrop(cd, lo, o.dims, (c, v) => {
    if (result[c] && !mask[c]) add.push(v);
    else if (!result[c] && mask[c]) remove.push(v);
  });
  return { add: Uint32Array.from(add), remove: Uint32Array.from(remove) };
}

/** Calls `f(cropIndex, volumeIndex)` for every voxel of the crop, in ascending volume order. */
function forCrop(cd: readonly number[], lo: readonly number[], dims: readonly number[], f: (c: number, v: number) => void): void {
  for (let k = 0, c = 0; k < cd[2]; k++)
    for (let j = 0; j < cd[1]; j++) {
      const row = lo[0] + dims[0] * (lo[1] + j + dims[1] * (lo[2] + k));
      for (let i = 0; i < cd[0]; i++, c++) f(c, row + i);
    }
}

/** Voxels within `r` mm of the mask (the mask included). */
function dilate(crop: Crop, r: number): Uint8Array {
  const d2 = squaredDistanceMm2(crop.mask, crop.dims, crop.spacingMm, 1);
  const r2 = r * r * (1 + 1e-9);
  return Uint8Array.from(d2, (d) => (d <= r2 ? 1 : 0));
}

/** Mask voxels farther than `r` mm from every background voxel. */
function erode(crop: Crop, r: number): Uint8Array {
  const d2 = squaredDistanceMm2(crop.mask, crop.dims, crop.spacingMm, 0);
  const r2 = r * r * (1 + 1e-9);
  return Uint8Array.from(d2, (d, c) => (crop.mask[c] && d > r2 ? 1 : 0));
}

/** The same crop with another mask (chained operations). */
function withMask(crop: Crop, mask: Uint8Array): Crop {
  return { ...crop, mask };
}

/**
 * Squared distance (mm²) from every voxel centre to the nearest voxel whose mask value is
 * `feature`; Infinity where there is none. Exact, separable: one 1-D lower-envelope pass per axis.
 */
export function squaredDistanceMm2(mask: Uint8Array, dims: readonly number[], spacingMm: readonly number[], feature: 0 | 1): Float64Array {
  const n = mask.length;
  const d = new Float64Array(n);
  for (let v = 0; v < n; v++) d[v] = mask[v] === feature ? 0 : Infinity;
  const longest = Math.max(dims[0], dims[1], dims[2]);
  const f = new Float64Array(longest);
  const out = new Float64Array(longest);
  const stride = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const len = dims[axis];
    const s = stride[axis];
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let b = 0; b < dims[others[1]]; b++)
      for (let a = 0; a < dims[others[0]]; a++) {
        const start = a * stride[others[0]] + b * stride[others[1]];
        for (let q = 0; q < len; q++) f[q] = d[start + q * s];
        squaredDistance1d(f, len, spacingMm[axis], out);
        for (let q = 0; q < len; q++) d[start + q * s] = out[q];
      }
  }
  return d;
}
