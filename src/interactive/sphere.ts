// Directions on the unit sphere for star-shaped (radial) object models: evenly spread rays, each
// ray's nearest neighbours (for smoothing a radius function), and a lookup from any direction to
// its three nearest rays with interpolation weights (for rasterising). Cached per ray count.
import { PromptError } from './errors';

/** Ray directions and the tables built on them. */
export interface SphereRays {
  count: number;
  /** Unit vectors, x y z per ray. */
  directions: Float64Array;
  /** `neighbourCount` nearest other rays of each ray. */
  neighbours: Int32Array;
  neighbourCount: number;
  /** Equirectangular lookup: cell (polar p, azimuth a) → 3 nearest rays and weights. */
  lookupPolarCells: number;
  lookupAzimuthCells: number;
  lookupRays: Int32Array;
  lookupWeights: Float32Array;
}

const cache = new Map<number, SphereRays>();

/** The radius (mm) of the sphere holding `voxelCount` voxels of `voxelMm3` each: an object's equivalent radius. */
export function equivalentRadiusMm(voxelCount: number, voxelMm3: number): number {
  return Math.cbrt((3 * voxelCount * voxelMm3) / (4 * Math.PI));
}

/** `count` directions on a Fibonacci spiral (near-uniform spacing). */
export function fibonacciDirections(count: number): Float64Array {
  if (!Number.isInteger(count) || count < 12) throw new PromptError(`fibonacciDirections: count must be an integer ≥ 12, got ${count}`);
  const out = new Float64Array(3 * count);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let n = 0; n < count; n++) {
    const z = 1 - (2 * (n + 0.5)) / count;
    const r = Math.sqrt(1 - z * z);
    const phi = n * golden;
    out[3 * n] = r * Math.cos(phi);
    out[3 * n + 1] = r * Math.sin(phi);
    out[3 * n + 2] = z;
  }
  return out;
}

function nearest(dirs: Float64Array, count: number, x: number, y: number, z: number, k: number, skip: number): { idx: number[]; dot: number[] } {
  const idx: number[] = [];
  const dot: number[] = [];
  for (let n = 0; n < count; n++) {
    if (n === skip) continue;
    const d = dirs[3 * n] * x + dirs[3 * n + 1] * y + dirs[3 * n + 2] * z;
    if (idx.length < k || d > dot[dot.length - 1]) {
      let p = idx.length < k ? idx.length : k - 1;
      if (idx.length < k) {
        idx.push(n);
        dot.push(d);
      }
      while (p > 0 && dot[p - 1] < d) {
        idx[p] = idx[p - 1];
        dot[p] = dot[p - 1];
        p--;
      }
      idx[p] = n;
      dot[p] = d;
    }
  }
  return { idx, dot };
}

/** The rays and tables for `count` directions (computed once per count). */
export function sphereRays(count: number): SphereRays {
  const hit = cache.get(count);
  if (hit) return hit;
  const directions = fibonacciDirections(count);
  const neighbourCount = 6;
  const neighbours = new Int32Array(count * neighbourCount);
  for (let n = 0; n < count; n++) {
    const { idx } = nearest(directions, count, directions[3 * n], directions[3 * n + 1], directions[3 * n + 2], neighbourCount, n);
    neighbours.set(idx, n * neighbourCount);
  }
  const lookupPolarCells = 64;
  const lookupAzimuthCells = 128;
  const cells = lookupPolarCells * lookupAzimuthCells;
  const lookupRays = new Int32Array(cells * 3);
  const lookupWeights = new Float32Array(cells * 3);
  for (let p = 0; p < lookupPolarCells; p++) {
    const theta = ((p + 0.5) / lookupPolarCells) * Math.PI;
    for (let a = 0; a < lookupAzimuthCells; a++) {
      const phi = ((a + 0.5) / lookupAzimuthCells) * 2 * Math.PI - Math.PI;
      const x = Math.sin(theta) * Math.cos(phi);
      const y = Math.sin(theta) * Math.sin(phi);
      const z = Math.cos(theta);
      const { idx, dot } = nearest(directions, count, x, y, z, 3, -1);
      const w = dot.map((d) => 1 / (Math.acos(Math.min(1, d)) + 1e-3));
      const sum = w[0] + w[1] + w[2];
      const c = (p * lookupAzimuthCells + a) * 3;
      for (let q = 0; q < 3; q++) {
        lookupRays[c + q] = idx[q];
        lookupWeights[c + q] = w[q] / sum;
      }
    }
  }
  const rays = { count, directions, neighbours, neighbourCount, lookupPolarCells, lookupAzimuthCells, lookupRays, lookupWeights };
  cache.set(count, rays);
  return rays;
}

/** Radius of a star-shaped object in direction (x, y, z) (any length > 0), interpolated from per-ray radii. */
export function radiusInDirection(rays: SphereRays, radii: Float64Array, x: number, y: number, z: number): number {
  const len = Math.hypot(x, y, z);
  const theta = Math.acos(Math.max(-1, Math.min(1, z / len)));
  const phi = Math.atan2(y, x);
  let p = Math.floor((theta / Math.PI) * rays.lookupPolarCells);
  if (p >= rays.lookupPolarCells) p = rays.lookupPolarCells - 1;
  let a = Math.floor(((phi + Math.PI) / (2 * Math.PI)) * rays.lookupAzimuthCells);
  if (a >= rays.lookupAzimuthCells) a = rays.lookupAzimuthCells - 1;
  const c = (p * rays.lookupAzimuthCells + a) * 3;
  return (
    rays.lookupWeights[c] * radii[rays.lookupRays[c]] +
    rays.lookupWeights[c + 1] * radii[rays.lookupRays[c + 1]] +
    rays.lookupWeights[c + 2] * radii[rays.lookupRays[c + 2]]
  );
}
