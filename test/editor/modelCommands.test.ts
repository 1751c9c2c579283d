// The pure parts of the model commands: finding reviewed training pairs in a folder tree, the
// proposal delta with locked labels, the texts (status bar, progress, history, version picker),
// the settings, and which model is active.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDelta, deltaVoxelCount } from '../../src/protocol/labelDelta';
import { buildSidecar, sidecarToText } from '../../src/editor/sidecar';
import { findReviewedTrainingPairs, TrainingPairError } from '../../src/editor/trainingPairs';
import { MaskPathError } from '../../src/editor/maskPath';
import { float32Buffer, lockedLabelValues, mapRange, proposalDelta, proposalLabels, ProposalError } from '../../src/editor/proposal';
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
} from '../../src/editor/modelText';
import { BACKEND_SETTING_VALUES, DEFAULT_MODEL_SETTINGS, LOSS_SETTING_VALUES, readModelSettings } from '../../src/editor/modelSettings';
import { chooseActiveModel, NoModelError } from '../../src/editor/modelChoice';
import { ModelStore, writeCard, type ModelCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import type { Lesion } from '../../src/ml/metrics';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-modelcmd-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sidecarText(reviewed: boolean): string {
  return sidecarToText(
    buildSidecar({
      imageFile: 'x.nii.gz',
      imageSha256: 'ab'.repeat(32),
      maskFile: 'x_seg.nii.gz',
      dims: [2, 2, 2],
      bits: 8,
      voxelVolumeMm3: 1,
      labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }],
      voxelCounts: new Map([[1, 3]]),
      modelVersion: null,
      handEditedVoxels: 3,
      reviewed,
      savedAt: new Date('2026-11-27T10:00:00Z'),
    }),
  );
}

function touch(path: string, text = 'not really nifti; only existence matters here'): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

// ───────────── training pairs ─────────────

test('findReviewedTrainingPairs: only reviewed masks with a sidecar; hidden and node_modules folders skipped; reasons given', async () => {
  const root = mkdtempSync(join(dir, 'ws-'));
  touch(join(root, 'a/case1.nii.gz'));
  touch(join(root, 'a/case1_seg.nii.gz'));
  touch(join(root, 'a/case1_seg.json'), sidecarText(true));
  touch(join(root, 'a/case2.nii.gz'));
  touch(join(root, 'a/case2_seg.nii.gz')); // no sidecar
  touch(join(root, 'b/deep/case3.nii'));
  touch(join(root, 'b/deep/case3_seg.nii.gz'));
  touch(join(root, 'b/deep/case3_seg.json'), sidecarText(false));
  touch(join(root, 'b/case4.nii.gz')); // no mask
  touch(join(root, 'c/case5.nii.gz'));
  touch(join(root, 'c/case5_seg.nii.gz'));
  touch(join(root, 'c/case5_seg.json'), '{ not json');
  touch(join(root, 'c/case6.nii.gz'));
  touch(join(root, 'c/case6_seg.nii.gz'));
  touch(join(root, 'c/case6_seg.json'), sidecarText(true));
  for (const hidden of ['.lesion-lab/models/v1', 'node_modules/pkg']) {
    touch(join(root, hidden, 'case9.nii.gz'));
    touch(join(root, hidden, 'case9_seg.nii.gz'));
    touch(join(root, hidden, 'case9_seg.json'), sidecarText(true));
  }
  const r = await findReviewedTrainingPairs([root]);
  assert.deepEqual(
    r.pairs.map((p) => [p.imagePath, p.maskPath, p.sidecarPath]),
    [
      [join(root, 'a/case1.nii.gz'), join(root, 'a/case1_seg.nii.gz'), join(root, 'a/case1_seg.json')],
      [join(root, 'c/case6.nii.gz'), join(root, 'c/case6_seg.nii.gz'), join(root, 'c/case6_seg.json')],
    ],
  );
  // case1..case6 are images; the *_seg files are their masks, not images.
  assert.equal(r.imagesSeen, 6);
  assert.equal(r.truncated, false);
  const reasons = new Map(r.skipped.map((s) => [s.imagePath, s.reason]));
  assert.deepEqual([...reasons.keys()].sort(), [join(root, 'a/case2.nii.gz'), join(root, 'b/deep/case3.nii'), join(root, 'c/case5.nii.gz')]);
  assert.match(reasons.get(join(root, 'a/case2.nii.gz'))!, /a\/case2_seg\.nii\.gz has no sidecar a\/case2_seg\.json/);
  assert.match(reasons.get(join(root, 'b/deep/case3.nii'))!, /b\/deep\/case3_seg\.json says the mask is not reviewed/);
  assert.match(reasons.get(join(root, 'c/case5.nii.gz'))!, /c\/case5_seg\.json: not valid JSON/);
});

test('findReviewedTrainingPairs: masks in a sibling folder (pattern ../masks/${name}.nii.gz) are not taken for images', async () => {
  const root = mkdtempSync(join(dir, 'ws-'));
  touch(join(root, 'img/p1.nii.gz'));
  touch(join(root, 'img/p2.nii.gz'));
  touch(join(root, 'masks/p1.nii.gz'));
  touch(join(root, 'masks/p1.json'), sidecarText(true));
  const r = await findReviewedTrainingPairs([root], { maskPattern: '../masks/${name}.nii.gz' });
  assert.deepEqual(r.pairs, [{ imagePath: join(root, 'img/p1.nii.gz'), maskPath: join(root, 'masks/p1.nii.gz'), sidecarPath: join(root, 'masks/p1.json') }]);
  assert.equal(r.imagesSeen, 2);
  assert.deepEqual(r.skipped, []);
});

test('findReviewedTrainingPairs: several roots, the entry limit, and errors for a bad pattern or options', async () => {
  const r1 = mkdtempSync(join(dir, 'ws-'));
  const r2 = mkdtempSync(join(dir, 'ws-'));
  for (const r of [r1, r2]) {
    touch(join(r, 'x.nii.gz'));
    touch(join(r, 'x_seg.nii.gz'));
    touch(join(r, 'x_seg.json'), sidecarText(true));
  }
  assert.equal((await findReviewedTrainingPairs([r1, r2])).pairs.length, 2);
  const limited = await findReviewedTrainingPairs([r1, r2], { maxEntries: 2 });
  assert.equal(limited.truncated, true);
  assert.ok(limited.pairs.length < 2);
  await assert.rejects(findReviewedTrainingPairs([r1], { maskPattern: '${name}_seg.nii' }), (e: Error) => e instanceof MaskPathError && /must end in \.nii\.gz/.test(e.message));
  await assert.rejects(findReviewedTrainingPairs([r1], { maxDepth: -1 }), (e: Error) => e instanceof TrainingPairError && /option maxDepth must be an integer ≥ 0, got -1/.test(e.message));
  // A missing root holds nothing (no throw).
  assert.deepEqual((await findReviewedTrainingPairs([join(dir, 'nope')])).pairs, []);
});

// ───────────── proposal ─────────────

test('proposalLabels: writes label 1 over background and unlocked labels, never over locked ones; counts each case', () => {
  // voxel:     0  1  2  3  4  5  6  7
  const current = Uint8Array.from([0, 0, 2, 3, 1, 0, 3, 2]);
  const proposal = Uint8Array.from([1, 0, 1, 1, 1, 0, 0, 1]);
  const r = proposalLabels(current, proposal, { labelValue: 1, lockedValues: new Set([3]) });
  assert.deepEqual(Array.from(r.labels), [1, 0, 1, 3, 1, 0, 3, 1]);
  assert.deepEqual([r.addedVoxels, r.replacedVoxels, r.lockedVoxels, r.unchangedVoxels], [1, 2, 1, 1]);
  assert.deepEqual(Array.from(current), [0, 0, 2, 3, 1, 0, 3, 2], 'the current labels are not modified');
  assert.ok(r.labels instanceof Uint8Array);
});

test('proposalDelta: one delta that applies cleanly and reproduces the proposed labels; empty when nothing changes', () => {
  const current = Uint16Array.from([0, 5, 0, 0, 7, 0]);
  const proposal = Float32Array.from([0.9, 1, 0, 1, 1, 0]);
  const r = proposalDelta(current, proposal, { lockedValues: lockedLabelValues([
    { value: 5, name: 'Keep', color: [0, 0, 0], visible: true, locked: true },
    { value: 7, name: 'Edema', color: [0, 0, 0], visible: true, locked: false },
  ]) });
  assert.equal(deltaVoxelCount(r.delta), 3);
  const applied = current.slice();
  applyDelta(applied, r.delta);
  assert.deepEqual(Array.from(applied), [1, 5, 0, 1, 1, 0]);
  assert.ok(r.delta.before instanceof Uint16Array, 'the delta keeps the 16-bit depth');
  const again = proposalDelta(applied, proposal, { lockedValues: new Set([5]) });
  assert.equal(deltaVoxelCount(again.delta), 0);
  assert.equal(again.unchangedVoxels, 3);
});

test('proposalLabels: a label above 255 promotes 8-bit labels; size mismatch and bad label values are refused', () => {
  const r = proposalLabels(Uint8Array.from([0, 1]), [1, 0], { labelValue: 300 });
  assert.ok(r.labels instanceof Uint16Array);
  assert.deepEqual(Array.from(r.labels), [300, 1]);
  assert.throws(() => proposalLabels(new Uint8Array(4), new Uint8Array(3)), (e: Error) => e instanceof ProposalError && /the proposal has 3 voxels but the labels have 4/.test(e.message));
  assert.throws(() => proposalLabels(new Uint8Array(1), [1], { labelValue: 0 }), /option labelValue must be an integer from 1 to 65535, got 0/);
});

test('float32Buffer copies exactly the view; mapRange is never empty', () => {
  const big = new Float32Array([9, 1, 2, 3, 9]);
  const view = big.subarray(1, 4);
  const buf = float32Buffer(view);
  assert.equal(buf.byteLength, 12);
  assert.deepEqual(Array.from(new Float32Array(buf)), [1, 2, 3]);
  assert.deepEqual(mapRange(Float32Array.from([0.2, 0.1, 0.7])).map((v) => +v.toFixed(6)), [0.1, 0.7]);
  const flat = mapRange(new Float32Array(5));
  assert.ok(flat[1] > flat[0]);
  assert.deepEqual(mapRange(new Float32Array(0)), [0, 1e-6]);
});

// ───────────── texts ─────────────

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

// ───────────── settings ─────────────

test('readModelSettings: defaults, and invalid values fall back with a sentence naming setting and value', async () => {
  assert.deepEqual(readModelSettings(() => undefined), { settings: DEFAULT_MODEL_SETTINGS, problems: [] });
  const values: Record<string, unknown> = { backend: 'gpu', proposalThreshold: 1, minLesionMm3: 5, testTimeAugmentation: 'yes', fineTuneMinutes: 0, fineTuneMaxSteps: -1, trainingLoss: 'dice' };
  const { settings, problems } = readModelSettings((k) => values[k]);
  assert.equal(settings.backend, 'auto');
  assert.equal(settings.proposalThreshold, 0.5);
  assert.equal(settings.minLesionMm3, 5);
  assert.equal(settings.testTimeAugmentation, true);
  assert.equal(settings.fineTuneMinutes, 10);
  assert.equal(settings.fineTuneMaxSteps, 0);
  assert.equal(readModelSettings((k) => (k === 'fineTuneMaxSteps' ? 25 : undefined)).settings.fineTuneMaxSteps, 25);
  assert.equal(settings.trainingLoss, 'dice');
  assert.equal(problems.length, 5);
  assert.match(problems[0], /^lesionLab\.backend must be one of auto, tensorflow, wasm, cpu, got "gpu"; using "auto"$/);
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

// ───────────── active model ─────────────

async function modelFolder(path: string, version: string): Promise<string> {
  mkdirSync(path, { recursive: true });
  await writeCard(path, card(version, null, null, '2026-11-27T00:00:00Z'));
  return path;
}

test('chooseActiveModel: the store’s active version, else the starter; a clear error when neither exists', async () => {
  const ws = mkdtempSync(join(dir, 'ws-'));
  const starterDir = await modelFolder(join(ws, 'starter'), 'starter');
  const store = new ModelStore(join(ws, '.lesion-lab/models'));
  const fromStarter = await chooseActiveModel(store, () => starterDir);
  assert.deepEqual([fromStarter.version, fromStarter.source, fromStarter.dir], ['starter', 'starter', starterDir]);
  const pending = await store.beginVersion();
  await pending.commit({ ...card('x', 'starter', null, '2026-11-27T00:00:00Z') });
  const fromStore = await chooseActiveModel(store, () => starterDir);
  assert.deepEqual([fromStore.version, fromStore.source], ['v1', 'workspace']);
  const missing = () => {
    throw new Error('starter model not found in media/models/starter');
  };
  await assert.rejects(
    chooseActiveModel(null, missing),
    (e: Error) => e instanceof NoModelError && /no workspace folder is open .* starter model shipped with the extension is missing \(starter model not found/.test(e.message),
  );
  await assert.rejects(chooseActiveModel(new ModelStore(join(ws, 'empty')), missing), /the workspace store .*empty has no active version/);
  const broken = join(ws, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'card.json'), '{}');
  await assert.rejects(chooseActiveModel(null, () => broken), /the starter model in .*broken cannot be used: .*format must be "lesion-lab-model"/);
});
