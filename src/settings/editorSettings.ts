// The `lesionLab.*` settings, validated. Pure: takes a getter so it runs without vscode.

import type { OverwriteMode, ViewerSettings, ViewLayout } from '../protocol/messages';
import { DEFAULT_MASK_PATTERN } from '../labels/maskPath';
import { numberInRange, settingPicker } from './settingsReader';

/** What to do with a mask on another grid without asking. */
export type GridMismatchAction = 'ask' | 'resample' | 'readOnly' | 'ignore';

/** All editor settings. */
export interface EditorSettings {
  maskPattern: string;
  gridMismatchAction: GridMismatchAction;
  viewer: ViewerSettings;
}

/** Defaults, matching package.json `contributes.configuration`. */
export const DEFAULT_SETTINGS: EditorSettings = {
  maskPattern: DEFAULT_MASK_PATTERN,
  gridMismatchAction: 'ask',
  viewer: {
    radiological: true,
    layout: '2x2',
    colormap: 'gray',
    labelOpacity: 0.5,
    labelOutline: false,
    brushRadiusMm: 3,
    overwriteMode: 'all',
  },
};

const LAYOUTS: readonly ViewLayout[] = ['2x2', '1x3', 'single'];
const OVERWRITE: readonly OverwriteMode[] = ['all', 'empty', 'label'];
const MISMATCH: readonly GridMismatchAction[] = ['ask', 'resample', 'readOnly', 'ignore'];

/**
 * Reads the settings through `get(key)` (key without the `lesionLab.` prefix; undefined when
 * unset). An invalid value falls back to its default and adds one problem sentence naming the
 * setting and the value.
 */
export function readEditorSettings(get: (key: string) => unknown): { settings: EditorSettings; problems: string[] } {
  const problems: string[] = [];
  const d = DEFAULT_SETTINGS;
  const pick = settingPicker(get, problems);
  const num = numberInRange;
  const settings: EditorSettings = {
    maskPattern: pick('maskPattern', d.maskPattern, (v) => typeof v === 'string' && /\.nii\.gz$/i.test(v), 'a file name pattern ending in .nii.gz, such as "${name}_seg.nii.gz"'),
    gridMismatchAction: pick('gridMismatchAction', d.gridMismatchAction, (v) => MISMATCH.includes(v as GridMismatchAction), `one of ${MISMATCH.join(', ')}`),
    viewer: {
      radiological: pick('radiological', d.viewer.radiological, (v) => typeof v === 'boolean', 'true or false'),
      layout: pick('layout', d.viewer.layout, (v) => LAYOUTS.includes(v as ViewLayout), `one of ${LAYOUTS.join(', ')}`),
      colormap: pick('colormap', d.viewer.colormap, (v) => typeof v === 'string' && /^[a-z0-9_-]{1,32}$/i.test(v), 'a colormap name such as "gray"'),
      labelOpacity: pick('labelOpacity', d.viewer.labelOpacity, num(0, 1), 'a number from 0 to 1'),
      labelOutline: pick('labelOutline', d.viewer.labelOutline, (v) => typeof v === 'boolean', 'true or false'),
      brushRadiusMm: pick('brushRadiusMm', d.viewer.brushRadiusMm, num(0.1, 100), 'a radius in mm from 0.1 to 100'),
      overwriteMode: pick('overwriteMode', d.viewer.overwriteMode, (v) => OVERWRITE.includes(v as OverwriteMode), `one of ${OVERWRITE.join(', ')}`),
    },
  };
  return { settings, problems };
}
