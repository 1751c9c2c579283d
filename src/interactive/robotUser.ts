// A simulated user for evaluating click-guided segmentation, after the CVPR 2025 interactive
// 3-D segmentation challenge protocol: the first click is positive, at the voxel deepest inside
// (largest mm distance to the outside) the largest reference component; each next click is at
// the deepest voxel of the largest 26-connected error component (prediction ≠ reference),
// positive where the reference is foreground there.
import type { Vec3 } from '../volume/vec3';
import { boxSize, cropMask, growBoxMm, maskBoundingBox, type VoxelBox } from './box';
import { labelComponents } from './components';
import { distanceTransformMm } from './distanceTransform';
import { PromptError } from './errors';
import type { PointPrompt } from './prompts';
import type { ScribblePrompt } from './scribble';
import { outlineOfRegion, type LassoPrompt } from './lasso';

/** Dice overlap of two 0/1 masks (1 when both are empty). */
export function diceCoefficient(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new PromptError(`diceCoefficient: masks have ${a.length} and ${b.length} voxels`);
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let v = 0; v < a.length; v++) {
    const x = a[v] ? 1 : 0;
    const y = b[v] ? 1 : 0;
    inter += x & y;
    sa += x;
    sb += y;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

/** Deepest voxel (largest distance in mm to the outside, the grid edge counting as outside) of the largest 26-connected component of `mask` in `box`. */
function deepestVoxelOfLargestComponent(mask: Uint8Array, boxDims: Vec3, spacingMm: Vec3): Vec3 | null {
  const { labels, sizes } = labelComponents(mask, boxDims, 26);
  if (sizes.length === 0) return null;
  let best = 0;
  for (let c = 1; c < sizes.length; c++) if (sizes[c] > sizes[best]) best = c;
  const comp = new Uint8Array(mask.length);
  for (let v = 0; v < comp.length; v++) comp[v] = labels[v] === best + 1 ? 1 : 0;
  const dt = distanceTransformMm(comp, boxDims, spacingMm, true);
  let arg = -1;
  let max = -1;
  for (let v = 0; v < dt.length; v++) {
    if (comp[v] && dt[v] > max) {
      max = dt[v];
      arg = v;
    }
  }
  const i = arg % boxDims[0];
  const j = Math.floor(arg / boxDims[0]) % boxDims[1];
  const k = Math.floor(arg / (boxDims[0] * boxDims[1]));
  return [i, j, k];
}

/**
 * The robot's next click, or null when the prediction equals the reference (or both are empty).
 * Without a prediction (first click) it clicks the deepest voxel of the largest reference component.
 * @param prediction - the current 0/1 mask on the full grid, or null before the first click.
 * @param reference - the 0/1 reference mask of the object.
 * @throws PromptError when the masks do not match `dims`.
 */
export function nextRobotClick(prediction: Uint8Array | null, reference: Uint8Array, dims: Vec3, spacingMm: Vec3): PointPrompt | null {
  const n = dims[0] * dims[1] * dims[2];
  if (reference.length !== n || (prediction && prediction.length !== n)) {
    throw new PromptError(`nextRobotClick: masks must have ${n} voxels (dims ${dims.join('×')})`);
  }
  let target: Uint8Array;
  if (!prediction) {
    target = reference;
  } else {
    target = new Uint8Array(n);
    for (let v = 0; v < n; v++) target[v] = (prediction[v] ? 1 : 0) ^ (reference[v] ? 1 : 0);
  }
  const bbox = maskBoundingBox(target, dims);
  if (!bbox) return null;
  // Work in the error's bounding box (one voxel wider) for speed; outside it nothing is set.
  const box: VoxelBox = growBoxMm(bbox, Math.max(...spacingMm), spacingMm, dims);
  const local = cropMask(target, dims, box);
  const p = deepestVoxelOfLargestComponent(local, boxSize(box), spacingMm);
  if (!p) return null;
  const voxel: Vec3 = [p[0] + box.min[0], p[1] + box.min[1], p[2] + box.min[2]];
  const idx = (voxel[2] * dims[1] + voxel[1]) * dims[0] + voxel[0];
  return { voxel, positive: reference[idx] === 1 };
}

/**
 * The section of the error at a correction click on the click's axial slice: the voxels of the
 * error of the click's sign (missed object for a positive click, leak for a negative one)
 * 8-connected to it, 0/1 per voxel of the slice (i fastest).
 */
export function errorSectionAt(click: PointPrompt, prediction: Uint8Array, reference: Uint8Array, dims: Vec3): Uint8Array {
  const [nx, ny] = dims;
  const plane = click.voxel[2] * nx * ny;
  const isError = (i: number, j: number): boolean => {
    const v = plane + j * nx + i;
    return (reference[v] === 1) === click.positive && (prediction[v] === 1) !== click.positive;
  };
  const inSection = new Uint8Array(nx * ny);
  const stack = [click.voxel[1] * nx + click.voxel[0]];
  inSection[stack[0]] = 1;
  while (stack.length > 0) {
    const u = stack.pop() as number;
    const i = u % nx;
    const j = (u - i) / nx;
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const a = i + di;
        const b = j + dj;
        if (a < 0 || b < 0 || a >= nx || b >= ny || inSection[b * nx + a] || !isError(a, b)) continue;
        inSection[b * nx + a] = 1;
        stack.push(b * nx + a);
      }
    }
  }
  return inSection;
}

/**
 * The outline a user draws around a leak instead of the negative correction click `click`: the
 * error section's outline on the click's axial slice (outlineOfRegion), a negative lasso; null
 * for a positive click, or a section without an area to outline.
 */
export function robotNegativeOutline(click: PointPrompt, prediction: Uint8Array, reference: Uint8Array, dims: Vec3): LassoPrompt | null {
  if (click.positive) return null;
  const outline = outlineOfRegion(errorSectionAt(click, prediction, reference, dims), [dims[0], dims[1]], 2, click.voxel[2]);
  return outline ? { points: outline.points, positive: false } : null;
}

/**
 * The stroke a user draws instead of the correction click `click`: on the click's axial slice,
 * through the click along the longest axis (in mm) of the error's section there (errorSectionAt),
 * ending 1 mm short of the section's edge; the click alone when the section is too thin for a stroke.
 */
export function robotScribble(click: PointPrompt, prediction: Uint8Array, reference: Uint8Array, dims: Vec3, spacingMm: Vec3): ScribblePrompt {
  const [nx, ny] = dims;
  const k = click.voxel[2];
  const inSection = errorSectionAt(click, prediction, reference, dims);
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let u = 0; u < inSection.length; u++) {
    if (!inSection[u]) continue;
    const x = (u % nx) * spacingMm[0];
    const y = Math.floor(u / nx) * spacingMm[1];
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  // The section's longest axis: the principal eigenvector of its covariance (mm).
  const cxx = sxx / n - (sx / n) ** 2;
  const cyy = syy / n - (sy / n) ** 2;
  const cxy = sxy / n - (sx / n) * (sy / n);
  const angle = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
  const dir = [Math.cos(angle) / spacingMm[0], Math.sin(angle) / spacingMm[1]]; // voxels per mm
  const stepMm = 0.25 * Math.min(spacingMm[0], spacingMm[1]);
  const end = (sign: number): [number, number, number] => {
    let t = 0;
    for (;;) {
      const i = Math.round(click.voxel[0] + sign * (t + stepMm) * dir[0]);
      const j = Math.round(click.voxel[1] + sign * (t + stepMm) * dir[1]);
      if (i < 0 || j < 0 || i >= nx || j >= ny || !inSection[j * nx + i]) break;
      t += stepMm;
    }
    t = Math.max(0, t - 1);
    return [Math.round(click.voxel[0] + sign * t * dir[0]), Math.round(click.voxel[1] + sign * t * dir[1]), k];
  };
  const points = [end(-1), [...click.voxel] as Vec3, end(1)].filter((p, q, all) => q === 0 || p.some((x, a) => x !== all[q - 1][a]));
  return { points, positive: click.positive };
}

/** Number of clicks needed to reach `threshold` Dice (1-based), or `cap` when never reached within the curve. */
export function clicksToReach(dicePerClick: readonly number[], threshold: number, cap = 20): number {
  const i = dicePerClick.findIndex((d) => d >= threshold);
  return i < 0 ? cap : Math.min(cap, i + 1);
}

/** One step of a robot session: the click given and what the segmenter returned. */
export interface RobotStep {
  click: PointPrompt;
  dice: number;
  ms: number;
}

/** Options of {@link runRobotSession}. */
export interface RobotSessionOptions {
  dims: Vec3;
  spacingMm: Vec3;
  reference: Uint8Array;
  /** Clicks to give at least. */
  clicks: number;
  /** Keep clicking (up to this many) until Dice ≥ `stopDice`, for NoC; default = clicks. */
  maxClicks?: number;
  /** Dice at which clicking past `clicks` stops; default 0.9. */
  stopDice?: number;
  /**
   * The segmenter: all clicks so far and the previous mask (null at the first click) → new mask.
   * It is timed per call.
   */
  segment: (points: PointPrompt[], previous: Uint8Array | null) => Uint8Array;
  /** The prediction before the first click (e.g. from a box alone): the first click then corrects it. */
  initial?: Uint8Array;
}

/** Runs the robot user against a segmenter; returns the Dice and time after each click. */
export function runRobotSession(o: RobotSessionOptions): RobotStep[] {
  if (!Number.isInteger(o.clicks) || o.clicks < 1) throw new PromptError(`runRobotSession: clicks must be an integer ≥ 1, got ${o.clicks}`);
  const maxClicks = Math.max(o.clicks, o.maxClicks ?? o.clicks);
  const stopDice = o.stopDice ?? 0.9;
  const steps: RobotStep[] = [];
  const points: PointPrompt[] = [];
  let prediction: Uint8Array | null = o.initial ?? null;
  while (steps.length < maxClicks) {
    if (steps.length >= o.clicks && steps[steps.length - 1].dice >= stopDice) break;
    const click = nextRobotClick(prediction, o.reference, o.dims, o.spacingMm);
    if (!click) {
      // Perfect prediction: the remaining clicks change nothing (a perfect `initial` needs none).
      const nominal = steps.length > 0 ? steps[steps.length - 1].click : nextRobotClick(null, o.reference, o.dims, o.spacingMm);
      if (!nominal) break;
      steps.push({ click: nominal, dice: 1, ms: 0 });
      continue;
    }
    points.push(click);
    const t0 = performance.now();
    prediction = o.segment([...points], prediction);
    const ms = performance.now() - t0;
    steps.push({ click, dice: diceCoefficient(prediction, o.reference), ms });
  }
  return steps;
}
