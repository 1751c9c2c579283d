// Toolbar and label table: plain DOM controls bound to the Viewer. Colours come from the VS Code
// theme through CSS variables (media/webview.css).
import type { LabelTableEntry, OverwriteMode, ViewLayout } from '../src/protocol/messages';
import { COLORMAP_NAMES, defaultLabelColor, type ColormapName } from './colormaps';
import { OVERLAY_KEYS, TOOL_TITLES, UNCERTAINTY_COLORMAPS, type ToolName, type Viewer, type ViewSlot } from './viewer';
import { LabelMode3D, RenderMode3D } from './volumeView';
import { CT_PRESETS, type CtPresetName } from './windowing';

type Ctl = HTMLInputElement | HTMLSelectElement;

const TOOL_SHORT: Record<ToolName, string> = { navigate: 'Nav', brush: 'Brush', eraser: 'Erase', fill2d: 'Fill', grow3d: 'Grow', prompt: 'Prompt' };

const FIELD_TITLES: Record<string, string> = {
  radius: 'Brush radius in mm ([ and ] change it)',
  threshold: 'Threshold-constrained painting: only voxels with intensity in [min, max] change (T)',
  thrMin: 'Lowest intensity painted',
  thrMax: 'Highest intensity painted',
  tolerance: 'Fill / region grow: intensity tolerance around the clicked voxel',
  overwriteLabel: 'The label that "only label" may paint over',
  islandMin: 'Remove islands (R): components smaller than this many voxels',
  showLabels: 'Show the label overlay (V)',
  labelOpacity: 'Label opacity',
  outline: 'Draw labels as outlines (O)',
  radiological: "Radiological convention: the patient's right on the screen's left",
  showProb: `Show the probability map in heat colours (${keyName(OVERLAY_KEYS.toggleProbability)})`,
  probOpacity: 'Probability map opacity',
  probThreshold: 'Probability threshold: lower probabilities are not coloured',
  probOutline: `Outline the proposal: the voxels Accept would label (${keyName(OVERLAY_KEYS.toggleProposalOutline)})`,
  showUnc: `Show the uncertainty map: where the flipped predictions disagree (${keyName(OVERLAY_KEYS.toggleUncertainty)})`,
  uncOpacity: 'Uncertainty map opacity',
  uncThreshold: 'Uncertainty threshold: lower uncertainties are not coloured',
  frame: '4-D frame (, and .)',
};

/** How a shortcut key reads in a tooltip: "P", "Shift+A". */
function keyName(key: string): string {
  return key.length === 1 && key !== key.toLowerCase() ? `Shift+${key}` : key.toUpperCase();
}

export class Controls {
  private readonly inputs = new Map<string, Ctl>();
  private readonly toolButtons = new Map<ToolName, HTMLButtonElement>();
  private readonly groups = new Map<string, HTMLElement>();
  private tableSignature = '';
  /** The proposal bar (model version, Accept, Reject), shown while a proposal awaits review. */
  readonly proposalBar: HTMLElement;
  private readonly proposalText: HTMLElement;
  private readonly acceptButton: HTMLButtonElement;

  constructor(private readonly viewer: Viewer) {
    this.build();
    // Between the warning line and the views, like the warning: it shrinks the views while shown.
    this.proposalBar = document.createElement('div');
    this.proposalBar.className = 'll-proposal';
    this.proposalBar.hidden = true;
    this.proposalText = document.createElement('span');
    this.proposalText.className = 'll-proposal-text';
    this.proposalBar.appendChild(this.proposalText);
    this.acceptButton = this.button(this.proposalBar, 'Accept', `Accept the proposal as labels, one undoable edit (${keyName(OVERLAY_KEYS.acceptProposal)})`, () => viewer.acceptProposal());
    this.acceptButton.dataset.action = 'accept';
    this.acceptButton.classList.add('ll-primary');
    const reject = this.button(this.proposalBar, 'Reject', `Reject the proposal: remove it and its maps; labels stay as they are (${keyName(OVERLAY_KEYS.rejectProposal)})`, () => viewer.rejectProposal());
    reject.dataset.action = 'reject';
    viewer.root.insertBefore(this.proposalBar, viewer.warningEl.nextSibling);
    viewer.onUiChanged = () => this.refresh();
    this.refresh();
  }

  private group(name: string, title: string): HTMLElement {
    const g = document.createElement('div');
    g.className = 'll-group';
    g.dataset.group = name;
    g.title = title;
    this.viewer.toolbarEl.appendChild(g);
    this.groups.set(name, g);
    return g;
  }

  private select(parent: HTMLElement, key: string, label: string, options: [string, string][], onChange: (v: string) => void): HTMLSelectElement {
    const s = document.createElement('select');
    s.setAttribute('aria-label', label);
    s.title = label;
    s.dataset.ctl = key;
    for (const [value, text] of options) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      s.appendChild(o);
    }
    s.addEventListener('change', () => onChange(s.value));
    parent.appendChild(s);
    this.inputs.set(key, s);
    return s;
  }

  private input(parent: HTMLElement, key: string, label: string, type: string, attrs: Record<string, string>, onChange: (i: HTMLInputElement) => void): HTMLInputElement {
    const wrap = document.createElement('label');
    wrap.className = 'll-field';
    wrap.title = FIELD_TITLES[key] ?? label;
    const text = document.createElement('span');
    text.textContent = label;
    const i = document.createElement('input');
    i.type = type;
    i.dataset.ctl = key;
    for (const [k, v] of Object.entries(attrs)) i.setAttribute(k, v);
    i.addEventListener(type === 'range' ? 'input' : 'change', () => onChange(i));
    wrap.append(text, i);
    parent.appendChild(wrap);
    this.inputs.set(key, i);
    return i;
  }

  private button(parent: HTMLElement, text: string, title: string, onClick: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.textContent = text;
    b.title = title;
    b.addEventListener('click', onClick);
    parent.appendChild(b);
    return b;
  }

  private build(): void {
    const v = this.viewer;
    const view = this.group('view', 'View');
    this.select(view, 'layout', 'Layout (L)', [['2x2', '2×2'], ['1x3', '1×3'], ['single:axial', 'Axial'], ['single:coronal', 'Coronal'], ['single:sagittal', 'Sagittal'], ['single:3d', '3-D']], (val) => {
      const [layout, slot] = val.split(':') as [ViewLayout, ViewSlot | undefined];
      v.setLayout(layout, slot);
    });
    this.select(view, 'colormap', 'Colormap', COLORMAP_NAMES.map((n) => [n, n]), (val) => v.setColormap(val as ColormapName));
    this.select(view, 'preset', 'Window preset (W: auto)', [['', 'W/L preset'], ['auto', 'Auto (percentiles)'], ...Object.keys(CT_PRESETS).map((k) => [k, k] as [string, string])], (val) => {
      if (val) v.applyPreset(val as CtPresetName | 'auto');
      (this.inputs.get('preset') as HTMLSelectElement).value = '';
    });
    this.input(view, 'radiological', 'radiol.', 'checkbox', {}, (i) => v.setRadiological(i.checked));
    this.select(view, 'mode3d', '3-D rendering (M)', [[String(RenderMode3D.mip), '3-D MIP'], [String(RenderMode3D.dvr), '3-D DVR']], (val) => v.set3dMode(Number(val) as RenderMode3D));
    this.select(view, 'labelMode3d', '3-D labels', [[String(LabelMode3D.tint), '3-D labels: tint'], [String(LabelMode3D.surface), '3-D labels: surface'], [String(LabelMode3D.none), '3-D labels: off']], (val) =>
      v.set3dMode(v.mode3d, Number(val) as LabelMode3D),
    );

    const tools = this.group('tools', 'Tools');
    for (const t of Object.keys(TOOL_TITLES) as ToolName[]) {
      const b = this.button(tools, TOOL_SHORT[t], TOOL_TITLES[t], () => v.setTool(t));
      b.dataset.tool = t;
      this.toolButtons.set(t, b);
    }
    const brush = this.group('brush', 'Brush and fill settings');
    this.input(brush, 'radius', 'r mm', 'number', { min: '0.25', step: '0.25' }, (i) => {
      const r = Number(i.value);
      if (r > 0) v.brushRadiusMm = r;
    });
    this.select(brush, 'shape', 'Brush shape (S)', [['disc', 'disc'], ['sphere', 'sphere']], (val) => (v.brushShape = val as 'disc' | 'sphere'));
    this.input(brush, 'threshold', 'thr', 'checkbox', {}, (i) => (v.thresholdOn = i.checked));
    this.input(brush, 'thrMin', 'min', 'number', { step: 'any' }, (i) => (v.thresholdRange = { ...v.thresholdRange, min: Number(i.value) }));
    this.input(brush, 'thrMax', 'max', 'number', { step: 'any' }, (i) => (v.thresholdRange = { ...v.thresholdRange, max: Number(i.value) }));
    this.input(brush, 'tolerance', 'tol', 'number', { min: '0', step: 'any' }, (i) => (v.fillTolerance = Math.max(0, Number(i.value))));
    this.select(brush, 'overwrite', 'Paint over', [['all', 'over all'], ['empty', 'only empty'], ['label', 'only label']], (val) => (v.overwrite = val as OverwriteMode));
    this.input(brush, 'overwriteLabel', 'label', 'number', { min: '0', step: '1' }, (i) => (v.overwriteLabel = Math.max(0, Math.round(Number(i.value)))));
    const ops = this.group('ops', 'Operations');
    this.button(ops, 'Interp.', 'Interpolate the active label between drawn slices of the view under the mouse (I)', () => v.interpolate());
    this.button(ops, 'Islands', 'Remove islands of the active label smaller than N voxels (R)', () => v.removeIslands());
    this.input(ops, 'islandMin', 'N', 'number', { min: '1', step: '1' }, (i) => (v.islandMinVoxels = Math.max(1, Math.round(Number(i.value)))));

    const overlay = this.group('overlay', 'Overlays');
    this.input(overlay, 'showLabels', 'labels', 'checkbox', {}, (i) => v.setLabelDisplay({ show: i.checked }));
    this.input(overlay, 'labelOpacity', '', 'range', { min: '0', max: '1', step: '0.05' }, (i) => v.setLabelDisplay({ opacity: Number(i.value) }));
    this.input(overlay, 'outline', 'outline', 'checkbox', {}, (i) => v.setLabelDisplay({ outline: i.checked }));
    const prob = this.group('prob', 'Probability map');
    this.input(prob, 'showProb', 'prob.', 'checkbox', {}, (i) => v.setOverlayDisplay('probability', { show: i.checked }));
    this.input(prob, 'probOpacity', '', 'range', { min: '0', max: '1', step: '0.05' }, (i) => v.setOverlayDisplay('probability', { opacity: Number(i.value) }));
    this.input(prob, 'probThreshold', '≥', 'number', { min: '0', max: '1', step: '0.05' }, (i) => v.setOverlayDisplay('probability', { threshold: Number(i.value) }));
    this.input(prob, 'probOutline', 'contour', 'checkbox', {}, (i) => v.setProposalOutline(i.checked));
    const unc = this.group('unc', 'Uncertainty map');
    this.input(unc, 'showUnc', 'uncert.', 'checkbox', {}, (i) => v.setOverlayDisplay('uncertainty', { show: i.checked }));
    this.input(unc, 'uncOpacity', '', 'range', { min: '0', max: '1', step: '0.05' }, (i) => v.setOverlayDisplay('uncertainty', { opacity: Number(i.value) }));
    this.input(unc, 'uncThreshold', '≥', 'number', { min: '0', step: 'any' }, (i) => v.setOverlayDisplay('uncertainty', { threshold: Number(i.value) }));
    this.select(unc, 'uncColormap', 'Uncertainty colormap', UNCERTAINTY_COLORMAPS.map((n) => [n, n]), (val) => v.setUncertaintyColormap(val as ColormapName));
    const model = this.group('model', 'Lesion model');
    const segment = this.button(model, 'Segment Lesion', `Segment Lesion: the active model proposes a lesion mask to review (${keyName(OVERLAY_KEYS.segmentLesion)})`, () => v.segmentLesion());
    segment.dataset.action = 'segment';
    const frame = this.group('frame', '4-D frame (, .)');
    this.input(frame, 'frame', 'Frame', 'range', { min: '0', step: '1' }, (i) => v.selectFrame(Number(i.value)));
  }

  private setValue(key: string, value: string | boolean): void {
    const c = this.inputs.get(key);
    if (!c || document.activeElement === c) return;
    if (typeof value === 'boolean') (c as HTMLInputElement).checked = value;
    else c.value = value;
  }

  /** Brings every control in line with the viewer's state. */
  refresh(): void {
    const v = this.viewer;
    this.setValue('layout', v.layout === 'single' ? `single:${v.single}` : v.layout);
    this.setValue('colormap', v.colormap);
    this.setValue('radiological', v.radiological);
    this.setValue('mode3d', String(v.mode3d));
    this.setValue('labelMode3d', String(v.labelMode3d));
    for (const [t, b] of this.toolButtons) {
      b.classList.toggle('ll-active', v.tool === t);
      b.disabled = v.readOnly && t !== 'navigate';
    }
    this.setValue('radius', String(v.brushRadiusMm));
    this.setValue('shape', v.brushShape);
    this.setValue('threshold', v.thresholdOn);
    this.setValue('thrMin', String(v.thresholdRange.min));
    this.setValue('thrMax', String(v.thresholdRange.max));
    this.setValue('tolerance', String(v.fillTolerance));
    this.setValue('overwrite', v.overwrite);
    this.setValue('overwriteLabel', String(v.overwriteLabel));
    this.setValue('islandMin', String(v.islandMinVoxels));
    this.setValue('showLabels', v.showLabels);
    this.setValue('labelOpacity', String(v.labelOpacity));
    this.setValue('outline', v.labelOutline);
    const pd = v.overlayDisplay.probability;
    const ud = v.overlayDisplay.uncertainty;
    this.setValue('showProb', pd.show);
    this.setValue('probOpacity', String(pd.opacity));
    this.setValue('probThreshold', String(pd.threshold));
    this.setValue('probOutline', v.proposalOutline);
    this.setValue('showUnc', ud.show);
    this.setValue('uncOpacity', String(ud.opacity));
    this.setValue('uncThreshold', String(+ud.threshold.toPrecision(3)));
    this.setValue('uncColormap', v.uncertaintyColormap);
    const uncRange = v.overlayRange('uncertainty');
    const uncThr = this.inputs.get('uncThreshold') as HTMLInputElement | undefined;
    if (uncThr && uncRange) uncThr.step = String(+((uncRange[1] - uncRange[0]) / 20).toPrecision(2));
    const prob = this.groups.get('prob');
    if (prob) prob.hidden = !v.hasOverlay('probability');
    const unc = this.groups.get('unc');
    if (unc) unc.hidden = !v.hasOverlay('uncertainty');
    this.refreshProposal();
    const frame = this.groups.get('frame');
    if (frame) frame.hidden = v.frameCount <= 1;
    const fi = this.inputs.get('frame') as HTMLInputElement | undefined;
    if (fi) fi.max = String(v.frameCount - 1);
    this.setValue('frame', String(v.frame));
    this.refreshLabelTable();
  }

  private refreshProposal(): void {
    const v = this.viewer;
    const p = v.proposal;
    const wasHidden = this.proposalBar.hidden;
    this.proposalBar.hidden = p === null;
    if (p) {
      this.proposalBar.dataset.modelVersion = p.modelVersion;
      this.proposalText.textContent =
        p.origin === 'prompts'
          ? `Prompted object (into the selected label, ${v.overwrite === 'all' ? 'overwriting unlocked labels' : v.overwrite === 'empty' ? 'only empty voxels' : `only empty voxels and label ${v.overwriteLabel}`}): add prompts, or`
          : `Lesion proposal from model ${p.modelVersion} (probability ≥ ${p.threshold}, as label ${p.labelValue}): review it, then`;
      this.acceptButton.disabled = v.readOnly;
      this.acceptButton.title = v.readOnly
        ? `Read-only${v.readOnlyReason ? `: ${v.readOnlyReason}` : ''}; the proposal cannot be accepted`
        : `Accept the proposal as labels, one undoable edit (${keyName(OVERLAY_KEYS.acceptProposal)})`;
    }
    // The bar changes the height of the views: lay them out again at once.
    if (wasHidden !== this.proposalBar.hidden) v.layoutViews();
  }

  private refreshLabelTable(): void {
    const v = this.viewer;
    const sig = JSON.stringify([v.labelTable, v.activeLabel, v.readOnly, [...v.presentLabels]]);
    if (sig === this.tableSignature) return;
    this.tableSignature = sig;
    const root = v.labelTableEl;
    root.replaceChildren();
    const head = document.createElement('div');
    head.className = 'll-labels-head';
    head.textContent = 'Labels';
    root.appendChild(head);
    const rows = v.labelTable.filter((e) => e.value !== 0);
    // Labels in the volume or selected for painting but missing from the table get a default row.
    for (const value of new Set([...v.presentLabels, v.activeLabel])) {
      if (rows.some((e) => e.value === value)) continue;
      const [r, g, b] = defaultLabelColor(value);
      rows.push({ value, name: `Label ${value}`, color: [r, g, b], visible: true, locked: false });
    }
    rows.sort((a, b) => a.value - b.value);
    const commit = (entry: LabelTableEntry, change: Partial<LabelTableEntry>, undoLabel: string): void => {
      const table = v.labelTable.filter((e) => e.value !== entry.value);
      table.push({ ...entry, ...change });
      table.sort((a, b) => a.value - b.value);
      v.setLabelTable(table, !v.readOnly, undoLabel);
    };
    for (const e of rows) {
      const row = document.createElement('div');
      row.className = 'll-label-row';
      row.dataset.value = String(e.value);
      row.classList.toggle('ll-active', e.value === v.activeLabel);
      const pick = document.createElement('button');
      pick.textContent = String(e.value);
      pick.title = `Paint with label ${e.value}${e.value <= 9 ? ` (${e.value})` : ''}`;
      pick.addEventListener('click', () => {
        v.activeLabel = e.value;
        this.refresh();
      });
      const color = document.createElement('input');
      color.type = 'color';
      color.value = `#${e.color.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
      color.title = 'Colour';
      color.addEventListener('change', () => {
        const hex = color.value.slice(1);
        commit(e, { color: [0, 2, 4].map((n) => parseInt(hex.slice(n, n + 2), 16)) as [number, number, number] }, 'Change label colour');
      });
      const name = document.createElement('input');
      name.type = 'text';
      name.value = e.name;
      name.title = 'Name';
      name.addEventListener('change', () => commit(e, { name: name.value }, 'Rename label'));
      const vis = document.createElement('input');
      vis.type = 'checkbox';
      vis.checked = e.visible;
      vis.title = 'Visible';
      vis.addEventListener('change', () => commit(e, { visible: vis.checked }, vis.checked ? 'Show label' : 'Hide label'));
      const lock = document.createElement('input');
      lock.type = 'checkbox';
      lock.checked = e.locked;
      lock.title = 'Locked (tools never change it)';
      lock.addEventListener('change', () => commit(e, { locked: lock.checked }, lock.checked ? 'Lock label' : 'Unlock label'));
      for (const i of [color, name, vis, lock]) i.disabled = v.readOnly;
      row.append(pick, color, name, vis, lock);
      root.appendChild(row);
    }
    const add = document.createElement('button');
    add.textContent = '+ label';
    add.disabled = v.readOnly;
    add.addEventListener('click', () => {
      const used = new Set(v.labelTable.map((e) => e.value));
      let value = 1;
      while (used.has(value)) value++;
      const [r, g, b] = defaultLabelColor(value);
      v.setLabelTable([...v.labelTable, { value, name: `Label ${value}`, color: [r, g, b], visible: true, locked: false }], true, 'Add label');
      v.activeLabel = value;
      this.refresh();
    });
    root.appendChild(add);
  }
}
