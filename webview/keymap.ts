// Keyboard shortcuts of the views (KeyboardEvent.key → action). Keys typed into a text field,
// a number field or a list are theirs, not shortcuts.
import type { SliceViewKind } from './geometry';
import { TOOL_KEYS, type ToolName } from './tools/toolSet';

/** Keys (KeyboardEvent.key) of the overlay and model shortcuts; shown in the tooltips. */
export const OVERLAY_KEYS = {
  toggleProbability: 'p',
  toggleUncertainty: 'u',
  toggleProposalOutline: 'c',
  toggleBrainOutline: 'h',
  segmentLesion: 'S',
  acceptProposal: 'A',
  rejectProposal: 'X',
} as const;

/** Keys of the other shortcuts named in tooltips. */
export const SHORTCUT_KEYS = {
  brushSmaller: '[',
  brushLarger: ']',
  brushShape: 's',
  threshold: 't',
  interpolate: 'i',
  removeIslands: 'r',
  outline: 'o',
  showLabels: 'v',
  layout: 'l',
  mode3d: 'm',
  autoWindow: 'w',
  previousFrame: ',',
  nextFrame: '.',
} as const;

/** How a shortcut key reads in a tooltip: "P", "Shift+A", "[". */
export function keyName(key: string): string {
  return key.length === 1 && key !== key.toLowerCase() ? `Shift+${key}` : key.toUpperCase();
}

/** What the shortcuts drive. */
export interface KeyTarget {
  setTool(tool: ToolName): void;
  scaleBrush(factor: number): void;
  toggleBrushShape(): void;
  toggleThreshold(): void;
  interpolate(kind: SliceViewKind): number;
  removeIslands(): number;
  toggleLabelOutline(): void;
  toggleLabels(): void;
  toggleOverlay(kind: 'probability' | 'uncertainty' | 'brain'): void;
  toggleProposalOutline(): void;
  segmentLesion(): void;
  acceptProposal(): boolean;
  rejectProposal(): boolean;
  cycleLayout(kind: SliceViewKind): void;
  toggle3dMode(): void;
  applyPreset(name: 'auto'): void;
  setActiveLabel(value: number): void;
  stepFrame(step: number): void;
  scrollSlice(kind: SliceViewKind, steps: number): void;
  /** Backspace: drops the last prompt (with the Measure tool, the last ruler); false when there is none. */
  removeLastPrompt(): boolean;
  /** Esc: drops the gesture in progress and the prompts (with the Measure tool, the rulers). */
  cancel(): void;
}

/** An action; returns false when the key did nothing (it then keeps its default). */
type KeyAction = (t: KeyTarget, kind: SliceViewKind) => boolean | void;

/** Slice scrolling, which works with modifier keys held too. */
const SCROLL_STEPS: Record<string, number> = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1, PageUp: 10, PageDown: -10 };

const KEYMAP: Record<string, KeyAction> = {
  [SHORTCUT_KEYS.brushSmaller]: (t) => t.scaleBrush(0.8),
  [SHORTCUT_KEYS.brushLarger]: (t) => t.scaleBrush(1.25),
  [SHORTCUT_KEYS.brushShape]: (t) => t.toggleBrushShape(),
  [SHORTCUT_KEYS.threshold]: (t) => t.toggleThreshold(),
  [SHORTCUT_KEYS.interpolate]: (t, kind) => void t.interpolate(kind),
  [SHORTCUT_KEYS.removeIslands]: (t) => void t.removeIslands(),
  [SHORTCUT_KEYS.outline]: (t) => t.toggleLabelOutline(),
  [SHORTCUT_KEYS.showLabels]: (t) => t.toggleLabels(),
  [OVERLAY_KEYS.toggleProbability]: (t) => t.toggleOverlay('probability'),
  [OVERLAY_KEYS.toggleUncertainty]: (t) => t.toggleOverlay('uncertainty'),
  [OVERLAY_KEYS.toggleProposalOutline]: (t) => t.toggleProposalOutline(),
  [OVERLAY_KEYS.toggleBrainOutline]: (t) => t.toggleOverlay('brain'),
  [OVERLAY_KEYS.segmentLesion]: (t) => t.segmentLesion(),
  [OVERLAY_KEYS.acceptProposal]: (t) => t.acceptProposal(),
  [OVERLAY_KEYS.rejectProposal]: (t) => t.rejectProposal(),
  [SHORTCUT_KEYS.layout]: (t, kind) => t.cycleLayout(kind),
  [SHORTCUT_KEYS.mode3d]: (t) => t.toggle3dMode(),
  [SHORTCUT_KEYS.autoWindow]: (t) => t.applyPreset('auto'),
  [SHORTCUT_KEYS.previousFrame]: (t) => t.stepFrame(-1),
  [SHORTCUT_KEYS.nextFrame]: (t) => t.stepFrame(1),
  Backspace: (t) => t.removeLastPrompt(),
  Escape: (t) => t.cancel(),
};

function has(table: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, key);
}

/**
 * Runs the shortcut of `e` on `t`, with `kind` the slice view the key acts on; calls
 * preventDefault when it did something.
 */
export function handleKey(e: KeyboardEvent, t: KeyTarget, kind: SliceViewKind): void {
  const target = e.target as HTMLElement | null;
  if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
  const key = e.key;
  let handled = true;
  if (has(SCROLL_STEPS, key)) t.scrollSlice(kind, SCROLL_STEPS[key]);
  else if (e.ctrlKey || e.metaKey || e.altKey) handled = false;
  else if (has(TOOL_KEYS, key)) t.setTool(TOOL_KEYS[key]);
  else if (/^[1-9]$/.test(key)) t.setActiveLabel(Number(key));
  else if (has(KEYMAP, key)) handled = KEYMAP[key](t, kind) !== false;
  else handled = false;
  if (handled) e.preventDefault();
}
