// Option parsing shared by every loss: one error type, one parser per kind of option, and
// messages that name the loss, the option, the value received and what was expected.

/** Thrown for an ill option or an ill input tensor of a segmentation loss. */
export class LossError extends Error {
  override readonly name = 'LossError';
}

/** `'mean'`: one scalar for the batch. `'none'`: one value per image, shape `[B]`. */
export const REDUCTIONS = ['mean', 'none'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

/** `'one-hot'`: `yTrue` has the shape of `yPred`. `'index'`: integer class labels `[B,…spatial]` or `[B,…spatial,1]`. */
export const TARGET_FORMATS = ['one-hot', 'index'] as const;
export type TargetFormat = (typeof TARGET_FORMATS)[number];

/** `'probabilities'`: `yPred` is already softmax output. `'logits'`: softmax over the channel axis is applied first. */
export const INPUT_ACTIVATIONS = ['probabilities', 'logits'] as const;
export type InputActivation = (typeof INPUT_ACTIVATIONS)[number];

/**
 * `'per-image'` (the authors' choice): TP/FN/FP are summed over each image's voxels.
 * `'batch'`: they are summed over the whole batch, so a lesion-free patch adds false positives
 * to the pooled term instead of collapsing its own foreground index to about 0.
 */
export const REGION_POOLINGS = ['per-image', 'batch'] as const;
export type RegionPooling = (typeof REGION_POOLINGS)[number];

/** Options every loss accepts. */
export interface CommonLossOptions<R extends Reduction = Reduction> {
  /** What `yPred` holds. Default `'probabilities'`. */
  input?: InputActivation;
  /** What `yTrue` holds. Default `'one-hot'`. */
  target?: TargetFormat;
  /** `'mean'` (default) gives a scalar, `'none'` a `[B]` vector of per-image values. */
  reduction?: R;
}

/** Options of losses with a region (Dice/Tversky-type) term. */
export interface RegionPoolingOptions {
  /** Where TP/FN/FP are summed. Default `'per-image'` (the authors' behaviour). */
  regionPooling?: RegionPooling;
}

export const COMMON_OPTION_KEYS = ['input', 'target', 'reduction'] as const;

/** Renders a received value for an error message without dumping large objects. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const text = JSON.stringify(value);
    return text !== undefined && text.length <= 60 ? text : `an array of length ${value.length}`;
  }
  return `a value of type ${typeof value}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** `"; did you mean 'x'?"` for the closest choice within a small edit distance, else `''`. */
export function didYouMean(value: string, choices: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const choice of choices) {
    const distance = editDistance(value.toLowerCase(), choice.toLowerCase());
    if (distance < bestDistance) {
      best = choice;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(value.length / 3));
  return best !== undefined && bestDistance <= limit ? `; did you mean '${best}'?` : '';
}

/** Checks that `options` is a plain object whose keys are all known to `owner`. */
export function checkOptionsObject(owner: string, options: unknown, allowedKeys: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LossError(`${owner}: options must be an object, got ${describeValue(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!allowedKeys.includes(key)) {
      throw new LossError(
        `${owner}: unknown option '${key}'${didYouMean(key, allowedKeys)}` +
          ` (known options: ${allowedKeys.join(', ')}).`,
      );
    }
  }
}

/** Returns `value` if it is one of `choices`, `fallback` if undefined, else throws listing the choices. */
export function parseChoice<T extends string>(
  owner: string,
  option: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === 'string' ? didYouMean(value, choices) : '';
  throw new LossError(
    `${owner}: option '${option}' is ${describeValue(value)}; expected one of ${choices
      .map((c) => `'${c}'`)
      .join(', ')}${hint || '.'}`,
  );
}

/** An interval for {@link parseNumber}; open ends are written as exclusive bounds. */
export interface NumberRange {
  min: number;
  max: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** Common ranges of loss options. */
export const UNIT_INTERVAL: NumberRange = { min: 0, max: 1 };
export const NON_NEGATIVE: NumberRange = { min: 0, max: Infinity };
export const POSITIVE: NumberRange = { min: 0, max: Infinity, minExclusive: true };

function describeRange(range: NumberRange): string {
  if (range.max === Infinity) return range.minExclusive ? `> ${range.min}` : `>= ${range.min}`;
  return `in ${range.minExclusive ? '(' : '['}${range.min}, ${range.max}${range.maxExclusive ? ')' : ']'}`;
}

/** Returns a finite number within `range`, `fallback` if undefined, else throws naming the range. */
export function parseNumber(
  owner: string,
  option: string,
  value: unknown,
  fallback: number,
  range: NumberRange,
  why = '',
): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.minExclusive ? value > range.min : value >= range.min) &&
    (range.maxExclusive ? value < range.max : value <= range.max);
  if (!ok) {
    throw new LossError(
      `${owner}: option '${option}' is ${describeValue(value)}; expected a finite number ${describeRange(range)}${why}.`,
    );
  }
  return value as number;
}

/** Parses a list of non-negative finite per-class weights (e.g. focal `alpha`). */
export function parseClassWeights(owner: string, option: string, value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    !Array.isArray(value) ||
    value.length < 2 ||
    !value.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0)
  ) {
    throw new LossError(
      `${owner}: option '${option}' is ${describeValue(value)}; expected one finite weight >= 0 per class (at least 2).`,
    );
  }
  return [...(value as number[])];
}

/**
 * Parses `rareClasses`: distinct integer class indices >= 1 (0 is the background, always
 * suppressed). `undefined` means "every class but the background".
 */
export function parseRareClasses(owner: string, value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((c) => Number.isInteger(c) && (c as number) >= 1) ||
    new Set(value).size !== value.length
  ) {
    throw new LossError(
      `${owner}: option 'rareClasses' is ${describeValue(value)}; expected a non-empty list of distinct ` +
        `class indices >= 1 (class 0 is the background).`,
    );
  }
  return [...(value as number[])].sort((a, b) => a - b);
}

/** Parses the options every loss shares. */
export function parseCommonOptions<R extends Reduction>(
  owner: string,
  options: CommonLossOptions<R>,
): { input: InputActivation; target: TargetFormat; reduction: R } {
  return {
    input: parseChoice(owner, 'input', options.input, INPUT_ACTIVATIONS, 'probabilities'),
    target: parseChoice(owner, 'target', options.target, TARGET_FORMATS, 'one-hot'),
    // The default 'mean' is the class's default type argument, so the cast is sound.
    reduction: parseChoice<Reduction>(owner, 'reduction', options.reduction, REDUCTIONS, 'mean') as R,
  };
}

/** Parses `regionPooling`, rejecting the one combination that has no per-image meaning. */
export function parseRegionPooling(owner: string, value: unknown, reduction: Reduction): RegionPooling {
  const pooling = parseChoice(owner, 'regionPooling', value, REGION_POOLINGS, 'per-image');
  if (pooling === 'batch' && reduction === 'none') {
    throw new LossError(
      `${owner}: option 'regionPooling' is 'batch' but 'reduction' is 'none'; a batch-pooled region term ` +
        `has no per-image value. Use reduction 'mean' or regionPooling 'per-image'.`,
    );
  }
  return pooling;
}
