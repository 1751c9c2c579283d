// The typical size of the lesions a model is trained on, and whether new cases hold another kind
// of lesion. A model fine-tuned on lesions of another scale (an MS model on whole brain tumours:
// lesions of ~20 mm³ against ~50,000 mm³) must re-learn what a lesion is, and at the fine-tuning
// rate of 1e-4 fifteen minutes move it too little (docs/training-recipe.md).
import { readNifti } from '../../nifti';
import type { Vec3 } from '../../volume/vec3';
import { connectedComponents } from '../metrics';

/** Lesion scales further apart than this factor are another kind of lesion. */
export const NEW_LESION_TYPE_RATIO = 10;

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

/** Components under this share of a mask's largest lesion are specks when together they hold under {@link SPECK_VOLUME_SHARE} of its volume. */
const SPECK_SIZE_SHARE = 0.01;
const SPECK_VOLUME_SHARE = 0.02;

/**
 * The typical lesion volume of a set of masks, mm³: per mask the median volume of its
 * 26-connected lesions, then the median over the masks that have any; null when none has one.
 * Specks beside a large lesion (a whole tumour's mask with a few islands of 1–3 voxels, as thick
 * slices or a labeller's brush leave them) do not count: without this, one speck made a tumour
 * mask's median a voxel. Many small lesions that hold a real share of the volume (MS) all count.
 */
export function typicalLesionVolumeMm3(masks: readonly { labels: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }[]): number | null {
  const perMask: number[] = [];
  for (const m of masks) {
    const labels = Uint8Array.from(m.labels, (v) => (v > 0 ? 1 : 0));
    const { sizes } = connectedComponents(labels, m.dims, 26);
    if (sizes.length === 0) continue;
    const largest = Math.max(...sizes);
    const total = sizes.reduce((a, b) => a + b, 0);
    const specks = sizes.filter((n) => n < SPECK_SIZE_SHARE * largest);
    const lesions = specks.reduce((a, b) => a + b, 0) < SPECK_VOLUME_SHARE * total ? sizes.filter((n) => n >= SPECK_SIZE_SHARE * largest) : sizes;
    perMask.push(median(lesions) * m.spacingMm[0] * m.spacingMm[1] * m.spacingMm[2]);
  }
  return perMask.length > 0 ? median(perMask) : null;
}

/** {@link typicalLesionVolumeMm3} of mask files. */
export async function typicalLesionVolumeOfFiles(maskPaths: readonly string[]): Promise<number | null> {
  const masks = [];
  for (const p of maskPaths) {
    const m = await readNifti(p);
    masks.push({ labels: m.data as ArrayLike<number>, dims: m.dims, spacingMm: m.spacingMm });
  }
  return typicalLesionVolumeMm3(masks);
}

/** Why the cases' lesions are another kind than the base's (their scales differ ≥ 10×), or null. */
export function newLesionTypeReason(baseMm3: number | null | undefined, casesMm3: number | null): string | null {
  if (!baseMm3 || !casesMm3) return null;
  const ratio = Math.max(baseMm3 / casesMm3, casesMm3 / baseMm3);
  if (ratio < NEW_LESION_TYPE_RATIO) return null;
  const fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(2));
  return `the cases' lesions (typically ${fmt(casesMm3)} mm³) are ${ratio.toFixed(0)}× ${casesMm3 > baseMm3 ? 'larger' : 'smaller'} than the base model's (${fmt(baseMm3)} mm³): another kind of lesion`;
}
