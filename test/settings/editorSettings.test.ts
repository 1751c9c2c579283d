import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, readEditorSettings } from '../../src/settings/editorSettings';

test('settings: defaults, valid values, and invalid ones named with their value', () => {
  assert.deepEqual(readEditorSettings(() => undefined).settings, DEFAULT_SETTINGS);
  const values: Record<string, unknown> = { radiological: false, layout: '1x3', labelOpacity: 0.8, maskPattern: '../m/${name}.nii.gz', gridMismatchAction: 'resample' };
  const ok = readEditorSettings((k) => values[k]);
  assert.equal(ok.problems.length, 0);
  assert.equal(ok.settings.viewer.radiological, false);
  assert.equal(ok.settings.viewer.layout, '1x3');
  assert.equal(ok.settings.gridMismatchAction, 'resample');
  const bad = readEditorSettings((k) => ({ labelOpacity: 3, layout: '3x3', maskPattern: 'x.nii' } as Record<string, unknown>)[k]);
  assert.equal(bad.settings.viewer.labelOpacity, 0.5);
  assert.equal(bad.problems.length, 3);
  assert.match(bad.problems.join('\n'), /lesionLab\.labelOpacity must be a number from 0 to 1, got 3/);
  assert.match(bad.problems.join('\n'), /lesionLab\.layout must be one of 2x2, 1x3, single, got "3x3"/);
});
