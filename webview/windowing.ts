// Window/level: presets and the automatic window from percentiles. Pure.
import type { InitMessage, IntensityStats } from '../src/protocol/messages';

/** A display window as centre (level) and width, in the image's value units. */
export interface WindowLevel {
  level: number;
  width: number;
}

/** CT presets in Hounsfield units (common radiology values). */
export const CT_PRESETS = {
  'CT brain': { level: 40, width: 80 },
  'CT soft tissue': { level: 40, width: 400 },
  'CT lung': { level: -600, width: 1500 },
  'CT bone': { level: 400, width: 1800 },
} as const satisfies Record<string, WindowLevel>;
export type CtPresetName = keyof typeof CT_PRESETS;

/** Most voxels looked at when estimating percentiles (a strided sample keeps big volumes fast). */
export const PERCENTILE_SAMPLE_LIMIT = 1 << 20;

/**
 * Values at the given percentiles (0..100) of a strided sample of `data`, ignoring non-finite
 * values. With `ignoreZero` the background zeros of skull-stripped MR do not pull the window down.
 */
export function percentiles(data: ArrayLike<number>, pcts: readonly number[], ignoreZero = false): number[] {
  const stride = Math.max(1, Math.floor(data.length / PERCENTILE_SAMPLE_LIMIT));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (!Number.isFinite(v) || (ignoreZero && v === 0)) continue;
    sample.push(v);
  }
  if (sample.length === 0) return pcts.map(() => 0);
  const sorted = Float64Array.from(sample).sort();
  return pcts.map((p) => {
    const x = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
    const lo = Math.floor(x);
    const hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
  });
}

/** Automatic window from the 0.5th to 99.5th percentile of the non-zero voxels (MR and others). */
export function autoWindow(data: ArrayLike<number>): WindowLevel {
  const [lo, hi] = percentiles(data, [0.5, 99.5], true);
  const width = hi > lo ? hi - lo : Math.max(1, Math.abs(hi));
  return { level: (lo + hi) / 2 || lo, width };
}

/** Whether a volume looks like CT in HU (air near −1000 present), to pick a CT preset by default. */
export function looksLikeCt(data: ArrayLike<number>): boolean {
  const [p1, p99] = percentiles(data, [1, 99]);
  return p1 <= -900 && p1 >= -1100 - 1024 && p99 > 0;
}

/** [low, high] of a window. */
export function windowRange(w: WindowLevel): [number, number] {
  return [w.level - w.width / 2, w.level + w.width / 2];
}

/** The window a document opens with: CT soft tissue for CT, the header's window, else p1…p99.5. */
export function defaultWindow(stats: IntensityStats, modality: InitMessage['modality']): WindowLevel {
  if (modality === 'CT') return { ...CT_PRESETS['CT soft tissue'] };
  if (stats.headerWindow) return { level: (stats.headerWindow.min + stats.headerWindow.max) / 2, width: stats.headerWindow.max - stats.headerWindow.min };
  const lo = stats.p1;
  const hi = stats.p99_5 > lo ? stats.p99_5 : stats.max;
  return hi > lo ? { level: (lo + hi) / 2, width: hi - lo } : { level: lo, width: 1 };
}
