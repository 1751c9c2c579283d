// Synthetic volumes for the interactive-segmentation tests: ellipsoids in noise on anisotropic grids.
import type { Vec3 } from '../../src/volume/vec3';

export interface Phantom {
  values: Float32Array;
  dims: Vec3;
  spacingMm: Vec3;
  reference: Uint8Array;
  centre: Vec3;
}

/** Deterministic standard normal numbers (Box–Muller on a linear congruential generator). */
export function normalNoise(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** An ellipsoid (semi-axes in mm) of value `inside` in a field of `outside`, plus Gaussian noise of σ `noise`. */
export function ellipsoidPhantom(o: { dims: Vec3; spacingMm: Vec3; semiAxesMm: Vec3; inside: number; outside: number; noise: number; seed?: number; centre?: Vec3 }): Phantom {
  const { dims, spacingMm, semiAxesMm } = o;
  const centre: Vec3 = o.centre ?? [Math.floor(dims[0] / 2), Math.floor(dims[1] / 2), Math.floor(dims[2] / 2)];
  const n = dims[0] * dims[1] * dims[2];
  const values = new Float32Array(n);
  const reference = new Uint8Array(n);
  const noise = normalNoise(o.seed ?? 1);
  let v = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, v++) {
        const x = ((i - centre[0]) * spacingMm[0]) / semiAxesMm[0];
        const y = ((j - centre[1]) * spacingMm[1]) / semiAxesMm[1];
        const z = ((k - centre[2]) * spacingMm[2]) / semiAxesMm[2];
        const inside = x * x + y * y + z * z <= 1;
        reference[v] = inside ? 1 : 0;
        values[v] = (inside ? o.inside : o.outside) + o.noise * noise();
      }
    }
  }
  return { values, dims, spacingMm, reference, centre };
}

export function countOnes(mask: ArrayLike<number>): number {
  let c = 0;
  for (let v = 0; v < mask.length; v++) c += mask[v] ? 1 : 0;
  return c;
}

export function voxelIndex(dims: Vec3, p: Vec3): number {
  return p[0] + dims[0] * (p[1] + dims[1] * p[2]);
}
