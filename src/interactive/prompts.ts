// Prompts of click-guided segmentation (points and boxes in voxel indices), their validation, and
// parsing of the PROMPTS.json file of `lesion-lab segment --prompts`.
import type { Vec3 } from '../volume/vec3';
import type { VoxelBox } from './box';
import { PromptError } from './errors';
import { lassoAxis, type LassoPrompt } from './lasso';
import type { ScribblePrompt } from './scribble';

/** A click: a 0-based voxel index (i, j, k) of the image; positive on the object, negative off it. */
export interface PointPrompt {
  voxel: Vec3;
  positive: boolean;
}

/**
 * A box around the object, inclusive voxel corners. A 2-D box (drawn on one slice) is one voxel
 * thick (min[2] = max[2] on an axial slice; else along j or i): the object's outline on that slice
 * lies inside it.
 */
export type BoxPrompt = VoxelBox;

/** Everything the user gave for one object. */
export interface Prompts {
  points: PointPrompt[];
  boxes: BoxPrompt[];
  /** Outlines of the object's cross-section on single slices (lasso.ts); none when absent. */
  lassos?: LassoPrompt[];
  /** Strokes through the object (positive) or off it (scribble.ts); none when absent. */
  scribbles?: ScribblePrompt[];
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A lasso's or scribble's vertex: three finite voxel coordinates inside the image's extent (in-plane they may be fractional). */
function checkVertex(value: unknown, where: string, dims: Vec3): Vec3 {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new PromptError(`${where} must be three voxel coordinates [i, j, k], got ${describe(value)}`);
  }
  const v = value as Vec3;
  for (let a = 0; a < 3; a++) {
    if (v[a] < -0.5 || v[a] > dims[a] - 0.5) {
      throw new PromptError(`${where} [${v.join(', ')}] lies outside the image (indices 0..${dims[0] - 1}, 0..${dims[1] - 1}, 0..${dims[2] - 1})`);
    }
  }
  return [v[0], v[1], v[2]];
}

function checkVoxel(value: unknown, where: string, dims: Vec3): Vec3 {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw new PromptError(`${where} must be three integer voxel indices [i, j, k], got ${describe(value)}`);
  }
  const v = value as Vec3;
  for (let a = 0; a < 3; a++) {
    if (v[a] < 0 || v[a] >= dims[a]) {
      throw new PromptError(`${where} [${v.join(', ')}] lies outside the image (indices 0..${dims[0] - 1}, 0..${dims[1] - 1}, 0..${dims[2] - 1})`);
    }
  }
  return [v[0], v[1], v[2]];
}

/**
 * Checks prompts against a grid of `dims` and returns a clean copy (extra fields dropped).
 * At least one positive point or one box is needed, unless `refinesObject` (an object so far is
 * given: then negative points alone may cut it); a box needs min ≤ max on every axis.
 * @throws PromptError naming the first bad entry (e.g. "points[1].voxel [300, 2, 4] lies outside the image ...").
 */
export function validatePrompts(prompts: unknown, dims: Vec3, refinesObject = false): Prompts {
  if (typeof prompts !== 'object' || prompts === null || Array.isArray(prompts)) {
    throw new PromptError(`prompts must be an object {"points": [...], "boxes": [...], "lassos": [...], "scribbles": [...]}, got ${describe(prompts)}`);
  }
  const record = prompts as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['points', 'boxes', 'lassos', 'scribbles'].includes(key)) throw new PromptError(`prompts has an unknown field "${key}" (allowed: points, boxes, lassos, scribbles)`);
  }
  const rawPoints = record.points ?? [];
  const rawBoxes = record.boxes ?? [];
  const rawLassos = record.lassos ?? [];
  const rawScribbles = record.scribbles ?? [];
  if (!Array.isArray(rawPoints)) throw new PromptError(`"points" must be a list, got ${describe(rawPoints)}`);
  if (!Array.isArray(rawBoxes)) throw new PromptError(`"boxes" must be a list, got ${describe(rawBoxes)}`);
  if (!Array.isArray(rawLassos)) throw new PromptError(`"lassos" must be a list, got ${describe(rawLassos)}`);
  if (!Array.isArray(rawScribbles)) throw new PromptError(`"scribbles" must be a list, got ${describe(rawScribbles)}`);
  const points: PointPrompt[] = rawPoints.map((p, n) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new PromptError(`points[${n}] must be {"voxel": [i, j, k], "positive": true|false}, got ${describe(p)}`);
    const rec = p as Record<string, unknown>;
    if (typeof rec.positive !== 'boolean') throw new PromptError(`points[${n}].positive must be true or false, got ${describe(rec.positive)}`);
    return { voxel: checkVoxel(rec.voxel, `points[${n}].voxel`, dims), positive: rec.positive };
  });
  const boxes: BoxPrompt[] = rawBoxes.map((b, n) => {
    // Two opposite corners in either order, as [[i, j, k], [i, j, k]] or [i0, j0, k0, i1, j1, k1]
    // (how other tools write a box), are the same box.
    if (Array.isArray(b)) {
      const corners = b.length === 2 ? b : b.length === 6 ? [b.slice(0, 3), b.slice(3)] : null;
      if (!corners) throw new PromptError(`boxes[${n}] must be {"min": [i, j, k], "max": [i, j, k]} or two corners [[i, j, k], [i, j, k]], got ${describe(b)}`);
      const p = checkVoxel(corners[0], `boxes[${n}][0]`, dims);
      const q = checkVoxel(corners[1], `boxes[${n}][1]`, dims);
      return { min: [0, 1, 2].map((a) => Math.min(p[a], q[a])) as Vec3, max: [0, 1, 2].map((a) => Math.max(p[a], q[a])) as Vec3 };
    }
    if (typeof b !== 'object' || b === null) throw new PromptError(`boxes[${n}] must be {"min": [i, j, k], "max": [i, j, k]}, got ${describe(b)}`);
    const rec = b as Record<string, unknown>;
    if (rec.positive === false) throw new PromptError(`boxes[${n}] is negative ("positive": false); a box marks where the object is: give negative points instead`);
    const min = checkVoxel(rec.min, `boxes[${n}].min`, dims);
    const max = checkVoxel(rec.max, `boxes[${n}].max`, dims);
    for (let a = 0; a < 3; a++) {
      if (min[a] > max[a]) throw new PromptError(`boxes[${n}] has min ${'ijk'[a]} ${min[a]} > max ${'ijk'[a]} ${max[a]}`);
    }
    return { min, max };
  });
  const lassos: LassoPrompt[] = rawLassos.map((l, n) => {
    // {"points": [[i, j, k], ...]} or the list of points alone.
    const rec = Array.isArray(l) ? { points: l } : typeof l === 'object' && l !== null ? (l as Record<string, unknown>) : null;
    if (!rec || !Array.isArray(rec.points)) throw new PromptError(`lassos[${n}] must be {"points": [[i, j, k], ...]} (an outline on one slice), got ${describe(l)}`);
    if (rec.positive !== undefined && typeof rec.positive !== 'boolean') throw new PromptError(`lassos[${n}].positive must be true or false when given, got ${describe(rec.positive)}`);
    const vertices = rec.points.map((p, q) => checkVertex(p, `lassos[${n}].points[${q}]`, dims));
    if (vertices.length < 3) throw new PromptError(`lassos[${n}] needs at least 3 points to enclose an area, got ${vertices.length}`);
    if (lassoAxis(vertices) < 0) throw new PromptError(`lassos[${n}] does not lie in one slice: its points must share one integer index along i, j or k`);
    return rec.positive === false ? { points: vertices, positive: false } : { points: vertices };
  });
  const positiveLassos = lassos.filter((l) => l.positive !== false).length;
  const scribbles: ScribblePrompt[] = rawScribbles.map((l, n) => {
    const form = '{"points": [[i, j, k], ...], "positive": true|false} (a stroke through the object, or off it)';
    if (typeof l !== 'object' || l === null || Array.isArray(l) || !Array.isArray((l as Record<string, unknown>).points)) throw new PromptError(`scribbles[${n}] must be ${form}, got ${describe(l)}`);
    const rec = l as Record<string, unknown>;
    if (typeof rec.positive !== 'boolean') throw new PromptError(`scribbles[${n}].positive must be true or false, got ${describe(rec.positive)}`);
    const vertices = (rec.points as unknown[]).map((p, q) => checkVertex(p, `scribbles[${n}].points[${q}]`, dims));
    if (vertices.length === 0) throw new PromptError(`scribbles[${n}] has no points; a stroke needs at least one`);
    return { points: vertices, positive: rec.positive };
  });
  if (points.length === 0 && boxes.length === 0 && lassos.length === 0 && scribbles.length === 0) {
    throw new PromptError('prompts hold no point, box, lasso or scribble; give at least one positive point, one box, one lasso or one positive scribble');
  }
  if (!refinesObject && boxes.length === 0 && positiveLassos === 0 && !points.some((p) => p.positive) && !scribbles.some((s) => s.positive)) {
    throw new PromptError('prompts hold no positive point, box, lasso or scribble; the object needs at least one');
  }
  return { points, boxes, ...(lassos.length > 0 ? { lassos } : {}), ...(scribbles.length > 0 ? { scribbles } : {}) };
}

/**
 * Parses the text of a PROMPTS.json file: `{"points": [{"voxel": [i, j, k], "positive": true}],
 * "boxes": [{"min": [i, j, k], "max": [i, j, k]}], "lassos": [{"points": [[i, j, k], ...]}]}` with
 * 0-based voxel indices (a box may also be two opposite corners, `[[i, j, k], [i, j, k]]` or
 * `[i0, j0, k0, i1, j1, k1]`; a lasso's vertices share one integer index along the axis its slice
 * lies across and may be fractional in-plane).
 * @throws PromptError for malformed JSON or any problem {@link validatePrompts} finds.
 */
export function parsePromptsJson(text: string, dims: Vec3, refinesObject = false): Prompts {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PromptError(`is not valid JSON (${(e as Error).message})`);
  }
  return validatePrompts(value, dims, refinesObject);
}
