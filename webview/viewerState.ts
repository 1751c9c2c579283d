// The viewer's view and tool state with its setters: each setter changes the state, then says
// what must follow (redraw, save, refresh the controls) through `changed`. The Viewer (viewer.ts)
// extends it with loading, rendering, input and the host.
import type { DataTexture } from 'three';
import type { LabelTableEntry, OverlayKind, OverwriteMode, ProposalInfo, ViewLayout, ViewerSettings } from '../src/protocol/messages';
import { COLORMAP_NAMES, colormapTable, type ColormapName } from './colormaps';
import { snapToVoxelCentre, transformPoint, voxelIndexAt, type SliceViewKind, type Vec3 } from './geometry';
import { OverlayMaps, type OverlayDisplay } from './overlayMaps';
import type { PersistedViewerState, RestoredViewerState } from './persistedState';
import { LabelMode3D, RenderMode3D } from './renderModes';
import type { Rect, SliceView } from './sliceView';
import { createLutTexture } from './textures';
import type { BrushShape } from './tools/brush';
import { MeasureTool } from './tools/measureTool';
import type { PromptDrag } from './tools/promptTool';
import type { ToolName } from './tools/toolSet';
import type { ToolSettings, ViewSlot, Volume } from './types';
import type { VolumeView } from './volumeView';
import { CT_PRESETS, autoWindow, type CtPresetName, type WindowLevel } from './windowing';

/** What a state change needs afterwards. */
export interface Change {
  /** Redraw the slice views, everything (3-D too), or the 3-D view only. */
  render?: 'slices' | 'all' | '3d';
  /** Write the view state (vscode.setState) soon. */
  save?: boolean;
  /** Bring the controls in line. */
  ui?: boolean;
}

export abstract class ViewerState implements ToolSettings {
  abstract readonly canvas: HTMLCanvasElement;
  abstract readonly sliceViews: SliceView[];
  abstract volumeView: VolumeView | null;
  abstract vol: Volume | null;
  readonly overlayMaps = new OverlayMaps();
  readonly colormapTexture: DataTexture = createLutTexture(colormapTable('gray'));
  labelTable: LabelTableEntry[] = [];
  // View state.
  crosshair: Vec3 = [0, 0, 0];
  crosshairRgba: [number, number, number, number] = [0, 0.48, 0.8, 0.85];
  window: WindowLevel = { level: 0.5, width: 1 };
  colormap: ColormapName = 'gray';
  layout: ViewLayout = '2x2';
  single: ViewSlot = 'axial';
  radiological = true;
  showLabels = true;
  labelOpacity = 0.5;
  labelOutline = false;
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
  /** What a plain drag draws in the Prompt tool ("Drag draws"; Ctrl and Alt override it). */
  promptDrag: PromptDrag = 'box';
  islandMinVoxels = 10;
  /** Grow / Shrink distance and Smooth radius of the label operations, mm. */
  marginMm = 1;
  smoothMm = 1.5;
  /** Counts label changes (the label statistics recompute when it moves). */
  labelsVersion = 0;
  /** The Measure tool's rulers and angles (webview/tools/measureTool.ts), kept with the view state. */
  readonly measureTool = new MeasureTool({ changed: () => this.changed({ render: 'slices', save: true }), status: (text) => this.showStatus(text) });
  readOnly = false;
  readOnlyReason: string | null = null;

  /** Does what a state change needs afterwards: redraw, save soon, refresh the controls. */
  protected abstract changed(c: Change): void;
  /** Places the views for the layout and redraws them. */
  abstract layoutViews(): void;
  /** Shows the readout of a display-world point in the status line. */
  abstract showReadout(world: Vec3): void;
  /** Shows a short message in the status line. */
  abstract showStatus(text: string): void;

  get frameCount(): number {
    return this.vol?.init.frameCount ?? 1;
  }

  get frame(): number {
    return this.vol?.frame ?? 0;
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
    this.changed({ render: 'all', ui: true });
  }
  // ─────────────────────────── overlay display ───────────────────────────

  /** Whether any overlay map is shown (`kind`: that map). */
  hasOverlay(kind?: OverlayKind): boolean {
    return this.overlayMaps.has(kind);
  }

  /** Value range of the map of `kind`, or null when there is none. */
  overlayRange(kind: OverlayKind): [number, number] | null {
    return this.overlayMaps.range(kind);
  }

  /** The proposal awaiting Accept / Reject (carried by the probability map), or null. */
  get proposal(): ProposalInfo | null {
    return this.overlayMaps.proposal;
  }

  get overlayDisplay(): Record<OverlayKind, OverlayDisplay> {
    return this.overlayMaps.display;
  }

  get proposalOutline(): boolean {
    return this.overlayMaps.proposalOutline;
  }

  get uncertaintyColormap(): ColormapName {
    return this.overlayMaps.uncertaintyColormap;
  }

  /** Changes how one overlay kind is shown. */
  setOverlayDisplay(kind: OverlayKind, o: Partial<OverlayDisplay>): void {
    this.overlayMaps.setDisplay(kind, o);
    // The fused image is drawn in the 3-D view too.
    this.changed({ render: kind === 'fusion' ? 'all' : 'slices', save: true, ui: true });
  }

  toggleOverlay(kind: OverlayKind): void {
    this.setOverlayDisplay(kind, { show: !this.overlayDisplay[kind].show });
  }

  setProposalOutline(on: boolean): void {
    this.overlayMaps.proposalOutline = on;
    this.changed({ render: 'slices', save: true, ui: true });
  }

  toggleProposalOutline(): void {
    this.setProposalOutline(!this.proposalOutline);
  }

  setUncertaintyColormap(name: ColormapName): void {
    this.overlayMaps.setUncertaintyColormap(name);
    this.changed({ render: 'slices', save: true, ui: true });
  }

  get fusionColormap(): ColormapName {
    return this.overlayMaps.fusionColormap;
  }

  /** The fused image's file name, or null when there is none. */
  get fusionName(): string | null {
    return this.overlayMaps.get('fusion')?.name ?? null;
  }

  setFusionColormap(name: ColormapName): void {
    this.overlayMaps.setFusionColormap(name);
    this.changed({ render: 'all', ui: true });
  }

  /** Probability-map display (kept for existing callers). */
  setProbDisplay(o: Partial<OverlayDisplay>): void {
    this.setOverlayDisplay('probability', o);
  }
  // ─────────────────────────── tools ───────────────────────────

  setTool(tool: ToolName): void {
    this.tool = tool;
    this.canvas.dataset.tool = tool;
    this.canvas.style.cursor = tool === 'navigate' ? 'crosshair' : tool === 'brush' || tool === 'eraser' ? 'none' : 'cell';
    this.changed({ save: true, ui: true });
  }

  setBrushRadius(mm: number): void {
    if (!(mm > 0)) return;
    this.brushRadiusMm = mm;
    this.changed({ render: 'slices', ui: true });
  }

  /** `[` and `]`: the radius times `factor`, in quarter millimetres. */
  scaleBrush(factor: number): void {
    this.setBrushRadius(Math.max(0.25, Math.round(this.brushRadiusMm * factor * 4) / 4));
  }

  setBrushShape(shape: BrushShape): void {
    this.brushShape = shape;
    this.changed({ ui: true });
  }

  toggleBrushShape(): void {
    this.setBrushShape(this.brushShape === 'disc' ? 'sphere' : 'disc');
  }

  setPromptDrag(drag: PromptDrag): void {
    this.promptDrag = drag;
    this.changed({ save: true, ui: true });
  }

  toggleThreshold(): void {
    this.thresholdOn = !this.thresholdOn;
    this.changed({ ui: true });
  }

  setActiveLabel(value: number): void {
    this.activeLabel = value;
    this.changed({ ui: true });
  }

  /** Where an accepted prompt proposal goes: the active label under the overwrite policy. */
  promptTarget(): { labelValue: number; overwrite: OverwriteMode; overwriteLabel: number } {
    return { labelValue: this.activeLabel, overwrite: this.overwrite, overwriteLabel: this.overwriteLabel };
  }

  // ─────────────────────────── view state ───────────────────────────

  setLayout(layout: ViewLayout, single?: ViewSlot): void {
    this.layout = layout;
    if (single) this.single = single;
    this.layoutViews();
    this.changed({ save: true, ui: true });
  }

  /** `L`: 2×2 → 1×3 → single (`kind`) → 2×2. */
  cycleLayout(kind: SliceViewKind): void {
    this.setLayout(this.layout === '2x2' ? '1x3' : this.layout === '1x3' ? 'single' : '2x2', kind);
  }

  setColormap(name: ColormapName): void {
    this.colormap = name;
    this.colormapTexture.image.data = colormapTable(name);
    this.colormapTexture.needsUpdate = true;
    this.changed({ render: 'all', save: true, ui: true });
  }

  setWindow(w: WindowLevel): void {
    this.window = { level: w.level, width: Math.max(w.width, 1e-6) };
    this.changed({ render: 'all', save: true, ui: true });
  }

  applyPreset(name: CtPresetName | 'auto'): void {
    if (name !== 'auto') this.setWindow({ ...CT_PRESETS[name] });
    // Percentiles of the non-zero voxels (skull-stripped MR has a zero background).
    else if (this.vol) this.setWindow(autoWindow(this.vol.image));
  }

  setRadiological(on: boolean): void {
    this.radiological = on;
    for (const v of this.sliceViews) v.setConvention(on ? 'radiological' : 'neurological');
    this.changed({ render: 'slices', save: true, ui: true });
  }

  set3dMode(mode: RenderMode3D, labelMode = this.labelMode3d): void {
    this.mode3d = mode;
    this.labelMode3d = labelMode;
    this.changed({ render: '3d', save: true, ui: true });
  }

  toggle3dMode(): void {
    this.set3dMode(this.mode3d === RenderMode3D.mip ? RenderMode3D.dvr : RenderMode3D.mip);
  }

  setLabelDisplay(o: { show?: boolean; opacity?: number; outline?: boolean }): void {
    if (o.show !== undefined) this.showLabels = o.show;
    if (o.opacity !== undefined) this.labelOpacity = Math.max(0, Math.min(1, o.opacity));
    if (o.outline !== undefined) this.labelOutline = o.outline;
    this.changed({ render: 'all', ui: true });
  }

  toggleLabels(): void {
    this.setLabelDisplay({ show: !this.showLabels });
  }

  toggleLabelOutline(): void {
    this.setLabelDisplay({ outline: !this.labelOutline });
  }

  setCrosshair(world: readonly number[]): void {
    if (!this.vol) return;
    this.crosshair = snapToVoxelCentre(this.vol.geometry, world);
    this.showReadout(this.crosshair);
    this.changed({ render: 'slices', save: true });
  }

  /** Moves the slice of a view by `steps` voxels along its normal. */
  scrollSlice(kind: SliceViewKind, steps: number): void {
    const vol = this.vol;
    const view = this.sliceViews.find((v) => v.kind === kind);
    if (!vol || !view) return;
    const w = view.plane.normalAxis;
    const next: Vec3 = [...this.crosshair];
    next[w] += steps * vol.geometry.spacingMm[vol.geometry.voxelAxisOfWorldAxis[w]];
    this.setCrosshair(next);
  }

  /** A slice view was panned or zoomed. */
  viewMoved(): void {
    this.changed({ render: 'slices', save: true });
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
    return this.vol ? voxelIndexAt(this.vol.geometry, this.crosshair) : null;
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

  // ─────────────────────────── persisted state ───────────────────────────

  /** Takes the valid parts of a saved state (the frame is the caller's: it asks the host). */
  protected applyRestoredState(s: RestoredViewerState, vol: Volume): void {
    if (s.crosshair) this.crosshair = snapToVoxelCentre(vol.geometry, s.crosshair);
    if (s.window) this.window = s.window;
    if (s.colormap) this.colormap = s.colormap;
    if (s.layout) this.layout = s.layout;
    if (s.single) this.single = s.single;
    if (s.radiological !== undefined) this.radiological = s.radiological;
    for (const v of this.sliceViews) {
      const look = s.views?.[v.kind];
      if (look) [v.zoom, v.panMm] = [look.zoom, look.panMm];
    }
    if (s.tool) this.tool = s.tool;
    if (s.measurements) this.measureTool.rulers = s.measurements.filter((r) => r.slice < vol.geometry.dims[r.normalAxis]);
    if (s.brushRadiusMm) this.brushRadiusMm = s.brushRadiusMm;
    if (s.brushShape) this.brushShape = s.brushShape;
    if (s.promptDrag) this.promptDrag = s.promptDrag;
    if (s.activeLabel) this.activeLabel = s.activeLabel;
    if (s.mode3d !== undefined) this.mode3d = s.mode3d;
    if (s.labelMode3d !== undefined) this.labelMode3d = s.labelMode3d;
    const look = s.overlayLook;
    if (look?.probabilityOpacity !== undefined) this.overlayDisplay.probability.opacity = look.probabilityOpacity;
    if (look?.uncertaintyOpacity !== undefined) this.overlayDisplay.uncertainty.opacity = look.uncertaintyOpacity;
    if (look?.proposalOutline !== undefined) this.overlayMaps.proposalOutline = look.proposalOutline;
    if (look?.uncertaintyColormap) this.setUncertaintyColormap(look.uncertaintyColormap);
  }

  /** The state to keep with vscode.setState. */
  protected persistedState(vol: Volume): PersistedViewerState {
    const views = {} as PersistedViewerState['views'];
    for (const v of this.sliceViews) views[v.kind] = { zoom: v.zoom, panMm: [...v.panMm] };
    const d = this.overlayDisplay;
    return {
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
      promptDrag: this.promptDrag,
      activeLabel: this.activeLabel,
      mode3d: this.mode3d,
      labelMode3d: this.labelMode3d,
      overlayLook: { probabilityOpacity: d.probability.opacity, uncertaintyOpacity: d.uncertainty.opacity, proposalOutline: this.proposalOutline, uncertaintyColormap: this.uncertaintyColormap },
      frame: vol.frame,
      measurements: this.measureTool.rulers,
    };
  }
}
