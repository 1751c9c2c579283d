// The texts of the model commands: status bar, progress, summaries, history, version picker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fineTuneSummary,
  formatDice,
  lesionReport,
  modelHistoryMarkdown,
  segmentProgressMessage,
  statusBarText,
  statusBarTooltip,
  trainingProgressMessage,
  versionPickItems,
  type HistoryEntry,
} from '../../src/ml/modelText';
import { type ModelCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import type { Lesion } from '../../src/ml/metrics';

test('statusBarText and tooltip', () => {
  assert.equal(statusBarText({ backendName: 'wasm', modelVersion: 'v2' }), '$(beaker) wasm · model v2');
  assert.equal(statusBarText({ backendName: null, modelVersion: 'starter' }), '$(beaker) model starter');
  assert.equal(statusBarText({ backendName: 'cpu', modelVersion: null }), '$(beaker) cpu · no model');
  assert.equal(statusBarText({ backendName: 'wasm', modelVersion: 'v3', busy: 'fine-tuning' }), '$(sync~spin) wasm · model v3 · fine-tuning');
  const tip = statusBarTooltip({ backendName: 'wasm', modelVersion: 'v2', backendReason: 'wasm, because tensorflow failed: not installed', modelSource: '/ws/.lesion-lab/models/v2' });
  assert.match(tip, /backend: wasm, because tensorflow failed/);
  assert.match(tip, /Active model: v2 \(\/ws\/\.lesion-lab\/models\/v2\)/);
});

test('progress texts: patches done / total; epoch, loss and validation Dice', () => {
  assert.equal(segmentProgressMessage(12, 40), 'patches 12 / 40');
  assert.equal(
    trainingProgressMessage({ step: 61, epoch: 3, loss: 0.41234, valDice: 0.7101, elapsedS: 10, phase: 'training' }),
    'epoch 3 · step 61 · loss 0.412 · validation Dice 0.710',
  );
  assert.match(trainingProgressMessage({ step: 0, epoch: 0, loss: NaN, valDice: null, elapsedS: 0, phase: 'validating-before' }), /validating the current model/);
  assert.equal(formatDice(null), 'n/a');
});

test('fineTuneSummary: before/after Dice and the new version, or why it was not activated', () => {
  const base = {
    newVersion: 'v3',
    previousVersion: 'v2',
    validationDiceBefore: 0.61,
    validationDiceAfter: 0.7,
    patchDiceBefore: 0.5,
    patchDiceAfter: 0.6,
    pairCount: 4,
    steps: 120,
    stoppedBecause: 'time budget',
    durationS: 588,
  };
  assert.equal(
    fineTuneSummary({ ...base, activated: true }),
    'Fine-tuned v2 → v3: validation Dice 0.610 → 0.700 (4 cases, 120 steps, stopped by time budget, 9.8 min); model v3 is now active.',
  );
  assert.match(fineTuneSummary({ ...base, activated: false, validationDiceAfter: 0.5 }), /v3 was kept but not activated .* v2 stays active/);
  assert.match(fineTuneSummary({ ...base, activated: true, validationDiceBefore: null, validationDiceAfter: null }), /validation patch Dice 0\.500 → 0\.600/);
});

test('lesionReport: summary line and one line per lesion', () => {
  const lesions: Lesion[] = [
    { id: 1, voxelCount: 100, volumeMm3: 150, centroidVoxel: [10.4, 20.6, 3], boxMin: [5, 15, 1], boxMax: [15, 25, 5] },
    { id: 2, voxelCount: 8, volumeMm3: 12, centroidVoxel: [1, 2, 3], boxMin: [0, 1, 2], boxMax: [2, 3, 4] },
  ];
  const lines = lesionReport({ fileName: 'a.nii.gz', modelVersion: 'v2', lesions, seconds: 12.34, windowsPredicted: 30, windowsTotal: 40, threshold: 0.5 });
  assert.equal(lines[0], 'a.nii.gz: model v2 proposed 2 lesions, 162.0 mm³ (threshold 0.5, 30/40 patches predicted, 12.3 s)');
  assert.equal(lines[1], '  lesion 1: 150.0 mm³ (100 voxels), centre at voxel [10, 21, 3]');
  assert.equal(lines.length, 3);
});

function card(version: string, parent: string | null, dice: [number, number] | null, createdAt: string): ModelCard {
  return {
    format: 'lesion-lab-model',
    formatVersion: 1,
    version,
    parentVersion: parent,
    createdAt,
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR', null),
    network: { kind: 'test' },
    training: dice
      ? {
          pairs: [{ imagePath: '/ws/a.nii.gz', maskPath: '/ws/a_seg.nii.gz', imageSha256: 'a'.repeat(64), maskSha256: 'b'.repeat(64) }],
          validationImages: ['/ws/a.nii.gz'],
          loss: { name: 'asymmetric-unified-focal', options: {} },
          hyperparameters: {},
          backend: 'wasm',
          durationS: 300,
          steps: 80,
          stoppedBecause: 'early stopping',
          validationDiceBefore: dice[0],
          validationDiceAfter: dice[1],
        }
      : null,
  };
}

test('modelHistoryMarkdown and versionPickItems: newest first, active marked, Dice and date shown', () => {
  const entries: HistoryEntry[] = [
    { version: 'v1', card: card('v1', 'starter', [0.5, 0.62], '2026-11-27T09:00:00Z'), active: false },
    { version: 'v2', card: card('v2', 'v1', [0.62, 0.71], '2026-11-27T10:03:30Z'), active: true },
  ];
  const md = modelHistoryMarkdown(entries, { storeRoot: '/ws/.lesion-lab/models', starter: { ...card('starter', null, null, '2026-11-01T00:00:00Z'), attribution: 'CC-BY cases' } });
  const rows = md.split('\n').filter((l) => l.startsWith('| v'));
  assert.equal(rows.length, 2);
  assert.match(rows[0], /^\| v2 \| ✓ \| v1 \| 2026-11-27 10:03 \| 0\.620 → 0\.710 \| 1 \| 80 \| early stopping \| 5\.0 min \| asymmetric-unified-focal \|$/);
  assert.match(rows[1], /^\| v1 \| {2}\| starter \|/);
  assert.match(md, /Starter model\*\* \(starter, shipped with the extension\)\./);
  assert.match(md, /Attribution: CC-BY cases/);
  assert.match(md, /`\/ws\/a\.nii\.gz` \(validation\)/);
  const items = versionPickItems(entries);
  assert.deepEqual(items.map((i) => i.version), ['v2', 'v1']);
  assert.equal(items[0].label, '$(check) v2');
  assert.equal(items[0].description, 'Dice 0.620 → 0.710 · 2026-11-27 10:03');
  assert.equal(items[0].detail, 'active · parent v1 · 1 case, 80 steps, asymmetric-unified-focal');
  const empty = modelHistoryMarkdown([], { storeRoot: null, starter: null });
  assert.match(empty, /No workspace folder is open/);
  assert.match(empty, /No fine-tuned versions yet/);
  assert.match(empty, /starter model is not installed/);
});
