// Intensity preprocessing written once and stored with the model (in card.json), so training and
// inference normalise the same way: CT is clipped to a window and scaled to [0, 1], or (nnU-Net
// style, from src/ml/autoConfig) clipped to the 0.5–99.5 percentiles of the training lesions and
// z-scored with their mean and standard deviation; MR and PET are z-scored inside the foreground
// (body / brain) found by a threshold. Resampling to the
// model's spacing is described here and done by src/volume/resample.
import type { Vec3 } from '../volume/vec3';

/** Modalities with their own normalisation. */
export const MODALITIES = ['MR', 'CT', 'PET'] as const;
export type Modality = (typeof MODALITIES)[number];

/** Error raised for an invalid preprocessing descriptor. */
export class PreprocessError extends Error {
  override name = 'PreprocessError';
}

/** How images are normalised for a model; stored in the model card. */
export interface Preprocessing {
  modality: Modality;
  /** Spacing (mm, along i, j, k) the model works at; null = the image's own grid. */
  targetSpacingMm: Vec3 | null;
  /** CT only: HU window clipped to, then scaled to [0, 1]. Default [-100, 200] (soft tissue). */
  ctWindowHu?: [number, number];
  /**
   * CT only, instead of the window: clip to `clipHu` (the 0.5–99.5 percentiles of the training
   * cases' lesion voxels), then z-score with their `mean` and `std` (HU).
   */
  ctZScore?: { clipHu: [number, number]; mean: number; std: number };
  /**
   * MR/PET: foreground = voxels above p1 + fraction × (p99.5 − p1), where pN is the N-th
   * percentile (robust to a few negative or hot outliers); default 0.05.
   * CT: foreground = voxels above −500 HU (body).
   */
  foregroundFraction?: number;
}

/** A default descriptor for a modality. */
export function defaultPreprocessing(modality: Modality, targetSpacingMm: Vec3 | null = [1, 1, 1]): Preprocessing {
  return modality === 'CT'
    ? { modality, targetSpacingMm, ctWindowHu: [-100, 200] }
    : { modality, targetSpacingMm, foregroundFraction: 0.05 };
}

/**
 * Checks a descriptor (e.g. read from a card.json).
 * @throws PreprocessError naming the field and its value.
 */
export function validatePreprocessing(p: unknown): Preprocessing {
  if (typeof p !== 'object' || p === null) throw new PreprocessError(`preprocessing must be an object, got ${JSON.stringify(p)}`);
  const o = p as Record<string, unknown>;
  if (!MODALITIES.includes(o.modality as Modality)) {
    throw new PreprocessError(`preprocessing.modality must be one of ${MODALITIES.join(', ')}, got ${JSON.stringify(o.modality)}`);
  }
  const t = o.targetSpacingMm;
  if (t !== null && !(Array.isArray(t) && t.length === 3 && t.every((v) => typeof v === 'number' && v > 0))) {
    throw new PreprocessError(`preprocessing.targetSpacingMm must be null or three numbers > 0, got ${JSON.stringify(t)}`);
  }
  const w = o.ctWindowHu;
  if (w !== undefined && !(Array.isArray(w) && w.length === 2 && typeof w[0] === 'number' && typeof w[1] === 'number' && w[0] < w[1])) {
    throw new PreprocessError(`preprocessing.ctWindowHu must be [low, high] with low < high, got ${JSON.stringify(w)}`);
  }
  const z = o.ctZScore as Record<string, unknown> | undefined;
  if (
    z !== undefined &&
    !(
      typeof z === 'object' && z !== null &&
      Array.isArray(z.clipHu) && z.clipHu.length === 2 && typeof z.clipHu[0] === 'number' && typeof z.clipHu[1] === 'number' && z.clipHu[0] < z.clipHu[1] &&
      typeof z.mean === 'number' && Number.isFinite(z.mean) && typeof z.std === 'number' && z.std > 0
    )
  ) {
    throw new PreprocessError(`preprocessing.ctZScore must be { clipHu: [low, high] with low < high, mean, std > 0 }, got ${JSON.stringify(z)}`);
  }
  const f = o.foregroundFraction;
  if (f !== undefined && !(typeof f === 'number' && f >= 0 && f < 1)) {
    throw new PreprocessError(`preprocessing.foregroundFraction must lie in [0, 1), got ${JSON.stringify(f)}`);
  }
  return o as unknown as Preprocessing;
}

/** Result of {@link normalizeIntensity}. */
export interface NormalizedImage {
  values: Float32Array;
  /** 1 inside the body / brain. */
  foreground: Uint8Array;
  /** Statistics used (mean/std for z-score; window for CT). */
  stats: { mean: number; std: number; threshold: number };
  /** Normalised value of the background (air): what padding outside the volume should hold. */
  backgroundValue: number;
}

/** The value at quantile q (0..1) of a sample of at most ~200k values of `data`. */
export function approximateQuantile(data: ArrayLike<number>, q: number): number {
  const stride = Math.max(1, Math.floor(data.length / 200_000));
  const sample = new Float32Array(Math.ceil(data.length / stride));
  let n = 0;
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (Number.isFinite(v)) sample[n++] = v;
  }
  if (n === 0) return 0;
  const s = sample.subarray(0, n).sort();
  return s[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))];
}

/**
 * Normalises intensities by modality. Non-finite values are treated as background.
 * - CT: clip to `ctWindowHu`, scale to [0, 1]; foreground = HU > −500.
 * - MR/PET: foreground = value > p1 + f·(p99.5 − p1); z-score with the foreground's mean and
 *   standard deviation (applied to all voxels, so background becomes a constant low value).
 */
export function normalizeIntensity(data: ArrayLike<number>, p: Preprocessing): NormalizedImage {
  const n = data.length;
  const values = new Float32Array(n);
  const foreground = new Uint8Array(n);
  if (p.modality === 'CT' && p.ctZScore) {
    const { clipHu, mean, std } = p.ctZScore;
    const [lo, hi] = clipHu;
    for (let i = 0; i < n; i++) {
      const v = Number.isFinite(data[i]) ? data[i] : -1000;
      foreground[i] = v > -500 ? 1 : 0;
      values[i] = (Math.min(hi, Math.max(lo, v)) - mean) / std;
    }
    return { values, foreground, stats: { mean, std, threshold: -500 }, backgroundValue: (Math.min(hi, Math.max(lo, -1000)) - mean) / std };
  }
  if (p.modality === 'CT') {
    const [lo, hi] = p.ctWindowHu ?? [-100, 200];
    for (let i = 0; i < n; i++) {
      const v = Number.isFinite(data[i]) ? data[i] : -1000;
      foreground[i] = v > -500 ? 1 : 0;
      values[i] = (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo);
    }
    return { values, foreground, stats: { mean: lo, std: hi - lo, threshold: -500 }, backgroundValue: 0 };
  }
  const low = approximateQuantile(data, 0.01);
  const high = approximateQuantile(data, 0.995);
  const threshold = low + (p.foregroundFraction ?? 0.05) * (high - low);
  let count = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (Number.isFinite(v) && v > threshold) {
      foreground[i] = 1;
      count++;
      sum += v;
      sumSq += v * v;
    }
  }
  const mean = count > 0 ? sum / count : 0;
  const std = count > 1 ? Math.sqrt(Math.max(0, sumSq / count - mean * mean)) : 1;
  const scale = std > 1e-8 ? 1 / std : 1;
  const backgroundValue = (low - mean) * scale;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    values[i] = Number.isFinite(v) ? (v - mean) * scale : backgroundValue;
  }
  return { values, foreground, stats: { mean, std, threshold }, backgroundValue };
}
