// Validation of webview → host messages on arrival. A webview is untrusted input: every field
// is checked before the document sees it, and the error names the message type and the field.

import { LabelDeltaError, type LabelDelta } from './labelDelta';
import { deltaFromWire } from './labelDeltaWire';
import {
  assertNever,
  HOST_COMMAND_IDS,
  type HostCommandId,
  type LabelTableEntry,
  type PromptBox,
  type PromptLasso,
  type PromptPoint,
  type PromptScribble,
  type PromptTarget,
  type WebviewToHostMessage,
} from './messages';

/** Thrown for a message that does not match the protocol. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** What the validator needs to know about the document the message is for. */
export interface ValidationContext {
  /** nx*ny*nz of the image: deltas must fit. */
  voxelCount: number;
  /** Frames of the image: requestFrame must be within. */
  frameCount: number;
  /** [nx, ny, nz] of the image: prompt voxels must lie inside. Without it `prompt` is refused. */
  dims?: readonly [number, number, number];
}

/**
 * A validated webview message. Same as {@link WebviewToHostMessage} except that `edit` carries
 * the decoded {@link LabelDelta} in `decoded`.
 */
export type ValidWebviewMessage =
  | Exclude<WebviewToHostMessage, { type: 'edit' }>
  | { type: 'edit'; label: string; decoded: LabelDelta };

const MAX_TEXT = 10_000;
const MAX_LABEL_NAME = 256;
const MAX_TABLE_ROWS = 65_536;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(msg: Record<string, unknown>, type: string, key: string, maxLength = MAX_TEXT): string {
  const v = msg[key];
  if (typeof v !== 'string') throw new ProtocolError(`webview message '${type}': ${key} must be a string, got ${typeof v}`);
  if (v.length > maxLength) throw new ProtocolError(`webview message '${type}': ${key} is ${v.length} characters, more than ${maxLength}`);
  return v;
}

function int(msg: Record<string, unknown>, type: string, key: string, min: number, max: number): number {
  const v = msg[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError(`webview message '${type}': ${key} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function finite(msg: Record<string, unknown>, type: string, key: string): number {
  const v = msg[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`webview message '${type}': ${key} must be a finite number, got ${String(v)}`);
  return v;
}

const MAX_PROMPT_POINTS = 1000;
const MAX_PROMPT_BOXES = 100;
/** Vertices of one lasso or scribble (a freehand stroke samples about one vertex per voxel it crosses). */
const MAX_STROKE_POINTS = 20000;

function voxelIndex(value: unknown, where: string, dims: readonly [number, number, number]): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw new ProtocolError(`${where} must be three integer voxel indices [i, j, k], got ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  const v = value as number[];
  for (let a = 0; a < 3; a++) {
    if (v[a] < 0 || v[a] >= dims[a]) {
      throw new ProtocolError(`${where} [${v.join(', ')}] lies outside the image (${dims.join('×')} voxels)`);
    }
  }
  return [v[0], v[1], v[2]];
}

function promptTarget(value: unknown, type: string): PromptTarget {
  if (!isRecord(value)) throw new ProtocolError(`webview message '${type}': target must be {labelValue, overwrite, overwriteLabel}, got ${typeof value}`);
  const labelValue = int(value, type, 'labelValue', 1, 65535);
  const overwrite = value.overwrite;
  if (overwrite !== 'all' && overwrite !== 'empty' && overwrite !== 'label') {
    throw new ProtocolError(`webview message '${type}': target.overwrite must be 'all', 'empty' or 'label', got ${String(overwrite)}`);
  }
  return { labelValue, overwrite, overwriteLabel: int(value, type, 'overwriteLabel', 0, 65535) };
}

/**
 * Checks the Prompt tool's points and boxes against the image's `dims`: voxel indices inside the
 * image, boxes with min ≤ max drawn on one slice (one voxel thick along some axis), lassos of 3 or
 * more vertices on one slice (`positive`, when present, a boolean), scribbles of 1 or more
 * vertices (on any slices), at most 1000 points and 100 each of boxes, lassos and scribbles.
 * @throws ProtocolError naming the entry and field.
 */
export function validatePromptLists(
  rawPoints: unknown,
  rawBoxes: unknown,
  dims: readonly [number, number, number],
  where = "webview message 'prompt'",
  rawLassos: unknown = [],
  rawScribbles: unknown = [],
): { points: PromptPoint[]; boxes: PromptBox[]; lassos: PromptLasso[]; scribbles: PromptScribble[] } {
  if (!Array.isArray(rawPoints) || rawPoints.length > MAX_PROMPT_POINTS) {
    throw new ProtocolError(`${where}: points must be an array of at most ${MAX_PROMPT_POINTS}, got ${Array.isArray(rawPoints) ? rawPoints.length : typeof rawPoints}`);
  }
  if (!Array.isArray(rawBoxes) || rawBoxes.length > MAX_PROMPT_BOXES) {
    throw new ProtocolError(`${where}: boxes must be an array of at most ${MAX_PROMPT_BOXES}, got ${Array.isArray(rawBoxes) ? rawBoxes.length : typeof rawBoxes}`);
  }
  const points = rawPoints.map((p: unknown, n): PromptPoint => {
    if (!isRecord(p) || typeof p.positive !== 'boolean') throw new ProtocolError(`${where}: points[${n}] must be {voxel: [i, j, k], positive: boolean}`);
    return { voxel: voxelIndex(p.voxel, `${where}: points[${n}].voxel`, dims), positive: p.positive };
  });
  const boxes = rawBoxes.map((b: unknown, n): PromptBox => {
    if (!isRecord(b)) throw new ProtocolError(`${where}: boxes[${n}] must be {min: [i, j, k], max: [i, j, k]}`);
    const min = voxelIndex(b.min, `${where}: boxes[${n}].min`, dims);
    const max = voxelIndex(b.max, `${where}: boxes[${n}].max`, dims);
    for (let a = 0; a < 3; a++) {
      if (min[a] > max[a]) throw new ProtocolError(`${where}: boxes[${n}] has min ${'ijk'[a]} ${min[a]} > max ${'ijk'[a]} ${max[a]}`);
    }
    if (min.every((x, a) => x !== max[a])) throw new ProtocolError(`${where}: boxes[${n}] spans slices along i, j and k; a box is drawn on one slice (min = max along the axis its view lies across)`);
    return { min, max };
  });
  if (!Array.isArray(rawLassos) || rawLassos.length > MAX_PROMPT_BOXES) {
    throw new ProtocolError(`${where}: lassos must be an array of at most ${MAX_PROMPT_BOXES}, got ${Array.isArray(rawLassos) ? rawLassos.length : typeof rawLassos}`);
  }
  const lassos = rawLassos.map((l: unknown, n): PromptLasso => {
    if (!isRecord(l) || !Array.isArray(l.points) || l.points.length < 3 || l.points.length > MAX_STROKE_POINTS) {
      throw new ProtocolError(`${where}: lassos[${n}] must be {points: [[i, j, k], ...]} with 3 to ${MAX_STROKE_POINTS} points`);
    }
    const vertices = l.points.map((p: unknown, q) => voxelIndex(p, `${where}: lassos[${n}].points[${q}]`, dims));
    if (![0, 1, 2].some((a) => vertices.every((v) => v[a] === vertices[0][a]))) throw new ProtocolError(`${where}: lassos[${n}] does not lie on one slice (its points must share one index along i, j or k)`);
    if (l.positive !== undefined && typeof l.positive !== 'boolean') throw new ProtocolError(`${where}: lassos[${n}].positive must be a boolean when present, got ${JSON.stringify(l.positive)}`);
    // Only a negative outline carries the field, so positive ones stay as older webviews sent them.
    return { points: vertices, ...(l.positive === false ? { positive: false } : {}) };
  });
  if (!Array.isArray(rawScribbles) || rawScribbles.length > MAX_PROMPT_BOXES) {
    throw new ProtocolError(`${where}: scribbles must be an array of at most ${MAX_PROMPT_BOXES}, got ${Array.isArray(rawScribbles) ? rawScribbles.length : typeof rawScribbles}`);
  }
  const scribbles = rawScribbles.map((s: unknown, n): PromptScribble => {
    if (!isRecord(s) || typeof s.positive !== 'boolean' || !Array.isArray(s.points) || s.points.length < 1 || s.points.length > MAX_STROKE_POINTS) {
      throw new ProtocolError(`${where}: scribbles[${n}] must be {points: [[i, j, k], ...], positive: boolean} with 1 to ${MAX_STROKE_POINTS} points`);
    }
    return { points: s.points.map((p: unknown, q) => voxelIndex(p, `${where}: scribbles[${n}].points[${q}]`, dims)), positive: s.positive };
  });
  return { points, boxes, lassos, scribbles };
}

/**
 * Checks a label table: an array of rows with integer `value` 0…65535 (unique), `name` (string,
 * ≤256 characters), `color` [r, g, b] integers 0…255, boolean `visible` and `locked`.
 * Returns a clean copy (extra fields dropped).
 * @param where - prefix for error messages.
 * @throws ProtocolError naming the row and field.
 */
export function validateLabelTable(value: unknown, where = 'label table'): LabelTableEntry[] {
  if (!Array.isArray(value)) throw new ProtocolError(`${where}: must be an array, got ${typeof value}`);
  if (value.length > MAX_TABLE_ROWS) throw new ProtocolError(`${where}: ${value.length} rows, more than ${MAX_TABLE_ROWS}`);
  const seen = new Set<number>();
  return value.map((row: unknown, n): LabelTableEntry => {
    if (!isRecord(row)) throw new ProtocolError(`${where}: row ${n} is not an object`);
    const v = row.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
      throw new ProtocolError(`${where}: row ${n} value must be an integer in [0, 65535], got ${String(v)}`);
    }
    if (seen.has(v)) throw new ProtocolError(`${where}: label value ${v} appears twice`);
    seen.add(v);
    if (typeof row.name !== 'string' || row.name.length > MAX_LABEL_NAME) {
      throw new ProtocolError(`${where}: row ${n} (value ${v}) name must be a string of at most ${MAX_LABEL_NAME} characters`);
    }
    const c = row.color;
    if (!Array.isArray(c) || c.length !== 3 || !c.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 255)) {
      throw new ProtocolError(`${where}: row ${n} (value ${v}) color must be [r, g, b] integers 0…255, got ${JSON.stringify(c)}`);
    }
    if (typeof row.visible !== 'boolean' || typeof row.locked !== 'boolean') {
      throw new ProtocolError(`${where}: row ${n} (value ${v}) visible and locked must be booleans`);
    }
    return { value: v, name: row.name, color: [c[0], c[1], c[2]], visible: row.visible, locked: row.locked };
  });
}

/** Every webview → host message type (a compile error when the union gains or loses one). */
const WEBVIEW_MESSAGE_TYPES: Readonly<Record<WebviewToHostMessage['type'], true>> = {
  ready: true,
  edit: true,
  requestFrame: true,
  setLabelTable: true,
  requestResync: true,
  runCommand: true,
  prompt: true,
  acceptPrompt: true,
  log: true,
  error: true,
  rendered: true,
};

function isWebviewMessageType(type: string): type is WebviewToHostMessage['type'] {
  return Object.prototype.hasOwnProperty.call(WEBVIEW_MESSAGE_TYPES, type);
}

/**
 * Validates a message received from the webview.
 * @throws ProtocolError with one sentence naming the message type and the bad field.
 */
export function parseWebviewMessage(raw: unknown, ctx: ValidationContext): ValidWebviewMessage {
  if (!isRecord(raw)) throw new ProtocolError(`webview message: expected an object, got ${raw === null ? 'null' : typeof raw}`);
  const type = raw.type;
  if (typeof type !== 'string') throw new ProtocolError('webview message: missing string field "type"');
  if (!isWebviewMessageType(type)) throw new ProtocolError(`webview message: unknown type "${type.slice(0, 50)}"`);
  switch (type) {
    case 'ready':
      return { type, protocolVersion: int(raw, type, 'protocolVersion', 0, 1_000_000) };
    case 'edit': {
      const label = str(raw, type, 'label', 100);
      let decoded: LabelDelta;
      try {
        decoded = deltaFromWire(raw.delta, ctx.voxelCount);
      } catch (err) {
        if (err instanceof LabelDeltaError) throw new ProtocolError(`webview message 'edit' (${label}): ${err.message}`);
        throw err;
      }
      return { type, label, decoded };
    }
    case 'requestFrame':
      return { type, frame: int(raw, type, 'frame', 0, Math.max(0, ctx.frameCount - 1)) };
    case 'setLabelTable':
      return { type, label: str(raw, type, 'label', 100), labelTable: validateLabelTable(raw.labelTable, `webview message 'setLabelTable'`) };
    case 'requestResync':
      return { type };
    case 'runCommand': {
      const command = str(raw, type, 'command', 100);
      if (!(HOST_COMMAND_IDS as readonly string[]).includes(command)) {
        throw new ProtocolError(`webview message 'runCommand': unknown command "${command}"`);
      }
      return { type, command: command as HostCommandId };
    }
    case 'prompt': {
      if (!ctx.dims) throw new ProtocolError(`webview message 'prompt': the image's dims are unknown here, so the prompts cannot be checked`);
      const { points, boxes, lassos, scribbles } = validatePromptLists(raw.points, raw.boxes, ctx.dims, undefined, raw.lassos ?? [], raw.scribbles ?? []);
      return { type, objectId: int(raw, type, 'objectId', 0, 2 ** 31 - 1), points, boxes, lassos, scribbles, target: promptTarget(raw.target, type) };
    }
    case 'acceptPrompt':
      return { type, target: promptTarget(raw.target, type) };
    case 'log': {
      const level = raw.level;
      if (level !== 'debug' && level !== 'info' && level !== 'warn' && level !== 'error') {
        throw new ProtocolError(`webview message 'log': level must be debug, info, warn or error, got ${String(level)}`);
      }
      return { type, level, message: str(raw, type, 'message') };
    }
    case 'error': {
      const stack = raw.stack;
      if (stack !== null && stack !== undefined && typeof stack !== 'string') {
        throw new ProtocolError(`webview message 'error': stack must be a string or null`);
      }
      return { type, message: str(raw, type, 'message'), stack: typeof stack === 'string' ? stack.slice(0, MAX_TEXT) : null };
    }
    case 'rendered': {
      const what = raw.what;
      if (what !== 'first' && what !== 'frame') throw new ProtocolError(`webview message 'rendered': what must be 'first' or 'frame', got ${String(what)}`);
      return { type, what, ms: finite(raw, type, 'ms') };
    }
    default:
      // A new message type in the union is a compile error here until it has a case above.
      return assertNever(type, 'webview message type');
  }
}
