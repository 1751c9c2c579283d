// Facts about an image that the viewer needs with its voxels: intensity statistics for
// window/level, a modality guess for presets, and the voxels in a texture-ready type (obliquity:
// src/volume/orientation.ts; voxel volume: src/nifti/affine.ts).
// Pure (no vscode, no I/O).

import type { IntensityStats, ModalityHint, VoxelType, WireLabelVolume } from '../protocol/messages';

type NumericArray = ArrayLike<number> & { length: number };

/** Histogram bins used for percentiles. */
const BINS = 4096;
/** At most this many voxels enter the percentile histogram (evenly strided). */
const MAX_HISTOGRAM_SAMPLES = 8_000_000;

/**
 * Min, max, mean and percentiles of the finite values. For 8- and 16-bit integer data all are
 * exact (nearest-rank percentiles from a full-range histogram). For other data, min, max, mean
 * and the non-finite count are exact and percentiles come from a 4096-bin histogram over at
 * most 8 M evenly strided voxels, linearly interpolated within the bin.
 * @param headerWindow - cal_min/cal_max from the header (ignored unless max > min).
 */
export function intensityStats(data: NumericArray, headerWindow?: { min: number; max: number }): IntensityStats {
  const window = headerWindow && Number.isFinite(headerWindow.min) && Number.isFinite(headerWindow.max) && headerWindow.max > headerWindow.min
    ? { min: headerWindow.min, max: headerWindow.max }
    : null;
  // 8- and 16-bit integers: one pass into a histogram over every possible value, exact.
  if (data instanceof Int16Array) return integerStats(data, 32768, 65536, window);
  if (data instanceof Uint16Array) return integerStats(data, 0, 65536, window);
  if (data instanceof Uint8Array) return integerStats(data, 0, 256, window);
  if (data instanceof Int8Array) return integerStats(data, 128, 256, window);
  return floatStats(data, window);
}

/** The percentile fields of IntensityStats, each given by `percentile(p)` (p in percent). */
function percentiles(percentile: (p: number) => number): Pick<IntensityStats, 'p1' | 'p5' | 'p50' | 'p95' | 'p99' | 'p99_5'> {
  return { p1: percentile(1), p5: percentile(5), p50: percentile(50), p95: percentile(95), p99: percentile(99), p99_5: percentile(99.5) };
}

/** Exact statistics of 8/16-bit integer data from a full-range histogram (one pass). */
function integerStats(
  data: Int16Array | Uint16Array | Uint8Array | Int8Array,
  offset: number,
  bins: number,
  window: { min: number; max: number } | null,
): IntensityStats {
  const hist = new Float64Array(bins);
  const n = data.length;
  for (let i = 0; i < n; i++) hist[data[i] + offset]++;
  if (n === 0) return { min: 0, max: 0, mean: 0, ...percentiles(() => 0), nonFiniteCount: 0, headerWindow: window };
  let lo = 0;
  while (hist[lo] === 0) lo++;
  let hi = bins - 1;
  while (hist[hi] === 0) hi--;
  let sum = 0;
  for (let b = lo; b <= hi; b++) sum += hist[b] * (b - offset);
  const percentile = (p: number): number => {
    // Nearest-rank percentile on the exact distribution.
    const target = Math.max(1, Math.ceil((p / 100) * n));
    let acc = 0;
    for (let b = lo; b <= hi; b++) {
      acc += hist[b];
      if (acc >= target) return b - offset;
    }
    return hi - offset;
  };
  return {
    min: lo - offset,
    max: hi - offset,
    mean: sum / n,
    ...percentiles(percentile),
    nonFiniteCount: 0,
    headerWindow: window,
  };
}

function floatStats(data: NumericArray, window: { min: number; max: number } | null): IntensityStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finiteCount = 0;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v - v !== 0) continue; // NaN or ±Infinity
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    finiteCount++;
  }
  if (finiteCount === 0) {
    return { min: 0, max: 0, mean: 0, ...percentiles(() => 0), nonFiniteCount: n, headerWindow: window };
  }
  const mean = sum / finiteCount;
  if (max === min) {
    return { min, max, mean, ...percentiles(() => min), nonFiniteCount: n - finiteCount, headerWindow: window };
  }
  const hist = new Float64Array(BINS);
  const stride = Math.max(1, Math.ceil(n / MAX_HISTOGRAM_SAMPLES));
  const scale = BINS / (max - min);
  let sampled = 0;
  for (let i = 0; i < n; i += stride) {
    const v = data[i];
    if (v - v !== 0) continue;
    let b = Math.floor((v - min) * scale);
    if (b >= BINS) b = BINS - 1;
    hist[b]++;
    sampled++;
  }
  const binWidth = (max - min) / BINS;
  const percentile = (p: number): number => {
    const target = (p / 100) * sampled;
    let acc = 0;
    for (let b = 0; b < BINS; b++) {
      const next = acc + hist[b];
      if (next >= target && hist[b] > 0) {
        const frac = (target - acc) / hist[b];
        return Math.min(max, min + (b + frac) * binWidth);
      }
      acc = next;
    }
    return max;
  };
  return {
    min,
    max,
    mean,
    ...percentiles(percentile),
    nonFiniteCount: n - finiteCount,
    headerWindow: window,
  };
}

/**
 * Guesses the modality for window/level presets: first from words in the path and header
 * description (PET/SUV, CT, MR/T1/T2/FLAIR/DWI), then from the values (a CT in Hounsfield units
 * has air near −1000 and bone above +300).
 */
export function guessModality(filePath: string, description: string, stats: IntensityStats): ModalityHint {
  const text = `${filePath} ${description}`.toLowerCase();
  const word = (w: string) => new RegExp(`(^|[^a-z0-9])${w}([^a-z]|$)`).test(text);
  if (word('pet') || word('suv') || word('fdg')) return 'PET';
  if (word('ct') || word('cta') || word('hu')) return 'CT';
  if (['mr', 'mri', 't1', 't2', 'flair', 'dwi', 'adc', 't1post', 'pd', 'swi'].some(word)) return 'MR';
  if (stats.min <= -900 && stats.p1 < -500 && stats.max >= 300) return 'CT';
  return 'unknown';
}

/** Voxels in the type the webview receives, in a fresh ArrayBuffer safe to post. */
export interface WireVoxels {
  voxelType: VoxelType;
  voxels: ArrayBuffer;
}

/**
 * Voxel data as an ArrayBuffer of a texture-friendly type: 8- and 16-bit integers and float32
 * as they are; everything else as float32 (int32/uint32/float64 lose precision beyond 2^24,
 * which a display cannot show anyway).
 *
 * By default the values are copied into a fresh buffer. With `shareWholeBuffer`, an array that
 * owns its entire (non-shared) ArrayBuffer is returned without a copy: VS Code's
 * `Webview.postMessage` serialises ArrayBuffers for IPC without detaching them (it wraps them
 * in a VSBuffer), so the host keeps its data and a 157 MB copy is saved. A view into a larger
 * buffer (e.g. a pooled Node Buffer) is always copied, so nothing else is ever posted.
 */
export function toWireVoxels(data: NumericArray, options: { shareWholeBuffer?: boolean } = {}): WireVoxels {
  const own = (view: ArrayBufferView): ArrayBuffer | null =>
    options.shareWholeBuffer && view.byteOffset === 0 && view.buffer instanceof ArrayBuffer && view.byteLength === view.buffer.byteLength
      ? view.buffer
      : null;
  if (data instanceof Uint8Array) return { voxelType: 'uint8', voxels: own(data) ?? new Uint8Array(data).buffer };
  if (data instanceof Int8Array) return { voxelType: 'int8', voxels: own(data) ?? new Int8Array(data).buffer };
  if (data instanceof Uint16Array) return { voxelType: 'uint16', voxels: own(data) ?? new Uint16Array(data).buffer };
  if (data instanceof Int16Array) return { voxelType: 'int16', voxels: own(data) ?? new Int16Array(data).buffer };
  if (data instanceof Float32Array) return { voxelType: 'float32', voxels: own(data) ?? new Float32Array(data).buffer };
  // The typed-array constructor converts natively (much faster than a JS loop).
  return { voxelType: 'float32', voxels: new Float32Array(data).buffer };
}

/**
 * The label volume as the host sends it (`init`, `replaceLabels`): a fresh copy, or an empty
 * buffer when every voxel is background; `bits` tells the receiver the array type either way.
 */
export function labelsToWire(labels: Uint8Array | Uint16Array): WireLabelVolume {
  const bits = labels instanceof Uint16Array ? 16 : 8;
  if (isAllZero(labels)) return { voxels: new ArrayBuffer(0), bits };
  const copy = new Uint8Array(labels.byteLength);
  copy.set(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength));
  return { voxels: copy.buffer, bits };
}

/** The voxel type {@link toWireVoxels} sends for `data`, without copying anything. */
export function toWireVoxelType(data: NumericArray): WireVoxels['voxelType'] {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  return 'float32';
}

/** True when every byte of the array is 0 (word-at-a-time scan). */
export function isAllZero(view: ArrayBufferView): boolean {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const head = (4 - (bytes.byteOffset % 4)) % 4;
  for (let i = 0; i < Math.min(head, bytes.length); i++) if (bytes[i] !== 0) return false;
  if (bytes.length <= head) return true;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, Math.floor((bytes.length - head) / 4));
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = head + words.length * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
