// The Lesion Lab viewer: one canvas (one WebGL2 context) holding the axial, coronal and sagittal
// slice views and the 3-D view in a 2×2, 1×3 or single layout; interaction; label editing.
// Renders on demand only. Talks to the host only through the `ViewerHost` it is given.
import { WebGLRenderer, type Data3DTexture, type DataTexture } from 'three';
import {
  LabelDeltaRecorder,
  applyDelta,
  deltaFromWire,
  deltaToWire,
  type LabelArray,
  type LabelDelta,
} from '../src/protocol/labelDelta';
import {
  PROTOCOL_VERSION,
  labelArrayOf,
  voxelArrayOf,
  type ApplyDeltaMessage,
  type FrameDataMessage,
  type HostCommandId,
  type InitMessage,
  type IntensityStats,
  type LabelTableEntry,
  type OverlayKind,
  type OverlayMessage,
  type OverwriteMode,
  type ProposalInfo,
  type ReplaceLabelsMessage,
  type ViewLayout,
  type ViewerSettings,
  type VoxelTypedArray,
  type WebviewToHostMessage,
} from '../src/protocol/messages';
import { COLORMAP_NAMES, colormapTable, defaultLabelColor, heatTable, type ColormapName } from './colormaps';
import {
  SLICE_VIEW_KINDS,
  axisCodes,
  displayBounds,
  snapToVoxelCentre,
  transformPoint,
  voxelIndexAt,
  volumeGeometry,
  type SliceViewKind,
  type Vec3,
  type VolumeGeometry,
} from './geometry';
import { SliceView, type Rect, type SliceDrawState } from './sliceView';
import { HALF_FLOAT_ABOVE_BYTES, LabelTexture, createEmptyFloatVolume, createFloatVolume, createImageTexture, createLutTexture, uploadVolumeInChunks, type ImageTexture } from './textures';
import { strokeVoxels, type BrushShape } from './tools/brush';
import { interpolatedVoxels } from './tools/interpolate';
import { smallIslandVoxels } from './tools/islands';
import { mayPaint, type PaintRule } from './tools/paintRule';
import { growRegion } from './tools/regionGrow';
import { PromptTool, type PromptViewFrame } from './tools/promptTool';
import { LabelMode3D, RenderMode3D, VolumeView } from './volumeView';
import { CT_PRESETS, autoWindow, windowRange, type CtPresetName, type WindowLevel } from './windowing';

/** What the viewer needs from its surroundings (the VS Code API in main.ts, a fake in tests). */
export interface ViewerHost {
  post(message: WebviewToHostMessage, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** Editing tools; each has a keyboard shortcut (see TOOL_KEYS). */
export type ToolName = 'navigate' | 'brush' | 'eraser' | 'fill2d' | 'grow3d' | 'prompt';
export const TOOL_KEYS: Record<string, ToolName> = { n: 'navigate', b: 'brush', e: 'eraser', f: 'fill2d', g: 'grow3d', k: 'prompt' };
export const TOOL_TITLES: Record<ToolName, string> = {
  navigate: 'Navigate (N)',
  brush: 'Brush (B)',
  eraser: 'Eraser (E)',
  fill2d: 'Fill in slice (F)',
  grow3d: 'Region grow 3-D (G)',
  prompt: 'Prompt (K): click on the object, Shift+click or right click off it, drag a box in the axial view; Backspace undoes a prompt, Esc clears them',
};

/** Keys (KeyboardEvent.key) of the overlay and model shortcuts; shown in the tooltips. */
export const OVERLAY_KEYS = {
  toggleProbability: 'p',
  toggleUncertainty: 'u',
  toggleProposalOutline: 'c',
  segmentLesion: 'S',
  acceptProposal: 'A',
  rejectProposal: 'X',
} as const;

/** Colormaps the uncertainty map may use (the probability map always uses the heat scale, `heatTable`). */
export const UNCERTAINTY_COLORMAPS: readonly ColormapName[] = ['ice', 'viridis', 'cividis', 'plasma', 'inferno'];

/** How one overlay map kind is shown: each kind is toggled, faded and thresholded on its own. */
export interface OverlayDisplay {
  show: boolean;
  /** 0…1. */
  opacity: number;
  /** Map values below this (in the map's own units) are not drawn. */
  threshold: number;
}

/** One voxel-wise map on the GPU. */
interface OverlayMap {
  texture: Data3DTexture;
  /** The values (also the texture's source), for the readout. */
  data: Float32Array;
  range: [number, number];
  proposal: ProposalInfo | null;
}

/** View slots in the layout: the three slice views and the 3-D view. */
export type ViewSlot = SliceViewKind | '3d';

/** State kept across webview reloads with vscode.setState. */
export interface PersistedViewerState {
  fileName: string;
  crosshair: Vec3;
  window: WindowLevel;
  colormap: ColormapName;
  layout: ViewLayout;
  single: ViewSlot;
  radiological: boolean;
  views: Record<SliceViewKind, { zoom: number; panMm: [number, number] }>;
  tool: ToolName;
  brushRadiusMm: number;
  brushShape: BrushShape;
  activeLabel: number;
  mode3d: RenderMode3D;
  labelMode3d: LabelMode3D;
  /** Overlay look (the maps themselves are re-sent by the host). */
  overlayLook?: { probabilityOpacity: number; uncertaintyOpacity: number; proposalOutline: boolean; uncertaintyColormap: ColormapName };
  frame: number;
}

/** The GPU memory one texture may take here before WebGL loses the context (measured ~1 GiB). */
export const MAX_TEXTURE_BYTES = 1000 * 1024 * 1024;

interface Gesture {
  recorder: LabelDeltaRecorder;
  label: string;
  lo: Vec3;
  hi: Vec3;
  lastVoxel: Vec3 | null;
  view: SliceView;
}

interface Volume {
  init: InitMessage;
  geometry: VolumeGeometry;
  image: VoxelTypedArray;
  imageTexture: ImageTexture;
  labels: LabelTexture;
  stats: IntensityStats;
  frame: number;
}

/** The viewer; one per webview. */
export class Viewer {
  readonly root: HTMLElement;
  readonly viewsEl: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly statusEl: HTMLElement;
  readonly messageEl: HTMLElement;
  readonly warningEl: HTMLElement;
  readonly labelTableEl: HTMLElement;
  readonly toolbarEl: HTMLElement;
  private renderer: WebGLRenderer | null = null;
  private readonly sliceViews: SliceView[] = [];
  private volumeView: VolumeView | null = null;
  private readonly overlays = new Map<ViewSlot, HTMLElement>();
  private vol: Volume | null = null;
  /** One slot per overlay kind: a probability and an uncertainty map can show together. */
  private readonly maps: Record<OverlayKind, OverlayMap | null> = { probability: null, uncertainty: null };
  private readonly emptyProb: Data3DTexture | null;
  private colormapTex: DataTexture | null = null;
  private heatTex: DataTexture | null = null;
  private uncColormapTex: DataTexture | null = null;
  private labelLut: DataTexture | null = null;
  private readonly labelLutBytes = new Uint8Array(256 * 256 * 4);
  labelTable: LabelTableEntry[] = [];
  /** Label values present in the volume (scanned on load, extended by edits). */
  readonly presentLabels = new Set<number>();
  // View state.
  crosshair: Vec3 = [0, 0, 0];
  window: WindowLevel = { level: 0.5, width: 1 };
  colormap: ColormapName = 'gray';
  layout: ViewLayout = '2x2';
  single: ViewSlot = 'axial';
  radiological = true;
  showLabels = true;
  labelOpacity = 0.5;
  labelOutline = false;
  /** Display of each overlay kind (kept when a map is replaced or cleared). */
  readonly overlayDisplay: Record<OverlayKind, OverlayDisplay> = {
    probability: { show: true, opacity: 0.6, threshold: 0.5 },
    uncertainty: { show: true, opacity: 0.5, threshold: 0 },
  };
  /** Outline the proposal (probability ≥ the proposal's threshold, else the display threshold). */
  proposalOutline = true;
  /** Colormap of the uncertainty map. */
  uncertaintyColormap: ColormapName = 'ice';
  /** The user set the uncertainty threshold; a new map then keeps it instead of the default. */
  private uncThresholdByUser = false;
  mode3d: RenderMode3D = RenderMode3D.dvr;
  labelMode3d: LabelMode3D = LabelMode3D.tint;
  // Tools.
  tool: ToolName = 'navigate';
  brushRadiusMm = 3;
  brushShape: BrushShape = 'disc';
  activeLabel = 1;
  overwrite: OverwriteMode = 'all';
  overwriteLabel = 1;
  thresholdOn = false;
  thresholdRange = { min: 0, max: 0 };
  fillTolerance = 50;
  islandMinVoxels = 10;
  readOnly = false;
  readOnlyReason: string | null = null;
  private gesture: Gesture | null = null;
  private drag: { kind: 'crosshair' | 'wl' | 'pan' | 'orbit'; view: SliceView | null; x: number; y: number } | null = null;
  private hoverView: SliceView | null = null;
  private cursorWorld: Vec3 | null = null;
  private readoutWorld: Vec3 | null = null;
  /** Slice views to redraw on the next frame (a brush dab redraws only the views it shows in). */
  private readonly dirtyViews = new Set<SliceView>();
  private lastCursorView: SliceView | null = null;
  private crosshairRgba: [number, number, number, number] = [0, 0.48, 0.8, 0.85];
  private dirty3d = false;
  private frameRequested = false;
  private timer3d: ReturnType<typeof setTimeout> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private initReceivedAt = 0;
  private firstFramePending = false;
  /** Milliseconds from receiving `init` to the first slices drawn (GPU included). */
  firstFrameMs = 0;
  private readonly disposers: (() => void)[] = [];
  /** Called after every label change (tests and the label table use it). */
  onLabelsChanged: (() => void) | null = null;
  /** Called when controls must refresh (tool, label table, settings). */
  onUiChanged: (() => void) | null = null;
  /** The Prompt tool's prompts for the current object (webview/tools/promptTool.ts). */
  readonly promptTool: PromptTool;
  /** 2-D canvas over the views for the prompt markers. */
  readonly promptLayer: HTMLCanvasElement;
  /** The slice view a Prompt tool press started in (its box stays on that view's slice). */
  private promptPressView: SliceView | null = null;

  constructor(
    parent: HTMLElement,
    private readonly host: ViewerHost,
  ) {
    this.root = el('div', 'll-root');
    this.toolbarEl = el('div', 'll-toolbar');
    const body = el('div', 'll-body');
    this.viewsEl = el('div', 'll-views');
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'll-canvas';
    this.canvas.tabIndex = 0;
    this.viewsEl.appendChild(this.canvas);
    this.promptLayer = document.createElement('canvas');
    this.promptLayer.className = 'll-prompt-layer';
    Object.assign(this.promptLayer.style, { position: 'absolute', left: '0', top: '0', pointerEvents: 'none' });
    this.viewsEl.appendChild(this.promptLayer);
    this.promptTool = new PromptTool({
      post: (m) => this.host.post(m),
      target: () => this.promptTarget(),
      changed: () => this.drawPrompts(),
      status: (text) => this.showStatus(text),
    });
    this.labelTableEl = el('div', 'll-labels');
    body.append(this.viewsEl, this.labelTableEl);
    this.warningEl = el('div', 'll-warning');
    this.warningEl.hidden = true;
    this.statusEl = el('div', 'll-status');
    this.messageEl = el('div', 'll-message');
    this.messageEl.hidden = true;
    this.viewsEl.appendChild(this.messageEl);
    this.root.append(this.toolbarEl, this.warningEl, body, this.statusEl);
    parent.appendChild(this.root);
    for (const slot of [...SLICE_VIEW_KINDS, '3d'] as ViewSlot[]) {
      const o = el('div', 'll-view-overlay');
      o.dataset.view = slot;
      o.innerHTML =
        '<span class="ll-title"></span><span class="ll-letter ll-left"></span><span class="ll-letter ll-right"></span>' +
        '<span class="ll-letter ll-top"></span><span class="ll-letter ll-bottom"></span>';
      this.viewsEl.appendChild(o);
      this.overlays.set(slot, o);
    }
    const gl = this.canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false, alpha: false });
    if (!gl) {
      this.emptyProb = null;
      this.showMessage('WebGL2 is not available in this webview, so Lesion Lab cannot draw the volume. Check that hardware acceleration (or software WebGL) is enabled in VS Code.');
      this.host.post({ type: 'error', message: 'WebGL2 is not available in the webview', stack: null });
      return;
    }
    this.renderer = new WebGLRenderer({ canvas: this.canvas, context: gl, antialias: false, preserveDrawingBuffer: true });
    this.renderer.autoClear = false;
    this.renderer.setScissorTest(true);
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.emptyProb = createEmptyFloatVolume();
    this.colormapTex = createLutTexture(colormapTable(this.colormap));
    this.heatTex = createLutTexture(heatTable());
    this.uncColormapTex = createLutTexture(colormapTable(this.uncertaintyColormap));
    this.labelLut = createLutTexture(this.labelLutBytes, 256);
    this.bindEvents();
    const ro = new ResizeObserver(() => this.layoutViews());
    ro.observe(this.viewsEl);
    this.disposers.push(() => ro.disconnect());
  }

  // ─────────────────────────── loading ───────────────────────────

  /** Loads a document (the host's `init`). */
  load(init: InitMessage): void {
    this.initReceivedAt = performance.now();
    this.clearVolume();
    if (!this.renderer) return;
    const dims = init.dims;
    let geometry: VolumeGeometry;
    try {
      geometry = volumeGeometry(dims, init.affine);
    } catch (e) {
      this.showMessage(`${init.fileName}: ${(e as Error).message}`);
      return;
    }
    const gl = this.renderer.getContext() as WebGL2RenderingContext;
    const max3d = gl.getParameter(gl.MAX_3D_TEXTURE_SIZE) as number;
    const image = voxelArrayOf(init.voxelType, init.voxels);
    const voxelCount = dims[0] * dims[1] * dims[2];
    // Float volumes above HALF_FLOAT_ABOVE_BYTES go to the GPU as R16F (2 bytes a voxel).
    const bytesPerVoxel = image instanceof Float32Array ? (voxelCount * 4 > HALF_FLOAT_ABOVE_BYTES ? 2 : 4) : image instanceof Uint8Array ? 1 : 2;
    const bytes = voxelCount * bytesPerVoxel;
    if (dims.some((d) => d > max3d)) {
      this.showMessage(
        `${init.fileName} is ${dims.join('×')} voxels, but this WebGL allows at most ${max3d} voxels along each side of a 3-D texture, so it cannot be shown.`,
      );
      this.host.post({ type: 'error', message: `volume ${dims.join('×')} exceeds MAX_3D_TEXTURE_SIZE ${max3d}`, stack: null });
      return;
    }
    if (bytes > MAX_TEXTURE_BYTES) {
      this.showMessage(
        `${init.fileName} needs ${(bytes / 2 ** 20).toFixed(0)} MiB as one texture (${dims.join('×')} voxels); the limit here is ${(MAX_TEXTURE_BYTES / 2 ** 20).toFixed(0)} MiB, so it cannot be shown.`,
      );
      this.host.post({ type: 'error', message: `volume needs ${bytes} bytes, above the ${MAX_TEXTURE_BYTES}-byte texture limit`, stack: null });
      return;
    }
    if (image.length !== dims[0] * dims[1] * dims[2]) {
      this.showMessage(`${init.fileName}: the voxel buffer holds ${image.length} values but the dims ${dims.join('×')} need ${dims[0] * dims[1] * dims[2]}.`);
      return;
    }
    const imageTexture = createImageTexture(image, dims);
    const labelArray = this.labelsFromWire(init.labels, dims);
    const labels = new LabelTexture(labelArray, dims);
    uploadVolumeInChunks(this.renderer, imageTexture.texture);
    uploadVolumeInChunks(this.renderer, labels.texture);
    this.vol = { init, geometry, image, imageTexture, labels, stats: init.stats, frame: init.frame };
    this.scanPresentLabels();
    for (const kind of SLICE_VIEW_KINDS) this.sliceViews.push(new SliceView(kind, 'radiological', imageTexture.sampler));
    this.volumeView = new VolumeView(imageTexture.sampler);
    this.readOnly = init.readOnly;
    this.readOnlyReason = init.readOnlyReason;
    this.applySettings(init.settings);
    this.setLabelTable(init.labelTable, false);
    // Defaults, then whatever was saved for this file.
    const b = displayBounds(geometry);
    this.crosshair = snapToVoxelCentre(geometry, [0, 1, 2].map((w) => (b.min[w] + b.max[w]) / 2));
    this.window = this.defaultWindow(init.stats, init.modality);
    this.thresholdRange = { min: init.stats.p50, max: init.stats.max };
    this.restoreState();
    for (const v of this.sliceViews) v.setConvention(this.radiological ? 'radiological' : 'neurological');
    this.setColormap(this.colormap);
    const warnings: string[] = [];
    if (geometry.obliqueDeg > 0) {
      warnings.push(
        `Oblique image (${geometry.obliqueDeg.toFixed(1)}° from the scanner axes): shown in voxel space, not resliced; orientation letters are approximate. The readout gives true world positions.`,
      );
    }
    if (init.mask.message) warnings.push(init.mask.message);
    if (init.readOnly && init.readOnlyReason) warnings.push(`Read-only: ${init.readOnlyReason}`);
    this.setWarning(warnings.join(' '));
    this.messageEl.hidden = true;
    this.firstFramePending = true;
    this.updateReadout(this.crosshair);
    this.layoutViews();
    this.requestRender(true);
    this.onUiChanged?.();
  }

  private labelsFromWire(wire: InitMessage['labels'], dims: readonly number[]): LabelArray {
    const n = dims[0] * dims[1] * dims[2];
    // An all-background volume arrives as an empty buffer: the count and bits make the array.
    const arr = labelArrayOf(wire, n);
    if (arr.length !== n) {
      this.host.post({ type: 'log', level: 'warn', message: `label volume has ${arr.length} voxels, expected ${n}; starting empty` });
      return wire.bits === 16 ? new Uint16Array(n) : new Uint8Array(n);
    }
    return arr;
  }

  private defaultWindow(stats: IntensityStats, modality: InitMessage['modality']): WindowLevel {
    if (modality === 'CT') return { ...CT_PRESETS['CT soft tissue'] };
    if (stats.headerWindow) {
      return { level: (stats.headerWindow.min + stats.headerWindow.max) / 2, width: stats.headerWindow.max - stats.headerWindow.min };
    }
    return this.autoWindowFromStats(stats);
  }

  private autoWindowFromStats(stats: IntensityStats): WindowLevel {
    const lo = stats.p1;
    const hi = stats.p99_5 > lo ? stats.p99_5 : stats.max;
    return hi > lo ? { level: (lo + hi) / 2, width: hi - lo } : { level: lo, width: 1 };
  }

  /** Applies the host's settings. */
  applySettings(s: ViewerSettings): void {
    this.radiological = s.radiological;
    this.layout = s.layout;
    if ((COLORMAP_NAMES as readonly string[]).includes(s.colormap)) this.colormap = s.colormap as ColormapName;
    this.labelOpacity = s.labelOpacity;
    this.labelOutline = s.labelOutline;
    this.brushRadiusMm = s.brushRadiusMm;
    this.overwrite = s.overwriteMode;
    for (const v of this.sliceViews) v.setConvention(this.radiological ? 'radiological' : 'neurological');
    this.layoutViews();
    this.requestRender(true);
    this.onUiChanged?.();
  }

  /** Replaces the current frame's voxels (4-D). */
  loadFrame(m: FrameDataMessage): void {
    const vol = this.vol;
    if (!vol || !this.renderer) return;
    const image = voxelArrayOf(m.voxelType, m.voxels);
    if (image.length !== vol.image.length) {
      this.showStatus(`Frame ${m.frame} has ${image.length} voxels, expected ${vol.image.length}; ignored.`);
      return;
    }
    vol.imageTexture.texture.dispose();
    vol.imageTexture = createImageTexture(image, vol.geometry.dims);
    uploadVolumeInChunks(this.renderer, vol.imageTexture.texture);
    vol.image = image;
    vol.stats = m.stats;
    vol.frame = m.frame;
    this.updateReadout(this.readoutWorld ?? this.crosshair);
    for (const v of this.sliceViews) v.setSampler(vol.imageTexture.sampler);
    this.volumeView?.setSampler(vol.imageTexture.sampler);
    this.requestRender(true);
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  /** Asks the host for another frame of a 4-D image. */
  selectFrame(frame: number): void {
    const vol = this.vol;
    if (!vol) return;
    const f = Math.max(0, Math.min(vol.init.frameCount - 1, Math.round(frame)));
    if (f !== vol.frame) this.host.post({ type: 'requestFrame', frame: f });
  }

  get frameCount(): number {
    return this.vol?.init.frameCount ?? 1;
  }

  get frame(): number {
    return this.vol?.frame ?? 0;
  }

  /**
   * Shows a probability or uncertainty map in its own slot, replacing only an earlier map of the
   * same kind. A probability map with `proposal` info takes the proposal's threshold.
   */
  setOverlay(m: OverlayMessage): void {
    const vol = this.vol;
    if (!vol) return;
    if (m.voxels.byteLength % 4 !== 0) {
      this.showStatus(`The ${m.kind} map has ${m.voxels.byteLength} bytes, not a whole number of float32 values; not shown.`);
      return;
    }
    const data = new Float32Array(m.voxels);
    if (data.length !== vol.image.length) {
      this.showStatus(`The ${m.kind} map has ${data.length} voxels, expected ${vol.image.length}; not shown.`);
      return;
    }
    const lo = Number.isFinite(m.range[0]) ? m.range[0] : 0;
    const hi = Number.isFinite(m.range[1]) && m.range[1] > lo ? m.range[1] : lo + 1;
    this.maps[m.kind]?.texture.dispose();
    this.maps[m.kind] = { texture: createFloatVolume(data, vol.geometry.dims), data, range: [lo, hi], proposal: m.kind === 'probability' ? m.proposal : null };
    const display = this.overlayDisplay[m.kind];
    display.show = true;
    if (m.kind === 'probability' && m.proposal) display.threshold = m.proposal.threshold;
    // Uncertainty has no natural cut-off: hide the lowest tenth of its range unless the user chose.
    if (m.kind === 'uncertainty' && !this.uncThresholdByUser) display.threshold = lo + 0.1 * (hi - lo);
    this.updateReadout(this.readoutWorld ?? this.crosshair);
    this.requestRender(false);
    this.onUiChanged?.();
  }

  /** Removes the map of `kind` (both when no kind is given); the other kind stays. */
  clearOverlay(kind?: OverlayKind): void {
    for (const k of kind ? [kind] : (['probability', 'uncertainty'] as const)) {
      this.maps[k]?.texture.dispose();
      this.maps[k] = null;
    }
    this.updateReadout(this.readoutWorld ?? this.crosshair);
    this.requestRender(false);
    this.onUiChanged?.();
  }

  /** Whether any overlay map is shown (`kind`: that map). */
  hasOverlay(kind?: OverlayKind): boolean {
    return kind ? this.maps[kind] !== null : this.maps.probability !== null || this.maps.uncertainty !== null;
  }

  /** Value range of the map of `kind`, or null when there is none. */
  overlayRange(kind: OverlayKind): [number, number] | null {
    const m = this.maps[kind];
    return m ? [m.range[0], m.range[1]] : null;
  }

  /** The proposal awaiting Accept / Reject (carried by the probability map), or null. */
  get proposal(): ProposalInfo | null {
    return this.maps.probability?.proposal ?? null;
  }

  /** Changes how one overlay kind is shown. */
  setOverlayDisplay(kind: OverlayKind, o: Partial<OverlayDisplay>): void {
    const d = this.overlayDisplay[kind];
    if (o.show !== undefined) d.show = o.show;
    if (o.opacity !== undefined && Number.isFinite(o.opacity)) d.opacity = Math.max(0, Math.min(1, o.opacity));
    if (o.threshold !== undefined && Number.isFinite(o.threshold)) {
      d.threshold = o.threshold;
      if (kind === 'uncertainty') this.uncThresholdByUser = true;
    }
    this.requestRender(false);
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  setProposalOutline(on: boolean): void {
    this.proposalOutline = on;
    this.requestRender(false);
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  setUncertaintyColormap(name: ColormapName): void {
    this.uncertaintyColormap = name;
    if (this.uncColormapTex) {
      this.uncColormapTex.image.data = colormapTable(name);
      this.uncColormapTex.needsUpdate = true;
    }
    this.requestRender(false);
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  /** Asks the host to run one of its commands on this document (toolbar buttons, shortcuts). */
  runHostCommand(command: HostCommandId): void {
    this.host.post({ type: 'runCommand', command });
  }

  /** Accept Lesion Proposal (only while a proposal is shown). Returns whether it was asked. */
  acceptProposal(): boolean {
    if (!this.proposal) return false;
    if (this.readOnly) {
      this.showStatus(`Read-only${this.readOnlyReason ? `: ${this.readOnlyReason}` : ''}; the proposal cannot be accepted.`);
      return false;
    }
    if (this.proposal.origin === 'prompts') {
      // The prompted object goes into the label and overwrite policy selected now.
      this.showStatus(`Accepting the prompted object into label ${this.activeLabel}…`);
      this.host.post({ type: 'acceptPrompt', target: this.promptTarget() });
      return true;
    }
    this.showStatus(`Accepting the proposal of model ${this.proposal.modelVersion}…`);
    this.runHostCommand('lesionLab.acceptProposal');
    return true;
  }

  /** Reject Lesion Proposal (only while a proposal is shown). Returns whether it was asked. */
  rejectProposal(): boolean {
    if (!this.proposal) return false;
    this.runHostCommand('lesionLab.rejectProposal');
    return true;
  }

  /** Where an accepted prompt proposal goes: the active label under the overwrite policy. */
  promptTarget(): { labelValue: number; overwrite: OverwriteMode; overwriteLabel: number } {
    return { labelValue: this.activeLabel, overwrite: this.overwrite, overwriteLabel: this.overwriteLabel };
  }

  /** The host is done with the prompted object (accepted, rejected or replaced). */
  promptsCleared(): void {
    this.promptTool.reset();
  }

  /** Redraws the prompt markers of every visible slice view. */
  drawPrompts(): void {
    const layer = this.promptLayer;
    const ctx = layer.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, layer.width / dpr, layer.height / dpr);
    const vol = this.vol;
    const centre = vol ? this.voxelOf(this.crosshair) : null;
    if (!vol || !centre || (this.promptTool.entries.length === 0 && !this.promptTool.dragBox)) return;
    const g = vol.geometry;
    const frames: PromptViewFrame[] = this.sliceViews
      .filter((v) => v.rect.width > 0)
      .map((v) => {
        const normalAxis = g.voxelAxisOfWorldAxis[v.plane.normalAxis];
        return { rect: v.rect, normalAxis, slice: centre[normalAxis], toCanvas: (voxel) => v.canvasOfWorld(g, transformPoint(g.displayAffine, voxel)) };
      });
    this.promptTool.draw(ctx, frames);
  }

  /** Segment Lesion on this document. */
  segmentLesion(): void {
    this.showStatus('Segment Lesion: running the model…');
    this.runHostCommand('lesionLab.segmentLesion');
  }

  // Probability-map shorthands (kept for existing callers).
  get showProb(): boolean {
    return this.overlayDisplay.probability.show;
  }
  get probOpacity(): number {
    return this.overlayDisplay.probability.opacity;
  }
  get probThreshold(): number {
    return this.overlayDisplay.probability.threshold;
  }

  setProbDisplay(o: Partial<OverlayDisplay>): void {
    this.setOverlayDisplay('probability', o);
  }

  // ─────────────────────────── labels ───────────────────────────

  /** Applies a delta from the host (undo/redo, another view's edit, a host command). */
  applyHostDelta(m: ApplyDeltaMessage): void {
    const vol = this.vol;
    if (!vol) return;
    let delta: LabelDelta;
    try {
      delta = deltaFromWire(m.delta, vol.labels.data.length);
      applyDelta(vol.labels.data, delta, 'redo');
    } catch (e) {
      this.host.post({ type: 'log', level: 'error', message: `applyDelta failed: ${(e as Error).message}; asking for a resync` });
      this.host.post({ type: 'requestResync' });
      return;
    }
    this.uploadDeltaBox(delta);
    for (let n = 0; n < delta.after.length; n++) if (delta.after[n] !== 0) this.presentLabels.add(delta.after[n]);
    this.labelsChanged();
  }

  /** Replaces the whole label volume (revert, resync). */
  replaceLabels(m: ReplaceLabelsMessage): void {
    const vol = this.vol;
    if (!vol) return;
    this.cancelGesture();
    const arr = this.labelsFromWire(m.labels, vol.geometry.dims);
    vol.labels.dispose();
    vol.labels = new LabelTexture(arr, vol.geometry.dims);
    if (this.renderer) uploadVolumeInChunks(this.renderer, vol.labels.texture);
    this.scanPresentLabels();
    this.setLabelTable(m.labelTable, false);
    this.labelsChanged();
  }

  /** The live label volume (tests read it; tools write it through gestures). */
  get labels(): LabelArray | null {
    return this.vol?.labels.data ?? null;
  }

  get geometry(): VolumeGeometry | null {
    return this.vol?.geometry ?? null;
  }

  get image(): VoxelTypedArray | null {
    return this.vol?.image ?? null;
  }

  /** Sets the label table; `post` sends it to the host as one undoable change. */
  setLabelTable(table: LabelTableEntry[], post: boolean, undoLabel = 'Edit labels'): void {
    this.labelTable = table.map((e) => ({ ...e, color: [...e.color] as [number, number, number] }));
    this.labelLutBytes.fill(0);
    for (let v = 1; v < 65536 && v < 256 * 256; v++) {
      // Labels missing from the table still show, in their default colour.
      if (v > 255 && !this.labelTable.some((e) => e.value === v)) continue;
      const [r, g, b] = defaultLabelColor(v);
      this.labelLutBytes.set([r, g, b, 255], v * 4);
    }
    for (const e of this.labelTable) {
      if (e.value <= 0 || e.value >= 65536) continue;
      this.labelLutBytes.set([e.color[0], e.color[1], e.color[2], e.visible ? 255 : 0], e.value * 4);
    }
    if (this.labelLut) this.labelLut.needsUpdate = true;
    if (post) this.host.post({ type: 'setLabelTable', labelTable: this.labelTable, label: undoLabel });
    this.requestRender(true);
    this.onUiChanged?.();
  }

  private scanPresentLabels(): void {
    this.presentLabels.clear();
    const labels = this.vol?.labels.data;
    if (!labels) return;
    const seen = new Uint8Array(labels instanceof Uint16Array ? 65536 : 256);
    for (let i = 0; i < labels.length; i++) seen[labels[i]] = 1;
    for (let v = 1; v < seen.length; v++) if (seen[v]) this.presentLabels.add(v);
  }

  private lockedLabels(): Set<number> {
    return new Set(this.labelTable.filter((e) => e.locked).map((e) => e.value));
  }

  /** The paint rule of the current tool settings, writing `value`. */
  paintRule(value: number): PaintRule {
    return {
      value,
      overwrite: this.overwrite,
      onlyLabel: this.overwriteLabel,
      locked: this.lockedLabels(),
      intensityRange: this.thresholdOn && value !== 0 ? { ...this.thresholdRange } : null,
      image: this.vol?.image ?? null,
    };
  }

  private labelsChanged(): void {
    this.requestRender(true);
    this.onLabelsChanged?.();
    this.onUiChanged?.();
  }

  private uploadDeltaBox(delta: LabelDelta): void {
    const vol = this.vol;
    if (!vol || !this.renderer || delta.runs.length === 0) return;
    const [nx, ny] = vol.geometry.dims;
    const lo: Vec3 = [Infinity, Infinity, Infinity];
    const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
    for (let r = 0; r < delta.runs.length; r += 2) {
      const a = delta.runs[r];
      const b = a + delta.runs[r + 1] - 1;
      const ia = a % nx;
      const ja = Math.floor(a / nx) % ny;
      const ka = Math.floor(a / (nx * ny));
      const ib = b % nx;
      const jb = Math.floor(b / nx) % ny;
      const kb = Math.floor(b / (nx * ny));
      const sameRow = ja === jb && ka === kb;
      lo[0] = Math.min(lo[0], sameRow ? ia : 0);
      hi[0] = Math.max(hi[0], sameRow ? ib : nx - 1);
      lo[1] = Math.min(lo[1], ka === kb ? Math.min(ja, jb) : 0);
      hi[1] = Math.max(hi[1], ka === kb ? Math.max(ja, jb) : ny - 1);
      lo[2] = Math.min(lo[2], ka);
      hi[2] = Math.max(hi[2], kb);
    }
    vol.labels.uploadBox(this.renderer, lo, hi);
  }

  // ─────────────────────────── gestures (label edits) ───────────────────────────

  private beginGesture(label: string, view: SliceView): Gesture | null {
    const vol = this.vol;
    if (!vol) return null;
    if (this.readOnly) {
      this.showStatus(`Read-only${this.readOnlyReason ? `: ${this.readOnlyReason}` : ''}; labels cannot be edited.`);
      return null;
    }
    this.cancelGesture();
    this.gesture = {
      recorder: new LabelDeltaRecorder(vol.labels.data),
      label,
      lo: [Infinity, Infinity, Infinity],
      hi: [-Infinity, -Infinity, -Infinity],
      lastVoxel: null,
      view,
    };
    return this.gesture;
  }

  /** Sets voxels (by linear index) under the paint rule, widening the dirty box. */
  private paintIndices(g: Gesture, indices: ArrayLike<number>, rule: PaintRule): void {
    const vol = this.vol;
    if (!vol) return;
    const [nx, ny] = vol.geometry.dims;
    const labels = vol.labels.data;
    for (let n = 0; n < indices.length; n++) {
      const idx = indices[n];
      if (!mayPaint(rule, idx, labels[idx])) continue;
      g.recorder.set(idx, rule.value);
      const i = idx % nx;
      const j = Math.floor(idx / nx) % ny;
      const k = Math.floor(idx / (nx * ny));
      if (i < g.lo[0]) g.lo[0] = i;
      if (j < g.lo[1]) g.lo[1] = j;
      if (k < g.lo[2]) g.lo[2] = k;
      if (i > g.hi[0]) g.hi[0] = i;
      if (j > g.hi[1]) g.hi[1] = j;
      if (k > g.hi[2]) g.hi[2] = k;
    }
  }

  /** Uploads the gesture's dirty box so far and redraws the slices. */
  private flushGesture(g: Gesture): void {
    const vol = this.vol;
    if (this.renderer && vol && g.lo[0] <= g.hi[0]) {
      vol.labels.uploadBox(this.renderer, g.lo, g.hi);
      // Redraw only the views whose slice passes through the changed box.
      const c = this.voxelOf(this.crosshair);
      for (const v of this.sliceViews) {
        const n = vol.geometry.voxelAxisOfWorldAxis[v.plane.normalAxis];
        if (v === g.view || !c || (g.lo[n] <= c[n] && c[n] <= g.hi[n])) this.dirtyViews.add(v);
      }
      g.lo = [Infinity, Infinity, Infinity];
      g.hi = [-Infinity, -Infinity, -Infinity];
    }
    this.requestViews([g.view]);
  }

  /** Finishes the gesture: one delta, applied locally already, sent to the host as one `edit`. */
  private endGesture(): void {
    const g = this.gesture;
    if (!g) return;
    this.gesture = null;
    this.flushGesture(g);
    const delta = g.recorder.finish();
    for (let n = 0; n < delta.after.length; n++) if (delta.after[n] !== 0) this.presentLabels.add(delta.after[n]);
    if (delta.before.length > 0) {
      const wire = deltaToWire(delta);
      this.host.post({ type: 'edit', label: g.label, delta: wire }, [wire.runs, wire.before, wire.after]);
    }
    this.labelsChanged();
  }

  private cancelGesture(): void {
    const g = this.gesture;
    if (!g || !this.vol) return;
    this.gesture = null;
    g.recorder.cancel();
    this.vol.labels.texture.needsUpdate = true;
    this.requestRender(true);
  }

  /** Runs a one-shot operation on a set of indices as one gesture (fill, grow, interpolate, islands). */
  private applyOperation(label: string, view: SliceView, indices: ArrayLike<number>, rule: PaintRule): number {
    const g = this.beginGesture(label, view);
    if (!g) return 0;
    this.paintIndices(g, indices, rule);
    const n = g.recorder.touchedCount;
    this.endGesture();
    return n;
  }

  /** Voxel index of a display-world point, or null outside. */
  private voxelOf(world: Vec3): Vec3 | null {
    return this.vol ? voxelIndexAt(this.vol.geometry, world) : null;
  }

  private brushDab(g: Gesture, voxel: Vec3, rule: PaintRule): void {
    const vol = this.vol;
    if (!vol) return;
    const normalAxis = vol.geometry.voxelAxisOfWorldAxis[g.view.plane.normalAxis];
    const from = g.lastVoxel ?? voxel;
    const indices = strokeVoxels(
      { dims: vol.geometry.dims, spacingMm: vol.geometry.spacingMm, radiusMm: this.brushRadiusMm, shape: this.brushShape, normalAxis },
      from,
      voxel,
    );
    this.paintIndices(g, indices, rule);
    g.lastVoxel = voxel;
    this.flushGesture(g);
  }

  /** Flood fill (2-D) or region grow (3-D) from a voxel, with the intensity tolerance. */
  fillAt(view: SliceView, voxel: Vec3, threeD: boolean): number {
    const vol = this.vol;
    if (!vol) return 0;
    const [nx, ny] = vol.geometry.dims;
    const rule = this.paintRule(this.activeLabel);
    const labels = vol.labels.data;
    const region = growRegion({
      dims: vol.geometry.dims,
      seed: voxel[0] + nx * (voxel[1] + ny * voxel[2]),
      image: vol.image,
      tolerance: this.fillTolerance,
      sliceAxis: threeD ? null : vol.geometry.voxelAxisOfWorldAxis[view.plane.normalAxis],
      accept: (idx) => mayPaint(rule, idx, labels[idx]) || labels[idx] === rule.value,
      maxVoxels: threeD ? 20_000_000 : undefined,
    });
    return this.applyOperation(threeD ? 'Region grow' : 'Fill', view, region, rule);
  }

  /** Interpolates the active label between the slices it is drawn on, across the view's normal. */
  interpolate(kind: SliceViewKind = this.hoverView?.kind ?? 'axial'): number {
    const vol = this.vol;
    const view = this.sliceViews.find((v) => v.kind === kind);
    if (!vol || !view) return 0;
    const axis = vol.geometry.voxelAxisOfWorldAxis[view.plane.normalAxis];
    const indices = interpolatedVoxels(vol.labels.data, {
      dims: vol.geometry.dims,
      spacingMm: vol.geometry.spacingMm,
      label: this.activeLabel,
      axis,
    });
    const n = this.applyOperation('Interpolate', view, indices, this.paintRule(this.activeLabel));
    this.showStatus(n > 0 ? `Interpolated label ${this.activeLabel}: ${n} voxels.` : `Nothing to interpolate: label ${this.activeLabel} needs two drawn ${kind} slices with a gap.`);
    return n;
  }

  /** Removes islands of the active label (or all labels) smaller than islandMinVoxels. */
  removeIslands(allLabels = false): number {
    const vol = this.vol;
    const view = this.sliceViews[0];
    if (!vol || !view) return 0;
    const indices = smallIslandVoxels(vol.labels.data, {
      dims: vol.geometry.dims,
      minVoxels: this.islandMinVoxels,
      label: allLabels ? null : this.activeLabel,
    });
    const rule: PaintRule = { ...this.paintRule(0), overwrite: 'all', intensityRange: null };
    const n = this.applyOperation('Remove islands', view, indices, rule);
    this.showStatus(`Removed ${n} voxels in islands smaller than ${this.islandMinVoxels} voxels.`);
    return n;
  }

  // ─────────────────────────── view state ───────────────────────────

  setTool(tool: ToolName): void {
    this.tool = tool;
    this.canvas.dataset.tool = tool;
    this.updateCursor();
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  setLayout(layout: ViewLayout, single?: ViewSlot): void {
    this.layout = layout;
    if (single) this.single = single;
    this.layoutViews();
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  setColormap(name: ColormapName): void {
    this.colormap = name;
    if (this.colormapTex) {
      this.colormapTex.image.data = colormapTable(name);
      this.colormapTex.needsUpdate = true;
    }
    this.requestRender(true);
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  setWindow(w: WindowLevel): void {
    this.window = { level: w.level, width: Math.max(w.width, 1e-6) };
    this.requestRender(true);
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  applyPreset(name: CtPresetName | 'auto'): void {
    const vol = this.vol;
    if (name === 'auto') {
      if (!vol) return;
      // Percentiles of the non-zero voxels (skull-stripped MR has a zero background).
      this.setWindow(autoWindow(vol.image));
    } else {
      this.setWindow({ ...CT_PRESETS[name] });
    }
  }

  setRadiological(on: boolean): void {
    this.radiological = on;
    for (const v of this.sliceViews) v.setConvention(on ? 'radiological' : 'neurological');
    this.requestRender(false);
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  setCrosshair(world: readonly number[]): void {
    if (!this.vol) return;
    this.crosshair = snapToVoxelCentre(this.vol.geometry, world);
    this.updateReadout(this.crosshair);
    this.requestRender(false);
    this.saveStateSoon();
  }

  /** Moves the slice of a view by `steps` voxels along its normal. */
  scrollSlice(kind: SliceViewKind, steps: number): void {
    const vol = this.vol;
    const view = this.sliceViews.find((v) => v.kind === kind);
    if (!vol || !view) return;
    const w = view.plane.normalAxis;
    const n = vol.geometry.voxelAxisOfWorldAxis[w];
    const next: Vec3 = [...this.crosshair];
    next[w] += steps * vol.geometry.spacingMm[n];
    this.setCrosshair(next);
  }

  /** Display-world centre of a voxel. */
  worldOfVoxel(voxel: readonly number[]): Vec3 | null {
    return this.vol ? transformPoint(this.vol.geometry.displayAffine, voxel) : null;
  }

  /** Puts the crosshair on a voxel centre. */
  setCrosshairVoxel(voxel: readonly number[]): void {
    const w = this.worldOfVoxel(voxel);
    if (w) this.setCrosshair(w);
  }

  /** The voxel index of the crosshair. */
  crosshairVoxel(): Vec3 | null {
    return this.vol ? this.voxelOf(this.crosshair) : null;
  }

  /** Canvas CSS position of the centre of a voxel in a view (tests drive the mouse with it). */
  canvasOfVoxel(kind: SliceViewKind, voxel: readonly number[]): [number, number] | null {
    const vol = this.vol;
    const view = this.sliceViews.find((v) => v.kind === kind);
    if (!vol || !view) return null;
    return view.canvasOfWorld(vol.geometry, transformPoint(vol.geometry.displayAffine, voxel));
  }

  /** Rectangles of the visible views (CSS px, canvas-relative). */
  viewRects(): Partial<Record<ViewSlot, Rect>> {
    const out: Partial<Record<ViewSlot, Rect>> = {};
    for (const v of this.sliceViews) if (v.rect.width > 0) out[v.kind] = { ...v.rect };
    if (this.volumeView && this.volumeView.rect.width > 0) out['3d'] = { ...this.volumeView.rect };
    return out;
  }

  set3dMode(mode: RenderMode3D, labelMode = this.labelMode3d): void {
    this.mode3d = mode;
    this.labelMode3d = labelMode;
    this.request3d();
    this.saveStateSoon();
    this.onUiChanged?.();
  }

  setLabelDisplay(o: { show?: boolean; opacity?: number; outline?: boolean }): void {
    if (o.show !== undefined) this.showLabels = o.show;
    if (o.opacity !== undefined) this.labelOpacity = Math.max(0, Math.min(1, o.opacity));
    if (o.outline !== undefined) this.labelOutline = o.outline;
    this.requestRender(true);
    this.onUiChanged?.();
  }

  private restoreState(): void {
    const vol = this.vol;
    const s = this.host.getState() as Partial<PersistedViewerState> | undefined;
    if (!vol || !s || s.fileName !== vol.init.fileName) return;
    if (Array.isArray(s.crosshair) && s.crosshair.length === 3 && s.crosshair.every(Number.isFinite)) {
      this.crosshair = snapToVoxelCentre(vol.geometry, s.crosshair);
    }
    if (s.window && Number.isFinite(s.window.level) && s.window.width > 0) this.window = { ...s.window };
    if (s.colormap && (COLORMAP_NAMES as readonly string[]).includes(s.colormap)) this.colormap = s.colormap;
    if (s.layout === '2x2' || s.layout === '1x3' || s.layout === 'single') this.layout = s.layout;
    if (s.single) this.single = s.single;
    if (typeof s.radiological === 'boolean') this.radiological = s.radiological;
    if (s.views) {
      for (const v of this.sliceViews) {
        const z = s.views[v.kind];
        if (z && z.zoom > 0 && Array.isArray(z.panMm)) {
          v.zoom = z.zoom;
          v.panMm = [z.panMm[0], z.panMm[1]];
        }
      }
    }
    if (s.tool && s.tool in TOOL_TITLES) this.tool = s.tool;
    if (s.brushRadiusMm && s.brushRadiusMm > 0) this.brushRadiusMm = s.brushRadiusMm;
    if (s.brushShape === 'disc' || s.brushShape === 'sphere') this.brushShape = s.brushShape;
    if (s.activeLabel && s.activeLabel > 0) this.activeLabel = s.activeLabel;
    if (s.mode3d !== undefined) this.mode3d = s.mode3d;
    if (s.labelMode3d !== undefined) this.labelMode3d = s.labelMode3d;
    const look = s.overlayLook;
    if (look) {
      if (look.probabilityOpacity >= 0 && look.probabilityOpacity <= 1) this.overlayDisplay.probability.opacity = look.probabilityOpacity;
      if (look.uncertaintyOpacity >= 0 && look.uncertaintyOpacity <= 1) this.overlayDisplay.uncertainty.opacity = look.uncertaintyOpacity;
      if (typeof look.proposalOutline === 'boolean') this.proposalOutline = look.proposalOutline;
      if (UNCERTAINTY_COLORMAPS.includes(look.uncertaintyColormap)) this.setUncertaintyColormap(look.uncertaintyColormap);
    }
    if (typeof s.frame === 'number' && s.frame !== vol.frame && s.frame < vol.init.frameCount) this.selectFrame(s.frame);
  }

  private saveStateSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.saveState();
    }, 200);
  }

  /** Writes the view state with vscode.setState (survives the webview being hidden). */
  saveState(): void {
    const vol = this.vol;
    if (!vol) return;
    const views = {} as PersistedViewerState['views'];
    for (const v of this.sliceViews) views[v.kind] = { zoom: v.zoom, panMm: [...v.panMm] };
    const s: PersistedViewerState = {
      fileName: vol.init.fileName,
      crosshair: [...this.crosshair],
      window: { ...this.window },
      colormap: this.colormap,
      layout: this.layout,
      single: this.single,
      radiological: this.radiological,
      views,
      tool: this.tool,
      brushRadiusMm: this.brushRadiusMm,
      brushShape: this.brushShape,
      activeLabel: this.activeLabel,
      mode3d: this.mode3d,
      labelMode3d: this.labelMode3d,
      overlayLook: {
        probabilityOpacity: this.overlayDisplay.probability.opacity,
        uncertaintyOpacity: this.overlayDisplay.uncertainty.opacity,
        proposalOutline: this.proposalOutline,
        uncertaintyColormap: this.uncertaintyColormap,
      },
      frame: vol.frame,
    };
    this.host.setState(s);
  }

  // ─────────────────────────── layout and rendering ───────────────────────────

  /** Computes view rectangles from the layout and the container size. */
  layoutViews(): void {
    if (!this.renderer) return;
    const w = Math.max(1, Math.floor(this.viewsEl.clientWidth));
    const h = Math.max(1, Math.floor(this.viewsEl.clientHeight));
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.renderer.setSize(w, h, true);
    const dpr = window.devicePixelRatio || 1;
    this.promptLayer.width = Math.round(w * dpr);
    this.promptLayer.height = Math.round(h * dpr);
    Object.assign(this.promptLayer.style, { width: `${w}px`, height: `${h}px` });
    const none: Rect = { x: 0, y: 0, width: 0, height: 0 };
    const rects = new Map<ViewSlot, Rect>();
    const gap = 2;
    if (this.layout === '2x2') {
      const cw = Math.floor((w - gap) / 2);
      const chh = Math.floor((h - gap) / 2);
      rects.set('axial', { x: 0, y: 0, width: cw, height: chh });
      rects.set('sagittal', { x: cw + gap, y: 0, width: w - cw - gap, height: chh });
      rects.set('coronal', { x: 0, y: chh + gap, width: cw, height: h - chh - gap });
      rects.set('3d', { x: cw + gap, y: chh + gap, width: w - cw - gap, height: h - chh - gap });
    } else if (this.layout === '1x3') {
      const cw = Math.floor((w - 2 * gap) / 3);
      rects.set('axial', { x: 0, y: 0, width: cw, height: h });
      rects.set('coronal', { x: cw + gap, y: 0, width: cw, height: h });
      rects.set('sagittal', { x: 2 * (cw + gap), y: 0, width: w - 2 * (cw + gap), height: h });
    } else {
      rects.set(this.single, { x: 0, y: 0, width: w, height: h });
    }
    for (const v of this.sliceViews) v.rect = rects.get(v.kind) ?? none;
    if (this.volumeView) this.volumeView.rect = rects.get('3d') ?? none;
    for (const [slot, o] of this.overlays) {
      const r = rects.get(slot);
      const visible = !!r && !!this.vol;
      o.hidden = !visible;
      if (r) Object.assign(o.style, { left: `${r.x}px`, top: `${r.y}px`, width: `${r.width}px`, height: `${r.height}px` });
    }
    const focus = this.themeColor('--vscode-focusBorder', [0, 122, 204]);
    this.crosshairRgba = [focus[0] / 255, focus[1] / 255, focus[2] / 255, 0.85];
    // Clear the whole canvas once (gaps between views), then redraw everything.
    this.renderer.setScissor(0, 0, w, h);
    this.renderer.setClearColor(rgbToHex(this.themeColor('--vscode-editorGroup-border', [40, 40, 40])), 1);
    this.renderer.clear();
    this.requestRender(true);
  }

  /** Schedules a redraw of the slice views (and of the 3-D view when `with3d`). */
  requestRender(with3d: boolean): void {
    for (const v of this.sliceViews) this.dirtyViews.add(v);
    if (with3d) this.request3d();
    this.scheduleFrame();
  }

  /** Schedules a redraw of some slice views only. */
  private requestViews(views: Iterable<SliceView | null>): void {
    for (const v of views) if (v) this.dirtyViews.add(v);
    this.scheduleFrame();
  }

  private request3d(): void {
    this.dirty3d = true;
    this.scheduleFrame();
  }

  private scheduleFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.renderNow();
    });
  }

  /** Draws what is dirty now. Returns the milliseconds it took (including a 1-pixel readPixels when timing). */
  renderNow(): void {
    const vol = this.vol;
    const renderer = this.renderer;
    if (!vol || !renderer || !this.colormapTex || !this.heatTex || !this.uncColormapTex || !this.labelLut || !this.emptyProb) return;
    const h = Math.max(1, Math.floor(this.viewsEl.clientHeight));
    if (this.dirtyViews.size > 0) {
      const prob = this.maps.probability;
      const unc = this.maps.uncertainty;
      const probDisplay = this.overlayDisplay.probability;
      const uncDisplay = this.overlayDisplay.uncertainty;
      const state: SliceDrawState = {
        geometry: vol.geometry,
        crosshair: this.crosshair,
        image: vol.imageTexture.texture,
        labels: vol.labels.texture,
        prob: prob?.texture ?? this.emptyProb,
        unc: unc?.texture ?? this.emptyProb,
        colormap: this.colormapTex,
        labelColors: this.labelLut,
        heatmap: this.heatTex,
        uncColormap: this.uncColormapTex,
        windowLow: windowRange(this.window)[0],
        windowHigh: windowRange(this.window)[1],
        showLabels: this.showLabels,
        labelOpacity: this.labelOpacity,
        labelOutline: this.labelOutline,
        showProb: probDisplay.show && prob !== null,
        probOpacity: probDisplay.opacity,
        probThreshold: probDisplay.threshold,
        probRange: prob?.range ?? [0, 1],
        // The outline shows what Accept would write: the proposal's threshold, not the display's.
        probOutline: this.proposalOutline && probDisplay.show && prob !== null,
        probOutlineThreshold: prob?.proposal?.threshold ?? probDisplay.threshold,
        showUnc: uncDisplay.show && unc !== null,
        uncOpacity: uncDisplay.opacity,
        uncThreshold: uncDisplay.threshold,
        uncRange: unc?.range ?? [0, 1],
        showCrosshair: true,
        crosshairRgba: this.crosshairRgba,
        cursor: null,
      };
      for (const v of this.sliceViews) {
        if (!this.dirtyViews.has(v)) continue;
        const cursor =
          this.cursorWorld && this.hoverView === v && (this.tool === 'brush' || this.tool === 'eraser')
            ? { world: this.cursorWorld, radiusMm: this.brushRadiusMm }
            : null;
        if (cursor) this.lastCursorView = v;
        v.render(renderer, { ...state, cursor }, h);
      }
      this.dirtyViews.clear();
      this.updateOverlays();
      this.drawPrompts();
    }
    if (this.dirty3d && this.volumeView && this.volumeView.rect.width > 0) {
      // The ray-marcher is slow in software GL: not during a gesture or a drag, and batched.
      if (this.firstFramePending) {
        // Show the slices first; the 3-D view follows on the next frame.
        this.scheduleFrame();
      } else if (this.gesture || (this.drag && this.drag.kind !== 'orbit')) {
        if (!this.timer3d) this.timer3d = setTimeout(() => ((this.timer3d = null), this.scheduleFrame()), 300);
      } else {
        this.dirty3d = false;
        const r = this.volumeView.rect;
        renderer.setScissor(r.x, h - r.y - r.height, r.width, r.height);
        renderer.setClearColor(0x000000, 1);
        renderer.clear();
        this.volumeView.render(
          renderer,
          {
            geometry: vol.geometry,
            image: vol.imageTexture.texture,
            labels: vol.labels.texture,
            colormap: this.colormapTex,
            labelColors: this.labelLut,
            windowLow: windowRange(this.window)[0],
            windowHigh: windowRange(this.window)[1],
            mode: this.mode3d,
            labelMode: this.showLabels ? this.labelMode3d : LabelMode3D.none,
            labelOpacity: this.labelOpacity,
          },
          h,
        );
      }
    } else if (this.dirty3d && !(this.volumeView && this.volumeView.rect.width > 0)) {
      this.dirty3d = false;
    }
    if (this.firstFramePending) {
      this.firstFramePending = false;
      // gl.finish() does not wait in Chromium; a 1-pixel readPixels does.
      this.syncGpu();
      this.firstFrameMs = performance.now() - this.initReceivedAt;
      this.host.post({ type: 'rendered', what: 'first', ms: this.firstFrameMs });
    }
  }

  /** Waits for the GPU by reading one pixel back (for timings). */
  syncGpu(): void {
    const renderer = this.renderer;
    if (!renderer) return;
    const gl = renderer.getContext() as WebGL2RenderingContext;
    const px = new Uint8Array(4);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  }

  private updateOverlays(): void {
    const vol = this.vol;
    if (!vol) return;
    const vox = this.voxelOf(this.crosshair);
    for (const v of this.sliceViews) {
      const o = this.overlays.get(v.kind);
      if (!o || v.rect.width === 0) continue;
      const n = vol.geometry.voxelAxisOfWorldAxis[v.plane.normalAxis];
      const title = `${v.kind[0].toUpperCase()}${v.kind.slice(1)} ${vox ? vox[n] + 1 : '–'}/${vol.geometry.dims[n]}`;
      setText(o, '.ll-title', title);
      setText(o, '.ll-left', v.plane.letters.left);
      setText(o, '.ll-right', v.plane.letters.right);
      setText(o, '.ll-top', v.plane.letters.top);
      setText(o, '.ll-bottom', v.plane.letters.bottom);
    }
    const o3 = this.overlays.get('3d');
    if (o3) setText(o3, '.ll-title', `3-D ${this.mode3d === RenderMode3D.mip ? 'MIP' : 'DVR'}`);
  }

  private themeColor(name: string, fallback: [number, number, number]): [number, number, number] {
    const raw = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return parseCssColor(raw) ?? fallback;
  }

  // ─────────────────────────── status and messages ───────────────────────────

  showMessage(text: string): void {
    this.messageEl.textContent = text;
    this.messageEl.hidden = false;
  }

  showStatus(text: string): void {
    this.statusEl.dataset.message = text;
    this.statusEl.textContent = text;
  }

  setWarning(text: string): void {
    this.warningEl.textContent = text;
    this.warningEl.hidden = text.length === 0;
  }

  private updateReadout(world: Vec3): void {
    const vol = this.vol;
    if (!vol) return;
    this.readoutWorld = world;
    const vox = this.voxelOf(world);
    if (!vox) {
      this.statusEl.textContent = 'outside the volume';
      return;
    }
    const [nx, ny] = vol.geometry.dims;
    const idx = vox[0] + nx * (vox[1] + ny * vox[2]);
    // World position from the true affine (differs from the display for oblique images).
    const mm = transformPoint(vol.geometry.affine, vox);
    const value = vol.image[idx];
    const label = vol.labels.data[idx];
    const name = this.labelTable.find((e) => e.value === label)?.name;
    const frame = vol.init.frameCount > 1 ? `  frame ${vol.frame + 1}/${vol.init.frameCount}` : '';
    const prob = this.maps.probability;
    const unc = this.maps.uncertainty;
    const maps = (prob ? `  p ${prob.data[idx].toFixed(3)}` : '') + (unc ? `  uncertainty ${formatValue(unc.data[idx])}` : '');
    this.statusEl.textContent =
      `voxel [${vox.join(', ')}]  world (${mm.map((c) => c.toFixed(1)).join(', ')}) mm  value ${formatValue(value)}` +
      `  label ${label}${name ? ` (${name})` : ''}${maps}${frame}  ${axisCodes(vol.geometry)}`;
  }

  // ─────────────────────────── input ───────────────────────────

  private sliceViewAt(x: number, y: number): SliceView | null {
    for (const v of this.sliceViews) {
      const r = v.rect;
      if (x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height) return v;
    }
    return null;
  }

  private in3d(x: number, y: number): boolean {
    const r = this.volumeView?.rect;
    return !!r && x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
  }

  private localXY(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private bindEvents(): void {
    const c = this.canvas;
    const on = <K extends keyof HTMLElementEventMap>(t: HTMLElement | Window, type: K, f: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions): void => {
      t.addEventListener(type, f as EventListener, opts);
      this.disposers.push(() => t.removeEventListener(type, f as EventListener, opts));
    };
    on(c, 'contextmenu', (e) => e.preventDefault());
    on(c, 'pointerdown', (e) => this.onPointerDown(e));
    on(c, 'pointermove', (e) => this.onPointerMove(e));
    on(c, 'pointerup', (e) => this.onPointerUp(e));
    on(c, 'pointercancel', () => {
      this.cancelGesture();
      this.drag = null;
      this.promptPressView = null;
      this.promptTool.cancelPress();
    });
    on(c, 'pointerleave', () => {
      this.cursorWorld = null;
      this.requestRender(false);
    });
    on(c, 'wheel', (e) => this.onWheel(e), { passive: false });
    on(window, 'keydown', (e) => this.onKey(e));
  }

  private onPointerDown(e: PointerEvent): void {
    const vol = this.vol;
    if (!vol) return;
    this.canvas.focus();
    const [x, y] = this.localXY(e);
    if (this.in3d(x, y)) {
      this.drag = { kind: 'orbit', view: null, x, y };
      this.capture(e);
      return;
    }
    const view = this.sliceViewAt(x, y);
    if (!view) return;
    this.hoverView = view;
    this.capture(e);
    if (this.tool === 'prompt' && e.button !== 1) {
      // Right click and Shift+click are negative points here, not window/level or pan.
      const voxel = this.voxelOf(view.worldAtCanvas(vol.geometry, x, y, this.crosshair));
      if (!voxel) return;
      this.promptPressView = view;
      this.promptTool.pointerDown(x, y, voxel, vol.geometry.voxelAxisOfWorldAxis[view.plane.normalAxis], e.button === 2 || e.shiftKey);
      return;
    }
    if (e.button === 2) {
      this.drag = { kind: 'wl', view, x, y };
      return;
    }
    if (e.button === 1 || (e.button === 0 && e.shiftKey)) {
      this.drag = { kind: 'pan', view, x, y };
      return;
    }
    if (e.button !== 0) return;
    const world = view.worldAtCanvas(vol.geometry, x, y, this.crosshair);
    const voxel = this.voxelOf(world);
    switch (this.tool) {
      case 'navigate':
        this.drag = { kind: 'crosshair', view, x, y };
        this.setCrosshair(world);
        break;
      case 'brush':
      case 'eraser': {
        if (!voxel) return;
        const g = this.beginGesture(this.tool === 'brush' ? 'Brush' : 'Eraser', view);
        if (!g) return;
        this.brushDab(g, voxel, this.paintRule(this.tool === 'brush' ? this.activeLabel : 0));
        break;
      }
      case 'fill2d':
      case 'grow3d':
        if (voxel) this.fillAt(view, voxel, this.tool === 'grow3d');
        break;
      case 'prompt':
        // Handled above, before the right-button and Shift checks.
        break;
      default: {
        const never: never = this.tool;
        throw new Error(`unknown tool ${String(never)}`);
      }
    }
  }

  private capture(e: PointerEvent): void {
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events (bench) have no active pointer to capture.
    }
  }

  private onPointerMove(e: PointerEvent): void {
    const vol = this.vol;
    if (!vol) return;
    const [x, y] = this.localXY(e);
    const pressView = this.promptPressView;
    if (pressView) {
      this.promptTool.pointerMove(x, y, this.voxelOf(pressView.worldAtCanvas(vol.geometry, x, y, this.crosshair)));
      return;
    }
    const d = this.drag;
    if (d) {
      const dx = x - d.x;
      const dy = y - d.y;
      d.x = x;
      d.y = y;
      if (d.kind === 'orbit') {
        this.volumeView?.orbitBy(dx, dy);
        this.request3d();
        return;
      }
      const view = d.view;
      if (!view) return;
      if (d.kind === 'wl') {
        // Horizontal drag changes the width, vertical the level, scaled to the data range.
        const range = Math.max(1e-6, vol.stats.p99_5 - vol.stats.p1, this.window.width * 0.5);
        const k = range / 300;
        this.setWindow({ level: this.window.level - dy * k, width: Math.max(k, this.window.width + dx * k) });
        return;
      }
      if (d.kind === 'pan') {
        view.panBy(vol.geometry, dx, dy);
        this.requestRender(false);
        this.saveStateSoon();
        return;
      }
      if (d.kind === 'crosshair') {
        this.setCrosshair(view.worldAtCanvas(vol.geometry, x, y, this.crosshair));
        return;
      }
    }
    const view = this.sliceViewAt(x, y);
    this.hoverView = view ?? this.hoverView;
    if (!view) return;
    const world = view.worldAtCanvas(vol.geometry, x, y, this.crosshair);
    const g = this.gesture;
    if (g && g.view === view && (this.tool === 'brush' || this.tool === 'eraser')) {
      const voxel = this.voxelOf(world);
      if (voxel) this.brushDab(g, voxel, this.paintRule(this.tool === 'brush' ? this.activeLabel : 0));
    }
    // Brush preview at the voxel centre the brush would use.
    const vox = this.voxelOf(world);
    this.cursorWorld = vox ? transformPoint(vol.geometry.displayAffine, vox) : world;
    this.updateReadout(world);
    if (this.tool === 'brush' || this.tool === 'eraser') this.requestViews([view, this.lastCursorView]);
  }

  private onPointerUp(e: PointerEvent): void {
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (this.gesture) this.endGesture();
    if (this.promptPressView) {
      this.promptPressView = null;
      this.promptTool.pointerUp();
    }
    if (this.drag?.kind === 'orbit') this.request3d();
    this.drag = null;
  }

  private onWheel(e: WheelEvent): void {
    const vol = this.vol;
    if (!vol) return;
    e.preventDefault();
    const [x, y] = this.localXY(e);
    if (this.in3d(x, y)) {
      this.volumeView?.zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1);
      this.request3d();
      return;
    }
    const view = this.sliceViewAt(x, y);
    if (!view) return;
    this.hoverView = view;
    if (e.ctrlKey || e.metaKey) {
      view.zoomAt(vol.geometry, e.deltaY < 0 ? 1.15 : 1 / 1.15, x, y);
      this.requestRender(false);
      this.saveStateSoon();
      return;
    }
    this.scrollSlice(view.kind, e.deltaY < 0 ? 1 : -1);
  }

  private onKey(e: KeyboardEvent): void {
    const vol = this.vol;
    if (!vol) return;
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
    const kind = this.hoverView?.kind ?? (this.layout === 'single' && this.single !== '3d' ? this.single : 'axial');
    const key = e.key;
    let handled = true;
    if (key === 'ArrowUp' || key === 'ArrowRight') this.scrollSlice(kind, 1);
    else if (key === 'ArrowDown' || key === 'ArrowLeft') this.scrollSlice(kind, -1);
    else if (key === 'PageUp') this.scrollSlice(kind, 10);
    else if (key === 'PageDown') this.scrollSlice(kind, -10);
    else if (e.ctrlKey || e.metaKey || e.altKey) handled = false;
    else if (key in TOOL_KEYS) this.setTool(TOOL_KEYS[key]);
    else if (key === '[' || key === ']') {
      this.brushRadiusMm = Math.max(0.25, Math.round((this.brushRadiusMm * (key === ']' ? 1.25 : 0.8)) * 4) / 4);
      this.requestRender(false);
      this.onUiChanged?.();
    } else if (key === 's') {
      this.brushShape = this.brushShape === 'disc' ? 'sphere' : 'disc';
      this.onUiChanged?.();
    } else if (key === 't') {
      this.thresholdOn = !this.thresholdOn;
      this.onUiChanged?.();
    } else if (key === 'i') this.interpolate(kind);
    else if (key === 'r') this.removeIslands();
    else if (key === 'o') this.setLabelDisplay({ outline: !this.labelOutline });
    else if (key === 'v') this.setLabelDisplay({ show: !this.showLabels });
    else if (key === OVERLAY_KEYS.toggleProbability) this.setOverlayDisplay('probability', { show: !this.overlayDisplay.probability.show });
    else if (key === OVERLAY_KEYS.toggleUncertainty) this.setOverlayDisplay('uncertainty', { show: !this.overlayDisplay.uncertainty.show });
    else if (key === OVERLAY_KEYS.toggleProposalOutline) this.setProposalOutline(!this.proposalOutline);
    else if (key === OVERLAY_KEYS.segmentLesion) this.segmentLesion();
    else if (key === OVERLAY_KEYS.acceptProposal) handled = this.acceptProposal();
    else if (key === OVERLAY_KEYS.rejectProposal) handled = this.rejectProposal();
    else if (key === 'l') this.setLayout(this.layout === '2x2' ? '1x3' : this.layout === '1x3' ? 'single' : '2x2', kind);
    else if (key === 'm') this.set3dMode(this.mode3d === RenderMode3D.mip ? RenderMode3D.dvr : RenderMode3D.mip);
    else if (key === 'w') this.applyPreset('auto');
    else if (/^[1-9]$/.test(key)) {
      this.activeLabel = Number(key);
      this.onUiChanged?.();
    } else if (key === ',' || key === '.') this.selectFrame(vol.frame + (key === '.' ? 1 : -1));
    else if (key === 'Backspace' && this.promptTool.entries.length > 0) this.promptTool.removeLast();
    else if (key === 'Escape') {
      this.cancelGesture();
      this.promptTool.clear();
    }
    else handled = false;
    if (handled) e.preventDefault();
  }

  private updateCursor(): void {
    this.canvas.style.cursor = this.tool === 'navigate' ? 'crosshair' : this.tool === 'brush' || this.tool === 'eraser' ? 'none' : 'cell';
  }

  /** Sends `ready` (call once the message listener is installed). */
  sendReady(): void {
    this.host.post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  }

  private clearVolume(): void {
    const vol = this.vol;
    this.cancelGesture();
    if (vol) {
      vol.imageTexture.texture.dispose();
      vol.labels.dispose();
    }
    for (const v of this.sliceViews) v.dispose();
    this.sliceViews.length = 0;
    this.volumeView?.dispose();
    this.volumeView = null;
    for (const k of ['probability', 'uncertainty'] as const) {
      this.maps[k]?.texture.dispose();
      this.maps[k] = null;
    }
    this.vol = null;
    this.hoverView = null;
    this.lastCursorView = null;
    this.cursorWorld = null;
    this.readoutWorld = null;
  }

  dispose(): void {
    this.clearVolume();
    for (const d of this.disposers.splice(0)) d();
    if (this.timer3d) clearTimeout(this.timer3d);
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.colormapTex?.dispose();
    this.heatTex?.dispose();
    this.uncColormapTex?.dispose();
    this.labelLut?.dispose();
    this.emptyProb?.dispose();
    this.renderer?.dispose();
    this.root.remove();
  }
}

function el(tag: string, className: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = className;
  return e;
}

function setText(parent: HTMLElement, selector: string, text: string): void {
  const e = parent.querySelector(selector);
  if (e && e.textContent !== text) e.textContent = text;
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

/** Parses "#rgb", "#rrggbb", "#rrggbbaa" or "rgb(a)(r, g, b…)" into bytes; null otherwise. */
export function parseCssColor(raw: string): [number, number, number] | null {
  const s = raw.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [0, 1, 2].map((n) => parseInt(m![1][n] + m![1][n], 16)) as [number, number, number];
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(s);
  if (m) return [0, 2, 4].map((n) => parseInt(m![1].slice(n, n + 2), 16)) as [number, number, number];
  m = /^rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)/i.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return null;
}

function rgbToHex(c: [number, number, number]): number {
  return (c[0] << 16) | (c[1] << 8) | c[2];
}
