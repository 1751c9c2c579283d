// The Lesion Lab viewer: one canvas (one WebGL2 context) holding the axial, coronal and sagittal
// slice views and the 3-D view in a 2×2, 1×3 or single layout. The view and tool state and its
// setters are in ViewerState; the Viewer coordinates the modules that act on it: volumeLoader,
// overlayMaps, labelLut, labelEditing, layout, renderLoop, input and keymap, readout,
// persistedState. Renders on demand only. Talks to the host only through its `ViewerHost`.
import { WebGLRenderer } from 'three';
import type { LabelArray } from '../src/protocol/labelDelta';
import {
  PROTOCOL_VERSION,
  voxelArrayOf,
  type ApplyDeltaMessage,
  type FrameDataMessage,
  type HostCommandId,
  type InitMessage,
  type LabelTableEntry,
  type OverlayKind,
  type OverlayMessage,
  type ReplaceLabelsMessage,
} from '../src/protocol/messages';
import { buildViewerDom } from './dom';
import { SLICE_VIEW_KINDS, displayBounds, snapToVoxelCentre, type SliceViewKind, type Vec3, type VolumeGeometry } from './geometry';
import { PointerInput } from './input';
import { handleKey, type KeyTarget } from './keymap';
import { LabelEditing } from './labelEditing';
import { LabelLut } from './labelLut';
import { layoutViews } from './layout';
import { parsePersistedState } from './persistedState';
import { readoutText, updateViewTitles } from './readout';
import { RenderLoop, type RenderScene } from './renderLoop';
import { SliceView } from './sliceView';
import { createImageTexture, uploadVolumeInChunks } from './textures';
import type { PaintRule } from './tools/paintRule';
import { PromptTool } from './tools/promptTool';
import { redrawLayer } from './tools/viewFrames';
import type { ViewSlot, ViewerHost, Volume } from './types';
import { ViewerState, type Change } from './viewerState';
import { isRefusal, labelsFromWire, loadVolume, loadWarnings } from './volumeLoader';
import { VolumeView } from './volumeView';
import { defaultWindow } from './windowing';

export type { ViewerHost, ViewSlot } from './types';

/** The viewer; one per webview. */
export class Viewer extends ViewerState implements RenderScene, KeyTarget {
  readonly root: HTMLElement;
  readonly toolbarEl: HTMLElement;
  readonly warningEl: HTMLElement;
  readonly viewsEl: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** 2-D canvas over the views for the prompt markers and the rulers. */
  readonly promptLayer: HTMLCanvasElement;
  readonly messageEl: HTMLElement;
  readonly labelTableEl: HTMLElement;
  readonly statusEl: HTMLElement;
  private readonly viewOverlays: Map<ViewSlot, HTMLElement>;
  readonly renderer: WebGLRenderer | null = null;
  readonly sliceViews: SliceView[] = [];
  volumeView: VolumeView | null = null;
  /** The loaded document (tests read it). */
  vol: Volume | null = null;
  readonly labelLut = new LabelLut();
  readonly editing: LabelEditing;
  readonly loop: RenderLoop;
  private readonly input: PointerInput;
  private readoutWorld: Vec3 | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly disposers: (() => void)[] = [];
  /** Called after every label change (tests and the label table use it). */
  onLabelsChanged: (() => void) | null = null;
  /** Called when controls must refresh (tool, label table, settings). */
  onUiChanged: (() => void) | null = null;
  /** The Prompt tool's prompts for the current object (webview/tools/promptTool.ts). */
  readonly promptTool: PromptTool;

  constructor(
    parent: HTMLElement,
    private readonly host: ViewerHost,
  ) {
    super();
    const dom = buildViewerDom(parent);
    ({ root: this.root, toolbarEl: this.toolbarEl, warningEl: this.warningEl, viewsEl: this.viewsEl, canvas: this.canvas } = dom);
    ({ promptLayer: this.promptLayer, messageEl: this.messageEl, labelTableEl: this.labelTableEl, statusEl: this.statusEl, viewOverlays: this.viewOverlays } = dom);
    this.promptTool = new PromptTool({ post: (m) => this.host.post(m), target: () => this.promptTarget(), changed: () => this.drawPrompts(), status: (text) => this.showStatus(text) });
    this.editing = new LabelEditing({
      settings: this,
      volume: () => this.vol,
      renderer: () => this.renderer,
      sliceViews: () => this.sliceViews,
      crosshairVoxel: () => this.crosshairVoxel(),
      post: (m, transfer) => this.host.post(m, transfer),
      status: (text) => this.showStatus(text),
      redrawViews: (views) => this.loop.requestViews(views),
      redrawAll: () => this.loop.requestRender(true),
      labelsChanged: () => {
        this.labelsVersion++;
        this.loop.requestRender(true);
        this.onLabelsChanged?.();
        this.onUiChanged?.();
      },
    });
    this.loop = new RenderLoop(this);
    this.input = new PointerInput(this);
    const gl = this.canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false, alpha: false });
    if (!gl) {
      this.showMessage('WebGL2 is not available in this webview, so Lesion Lab cannot draw the volume. Check that hardware acceleration (or software WebGL) is enabled in VS Code.');
      this.host.post({ type: 'error', message: 'WebGL2 is not available in the webview', stack: null });
      return;
    }
    this.renderer = new WebGLRenderer({ canvas: this.canvas, context: gl, antialias: false, preserveDrawingBuffer: true });
    this.renderer.autoClear = false;
    this.renderer.setScissorTest(true);
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.disposers.push(this.input.bind());
    const onKey = (e: KeyboardEvent): void => {
      if (this.vol) handleKey(e, this, this.keyView());
    };
    window.addEventListener('keydown', onKey);
    this.disposers.push(() => window.removeEventListener('keydown', onKey));
    const ro = new ResizeObserver(() => this.layoutViews());
    ro.observe(this.viewsEl);
    this.disposers.push(() => ro.disconnect());
  }

  protected changed(c: Change): void {
    if (c.render === '3d') this.loop.request3d();
    else if (c.render) this.loop.requestRender(c.render === 'all');
    if (c.save) this.saveStateSoon();
    if (c.ui) this.onUiChanged?.();
  }

  // ─────────────────────────── loading ───────────────────────────

  /** Loads a document (the host's `init`). */
  load(init: InitMessage): void {
    const receivedAt = performance.now();
    this.clearVolume();
    if (!this.renderer) return;
    const loaded = loadVolume(this.renderer, init, (m) => this.host.post(m));
    if (isRefusal(loaded)) {
      this.showMessage(loaded.message);
      if (loaded.log) this.host.post({ type: 'error', message: loaded.log, stack: null });
      return;
    }
    const vol = (this.vol = loaded);
    this.editing.scanPresentLabels();
    for (const kind of SLICE_VIEW_KINDS) this.sliceViews.push(new SliceView(kind, 'radiological', vol.imageTexture.sampler));
    this.volumeView = new VolumeView(vol.imageTexture.sampler);
    this.readOnly = init.readOnly;
    this.readOnlyReason = init.readOnlyReason;
    this.applySettings(init.settings);
    this.setLabelTable(init.labelTable, false);
    // Defaults, then whatever was saved for this file.
    const b = displayBounds(vol.geometry);
    this.crosshair = snapToVoxelCentre(vol.geometry, [0, 1, 2].map((w) => (b.min[w] + b.max[w]) / 2));
    this.window = defaultWindow(init.stats, init.modality);
    this.thresholdRange = { min: init.stats.p50, max: init.stats.max };
    this.restoreState();
    for (const v of this.sliceViews) v.setConvention(this.radiological ? 'radiological' : 'neurological');
    this.setColormap(this.colormap);
    this.setWarning(loadWarnings(vol));
    this.messageEl.hidden = true;
    this.loop.startFirstFrame(receivedAt);
    this.showReadout(this.crosshair);
    this.layoutViews();
    this.changed({ render: 'all', ui: true });
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
    this.showReadout(this.readoutWorld ?? this.crosshair);
    for (const v of this.sliceViews) v.setSampler(vol.imageTexture.sampler);
    this.volumeView?.setSampler(vol.imageTexture.sampler);
    this.changed({ render: 'all', save: true, ui: true });
  }

  /** Asks the host for another frame of a 4-D image. */
  selectFrame(frame: number): void {
    const vol = this.vol;
    if (!vol) return;
    const f = Math.max(0, Math.min(vol.init.frameCount - 1, Math.round(frame)));
    if (f !== vol.frame) this.host.post({ type: 'requestFrame', frame: f });
  }

  stepFrame(step: number): void {
    this.selectFrame(this.frame + step);
  }

  /** The first frame after `init` is still to be drawn (the e2e test waits for it). */
  get firstFramePending(): boolean {
    return this.loop.firstFramePending;
  }

  // ─────────────────────────── overlay maps and the proposal ───────────────────────────

  /** Shows a probability or uncertainty map in its own slot (see OverlayMaps.set). */
  setOverlay(m: OverlayMessage): void {
    const vol = this.vol;
    if (!vol) return;
    const refused = this.overlayMaps.set(m, vol.geometry.dims);
    if (refused) {
      this.showStatus(refused);
      return;
    }
    this.showReadout(this.readoutWorld ?? this.crosshair);
    this.changed({ render: m.kind === 'fusion' ? 'all' : 'slices', ui: true });
  }

  /** Removes the map of `kind` (both when no kind is given); the other kind stays. */
  clearOverlay(kind?: OverlayKind): void {
    this.overlayMaps.clear(kind);
    this.showReadout(this.readoutWorld ?? this.crosshair);
    this.changed({ render: kind === undefined || kind === 'fusion' ? 'all' : 'slices', ui: true });
  }

  /** Asks the host to run one of its commands on this document (toolbar buttons, shortcuts). */
  runHostCommand(command: HostCommandId): void {
    this.host.post({ type: 'runCommand', command });
  }

  /** Segment Lesion on this document. */
  segmentLesion(): void {
    this.showStatus('Segment Lesion: running the model…');
    this.runHostCommand('lesionLab.segmentLesion');
  }

  /** Accept Lesion Proposal (only while a proposal is shown). Returns whether it was asked. */
  acceptProposal(): boolean {
    const p = this.proposal;
    if (!p) return false;
    if (this.readOnly) {
      this.showStatus(`Read-only${this.readOnlyReason ? `: ${this.readOnlyReason}` : ''}; the proposal cannot be accepted.`);
      return false;
    }
    if (p.origin === 'prompts') {
      // The prompted object goes into the label and overwrite policy selected now.
      this.showStatus(`Accepting the prompted object into label ${this.activeLabel}…`);
      this.host.post({ type: 'acceptPrompt', target: this.promptTarget() });
      return true;
    }
    this.showStatus(`Accepting the proposal of model ${p.modelVersion}…`);
    this.runHostCommand('lesionLab.acceptProposal');
    return true;
  }

  /** Reject Lesion Proposal (only while a proposal is shown). Returns whether it was asked. */
  rejectProposal(): boolean {
    if (!this.proposal) return false;
    this.runHostCommand('lesionLab.rejectProposal');
    return true;
  }

  // ─────────────────────────── prompts ───────────────────────────

  /** The host is done with the prompted object (accepted, rejected or replaced). */
  promptsCleared(): void {
    this.promptTool.reset();
  }

  /** Backspace: drops the last prompt, or with the Measure tool the last ruler. */
  removeLastPrompt(): boolean {
    return this.tool === 'measure' ? this.measureTool.removeLast() : this.promptTool.removeLast();
  }

  /** Esc: drops the gesture in progress and the prompts, or with the Measure tool the rulers. */
  cancel(): void {
    this.editing.cancel();
    if (this.tool === 'measure') this.measureTool.clear();
    else this.promptTool.clear();
  }

  /** Redraws the prompt markers and the rulers of every visible slice view. */
  drawPrompts(): void {
    redrawLayer(this.promptLayer, this.vol?.geometry ?? null, this.sliceViews, this.crosshairVoxel(), [this.promptTool, this.measureTool]);
  }

  // ─────────────────────────── labels ───────────────────────────

  /** Applies a delta from the host (undo/redo, another view's edit, a host command). */
  applyHostDelta(m: ApplyDeltaMessage): void {
    this.editing.applyHostDelta(m);
  }

  /** Replaces the whole label volume (revert, resync). */
  replaceLabels(m: ReplaceLabelsMessage): void {
    const vol = this.vol;
    if (!vol) return;
    this.editing.replaceAll(labelsFromWire(m.labels, vol.geometry.dims, (msg) => this.host.post(msg)));
    this.setLabelTable(m.labelTable, false);
    this.editing.notifyChanged();
  }

  /** The live label volume (tests read it; tools write it through gestures). */
  get labels(): LabelArray | null {
    return this.vol?.labels.data ?? null;
  }

  get geometry(): VolumeGeometry | null {
    return this.vol?.geometry ?? null;
  }

  /** Label values present in the volume (scanned on load, extended by edits). */
  get presentLabels(): ReadonlySet<number> {
    return this.editing.presentLabels;
  }

  /** Sets the label table; `post` sends it to the host as one undoable change. */
  setLabelTable(table: LabelTableEntry[], post: boolean, undoLabel = 'Edit labels'): void {
    this.labelTable = table.map((e) => ({ ...e, color: [...e.color] as [number, number, number] }));
    this.labelLut.update(this.labelTable);
    if (post) this.host.post({ type: 'setLabelTable', labelTable: this.labelTable, label: undoLabel });
    this.changed({ render: 'all', ui: true });
  }

  /** The paint rule of the current tool settings, writing `value`. */
  paintRule(value: number): PaintRule {
    return this.editing.paintRule(value);
  }

  /** Flood fill (2-D) or region grow (3-D) from a voxel, with the intensity tolerance. */
  fillAt(view: SliceView, voxel: Vec3, threeD: boolean): number {
    return this.editing.fillAt(view, voxel, threeD);
  }

  /** Interpolates the active label between the slices it is drawn on, across the view's normal. */
  interpolate(kind: SliceViewKind = this.input.hoverView?.kind ?? 'axial'): number {
    const view = this.sliceViews.find((v) => v.kind === kind);
    return view ? this.editing.interpolate(view, kind) : 0;
  }

  /** Grows or shrinks the active label (negative mm) or smooths it, as one edit (LabelEditing.reshapeLabel). */
  reshapeLabel(how: { marginMm: number } | { smoothMm: number }): number {
    return this.sliceViews[0] ? this.editing.reshapeLabel(this.sliceViews[0], how) : 0;
  }

  /** Removes islands of the active label (or all labels) smaller than islandMinVoxels. */
  removeIslands(allLabels = false): number {
    const view = this.sliceViews[0];
    return view ? this.editing.removeIslands(view, allLabels) : 0;
  }

  /** The slice view keys act on: the one under the mouse last, else the single view, else axial. */
  private keyView(): SliceViewKind {
    return this.input.hoverView?.kind ?? (this.layout === 'single' && this.single !== '3d' ? this.single : 'axial');
  }

  // ─────────────────────────── persisted state ───────────────────────────

  private restoreState(): void {
    const vol = this.vol;
    const s = vol ? parsePersistedState(this.host.getState(), vol.init.fileName, vol.init.frameCount) : null;
    if (!vol || !s) return;
    this.applyRestoredState(s, vol);
    if (s.frame !== undefined && s.frame !== vol.frame) this.selectFrame(s.frame);
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
    if (this.vol) this.host.setState(this.persistedState(this.vol));
  }

  // ─────────────────────────── layout and rendering ───────────────────────────

  /** Computes view rectangles from the layout and the container size, then redraws all. */
  layoutViews(): void {
    if (!this.renderer) return;
    this.crosshairRgba = layoutViews({
      renderer: this.renderer,
      viewsEl: this.viewsEl,
      promptLayer: this.promptLayer,
      sliceViews: this.sliceViews,
      volumeView: this.volumeView,
      viewOverlays: this.viewOverlays,
      hasVolume: this.vol !== null,
      layout: this.layout,
      single: this.single,
    });
    this.loop.requestRender(true);
  }

  /** Schedules a redraw of the slice views (and of the 3-D view when `with3d`). */
  requestRender(with3d: boolean): void {
    this.loop.requestRender(with3d);
  }

  /** Draws what is dirty now (the bench times it). */
  renderNow(): void {
    this.loop.renderNow();
  }

  /** Waits for the GPU by reading one pixel back (for timings). */
  syncGpu(): void {
    this.loop.syncGpu();
  }

  brushCursor(view: SliceView): { world: Vec3; radiusMm: number } | null {
    return this.input.brushCursor(view);
  }

  busy(): boolean {
    return this.editing.active || this.input.dragging;
  }

  afterSlices(): void {
    if (this.vol) updateViewTitles(this.viewOverlays, this.vol, this.sliceViews, this.crosshair, this.mode3d);
    this.drawPrompts();
  }

  firstFrameDrawn(ms: number): void {
    this.host.post({ type: 'rendered', what: 'first', ms });
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

  /** Shows the readout of a display-world point in the status line. */
  showReadout(world: Vec3): void {
    if (!this.vol) return;
    this.readoutWorld = world;
    this.statusEl.textContent = readoutText(this.vol, world, this.labelTable, this.overlayMaps);
  }

  /** Sends `ready` (call once the message listener is installed). */
  sendReady(): void {
    this.host.post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  }

  private clearVolume(): void {
    const vol = this.vol;
    this.editing.cancel();
    if (vol) {
      vol.imageTexture.texture.dispose();
      vol.labels.dispose();
    }
    for (const v of this.sliceViews) v.dispose();
    this.sliceViews.length = 0;
    this.volumeView?.dispose();
    this.volumeView = null;
    this.overlayMaps.clear();
    this.measureTool.clear();
    this.vol = null;
    this.input.reset();
    this.readoutWorld = null;
  }

  dispose(): void {
    this.clearVolume();
    for (const d of this.disposers.splice(0)) d();
    this.loop.dispose();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.colormapTexture.dispose();
    this.overlayMaps.dispose();
    this.labelLut.dispose();
    this.renderer?.dispose();
    this.root.remove();
  }
}
