// Is a volume a label mask? Training reads "mask > 0 is lesion", so an image passed as a mask
// (`fine-tune ct.nii.gz:ct.nii.gz`) would silently train on every voxel above 0 HU. A label mask
// here holds whole numbers from 0 to 65535 (what uint8/uint16 label files hold) with at most 256
// distinct values (the editor's labels, and multi-label atlases, stay far below that; an image
// has thousands).

/** Most distinct values a label mask may hold (background 0 included). */
export const MAX_MASK_LABELS = 256;
/** Largest label value (the uint16 range). */
export const MAX_MASK_LABEL_VALUE = 65535;
/** Distinct values are counted up to this many; beyond it the message says "more than". */
const DISTINCT_COUNT_LIMIT = 100_000;

/** Error raised by {@link checkLabelMask}; the message is one sentence naming the file. */
export class LabelMaskError extends Error {
  override name = 'LabelMaskError';
}

/**
 * Why `values` is not a label mask, or null when it is one (see the module comment for the rule).
 *
 * @param values - the mask's voxel values (as read, after any scaling).
 * @param name - how the message names the file, e.g. 'ct.nii.gz'.
 * @returns one sentence with the number of distinct values and up to two offending values, e.g.
 *   "ct.nii.gz is not a label mask: it has 2,731 distinct values including -1000 and 0.5; …".
 */
export function labelMaskProblem(values: ArrayLike<number>, name: string): string | null {
  // uint8 holds 256 whole numbers from 0 to 255: always a valid mask.
  if (values instanceof Uint8Array) return null;
  const distinct = new Set<number>();
  let countCapped = false;
  let min = Infinity;
  let max = -Infinity;
  let firstFraction: number | undefined;
  let firstNonFinite: number | undefined;
  let previous = NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Masks are long runs of one value: skip the Set for a repeat.
    if (v === previous) continue;
    previous = v;
    if (!Number.isFinite(v)) {
      if (firstNonFinite === undefined) firstNonFinite = v;
    } else {
      if (v < min) min = v;
      if (v > max) max = v;
      if (firstFraction === undefined && !Number.isInteger(v)) firstFraction = v;
    }
    if (!countCapped) {
      distinct.add(v);
      if (distinct.size > DISTINCT_COUNT_LIMIT) countCapped = true;
    }
  }
  const offending: number[] = [];
  if (min < 0) offending.push(min);
  if (firstFraction !== undefined) offending.push(firstFraction);
  if (max > MAX_MASK_LABEL_VALUE) offending.push(max);
  if (firstNonFinite !== undefined) offending.push(firstNonFinite);
  if (offending.length === 0 && distinct.size <= MAX_MASK_LABELS) return null;
  const count = countCapped ? `more than ${DISTINCT_COUNT_LIMIT.toLocaleString('en-US')}` : distinct.size.toLocaleString('en-US');
  const detail = offending.length > 0 ? `including ${offending.slice(0, 2).map(String).join(' and ')}` : `(${min} to ${max})`;
  return (
    `${name} is not a label mask: it has ${count} distinct values ${detail}; ` +
    `a label mask holds at most ${MAX_MASK_LABELS} distinct whole numbers from 0 to ${MAX_MASK_LABEL_VALUE.toLocaleString('en-US')}`
  );
}

/**
 * Checks that `values` is a label mask.
 * @returns the distinct labels, ascending.
 * @throws LabelMaskError with {@link labelMaskProblem}'s sentence.
 * @example checkLabelMask((await readNifti(maskPath)).data, 'mask.nii.gz'); // [0, 1]
 */
export function checkLabelMask(values: ArrayLike<number>, name: string): number[] {
  const problem = labelMaskProblem(values, name);
  if (problem) throw new LabelMaskError(problem);
  const seen = new Set<number>();
  let previous = NaN;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === previous) continue;
    previous = values[i];
    seen.add(previous);
  }
  return [...seen].sort((a, b) => a - b);
}
