// The label table beside the views: pick the label to paint with, rename, recolour, hide, lock;
// add a label. Every change goes to the host as one undoable edit of the table. Below it, on
// demand, each label's volume and intensity statistics, kept up to date while shown.
import type { LabelTableEntry } from '../src/protocol/messages';
import { defaultLabelColor } from './colormaps';
import { textButton } from './formControls';
import { formatVolume, labelStatistics } from './labelStatistics';
import type { Viewer } from './viewer';

/** Label statistics wait this long after the last label change (a brush stroke changes them often). */
const STATS_DEBOUNCE_MS = 250;

export class LabelTablePanel {
  private signature = '';
  /** The rows and the add button (rebuilt); the label display controls above them stay. */
  private readonly list: HTMLElement;
  private readonly statsButton: HTMLButtonElement;
  /** The statistics, one block per label present; hidden until asked for. */
  private readonly statsEl: HTMLElement;
  /** What the statistics shown were computed from (volume, labels version, frame and table), or null when hidden. */
  private statsSignature: string | null = null;
  private statsVolume: object | null = null;
  private statsTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly viewer: Viewer,
    /** Called after the active label changed here (the controls refresh). */
    private readonly onActiveLabel: () => void,
  ) {
    const head = document.createElement('div');
    head.className = 'll-labels-head';
    head.textContent = 'Labels';
    this.list = document.createElement('div');
    this.list.className = 'll-labels-list';
    viewer.labelTableEl.prepend(head);
    viewer.labelTableEl.append(this.list);
    const stats = document.createElement('div');
    stats.className = 'll-label-stats';
    this.statsButton = textButton(stats, 'Statistics', 'Show each label\'s volume and the image intensity inside it (mean ± SD, min–max); kept up to date while shown', () => this.toggleStatistics());
    this.statsButton.setAttribute('aria-pressed', 'false');
    this.statsEl = document.createElement('div');
    this.statsEl.className = 'll-label-stats-list';
    this.statsEl.hidden = true;
    stats.append(this.statsEl);
    viewer.labelTableEl.append(stats);
  }

  private toggleStatistics(): void {
    const show = this.statsEl.hidden;
    this.statsEl.hidden = !show;
    this.statsButton.setAttribute('aria-pressed', String(show));
    this.statsSignature = null;
    if (show) this.updateStatistics();
  }

  /** Recomputes the statistics when the labels or the table changed since they were shown. */
  private updateStatistics(): void {
    const v = this.viewer;
    const vol = v.vol;
    if (this.statsEl.hidden || !vol) return;
    const sig = JSON.stringify([v.labelsVersion, vol.frame, v.labelTable.map((e) => [e.value, e.name])]);
    if (sig === this.statsSignature && vol === this.statsVolume) return;
    this.statsSignature = sig;
    this.statsVolume = vol;
    const [sx, sy, sz] = vol.geometry.spacingMm;
    const stats = labelStatistics(vol.image, vol.labels.data, sx * sy * sz);
    const format = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : '—');
    this.statsEl.replaceChildren();
    if (stats.length === 0) {
      const none = document.createElement('div');
      none.textContent = 'No voxel is labelled.';
      this.statsEl.append(none);
      return;
    }
    for (const s of stats) {
      const name = v.labelTable.find((e) => e.value === s.value)?.name ?? `Label ${s.value}`;
      const block = document.createElement('div');
      block.className = 'll-label-stat';
      block.dataset.value = String(s.value);
      const title = document.createElement('div');
      title.textContent = `${s.value} ${name}: ${formatVolume(s.volumeMm3)} (${s.voxels.toLocaleString('en-US')} voxels)`;
      const intensity = document.createElement('div');
      intensity.textContent = `intensity ${format(s.mean)} ± ${format(s.sd)} (${format(s.min)} to ${format(s.max)})`;
      intensity.title = 'Image intensity inside the label: mean ± SD, minimum to maximum';
      block.append(title, intensity);
      this.statsEl.append(block);
    }
  }

  /** Rebuilds the rows when the table, the active label or the present labels changed. */
  refresh(): void {
    if (!this.statsEl.hidden) {
      if (this.statsTimer) clearTimeout(this.statsTimer);
      this.statsTimer = setTimeout(() => {
        this.statsTimer = null;
        this.updateStatistics();
      }, STATS_DEBOUNCE_MS);
    }
    const v = this.viewer;
    const sig = JSON.stringify([v.labelTable, v.activeLabel, v.readOnly, [...v.presentLabels]]);
    if (sig === this.signature) return;
    this.signature = sig;
    const root = this.list;
    root.replaceChildren();
    for (const e of this.rows()) root.appendChild(this.row(e));
    const add = textButton(root, '+ label', 'Add a label with the next free value', () => {
      const used = new Set(v.labelTable.map((e) => e.value));
      let value = 1;
      while (used.has(value)) value++;
      const [r, g, b] = defaultLabelColor(value);
      v.setLabelTable([...v.labelTable, { value, name: `Label ${value}`, color: [r, g, b], visible: true, locked: false }], true, 'Add label');
      v.activeLabel = value;
      this.onActiveLabel();
    });
    add.disabled = v.readOnly;
  }

  /** The table's labels, plus a default row for labels in the volume or selected but missing from it. */
  private rows(): LabelTableEntry[] {
    const v = this.viewer;
    const rows = v.labelTable.filter((e) => e.value !== 0);
    for (const value of new Set([...v.presentLabels, v.activeLabel])) {
      if (rows.some((e) => e.value === value)) continue;
      const [r, g, b] = defaultLabelColor(value);
      rows.push({ value, name: `Label ${value}`, color: [r, g, b], visible: true, locked: false });
    }
    return rows.sort((a, b) => a.value - b.value);
  }

  private commit(entry: LabelTableEntry, change: Partial<LabelTableEntry>, undoLabel: string): void {
    const v = this.viewer;
    const table = v.labelTable.filter((e) => e.value !== entry.value);
    table.push({ ...entry, ...change });
    table.sort((a, b) => a.value - b.value);
    v.setLabelTable(table, !v.readOnly, undoLabel);
  }

  private row(e: LabelTableEntry): HTMLElement {
    const v = this.viewer;
    const row = document.createElement('div');
    row.className = 'll-label-row';
    row.dataset.value = String(e.value);
    row.classList.toggle('ll-active', e.value === v.activeLabel);
    const pick = textButton(row, String(e.value), `Paint with label ${e.value}${e.value <= 9 ? ` (${e.value})` : ''}`, () => {
      v.activeLabel = e.value;
      this.onActiveLabel();
    });
    pick.setAttribute('aria-pressed', String(e.value === v.activeLabel));
    const color = input(row, 'color', 'Colour');
    color.value = `#${e.color.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
    color.addEventListener('change', () => {
      const hex = color.value.slice(1);
      this.commit(e, { color: [0, 2, 4].map((n) => parseInt(hex.slice(n, n + 2), 16)) as [number, number, number] }, 'Change label colour');
    });
    const name = input(row, 'text', 'Name');
    name.value = e.name;
    name.addEventListener('change', () => this.commit(e, { name: name.value }, 'Rename label'));
    const vis = input(row, 'checkbox', 'Visible');
    vis.checked = e.visible;
    vis.addEventListener('change', () => this.commit(e, { visible: vis.checked }, vis.checked ? 'Show label' : 'Hide label'));
    const lock = input(row, 'checkbox', 'Locked (tools never change it)');
    lock.checked = e.locked;
    lock.addEventListener('change', () => this.commit(e, { locked: lock.checked }, lock.checked ? 'Lock label' : 'Unlock label'));
    for (const i of [color, name, vis, lock]) i.disabled = v.readOnly;
    return row;
  }
}

function input(parent: HTMLElement, type: string, title: string): HTMLInputElement {
  const i = document.createElement('input');
  i.type = type;
  i.title = title;
  i.setAttribute('aria-label', title);
  parent.appendChild(i);
  return i;
}
