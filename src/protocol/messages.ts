// The one message protocol between the extension host and the Lesion Lab webview.
//
// Types only (plus two tiny pure helpers), imported by both sides. The host validates every
// webview message on arrival (src/protocol/validate.ts) before it touches the document; both
// sides `switch` on `type` and end with `assertNever`, so adding a message breaks the build
// wherever it is not handled.
//
// Binary payloads are ArrayBuffers, never JSON arrays: VS Code transfers ArrayBuffers between
// processes efficiently (engines.vscode >= 1.57). A posted buffer may be detached afterwards:
// the sender keeps its own copy.

import type { LabelBits } from './labelDelta';
import type { WireLabelDelta } from './labelDeltaWire';

/** Bumped when a message changes incompatibly; sent in `ready`. */
export const PROTOCOL_VERSION = 1;

// ───────────────────────────── shared value types ─────────────────────────────

/**
 * Element type of `voxels` buffers sent to the webview. The host sends integer images of up to
 * 16 bits as they are and converts everything else (int32, uint32, float64, scaled data) to
 * float32, which is what a WebGL texture can hold.
 */
export type VoxelType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'float32';

/** Typed-array constructor for each {@link VoxelType}. */
export type VoxelTypedArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Float32Array;

/** A guess at the modality, for default window/level presets. */
export type ModalityHint = 'CT' | 'MR' | 'PET' | 'unknown';

/**
 * Intensity statistics of the finite voxel values of one frame, for window/level.
 * Percentiles are approximate (histogram-based, within 1/4096 of the range).
 */
export interface IntensityStats {
  min: number;
  max: number;
  mean: number;
  /** 1st, 5th, 50th, 95th, 99th and 99.5th percentiles. MR auto W/L uses p1…p99_5. */
  p1: number;
  p5: number;
  p50: number;
  p95: number;
  p99: number;
  p99_5: number;
  /** Number of NaN or infinite voxels (excluded from the figures above). */
  nonFiniteCount: number;
  /** The header's cal_min / cal_max when set (cal_max > cal_min), else null. */
  headerWindow: { min: number; max: number } | null;
}

/** One row of the label table. `value` 0 is the background and is normally not listed. */
export interface LabelTableEntry {
  /** Voxel value, integer 0…65535. Unique within the table. */
  value: number;
  name: string;
  /** RGB, each an integer 0…255. */
  color: [number, number, number];
  visible: boolean;
  /** A locked label is never overwritten by the tools. */
  locked: boolean;
}

/**
 * A whole label volume on the wire: `voxels` is Uint8 or Uint16 (per `bits`), nx*ny*nz values,
 * or a zero-length buffer when every voxel is 0 (a new mask: saves sending ~80 MB of zeros).
 */
export interface WireLabelVolume {
  voxels: ArrayBuffer;
  bits: LabelBits;
}

/** Screen layouts of the viewer. */
export type ViewLayout = '2x2' | '1x3' | 'single';

/** Paint overwrite policy: everything, only background voxels, or only voxels of one label. */
export type OverwriteMode = 'all' | 'empty' | 'label';

/** Settings from `lesionLab.*` configuration, sent in `init` and again when they change. */
export interface ViewerSettings {
  /** true: patient's right on screen left (radiological); false: neurological. */
  radiological: boolean;
  layout: ViewLayout;
  /** Colormap name for the image: 'gray', 'hot', 'viridis', 'inferno', … (webview decides the list). */
  colormap: string;
  /** Label overlay opacity, 0…1. */
  labelOpacity: number;
  /** Draw labels as outlines instead of filled. */
  labelOutline: boolean;
  /** Initial brush radius in mm. */
  brushRadiusMm: number;
  /** Overwrite policy of the paint tools. */
  overwriteMode: OverwriteMode;
}

/**
 * A voxel-wise map shown over the image: a model's probability map, its flip-TTA uncertainty map,
 * the brain the model was given when Segment Lesion stripped the skull of a head (1 inside, 0
 * outside; drawn as a dashed outline), or another image of the same patient resampled onto this
 * image's grid (a PET over its CT; NaN where it does not reach), shown in a colormap.
 */
export type OverlayKind = 'probability' | 'uncertainty' | 'brain' | 'fusion';

/** A model's proposal that an overlay belongs to. */
export interface ProposalInfo {
  /** Model version that produced the map (as recorded in the provenance sidecar). */
  modelVersion: string;
  /** Label value the proposal would write. */
  labelValue: number;
  /** Probability threshold that turns the map into a mask. */
  threshold: number;
  /**
   * 'prompts' for the Prompt tool's object (a 0/1 map; Accept writes it into the selected label
   * under the overwrite policy); absent or 'model' for Segment Lesion.
   */
  origin?: 'model' | 'prompts';
}

/** A click of the Prompt tool: a voxel index (i, j, k) on the object (positive) or off it. */
export interface PromptPoint {
  voxel: [number, number, number];
  positive: boolean;
}

/**
 * A box of the Prompt tool around the object's extent on the slice of one view: inclusive voxel
 * corners, equal along the voxel axis the view lies across (min[2] = max[2] on an axial slice).
 */
export interface PromptBox {
  min: [number, number, number];
  max: [number, number, number];
}

/**
 * An outline drawn on the slice of one view (the Prompt tool's Ctrl+drag; with Shift or the right
 * button, negative): its vertices, voxel indices that share one index along the axis the view lies
 * across. A positive outline encloses the object's section on that slice; a negative one encloses
 * what is not the object on that slice.
 */
export interface PromptLasso {
  points: [number, number, number][];
  /** False for a negative outline; absent (older webviews) means positive. */
  positive?: boolean;
}

/**
 * A stroke drawn on the slice of one view (the Prompt tool's Alt+drag; with Shift or the right
 * button, negative): its vertices, voxel indices in the order drawn. The voxels along it are the
 * object's (positive) or not the object's (negative).
 */
export interface PromptScribble {
  points: [number, number, number][];
  positive: boolean;
}

/** Where an accepted prompt proposal is written: the selected label under the overwrite policy. */
export interface PromptTarget {
  /** Label value written, 1…65535. */
  labelValue: number;
  overwrite: OverwriteMode;
  /** The label that overwrite mode 'label' may paint over. */
  overwriteLabel: number;
}

/** Commands the webview may ask the host to run (e.g. from toolbar buttons). */
export type HostCommandId =
  | 'lesionLab.segmentLesion'
  | 'lesionLab.acceptProposal'
  | 'lesionLab.rejectProposal'
  | 'lesionLab.fineTune'
  | 'lesionLab.selectModelVersion'
  | 'lesionLab.showModelHistory'
  | 'lesionLab.exportItkSnapLabels'
  | 'lesionLab.overlayImage'
  | 'lesionLab.registerOverlayImage'
  | 'lesionLab.clearOverlayImage';

/** Every {@link HostCommandId}, for validation. */
export const HOST_COMMAND_IDS: readonly HostCommandId[] = [
  'lesionLab.segmentLesion',
  'lesionLab.acceptProposal',
  'lesionLab.rejectProposal',
  'lesionLab.fineTune',
  'lesionLab.selectModelVersion',
  'lesionLab.showModelHistory',
  'lesionLab.exportItkSnapLabels',
  'lesionLab.overlayImage',
  'lesionLab.registerOverlayImage',
  'lesionLab.clearOverlayImage',
];

// ───────────────────────────── host → webview ─────────────────────────────

/**
 * The whole document, sent once in answer to `ready` (and again after a webview reload): what
 * the webview shows and edits, nothing more (the host keeps the rest).
 */
export interface InitMessage {
  type: 'init';
  /** Base name of the image, e.g. "case01.nii.gz". */
  fileName: string;
  /** [nx, ny, nz] of one frame. */
  dims: [number, number, number];
  /** Voxel (i, j, k) → world RAS+ mm, 16 numbers, row-major (the file's best affine). */
  affine: number[];
  /** What `voxels` holds (RGB images: luminance). */
  voxelType: VoxelType;
  /** nx*ny*nz values of the current frame, i fastest, scaling applied. */
  voxels: ArrayBuffer;
  frameCount: number;
  frame: number;
  stats: IntensityStats;
  modality: ModalityHint;
  labels: WireLabelVolume;
  labelTable: LabelTableEntry[];
  /** When true the webview must not send `edit`; `readOnlyReason` says why. */
  readOnly: boolean;
  readOnlyReason: string | null;
  /** What the user should know about the mask file (e.g. how its grid differed), or null. */
  maskMessage: string | null;
  settings: ViewerSettings;
}

/**
 * Apply a label delta in the forward (`after`) direction. Sent to every webview of the
 * document after undo/redo (already inverted by the host for undo), after host-side operations
 * (accepting a proposal), and to the *other* webviews after an `edit`.
 */
export interface ApplyDeltaMessage {
  type: 'applyDelta';
  delta: WireLabelDelta;
  /** Why: 'undo' | 'redo' | 'edit' (another view's gesture) | 'host' (a command). */
  cause: 'undo' | 'redo' | 'edit' | 'host';
  /** The edit's label as shown in VS Code's undo menu, e.g. "Brush". */
  label: string;
}

/** Replace the whole label volume (revert, resync after a rejected edit, mask reloaded). */
export interface ReplaceLabelsMessage {
  type: 'replaceLabels';
  labels: WireLabelVolume;
  labelTable: LabelTableEntry[];
  cause: 'revert' | 'resync' | 'reload';
}

/**
 * Show (or replace) a voxel-wise map on the image grid. The webview keeps one slot per
 * {@link OverlayKind}: a probability map, an uncertainty map and a brain outline show together, each
 * toggled on its own (the maps also faded and thresholded), and a new map replaces only the map of
 * its own kind.
 */
export interface OverlayMessage {
  type: 'overlay';
  kind: OverlayKind;
  /** Float32, nx*ny*nz values. */
  voxels: ArrayBuffer;
  /** Value range of the map (for the colour scale). */
  range: [number, number];
  /** Set when the map is a model's proposal awaiting accept/reject. */
  proposal: ProposalInfo | null;
  /** A fused image: its file name, for the controls and the readout. */
  name?: string;
}

/** Remove the overlay of `kind`; a map of the other kind stays. */
export interface ClearOverlayMessage {
  type: 'clearOverlay';
  kind: OverlayKind;
}

/** The label table changed on the host side (undo/redo of a table edit, revert). */
export interface LabelTableMessage {
  type: 'labelTable';
  labelTable: LabelTableEntry[];
}

/** Another frame of a 4-D image, in answer to `requestFrame`. */
export interface FrameDataMessage {
  type: 'frameData';
  frame: number;
  voxelType: VoxelType;
  voxels: ArrayBuffer;
  stats: IntensityStats;
}

/** Settings changed. */
export interface SettingsMessage {
  type: 'settings';
  settings: ViewerSettings;
}

/** The document became read-only or writable. */
export interface ReadOnlyMessage {
  type: 'readOnly';
  readOnly: boolean;
  reason: string | null;
}

/** A short status line (progress of a host operation, "Saved mask …"). */
export interface StatusMessage {
  type: 'status';
  text: string;
  level: 'info' | 'warning';
}

/**
 * The Prompt tool's prompts are done with (the object was accepted or rejected, or a model
 * proposal replaced it): the webview drops its markers and starts a new object.
 */
export interface PromptsClearedMessage {
  type: 'promptsCleared';
  cause: 'accepted' | 'rejected' | 'replaced';
}

/** Something failed; `message` is one clear sentence naming the file and the problem. */
export interface ErrorMessage {
  type: 'error';
  message: string;
  /** true when the editor cannot show the document at all (no `init` will follow). */
  fatal: boolean;
}

export type HostToWebviewMessage =
  | InitMessage
  | ApplyDeltaMessage
  | ReplaceLabelsMessage
  | OverlayMessage
  | ClearOverlayMessage
  | LabelTableMessage
  | FrameDataMessage
  | SettingsMessage
  | ReadOnlyMessage
  | StatusMessage
  | PromptsClearedMessage
  | ErrorMessage;

// ───────────────────────────── webview → host ─────────────────────────────

/** The webview script has loaded and listens; the host answers with `init`. */
export interface ReadyMessage {
  type: 'ready';
  protocolVersion: number;
}

/**
 * One gesture's change to the labels (the webview already applied it locally). The host checks
 * that `before` matches its own volume, applies it, and records one undoable edit. If it cannot
 * (read-only, out of sync), it answers `replaceLabels` (cause 'resync') plus a `status`.
 */
export interface EditMessage {
  type: 'edit';
  /** Undo-menu label: "Brush", "Eraser", "Fill", "Region grow", "Interpolate", "Remove islands", … */
  label: string;
  delta: WireLabelDelta;
}

/** Ask for another frame of a 4-D image. */
export interface RequestFrameMessage {
  type: 'requestFrame';
  frame: number;
}

/** The user changed the label table (names, colours, visibility, lock); one undoable edit. */
export interface SetLabelTableMessage {
  type: 'setLabelTable';
  labelTable: LabelTableEntry[];
  /** Undo-menu label, e.g. "Rename label". */
  label: string;
}

/** Ask the host to resend the whole label volume (the webview suspects it is out of sync). */
export interface RequestResyncMessage {
  type: 'requestResync';
}

/** Ask the host to run one of its commands for this document (toolbar buttons). */
export interface RunCommandMessage {
  type: 'runCommand';
  command: HostCommandId;
}

/**
 * The Prompt tool's prompts for the current object, all of them, after each change (a click, a
 * box, an outline, Backspace, Esc). The host recomputes the object's 3-D mask and shows it as the proposal;
 * empty lists drop the object and its proposal.
 */
export interface PromptMessage {
  type: 'prompt';
  /** Which object the prompts are for; the webview takes a new id after Accept, Reject or Esc. */
  objectId: number;
  points: PromptPoint[];
  boxes: PromptBox[];
  /** Outlines on single slices (absent from older webviews: none). */
  lassos?: PromptLasso[];
  /** Strokes through the object or off it (absent from older webviews: none). */
  scribbles?: PromptScribble[];
  target: PromptTarget;
}

/** Accept the Prompt tool's proposal into `target` (the label and policy selected now). */
export interface AcceptPromptMessage {
  type: 'acceptPrompt';
  target: PromptTarget;
}

/** A line for the "Lesion Lab" output channel. */
export interface LogMessage {
  type: 'log';
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** An error in the webview (e.g. WebGL2 unavailable, texture too large). */
export interface WebviewErrorMessage {
  type: 'error';
  message: string;
  stack: string | null;
}

/** A frame was drawn (timings for tests and the bench). */
export interface RenderedMessage {
  type: 'rendered';
  /** What was drawn: 'first' for the first slice after init, else 'frame'. */
  what: 'first' | 'frame';
  /** Milliseconds since the webview received `init` (for 'first'), or the frame's draw time. */
  ms: number;
}

export type WebviewToHostMessage =
  | ReadyMessage
  | EditMessage
  | RequestFrameMessage
  | SetLabelTableMessage
  | RequestResyncMessage
  | RunCommandMessage
  | PromptMessage
  | AcceptPromptMessage
  | LogMessage
  | WebviewErrorMessage
  | RenderedMessage;

// ───────────────────────────── helpers ─────────────────────────────

/** Ends an exhaustive switch: a compile error if a case is missing, a throw if reached at run time. */
export function assertNever(value: never, what = 'message'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** Views a voxel buffer as the typed array its {@link VoxelType} says. */
export function voxelArrayOf(voxelType: VoxelType, buffer: ArrayBuffer): VoxelTypedArray {
  switch (voxelType) {
    case 'uint8':
      return new Uint8Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint16':
      return new Uint16Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'float32':
      return new Float32Array(buffer);
    default:
      return assertNever(voxelType, 'voxel type');
  }
}

/**
 * A wire label volume as a Uint8Array or Uint16Array of `voxelCount` values (a fresh zeroed
 * array when the buffer is empty, meaning all background).
 */
export function labelArrayOf(volume: WireLabelVolume, voxelCount?: number): Uint8Array | Uint16Array {
  if (volume.voxels.byteLength === 0 && voxelCount !== undefined) {
    return volume.bits === 16 ? new Uint16Array(voxelCount) : new Uint8Array(voxelCount);
  }
  return volume.bits === 16 ? new Uint16Array(volume.voxels) : new Uint8Array(volume.voxels);
}
