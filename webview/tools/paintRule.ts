// Which voxels a tool may change: overwrite policy, locked labels and the intensity range of
// threshold-constrained painting. Pure.
import type { OverwriteMode } from '../../src/protocol/messages';

/** The constraints every tool applies before it changes a voxel. */
export interface PaintRule {
  /** Value written (0 for the eraser). */
  value: number;
  /** 'all': any unlocked voxel; 'empty': only background; 'label': only voxels of `onlyLabel`. */
  overwrite: OverwriteMode;
  /** The label that 'label' mode may paint over. */
  onlyLabel: number;
  /** Label values that are never changed (locked in the label table). */
  locked: ReadonlySet<number>;
  /** Threshold-constrained painting: only voxels whose image value is in [min, max]. */
  intensityRange: { min: number; max: number } | null;
  /** Image values (same grid as the labels), needed when `intensityRange` is set. */
  image: ArrayLike<number> | null;
}

/** Checks a rule's fields; throws naming the option and value. */
export function validatePaintRule(rule: PaintRule): void {
  if (!Number.isInteger(rule.value) || rule.value < 0 || rule.value > 65535) {
    throw new Error(`paint rule: value must be an integer 0…65535, got ${rule.value}`);
  }
  if (rule.overwrite !== 'all' && rule.overwrite !== 'empty' && rule.overwrite !== 'label') {
    throw new Error(`paint rule: overwrite must be 'all', 'empty' or 'label', got ${String(rule.overwrite)}`);
  }
  if (rule.intensityRange && !(rule.intensityRange.min <= rule.intensityRange.max)) {
    throw new Error(`paint rule: intensityRange.min (${rule.intensityRange.min}) must not exceed max (${rule.intensityRange.max})`);
  }
  if (rule.intensityRange && !rule.image) throw new Error('paint rule: intensityRange needs the image values');
}

/** Whether a tool following `rule` may set voxel `index`, whose label is now `current`. */
export function mayPaint(rule: PaintRule, index: number, current: number): boolean {
  if (current === rule.value) return false;
  if (rule.locked.has(current)) return false;
  if (rule.overwrite === 'empty' && current !== 0) return false;
  // The eraser in 'label' mode clears only that label; painting in 'label' mode also may fill
  // background, like ITK-SNAP's "paint over: label X" plus clear label.
  if (rule.overwrite === 'label' && current !== rule.onlyLabel && !(rule.value !== 0 && current === 0)) return false;
  if (rule.intensityRange && rule.image) {
    const v = rule.image[index];
    if (!(v >= rule.intensityRange.min && v <= rule.intensityRange.max)) return false;
  }
  return true;
}
