// Click-guided 3-D segmentation without training: one click on an object gives its 3-D mask, and
// further clicks (and boxes) correct it. Pure and synchronous.
//
// Method: a thresholded region for an object that stands out (step 0: a small one such as an MS
// lesion; step 0a, on request: a large bright one such as a whole tumour on brain FLAIR; both in
// contrastRegion.ts), else a star-shaped object around the first positive click (or the first
// box's centre); docs/interactive-segmentation.md has what was tried and the measurements.
//  1. Crop a region of interest (ROI) of `maxRadiusMm` around the centre and smooth it (Gaussian, mm).
//  2. Sample the smoothed image along `rayCount` evenly spread rays from the centre (mm steps,
//     true to anisotropic voxels); a ray's edge strength at radius r is the drop of its profile
//     across r ± `edgeHalfWidthMm`, in noise units (median absolute drop), signed so that the
//     edge of the starting sphere counts positive; a lesion-probability prior adds its own drop.
//  3. The starting sphere is the radius whose mean edge over all rays is most significant
//     (|mean| × radius, as the noise of a mean over a sphere falls with its area).
//  4. Each ray's radius maximises its edge strength minus a smoothness penalty against the mean
//     radius of its neighbouring rays (iterated conditional modes, all rays updated together).
//     Boxes cap the radius where a ray leaves them. Each further click, in order, then bounds the
//     rays near its direction (see the comment at step 4 below) and the optimisation resumes.
//  5. The mask is every voxel within the interpolated radius of its direction.
// Lassos (lasso.ts) fix their slice and shape the prior; scribbles (scribble.ts) and negative
// lassos set their voxels and bound the rays near them.
// `previous` (the object so far) is kept outside the object's box; inside it the object is
// recomputed from all prompts, so a repeated call is deterministic and a negative click really
// removes voxels. Of a star's recomputed object, only the change near the latest correction click
// is taken (localEdit.ts), so a click does not undo what earlier clicks fixed elsewhere.
import type { Vec3 } from '../volume/vec3';
import { boxSize, cropMask, cropToFloat32, growBoxMm, maskBoundingBox, pasteMask, unionBox, type VoxelBox } from './box';
import { labelComponents } from './components';
import { contrastRegion, RESOLVED_RADIUS_VOXELS, type ContrastRegion } from './contrastRegion';
import { distanceTransformMm } from './distanceTransform';
import { PromptError } from './errors';
import { lassoCentre, lassoRayBounds, lassoSections, lassoShapePrior, planeAxes, rasterizeLasso, sectionEncloses, type LassoMask, type LassoSection } from './lasso';
import { applyLocalEdit, applyLocalEdits, distanceToOtherLabelMm } from './localEdit';
import { median } from './median';
import { PerImageCache } from './perImageCache';
import { checkVolume, resolvePromptOptions, type PromptSegmentation, type PromptSegmentationOptions, type PromptVolume } from './promptOptions';
import { validatePrompts, type PointPrompt, type Prompts } from './prompts';
import { rasterizeScribble, scribbleMiddle, scribbleSamples, type ScribbleVoxels } from './scribble';
import { diceCoefficient } from './robotUser';
import { gaussianSmoothMm } from './smoothing';
import { equivalentRadiusMm, radiusInDirection, sphereRays } from './sphere';

// Of two equally contrasted regions the smaller wins by (size ratio)^exponent: strongly for small
// lesions (step 0: a lesion inside a brighter area), weakly for large objects (step 0a, where the
// first click's star already bounds the size).
const SMALL_REGION_SIZE_EXPONENT = 0.1;
// The contrast a region needs when the first click's star on brain FLAIR spread beyond regionMaxRadiusMm
// (MS lesions of ≥ 20 voxels, 64: after 3 clicks 0.698 → 0.715; 1.0 scored the same).
const FAINT_REGION_MIN_CONTRAST = 1.5;
/** With `edgeCap`, each ray's edge counts in the starting sphere's mean up to this multiple of the cap (sarcoma CT: tried 1–10; 3–10 alike). */
const START_EDGE_CAP_FACTOR = 4;
const LARGE_REGION_SIZE_EXPONENT = 0.03;
// Step 0a takes regions up to 2.5 × the first click's star's mean radius, never beyond this.
const LARGE_REGION_MAX_RADIUS_MM = 50;
// A step-0 region taken as a whole tumour's core: the tumour's scale for step 0a (synthetic brain
// tumours: a core of 7 mm radius in a tumour of 16 mm).
const CORE_TO_OBJECT_RADIUS = 2;
// The object around such a core wins when its contrast is at least this share of the core's (a
// tumour on 3 mm FLAIR slices: 2.79 against its core's 2.84 gave Dice 0.12 for the core, 0.83
// for the object; 1 mm grids, 5 mm slices and MS lesions alike at 0.9 and 1).
const CORE_OBJECT_MIN_CONTRAST_SHARE = 0.9;
// A first click that alone gives a small star may lie in a small inner structure (a necrotic core
// with its rim) of a whole tumour over 50 mm across: step 0a is also tried at this scale (synthetic
// tumours of 200–215 cm³ clicked at their deepest point: Dice 0.003 → 0.93 and 0.005 → 0.89).
const INNER_STRUCTURE_OBJECT_SCALE_MM = 25;

interface FirstClickScale {
  /** The first click, the boxes and the options it was found with. */
  key: string;
  /** Mean radius of the first click's own object, mm. */
  scaleMm: number;
  /** Its contrast when it is a step-0 region, else null (a star). */
  regionContrast: number | null;
}
const firstClickScales = new WeakMap<object, FirstClickScale>();

/**
 * The star's latest smoothed regions of interest per image: a correction click keeps the first
 * click's ROI (unless a far positive click widens it), and smoothing it was most of a correction
 * click's time (0.15–0.7 s).
 */
const smoothedRois = new PerImageCache<Float32Array>(2);

/** `volume`'s box `roi` smoothed with σ `sigmaMm` (shared with later calls: not to be written). */
function smoothedRoi(volume: PromptVolume, roi: VoxelBox, sigmaMm: number): Float32Array {
  const key = JSON.stringify([roi, sigmaMm, volume.dims, volume.spacingMm]);
  return smoothedRois.get(volume.values, key, () => gaussianSmoothMm(cropToFloat32(volume.values, volume.dims, roi), boxSize(roi), volume.spacingMm, sigmaMm));
}

export { resolvePromptOptions } from './promptOptions';
export type { PromptSegmentation, PromptSegmentationOptions, PromptTimingsMs, PromptVolume } from './promptOptions';

const now = (): number => performance.now();

/** Each image's values with its non-finite voxels replaced (see {@link finiteValues}). */
const finiteValuesByImage = new WeakMap<object, ArrayLike<number>>();

/**
 * The image's values with every NaN or infinite voxel set to its lowest finite value, kept per
 * image; the values themselves when all are finite. Pipelines that mask a brain write NaN outside
 * it: smoothing would carry that NaN into every edge near the brain's surface (synthetic tumours in
 * such a FLAIR: Dice 0.15 after one click, against 0.83 with a zero background).
 */
function finiteValues(values: ArrayLike<number>): ArrayLike<number> {
  let finite = finiteValuesByImage.get(values);
  if (finite === undefined) {
    let lowest = Infinity;
    let allFinite = true;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) allFinite = false;
      else if (v < lowest) lowest = v;
    }
    if (allFinite) finite = values;
    else {
      const out = new Float32Array(values.length);
      const fill = Number.isFinite(lowest) ? lowest : 0;
      for (let i = 0; i < values.length; i++) out[i] = Number.isFinite(values[i]) ? values[i] : fill;
      finite = out;
    }
    finiteValuesByImage.set(values, finite);
  }
  return finite;
}

/** Trilinear sample of `img` (grid `dims`) at fractional voxel (x, y, z), which must lie inside. */
function trilinear(img: Float32Array, dims: Vec3, x: number, y: number, z: number): number {
  const [nx, ny, nz] = dims;
  const x0 = Math.min(nx - 1, Math.floor(x));
  const y0 = Math.min(ny - 1, Math.floor(y));
  const z0 = Math.min(nz - 1, Math.floor(z));
  const x1 = Math.min(nx - 1, x0 + 1);
  const y1 = Math.min(ny - 1, y0 + 1);
  const z1 = Math.min(nz - 1, z0 + 1);
  const fx = x - x0;
  const fy = y - y0;
  const fz = z - z0;
  const at = (i: number, j: number, k: number): number => img[(k * ny + j) * nx + i];
  const c00 = at(x0, y0, z0) * (1 - fx) + at(x1, y0, z0) * fx;
  const c10 = at(x0, y1, z0) * (1 - fx) + at(x1, y1, z0) * fx;
  const c01 = at(x0, y0, z1) * (1 - fx) + at(x1, y0, z1) * fx;
  const c11 = at(x0, y1, z1) * (1 - fx) + at(x1, y1, z1) * fx;
  return (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
}

/** How far the star may reach for a positive click `distanceMm` from its centre: past the click, so that the click can be the middle of an error. */
function clickReachMm(distanceMm: number): number {
  return 1.25 * distanceMm + 5;
}

// A box drawn on one slice guesses the object's extent across slices: this multiple of its larger
// in-plane size (sarcoma and synthetic brain tumours: their extent along k is 0.8–2.3 times the
// larger in-plane one, median 1.1). Robot user with such a box, held-out MR T1 / CT after 1 / 3
// clicks: 0.75 gave 0.732 / 0.839 and 0.735 / 0.830, 1 0.775 / 0.843 and 0.777 / 0.831, 1.25
// 0.778 / 0.838 and 0.779 / 0.817, 2 less. The real VS Code test's click and box on STS_002's CT:
// 0.882 at 1, 0.837 at 1.25.
const SLICE_BOX_DEPTH_RATIO = 1;

/**
 * The axis a box drawn on one slice lies across (its one voxel thick axis: k for an axial box,
 * else j or i for a box drawn on a coronal or sagittal slice), or -1 for a 3-D box.
 */
export function sliceBoxAxis(b: VoxelBox): number {
  if (b.min[2] === b.max[2]) return 2;
  if (b.min[1] === b.max[1]) return 1;
  return b.min[0] === b.max[0] ? 0 : -1;
}

/**
 * Boxes drawn on slices of different views (an axial and a sagittal one, say) as the one 3-D box
 * they outline together: along each axis, the extent of the boxes that span it, all views
 * together, since each box is one section of the object and the object reaches as far as any
 * section shows (12 synthetic whole tumours, an axial and a sagittal box through the first click,
 * after 1 / 3 / 5 clicks: 0.843 / 0.871 / 0.874 with the views' extents intersected, 0.847 /
 * 0.872 / 0.878 joined; held-out MR T1 0.789 / 0.845 / 0.852 → 0.793 / 0.848 / 0.859; CT 0.798 /
 * 0.829 / 0.839 → 0.800 / 0.834 / 0.847). Widening the joined box by 5 % of its size per side
 * helped the whole tumours (0.858 / 0.878 / 0.883) but cost the sarcoma, whose edges are weak
 * (MR T1 0.769 / 0.833 / 0.844). Boxes of a single view, 3-D boxes, and views whose boxes do not
 * overlap along an axis they share are kept as they are.
 */
export function mergeSliceBoxes(boxes: readonly VoxelBox[]): VoxelBox[] {
  const slice = boxes.filter((b) => sliceBoxAxis(b) >= 0);
  const views = [...new Set(slice.map(sliceBoxAxis))];
  if (views.length < 2) return [...boxes];
  const min = [0, 0, 0] as Vec3;
  const max = [0, 0, 0] as Vec3;
  for (let a = 0; a < 3; a++) {
    const extents = views
      .filter((view) => view !== a)
      .map((view) => {
        const same = slice.filter((b) => sliceBoxAxis(b) === view);
        return [Math.min(...same.map((b) => b.min[a])), Math.max(...same.map((b) => b.max[a]))];
      });
    if (Math.max(...extents.map((e) => e[0])) > Math.min(...extents.map((e) => e[1]))) return [...boxes];
    min[a] = Math.min(...extents.map((e) => e[0]));
    max[a] = Math.max(...extents.map((e) => e[1]));
  }
  return [{ min, max }, ...boxes.filter((b) => sliceBoxAxis(b) < 0)];
}

/** How far (mm) an object drawn as slice box `b` is guessed to reach either side of its slice: half of {@link SLICE_BOX_DEPTH_RATIO} × its larger in-plane size. */
function sliceDepthReachMm(b: VoxelBox, spacingMm: Vec3): number {
  const across = sliceBoxAxis(b);
  const sizeMm = Math.max(...[0, 1, 2].filter((a) => a !== across).map((a) => (b.max[a] - b.min[a] + 1) * spacingMm[a]));
  return (SLICE_BOX_DEPTH_RATIO * sizeMm) / 2;
}

/** A box prompt as a 3-D voxel box: a 2-D box (one slice) reaches {@link SLICE_BOX_DEPTH_RATIO} of its larger in-plane size across slices. */
function boxAs3d(b: VoxelBox, spacingMm: Vec3, dims: Vec3): VoxelBox {
  const across = sliceBoxAxis(b);
  if (across < 0) return b;
  const reach = Math.ceil(sliceDepthReachMm(b, spacingMm) / spacingMm[across]);
  const min = [...b.min] as Vec3;
  const max = [...b.max] as Vec3;
  min[across] = Math.max(0, b.min[across] - reach);
  max[across] = Math.min(dims[across] - 1, b.max[across] + reach);
  return { min, max };
}

// A box drawn on one slice bounds the object's outline there; on the other slices the outline may
// reach beyond it (small lesions shift and widen from slice to slice: 64 MS lesions with such a
// box, after 1 click, 0.656 as a hard bound, 0.673 widened by this share of its size per side,
// at least 2 voxels; no box 0.671; sarcoma within 0.006).
const SLICE_BOX_WIDENING = 0.25;

/** A slice box's 3-D extent (boxAs3d) widened in-plane by {@link SLICE_BOX_WIDENING} of its size per side, as the bound of the object. */
function widenSliceBox(b: VoxelBox, across: number, dims: Vec3): VoxelBox {
  const min = [...b.min] as Vec3;
  const max = [...b.max] as Vec3;
  for (let a = 0; a < 3; a++) {
    if (a === across) continue;
    const g = Math.max(2, Math.ceil(SLICE_BOX_WIDENING * (b.max[a] - b.min[a] + 1)));
    min[a] = Math.max(0, min[a] - g);
    max[a] = Math.min(dims[a] - 1, max[a] + g);
  }
  return { min, max };
}

/**
 * Least Dice between the object so far and the box's own object for the object to count as
 * started from the box (its corrections edit it near the clicks, so it stays close; a whole
 * tumour clicked with its box, whose box alone gives a smaller region, is not: 12 synthetic
 * tumours with a tight box and 3 clicks: 0.799 when every such object counted, 0.883 now).
 */
const BOX_STARTED_MIN_DICE = 0.6;

/** The latest objects of boxes alone per image (a correction click needs its object's again). */
const boxAloneObjects = new PerImageCache<Uint8Array>(2);

/** The object the boxes alone give (with `options`, without the object so far). */
function boxAloneObject(volume: PromptVolume, boxes: readonly VoxelBox[], options: PromptSegmentationOptions): Uint8Array {
  const compute = (): Uint8Array => segmentObject(volume, { points: [], boxes: [...boxes] }, { ...options, previous: undefined }).mask;
  // (A prior is not part of the key: with one, the object is recomputed.)
  return options.prior ? compute() : boxAloneObjects.get(volume.values, JSON.stringify([boxes, { ...options, previous: undefined }]), compute);
}

/** The voxel at the middle of a box. */
function boxCentre(b: VoxelBox): Vec3 {
  return [0, 1, 2].map((a) => Math.round((b.min[a] + b.max[a]) / 2)) as Vec3;
}

/** Box `b` grown to hold every positive click outside it, with that click's reach beyond it. */
function boxHoldingClicks(b: VoxelBox, points: readonly PointPrompt[], centre: Vec3, spacingMm: Vec3, dims: Vec3): VoxelBox {
  let grown = b;
  for (const p of points) {
    if (!p.positive || p.voxel.every((x, a) => x >= b.min[a] && x <= b.max[a])) continue;
    const d = Math.hypot(...[0, 1, 2].map((a) => (p.voxel[a] - centre[a]) * spacingMm[a]));
    grown = unionBox(grown, growBoxMm({ min: p.voxel, max: p.voxel }, clickReachMm(d) - d, spacingMm, dims));
  }
  return grown;
}

// A box's shape prior: the ellipsoid inscribed in the box, 1 inside, 0 outside, with a linear ramp
// of ± this fraction of its semi-axes (objects fill about half their bounding box, as the
// ellipsoid does; the ramp lets the image's edges decide within it).
const BOX_PRIOR_RAMP = 0.2;

/**
 * The boxes' shape prior on `roi` (the largest over the boxes), scaled by `weight`. A box drawn on
 * one slice (`drawn`, one voxel thick) only guesses the object's extent across slices, so its
 * prior counts half.
 */
function boxShapePrior(drawn: readonly VoxelBox[], boxes3d: readonly VoxelBox[], roi: VoxelBox, weight: number): Float32Array {
  const [sx, sy, sz] = boxSize(roi);
  const out = new Float32Array(sx * sy * sz);
  boxes3d.forEach((b, n) => {
    const scale = weight * (sliceBoxAxis(drawn[n]) >= 0 ? 0.5 : 1);
    const c = [0, 1, 2].map((a) => (b.min[a] + b.max[a]) / 2);
    const h = [0, 1, 2].map((a) => (b.max[a] - b.min[a] + 1) / 2);
    // Only voxels within the ellipsoid's outer ramp can be non-zero.
    const lo = [0, 1, 2].map((a) => Math.max(roi.min[a], Math.floor(c[a] - (1 + BOX_PRIOR_RAMP) * h[a])));
    const hi = [0, 1, 2].map((a) => Math.min(roi.max[a], Math.ceil(c[a] + (1 + BOX_PRIOR_RAMP) * h[a])));
    for (let k = lo[2]; k <= hi[2]; k++) {
      const qz = ((k - c[2]) / h[2]) ** 2;
      for (let j = lo[1]; j <= hi[1]; j++) {
        const qyz = qz + ((j - c[1]) / h[1]) ** 2;
        let v = ((k - roi.min[2]) * sy + j - roi.min[1]) * sx + lo[0] - roi.min[0];
        for (let i = lo[0]; i <= hi[0]; i++, v++) {
          const q = Math.sqrt(qyz + ((i - c[0]) / h[0]) ** 2);
          const p = scale * Math.min(1, Math.max(0, (1 + BOX_PRIOR_RAMP - q) / (2 * BOX_PRIOR_RAMP)));
          if (p > out[v]) out[v] = p;
        }
      }
    }
  });
  return out;
}

/** Distance (mm) from voxel centre `c` along unit direction u (mm space) to where the ray leaves box `b` (voxel edges at ±0.5). */
function exitDistanceMm(b: VoxelBox, c: Vec3, u: [number, number, number], spacingMm: Vec3): number {
  let t = Infinity;
  for (let a = 0; a < 3; a++) {
    const step = u[a] / spacingMm[a];
    if (step > 1e-12) t = Math.min(t, (b.max[a] + 0.5 - c[a]) / step);
    else if (step < -1e-12) t = Math.min(t, (b.min[a] - 0.5 - c[a]) / step);
  }
  return Math.max(0, t);
}

/**
 * Segments one object from clicks and boxes (see the file comment for the method).
 *
 * @param image - `values` (i fastest; NaN and infinite voxels read as the lowest value), `dims`, `spacingMm`.
 * @param prompts - `points` ({voxel: [i, j, k], positive}) and `boxes` ({min, max} inclusive
 *   voxel corners; one voxel thick for a box drawn on one slice); at least one positive point or
 *   box. The first positive point (else the first box's centre) is the object's centre.
 * @param options - see {@link PromptSegmentationOptions}; `previous` and `prior` on the full grid.
 * @returns the object's 0/1 mask on the full grid, the ROI, the centre, radii and timings.
 * @throws PromptError for bad prompts, a volume whose size does not match its dims, a `previous`
 *   or `prior` of the wrong type or length, or an option out of range.
 * @example
 * const { mask } = segmentFromPrompts({ values, dims, spacingMm }, { points: [{ voxel: [40, 52, 12], positive: true }], boxes: [] });
 */
export function segmentFromPrompts(image: PromptVolume, prompts: Prompts, options: PromptSegmentationOptions = {}): PromptSegmentation {
  checkVolume(image);
  const volume = { ...image, values: finiteValues(image.values) };
  const { dims } = volume;
  const n = dims[0] * dims[1] * dims[2];
  const { previous, prior } = options;
  if (previous !== undefined && (!(previous instanceof Uint8Array) || previous.length !== n)) {
    throw new PromptError(`previous must be a Uint8Array of ${n} voxels (dims ${dims.join('×')}), got ${previous instanceof Uint8Array ? `${previous.length} voxels` : typeof previous}`);
  }
  if (prior !== undefined && (!(prior instanceof Float32Array) || prior.length !== n)) {
    throw new PromptError(`prior must be a Float32Array of ${n} voxels (dims ${dims.join('×')}), got ${prior instanceof Float32Array ? `${prior.length} voxels` : typeof prior}`);
  }
  const hasObject = previous !== undefined && previous.some((x) => x !== 0);
  const clean = validatePrompts(prompts, dims, hasObject);
  clean.boxes = mergeSliceBoxes(clean.boxes);
  const o = resolvePromptOptions(options);
  const scribbles = rasterizeScribbles(clean, dims);
  if (scribbles.length > 0) return withScribbleVoxels(segmentWithScribbles(volume, clean, options, scribbles), scribbles, dims);
  const lassos = rasterizeLassos(clean, dims);
  // With a lasso the object is recomputed from all prompts (the lasso fixes its slice, and its
  // shape prior the slices around it), then each lasso's slice is set to what it encloses. When
  // the object so far already holds every lasso, the newest prompt is the latest click: it edits
  // the object near itself, as a star's correction does.
  if (lassos.length > 0) {
    const sections = lassoSections(lassos);
    const result = withLassoSlices(segmentObject(volume, clean, options), sections, dims);
    const last = clean.points[clean.points.length - 1];
    if (o.localEditFactor <= 0 || !previous || !hasObject || !last || !sections.every((s) => holdsSection(previous, s, dims))) return result;
    const edit = applyLocalEdit(previous, result.mask, dims, volume.spacingMm, last, { reachFactor: o.localEditFactor, minReachMm: o.localEditMinMm });
    return withLassoSlices({ ...result, mask: edit.mask, roi: edit.roi }, sections, dims);
  }
  // Corrections only: with an object so far and no box, prompts whose positive points all lie
  // outside that object but near it do not describe it from its first click (a caller that sends
  // only the new clicks): the object is re-found from its deepest voxel and each click edits it
  // locally. A positive click far from it starts a new object.
  if (previous && hasObject && clean.boxes.length === 0 && clean.points.every((p) => !p.positive || isNearObject(previous, dims, volume.spacingMm, p.voxel))) {
    const centre = deepestVoxel(previous, dims, volume.spacingMm, clean.points[0].voxel);
    const result = segmentObject(volume, { points: [{ voxel: centre, positive: true }, ...clean.points], boxes: [] }, options);
    let mask = previous;
    let roi: VoxelBox | null = null;
    for (const p of clean.points) {
      const edit = applyLocalEdit(mask, result.mask, dims, volume.spacingMm, p, { reachFactor: o.localEditFactor > 0 ? o.localEditFactor : Infinity, minReachMm: o.localEditMinMm });
      mask = edit.mask;
      roi = roi ? unionBox(roi, edit.roi) : edit.roi;
    }
    return { ...result, mask, roi: roi as VoxelBox };
  }
  // An object started from a box alone, then corrected: its first positive click lies outside
  // the box's own object, and the object so far is that object edited near the clicks (Dice with it
  // at least BOX_STARTED_MIN_DICE). The box's centre stays the object's first click, as it was for
  // the box alone, and every click corrects (before, the first positive correction became the
  // object's centre: on its edge). A click given with the box, or an object so far that is not
  // the box's own (a click inside an object the box alone misses), keeps the click as the centre.
  const firstClick = clean.points.find((p) => p.positive);
  if (firstClick && previous && hasObject && clean.boxes.length > 0) {
    const boxAlone = boxAloneObject(volume, clean.boxes, options);
    if (!boxAlone[(firstClick.voxel[2] * dims[1] + firstClick.voxel[1]) * dims[0] + firstClick.voxel[0]] && diceCoefficient(previous, boxAlone) >= BOX_STARTED_MIN_DICE) {
      clean.points.unshift({ voxel: boxCentre(clean.boxes[0]), positive: true });
    }
  }
  const result = segmentObject(volume, clean, options);
  // A correction click edits a star's object so far near the click only (localEdit.ts); contrast
  // regions (steps 0 and 0a) already edit locally.
  const last = clean.points[clean.points.length - 1];
  if (o.localEditFactor > 0 && !result.contrastRegion && previous && hasObject && last && last !== clean.points.find((p) => p.positive)) {
    const edit = applyLocalEdit(previous, result.mask, dims, volume.spacingMm, last, { reachFactor: o.localEditFactor, minReachMm: o.localEditMinMm });
    return { ...result, mask: edit.mask, roi: edit.roi };
  }
  return result;
}

/** Scribble voxels about this far apart (mm) stand for a stroke where clicks are taken (the thresholded regions; local edits). */
const SCRIBBLE_SAMPLE_MM = 3;
/** … and a negative outline's area where a thresholded region takes clicks. */
const AREA_REGION_SAMPLE_MM = 10;

/**
 * Each scribble of the prompts rasterised, and each negative lasso as the negative stroke of the
 * voxels it encloses (what is not the object there).
 */
function rasterizeScribbles(prompts: Prompts, dims: Vec3): ScribbleVoxels[] {
  const strokes = (prompts.scribbles ?? []).map((s) => rasterizeScribble(s, dims));
  (prompts.lassos ?? []).forEach((l, n) => {
    if (l.positive !== false) return;
    const m = rasterizeLasso(l, dims, `lassos[${n}]`);
    const [u, w] = planeAxes(m.axis);
    const voxels: Vec3[] = [];
    for (let q = 0, y = m.box.min[w]; y <= m.box.max[w]; y++) {
      for (let x = m.box.min[u]; x <= m.box.max[u]; x++, q++) {
        if (!m.inside[q]) continue;
        const p = [0, 0, 0] as Vec3;
        p[m.axis] = m.slice;
        p[u] = x;
        p[w] = y;
        voxels.push(p);
      }
    }
    strokes.push({ positive: false, voxels, area: true });
  });
  return strokes;
}

/**
 * Prompts with scribbles. The object is recomputed from all prompts; with an object so far, the
 * new prompts are those it contradicts (a scribble voxel or a click on the wrong side: the prompts
 * keep no order between clicks and scribbles), and the object so far is edited near each of them
 * only, as a correction click edits it. Without a positive click, box or lasso the object's centre
 * is the object so far's deepest voxel, else the first positive scribble's middle.
 */
function segmentWithScribbles(volume: PromptVolume, clean: Prompts, options: PromptSegmentationOptions, scribbles: readonly ScribbleVoxels[]): PromptSegmentation {
  const { dims, spacingMm } = volume;
  const { previous } = options;
  const hasObject = previous !== undefined && previous.some((x) => x !== 0);
  const anchored = clean.points.some((p) => p.positive) || clean.boxes.length > 0 || (clean.lassos ?? []).some((l) => l.positive !== false);
  const seed = clean.points[0]?.voxel ?? scribbles[0].voxels[0];
  const prompts: Prompts = anchored || !hasObject ? clean : { ...clean, points: [{ voxel: deepestVoxel(previous, dims, spacingMm, seed), positive: true }, ...clean.points] };
  const result = withLassoSlices(segmentObject(volume, prompts, options), lassoSections(rasterizeLassos(clean, dims)), dims);
  // Contrast regions (steps 0 and 0a) already edit the object so far near the clicks they take.
  if (!previous || !hasObject || result.contrastRegion) return result;
  const o = resolvePromptOptions(options);
  const contradicted = (p: PointPrompt): boolean => (previous[(p.voxel[2] * dims[1] + p.voxel[1]) * dims[0] + p.voxel[0]] === 1) !== p.positive;
  const samples = (list: readonly ScribbleVoxels[]): PointPrompt[] => list.flatMap((s) => scribbleSamples(s, spacingMm, SCRIBBLE_SAMPLE_MM).map((voxel) => ({ voxel, positive: s.positive })));
  // Strokes and clicks edit one after the other (each sample's reach from the object as edited so
  // far); a negative outline's area at once, which costs one labelling however large it is.
  const edits = [...samples(scribbles.filter((s) => !s.area)), ...clean.points].filter(contradicted);
  const areaEdits = samples(scribbles.filter((s) => s.area)).filter(contradicted);
  if (edits.length + areaEdits.length === 0) return { ...result, mask: previous.slice() };
  const reach = { reachFactor: o.localEditFactor > 0 ? o.localEditFactor : Infinity, minReachMm: o.localEditMinMm };
  let mask = previous;
  let roi: VoxelBox | null = null;
  const take = (edit: { mask: Uint8Array; roi: VoxelBox }): void => {
    mask = edit.mask;
    roi = roi ? unionBox(roi, edit.roi) : edit.roi;
  };
  for (const p of edits) take(applyLocalEdit(mask, result.mask, dims, spacingMm, p, reach));
  if (areaEdits.length > 0) take(applyLocalEdits(mask, result.mask, dims, spacingMm, areaEdits, reach));
  return { ...result, mask, roi: roi ?? result.roi };
}

/** The object with every positive scribble's voxels set and every negative one's cleared (the user marked them so). */
function withScribbleVoxels(result: PromptSegmentation, scribbles: readonly ScribbleVoxels[], dims: Vec3): PromptSegmentation {
  let roi = result.roi;
  for (const s of scribbles) {
    for (const v of s.voxels) {
      result.mask[(v[2] * dims[1] + v[1]) * dims[0] + v[0]] = s.positive ? 1 : 0;
      roi = unionBox(roi, { min: v, max: v });
    }
  }
  return { ...result, roi };
}

/**
 * How far (mm) a lasso's object is guessed to reach across slices, from the middle of its slice:
 * as far as the ellipsoid of its slice box's prior reaches (the box's 3-D extent, whole slices).
 */
function lassoHalfDepthMm(l: LassoMask, spacingMm: Vec3): number {
  return (Math.ceil(sliceDepthReachMm(l.box, spacingMm) / spacingMm[l.axis]) + 0.5) * spacingMm[l.axis];
}

/** The lasso enclosing the most voxels (the first of equals): the object's middle, as far as the lassos tell. */
function largestLasso(lassos: readonly LassoMask[]): LassoMask {
  const area = (l: LassoMask): number => l.inside.reduce((a, x) => a + x, 0);
  return lassos.reduce((best, l) => (area(l) > area(best) ? l : best));
}

/** Each lasso of the prompts (the object's outlines; negative ones are strokes, above) rasterised on its slice. */
function rasterizeLassos(prompts: Prompts, dims: Vec3): LassoMask[] {
  return (prompts.lassos ?? []).flatMap((l, n) => (l.positive === false ? [] : [rasterizeLasso(l, dims, `lassos[${n}]`)]));
}

/** Whether `mask` is, on the section's slice, what its lassos enclose (within their box, one voxel wider). */
function holdsSection(mask: Uint8Array, s: LassoSection, dims: Vec3): boolean {
  const [u, w] = planeAxes(s.axis);
  const p = [0, 0, 0] as Vec3;
  p[s.axis] = s.slice;
  for (p[w] = Math.max(0, s.box.min[w] - 1); p[w] <= Math.min(dims[w] - 1, s.box.max[w] + 1); p[w]++) {
    for (p[u] = Math.max(0, s.box.min[u] - 1); p[u] <= Math.min(dims[u] - 1, s.box.max[u] + 1); p[u]++) {
      if ((mask[(p[2] * dims[1] + p[1]) * dims[0] + p[0]] === 1) !== sectionEncloses(s, p)) return false;
    }
  }
  return true;
}

/** The object with each lassoed slice set to the voxels its lassos enclose (the user drew the object's section there). */
function withLassoSlices(result: PromptSegmentation, sections: readonly LassoSection[], dims: Vec3): PromptSegmentation {
  const mask = result.mask;
  const roi = sections.reduce((box, s) => unionBox(box, s.box), result.roi);
  for (const s of sections) {
    const [u, w] = planeAxes(s.axis);
    const p = [0, 0, 0] as Vec3;
    p[s.axis] = s.slice;
    for (p[w] = roi.min[w]; p[w] <= roi.max[w]; p[w]++) {
      for (p[u] = roi.min[u]; p[u] <= roi.max[u]; p[u]++) mask[(p[2] * dims[1] + p[1]) * dims[0] + p[0]] = sectionEncloses(s, p) ? 1 : 0;
    }
  }
  return { ...result, mask, roi };
}

/** Whether voxel `p` lies outside `object` (0/1) but within max(10 mm, half the object's largest extent) of it. */
function isNearObject(object: Uint8Array, dims: Vec3, spacingMm: Vec3, p: Vec3): boolean {
  if (object[(p[2] * dims[1] + p[1]) * dims[0] + p[0]]) return false;
  const box = maskBoundingBox(object, dims) as VoxelBox;
  const nearMm = Math.max(10, 0.5 * Math.max(...[0, 1, 2].map((a) => (box.max[a] - box.min[a] + 1) * spacingMm[a])));
  return distanceToOtherLabelMm(object, dims, spacingMm, p, nearMm) < nearMm;
}

/** The deepest voxel (largest mm distance to the outside) of the 26-connected component of `mask` that holds `near`, else of its largest component. */
function deepestVoxel(mask: Uint8Array, dims: Vec3, spacingMm: Vec3, near: Vec3): Vec3 {
  const box = maskBoundingBox(mask, dims) as VoxelBox;
  const boxDims = boxSize(box);
  const local = cropMask(mask, dims, box);
  const { labels, sizes } = labelComponents(local, boxDims, 26);
  const inside = near.every((x, a) => x >= box.min[a] && x <= box.max[a]);
  let keep = inside ? labels[((near[2] - box.min[2]) * boxDims[1] + near[1] - box.min[1]) * boxDims[0] + near[0] - box.min[0]] : 0;
  if (keep === 0) keep = 1 + sizes.indexOf(Math.max(...sizes));
  for (let v = 0; v < local.length; v++) local[v] = labels[v] === keep ? 1 : 0;
  const dt = distanceTransformMm(local, boxDims, spacingMm, false);
  let arg = 0;
  for (let v = 1; v < dt.length; v++) if (dt[v] > dt[arg]) arg = v;
  const i = arg % boxDims[0];
  const j = Math.floor(arg / boxDims[0]) % boxDims[1];
  const k = Math.floor(arg / (boxDims[0] * boxDims[1]));
  return [box.min[0] + i, box.min[1] + j, box.min[2] + k];
}

function segmentObject(volume: PromptVolume, prompts: Prompts, options: PromptSegmentationOptions = {}): PromptSegmentation {
  const tStart = now();
  const clean = validatePrompts(prompts, volume.dims);
  const o = resolvePromptOptions(options);
  const { dims, spacingMm } = volume;
  const n = dims[0] * dims[1] * dims[2];
  const { previous, prior } = options;

  // 1. Centre, ROI, smoothing.
  // A box alone stands for a click at its centre, so that an object that stands out gets its
  // thresholded region (steps 0 and 0a) as from a click (12 synthetic whole tumours, the box
  // alone: Dice 0.633 → 0.715; 64 MS lesions 0.606 → 0.735).
  // With a lasso the object's centre is the largest lasso's deepest voxel, certainly inside it, and
  // every click corrects (clicks before or after the outline alike: the prompts keep no order
  // between clicks and lassos).
  const lassos = rasterizeLassos(clean, dims);
  const scribbles = rasterizeScribbles(clean, dims);
  const positiveScribble = scribbles.find((s) => s.positive);
  const firstPositive: PointPrompt =
    lassos.length > 0
      ? { voxel: lassoCentre(largestLasso(lassos), spacingMm), positive: true }
      : (clean.points.find((p) => p.positive) ?? { voxel: clean.boxes.length > 0 || !positiveScribble ? boxCentre(clean.boxes[0]) : scribbleMiddle(positiveScribble, spacingMm), positive: true });
  const centre = firstPositive.voxel;
  const constraints = clean.points.filter((p) => p !== firstPositive);
  // The thresholded regions (steps 0 and 0a) take a scribble as clicks along it, and a negative
  // outline as clicks over its area, sparser (each negative click there costs a cut of the region).
  const regionConstraints = [
    ...constraints,
    ...scribbles.flatMap((s) => scribbleSamples(s, spacingMm, s.area ? AREA_REGION_SAMPLE_MM : SCRIBBLE_SAMPLE_MM).map((voxel) => ({ voxel, positive: s.positive }))),
  ];
  // The boxes bound the object (a slice box widened off its slice), and a positive click outside
  // them says the object reaches there: they grow to take it. The lassos bound it together, each
  // as its slice box would (they are all sections of the one object).
  const drawnBoxes = clean.boxes.map((b) => boxAs3d(b, spacingMm, dims));
  const lassoBound = lassos.map((l) => widenSliceBox(boxAs3d(l.box, spacingMm, dims), l.axis, dims)).reduce<VoxelBox | null>((a, b) => (a ? unionBox(a, b) : b), null);
  const boxes = [...drawnBoxes.map((b, n) => (sliceBoxAxis(clean.boxes[n]) < 0 ? b : widenSliceBox(b, sliceBoxAxis(clean.boxes[n]), dims))), ...(lassoBound ? [lassoBound] : [])].map((b) =>
    boxHoldingClicks(b, clean.points, centre, spacingMm, dims),
  );
  // A lassoed slice bounds the star's rays only when the centre is not on that slice outside its lassos.
  const raySections = lassoSections(lassos).filter((s) => centre[s.axis] !== s.slice || sectionEncloses(s, centre));

  let regionMinContrast = o.regionMinContrast;
  let starOfFirstClick: PromptSegmentation | null = null;
  // 0a. A large bright object that is not star-shaped (a whole tumour on brain FLAIR, with
  // finger-like oedema): the thresholded region around the first click, at least 0.8 of the radius
  // of the first click's own star (smaller prefixes are texture inside the object) and at most
  // 2.5 times it, holes filled, replaces the star when it stands out. The scale comes from the
  // first click alone so that correction clicks edit the region (below) instead of switching method.
  if (o.regionLargeObjects && firstPositive) {
    // The first click's scale is remembered per image, so that a correction click does not pay
    // for a second star (without a prior, which would change it).
    const key = JSON.stringify([firstPositive.voxel, clean.boxes, { ...options, previous: undefined, prior: undefined }]);
    const remembered = prior === undefined ? firstClickScales.get(volume.values) : undefined;
    const firstOnly = regionConstraints.length > 0 && remembered?.key === key ? null : segmentObject(volume, { points: [firstPositive], boxes: clean.boxes }, { ...options, regionLargeObjects: false, boxPriorWeight: 0 });
    const first = firstOnly ? { key, scaleMm: firstOnly.radiusMm.mean, regionContrast: firstOnly.regionContrast } : (remembered as FirstClickScale);
    if (firstOnly && prior === undefined) firstClickScales.set(volume.values, first);
    // A step-0 region may be the brighter core of a whole tumour: the object around it, twice
    // its radius, is tried too and wins when it is at least as contrasted. A small star may be an
    // inner structure of a large tumour: the tumour is tried at a fixed scale.
    const smallStar = first.regionContrast === null && first.scaleMm <= o.refineMaxRadiusMm;
    const scaleMm = smallStar ? INNER_STRUCTURE_OBJECT_SCALE_MM : first.regionContrast === null ? first.scaleMm : CORE_TO_OBJECT_RADIUS * first.scaleMm;
    if (scaleMm > o.refineMaxRadiusMm) {
      const maxRadiusMm = Math.min(LARGE_REGION_MAX_RADIUS_MM, 2.5 * scaleMm);
      const cr = contrastRegion(volume, centre, regionConstraints, boxes, {
        reachMm: 1.3 * maxRadiusMm + 10,
        minContrast: o.regionMinContrast,
        smoothingMm: o.regionSmoothingMm,
        maxRadiusMm,
        polarity: 'bright',
        sizeExponent: LARGE_REGION_SIZE_EXPONENT,
        minRadiusMm: 0.8 * scaleMm,
        largeObject: true,
      });
      if (cr.refused === null && (first.regionContrast === null || cr.contrast >= CORE_OBJECT_MIN_CONTRAST_SHARE * first.regionContrast)) return regionResult(cr, centre, dims, spacingMm, previous, tStart);
    }
    // A faint small lesion: its region was refused and the star spread far into the brain around
    // it. A less contrasted region is then likelier right than that star.
    if (first.regionContrast === null && first.scaleMm > o.regionMaxRadiusMm) {
      regionMinContrast = Math.min(regionMinContrast, FAINT_REGION_MIN_CONTRAST);
      starOfFirstClick = firstOnly;
    }
    // (Otherwise the first click alone gives what step 0 or the star would give.)
    else if (regionConstraints.length === 0 && firstOnly) return firstOnly;
  }

  // 0. An object that stands out from its surroundings within regionReachMm of the click (a
  // bright lesion on FLAIR or PET) is the thresholded region around it; the star handles the rest.
  if (o.regionReachMm > 0 && firstPositive) {
    const cr = contrastRegion(volume, centre, regionConstraints, boxes, {
      reachMm: o.regionReachMm,
      minContrast: regionMinContrast,
      smoothingMm: o.regionSmoothingMm,
      maxRadiusMm: o.regionMaxRadiusMm,
      polarity: o.regionPolarity,
      sizeExponent: SMALL_REGION_SIZE_EXPONENT,
      minRadiusMm: 0,
      largeObject: false,
    });
    if (cr.refused === null) {
      const region = regionResult(cr, centre, dims, spacingMm, previous, tStart);
      // A region barely resolved on its grid may be a hot spot or a noise speck inside a larger
      // object (a 6-voxel hot spot of 5.5 mm voxels in a 426 ml PET tumour): where the star from
      // the same clicks finds an object over three times its radius (and over regionMaxRadiusMm),
      // the star answers. (Not on whole-brain MR grids, whose faint small lesions are better
      // served by their region than by a star spread into the brain.)
      if (!o.regionLargeObjects && region.radiusMm.mean < RESOLVED_RADIUS_VOXELS * Math.max(...spacingMm)) {
        const star = segmentObject(volume, clean, { ...options, regionReachMm: 0 });
        if (star.radiusMm.mean > Math.max(3 * region.radiusMm.mean, o.regionMaxRadiusMm)) return star;
      }
      return region;
    }
    if (regionConstraints.length === 0 && starOfFirstClick) return starOfFirstClick;
  }

  const minSpacing = Math.min(...spacingMm);
  const maxSpacing = Math.max(...spacingMm);
  /** A click's offset from the centre, in mm per axis. */
  const offsetMm = (p: { voxel: Vec3 }): number[] => [0, 1, 2].map((a) => (p.voxel[a] - centre[a]) * spacingMm[a]);
  // Positive clicks farther out than maxRadiusMm widen the reach so that they can be honoured.
  let reachMm = o.maxRadiusMm;
  const positiveReach = [...constraints.filter((p) => p.positive), ...scribbles.filter((s) => s.positive).flatMap((s) => s.voxels.map((voxel) => ({ voxel })))];
  for (const p of positiveReach) reachMm = Math.max(reachMm, clickReachMm(Math.hypot(...offsetMm(p))));
  const roi = growBoxMm({ min: centre, max: centre }, reachMm + maxSpacing, spacingMm, dims);
  const roiDims = boxSize(roi);
  const image = smoothedRoi(volume, roi, o.smoothingMm);
  const modelPriorRoi = prior ? cropToFloat32(prior, dims, roi) : undefined;
  const boxPriorRoi = drawnBoxes.length > 0 && o.boxPriorWeight > 0 ? boxShapePrior(clean.boxes, drawnBoxes, roi, o.boxPriorWeight) : undefined;
  const lassoPriorRoi = lassos.length > 0 && o.lassoPriorWeight > 0 ? lassoShapePrior(lassos, roi, spacingMm, (l) => lassoHalfDepthMm(l, spacingMm), o.lassoPriorWeight, BOX_PRIOR_RAMP) : undefined;
  const priors = [modelPriorRoi, boxPriorRoi, lassoPriorRoi].filter((x): x is Float32Array => x !== undefined);
  const priorRoi = priors.length > 1 ? priors[0].map((x, v) => priors.reduce((a, q) => a + q[v], 0)) : priors[0];
  const c: Vec3 = [centre[0] - roi.min[0], centre[1] - roi.min[1], centre[2] - roi.min[2]];
  const tSmooth = now();

  // 2. Radial profiles and edge strengths.
  const rays = sphereRays(o.rayCount);
  const R = rays.count;
  const step = minSpacing / 2;
  const samples = Math.floor(reachMm / step) + 1;
  const halfWidth = o.edgeHalfWidthMm > 0 ? o.edgeHalfWidthMm : Math.max(1, maxSpacing / 2);
  const hk = Math.max(1, Math.round(halfWidth / step));
  const profile = new Float64Array(R * samples);
  const priorProfile = priorRoi ? new Float64Array(R * samples) : undefined;
  const valid = new Int32Array(R); // samples inside the ROI along each ray
  for (let r = 0; r < R; r++) {
    const ux = rays.directions[3 * r] / spacingMm[0];
    const uy = rays.directions[3 * r + 1] / spacingMm[1];
    const uz = rays.directions[3 * r + 2] / spacingMm[2];
    let i = 0;
    for (; i < samples; i++) {
      const t = i * step;
      const x = c[0] + t * ux;
      const y = c[1] + t * uy;
      const z = c[2] + t * uz;
      if (x < 0 || y < 0 || z < 0 || x > roiDims[0] - 1 || y > roiDims[1] - 1 || z > roiDims[2] - 1) break;
      profile[r * samples + i] = trilinear(image, roiDims, x, y, z);
      if (priorProfile && priorRoi) priorProfile[r * samples + i] = trilinear(priorRoi, roiDims, x, y, z);
    }
    valid[r] = i;
  }
  const edge = new Float64Array(R * samples);
  const meanEdge = new Float64Array(samples);
  const meanCount = new Float64Array(samples);
  for (let r = 0; r < R; r++) {
    const base = r * samples;
    for (let i = 0; i + hk < valid[r]; i++) {
      const d = profile[base + Math.max(0, i - hk)] - profile[base + i + hk];
      edge[base + i] = d;
      meanCount[i] += 1;
    }
  }
  // Edge strengths in noise units: the median absolute edge along all rays (a flat image has none).
  const absEdges: number[] = [];
  let level = 0;
  for (let r = 0; r < R; r++) {
    for (let i = 0; i + hk < valid[r]; i += 3) {
      absEdges.push(Math.abs(edge[r * samples + i]));
      level = Math.max(level, Math.abs(profile[r * samples + i]));
    }
  }
  const noise = Math.max(1e-9, 1e-6 * level, absEdges.length > 0 ? median(absEdges) : 0);
  // With capped edges the starting sphere's mean edge is capped too, less tightly (it averages
  // over every ray): otherwise the few rays that cross bone or air decide where the star starts.
  const startCap = o.edgeCap > 0 ? START_EDGE_CAP_FACTOR * o.edgeCap * noise : Infinity;
  for (let r = 0; r < R; r++) for (let i = 0; i + hk < valid[r]; i++) meanEdge[i] += Math.max(-startCap, Math.min(startCap, edge[r * samples + i]));
  const priorDrop = (base: number, i: number): number =>
    priorProfile ? (o.priorWeight * (priorProfile[base + Math.max(0, i - hk)] - priorProfile[base + i + hk])) / 0.1 : 0;
  // 3. The starting sphere: the radius whose mean edge (plus the prior's mean drop) is most
  // significant: |mean| × r^exponent, since the noise of a mean over a sphere falls with its area.
  const minIndex = Math.max(1, Math.round((0.75 * minSpacing) / step));
  const meanPrior = new Float64Array(samples);
  if (priorProfile) {
    for (let r = 0; r < R; r++) for (let i = 0; i + hk < valid[r]; i++) meanPrior[i] += priorDrop(r * samples, i);
  }
  const searchEnd = Math.min(samples, Math.floor(o.maxRadiusMm / step) + 1);
  const startingSphere = (fromIndex: number): number => {
    const scores: number[] = [];
    let top = 0;
    for (let i = fromIndex; i < searchEnd; i++) {
      if (meanCount[i] < R / 2) break;
      const m = meanEdge[i] / meanCount[i];
      const strength = (o.starPolarity === 'bright' ? Math.max(0, m) : Math.abs(m)) / noise + Math.max(0, meanPrior[i] / meanCount[i]);
      scores.push(strength * Math.pow(i * step, o.radiusSignificanceExponent));
      top = Math.max(top, scores[scores.length - 1]);
    }
    // The innermost local maximum that reaches startPeakFraction of the best: a small lesion's
    // own edge comes before the stronger edges of the organ around it.
    for (let q = 0; q < scores.length; q++) {
      const isPeak = (q === 0 || scores[q] >= scores[q - 1]) && (q === scores.length - 1 || scores[q] >= scores[q + 1]);
      if (isPeak && scores[q] >= o.startPeakFraction * top && scores[q] > 0) return Math.max(minIndex, fromIndex + q);
    }
    return Math.max(minIndex, Math.min(fromIndex, searchEnd - 1));
  };
  const rawEdge = edge;
  const energy = new Float64Array(R * samples);
  const setEnergy = (startIndex: number): void => {
    const sign = meanEdge[startIndex] >= 0 ? 1 : -1;
    for (let r = 0; r < R; r++) {
      const base = r * samples;
      for (let i = 0; i < samples; i++) {
        let e = i + hk < valid[r] ? Math.max(0, (sign * rawEdge[base + i]) / noise) : 0;
        // Capped, every clear edge counts alike: on CT the tumour's edge against muscle is a few
        // noise units, fat, bone and air edges tens, and uncapped they pull the rays out to them.
        // A capped edge is scaled by its share of the largest edge within the detector's
        // half-width along the ray, so that it still peaks where the intensity steps: flat, it
        // spanned the detector's width and the rays settled anywhere on it (a clean bright
        // ellipsoid 0.84 instead of 0.99 after one click).
        if (o.edgeCap > 0 && e > o.edgeCap) {
          let peak = e;
          for (let q = Math.max(0, i - hk); q <= i + hk && q + hk < valid[r]; q++) peak = Math.max(peak, (sign * rawEdge[base + q]) / noise);
          e = (o.edgeCap * e) / peak;
        }
        if (priorProfile && i + hk < valid[r]) e += Math.max(0, priorDrop(base, i));
        energy[base + i] = e;
      }
    }
  };

  // 4. Radii: strongest edges under a smoothness penalty (iterated conditional modes), first
  // with the box limits only, then after each correction click in order. A click is the middle of
  // an error region (the robot user's rule, and what people do): a positive click at distance d
  // where the radius was r moves the lower bound to d + max(1 mm, (d − r) / 2), a negative one
  // the upper bound to d − max(1 mm, (r − d) / 2) (× the cosine of each ray's angle to the click),
  // on the rays within clickConeDeg of its direction and within clickPatchFactor × |d − r|
  // (at least clickPatchMinMm) of it laterally. A positive click beyond regrowRatio × r means the
  // starting sphere was a smaller structure inside the object: the starting sphere is then sought
  // from 0.8 d outwards and all clicks are applied again.
  const lo = new Int32Array(R);
  const hi = new Int32Array(R);
  // Each ray stops at maxRadiusMm, except towards a positive click farther out: the rays within
  // 90° of it may reach as far as the widened ROI (× the cosine of their angle to the click), so
  // that a tumour longer than the reach is followed to its ends along the click's side, not only
  // inside the click's cone (sarcoma MR T1, all 38, after 3 clicks 0.777 → 0.785).
  const maxIndex = Math.floor(o.maxRadiusMm / step);
  const capIndex = new Int32Array(R).fill(maxIndex);
  for (const p of positiveReach) {
    const w = offsetMm(p);
    const d = Math.hypot(w[0], w[1], w[2]);
    if (d < step) continue;
    for (let r = 0; r < R; r++) {
      const cosG = (rays.directions[3 * r] * w[0] + rays.directions[3 * r + 1] * w[1] + rays.directions[3 * r + 2] * w[2]) / d;
      if (cosG > 0) capIndex[r] = Math.max(capIndex[r], Math.floor((cosG * clickReachMm(d)) / step));
    }
  }
  const tRays = now();
  let radius = new Int32Array(R);
  const K = rays.neighbourCount;
  const optimise = (): void => {
    for (let it = 0; it < o.iterations; it++) {
      const next = new Int32Array(R);
      let changed = 0;
      for (let r = 0; r < R; r++) {
        let sum = 0;
        for (let q = 0; q < K; q++) sum += radius[rays.neighbours[r * K + q]];
        const mean = sum / K;
        const tau = Math.max(1 / step, o.smoothnessFraction * mean);
        const from = Math.max(lo[r], Math.floor(mean - 4 * tau));
        const to = Math.min(hi[r], Math.ceil(mean + 4 * tau));
        let best = Math.min(hi[r], Math.max(lo[r], Math.round(mean)));
        let bestScore = -Infinity;
        for (let i = from; i <= to; i++) {
          const z = (i - mean) / tau;
          const score = energy[r * samples + i] - o.smoothnessWeight * z * z;
          if (score > bestScore) {
            bestScore = score;
            best = i;
          }
        }
        next[r] = best;
        if (best !== radius[r]) changed++;
      }
      radius = next;
      if (changed === 0) break;
    }
  };
  const cosCone = Math.cos((o.clickConeDeg * Math.PI) / 180);
  // A scribble voxel bounds the rays within the rays' own spacing of its direction (the star interpolates between them).
  const cosScribble = Math.cos(Math.sqrt((4 * Math.PI) / R));
  /** Runs the optimisation from a starting sphere searched from `fromIndex`; returns a new `fromIndex` when a click asks for a regrow, else null. */
  const solve = (fromIndex: number, mayRegrow: boolean): number | null => {
    const startIndex = startingSphere(fromIndex);
    setEnergy(startIndex);
    lo.fill(minIndex);
    for (let r = 0; r < R; r++) hi[r] = Math.max(minIndex, Math.min(capIndex[r], valid[r] - 1));
    for (const b of boxes) {
      for (let r = 0; r < R; r++) {
        const u: [number, number, number] = [rays.directions[3 * r], rays.directions[3 * r + 1], rays.directions[3 * r + 2]];
        const exit = Math.floor(exitDistanceMm(b, centre, u, spacingMm) / step);
        hi[r] = Math.max(0, Math.min(hi[r], exit));
        if (lo[r] > hi[r]) lo[r] = hi[r];
      }
    }
    // A lasso's slice: the ray is object where the lasso encloses it, and ends where it leaves it.
    if (raySections.length > 0) {
      for (let r = 0; r < R; r++) {
        const b = lassoRayBounds(raySections, centre, [rays.directions[3 * r], rays.directions[3 * r + 1], rays.directions[3 * r + 2]], spacingMm, step, valid[r]);
        if (!b) continue;
        hi[r] = Math.max(0, Math.min(hi[r], b.hi));
        lo[r] = Math.min(hi[r], Math.max(lo[r], b.lo));
      }
    }
    radius = new Int32Array(R);
    for (let r = 0; r < R; r++) radius[r] = Math.min(hi[r], Math.max(lo[r], startIndex));
    optimise();
    // A scribble's voxels: the rays nearest each voxel's direction reach it (positive) or end half
    // a voxel before it (negative). (Taking a voxel the star had on the wrong side as the middle
    // of an error, as a click is, measured no better: docs/interactive-segmentation.md.)
    if (scribbles.length > 0) {
      for (const s of scribbles) {
        for (const v of s.voxels) {
          const w = offsetMm({ voxel: v });
          const d = Math.hypot(w[0], w[1], w[2]);
          if (d < step) continue;
          for (let r = 0; r < R; r++) {
            const cosG = (rays.directions[3 * r] * w[0] + rays.directions[3 * r + 1] * w[1] + rays.directions[3 * r + 2] * w[2]) / d;
            if (cosG < cosScribble) continue;
            if (s.positive) {
              lo[r] = Math.min(valid[r] - 1, Math.max(lo[r], Math.ceil((cosG * d) / step)));
              if (hi[r] < lo[r]) hi[r] = lo[r];
            } else {
              hi[r] = Math.max(0, Math.min(hi[r], Math.floor((cosG * d - minSpacing / 2) / step)));
              if (lo[r] > hi[r]) lo[r] = hi[r];
            }
            radius[r] = Math.min(hi[r], Math.max(lo[r], radius[r]));
          }
        }
      }
      optimise();
    }
    for (const p of constraints) {
      const w = offsetMm(p);
      const d = Math.hypot(w[0], w[1], w[2]);
      if (d < step) continue;
      const current = radiusInDirection(rays, Float64Array.from(radius, (i) => i * step), w[0], w[1], w[2]);
      if (mayRegrow && p.positive && d > o.regrowRatio * current && d - current > 3 && Math.round((0.8 * d) / step) > fromIndex) {
        return Math.round((0.8 * d) / step);
      }
      // The patch of rays a click moves: within clickConeDeg, and laterally no wider than a multiple of
      // the error the click implies (clickPatchFactor × |d − r|, at least clickPatchMinMm).
      const patchMm = Math.max(o.clickPatchMinMm, o.clickPatchFactor * Math.abs(d - current));
      for (let r = 0; r < R; r++) {
        const cosG = (rays.directions[3 * r] * w[0] + rays.directions[3 * r + 1] * w[1] + rays.directions[3 * r + 2] * w[2]) / d;
        if (cosG < cosCone || d * Math.sqrt(Math.max(0, 1 - cosG * cosG)) > patchMm) continue;
        if (p.positive) {
          const bound = cosG * (d + Math.max(1, (d - current) / 2));
          lo[r] = Math.min(valid[r] - 1, Math.max(lo[r], Math.ceil(bound / step)));
          if (hi[r] < lo[r]) hi[r] = lo[r];
        } else {
          const bound = cosG * (d - Math.max(1, (current - d) / 2));
          hi[r] = Math.max(0, Math.min(hi[r], Math.floor(bound / step)));
          if (lo[r] > hi[r]) lo[r] = hi[r];
        }
        radius[r] = Math.min(hi[r], Math.max(lo[r], radius[r]));
      }
      optimise();
    }
    return null;
  };
  let fromIndex = minIndex;
  for (let attempt = 0; ; attempt++) {
    const regrow = solve(fromIndex, attempt < 3);
    if (regrow === null) break;
    fromIndex = regrow;
  }
  // A star of a voxel or two has found no edge of its own (a click in a necrotic core on coarse
  // PET voxels): the starting sphere is sought again from two voxels out.
  const degenerateMm = o.restartBelowRadiusVoxels * maxSpacing;
  if (degenerateMm > 0 && radius.reduce((a, b) => a + b, 0) * step / R < degenerateMm) {
    const again = Math.ceil((2 * maxSpacing) / step);
    if (again > fromIndex && again < searchEnd) {
      fromIndex = again;
      for (let attempt = 0; ; attempt++) {
        const regrow = solve(fromIndex, attempt < 3);
        if (regrow === null) break;
        fromIndex = regrow;
      }
    }
  }
  const radiiMm = Float64Array.from(radius, (i) => i * step);
  const tOpt = now();

  // 5. Rasterise the star-shaped object in its bounding box (wide enough for step 6's reach),
  // sampling the object's core and the shell just outside it on the way.
  let maxR = 0;
  let sumR = 0;
  let minR = Infinity;
  for (const x of radiiMm) {
    maxR = Math.max(maxR, x);
    minR = Math.min(minR, x);
    sumR += x;
  }
  const reachMmPerRay = Float64Array.from(radiiMm, (x, r) => Math.max(x, Math.min(hi[r] * step, o.refineReachFactor * x + 2)));
  let maxReach = maxR;
  for (const x of reachMmPerRay) maxReach = Math.max(maxReach, x);
  const shellMm = (x: number): number => Math.max(3, 0.3 * x);
  const objectBox = growBoxMm({ min: centre, max: centre }, Math.max(maxReach, maxR + shellMm(maxR)) + maxSpacing, spacingMm, dims);
  const [bx, by, bz] = boxSize(objectBox);
  const region = new Uint8Array(bx * by * bz);
  const candidate = new Uint8Array(bx * by * bz);
  const core: number[] = [];
  const shell: number[] = [];
  const inner = 0.5 * minSpacing;
  // Core and shell medians from about 30,000 voxels at most (every 2^n-th voxel).
  const sampleMask = (1 << Math.max(0, Math.ceil(Math.log2((bx * by * bz) / 30000)))) - 1;
  let v = 0;
  for (let k = 0; k < bz; k++) {
    const z = (objectBox.min[2] + k - centre[2]) * spacingMm[2];
    for (let j = 0; j < by; j++) {
      const y = (objectBox.min[1] + j - centre[1]) * spacingMm[1];
      for (let i = 0; i < bx; i++, v++) {
        const x = (objectBox.min[0] + i - centre[0]) * spacingMm[0];
        const d = Math.sqrt(x * x + y * y + z * z);
        if (d <= inner) {
          region[v] = 1;
          candidate[v] = 1;
          continue;
        }
        if (d > maxReach && d > maxR + shellMm(maxR)) continue;
        if (boxes.length > 0) {
          const g = [objectBox.min[0] + i, objectBox.min[1] + j, objectBox.min[2] + k];
          if (!boxes.some((b) => g.every((c, a) => c >= b.min[a] && c <= b.max[a]))) continue;
        }
        const rDir = radiusInDirection(rays, radiiMm, x, y, z);
        const sampled = (v & sampleMask) === 0;
        if (d <= rDir) {
          region[v] = 1;
          candidate[v] = 1;
          if (sampled && d <= 0.6 * rDir) core.push(volume.values[((objectBox.min[2] + k) * dims[1] + objectBox.min[1] + j) * dims[0] + objectBox.min[0] + i]);
          continue;
        }
        if (sampled && d > rDir + 1 && d <= rDir + shellMm(rDir)) shell.push(volume.values[((objectBox.min[2] + k) * dims[1] + objectBox.min[1] + j) * dims[0] + objectBox.min[0] + i]);
        if (d <= maxReach && d <= radiusInDirection(rays, reachMmPerRay, x, y, z)) candidate[v] = 1;
      }
    }
  }
  // 6. Intensity refinement where the object stands out from its surroundings (e.g. bright
  // lesions on FLAIR or PET): when the medians of the core and of the outer shell differ by at
  // least refineMinContrast robust standard deviations, the object becomes the voxels on the
  // object's side of their midpoint, connected to the centre, within refineReachFactor × the
  // radius (+ 2 mm, and never past a negative click's bound).
  let refined = false;
  if (core.length >= 4 && shell.length >= 4 && sumR / R <= o.refineMaxRadiusMm) {
    const mIn = median(core);
    const mOut = median(shell);
    const spread = Math.max(1e-9, 1.4826 * Math.max(median(core.map((x) => Math.abs(x - mIn))), median(shell.map((x) => Math.abs(x - mOut)))));
    if (Math.abs(mIn - mOut) / spread >= o.refineMinContrast) {
      const threshold = (mIn + mOut) / 2;
      const up = mIn > mOut;
      const grown = new Uint8Array(region.length);
      const stack: number[] = [];
      const start = ((centre[2] - objectBox.min[2]) * by + centre[1] - objectBox.min[1]) * bx + centre[0] - objectBox.min[0];
      grown[start] = 1;
      stack.push(start);
      const bxy = bx * by;
      let count = 0;
      while (stack.length > 0) {
        const u = stack.pop() as number;
        count++;
        const i = u % bx;
        const j = ((u - i) / bx) % by;
        const k = (u - i - j * bx) / bxy;
        const visit = (w: number): void => {
          if (grown[w] || !candidate[w]) return;
          const gi = w % bx;
          const gj = ((w - gi) / bx) % by;
          const gk = (w - gi - gj * bx) / bxy;
          const value = volume.values[((objectBox.min[2] + gk) * dims[1] + objectBox.min[1] + gj) * dims[0] + objectBox.min[0] + gi];
          if (up ? value > threshold : value < threshold) {
            grown[w] = 1;
            stack.push(w);
          }
        };
        if (i > 0) visit(u - 1);
        if (i < bx - 1) visit(u + 1);
        if (j > 0) visit(u - bx);
        if (j < by - 1) visit(u + bx);
        if (k > 0) visit(u - bxy);
        if (k < bz - 1) visit(u + bxy);
      }
      if (count > 1) {
        for (const p of constraints) {
          if (!p.positive) continue;
          const w = ((p.voxel[2] - objectBox.min[2]) * by + p.voxel[1] - objectBox.min[1]) * bx + p.voxel[0] - objectBox.min[0];
          if (p.voxel.every((x, a) => x >= objectBox.min[a] && x <= objectBox.max[a])) grown[w] = 1;
        }
        region.set(grown);
        refined = true;
      }
    }
  }
  const mask = previous ? Uint8Array.from(previous) : new Uint8Array(n);
  pasteMask(mask, dims, objectBox, region);
  const tEnd = now();
  return {
    mask,
    roi: objectBox,
    centreVoxel: centre,
    radiusMm: { min: minR, mean: sumR / R, max: maxR },
    intensityRefined: refined,
    contrastRegion: false,
    regionContrast: null,
    timingsMs: { smoothing: tSmooth - tStart, rays: tRays - tSmooth, optimisation: tOpt - tRays, rasterising: tEnd - tOpt, total: tEnd - tStart },
  };
}

/** The result for an object found as a contrast region (step 0 or 0a). */
function regionResult(cr: ContrastRegion, centre: Vec3, dims: Vec3, spacingMm: Vec3, previous: Uint8Array | undefined, tStart: number): PromptSegmentation {
  const mask = previous ? Uint8Array.from(previous) : new Uint8Array(dims[0] * dims[1] * dims[2]);
  pasteMask(mask, dims, cr.box, cr.region);
  let count = 0;
  const [bx, by, bz] = boxSize(cr.box);
  let farthest2 = 0;
  for (let k = 0, v = 0; k < bz; k++) {
    const dz = (cr.box.min[2] + k - centre[2]) * spacingMm[2];
    for (let j = 0; j < by; j++) {
      const dy = (cr.box.min[1] + j - centre[1]) * spacingMm[1];
      for (let i = 0; i < bx; i++, v++) {
        if (!cr.region[v]) continue;
        count++;
        const dx = (cr.box.min[0] + i - centre[0]) * spacingMm[0];
        farthest2 = Math.max(farthest2, dx * dx + dy * dy + dz * dz);
      }
    }
  }
  const farthest = Math.sqrt(farthest2);
  const equivalentMm = equivalentRadiusMm(count, spacingMm[0] * spacingMm[1] * spacingMm[2]);
  const total = now() - tStart;
  return {
    mask,
    roi: cr.box,
    centreVoxel: centre,
    radiusMm: { min: Math.min(equivalentMm, farthest), mean: equivalentMm, max: farthest },
    intensityRefined: false,
    contrastRegion: true,
    regionContrast: cr.contrast,
    timingsMs: { smoothing: 0, rays: 0, optimisation: 0, rasterising: total, total },
  };
}
