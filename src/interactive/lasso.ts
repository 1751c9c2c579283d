// Lassos: a closed outline drawn on one slice, the object's cross-section there (nnInteractive's
// lasso prompt). A lasso is a polygon of voxel coordinates (in-plane they may be fractional) that
// all share one integer index along the axis its slice lies across; the voxels whose centres it
// encloses, or whose centres lie on it, are the object on that slice.
import type { Vec3 } from '../volume/vec3';
import type { VoxelBox } from './box';
import { distanceTransformMm } from './distanceTransform';
import { PromptError } from './errors';

/** An outline on one slice: its vertices in order (the last joins the first). */
export interface LassoPrompt {
  points: Vec3[];
  /** false: it encloses what is not the object on that slice (absent: the object's section). */
  positive?: boolean;
}

/** A lasso rasterised on its slice. */
export interface LassoMask {
  /** The voxel axis its slice lies across (2: an axial slice, 1: coronal, 0: sagittal). */
  axis: number;
  /** Its index along `axis`. */
  slice: number;
  /** The enclosed voxels' bounding box (one voxel thick along `axis`). */
  box: VoxelBox;
  /** 0/1 per voxel of `box`, i fastest. */
  inside: Uint8Array;
}

/** The two in-plane axes of a slice across `axis`, in index order. */
export function planeAxes(axis: number): [number, number] {
  return axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
}

/**
 * The axis a lasso's slice lies across: the one along which every vertex has the same integer
 * index (k first, as most outlines are drawn on axial slices), or -1 when there is none.
 */
export function lassoAxis(points: readonly Vec3[]): number {
  for (const a of [2, 1, 0]) {
    const v = points[0][a];
    if (Number.isInteger(v) && points.every((p) => p[a] === v)) return a;
  }
  return -1;
}

/**
 * The voxels a lasso encloses on its slice (even–odd rule on voxel centres; a centre on the
 * outline counts as enclosed, so an outline drawn through the object's edge voxels keeps them).
 * @throws PromptError naming `where` when the outline has fewer than 3 vertices, does not lie in
 *   one slice, or encloses no voxel of the image.
 */
export function rasterizeLasso(lasso: LassoPrompt, dims: Vec3, where = 'lasso'): LassoMask {
  const pts = lasso.points;
  if (pts.length < 3) throw new PromptError(`${where} needs at least 3 points to enclose an area, got ${pts.length}`);
  const axis = lassoAxis(pts);
  if (axis < 0) throw new PromptError(`${where} does not lie in one slice: its points must share one integer index along i, j or k`);
  const [u, w] = planeAxes(axis);
  const slice = pts[0][axis];
  const xs = pts.map((p) => p[u]);
  const ys = pts.map((p) => p[w]);
  const x0 = Math.max(0, Math.ceil(Math.min(...xs)));
  const x1 = Math.min(dims[u] - 1, Math.floor(Math.max(...xs)));
  const y0 = Math.max(0, Math.ceil(Math.min(...ys)));
  const y1 = Math.min(dims[w] - 1, Math.floor(Math.max(...ys)));
  const sx = x1 - x0 + 1;
  const sy = y1 - y0 + 1;
  const plane = new Uint8Array(Math.max(0, sx) * Math.max(0, sy));
  const n = pts.length;
  for (let y = y0; y <= y1; y++) {
    // Crossings of the row y with each edge (half-open in y, so a vertex on the row counts once).
    const crossings: number[] = [];
    for (let e = 0; e < n; e++) {
      const ax = xs[e];
      const ay = ys[e];
      const bx = xs[(e + 1) % n];
      const by = ys[(e + 1) % n];
      if (ay <= y !== by <= y) crossings.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
    }
    crossings.sort((a, b) => a - b);
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      for (let x = Math.max(x0, Math.ceil(crossings[c])); x <= Math.min(x1, Math.floor(crossings[c + 1])); x++) plane[(y - y0) * sx + x - x0] = 1;
    }
    // Centres on the outline itself (vertices, horizontal edges, edges through a centre).
    for (let e = 0; e < n; e++) {
      const ax = xs[e];
      const ay = ys[e];
      const bx = xs[(e + 1) % n];
      const by = ys[(e + 1) % n];
      if (y < Math.min(ay, by) || y > Math.max(ay, by)) continue;
      const lo = Math.max(x0, Math.ceil(Math.min(ax, bx)));
      const hi = Math.min(x1, Math.floor(Math.max(ax, bx)));
      for (let x = lo; x <= hi; x++) {
        const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
        if (Math.abs(cross) <= 1e-9 * Math.max(1, Math.abs(bx - ax) + Math.abs(by - ay))) plane[(y - y0) * sx + x - x0] = 1;
      }
    }
  }
  // Crop to the enclosed voxels.
  let minX = Infinity;
  let maxX = -1;
  let minY = Infinity;
  let maxY = -1;
  for (let y = 0; y < sy; y++) {
    for (let x = 0; x < sx; x++) {
      if (!plane[y * sx + x]) continue;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
  }
  if (maxX < 0) throw new PromptError(`${where} encloses no voxel of the image`);
  const min = [0, 0, 0] as Vec3;
  const max = [0, 0, 0] as Vec3;
  min[axis] = max[axis] = slice;
  min[u] = x0 + minX;
  max[u] = x0 + maxX;
  min[w] = y0 + minY;
  max[w] = y0 + maxY;
  const bw = maxX - minX + 1;
  const inside = new Uint8Array(bw * (maxY - minY + 1));
  for (let y = minY; y <= maxY; y++) for (let x = minX; x <= maxX; x++) inside[(y - minY) * bw + x - minX] = plane[y * sx + x];
  return { axis, slice, box: { min, max }, inside };
}

/** Whether voxel `p` lies in the lasso's slice and is enclosed by it. */
export function lassoEncloses(l: LassoMask, p: Vec3): boolean {
  if (p[l.axis] !== l.slice) return false;
  const [u, w] = planeAxes(l.axis);
  if (p[u] < l.box.min[u] || p[u] > l.box.max[u] || p[w] < l.box.min[w] || p[w] > l.box.max[w]) return false;
  return l.inside[(p[w] - l.box.min[w]) * (l.box.max[u] - l.box.min[u] + 1) + p[u] - l.box.min[u]] === 1;
}

/** The lassos drawn on one slice: together they are the object's section there. */
export interface LassoSection {
  axis: number;
  slice: number;
  /** The box of every lasso's enclosed voxels. */
  box: VoxelBox;
  lassos: LassoMask[];
}

/** The lassos grouped by the slice they lie on. */
export function lassoSections(lassos: readonly LassoMask[]): LassoSection[] {
  const sections = new Map<string, LassoSection>();
  for (const l of lassos) {
    const key = `${l.axis}:${l.slice}`;
    const s = sections.get(key);
    if (!s) sections.set(key, { axis: l.axis, slice: l.slice, box: l.box, lassos: [l] });
    else {
      s.lassos.push(l);
      s.box = { min: [0, 1, 2].map((a) => Math.min(s.box.min[a], l.box.min[a])) as Vec3, max: [0, 1, 2].map((a) => Math.max(s.box.max[a], l.box.max[a])) as Vec3 };
    }
  }
  return [...sections.values()];
}

/** Whether voxel `p` lies on the section's slice and any of its lassos encloses it. */
export function sectionEncloses(s: LassoSection, p: Vec3): boolean {
  return s.lassos.some((l) => lassoEncloses(l, p));
}

/** The section as one rasterised lasso: the voxels any of its lassos encloses. */
function sectionMask(s: LassoSection): LassoMask {
  if (s.lassos.length === 1) return s.lassos[0];
  const [u, w] = planeAxes(s.axis);
  const su = s.box.max[u] - s.box.min[u] + 1;
  const sw = s.box.max[w] - s.box.min[w] + 1;
  const inside = new Uint8Array(su * sw);
  const p = [0, 0, 0] as Vec3;
  p[s.axis] = s.slice;
  for (let y = 0; y < sw; y++) {
    for (let x = 0; x < su; x++) {
      p[u] = s.box.min[u] + x;
      p[w] = s.box.min[w] + y;
      inside[y * su + x] = sectionEncloses(s, p) ? 1 : 0;
    }
  }
  return { axis: s.axis, slice: s.slice, box: s.box, inside };
}

/** The enclosed voxel deepest inside the lasso (largest mm distance to its outline): where a click in it would go. */
export function lassoCentre(l: LassoMask, spacingMm: Vec3): Vec3 {
  const [u, w] = planeAxes(l.axis);
  const su = l.box.max[u] - l.box.min[u] + 1;
  const sw = l.box.max[w] - l.box.min[w] + 1;
  // (A third axis of one voxel, so far apart that the outside beyond it never counts.)
  const dt = distanceTransformMm(l.inside, [su, sw, 1], [spacingMm[u], spacingMm[w], 1e9], true);
  let arg = 0;
  for (let v = 1; v < dt.length; v++) if (dt[v] > dt[arg]) arg = v;
  const p = [0, 0, 0] as Vec3;
  p[l.axis] = l.slice;
  p[u] = l.box.min[u] + (arg % su);
  p[w] = l.box.min[w] + Math.floor(arg / su);
  return p;
}

/**
 * The outline of a 2-D mask's largest region along its voxels' outer edges, as a lasso on slice
 * `slice` across `axis` (holes are ignored): rasterised, it gives back that region with its holes
 * filled. What a careful user would draw around the region; the robot user's lasso.
 * @param plane - 0/1 per voxel of the slice, its first in-plane axis fastest (`planeDims`).
 * @returns null when the mask is empty.
 */
export function outlineOfRegion(plane: ArrayLike<number>, planeDims: [number, number], axis: number, slice: number): LassoPrompt | null {
  const [nx, ny] = planeDims;
  const at = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < nx && y < ny && plane[y * nx + x] !== 0;
  // Directed boundary edges between voxel corners (corner (x, y) is the voxel's lower-left corner
  // at x − ½, y − ½), with the region on their left: counter-clockwise around the region.
  const next = new Map<number, number[]>();
  const key = (x: number, y: number): number => y * (nx + 1) + x;
  const add = (ax: number, ay: number, bx: number, by: number): void => {
    const k = key(ax, ay);
    const list = next.get(k);
    if (list) list.push(key(bx, by));
    else next.set(k, [key(bx, by)]);
  };
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      if (!at(x, y)) continue;
      if (!at(x, y - 1)) add(x, y, x + 1, y);
      if (!at(x + 1, y)) add(x + 1, y, x + 1, y + 1);
      if (!at(x, y + 1)) add(x + 1, y + 1, x, y + 1);
      if (!at(x - 1, y)) add(x, y + 1, x, y);
    }
  }
  if (next.size === 0) return null;
  // Follow the edges into closed loops; at a corner where two regions touch diagonally take the
  // left turn, so that each loop outlines one 4-connected region.
  const loops: number[][] = [];
  for (const start of [...next.keys()]) {
    while ((next.get(start)?.length ?? 0) > 0) {
      const loop = [start];
      let prev = start;
      let cur = (next.get(start) as number[]).shift() as number;
      while (cur !== start) {
        loop.push(cur);
        const outs = next.get(cur) as number[];
        let pick = 0;
        if (outs.length > 1) {
          const dx = (cur % (nx + 1)) - (prev % (nx + 1));
          const dy = Math.floor(cur / (nx + 1)) - Math.floor(prev / (nx + 1));
          // Left of (dx, dy) in these axes is (−dy, dx).
          const want = key((cur % (nx + 1)) - dy, Math.floor(cur / (nx + 1)) + dx);
          pick = Math.max(0, outs.indexOf(want));
        }
        prev = cur;
        cur = outs.splice(pick, 1)[0];
      }
      loops.push(loop);
    }
  }
  // The outer outline of the largest region: the loop of largest positive (counter-clockwise) area.
  const area = (loop: number[]): number => {
    let s = 0;
    for (let q = 0; q < loop.length; q++) {
      const a = loop[q];
      const b = loop[(q + 1) % loop.length];
      s += (a % (nx + 1)) * Math.floor(b / (nx + 1)) - (b % (nx + 1)) * Math.floor(a / (nx + 1));
    }
    return s / 2;
  };
  const best = loops.reduce((a, b) => (area(b) > area(a) ? b : a));
  // Corners only (drop points where the outline runs straight on).
  const corners = best.filter((c, q) => {
    const a = best[(q + best.length - 1) % best.length];
    const b = best[(q + 1) % best.length];
    const ax = c % (nx + 1) - (a % (nx + 1));
    const ay = Math.floor(c / (nx + 1)) - Math.floor(a / (nx + 1));
    const bx = (b % (nx + 1)) - (c % (nx + 1));
    const by = Math.floor(b / (nx + 1)) - Math.floor(c / (nx + 1));
    return ax * by - ay * bx !== 0;
  });
  const [u, w] = planeAxes(axis);
  return {
    points: corners.map((c) => {
      const p = [0, 0, 0] as Vec3;
      p[axis] = slice;
      p[u] = (c % (nx + 1)) - 0.5;
      p[w] = Math.floor(c / (nx + 1)) - 0.5;
      return p;
    }),
  };
}

/** Angle bins of a lasso's radial extent (5° each). */
const EXTENT_BINS = 72;

/** A lasso's section as the prior sees it: centroid (mm, in-plane axes) and radial extent (mm) per angle bin. */
interface SectionShape {
  lasso: LassoMask;
  cu: number;
  cw: number;
  extent: Float64Array;
  /** How far the object is guessed to reach across slices from this section alone, mm. */
  depthMm: number;
}

function sectionShape(l: LassoMask, spacingMm: Vec3, depthMm: number): SectionShape {
  const [u, w] = planeAxes(l.axis);
  const su = l.box.max[u] - l.box.min[u] + 1;
  let cu = 0;
  let cw = 0;
  let count = 0;
  for (let v = 0; v < l.inside.length; v++) {
    if (!l.inside[v]) continue;
    cu += (l.box.min[u] + (v % su)) * spacingMm[u];
    cw += (l.box.min[w] + Math.floor(v / su)) * spacingMm[w];
    count++;
  }
  cu /= count;
  cw /= count;
  // Radial extent of the enclosed voxels, the voxel's half size included.
  const extent = new Float64Array(EXTENT_BINS);
  const half = 0.5 * Math.min(spacingMm[u], spacingMm[w]);
  for (let v = 0; v < l.inside.length; v++) {
    if (!l.inside[v]) continue;
    const du = (l.box.min[u] + (v % su)) * spacingMm[u] - cu;
    const dw = (l.box.min[w] + Math.floor(v / su)) * spacingMm[w] - cw;
    const bin = angleBin(du, dw);
    extent[bin] = Math.max(extent[bin], Math.hypot(du, dw) + half);
  }
  // Bins no voxel fell in (small outlines) take their nearest neighbours' extent.
  for (let pass = 0; pass < EXTENT_BINS && extent.some((x) => x === 0); pass++) {
    const copy = Float64Array.from(extent);
    for (let b = 0; b < EXTENT_BINS; b++) if (copy[b] === 0) extent[b] = Math.max(copy[(b + 1) % EXTENT_BINS], copy[(b + EXTENT_BINS - 1) % EXTENT_BINS]);
  }
  for (let b = 0; b < EXTENT_BINS; b++) extent[b] = Math.max(extent[b], half);
  return { lasso: l, cu, cw, extent, depthMm: Math.max(depthMm, 0.5 * spacingMm[l.axis]) };
}

/**
 * The lassos' shape as a prior on `roi` (0..`weight`, the largest over the views): between two
 * lassos drawn on slices of the same view, their outlines interpolated (centroid and radial extent
 * in each direction, linearly across the slices between them); beyond the outermost one, its
 * outline shrunk towards its centroid by √(1 − (Δ/D)²) at Δ mm from its slice, D the half-depth
 * the object is guessed to reach from it (`halfDepthMm`). A linear ramp of ± `ramp` of that scale
 * softens the edge. For one elliptical lasso this is the ellipsoid a slice box's prior uses; for
 * any other outline it keeps the outline's shape. Outlines in several views each guess how far the
 * object reaches across their slices, and the object lies within all of them: the prior is the
 * least of the views' (held-out sarcoma, an axial and a sagittal outline alone: MR T1 0.787 → 0.799,
 * CT 0.793 → 0.806 against the largest of them).
 */
export function lassoShapePrior(lassos: readonly LassoMask[], roi: VoxelBox, spacingMm: Vec3, halfDepthMm: (l: LassoMask) => number, weight: number, ramp: number): Float32Array {
  const sx = roi.max[0] - roi.min[0] + 1;
  const sy = roi.max[1] - roi.min[1] + 1;
  const sz = roi.max[2] - roi.min[2] + 1;
  const reach = 1 + ramp;
  const views: Float32Array[] = [];
  for (const axis of [0, 1, 2]) {
    const out = new Float32Array(sx * sy * sz);
    // One section per slice (all the lassos drawn on it together), in slice order.
    const sections = lassoSections(lassos.filter((l) => l.axis === axis))
      .map((s) => {
        const mask = sectionMask(s);
        return sectionShape(mask, spacingMm, halfDepthMm(mask));
      })
      .sort((a, b) => a.lasso.slice - b.lasso.slice);
    if (sections.length === 0) continue;
    views.push(out);
    const [u, w] = planeAxes(axis);
    const first = sections[0];
    const last = sections[sections.length - 1];
    let maxExtent = 0;
    let lowU = Infinity;
    let highU = -Infinity;
    let lowW = Infinity;
    let highW = -Infinity;
    for (const s of sections) {
      let m = 0;
      for (const x of s.extent) m = Math.max(m, x);
      maxExtent = Math.max(maxExtent, m);
      lowU = Math.min(lowU, s.cu);
      highU = Math.max(highU, s.cu);
      lowW = Math.min(lowW, s.cw);
      highW = Math.max(highW, s.cw);
    }
    const lo = [0, 0, 0];
    const hi = [0, 0, 0];
    lo[axis] = Math.max(roi.min[axis], Math.floor(first.lasso.slice - (reach * first.depthMm) / spacingMm[axis]));
    hi[axis] = Math.min(roi.max[axis], Math.ceil(last.lasso.slice + (reach * last.depthMm) / spacingMm[axis]));
    lo[u] = Math.max(roi.min[u], Math.floor((lowU - reach * maxExtent) / spacingMm[u]));
    hi[u] = Math.min(roi.max[u], Math.ceil((highU + reach * maxExtent) / spacingMm[u]));
    lo[w] = Math.max(roi.min[w], Math.floor((lowW - reach * maxExtent) / spacingMm[w]));
    hi[w] = Math.min(roi.max[w], Math.ceil((highW + reach * maxExtent) / spacingMm[w]));
    const extent = new Float64Array(EXTENT_BINS);
    const p = [0, 0, 0];
    for (p[axis] = lo[axis]; p[axis] <= hi[axis]; p[axis]++) {
      // This slice's section: interpolated between the lassos around it, else the outermost one's, shrunk.
      const at = p[axis];
      let cu: number;
      let cw: number;
      let across = 0;
      if (at <= first.lasso.slice || at >= last.lasso.slice) {
        const s = at <= first.lasso.slice ? first : last;
        ({ cu, cw } = s);
        extent.set(s.extent);
        across = ((at - s.lasso.slice) * spacingMm[axis]) / s.depthMm;
      } else {
        let n = 0;
        while (sections[n + 1].lasso.slice < at) n++;
        const a = sections[n];
        const b = sections[n + 1];
        const f = (at - a.lasso.slice) / (b.lasso.slice - a.lasso.slice);
        cu = (1 - f) * a.cu + f * b.cu;
        cw = (1 - f) * a.cw + f * b.cw;
        for (let q = 0; q < EXTENT_BINS; q++) extent[q] = (1 - f) * a.extent[q] + f * b.extent[q];
      }
      if (across * across >= reach * reach) continue;
      for (p[w] = lo[w]; p[w] <= hi[w]; p[w]++) {
        for (p[u] = lo[u]; p[u] <= hi[u]; p[u]++) {
          const du = p[u] * spacingMm[u] - cu;
          const dw = p[w] * spacingMm[w] - cw;
          const q = Math.sqrt((Math.hypot(du, dw) / extentAt(extent, du, dw)) ** 2 + across * across);
          const value = weight * Math.min(1, Math.max(0, (reach - q) / (2 * ramp)));
          const v = ((p[2] - roi.min[2]) * sy + p[1] - roi.min[1]) * sx + p[0] - roi.min[0];
          if (value > out[v]) out[v] = value;
        }
      }
    }
  }
  if (views.length === 1) return views[0];
  const both = views[0];
  for (const view of views.slice(1)) for (let v = 0; v < both.length; v++) both[v] = Math.min(both[v], view[v]);
  return both;
}

function angleBin(du: number, dw: number): number {
  const t = (Math.atan2(dw, du) + Math.PI) / (2 * Math.PI);
  return Math.min(EXTENT_BINS - 1, Math.floor(t * EXTENT_BINS));
}

/** The radial extent in direction (du, dw), linear between bin centres. */
function extentAt(extent: Float64Array, du: number, dw: number): number {
  const t = ((Math.atan2(dw, du) + Math.PI) / (2 * Math.PI)) * EXTENT_BINS - 0.5;
  const b0 = Math.floor(t);
  const f = t - b0;
  return (1 - f) * extent[(b0 + EXTENT_BINS) % EXTENT_BINS] + f * extent[(b0 + 1) % EXTENT_BINS];
}

/**
 * What the lassoed slices say about a star's ray from `centre` along unit direction `dirMm` (mm
 * space), sampled every `stepMm`, `samples` samples: the object reaches at least `lo` samples (the
 * ray is enclosed there) and at most `hi` (it leaves a section there, or meets a lassoed slice
 * outside its lassos). A star holds the ray from the centre to its radius, so along a ray the
 * first sample on a lassoed slice that no lasso of that slice encloses ends the object. Returns
 * null when no lassoed slice lies on the ray.
 */
export function lassoRayBounds(sections: readonly LassoSection[], centre: Vec3, dirMm: readonly number[], spacingMm: Vec3, stepMm: number, samples: number): { lo: number; hi: number } | null {
  let lo = 0;
  let hi = Infinity;
  let seen = false;
  for (const s of sections) {
    const da = (dirMm[s.axis] * stepMm) / spacingMm[s.axis];
    for (let i = 0; i < samples; i++) {
      const along = centre[s.axis] + i * da;
      if (Math.abs(along - s.slice) > 0.5) {
        // Past the slab of the lassoed slice (moving away from it): nothing more on this ray.
        if ((along - s.slice) * da > 0) break;
        continue;
      }
      seen = true;
      const p = [0, 0, 0] as Vec3;
      for (let a = 0; a < 3; a++) p[a] = a === s.axis ? s.slice : Math.round(centre[a] + (i * dirMm[a] * stepMm) / spacingMm[a]);
      if (sectionEncloses(s, p)) lo = Math.max(lo, i);
      else {
        hi = Math.min(hi, Math.max(0, i - 1));
        break;
      }
    }
  }
  return seen ? { lo, hi } : null;
}
