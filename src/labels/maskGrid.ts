// Turning a mask file's voxels into a label volume on the image grid: exact when the grids are
// the same, nearest-neighbour resampling through the two affines when the user asks for it.
// Pure.

import type { LabelArray } from '../protocol/labelDelta';
import { targetToSourceVoxels } from '../volume/resampleWorld';

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
 * @throws ResampleError when the source affine is singular.
 */
export function resampleLabelsToGrid(
  source: LabelGrid,
  targetDims: readonly [number, number, number],
  targetAffine: ArrayLike<number>,
): LabelArray {
  const m = targetToSourceVoxels(source.affine, targetAffine);
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
