// The voxel → world affine of a header, chosen as nibabel's get_best_affine does:
// sform when sform_code > 0, else qform when qform_code > 0, else a pixdim-only affine.
import type { AffineSource, NiftiHeader } from './types';

/** Row-major 4×4 from 12 numbers (three rows) plus [0 0 0 1]. */
function fromRows(rows: ArrayLike<number>): Float64Array {
  const a = new Float64Array(16);
  for (let i = 0; i < 12; i++) a[i] = rows[i];
  a[15] = 1;
  return a;
}

/**
 * Rotation matrix (row-major 3×3) of the NIfTI quaternion (b, c, d), a = sqrt(1 - b²-c²-d²),
 * normalised as nibabel's quat2mat does (a slightly negative 1 - |bcd|² is taken as a = 0).
 */
export function quaternToRotation(b: number, c: number, d: number): number[] {
  const a2 = 1 - (b * b + c * c + d * d);
  const a = a2 > 0 ? Math.sqrt(a2) : 0;
  const n = a * a + b * b + c * c + d * d;
  if (n < Number.EPSILON) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = 2 / n;
  const [X, Y, Z] = [b * s, c * s, d * s];
  const [wX, wY, wZ] = [a * X, a * Y, a * Z];
  const [xX, xY, xZ] = [b * X, b * Y, b * Z];
  const [yY, yZ, zZ] = [c * Y, c * Z, d * Z];
  return [1 - (yY + zZ), xY - wZ, xZ + wY, xY + wZ, 1 - (xX + zZ), yZ - wX, xZ - wY, yZ + wX, 1 - (xX + yY)];
}

/** The qform affine (method 2): R · diag(pixdim[1], pixdim[2], qfac·pixdim[3]) plus qoffset. */
export function qformAffine(header: NiftiHeader): Float64Array {
  const r = quaternToRotation(header.quaternB, header.quaternC, header.quaternD);
  const qfac = header.pixdim[0] < 0 ? -1 : 1;
  const zooms = [Math.abs(header.pixdim[1]), Math.abs(header.pixdim[2]), Math.abs(header.pixdim[3]) * qfac];
  const a = new Float64Array(16);
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) a[row * 4 + col] = r[row * 3 + col] * zooms[col];
  }
  a[3] = header.qoffsetX;
  a[7] = header.qoffsetY;
  a[11] = header.qoffsetZ;
  a[15] = 1;
  return a;
}

/** The sform affine (method 3): srow_x, srow_y, srow_z. */
export function sformAffine(header: NiftiHeader): Float64Array {
  return fromRows(header.srow);
}

/**
 * The affine used when neither sform nor qform is set: nibabel's "base affine" (Analyze
 * convention): voxel sizes on the diagonal with x flipped (radiological storage), and the world
 * origin at the centre of the grid, or at SPM's origin voxel for Analyze files that set one.
 */
export function pixdimAffine(header: NiftiHeader): Float64Array {
  const ndim = header.dim[0];
  const shape = [1, 2, 3].map((d) => (d <= ndim ? header.dim[d] : 1));
  const isAnalyze = header.format === 'analyze75';
  // nibabel pads missing axes with a 1 mm zoom for NIfTI, but SPM-Analyze always reads pixdim[1..3].
  const zooms = [1, 2, 3].map((d) => (isAnalyze || d <= ndim ? header.pixdim[d] : 1));
  zooms[0] *= -1;
  let origin = shape.map((n) => (n - 1) / 2);
  const spmOrigin = header.analyzeOrigin;
  if (
    isAnalyze &&
    spmOrigin &&
    spmOrigin.some((v) => v !== 0) &&
    spmOrigin.every((v, i) => v > -shape[i] && v < shape[i] * 2)
  ) {
    origin = spmOrigin.map((v) => v - 1);
  }
  const a = new Float64Array(16);
  for (let i = 0; i < 3; i++) {
    a[i * 4 + i] = zooms[i];
    a[i * 4 + 3] = -origin[i] * zooms[i];
  }
  a[15] = 1;
  return a;
}

/**
 * The one place that decides the voxel → world (RAS+ mm) affine of a header:
 * sform if sform_code > 0, else qform if qform_code > 0, else the pixdim-only base affine.
 *
 * @returns a fresh row-major Float64Array(16) and which method produced it.
 */
export function bestAffine(header: NiftiHeader): { affine: Float64Array; source: AffineSource } {
  if (header.sformCode > 0) return { affine: sformAffine(header), source: 'sform' };
  if (header.qformCode > 0) return { affine: qformAffine(header), source: 'qform' };
  return { affine: pixdimAffine(header), source: 'pixdim' };
}

/** Euclidean norms of the three columns of the 3×3 part (the voxel size along i, j, k). */
export function affineColumnNorms(affine: ArrayLike<number>): [number, number, number] {
  const norm = (c: number) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]);
  return [norm(0), norm(1), norm(2)];
}

/** Determinant of the 3×3 part of a row-major 4×4. */
export function affineDeterminant3(a: ArrayLike<number>): number {
  return (
    a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8])
  );
}

/**
 * Volume of one voxel in mm³: |det| of the affine's 3×3. The one voxel volume of Lesion Lab (lesion
 * volumes, sidecar, proposals): on a sheared grid the product of the voxel sizes is too large.
 */
export function voxelVolumeMm3(affine: ArrayLike<number>): number {
  return Math.abs(affineDeterminant3(affine));
}

/**
 * Why an affine cannot map voxels to the world (non-finite entry, or a zero-length or
 * degenerate axis), as a phrase; undefined when it is usable.
 */
export function affineProblem(affine: ArrayLike<number>, source: AffineSource): string | undefined {
  for (let i = 0; i < 16; i++) {
    if (!Number.isFinite(affine[i])) return `the ${source} affine holds a non-finite number (${affine[i]})`;
  }
  const norms = affineColumnNorms(affine);
  const zeroAxis = norms.findIndex((n) => n === 0);
  if (zeroAxis >= 0) {
    return `the ${source} affine gives a voxel size of 0 along ${'ijk'[zeroAxis]} (check pixdim[${zeroAxis + 1}])`;
  }
  const det = affineDeterminant3(affine);
  if (Math.abs(det) < 1e-9 * norms[0] * norms[1] * norms[2]) {
    return `the ${source} affine is degenerate (its voxel axes are not independent)`;
  }
  return undefined;
}
