// Options, inputs and results of the star-shaped click-guided segmentation (segmentFromPrompts.ts):
// the defaults and the checks that name a bad option and its value.
import type { Vec3 } from '../volume/vec3';
import type { VoxelBox } from './box';
import { PromptError } from './errors';

/** The image the prompts refer to: values i fastest, grid size and voxel size. */
export interface PromptVolume {
  values: ArrayLike<number>;
  dims: Vec3;
  spacingMm: Vec3;
}

/** Options of {@link segmentFromPrompts}; every numeric field has a default. */
export interface PromptSegmentationOptions {
  /** The object so far (0/1 on the full grid): kept outside the ROI of the new result. */
  previous?: Uint8Array;
  /** Lesion probability (0..1 on the full grid) from a model: its drops along a ray add to the edge strength. */
  prior?: Float32Array;
  /** Weight of the prior's edge (a probability drop of 0.1 counts like one noise unit of image edge × weight); default 1. */
  priorWeight?: number;
  /** Weight of a box's shape prior (the ellipsoid inscribed in the box, as a probability like `prior`'s); default 4 (0 = boxes only bound the object). */
  boxPriorWeight?: number;
  /** Weight of a lasso's shape prior (its outline swept across slices, shrinking to a point at the depth a slice box guesses); default 4 (0 = lassos only bound the object and set their slice). */
  lassoPriorWeight?: number;
  /** Largest object radius from the centre click, mm; default 60 (objects up to 120 mm across; correction clicks farther out extend it). */
  maxRadiusMm?: number;
  /** Gaussian smoothing σ of the image, mm; default 1. */
  smoothingMm?: number;
  /** Half-width of the edge detector along a ray, mm; default 0 = max(1 mm, half the largest voxel size). */
  edgeHalfWidthMm?: number;
  /** Number of rays; default 400. */
  rayCount?: number;
  /** Edge strength (noise units) above which every edge of a ray counts the same; 0 = no cap (default). */
  edgeCap?: number;
  /** Weight of the smoothness penalty between neighbouring rays (noise units); default 1. */
  smoothnessWeight?: number;
  /** Radius deviation from the neighbours' mean that costs `smoothnessWeight`, as a fraction of that mean (at least 1 mm); default 0.15. */
  smoothnessFraction?: number;
  /** Half-angle of the cone of rays a correction click constrains, degrees; default 45. */
  clickConeDeg?: number;
  /** Iterations of the radius optimisation; default 20. */
  iterations?: number;
  /** A correction click moves the rays within clickPatchFactor × (its distance to the current surface) of it laterally; default 2. */
  clickPatchFactor?: number;
  /** … and at least this many mm; default 5. */
  clickPatchMinMm?: number;
  /** A positive click farther than this × the current radius in its direction restarts from a larger sphere; default 1.5. */
  regrowRatio?: number;
  /** Contrast (core vs shell medians, in robust standard deviations) from which the intensity refinement applies; default 1.5 (1e9 = never). */
  refineMinContrast?: number;
  /** The intensity refinement applies only to stars of at most this mean radius, mm (larger objects keep the star); default 10. */
  refineMaxRadiusMm?: number;
  /** How far the intensity refinement may reach, as a multiple of the star's radius (+ 2 mm); default 1.3. */
  refineReachFactor?: number;
  /** The starting sphere is the innermost peak of the sphere score reaching this fraction of its maximum; default 0.3 (1 = the maximum). */
  startPeakFraction?: number;
  /** The sphere score is |mean edge| × radius^exponent (1 would be the significance of a mean over the sphere, 0 the plain edge); default 0.5. */
  radiusSignificanceExponent?: number;
  /** A star whose mean radius is below this many (largest) voxel sizes found no edge of its own: its starting sphere is sought again from two voxels out; default 1.5 (0 = never). */
  restartBelowRadiusVoxels?: number;
  /** Reach of the contrast region (step 0), mm: an object that stands out within it is taken as a thresholded region; default 30 (0 = never). */
  regionReachMm?: number;
  /** Least contrast with its shell (robust SDs) for the contrast region to be used; default 2.5. */
  regionMinContrast?: number;
  /** Which objects step 0 takes: 'bright' (default: brighter than their surroundings, as lesions on FLAIR and PET are), 'dark', or 'both'. */
  regionPolarity?: 'bright' | 'dark' | 'both';
  /**
   * Which edges the star's starting sphere may take: 'any' (default: the strongest edge, rising or
   * falling) or 'bright' (only where intensity falls outwards: a click in the dark core of a bright
   * object starts at the object's outer edge, not at its core's).
   */
  starPolarity?: 'any' | 'bright';
  /** Gaussian smoothing σ before the contrast region's threshold, mm; default 0.5. */
  regionSmoothingMm?: number;
  /** The contrast region is used only when the first click's region has at most this equivalent-sphere radius, mm; default 10. */
  regionMaxRadiusMm?: number;
  /**
   * When the first click's own star is larger than refineMaxRadiusMm, a bright thresholded region
   * around it (holes filled, 0.8–2.5× that star's radius) replaces the star if it stands out:
   * whole tumours on brain FLAIR, which are not star-shaped (step 0a); default false.
   */
  regionLargeObjects?: boolean;
  /** A correction click changes the star's object so far only within this multiple of its distance to the object's surface (0 = the whole object is recomputed); default 3. */
  localEditFactor?: number;
  /** … and at least this many mm; default 5. */
  localEditMinMm?: number;
}

/** Milliseconds spent in each step. */
export interface PromptTimingsMs {
  smoothing: number;
  rays: number;
  optimisation: number;
  rasterising: number;
  total: number;
}

/** Result of {@link segmentFromPrompts}. */
export interface PromptSegmentation {
  /** The object: 0/1 on the full grid. */
  mask: Uint8Array;
  /** The box the object was computed in; `mask` equals `previous` (or 0) outside it. */
  roi: VoxelBox;
  /** The centre of the star-shaped object (voxel). */
  centreVoxel: Vec3;
  /** Smallest, mean and largest radius of the star-shaped object, mm. */
  radiusMm: { min: number; mean: number; max: number };
  /** Whether step 6 (intensity refinement) replaced the star-shaped object. */
  intensityRefined: boolean;
  /** Whether the object is the contrast region of step 0 (then there is no star: radii describe the region). */
  contrastRegion: boolean;
  /** The region's contrast with its shell in robust SDs (steps 0 and 0a); null for a star. */
  regionContrast: number | null;
  timingsMs: PromptTimingsMs;
}

export type ResolvedOptions = Required<Omit<PromptSegmentationOptions, 'previous' | 'prior'>>;

const DEFAULTS: ResolvedOptions = {
  priorWeight: 1,
  boxPriorWeight: 4,
  lassoPriorWeight: 4,
  maxRadiusMm: 60,
  smoothingMm: 1,
  edgeHalfWidthMm: 0,
  rayCount: 400,
  edgeCap: 0,
  smoothnessWeight: 1,
  smoothnessFraction: 0.15,
  clickConeDeg: 45,
  iterations: 20,
  radiusSignificanceExponent: 0.5,
  clickPatchFactor: 2,
  clickPatchMinMm: 5,
  regrowRatio: 1.5,
  refineMinContrast: 1.5,
  refineReachFactor: 1.3,
  refineMaxRadiusMm: 10,
  startPeakFraction: 0.3,
  restartBelowRadiusVoxels: 1.5,
  regionReachMm: 30,
  regionMinContrast: 2.5,
  regionPolarity: 'bright',
  starPolarity: 'any',
  regionSmoothingMm: 0.5,
  regionMaxRadiusMm: 10,
  regionLargeObjects: false,
  localEditFactor: 3,
  localEditMinMm: 5,
};

function checkRange(name: string, value: number, min: number, max: number, integer = false): void {
  if (typeof value !== 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    throw new PromptError(`option ${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

/** Fills in defaults and checks every option; throws PromptError naming the option and its value. */
export function resolvePromptOptions(opts: PromptSegmentationOptions = {}): ResolvedOptions {
  const given = Object.fromEntries(Object.entries(opts).filter(([k, v]) => v !== undefined && k !== 'previous' && k !== 'prior'));
  for (const k of Object.keys(given)) {
    if (!(k in DEFAULTS)) throw new PromptError(`unknown option ${k} (known: previous, prior, ${Object.keys(DEFAULTS).join(', ')})`);
  }
  const o = { ...DEFAULTS, ...given } as ResolvedOptions;
  checkRange('priorWeight', o.priorWeight, 0, 100);
  checkRange('boxPriorWeight', o.boxPriorWeight, 0, 100);
  checkRange('lassoPriorWeight', o.lassoPriorWeight, 0, 100);
  checkRange('maxRadiusMm', o.maxRadiusMm, 1, 500);
  checkRange('smoothingMm', o.smoothingMm, 0, 20);
  checkRange('edgeHalfWidthMm', o.edgeHalfWidthMm, 0, 50);
  checkRange('rayCount', o.rayCount, 12, 5000, true);
  checkRange('edgeCap', o.edgeCap, 0, 1e9);
  checkRange('smoothnessWeight', o.smoothnessWeight, 0, 1000);
  checkRange('smoothnessFraction', o.smoothnessFraction, 0.01, 10);
  checkRange('clickConeDeg', o.clickConeDeg, 0, 90);
  checkRange('iterations', o.iterations, 0, 1000, true);
  checkRange('radiusSignificanceExponent', o.radiusSignificanceExponent, 0, 3);
  checkRange('clickPatchFactor', o.clickPatchFactor, 0, 100);
  checkRange('clickPatchMinMm', o.clickPatchMinMm, 0, 500);
  checkRange('regrowRatio', o.regrowRatio, 1, 100);
  checkRange('refineMaxRadiusMm', o.refineMaxRadiusMm, 0, 1e9);
  checkRange('refineMinContrast', o.refineMinContrast, 0, 1e9);
  checkRange('refineReachFactor', o.refineReachFactor, 1, 10);
  checkRange('startPeakFraction', o.startPeakFraction, 0.01, 1);
  checkRange('restartBelowRadiusVoxels', o.restartBelowRadiusVoxels, 0, 100);
  checkRange('regionReachMm', o.regionReachMm, 0, 500);
  checkRange('regionMinContrast', o.regionMinContrast, 0, 1e9);
  checkRange('regionSmoothingMm', o.regionSmoothingMm, 0, 20);
  checkRange('regionMaxRadiusMm', o.regionMaxRadiusMm, 0, 1e9);
  checkRange('localEditFactor', o.localEditFactor, 0, 1000);
  checkRange('localEditMinMm', o.localEditMinMm, 0, 1000);
  if (typeof o.regionLargeObjects !== 'boolean') throw new PromptError(`option regionLargeObjects must be true or false, got ${JSON.stringify(o.regionLargeObjects)}`);
  if (!['bright', 'dark', 'both'].includes(o.regionPolarity)) throw new PromptError(`option regionPolarity must be 'bright', 'dark' or 'both', got ${JSON.stringify(o.regionPolarity)}`);
  if (!['any', 'bright'].includes(o.starPolarity)) throw new PromptError(`option starPolarity must be 'any' or 'bright', got ${JSON.stringify(o.starPolarity)}`);
  return o;
}

export function checkVolume(volume: PromptVolume): void {
  const { dims, spacingMm, values } = volume;
  if (!Array.isArray(dims) || dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new PromptError(`volume dims must be three positive integers, got ${JSON.stringify(dims)}`);
  }
  if (!Array.isArray(spacingMm) || spacingMm.length !== 3 || !spacingMm.every((s) => Number.isFinite(s) && s > 0)) {
    throw new PromptError(`volume spacingMm must be three numbers > 0, got ${JSON.stringify(spacingMm)}`);
  }
  const n = dims[0] * dims[1] * dims[2];
  if (values.length !== n) throw new PromptError(`volume has ${values.length} values but dims ${dims.join('×')} need ${n}`);
}
