// Orientation maths on row-major 4×4 voxel → world (RAS+) affines, after nibabel's
// orientations.py: io_orientation, aff2axcodes and obliquity. Pure functions, no I/O, no imports:
// the one copy that the host, the CLI and the webview (which may import only src/protocol) share.

/** Orientation problems (degenerate affine, wrong sizes). */
export class OrientationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrientationError';
  }
}

/**
 * For each voxel axis i, j, k: the world axis it is closest to (0 = x, 1 = y, 2 = z) and whether
 * it runs along (+1) or against (-1) that axis. Same as nibabel's `io_orientation`.
 */
export type AxisOrientation = [{ worldAxis: number; flip: 1 | -1 }, { worldAxis: number; flip: 1 | -1 }, { worldAxis: number; flip: 1 | -1 }];

function checkAffine(affine: ArrayLike<number>): void {
  if (affine.length !== 16) throw new OrientationError(`an affine must have 16 numbers (row-major 4x4), got ${affine.length}`);
  for (let i = 0; i < 16; i++) {
    if (!Number.isFinite(affine[i])) throw new OrientationError(`the affine holds a non-finite number (${affine[i]}) at index ${i}`);
  }
}

/** 3×3 (row-major) helpers. */
function det3(m: number[]): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

function inverseTranspose3(m: number[]): number[] | undefined {
  const d = det3(m);
  if (!Number.isFinite(d) || Math.abs(d) < 1e-300) return undefined;
  // inverse(m)^T = cofactor(m) / det
  return [
    (m[4] * m[8] - m[5] * m[7]) / d,
    -(m[3] * m[8] - m[5] * m[6]) / d,
    (m[3] * m[7] - m[4] * m[6]) / d,
    -(m[1] * m[8] - m[2] * m[7]) / d,
    (m[0] * m[8] - m[2] * m[6]) / d,
    -(m[0] * m[7] - m[1] * m[6]) / d,
    (m[1] * m[5] - m[2] * m[4]) / d,
    -(m[0] * m[5] - m[2] * m[3]) / d,
    (m[0] * m[4] - m[1] * m[3]) / d,
  ];
}

/**
 * The orthogonal polar factor of a non-singular 3×3 matrix (the rotation/reflection nearest to
 * it), by Newton's iteration X ← (X + X⁻ᵀ)/2. nibabel gets the same matrix as P·Qᵀ from an SVD.
 */
function orthogonalFactor(m: number[]): number[] | undefined {
  let x = m.slice();
  for (let iter = 0; iter < 100; iter++) {
    const inv = inverseTranspose3(x);
    if (!inv) return undefined;
    const next = x.map((v, i) => (v + inv[i]) / 2);
    const change = next.reduce((s, v, i) => Math.max(s, Math.abs(v - x[i])), 0);
    x = next;
    if (change < 1e-15) break;
  }
  return x;
}

/**
 * Which world axis each voxel axis follows, and in which direction, as nibabel's `io_orientation`:
 * the columns are normalised, shears and scalings removed (orthogonal polar factor), then each
 * voxel axis in turn takes the world axis it is most aligned with that no earlier axis took.
 *
 * @throws OrientationError for a malformed or degenerate affine.
 */
export function ioOrientation(affine: ArrayLike<number>): AxisOrientation {
  checkAffine(affine);
  const rs: number[] = [];
  const norms = [0, 1, 2].map((c) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]) || 1);
  for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) rs.push(affine[row * 4 + col] / norms[col]);
  const r = orthogonalFactor(rs);
  if (!r) throw new OrientationError('the affine is degenerate (its voxel axes are not independent), so it has no orientation');
  const result: { worldAxis: number; flip: 1 | -1 }[] = [];
  for (let col = 0; col < 3; col++) {
    let best = -1;
    let bestAbs = 0;
    for (let row = 0; row < 3; row++) {
      const v = Math.abs(r[row * 3 + col]);
      if (v > bestAbs) {
        bestAbs = v;
        best = row;
      }
    }
    if (best < 0 || bestAbs < 1e-12) throw new OrientationError(`voxel axis ${'ijk'[col]} has no direction in the affine`);
    result.push({ worldAxis: best, flip: r[best * 3 + col] < 0 ? -1 : 1 });
    for (let c = 0; c < 3; c++) r[best * 3 + c] = 0; // this world axis is taken
  }
  return result as AxisOrientation;
}

const AXIS_LABELS: [string, string][] = [
  ['L', 'R'],
  ['P', 'A'],
  ['I', 'S'],
];

/**
 * Axis codes of an affine as nibabel's `aff2axcodes`: for each voxel axis the world direction it
 * points to, e.g. 'RAS' or 'LPS'.
 *
 * @example aff2axcodes(identity) === 'RAS'
 * @throws OrientationError for a malformed or degenerate affine.
 */
export function aff2axcodes(affine: ArrayLike<number>): string {
  return ioOrientation(affine)
    .map(({ worldAxis, flip }) => AXIS_LABELS[worldAxis][flip > 0 ? 1 : 0])
    .join('');
}

/**
 * Obliquity of an affine in degrees: the largest angle between a voxel axis and the world axis
 * it is closest to (nibabel's `obliquity`, maximised over the axes). 0 for a grid aligned with
 * the world axes.
 */
export function obliquityDeg(affine: ArrayLike<number>): number {
  checkAffine(affine);
  const norms = [0, 1, 2].map((c) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]));
  let worst = 0;
  for (let row = 0; row < 3; row++) {
    let bestCos = 0;
    for (let col = 0; col < 3; col++) {
      if (norms[col] > 0) bestCos = Math.max(bestCos, Math.abs(affine[row * 4 + col]) / norms[col]);
    }
    worst = Math.max(worst, (Math.acos(Math.min(1, bestCos)) * 180) / Math.PI);
  }
  // Round away float noise so an axis-aligned image (e.g. a qform from a quaternion) reads exactly 0.
  return Math.round(worst * 1e6) / 1e6;
}
