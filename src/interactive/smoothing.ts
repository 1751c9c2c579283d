// Separable Gaussian smoothing with a width in millimetres, true to anisotropic voxel spacing.
import type { Vec3 } from '../volume/vec3';
import { PromptError } from './errors';

/** Normalised 1-D Gaussian taps (radius 3σ) for σ in voxels. */
export function gaussianTaps(sigmaVoxels: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigmaVoxels));
  const taps = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let t = -radius; t <= radius; t++) {
    const w = Math.exp((-0.5 * t * t) / (sigmaVoxels * sigmaVoxels));
    taps[t + radius] = w;
    sum += w;
  }
  for (let t = 0; t < taps.length; t++) taps[t] /= sum;
  return taps;
}

/**
 * Gaussian-smoothed copy of `values` with standard deviation `sigmaMm` along every axis (edges
 * replicate the border voxel). An axis whose spacing is over 3σ is left unsmoothed.
 * @throws PromptError for a length that does not match `dims` or a negative σ.
 */
export function gaussianSmoothMm(values: Float32Array, dims: Vec3, spacingMm: Vec3, sigmaMm: number): Float32Array {
  const [nx, ny, nz] = dims;
  if (values.length !== nx * ny * nz) throw new PromptError(`gaussianSmoothMm: ${values.length} values but dims ${dims.join('×')} need ${nx * ny * nz}`);
  if (!(sigmaMm >= 0)) throw new PromptError(`gaussianSmoothMm: sigmaMm must be ≥ 0, got ${sigmaMm}`);
  let src = Float32Array.from(values);
  if (sigmaMm === 0) return src;
  const strides = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    const sigmaVoxels = sigmaMm / spacingMm[axis];
    if (sigmaVoxels < 1 / 3 || dims[axis] === 1) continue;
    const taps = gaussianTaps(sigmaVoxels);
    const radius = (taps.length - 1) / 2;
    const len = dims[axis];
    const stride = strides[axis];
    const dst = new Float32Array(src.length);
    const line = new Float32Array(len);
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let c2 = 0; c2 < dims[others[1]]; c2++) {
      for (let c1 = 0; c1 < dims[others[0]]; c1++) {
        const base = c1 * strides[others[0]] + c2 * strides[others[1]];
        for (let q = 0; q < len; q++) line[q] = src[base + q * stride];
        for (let q = 0; q < len; q++) {
          let acc = 0;
          for (let t = -radius; t <= radius; t++) {
            let p = q + t;
            if (p < 0) p = 0;
            else if (p >= len) p = len - 1;
            acc += taps[t + radius] * line[p];
          }
          dst[base + q * stride] = acc;
        }
      }
    }
    src = dst;
  }
  return src;
}
