// Simulated prompts for training the prompt model, in patch space (isotropic voxels): a first
// click deep inside the object, and for later interactions an imperfect "object so far" with
// corrective clicks at the deepest voxel of its largest error regions, the same rule the robot
// user (and the CVPR 2025 interactive protocol) follows at evaluation time.
import type { Vec3 } from '../volume/vec3';
import { labelComponents } from './components';
import { distanceTransformMm } from './distanceTransform';
import { paintBall, paintPatchBox } from './promptPatch';

/** The prompt channels of one simulated interaction (P³ cubes, x fastest). */
export interface SimulatedPrompts {
  positive: Float32Array;
  negative: Float32Array;
  boxes: Float32Array;
  previous: Float32Array;
  /** What was simulated, for logs and tests. */
  kind: 'first click' | 'box' | 'box and click' | 'correction';
  clicks: { at: Vec3; positive: boolean }[];
}

const ISO: Vec3 = [1, 1, 1];

function coords(v: number, P: number): Vec3 {
  return [v % P, Math.floor(v / P) % P, Math.floor(v / (P * P))];
}

/** Box blur of a 0/1 cube (radius r voxels, separable), values 0..1. */
function boxBlur(mask: ArrayLike<number>, P: number, r: number): Float32Array {
  let src = Float32Array.from(mask);
  const strides = [1, P, P * P];
  for (const s of strides) {
    const dst = new Float32Array(src.length);
    for (let v = 0; v < src.length; v++) {
      const c = Math.floor(v / s) % P;
      let sum = 0;
      let n = 0;
      for (let d = -r; d <= r; d++) {
        if (c + d < 0 || c + d >= P) continue;
        sum += src[v + d * s];
        n++;
      }
      dst[v] = sum / n;
    }
    src = dst;
  }
  return src;
}

function ballEdit(mask: Uint8Array, P: number, centre: Vec3, radius: number, value: 0 | 1): void {
  const r2 = radius * radius;
  for (let c = Math.max(0, Math.floor(centre[2] - radius)); c <= Math.min(P - 1, Math.ceil(centre[2] + radius)); c++) {
    for (let b = Math.max(0, Math.floor(centre[1] - radius)); b <= Math.min(P - 1, Math.ceil(centre[1] + radius)); b++) {
      for (let a = Math.max(0, Math.floor(centre[0] - radius)); a <= Math.min(P - 1, Math.ceil(centre[0] + radius)); a++) {
        if ((a - centre[0]) ** 2 + (b - centre[1]) ** 2 + (c - centre[2]) ** 2 <= r2) mask[(c * P + b) * P + a] = value;
      }
    }
  }
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)];
}

/**
 * An imperfect segmentation of `target` like those a user corrects: grown or shrunk (blurred and
 * thresholded), with a lobe cut away or a leak added, sometimes shifted.
 */
export function perturbObject(target: Uint8Array, P: number, random: () => number, dt: Float32Array): Uint8Array {
  const blurred = boxBlur(target, P, 1 + Math.floor(random() * 3));
  const threshold = 0.15 + 0.7 * random();
  let prev = new Uint8Array(target.length);
  for (let v = 0; v < prev.length; v++) prev[v] = blurred[v] >= threshold ? 1 : 0;
  let maxDt = 0;
  const inside: number[] = [];
  const outsideNear: number[] = [];
  for (let v = 0; v < target.length; v++) {
    if (target[v]) {
      inside.push(v);
      if (dt[v] > maxDt) maxDt = dt[v];
    }
  }
  const radius = Math.max(2, maxDt);
  if (random() < 0.5 && inside.length > 0) {
    // A lobe the segmentation missed: a ball centred near the surface.
    const near = inside.filter((v) => dt[v] <= 0.5 * maxDt + 1);
    ballEdit(prev, P, coords(pick(near.length ? near : inside, random), P), radius * (0.3 + 0.5 * random()), 0);
  }
  if (random() < 0.5) {
    // A leak into the surroundings: a ball centred just outside the object.
    const grown = boxBlur(target, P, Math.max(1, Math.round(0.4 * radius)));
    for (let v = 0; v < target.length; v++) if (!target[v] && grown[v] > 0) outsideNear.push(v);
    if (outsideNear.length) ballEdit(prev, P, coords(pick(outsideNear, random), P), radius * (0.2 + 0.5 * random()), 1);
  }
  if (random() < 0.2) {
    const shift = [0, 1, 2].map(() => Math.round((random() - 0.5) * 6));
    const moved = new Uint8Array(prev.length);
    for (let c = 0; c < P; c++) {
      for (let b = 0; b < P; b++) {
        for (let a = 0; a < P; a++) {
          const s = [a - shift[0], b - shift[1], c - shift[2]];
          if (s.every((x) => x >= 0 && x < P)) moved[(c * P + b) * P + a] = prev[(s[2] * P + s[1]) * P + s[0]];
        }
      }
    }
    prev = moved;
  }
  return prev;
}

/** Deepest voxel of each of the `count` largest 26-connected components of `mask`, largest first. */
export function deepestVoxelsOfLargestComponents(mask: Uint8Array, P: number, count: number): Vec3[] {
  const { labels, sizes } = labelComponents(mask, [P, P, P], 26);
  if (sizes.length === 0) return [];
  const order = sizes.map((s, n) => [s, n + 1]).sort((x, y) => y[0] - x[0]).slice(0, count);
  const out: Vec3[] = [];
  for (const [, label] of order) {
    const comp = new Uint8Array(mask.length);
    for (let v = 0; v < comp.length; v++) comp[v] = labels[v] === label ? 1 : 0;
    const dt = distanceTransformMm(comp, [P, P, P], ISO, true);
    let arg = -1;
    let max = -1;
    for (let v = 0; v < dt.length; v++) if (comp[v] && dt[v] > max) [max, arg] = [dt[v], v];
    out.push(coords(arg, P));
  }
  return out;
}

/**
 * Prompts for one training patch whose object is `target` (P³, x fastest) with the user's first
 * click at `firstClick` (patch coordinates, inside the object).
 */
export function simulatePrompts(target: Uint8Array, P: number, firstClick: Vec3, random: () => number): SimulatedPrompts {
  const n = P * P * P;
  const out: SimulatedPrompts = {
    positive: new Float32Array(n),
    negative: new Float32Array(n),
    boxes: new Float32Array(n),
    previous: new Float32Array(n),
    kind: 'first click',
    clicks: [],
  };
  const click = (at: Vec3, positive: boolean): void => {
    paintBall(positive ? out.positive : out.negative, P, at);
    out.clicks.push({ at, positive });
  };
  const r = random();
  if (r < 0.4) {
    click(firstClick, true);
    return out;
  }
  if (r < 0.55) {
    // A 2-D box on one slice through the object (most often), or a 3-D box.
    const ks: number[] = [];
    for (let v = 0; v < n; v++) if (target[v]) ks.push(Math.floor(v / (P * P)));
    const k = random() < 0.7 ? pick(ks, random) : -1;
    const min = [P, P, P];
    const max = [-1, -1, -1];
    for (let v = 0; v < n; v++) {
      if (!target[v]) continue;
      const c = coords(v, P);
      if (k >= 0 && c[2] !== k) continue;
      for (let a = 0; a < 3; a++) {
        min[a] = Math.min(min[a], c[a]);
        max[a] = Math.max(max[a], c[a]);
      }
    }
    paintPatchBox(out.boxes, P, min, max);
    out.kind = 'box';
    if (random() < 0.5) {
      click(firstClick, true);
      out.kind = 'box and click';
    }
    return out;
  }
  out.kind = 'correction';
  const dt = distanceTransformMm(target, [P, P, P], ISO, true);
  const prev = perturbObject(target, P, random, dt);
  for (let v = 0; v < n; v++) out.previous[v] = prev[v];
  // Earlier clicks: the first one usually, sometimes a few more inside the object.
  if (random() < 0.8) click(firstClick, true);
  const error = new Uint8Array(n);
  for (let v = 0; v < n; v++) error[v] = prev[v] !== target[v] ? 1 : 0;
  const corrections = 1 + Math.floor(random() * 3);
  for (const at of deepestVoxelsOfLargestComponents(error, P, corrections)) {
    click(at, target[(at[2] * P + at[1]) * P + at[0]] === 1);
  }
  return out;
}
