// Brush geometry: the voxels a round brush covers, with the radius in mm true to anisotropic
// voxel sizes. A stroke from one voxel centre to the next covers every voxel whose centre is
// within the radius of the segment between them (a capsule), so fast strokes leave no gaps.
// Pure.

/** 'disc': in the current slice only; 'sphere': in 3-D. */
export type BrushShape = 'disc' | 'sphere';

export interface BrushOptions {
  dims: readonly [number, number, number];
  spacingMm: readonly [number, number, number];
  radiusMm: number;
  shape: BrushShape;
  /** Voxel axis through the slice (0, 1 or 2); a disc stays in that axis' slice. */
  normalAxis: number;
}

/** Checks brush options; throws naming the option and value. */
export function validateBrush(o: BrushOptions): void {
  if (!(o.radiusMm > 0) || !Number.isFinite(o.radiusMm)) throw new Error(`brush: radiusMm must be a positive number, got ${o.radiusMm}`);
  if (o.shape !== 'disc' && o.shape !== 'sphere') throw new Error(`brush: shape must be 'disc' or 'sphere', got ${String(o.shape)}`);
  if (![0, 1, 2].includes(o.normalAxis)) throw new Error(`brush: normalAxis must be 0, 1 or 2, got ${o.normalAxis}`);
  if (o.spacingMm.some((s) => !(s > 0))) throw new Error(`brush: spacingMm must be positive, got [${o.spacingMm.join(', ')}]`);
}

/** Tolerance so that a voxel exactly at the radius counts as inside despite rounding. */
const EPS_MM = 1e-6;

/**
 * Linear indices (i + nx·(j + ny·k)) of the voxels covered by the brush moved from voxel `a` to
 * voxel `b` (integer indices; pass a = b for one dab), clipped to the volume, ascending.
 */
export function strokeVoxels(o: BrushOptions, a: readonly number[], b: readonly number[]): Uint32Array {
  validateBrush(o);
  const [nx, ny] = o.dims;
  const sp = o.spacingMm;
  const r = o.radiusMm;
  const lo = [0, 0, 0];
  const hi = [0, 0, 0];
  for (let n = 0; n < 3; n++) {
    const ext = o.shape === 'disc' && n === o.normalAxis ? 0 : Math.floor(r / sp[n] + 1e-9);
    lo[n] = Math.max(0, Math.min(a[n], b[n]) - ext);
    hi[n] = Math.min(o.dims[n] - 1, Math.max(a[n], b[n]) + ext);
  }
  if (o.shape === 'disc' && a[o.normalAxis] !== b[o.normalAxis]) {
    throw new Error(`brush: a disc stroke must stay in one slice (axis ${o.normalAxis}: ${a[o.normalAxis]} vs ${b[o.normalAxis]})`);
  }
  // Segment in mm.
  const ax = a[0] * sp[0];
  const ay = a[1] * sp[1];
  const az = a[2] * sp[2];
  const dx = (b[0] - a[0]) * sp[0];
  const dy = (b[1] - a[1]) * sp[1];
  const dz = (b[2] - a[2]) * sp[2];
  const len2 = dx * dx + dy * dy + dz * dz;
  const r2 = (r + EPS_MM) * (r + EPS_MM);
  const out: number[] = [];
  for (let k = lo[2]; k <= hi[2]; k++) {
    for (let j = lo[1]; j <= hi[1]; j++) {
      for (let i = lo[0]; i <= hi[0]; i++) {
        const px = i * sp[0] - ax;
        const py = j * sp[1] - ay;
        const pz = k * sp[2] - az;
        let t = len2 > 0 ? (px * dx + py * dy + pz * dz) / len2 : 0;
        t = Math.max(0, Math.min(1, t));
        const ex = px - t * dx;
        const ey = py - t * dy;
        const ez = pz - t * dz;
        if (ex * ex + ey * ey + ez * ez <= r2) out.push(i + nx * (j + ny * k));
      }
    }
  }
  return Uint32Array.from(out);
}
