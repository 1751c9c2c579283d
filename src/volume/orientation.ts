// Reorientation to the closest canonical (RAS) frame, after nibabel's as_closest_canonical: data
// and affine change together. Pure functions; no I/O. The affine maths it rests on (ioOrientation,
// aff2axcodes, obliquityDeg) is in src/protocol/orientation.ts, shared with the webview.
import type { NiftiImage, VoxelArray } from '../nifti/types';
import { ioOrientation, OrientationError, type AxisOrientation } from '../protocol/orientation';

/** Result of {@link reorientToCanonical}: data, grid and affine, always consistent with each other. */
export interface CanonicalVolume<T extends VoxelArray = VoxelArray> {
  /** Voxels in the new order (i → R, j → A, k → S), same typed-array type as the input. */
  data: T;
  dims: [number, number, number];
  /** Row-major 4×4; maps the new voxel indices to the same world points as before. */
  affine: Float64Array;
  spacingMm: [number, number, number];
  /** Where each original voxel axis went (nibabel's io_orientation of the original affine). */
  orientation: AxisOrientation;
  /** RGB images: the colour bytes in the new order. */
  rgb?: { channels: 3 | 4; bytes: Uint8Array };
}

/**
 * Reorders voxels so that i, j, k run closest to R, A, S (nibabel's `as_closest_canonical`),
 * by axis permutations and flips only (no resampling). Data and affine change together, so every
 * voxel keeps its world position.
 *
 * @param volume - an image, or anything with `data`, `dims`, `affine`, `spacingMm` (and `rgb`).
 * @param options - `keepDirections`: permute the axes only, so i, j, k follow x, y, z in order,
 *   each in the direction it had (for networks, whose flip augmentation covers directions).
 * @throws OrientationError when data length ≠ product of dims or the affine is degenerate.
 */
export function reorientToCanonical<T extends VoxelArray>(
  volume: {
    data: T;
    dims: [number, number, number];
    affine: ArrayLike<number>;
    spacingMm: [number, number, number];
    rgb?: NiftiImage['rgb'];
  },
  options: { keepDirections?: boolean } = {},
): CanonicalVolume<T> {
  const { data, dims, affine, spacingMm } = volume;
  const count = dims[0] * dims[1] * dims[2];
  if (data.length !== count) {
    throw new OrientationError(`the data has ${data.length} voxels but dims ${dims.join('x')} need ${count}`);
  }
  const found = ioOrientation(affine);
  // keepDirections: permute the axes only; each keeps its direction (an L→R axis stays L→R).
  const orientation = (options.keepDirections ? found.map(({ worldAxis }) => ({ worldAxis, flip: 1 })) : found) as AxisOrientation;
  const outDims = [0, 0, 0] as [number, number, number];
  const outSpacing = [0, 0, 0] as [number, number, number];
  orientation.forEach(({ worldAxis }, inAxis) => {
    outDims[worldAxis] = dims[inAxis];
    outSpacing[worldAxis] = spacingMm[inAxis];
  });
  const outStrides = [1, outDims[0], outDims[0] * outDims[1]];

  // Output index of input voxel (i, j, k) = base + Σ step[a]·index[a].
  let base = 0;
  const step = [0, 0, 0];
  orientation.forEach(({ worldAxis, flip }, inAxis) => {
    const stride = outStrides[worldAxis];
    if (flip > 0) step[inAxis] = stride;
    else {
      step[inAxis] = -stride;
      base += (dims[inAxis] - 1) * stride;
    }
  });

  const identity = base === 0 && step[0] === 1 && step[1] === outStrides[1] && step[2] === outStrides[2];
  const Ctor = data.constructor as { new (n: number): T };
  const out = identity ? (data.slice() as T) : new Ctor(count);
  const channels = volume.rgb?.channels ?? 0;
  const rgbOut = volume.rgb ? new Uint8Array(volume.rgb.bytes.length) : undefined;
  if (!identity) {
    let src = 0;
    for (let k = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        let dst = base + k * step[2] + j * step[1];
        for (let i = 0; i < dims[0]; i++, src++, dst += step[0]) out[dst] = data[src];
      }
    }
  }
  if (volume.rgb && rgbOut) {
    const bytes = volume.rgb.bytes;
    let src = 0;
    for (let k = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        let dst = base + k * step[2] + j * step[1];
        for (let i = 0; i < dims[0]; i++, src++, dst += step[0]) {
          for (let c = 0; c < channels; c++) rgbOut[dst * channels + c] = bytes[src * channels + c];
        }
      }
    }
  }

  // New affine = old · T, where T maps new voxel indices to old ones:
  // old[a] = new[w] (flip +1) or (n_a - 1 - new[w]) (flip -1), w = worldAxis of a.
  const t = new Float64Array(16);
  t[15] = 1;
  orientation.forEach(({ worldAxis, flip }, inAxis) => {
    t[inAxis * 4 + worldAxis] = flip;
    t[inAxis * 4 + 3] = flip > 0 ? 0 : dims[inAxis] - 1;
  });
  const newAffine = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let m = 0; m < 4; m++) s += affine[r * 4 + m] * t[m * 4 + c];
      newAffine[r * 4 + c] = s;
    }
  }
  const result: CanonicalVolume<T> = { data: out, dims: outDims, affine: newAffine, spacingMm: outSpacing, orientation };
  if (volume.rgb && rgbOut) result.rgb = { channels: volume.rgb.channels, bytes: rgbOut };
  return result;
}

/**
 * A volume with its voxel axes reordered (not flipped) so that i, j, k follow world x, y, z, or
 * null when they already do. Networks trained on axial slices (k along S) then see a sagittal or
 * coronal stack the same way up, on the grid they were trained on.
 */
export function toWorldAxisOrder<T extends VoxelArray>(volume: {
  data: T;
  dims: [number, number, number];
  affine: ArrayLike<number>;
  spacingMm: [number, number, number];
}): CanonicalVolume<T> | null {
  if (ioOrientation(volume.affine).every(({ worldAxis }, a) => worldAxis === a)) return null;
  return reorientToCanonical(volume, { keepDirections: true });
}

/**
 * Voxels of a grid made by {@link toWorldAxisOrder} put back in the source's axis order.
 * @param sourceDims - the source's dims; `orientation` is the reordered volume's.
 */
export function fromWorldAxisOrder<T extends VoxelArray>(data: T, sourceDims: [number, number, number], orientation: AxisOrientation): T {
  const count = sourceDims[0] * sourceDims[1] * sourceDims[2];
  if (data.length !== count) throw new OrientationError(`the data has ${data.length} voxels but dims ${sourceDims.join('x')} need ${count}`);
  const reorderedDims = [0, 0, 0];
  orientation.forEach(({ worldAxis }, a) => (reorderedDims[worldAxis] = sourceDims[a]));
  const reorderedStrides = [1, reorderedDims[0], reorderedDims[0] * reorderedDims[1]];
  const step = orientation.map(({ worldAxis }) => reorderedStrides[worldAxis]);
  const out = new (data.constructor as { new (n: number): T })(count);
  let dst = 0;
  for (let k = 0; k < sourceDims[2]; k++) {
    for (let j = 0; j < sourceDims[1]; j++) {
      let src = k * step[2] + j * step[1];
      for (let i = 0; i < sourceDims[0]; i++, dst++, src += step[0]) out[dst] = data[src];
    }
  }
  return out;
}

/** A grid's dims and voxel size with its axes in world order, as {@link toWorldAxisOrder} would give them. */
export function worldAxisGrid(grid: { dims: [number, number, number]; spacingMm: [number, number, number]; affine: ArrayLike<number> }): {
  dims: [number, number, number];
  spacingMm: [number, number, number];
} {
  const dims = [0, 0, 0] as [number, number, number];
  const spacingMm = [0, 0, 0] as [number, number, number];
  ioOrientation(grid.affine).forEach(({ worldAxis }, a) => {
    dims[worldAxis] = grid.dims[a];
    spacingMm[worldAxis] = grid.spacingMm[a];
  });
  return { dims, spacingMm };
}
