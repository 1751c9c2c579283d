// The `lesionLab.*` settings of the model commands (Segment Lesion, Fine-tune), validated. Pure:
// takes a getter so it runs without vscode. Defaults match package.json `contributes.configuration`.

// The engine modules load TensorFlow.js, which the extension host should only pay for when a
// model command first runs: the backend list is a copy (test/settings/modelSettings.test.ts
// checks it against BACKEND_PREFERENCES), the loss names come from the TensorFlow.js-free
// src/ml/losses/names.ts.
import type { BackendPreference } from '../ml/backend';
import { LOSS_NAMES, type LossName } from '../ml/losses/names';
import { numberInRange, settingPicker } from './settingsReader';

/** The values of `lesionLab.backend` (same as the engine's BACKEND_PREFERENCES). */
export const BACKEND_SETTING_VALUES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const satisfies readonly BackendPreference[];

/** The values of `lesionLab.trainingLoss`: the loss registry's names. */
export const LOSS_SETTING_VALUES = LOSS_NAMES;

/** Settings read by the model commands. */
export interface ModelSettings {
  /** `lesionLab.backend`: which TensorFlow.js backend to start ('auto' tries the fastest first). */
  backend: BackendPreference;
  /** `lesionLab.proposalThreshold`: probability at or above which a voxel is proposed as lesion; null: the model card's (0.5 unless the card chose another). */
  proposalThreshold: number | null;
  /** `lesionLab.minLesionMm3`: proposed lesions smaller than this are dropped. */
  minLesionMm3: number;
  /** `lesionLab.testTimeAugmentation`: left–right flip TTA (DEFAULT_TTA_FLIPS of src/ml/inference.ts, 2 passes; gives the uncertainty map). */
  testTimeAugmentation: boolean;
  /** `lesionLab.fineTuneMinutes`: time budget of one fine-tune run. */
  fineTuneMinutes: number;
  /** `lesionLab.fineTuneMaxSteps`: most optimiser steps of one fine-tune run; 0 = unlimited (the time budget decides). */
  fineTuneMaxSteps: number;
  /** `lesionLab.trainingLoss`: loss name from the losses registry. */
  trainingLoss: LossName;
}

/** Defaults, matching package.json. */
export const DEFAULT_MODEL_SETTINGS: Readonly<ModelSettings> = {
  backend: 'auto',
  proposalThreshold: null,
  minLesionMm3: 0,
  testTimeAugmentation: true,
  fineTuneMinutes: 10,
  fineTuneMaxSteps: 0,
  trainingLoss: 'asymmetric-unified-focal',
};

/**
 * Reads the model settings through `get(key)` (key without the `lesionLab.` prefix; undefined
 * when unset). An invalid value falls back to its default and adds one problem sentence naming
 * the setting, the value and what is expected.
 */
export function readModelSettings(get: (key: string) => unknown): { settings: ModelSettings; problems: string[] } {
  const problems: string[] = [];
  const d = DEFAULT_MODEL_SETTINGS;
  const pick = settingPicker(get, problems);
  const num = numberInRange;
  const settings: ModelSettings = {
    backend: pick('backend', d.backend, (v) => (BACKEND_SETTING_VALUES as readonly unknown[]).includes(v), `one of ${BACKEND_SETTING_VALUES.join(', ')}`),
    proposalThreshold: pick<number | null>('proposalThreshold', d.proposalThreshold, (v) => num(0, 1, true)(v) && (v as number) < 1, 'a probability strictly between 0 and 1'),
    minLesionMm3: pick('minLesionMm3', d.minLesionMm3, num(0, 1e9), 'a volume in mm³ of 0 or more'),
    testTimeAugmentation: pick('testTimeAugmentation', d.testTimeAugmentation, (v) => typeof v === 'boolean', 'true or false'),
    fineTuneMinutes: pick('fineTuneMinutes', d.fineTuneMinutes, num(0, 24 * 60, true), 'a number of minutes above 0 (at most 1440)'),
    fineTuneMaxSteps: pick('fineTuneMaxSteps', d.fineTuneMaxSteps, (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1e7, 'a whole number of steps, 0 (unlimited) or more'),
    trainingLoss: pick('trainingLoss', d.trainingLoss, (v) => (LOSS_SETTING_VALUES as readonly unknown[]).includes(v), `one of ${LOSS_SETTING_VALUES.join(', ')}`),
  };
  return { settings, problems };
}
