// The names of the loss registry (registry.ts builds one loss per name). Free of TensorFlow.js,
// so the settings reader in the extension host can use the list without loading the engine.

/** Registry names of the losses, usable in settings (`createLoss(name, options)`). */
export const LOSS_NAMES = [
  'cross-entropy',
  'focal',
  'dice',
  'tversky',
  'focal-tversky',
  'combo',
  'symmetric-focal',
  'asymmetric-focal',
  'symmetric-focal-tversky',
  'asymmetric-focal-tversky',
  'symmetric-unified-focal',
  'asymmetric-unified-focal',
] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** The product's default training loss: asymmetric Unified Focal (λ = 0.5, δ = 0.6, γ = 0.5). */
export const DEFAULT_LOSS_NAME: LossName = 'asymmetric-unified-focal';

/** Losses with region (overlap) terms, which take the `regionPooling` option. */
export const REGION_LOSS_NAMES: readonly LossName[] = [
  'dice',
  'tversky',
  'focal-tversky',
  'combo',
  'symmetric-focal-tversky',
  'asymmetric-focal-tversky',
  'symmetric-unified-focal',
  'asymmetric-unified-focal',
];
