// Three-integer vectors and flat volumes, and the checks the box operations, the sliding window
// and the patch sampler share.
//
// Conventions (shared with src/nifti): a volume is a flat array with i (x) fastest, then j (y),
// then k (z); `dims` and every size / start are [x, y, z] in voxels. A flat patch has the same
// layout, so it is a tfjs tensor [D=z, H=y, W=x] with no transposition.

/** Three integers along i (x), j (y), k (z). */
export type Vec3 = [number, number, number];

/** Numeric arrays the volume helpers read. */
export type NumericArray = ArrayLike<number>;

/** Error raised for invalid patch options or mismatched volume sizes. */
export class PatchError extends Error {
  override name = 'PatchError';
}

/** Throws a PatchError unless `v` is three integers ≥ `min`. */
export function checkVec3(name: string, v: readonly number[], min: number): void {
  if (!Array.isArray(v) || v.length !== 3 || v.some((n) => !Number.isInteger(n) || n < min)) {
    throw new PatchError(`${name} must be three integers ≥ ${min}, got ${JSON.stringify(v)}`);
  }
}

/** Throws a PatchError unless `data` holds exactly dims[0]·dims[1]·dims[2] values. */
export function checkVolume(data: NumericArray, dims: Vec3, what = 'volume'): void {
  checkVec3('dims', dims, 1);
  const n = dims[0] * dims[1] * dims[2];
  if (data.length !== n) {
    throw new PatchError(`${what} has ${data.length} values but dims ${dims.join('×')} need ${n}`);
  }
}

/** Number of voxels of a box. */
export function voxelCount(size: Vec3): number {
  return size[0] * size[1] * size[2];
}
