// Per-label statistics, as ITK-SNAP's "Volumes and Statistics" and Slicer's Segment Statistics
// give them: voxel count, volume, and the image intensity inside each label. Pure.

/** What one label holds. */
export interface LabelStatistics {
  value: number;
  voxels: number;
  volumeMm3: number;
  /** Intensity inside the label (NaN voxels left out; all NaN when none is finite). */
  mean: number;
  sd: number;
  min: number;
  max: number;
}

/**
 * Statistics of every non-zero label of `labels` over `image` (same voxel order), sorted by label
 * value. `voxelVolumeMm3` is the product of the voxel sizes. The SD is the population SD.
 */
export function labelStatistics(image: ArrayLike<number>, labels: ArrayLike<number>, voxelVolumeMm3: number): LabelStatistics[] {
  if (image.length !== labels.length) throw new Error(`labelStatistics: ${image.length} image voxels but ${labels.length} labels`);
  const acc = new Map<number, { voxels: number; finite: number; sum: number; sumSq: number; min: number; max: number }>();
  for (let i = 0; i < labels.length; i++) {
    const value = labels[i];
    if (value === 0) continue;
    let a = acc.get(value);
    if (!a) acc.set(value, (a = { voxels: 0, finite: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity }));
    a.voxels++;
    const x = image[i];
    if (!Number.isFinite(x)) continue;
    a.finite++;
    a.sum += x;
    a.sumSq += x * x;
    if (x < a.min) a.min = x;
    if (x > a.max) a.max = x;
  }
  return [...acc.entries()]
    .sort(([a], [b]) => a - b)
    .map(([value, a]) => {
      const mean = a.finite > 0 ? a.sum / a.finite : NaN;
      // Sums of squares lose digits for large offsets: clamp the tiny negative round-off.
      const sd = a.finite > 0 ? Math.sqrt(Math.max(0, a.sumSq / a.finite - mean * mean)) : NaN;
      return { value, voxels: a.voxels, volumeMm3: a.voxels * voxelVolumeMm3, mean, sd, min: a.finite > 0 ? a.min : NaN, max: a.finite > 0 ? a.max : NaN };
    });
}

/** "1,234 mm³" below 10 mL, "12.3 mL" above. */
export function formatVolume(mm3: number): string {
  return mm3 < 10_000 ? `${Math.round(mm3).toLocaleString('en-US')} mm³` : `${(mm3 / 1000).toFixed(1)} mL`;
}
