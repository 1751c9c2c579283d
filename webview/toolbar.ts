// The toolbar, grouped as labellers know it from ITK-SNAP and Slicer: a tool palette (codicons,
// the active tool highlighted) with the view controls beside it, a tool-options row with only
// the options of the active tool (in words, with units) and the label operations, and a row for
// the model's maps while there are any. Tooltips name the shortcut keys; colours come from the
// VS Code theme (media/webview.css).
import type { OverwriteMode, ViewLayout } from '../src/protocol/messages';
import { COLORMAP_NAMES, FUSION_COLORMAPS, UNCERTAINTY_COLORMAPS, type ColormapName } from './colormaps';
import { FormControls, group, iconButton, textButton } from './formControls';
import type { CodiconName } from './icons';
import { OVERLAY_KEYS, SHORTCUT_KEYS, keyName } from './keymap';
import { LabelMode3D, RenderMode3D } from './renderModes';
import type { PromptDrag } from './tools/promptTool';
import { TOOL_KEYS, TOOL_NAMES, TOOL_TITLES, type ToolName } from './tools/toolSet';
import type { ViewSlot } from './types';
import type { Viewer } from './viewer';
import { CT_PRESETS, type CtPresetName } from './windowing';

/** Palette entry of each tool: icon and name. */
const TOOL_LOOK: Record<ToolName, { icon: CodiconName; name: string }> = {
  navigate: { icon: 'target', name: 'Navigate' },
  brush: { icon: 'edit', name: 'Brush' },
  eraser: { icon: 'eraser', name: 'Eraser' },
  fill2d: { icon: 'paintcan', name: 'Fill' },
  grow3d: { icon: 'wand', name: 'Region grow 3-D' },
  prompt: { icon: 'sparkle', name: 'Prompt' },
  measure: { icon: 'ruler', name: 'Measure' },
};

/** The key of a tool (TOOL_KEYS read backwards), for tooltips. */
function toolKey(tool: ToolName): string {
  return Object.entries(TOOL_KEYS).find(([, t]) => t === tool)?.[0] ?? '';
}

/** Which option fields each tool shows (by `data-field`). */
const TOOL_OPTIONS: Record<ToolName, readonly string[]> = {
  navigate: ['hint-navigate'],
  brush: ['radius', 'shape', 'overwrite', 'overwriteLabel', 'threshold', 'thrMin', 'thrMax'],
  eraser: ['radius', 'shape', 'overwrite', 'overwriteLabel'],
  fill2d: ['tolerance', 'overwrite', 'overwriteLabel', 'threshold', 'thrMin', 'thrMax'],
  grow3d: ['tolerance', 'overwrite', 'overwriteLabel', 'threshold', 'thrMin', 'thrMax'],
  prompt: ['hint-prompt', 'promptDrag', 'overwrite', 'overwriteLabel'],
  measure: ['measureMode', 'hint-measure'],
};

const HINTS: Record<string, string> = {
  'hint-navigate': 'Click: crosshair · Right drag: window/level · Shift drag: pan · Ctrl+wheel: zoom · Wheel, arrows: slices',
  'hint-prompt': 'Click: on the object · Shift+click or right click: off it · Drag: box (or as Drag draws says) · Ctrl+drag: outline · Ctrl+Shift+drag: outline off it · Alt+drag: scribble · Alt+Shift+drag: negative scribble · Backspace: undo a prompt · Esc: clear',
  'hint-measure': 'Drag: a ruler (mm) · Angle: drag the first arm, click the second · Backspace: remove the last · Esc: clear',
};

export class Toolbar {
  readonly controls = new FormControls();
  private readonly toolButtons = new Map<ToolName, HTMLButtonElement>();
  private readonly groups = new Map<string, HTMLElement>();
  private readonly optionFields: HTMLElement[] = [];
  private readonly toolName: HTMLElement;
  private readonly mapsRow: HTMLElement;

  constructor(private readonly viewer: Viewer) {
    const bar = viewer.toolbarEl;
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', 'Lesion Lab');
    const main = row(bar, 'main');
    this.buildPalette(main);
    this.buildView(main);
    this.buildModel(main);
    const options = row(bar, 'options');
    this.toolName = document.createElement('span');
    this.toolName.className = 'll-tool-name';
    options.appendChild(this.toolName);
    this.buildToolOptions(options);
    this.buildOperations(options);
    this.mapsRow = row(bar, 'maps');
    this.buildMaps(this.mapsRow);
    this.buildLabelDisplay(viewer.labelTableEl);
  }

  private group(parent: HTMLElement, name: string, label: string): HTMLElement {
    const g = group(parent, name, label);
    this.groups.set(name, g);
    return g;
  }

  private buildPalette(parent: HTMLElement): void {
    const v = this.viewer;
    const tools = this.group(parent, 'tools', 'Tools');
    tools.classList.add('ll-palette');
    for (const t of TOOL_NAMES) {
      const b = iconButton(tools, TOOL_LOOK[t].icon, TOOL_LOOK[t].name, TOOL_TITLES[t], () => v.setTool(t));
      b.dataset.tool = t;
      this.toolButtons.set(t, b);
    }
  }

  private buildView(parent: HTMLElement): void {
    const v = this.viewer;
    const c = this.controls;
    const view = this.group(parent, 'view', 'View');
    c.select(view, 'layout', 'Layout', `Layout of the views (${keyName(SHORTCUT_KEYS.layout)} cycles)`, [['2x2', '2×2'], ['1x3', '1×3'], ['single:axial', 'Axial'], ['single:coronal', 'Coronal'], ['single:sagittal', 'Sagittal'], ['single:3d', '3-D']], (val) => {
      const [layout, slot] = val.split(':') as [ViewLayout, ViewSlot | undefined];
      v.setLayout(layout, slot);
    });
    c.select(view, 'colormap', 'Colormap', 'Colormap of the image', COLORMAP_NAMES.map((n) => [n, capitalise(n)]), (val) => v.setColormap(val as ColormapName));
    const presets: [string, string, string?][] = [['', 'Preset…'], ['auto', 'Auto'], ...Object.keys(CT_PRESETS).map((k) => [k, k.replace(/^CT /, ''), 'CT'] as [string, string, string])];
    c.select(view, 'preset', 'Window', `Window/level preset: Auto from percentiles (${keyName(SHORTCUT_KEYS.autoWindow)}) or a CT window; right drag in a view sets it by hand`, presets, (val) => {
      if (val) v.applyPreset(val as CtPresetName | 'auto');
      c.setValue('preset', '');
    });
    textButton(view, 'Overlay…', 'Show another image of this patient over this one (a PET over its CT, a T2 over a T1): Lesion Lab: Overlay Another Image…', () => v.runHostCommand('lesionLab.overlayImage'), 'layers').dataset.action = 'overlayImage';
    c.checkbox(view, 'radiological', 'Radiological', "Radiological convention: the patient's right on the screen's left", (i) => v.setRadiological(i.checked));
    const three = this.group(parent, 'view3d', '3-D view');
    c.select(three, 'mode3d', '3-D', `3-D rendering (${keyName(SHORTCUT_KEYS.mode3d)})`, [[String(RenderMode3D.mip), 'MIP'], [String(RenderMode3D.dvr), 'Volume']], (val) => v.set3dMode(Number(val) as RenderMode3D));
    c.select(three, 'labelMode3d', 'Labels', 'Labels in the 3-D view: a tint, a shaded surface, or none', [[String(LabelMode3D.tint), 'Tint'], [String(LabelMode3D.surface), 'Surface'], [String(LabelMode3D.none), 'None']], (val) =>
      v.set3dMode(v.mode3d, Number(val) as LabelMode3D),
    );
    const frame = this.group(parent, 'frame', '4-D frame');
    c.range(frame, 'frame', 'Frame', `4-D frame (${SHORTCUT_KEYS.previousFrame} and ${SHORTCUT_KEYS.nextFrame})`, { min: '0', step: '1' }, (i) => v.selectFrame(Number(i.value)));
  }

  /** Label display, at the head of the label table (like ITK-SNAP's label opacity). */
  private buildLabelDisplay(parent: HTMLElement): void {
    const v = this.viewer;
    const c = this.controls;
    const labels = this.group(parent, 'overlay', 'Label display');
    c.checkbox(labels, 'showLabels', 'Show', `Show the labels (${keyName(SHORTCUT_KEYS.showLabels)})`, (i) => v.setLabelDisplay({ show: i.checked }));
    c.checkbox(labels, 'outline', 'Outline', `Draw labels as outlines (${keyName(SHORTCUT_KEYS.outline)})`, (i) => v.setLabelDisplay({ outline: i.checked }));
    c.range(labels, 'labelOpacity', 'Opacity', 'Label opacity', { min: '0', max: '1', step: '0.05' }, (i) => v.setLabelDisplay({ opacity: Number(i.value) }));
  }

  private buildModel(parent: HTMLElement): void {
    const model = this.group(parent, 'model', 'Lesion model');
    const segment = textButton(model, 'Segment Lesion', `Segment Lesion: the active model proposes a lesion mask to review (${keyName(OVERLAY_KEYS.segmentLesion)})`, () => this.viewer.segmentLesion(), 'play');
    segment.dataset.action = 'segment';
  }

  private buildToolOptions(parent: HTMLElement): void {
    const v = this.viewer;
    const c = this.controls;
    const g = this.group(parent, 'brush', 'Tool options');
    for (const [key, text] of Object.entries(HINTS)) {
      const hint = document.createElement('span');
      hint.className = 'll-hint';
      hint.dataset.field = key;
      hint.textContent = text;
      g.appendChild(hint);
    }
    c.number(g, 'radius', 'Radius', 'mm', `Brush radius in mm, true to the voxel spacing (${SHORTCUT_KEYS.brushSmaller} smaller, ${SHORTCUT_KEYS.brushLarger} larger)`, { min: '0.25', step: '0.25' }, (i) => v.setBrushRadius(Number(i.value)));
    c.select(g, 'measureMode', 'Measure', 'What a drag measures: a distance, or an angle (drag the first arm, then click where the second arm from its end goes)', [['distance', 'Distance'], ['angle', 'Angle']], (val) => {
      v.measureTool.cancelPress();
      v.measureTool.mode = val === 'angle' ? 'angle' : 'distance';
    });
    c.select(g, 'promptDrag', 'Drag draws', 'What a plain drag draws: a box around the object, its outline, or a stroke through it (Shift or the right button: an outline or a stroke off it). Ctrl+drag (⌘ on macOS) still outlines and Alt+drag still strokes', [['box', 'Box'], ['lasso', 'Outline'], ['scribble', 'Stroke']], (val) =>
      v.setPromptDrag(val as PromptDrag),
    );
    c.select(g, 'shape', 'Shape', `Brush shape: a disc in the slice or a sphere across slices (${keyName(SHORTCUT_KEYS.brushShape)})`, [['disc', 'Disc'], ['sphere', 'Sphere']], (val) => v.setBrushShape(val as 'disc' | 'sphere'));
    c.number(g, 'tolerance', 'Tolerance', '', 'Fill and region grow: voxels within this many intensity units of the clicked voxel join', { min: '0', step: 'any' }, (i) => (v.fillTolerance = Math.max(0, Number(i.value))));
    c.select(g, 'overwrite', 'Paint over', 'Which voxels the tool may change (locked labels never change)', [['all', 'All labels'], ['empty', 'Empty only'], ['label', 'One label:']], (val) => {
      v.overwrite = val as OverwriteMode;
      this.refresh();
    });
    c.number(g, 'overwriteLabel', '', '', 'The label that "Paint over: one label" may change', { min: '0', step: '1', 'aria-label': 'Label painted over' }, (i) => (v.overwriteLabel = Math.max(0, Math.round(Number(i.value)))));
    c.checkbox(g, 'threshold', 'Intensity range', `Threshold-constrained painting: only voxels with intensity in the range change (${keyName(SHORTCUT_KEYS.threshold)})`, (i) => {
      v.thresholdOn = i.checked;
      this.refresh();
    });
    c.number(g, 'thrMin', '', '', 'Lowest intensity painted', { step: 'any', 'aria-label': 'Lowest intensity' }, (i) => (v.thresholdRange = { ...v.thresholdRange, min: Number(i.value) }));
    c.number(g, 'thrMax', '–', '', 'Highest intensity painted', { step: 'any', 'aria-label': 'Highest intensity' }, (i) => (v.thresholdRange = { ...v.thresholdRange, max: Number(i.value) }));
    for (const f of g.querySelectorAll<HTMLElement>('[data-field]')) this.optionFields.push(f);
  }

  private buildOperations(parent: HTMLElement): void {
    const v = this.viewer;
    const ops = this.group(parent, 'ops', 'Label operations');
    textButton(ops, 'Interpolate', `Interpolate the active label between its drawn slices in the view under the mouse (${keyName(SHORTCUT_KEYS.interpolate)})`, () => v.interpolate(), 'layers').dataset.action = 'interpolate';
    textButton(ops, 'Remove islands', `Remove islands of the active label smaller than the size given (${keyName(SHORTCUT_KEYS.removeIslands)})`, () => v.removeIslands(), 'filter').dataset.action = 'islands';
    this.controls.number(ops, 'islandMin', 'under', 'voxels', 'Remove islands: connected pieces smaller than this many voxels', { min: '1', step: '1' }, (i) => (v.islandMinVoxels = Math.max(1, Math.round(Number(i.value)))));
    textButton(ops, 'Grow', 'Grow the active label by the distance given (overwrite policy, intensity range and locks as for painting)', () => v.reshapeLabel({ marginMm: v.marginMm }), 'add').dataset.action = 'grow';
    textButton(ops, 'Shrink', 'Shrink the active label by the distance given', () => v.reshapeLabel({ marginMm: -v.marginMm }), 'remove').dataset.action = 'shrink';
    this.controls.number(ops, 'marginMm', 'by', 'mm', 'Grow / Shrink: distance in mm, true to the voxel sizes', { min: '0.1', step: '0.5' }, (i) => (v.marginMm = positiveOr(Number(i.value), v.marginMm)));
    textButton(ops, 'Smooth', 'Smooth the active label: a closing (fills dents and small holes) then an opening (removes thin spurs) of the radius given', () => v.reshapeLabel({ smoothMm: v.smoothMm }), 'circle').dataset.action = 'smooth';
    this.controls.number(ops, 'smoothMm', '', 'mm', 'Smooth: radius in mm', { min: '0.1', step: '0.5' }, (i) => (v.smoothMm = positiveOr(Number(i.value), v.smoothMm)));
  }

  private buildMaps(parent: HTMLElement): void {
    const v = this.viewer;
    const c = this.controls;
    const prob = this.group(parent, 'prob', 'Probability map');
    c.checkbox(prob, 'showProb', 'Probability', `Show the probability map in heat colours (${keyName(OVERLAY_KEYS.toggleProbability)})`, (i) => v.setOverlayDisplay('probability', { show: i.checked }));
    c.range(prob, 'probOpacity', '', 'Probability map opacity', { min: '0', max: '1', step: '0.05' }, (i) => v.setOverlayDisplay('probability', { opacity: Number(i.value) }));
    c.number(prob, 'probThreshold', 'from', '', 'Probability threshold: lower probabilities are not coloured', { min: '0', max: '1', step: '0.05' }, (i) => v.setOverlayDisplay('probability', { threshold: Number(i.value) }));
    c.checkbox(prob, 'probOutline', 'Outline', `Outline the proposal: the voxels Accept would label (${keyName(OVERLAY_KEYS.toggleProposalOutline)})`, (i) => v.setProposalOutline(i.checked));
    const unc = this.group(parent, 'unc', 'Uncertainty map');
    c.checkbox(unc, 'showUnc', 'Uncertainty', `Show the uncertainty map: where the flipped predictions disagree (${keyName(OVERLAY_KEYS.toggleUncertainty)})`, (i) => v.setOverlayDisplay('uncertainty', { show: i.checked }));
    c.range(unc, 'uncOpacity', '', 'Uncertainty map opacity', { min: '0', max: '1', step: '0.05' }, (i) => v.setOverlayDisplay('uncertainty', { opacity: Number(i.value) }));
    c.number(unc, 'uncThreshold', 'from', '', 'Uncertainty threshold: lower uncertainties are not coloured', { min: '0', step: 'any' }, (i) => v.setOverlayDisplay('uncertainty', { threshold: Number(i.value) }));
    c.select(unc, 'uncColormap', '', 'Uncertainty colormap', UNCERTAINTY_COLORMAPS.map((n) => [n, capitalise(n)]), (val) => v.setUncertaintyColormap(val as ColormapName));
    const fusion = this.group(parent, 'fusion', 'Fused image');
    c.checkbox(fusion, 'showFusion', 'Overlay', 'Show the image fused over this one (Lesion Lab: Overlay Another Image…)', (i) => v.setOverlayDisplay('fusion', { show: i.checked }));
    c.range(fusion, 'fusionOpacity', '', 'Fused image opacity', { min: '0', max: '1', step: '0.05' }, (i) => v.setOverlayDisplay('fusion', { opacity: Number(i.value) }));
    c.number(fusion, 'fusionThreshold', 'from', '', 'Fused image: lower values are not coloured; the colours run from here to the top of its range', { step: 'any' }, (i) => v.setOverlayDisplay('fusion', { threshold: Number(i.value) }));
    c.select(fusion, 'fusionColormap', '', 'Fused image colormap', FUSION_COLORMAPS.map((n) => [n, capitalise(n)]), (val) => v.setFusionColormap(val as ColormapName));
    textButton(fusion, 'Register', 'Align the fused image to this one rigidly (rotation and shift, by mutual information): for an image of another session (Lesion Lab: Register Overlay Image Rigidly)', () => v.runHostCommand('lesionLab.registerOverlayImage'), 'target').dataset.action = 'registerOverlayImage';
    textButton(fusion, 'Remove', 'Remove the fused image (Lesion Lab: Remove Overlay Image)', () => v.runHostCommand('lesionLab.clearOverlayImage'), 'remove').dataset.action = 'clearOverlayImage';
    const brain = this.group(parent, 'brain', 'Brain outline');
    c.checkbox(brain, 'showBrain', 'Brain', `Outline (dashed) the brain the model was given: Segment Lesion stripped this head's skull, and nothing outside it is proposed (${keyName(OVERLAY_KEYS.toggleBrainOutline)})`, (i) =>
      v.setOverlayDisplay('brain', { show: i.checked }),
    );
  }

  /** Brings every control in line with the viewer's state. */
  refresh(): void {
    const v = this.viewer;
    const c = this.controls;
    c.setValue('layout', v.layout === 'single' ? `single:${v.single}` : v.layout);
    c.setValue('colormap', v.colormap);
    c.setValue('radiological', v.radiological);
    c.setValue('mode3d', String(v.mode3d));
    c.setValue('labelMode3d', String(v.labelMode3d));
    for (const [t, b] of this.toolButtons) {
      b.classList.toggle('ll-active', v.tool === t);
      b.setAttribute('aria-pressed', String(v.tool === t));
      b.disabled = v.readOnly && t !== 'navigate';
    }
    this.toolName.textContent = TOOL_LOOK[v.tool].name;
    this.toolName.title = `Active tool (${toolKey(v.tool).toUpperCase()})`;
    const shown = new Set(TOOL_OPTIONS[v.tool]);
    if (v.overwrite !== 'label') shown.delete('overwriteLabel');
    if (!v.thresholdOn) ['thrMin', 'thrMax'].forEach((f) => shown.delete(f));
    for (const f of this.optionFields) f.hidden = !shown.has(f.dataset.field ?? '');
    c.setValue('radius', String(v.brushRadiusMm));
    c.setValue('shape', v.brushShape);
    c.setValue('threshold', v.thresholdOn);
    c.setValue('thrMin', String(v.thresholdRange.min));
    c.setValue('thrMax', String(v.thresholdRange.max));
    c.setValue('tolerance', String(v.fillTolerance));
    c.setValue('overwrite', v.overwrite);
    c.setValue('overwriteLabel', String(v.overwriteLabel));
    c.setValue('islandMin', String(v.islandMinVoxels));
    c.setValue('marginMm', String(v.marginMm));
    c.setValue('measureMode', v.measureTool.mode);
    c.setValue('promptDrag', v.promptDrag);
    c.setValue('smoothMm', String(v.smoothMm));
    c.setValue('showLabels', v.showLabels);
    c.setValue('labelOpacity', String(v.labelOpacity));
    c.setValue('outline', v.labelOutline);
    const pd = v.overlayDisplay.probability;
    const ud = v.overlayDisplay.uncertainty;
    c.setValue('showProb', pd.show);
    c.setValue('probOpacity', String(pd.opacity));
    c.setValue('probThreshold', String(pd.threshold));
    c.setValue('probOutline', v.proposalOutline);
    c.setValue('showUnc', ud.show);
    c.setValue('uncOpacity', String(ud.opacity));
    c.setValue('uncThreshold', String(+ud.threshold.toPrecision(3)));
    c.setValue('uncColormap', v.uncertaintyColormap);
    c.setValue('showBrain', v.overlayDisplay.brain.show);
    const fd = v.overlayDisplay.fusion;
    c.setValue('showFusion', fd.show);
    c.setValue('fusionOpacity', String(fd.opacity));
    c.setValue('fusionThreshold', String(+fd.threshold.toPrecision(4)));
    c.setValue('fusionColormap', v.fusionColormap);
    const fusionName = c.get('showFusion')?.parentElement?.querySelector('.ll-field-label');
    if (fusionName) fusionName.textContent = v.fusionName ?? 'Overlay';
    const fusionRange = v.overlayRange('fusion');
    const fusionThr = c.get('fusionThreshold');
    if (fusionThr instanceof HTMLInputElement && fusionRange) fusionThr.step = String(+((fusionRange[1] - fusionRange[0]) / 20).toPrecision(2));
    const uncRange = v.overlayRange('uncertainty');
    const uncThr = c.get('uncThreshold');
    if (uncThr instanceof HTMLInputElement && uncRange) uncThr.step = String(+((uncRange[1] - uncRange[0]) / 20).toPrecision(2));
    this.setHidden('prob', !v.hasOverlay('probability'));
    this.setHidden('unc', !v.hasOverlay('uncertainty'));
    this.setHidden('brain', !v.hasOverlay('brain'));
    this.setHidden('fusion', !v.hasOverlay('fusion'));
    this.mapsRow.hidden = !v.hasOverlay();
    this.setHidden('frame', v.frameCount <= 1);
    const fi = c.get('frame');
    if (fi instanceof HTMLInputElement) fi.max = String(v.frameCount - 1);
    c.setValue('frame', String(v.frame));
  }

  private setHidden(name: string, hidden: boolean): void {
    const g = this.groups.get(name);
    if (g) g.hidden = hidden;
  }
}

function row(parent: HTMLElement, name: string): HTMLElement {
  const r = document.createElement('div');
  r.className = `ll-row ll-row-${name}`;
  parent.appendChild(r);
  return r;
}

function capitalise(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

/** `x` when it is a positive finite number, else `fallback` (a cleared or negative field keeps the old value). */
function positiveOr(x: number, fallback: number): number {
  return Number.isFinite(x) && x > 0 ? x : fallback;
}
