// Turning a mask file's voxels into a label volume on the image grid: exact when the grids are
// the same, nearest-neighbour resampling through the two affines when the user asks for it.
// Pure.

import type { LabelArray } from '../protocol/labelDelta';

type NumericArray = ArrayLike<number> & { length: number };

/**
 * Converts mask voxel values to a label array: uint8 when all values are ≤ 255, else uint16.
 * @returns the labels, or a one-sentence problem when a value is not a label (negative,
 *   fractional, NaN, or above 65535), naming the first such voxel.
 */
export function labelsFromMaskData(data: NumericArray): { labels: LabelArray } | { problem: string } {
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 65535) || v !== Math.floor(v)) {
      return { problem: `voxel ${i} holds ${v}, which is not a label (labels are whole numbers 0…65535)` };
    }
    if (v > max) max = v;
  }
  if (data instanceof Uint8Array) return { labels: new Uint8Array(data) };
  if (data instanceof Uint16Array && max > 255) return { labels: new Uint16Array(data) };
  const labels = max > 255 ? new Uint16Array(data.length) : new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) labels[i] = data[i];
  return { labels };
}

function invert4(m: ArrayLike<number>): Float64Array {
  // Affine 4×4 inverse via the 3×3 block: [R t; 0 1]⁻¹ = [R⁻¹ −R⁻¹t; 0 1].
  const a = m[0], b = m[1], c = m[2], d = m[4], e = m[5], f = m[6], g = m[8], h = m[9], i = m[10];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) throw new Error('the mask affine is singular and cannot be inverted');
  const r = [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
  ];
  const tx = m[3], ty = m[7], tz = m[11];
  const out = new Float64Array(16);
  for (let row = 0; row < 3; row++) {
    out[row * 4] = r[row * 3];
    out[row * 4 + 1] = r[row * 3 + 1];
    out[row * 4 + 2] = r[row * 3 + 2];
    out[row * 4 + 3] = -(r[row * 3] * tx + r[row * 3 + 1] * ty + r[row * 3 + 2] * tz);
  }
  out[15] = 1;
  return out;
}

/** A labelled grid: values, [nx, ny, nz] and voxel→world affine (row-major 4×4). */
export interface LabelGrid {
  labels: LabelArray;
  dims: readonly [number, number, number];
  affine: ArrayLike<number>;
}

/**
 * Resamples labels from their grid onto another grid by world position (nearest neighbour):
 * each target voxel takes the label of the source voxel whose centre is nearest to its own
 * centre in the source's voxel space; target voxels outside the source get 0.
 * @throws Error when the source affine is singular.
 */
export function resampleLabelsToGrid(
  source: LabelGrid,
  targetDims: readonly [number, number, number],
  targetAffine: ArrayLike<number>,
): LabelArray {
  // M = inv(source affine) · target affine maps target voxel → source voxel coordinates.
  const inv = invert4(source.affine);
  const t = targetAffine;
  const m = new Float64Array(12);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      m[r * 4 + c] = inv[r * 4] * t[c] + inv[r * 4 + 1] * t[4 + c] + inv[r * 4 + 2] * t[8 + c] + (c === 3 ? inv[r * 4 + 3] : 0);
    }
  }
  const [nx, ny, nz] = targetDims;
  const [sx, sy, sz] = source.dims;
  const src = source.labels;
  const out = src instanceof Uint16Array ? new Uint16Array(nx * ny * nz) : new Uint8Array(nx * ny * nz);
  // Round half away from the tiny float error so exact half-voxel shifts resolve consistently.
  const eps = 1e-6;
  let o = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const bx = m[1] * j + m[2] * k + m[3];
      const by = m[5] * j + m[6] * k + m[7];
      const bz = m[9] * j + m[10] * k + m[11];
      for (let i = 0; i < nx; i++, o++) {
        const si = Math.round(bx + m[0] * i + eps);
        const sj = Math.round(by + m[4] * i + eps);
        const sk = Math.round(bz + m[8] * i + eps);
        if (si >= 0 && si < sx && sj >= 0 && sj < sy && sk >= 0 && sk < sz) out[o] = src[si + sx * (sj + sy * sk)];
      }
    }
  }
  return out;
}
