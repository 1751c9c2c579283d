import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BACKEND_SETTING_VALUES, DEFAULT_MODEL_SETTINGS, LOSS_SETTING_VALUES, readModelSettings } from '../../src/settings/modelSettings';

test('readModelSettings: defaults, and invalid values fall back with a sentence naming setting and value', async () => {
  assert.deepEqual(readModelSettings(() => undefined), { settings: DEFAULT_MODEL_SETTINGS, problems: [] });
  const values: Record<string, unknown> = { backend: 'gpu', proposalThreshold: 1, minLesionMm3: 5, testTimeAugmentation: 'yes', fineTuneMinutes: 0, fineTuneMaxSteps: -1, trainingLoss: 'dice' };
  const { settings, problems } = readModelSettings((k) => values[k]);
  assert.equal(settings.backend, 'auto');
  // Unset or invalid: null, the model card's threshold (segmentVolume's default).
  assert.equal(settings.proposalThreshold, null);
  assert.equal(readModelSettings((k) => (k === 'proposalThreshold' ? 0.3 : undefined)).settings.proposalThreshold, 0.3);
  assert.equal(settings.minLesionMm3, 5);
  assert.equal(settings.testTimeAugmentation, true);
  assert.equal(settings.fineTuneMinutes, 10);
  assert.equal(settings.fineTuneMaxSteps, 0);
  assert.equal(readModelSettings((k) => (k === 'fineTuneMaxSteps' ? 25 : undefined)).settings.fineTuneMaxSteps, 25);
  assert.equal(settings.trainingLoss, 'dice');
  assert.equal(problems.length, 5);
  assert.match(problems[0], /^lesionLab\.backend must be one of auto, tensorflow, wasm, cpu, got "gpu"; using "auto"$/);
  assert.match(problems[1], /^lesionLab\.proposalThreshold must be a probability strictly between 0 and 1, got 1; using null$/);
  // The setting lists are the engine's (package.json enums are checked against them below).
  const { BACKEND_PREFERENCES } = await import('../../src/ml/backend');
  const { LOSS_NAMES } = await import('../../src/ml/losses/base');
  assert.deepEqual([...BACKEND_SETTING_VALUES], [...BACKEND_PREFERENCES]);
  assert.deepEqual([...LOSS_SETTING_VALUES], [...LOSS_NAMES]);
});

test('package.json contributes the model commands with the exact titles, and setting enums matching the engine', async () => {
  const pkg = JSON.parse((await import('node:fs')).readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
    contributes: { commands: { command: string; title: string; category: string }[]; configuration: { properties: Record<string, { enum?: string[]; default?: unknown }> } };
  };
  const titles = new Map(pkg.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
  assert.equal(titles.get('lesionLab.segmentLesion'), 'Lesion Lab: Segment Lesion');
  assert.equal(titles.get('lesionLab.acceptProposal'), 'Lesion Lab: Accept Lesion Proposal');
  assert.equal(titles.get('lesionLab.fineTune'), 'Lesion Lab: Fine-tune on Corrected Masks');
  for (const id of ['lesionLab.rejectProposal', 'lesionLab.selectModelVersion', 'lesionLab.showModelHistory']) assert.ok(titles.has(id), id);
  const props = pkg.contributes.configuration.properties;
  assert.deepEqual(props['lesionLab.backend'].enum, [...BACKEND_SETTING_VALUES]);
  assert.deepEqual(props['lesionLab.trainingLoss'].enum, [...LOSS_SETTING_VALUES]);
  for (const [key, value] of Object.entries(DEFAULT_MODEL_SETTINGS)) assert.deepEqual(props[`lesionLab.${key}`].default, value, key);
});
