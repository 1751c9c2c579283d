// Separable Gaussian smoothing with a width in millimetres, true to anisotropic voxel spacing: of a
// whole box, or block by block as a caller needs it.
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

/** A box of `source` (a volume of `sourceDims`, i fastest) from `origin`, of `dims` voxels. */
interface SourceBox {
  source: ArrayLike<number>;
  sourceDims: Vec3;
  origin: Vec3;
  dims: Vec3;
}

/** One pass along `axis` with these taps (radius (taps − 1) / 2). */
interface Pass {
  axis: number;
  taps: Float32Array;
  radius: number;
}

/** The passes of σ `sigmaMm`: one per axis whose spacing is at most 3σ and whose length exceeds 1. */
function smoothingPasses(dims: Vec3, spacingMm: Vec3, sigmaMm: number): Pass[] {
  if (!(sigmaMm >= 0)) throw new PromptError(`gaussianSmoothMm: sigmaMm must be ≥ 0, got ${sigmaMm}`);
  const passes: Pass[] = [];
  if (sigmaMm === 0) return passes;
  for (let axis = 0; axis < 3; axis++) {
    const sigmaVoxels = sigmaMm / spacingMm[axis];
    if (sigmaVoxels < 1 / 3 || dims[axis] === 1) continue;
    const taps = gaussianTaps(sigmaVoxels);
    passes.push({ axis, taps, radius: (taps.length - 1) / 2 });
  }
  return passes;
}

/**
 * The smoothed values of the sub-box [lo, hi] (inclusive, box coordinates) of `box`, edges
 * replicating the box's border voxels: each pass reads the box's values clamped to its edges and
 * rounds to float32, so any sub-box equals the same voxels of the whole box smoothed.
 */
function smoothSubBox(box: SourceBox, passes: readonly Pass[], lo: Vec3, hi: Vec3): Float32Array {
  // regions[p]: the voxels pass p reads (regions[passes.length]: the sub-box asked for).
  const regions: { lo: Vec3; hi: Vec3 }[] = [{ lo: [...lo] as Vec3, hi: [...hi] as Vec3 }];
  for (let p = passes.length - 1; p >= 0; p--) {
    const { axis, radius } = passes[p];
    const next = regions[0];
    const r = { lo: [...next.lo] as Vec3, hi: [...next.hi] as Vec3 };
    r.lo[axis] = Math.max(0, r.lo[axis] - radius);
    r.hi[axis] = Math.min(box.dims[axis] - 1, r.hi[axis] + radius);
    regions.unshift(r);
  }
  const size = (r: { lo: Vec3; hi: Vec3 }): Vec3 => [0, 1, 2].map((a) => r.hi[a] - r.lo[a] + 1) as Vec3;
  let region = regions[0];
  let rd = size(region);
  let src = new Float32Array(rd[0] * rd[1] * rd[2]);
  const [sx, sy] = box.sourceDims;
  for (let k = 0, o = 0; k < rd[2]; k++) {
    for (let j = 0; j < rd[1]; j++) {
      let s = ((box.origin[2] + region.lo[2] + k) * sy + box.origin[1] + region.lo[1] + j) * sx + box.origin[0] + region.lo[0];
      for (let i = 0; i < rd[0]; i++) src[o++] = box.source[s++];
    }
  }
  for (let p = 0; p < passes.length; p++) {
    const { axis, taps, radius } = passes[p];
    const out = regions[p + 1];
    const od = size(out);
    const dst = new Float32Array(od[0] * od[1] * od[2]);
    const inStrides = [1, rd[0], rd[0] * rd[1]];
    const outStrides = [1, od[0], od[0] * od[1]];
    const [a1, a2] = [0, 1, 2].filter((a) => a !== axis);
    const len = box.dims[axis];
    const inLen = rd[axis];
    const outLen = od[axis];
    const inStride = inStrides[axis];
    const outStride = outStrides[axis];
    // Line positions q of the output read the input at box coordinate outLo + q + t.
    const outLo = out.lo[axis];
    const shift = outLo - region.lo[axis];
    const line = new Float32Array(inLen);
    for (let c2 = 0; c2 < od[a2]; c2++) {
      for (let c1 = 0; c1 < od[a1]; c1++) {
        // (Along a1 and a2 the output region lies inside the input region at the same offsets.)
        const inBase = (out.lo[a1] - region.lo[a1] + c1) * inStrides[a1] + (out.lo[a2] - region.lo[a2] + c2) * inStrides[a2];
        const outBase = c1 * outStrides[a1] + c2 * outStrides[a2];
        for (let q = 0; q < inLen; q++) line[q] = src[inBase + q * inStride];
        for (let q = 0; q < outLen; q++) {
          const at = outLo + q;
          let acc = 0;
          if (at >= radius && at + radius < len) {
            for (let t = 0, p = q + shift - radius; t < taps.length; t++, p++) acc += taps[t] * line[p];
          } else {
            for (let t = -radius; t <= radius; t++) {
              let g = at + t;
              if (g < 0) g = 0;
              else if (g >= len) g = len - 1;
              acc += taps[t + radius] * line[g - outLo + shift];
            }
          }
          dst[outBase + q * outStride] = acc;
        }
      }
    }
    src = dst;
    region = out;
    rd = od;
  }
  return src;
}

/**
 * Gaussian-smoothed copy of `values` with standard deviation `sigmaMm` along every axis (edges
 * replicate the border voxel). An axis whose spacing is over 3σ is left unsmoothed.
 * @throws PromptError for a length that does not match `dims` or a negative σ.
 */
export function gaussianSmoothMm(values: Float32Array, dims: Vec3, spacingMm: Vec3, sigmaMm: number): Float32Array {
  const [nx, ny, nz] = dims;
  if (values.length !== nx * ny * nz) throw new PromptError(`gaussianSmoothMm: ${values.length} values but dims ${dims.join('×')} need ${nx * ny * nz}`);
  const passes = smoothingPasses(dims, spacingMm, sigmaMm);
  return smoothSubBox({ source: values, sourceDims: dims, origin: [0, 0, 0], dims }, passes, [0, 0, 0], [nx - 1, ny - 1, nz - 1]);
}

const BLOCK = 16;

/**
 * A box of a volume, Gaussian-smoothed block by block (16³) as its voxels are asked for: equal,
 * voxel for voxel, to gaussianSmoothMm of the box cropped to float32. A whole brain tumour's
 * thresholded region needs a box 150 voxels across around the click, of which its flood visits a
 * tenth or so; smoothing all of it cost a third of the first click.
 */
export class BlockwiseGaussianSmoothing {
  /** The smoothed box (i fastest); valid where `ensure`d. */
  readonly values: Float32Array;
  private readonly box: SourceBox;
  private readonly passes: Pass[];
  private readonly blocks: Vec3;
  private readonly done: Uint8Array;
  /** 1 where `values` is valid (a flag per voxel: checking it costs less than finding the block). */
  private readonly ready: Uint8Array;

  /**
   * @param origin, dims - the box within `source` (a volume of `sourceDims`).
   * @throws PromptError for a negative σ or a box that does not fit the volume.
   */
  constructor(source: ArrayLike<number>, sourceDims: Vec3, origin: Vec3, dims: Vec3, spacingMm: Vec3, sigmaMm: number) {
    if (source.length !== sourceDims[0] * sourceDims[1] * sourceDims[2]) throw new PromptError(`BlockwiseGaussianSmoothing: ${source.length} values but dims ${sourceDims.join('×')}`);
    if (![0, 1, 2].every((a) => origin[a] >= 0 && dims[a] >= 1 && origin[a] + dims[a] <= sourceDims[a])) throw new PromptError(`BlockwiseGaussianSmoothing: box ${origin.join(',')} + ${dims.join('×')} outside ${sourceDims.join('×')}`);
    this.box = { source, sourceDims, origin, dims };
    this.passes = smoothingPasses(dims, spacingMm, sigmaMm);
    this.values = new Float32Array(dims[0] * dims[1] * dims[2]);
    this.blocks = dims.map((n) => Math.ceil(n / BLOCK)) as Vec3;
    this.done = new Uint8Array(this.blocks[0] * this.blocks[1] * this.blocks[2]);
    this.ready = new Uint8Array(this.values.length);
  }

  /** Makes `values[v]` valid. */
  ensure(v: number): void {
    if (this.ready[v]) return;
    const [nx, ny] = this.box.dims;
    const i = v % nx;
    const j = ((v - i) / nx) % ny;
    const k = (v - i - j * nx) / (nx * ny);
    const b = (Math.floor(k / BLOCK) * this.blocks[1] + Math.floor(j / BLOCK)) * this.blocks[0] + Math.floor(i / BLOCK);
    if (!this.done[b]) this.fillBlock(b);
  }

  /** Makes `values` valid on the sub-box [lo, hi] (inclusive, box coordinates). */
  ensureBox(lo: Vec3, hi: Vec3): void {
    const [b0, b1] = [lo, hi].map((c) => c.map((x, a) => Math.min(this.blocks[a] - 1, Math.max(0, Math.floor(x / BLOCK))))) as [Vec3, Vec3];
    for (let bk = b0[2]; bk <= b1[2]; bk++) {
      for (let bj = b0[1]; bj <= b1[1]; bj++) {
        for (let bi = b0[0]; bi <= b1[0]; bi++) {
          const b = (bk * this.blocks[1] + bj) * this.blocks[0] + bi;
          if (!this.done[b]) this.fillBlock(b);
        }
      }
    }
  }

  private fillBlock(b: number): void {
    const bi = b % this.blocks[0];
    const bj = Math.floor(b / this.blocks[0]) % this.blocks[1];
    const bk = Math.floor(b / (this.blocks[0] * this.blocks[1]));
    const lo: Vec3 = [bi * BLOCK, bj * BLOCK, bk * BLOCK];
    const hi = lo.map((x, a) => Math.min(this.box.dims[a], x + BLOCK) - 1) as Vec3;
    const part = smoothSubBox(this.box, this.passes, lo, hi);
    const [nx, ny] = this.box.dims;
    const w = hi[0] - lo[0] + 1;
    for (let k = lo[2], o = 0; k <= hi[2]; k++) {
      for (let j = lo[1]; j <= hi[1]; j++, o += w) {
        const at = (k * ny + j) * nx + lo[0];
        this.values.set(part.subarray(o, o + w), at);
        this.ready.fill(1, at, at + w);
      }
    }
    this.done[b] = 1;
  }
}
