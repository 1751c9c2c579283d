// Screen geometry of a volume: which voxel axis points where on screen, decided from the affine
// (never from array order), so that every axis order and flip of the same image renders the same
// picture. Pure (no DOM, no WebGL) so it is unit-tested in Node.
//
// Conventions, kept here and nowhere else:
// - World is RAS+ mm (x → patient Right, y → Anterior, z → Superior), as NIfTI defines it.
// - Voxel (i, j, k) is the centre of the voxel; voxel i covers [i − 0.5, i + 0.5].
// - The "display affine" is the affine with its rotation snapped to the nearest signed axis
//   permutation. For an oblique image the views show voxel space (with a warning) so that a
//   slice on screen is exactly one voxel slice, which keeps painting exact.
// The axis assignment, axis codes and obliquity come from src/protocol/orientation.ts, the one
// copy the host and the CLI use too.
import { aff2axcodes, ioOrientation, obliquityDeg } from '../src/protocol/orientation';

/** The three slice views. */
export type SliceViewKind = 'axial' | 'coronal' | 'sagittal';
export const SLICE_VIEW_KINDS: readonly SliceViewKind[] = ['axial', 'coronal', 'sagittal'];

/** Left-right display convention: radiological puts the patient's right on screen left. */
export type LeftRightConvention = 'radiological' | 'neurological';

export type Vec3 = [number, number, number];

/** What the viewer needs to know about a volume's grid. */
export interface VolumeGeometry {
  dims: Vec3;
  /** True voxel size along i, j, k in mm (column norms of the affine). */
  spacingMm: Vec3;
  /** Voxel → world, row-major 4×4 (the file's best affine). */
  affine: Float64Array;
  /** For voxel axis n: the world axis (0 = x/R, 1 = y/A, 2 = z/S) it is closest to. */
  worldAxisOfVoxelAxis: [number, number, number];
  /** For voxel axis n: +1 if increasing n goes towards +world, else −1. */
  signOfVoxelAxis: [number, number, number];
  /** For world axis a: the voxel axis closest to it. */
  voxelAxisOfWorldAxis: [number, number, number];
  /** Largest angle in degrees between a voxel axis and its nearest world axis (0 = not oblique). */
  obliqueDeg: number;
  /** Voxel → display world, row-major 4×4, axis-aligned (see file comment). */
  displayAffine: Float64Array;
  /** Display world → voxel, row-major 4×4. */
  displayInverse: Float64Array;
}

/** Obliquity below this is treated as round-off, not as an oblique acquisition. */
export const OBLIQUE_TOLERANCE_DEG = 0.01;

/** Builds the geometry from shape and affine; throws a clear error for a degenerate affine. */
export function volumeGeometry(dims: readonly number[], affine: ArrayLike<number>): VolumeGeometry {
  if (dims.length < 3 || dims.slice(0, 3).some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`volumeGeometry: dims must be three positive integers, got [${dims.join(', ')}]`);
  }
  if (affine.length !== 16) throw new Error(`volumeGeometry: affine must have 16 numbers, got ${affine.length}`);
  const a = Float64Array.from(affine);
  const spacing: Vec3 = [0, 0, 0];
  for (let n = 0; n < 3; n++) {
    spacing[n] = Math.hypot(a[n], a[4 + n], a[8 + n]);
    if (!(spacing[n] > 0) || !Number.isFinite(spacing[n])) {
      throw new Error(`volumeGeometry: affine column ${n} has length ${spacing[n]}; voxel sizes must be positive and finite`);
    }
  }
  // Which world axis each voxel axis follows, and which way: nibabel's io_orientation, the same
  // maths as the CLI's `info` and the host (src/protocol/orientation.ts).
  const orientation = ioOrientation(a);
  const worldOf: [number, number, number] = [orientation[0].worldAxis, orientation[1].worldAxis, orientation[2].worldAxis];
  const signOf: [number, number, number] = [orientation[0].flip, orientation[1].flip, orientation[2].flip];
  const voxelOfWorld: [number, number, number] = [0, 0, 0];
  for (let n = 0; n < 3; n++) voxelOfWorld[worldOf[n]] = n;
  const obliqueDeg = obliquityDeg(a);
  // Display affine: same voxel sizes, axis-aligned, and the volume centre where the true affine
  // puts it (so the readout and the display agree at the centre of an oblique volume).
  const d = new Float64Array(16);
  d[15] = 1;
  const centre = [(dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2];
  for (let n = 0; n < 3; n++) d[worldOf[n] * 4 + n] = signOf[n] * spacing[n];
  for (let w = 0; w < 3; w++) {
    const trueCentre = a[w * 4] * centre[0] + a[w * 4 + 1] * centre[1] + a[w * 4 + 2] * centre[2] + a[w * 4 + 3];
    const n = voxelOfWorld[w];
    d[w * 4 + 3] = trueCentre - d[w * 4 + n] * centre[n];
  }
  const inv = new Float64Array(16);
  inv[15] = 1;
  for (let n = 0; n < 3; n++) {
    const w = worldOf[n];
    const s = d[w * 4 + n];
    inv[n * 4 + w] = 1 / s;
    inv[n * 4 + 3] = -d[w * 4 + 3] / s;
  }
  return {
    dims: [dims[0], dims[1], dims[2]],
    spacingMm: spacing,
    affine: a,
    worldAxisOfVoxelAxis: worldOf,
    signOfVoxelAxis: signOf,
    voxelAxisOfWorldAxis: voxelOfWorld,
    obliqueDeg: obliqueDeg < OBLIQUE_TOLERANCE_DEG ? 0 : obliqueDeg,
    displayAffine: d,
    displayInverse: inv,
  };
}

/** Applies a row-major 4×4 matrix to a point. */
export function transformPoint(m: ArrayLike<number>, p: readonly number[]): Vec3 {
  return [
    m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3],
    m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
    m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11],
  ];
}

/** Axis codes of the voxel axes, e.g. "LAS" (nibabel's aff2axcodes). */
export function axisCodes(g: VolumeGeometry): string {
  return aff2axcodes(g.affine);
}

/**
 * How one slice view maps the display world onto the screen. Plane coordinates (u, v) are mm:
 * u grows to the screen's right, v grows up.
 */
export interface ViewPlane {
  kind: SliceViewKind;
  /** World axis shown horizontally, and its sign (u = uSign × world[uAxis]). */
  uAxis: number;
  uSign: number;
  /** World axis shown vertically (v = world[vAxis], always "up" = +A or +S). */
  vAxis: number;
  /** World axis through the screen (the slice direction). */
  normalAxis: number;
  /** Letters at the left, right, top and bottom edges. */
  letters: { left: string; right: string; top: string; bottom: string };
}

const POS_LETTER = ['R', 'A', 'S'];
const NEG_LETTER = ['L', 'P', 'I'];

/** The plane of a slice view under a left-right convention (sagittal: anterior on the left). */
export function viewPlane(kind: SliceViewKind, convention: LeftRightConvention): ViewPlane {
  const lrSign = convention === 'radiological' ? -1 : 1;
  let uAxis: number;
  let uSign: number;
  let vAxis: number;
  let normalAxis: number;
  switch (kind) {
    case 'axial':
      [uAxis, uSign, vAxis, normalAxis] = [0, lrSign, 1, 2];
      break;
    case 'coronal':
      [uAxis, uSign, vAxis, normalAxis] = [0, lrSign, 2, 1];
      break;
    case 'sagittal':
      [uAxis, uSign, vAxis, normalAxis] = [1, -1, 2, 0];
      break;
    default: {
      const never: never = kind;
      throw new Error(`viewPlane: unknown view ${String(never)}`);
    }
  }
  const right = uSign > 0 ? POS_LETTER[uAxis] : NEG_LETTER[uAxis];
  const left = uSign > 0 ? NEG_LETTER[uAxis] : POS_LETTER[uAxis];
  return {
    kind,
    uAxis,
    uSign,
    vAxis,
    normalAxis,
    letters: { left, right, top: POS_LETTER[vAxis], bottom: NEG_LETTER[vAxis] },
  };
}

/** World bounding box of the voxel grid (voxel edges, display affine): [min, max] per world axis. */
export function displayBounds(g: VolumeGeometry): { min: Vec3; max: Vec3 } {
  const min: Vec3 = [0, 0, 0];
  const max: Vec3 = [0, 0, 0];
  for (let w = 0; w < 3; w++) {
    const n = g.voxelAxisOfWorldAxis[w];
    const s = g.displayAffine[w * 4 + n];
    const t = g.displayAffine[w * 4 + 3];
    const e0 = s * -0.5 + t;
    const e1 = s * (g.dims[n] - 0.5) + t;
    min[w] = Math.min(e0, e1);
    max[w] = Math.max(e0, e1);
  }
  return { min, max };
}

/**
 * Moves a display-world point to the centre of the voxel that contains it (clamped into the
 * grid). A point exactly on a voxel boundary goes to the voxel on the +world side, so that the
 * choice is the same whatever the file's axis order and flips.
 */
export function snapToVoxelCentre(g: VolumeGeometry, world: readonly number[]): Vec3 {
  const out: Vec3 = [0, 0, 0];
  const vox = displayWorldToVoxel(g, world);
  for (let n = 0; n < 3; n++) {
    const sign = g.signOfVoxelAxis[n];
    const f = vox[n];
    // Round half towards +world: for sign > 0 that is round-half-up in voxel index, else down.
    let idx = sign > 0 ? Math.floor(f + 0.5 + 1e-9) : Math.ceil(f - 0.5 - 1e-9);
    idx = Math.max(0, Math.min(g.dims[n] - 1, idx));
    vox[n] = idx;
  }
  const p = transformPoint(g.displayAffine, vox);
  // Round away float noise so that every axis order gives bit-identical crosshair coordinates.
  for (let w = 0; w < 3; w++) out[w] = Math.round(p[w] * 1e6) / 1e6;
  return out;
}

/** Display world → continuous voxel coordinates. */
export function displayWorldToVoxel(g: VolumeGeometry, world: readonly number[]): Vec3 {
  return transformPoint(g.displayInverse, world);
}

/** Voxel index of a display-world point (nearest voxel centre), or null when outside the grid. */
export function voxelIndexAt(g: VolumeGeometry, world: readonly number[]): Vec3 | null {
  const v = displayWorldToVoxel(g, world);
  const out: Vec3 = [0, 0, 0];
  for (let n = 0; n < 3; n++) {
    const idx = Math.floor(v[n] + 0.5);
    if (idx < 0 || idx >= g.dims[n]) return null;
    out[n] = idx;
  }
  return out;
}

/**
 * Row-major 4×4 taking plane coordinates (u, v, 0, 1) of a view whose slice passes through
 * `slicePoint` (display world) to continuous voxel coordinates.
 */
export function planeToVoxelMatrix(g: VolumeGeometry, plane: ViewPlane, slicePoint: readonly number[]): Float64Array {
  // world = P · (u, v, 0, 1): world[uAxis] = uSign·u, world[vAxis] = v, world[normal] = slice.
  const p = new Float64Array(16);
  p[plane.uAxis * 4 + 0] = plane.uSign;
  p[plane.vAxis * 4 + 1] = 1;
  p[plane.normalAxis * 4 + 3] = slicePoint[plane.normalAxis];
  p[15] = 1;
  return multiply4(g.displayInverse, p);
}

/** Plane coordinates (u, v) of a display-world point in a view. */
export function worldToPlane(plane: ViewPlane, world: readonly number[]): [number, number] {
  return [plane.uSign * world[plane.uAxis], world[plane.vAxis]];
}

/** Display-world point of plane coordinates (u, v) on the slice through `slicePoint`. */
export function planeToWorld(plane: ViewPlane, u: number, v: number, slicePoint: readonly number[]): Vec3 {
  const w: Vec3 = [slicePoint[0], slicePoint[1], slicePoint[2]];
  w[plane.uAxis] = plane.uSign * u;
  w[plane.vAxis] = v;
  return w;
}

/** Row-major 4×4 product a·b. */
export function multiply4(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/** The voxel step along the slice normal of a view, in mm (for scrolling one slice). */
export function sliceStepMm(g: VolumeGeometry, plane: ViewPlane): number {
  return g.spacingMm[g.voxelAxisOfWorldAxis[plane.normalAxis]];
}
