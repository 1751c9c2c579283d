// Checks of host → webview messages. The host is trusted, so this is not on the hot path: the
// editor tests run every message the host posts through it (test/editor/fakeVscode.ts), so a
// host change that breaks the protocol fails there instead of in the webview.

import type { HostToWebviewMessage, OverlayKind, VoxelType } from './messages';

const VOXEL_TYPES: Readonly<Record<VoxelType, true>> = { uint8: true, int8: true, uint16: true, int16: true, float32: true };
const OVERLAY_KINDS: Readonly<Record<OverlayKind, true>> = { probability: true, uncertainty: true, brain: true, fusion: true };

type Fields = Record<string, unknown>;
type Check = (m: Fields) => string | null;

const isBuffer = (v: unknown): boolean => v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]';
const isString = (v: unknown): boolean => typeof v === 'string';
const isBool = (v: unknown): boolean => typeof v === 'boolean';
const isObject = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
const oneOf =
  (...values: readonly unknown[]) =>
  (v: unknown): boolean =>
    values.includes(v);
const isVec3 = (v: unknown): boolean => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isWireDelta = (v: unknown): boolean => isObject(v) && isBuffer((v as Fields).runs) && isBuffer((v as Fields).before) && isBuffer((v as Fields).after) && oneOf(8, 16)((v as Fields).bits);
const isWireLabels = (v: unknown): boolean => isObject(v) && isBuffer((v as Fields).voxels) && oneOf(8, 16)((v as Fields).bits);

/** A check that each named field passes its test; the problem names the first that does not. */
function fields(tests: Record<string, (v: unknown) => boolean>): Check {
  return (m) => {
    for (const [key, ok] of Object.entries(tests)) {
      if (!ok(m[key])) return `${key} is ${JSON.stringify(m[key])?.slice(0, 60) ?? String(m[key])}`;
    }
    return null;
  };
}

/** One check per host → webview message type (a compile error when the union gains or loses one). */
const HOST_MESSAGE_CHECKS: Readonly<Record<HostToWebviewMessage['type'], Check>> = {
  init: fields({
    fileName: isString,
    dims: isVec3,
    affine: (v) => Array.isArray(v) && v.length === 16,
    voxelType: oneOf(...Object.keys(VOXEL_TYPES)),
    voxels: isBuffer,
    labels: isWireLabels,
    labelTable: Array.isArray,
    readOnly: isBool,
    maskMessage: (v) => v === null || isString(v),
    settings: isObject,
    stats: isObject,
  }),
  applyDelta: fields({ delta: isWireDelta, cause: oneOf('undo', 'redo', 'edit', 'host'), label: isString }),
  replaceLabels: fields({ labels: isWireLabels, labelTable: Array.isArray, cause: oneOf('revert', 'resync', 'reload') }),
  overlay: fields({
    kind: oneOf(...Object.keys(OVERLAY_KINDS)),
    voxels: isBuffer,
    range: (v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)),
    proposal: (v) => v === null || isObject(v),
    name: (v) => v === undefined || isString(v),
  }),
  clearOverlay: fields({ kind: oneOf(...Object.keys(OVERLAY_KINDS)) }),
  labelTable: fields({ labelTable: Array.isArray }),
  frameData: fields({ frame: Number.isInteger, voxelType: oneOf(...Object.keys(VOXEL_TYPES)), voxels: isBuffer, stats: isObject }),
  settings: fields({ settings: isObject }),
  readOnly: fields({ readOnly: isBool, reason: (v) => v === null || isString(v) }),
  status: fields({ text: isString, level: oneOf('info', 'warning') }),
  promptsCleared: fields({ cause: oneOf('accepted', 'rejected', 'replaced') }),
  error: fields({ message: isString, fatal: isBool }),
};

/**
 * What is wrong with a host → webview message, as one phrase naming its type and the field, or
 * null when it fits the protocol.
 * @example hostMessageProblem({ type: 'status', text: 'Saved', level: 'info' }) === null
 */
export function hostMessageProblem(message: unknown): string | null {
  if (!isObject(message)) return `host message: expected an object, got ${message === null ? 'null' : typeof message}`;
  const m = message as Fields;
  const type = m.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(HOST_MESSAGE_CHECKS, type)) return `host message: unknown type ${JSON.stringify(type)}`;
  const problem = HOST_MESSAGE_CHECKS[type as HostToWebviewMessage['type']](m);
  return problem === null ? null : `host message '${type}': ${problem}`;
}
