// Flood fill in one slice and 3-D region growing from a seed voxel, by intensity tolerance.
// Pure; iterative (explicit stack), so big regions do not overflow the call stack.

export interface RegionGrowOptions {
  dims: readonly [number, number, number];
  /** Linear index of the seed voxel. */
  seed: number;
  /** Image values on the grid. */
  image: ArrayLike<number>;
  /** A voxel joins when |value − seed value| ≤ tolerance. */
  tolerance: number;
  /** Restrict to the slice through the seed perpendicular to this voxel axis (2-D fill), or null for 3-D. */
  sliceAxis: number | null;
  /** Extra condition per voxel (e.g. the paint rule); voxels failing it also stop the growth. */
  accept?: (index: number) => boolean;
  /** Stop after this many voxels (guards against filling a whole big volume by mistake). */
  maxVoxels?: number;
}

/** Checks options; throws naming the option and value. */
export function validateRegionGrow(o: RegionGrowOptions): void {
  const n = o.dims[0] * o.dims[1] * o.dims[2];
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed >= n) throw new Error(`region grow: seed ${o.seed} is outside the volume of ${n} voxels`);
  if (!(o.tolerance >= 0)) throw new Error(`region grow: tolerance must be ≥ 0, got ${o.tolerance}`);
  if (o.sliceAxis !== null && ![0, 1, 2].includes(o.sliceAxis)) throw new Error(`region grow: sliceAxis must be 0, 1, 2 or null, got ${o.sliceAxis}`);
  if (o.image.length !== n) throw new Error(`region grow: image has ${o.image.length} values, expected ${n}`);
}

/**
 * Linear indices of the 6-connected (4-connected in a slice) region around the seed whose
 * values are within the tolerance of the seed's value, ascending. Empty when the seed itself
 * fails `accept`.
 */
export function growRegion(o: RegionGrowOptions): Uint32Array {
  validateRegionGrow(o);
  const [nx, ny, nz] = o.dims;
  const nxy = nx * ny;
  const seedValue = o.image[o.seed];
  const lo = seedValue - o.tolerance;
  const hi = seedValue + o.tolerance;
  const max = o.maxVoxels ?? Number.POSITIVE_INFINITY;
  const ok = (idx: number): boolean => {
    const v = o.image[idx];
    return v >= lo && v <= hi && (!o.accept || o.accept(idx));
  };
  if (!ok(o.seed)) return new Uint32Array(0);
  const visited = new Uint8Array(nx * ny * nz);
  const stack: number[] = [o.seed];
  visited[o.seed] = 1;
  const out: number[] = [];
  const fixed = o.sliceAxis;
  while (stack.length > 0 && out.length < max) {
    const idx = stack.pop() as number;
    out.push(idx);
    const i = idx % nx;
    const j = Math.floor(idx / nx) % ny;
    const k = Math.floor(idx / nxy);
    const push = (n: number): void => {
      if (visited[n] === 0) {
        visited[n] = 1;
        if (ok(n)) stack.push(n);
      }
    };
    if (fixed !== 0) {
      if (i > 0) push(idx - 1);
      if (i < nx - 1) push(idx + 1);
    }
    if (fixed !== 1) {
      if (j > 0) push(idx - nx);
      if (j < ny - 1) push(idx + nx);
    }
    if (fixed !== 2) {
      if (k > 0) push(idx - nxy);
      if (k < nz - 1) push(idx + nxy);
    }
  }
  return Uint32Array.from(out).sort();
}
