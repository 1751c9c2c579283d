// U-Net configuration: defaults and the named pure checks behind createUNet3d/loadUNet3d.

export const NORMALIZATIONS = ['batch', 'instance', 'none'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

/** Configuration of the project's 3-D U-Net. */
export interface UNet3dConfig {
  /** Resolution levels including the bottleneck (default 4: three poolings). */
  levels: number;
  /** Filters at the first level; doubled at each level down (default 8). */
  baseFilters: number;
  /** Input channels (default 1). */
  inChannels: number;
  /** Output classes of the softmax (default 2). */
  numClasses: number;
  /** Normalisation after every 3×3×3 convolution (default 'batch'). */
  normalization: Normalization;
  /** Also output class probabilities at the coarser decoder levels (default false). */
  deepSupervision: boolean;
  /** Seed of the weight initialisation (default 1). */
  seed: number;
}

export const DEFAULT_UNET3D_CONFIG: Readonly<UNet3dConfig> = Object.freeze({
  levels: 4,
  baseFilters: 8,
  inChannels: 1,
  numClasses: 2,
  normalization: 'batch',
  deepSupervision: false,
  seed: 1,
});

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`UNet3d config: ${name} is ${JSON.stringify(value)}; expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** @throws unless levels is an integer in [1, 6]. */
export function checkLevels(levels: unknown): number {
  return checkInteger('levels', levels, 1, 6);
}
/** @throws unless baseFilters is an integer in [1, 256]. */
export function checkBaseFilters(baseFilters: unknown): number {
  return checkInteger('baseFilters', baseFilters, 1, 256);
}
/** @throws unless inChannels is an integer in [1, 64]. */
export function checkInChannels(inChannels: unknown): number {
  return checkInteger('inChannels', inChannels, 1, 64);
}
/** @throws unless numClasses is an integer in [2, 64] (softmax over at least background + one class). */
export function checkNumClasses(numClasses: unknown): number {
  return checkInteger('numClasses', numClasses, 2, 64);
}
/** @throws unless normalization is one of {@link NORMALIZATIONS}. */
export function checkNormalization(normalization: unknown): Normalization {
  if (typeof normalization !== 'string' || !(NORMALIZATIONS as readonly string[]).includes(normalization)) {
    throw new Error(`UNet3d config: normalization is ${JSON.stringify(normalization)}; expected one of ${NORMALIZATIONS.join(', ')}`);
  }
  return normalization as Normalization;
}
/** @throws unless deepSupervision is a boolean. */
export function checkDeepSupervision(deepSupervision: unknown): boolean {
  if (typeof deepSupervision !== 'boolean') {
    throw new Error(`UNet3d config: deepSupervision is ${JSON.stringify(deepSupervision)}; expected true or false`);
  }
  return deepSupervision;
}
/** @throws unless seed is a safe integer. */
export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new Error(`UNet3d config: seed is ${JSON.stringify(seed)}; expected an integer`);
  }
  return seed;
}

/**
 * Completes a partial configuration with the defaults and checks every field.
 * @throws naming the first invalid option, its value and what is expected; unknown keys too.
 */
export function resolveUNet3dConfig(partial: Partial<UNet3dConfig> = {}): UNet3dConfig {
  if (typeof partial !== 'object' || partial === null) {
    throw new Error(`UNet3d config: expected an object, got ${JSON.stringify(partial)}`);
  }
  for (const key of Object.keys(partial)) {
    if (!(key in DEFAULT_UNET3D_CONFIG)) {
      throw new Error(`UNet3d config: unknown option ${JSON.stringify(key)}; expected ${Object.keys(DEFAULT_UNET3D_CONFIG).join(', ')}`);
    }
  }
  const merged = { ...DEFAULT_UNET3D_CONFIG, ...partial };
  return {
    levels: checkLevels(merged.levels),
    baseFilters: checkBaseFilters(merged.baseFilters),
    inChannels: checkInChannels(merged.inChannels),
    numClasses: checkNumClasses(merged.numClasses),
    normalization: checkNormalization(merged.normalization),
    deepSupervision: checkDeepSupervision(merged.deepSupervision),
    seed: checkSeed(merged.seed),
  };
}

/** Spatial sizes must be divisible by this: 2^(levels−1). */
export function spatialMultiple(levels: number): number {
  return 2 ** (levels - 1);
}

/**
 * Checks an input shape [B,D,H,W,C] against the configuration.
 * @throws naming the shape and what is expected (rank 5, channels, D/H/W multiples of 2^(levels−1)).
 */
export function checkInputShape(shape: readonly number[], config: UNet3dConfig): void {
  if (shape.length !== 5) {
    throw new Error(`UNet3d input: shape [${shape.join(',')}] has rank ${shape.length}; expected rank 5 [B,D,H,W,C]`);
  }
  if (shape[4] !== config.inChannels) {
    throw new Error(`UNet3d input: shape [${shape.join(',')}] has ${shape[4]} channels; the network expects inChannels = ${config.inChannels}`);
  }
  const m = spatialMultiple(config.levels);
  const bad = [1, 2, 3].filter((a) => shape[a] < m || shape[a] % m !== 0);
  if (bad.length > 0 || shape[0] < 1) {
    throw new Error(
      `UNet3d input: shape [${shape.join(',')}] has spatial sizes D,H,W = ${shape.slice(1, 4).join(',')}; ` +
        `each must be a positive multiple of 2^(levels-1) = ${m} (levels = ${config.levels}); pad or crop the volume`,
    );
  }
}
