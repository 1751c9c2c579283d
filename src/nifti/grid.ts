// Whether two images (typically an image and its mask) sit on the same voxel grid, and if not,
// how they differ, in words a user can act on.
import { affineColumnNorms } from './affine';
import type { NiftiImage } from './types';

/** Positions closer than this (mm) count as the same; header floats are float32 (≈1e-5 mm at 100 mm). */
const SHIFT_TOLERANCE_MM = 1e-3;
/** Relative voxel-size difference that counts as equal. */
const SPACING_RELATIVE_TOLERANCE = 1e-4;
/** Angle between voxel axes (degrees) that counts as equal. */
const ANGLE_TOLERANCE_DEG = 0.01;

const AXIS = 'ijk';
const WORLD = 'xyz';

function formatNumber(value: number): string {
  return String(Number(value.toFixed(3)));
}

function countWord(n: number, noun: string): string {
  const words = ['no', 'one', 'two', 'three'];
  return `${n < words.length ? words[n] : String(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * Compares the grid of `mask` with that of `image`: shape of the first three dims, voxel size,
 * axis directions and position (world coordinates of voxel 0,0,0).
 *
 * @returns `{ same: true }`, or the differences as phrases such as "shifted 1.5 mm along x",
 *   "one slice short along k (21 vs 22)", "spacing differs along i (1.95 vs 0.977 mm)", "rotated".
 */
export function checkSameGrid(
  image: Pick<NiftiImage, 'dims' | 'affine'>,
  mask: Pick<NiftiImage, 'dims' | 'affine'>,
): { same: true } | { same: false; differences: string[] } {
  const differences: string[] = [];
  for (let axis = 0; axis < 3; axis++) {
    const want = image.dims[axis];
    const got = mask.dims[axis];
    if (got === want) continue;
    const noun = axis === 2 ? 'slice' : 'voxel';
    const delta = Math.abs(got - want);
    differences.push(
      `${countWord(delta, noun)} ${got < want ? 'short' : 'too many'} along ${AXIS[axis]} (${got} vs ${want})`,
    );
  }

  const a = image.affine;
  const b = mask.affine;
  const normsA = affineColumnNorms(a);
  const normsB = affineColumnNorms(b);
  for (let axis = 0; axis < 3; axis++) {
    if (Math.abs(normsA[axis] - normsB[axis]) > SPACING_RELATIVE_TOLERANCE * normsA[axis]) {
      differences.push(
        `spacing differs along ${AXIS[axis]} (${formatNumber(normsB[axis])} vs ${formatNumber(normsA[axis])} mm)`,
      );
    }
  }

  let worstAngleDeg = 0;
  let flipped = false;
  for (let axis = 0; axis < 3; axis++) {
    let dot = 0;
    for (let row = 0; row < 3; row++) dot += a[row * 4 + axis] * b[row * 4 + axis];
    const cos = Math.max(-1, Math.min(1, dot / (normsA[axis] * normsB[axis])));
    const angle = (Math.acos(cos) * 180) / Math.PI;
    if (angle > 179) flipped = true;
    else worstAngleDeg = Math.max(worstAngleDeg, angle);
  }
  if (flipped) differences.push('flipped (an axis points the opposite way)');
  if (worstAngleDeg > ANGLE_TOLERANCE_DEG) differences.push(`rotated by ${formatNumber(worstAngleDeg)} degrees`);

  const shifts: string[] = [];
  for (let row = 0; row < 3; row++) {
    const shift = b[row * 4 + 3] - a[row * 4 + 3];
    if (Math.abs(shift) > SHIFT_TOLERANCE_MM) shifts.push(`${formatNumber(shift)} mm along ${WORLD[row]}`);
  }
  if (shifts.length > 0) differences.push(`shifted ${shifts.join(' and ')}`);

  return differences.length === 0 ? { same: true } : { same: false, differences };
}
