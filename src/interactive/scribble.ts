// Scribbles: strokes the user draws through the object (positive) or through what is not the
// object (negative), as in 3D Slicer's Grow from seeds, MONAI Label's scribbles and nnInteractive.
// A stroke is a polyline of voxel positions (drawn on one slice in the editor; any path on the
// command line); the voxels it passes through are what it says, and the segmenter bends the
// object's surface to honour them (segmentFromPrompts.ts).
import type { Vec3 } from '../volume/vec3';

/** A stroke: its vertices (voxel coordinates, in the order drawn) and whether it marks the object. */
export interface ScribblePrompt {
  points: Vec3[];
  positive: boolean;
}

/** A stroke rasterised: the distinct voxels it passes through, in the order drawn. */
export interface ScribbleVoxels {
  positive: boolean;
  voxels: Vec3[];
  /** The voxels fill an area (a negative outline's), not a path. */
  area?: boolean;
}

/**
 * The voxels a stroke passes through: each segment sampled every quarter voxel and rounded, inside
 * a grid of `dims` (vertices were checked to lie in it), each voxel once, in the order first passed.
 */
export function rasterizeScribble(s: ScribblePrompt, dims: Vec3): ScribbleVoxels {
  const voxels: Vec3[] = [];
  const seen = new Set<number>();
  const add = (x: number, y: number, z: number): void => {
    const v: Vec3 = [0, 1, 2].map((a) => Math.min(dims[a] - 1, Math.max(0, Math.round([x, y, z][a])))) as Vec3;
    const key = (v[2] * dims[1] + v[1]) * dims[0] + v[0];
    if (seen.has(key)) return;
    seen.add(key);
    voxels.push(v);
  };
  const pts = s.points;
  add(...pts[0]);
  for (let q = 1; q < pts.length; q++) {
    const a = pts[q - 1];
    const b = pts[q];
    const steps = Math.max(1, Math.ceil(4 * Math.max(...[0, 1, 2].map((k) => Math.abs(b[k] - a[k])))));
    for (let t = 1; t <= steps; t++) add(a[0] + ((b[0] - a[0]) * t) / steps, a[1] + ((b[1] - a[1]) * t) / steps, a[2] + ((b[2] - a[2]) * t) / steps);
  }
  return { positive: s.positive, voxels };
}

/**
 * Voxels of a rasterised stroke (or of an outline's enclosed area) about `everyMm` apart: the first
 * of its voxels in each cell of an `everyMm` grid, in order. They stand for the stroke where a
 * method takes clicks.
 */
export function scribbleSamples(s: ScribbleVoxels, spacingMm: Vec3, everyMm: number): Vec3[] {
  const seen = new Set<string>();
  return s.voxels.filter((v) => {
    const cell = v.map((x, a) => Math.floor((x * spacingMm[a]) / everyMm)).join();
    if (seen.has(cell)) return false;
    seen.add(cell);
    return true;
  });
}

/** The voxel halfway along a rasterised stroke (by length): a point certainly on it. */
export function scribbleMiddle(s: ScribbleVoxels, spacingMm: Vec3): Vec3 {
  const lengths = [0];
  for (let q = 1; q < s.voxels.length; q++) lengths.push(lengths[q - 1] + Math.hypot(...[0, 1, 2].map((a) => (s.voxels[q][a] - s.voxels[q - 1][a]) * spacingMm[a])));
  const half = lengths[lengths.length - 1] / 2;
  let q = 0;
  while (q < lengths.length - 1 && lengths[q] < half) q++;
  return s.voxels[q];
}
