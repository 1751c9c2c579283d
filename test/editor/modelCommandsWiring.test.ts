// The model commands wired into the extension with a fake vscode module and a real (tiny, untrained)
// U-Net in a workspace model store: Segment Lesion (progress, overlays, cancellation), Accept as
// one undoable edit that keeps locked labels and records the model version in the sidecar,
// Reject, Fine-tune on the saved reviewed mask (cancelled, then completed), Select Model,
// Show Model History, the status bar, and a fused CT's starter averaged into Segment Lesion. Real
// VS Code is covered by test/e2e.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import { writeHeadImage } from '../helpers/headImage';
import {
  cancellation,
  commandHandlers,
  configuration,
  dialogAnswers,
  executedCommands,
  fakeContext,
  FakePanel,
  fakeLog,
  fakeVscode,
  installFakeVscode,
  installModelCommandFakes,
  shownMessages,
  Uri,
} from './fakeVscode';

installFakeVscode();

// ───────────── the parts of vscode the model commands use beyond the shared fake ─────────────

interface FakeStatusItem {
  text: string;
  tooltip: unknown;
  command: unknown;
  name: string;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}
const statusItems: FakeStatusItem[] = [];
const progressReports: { message?: string; increment?: number }[] = [];
/** When set, the progress token is cancelled at the first report whose message matches. */
let cancelWhen: RegExp | null = null;
let quickPickAnswer: (items: { version?: string; starter?: string; kind?: number }[]) => unknown = () => undefined;
let workspaceFolders: { uri: Uri; name: string; index: number }[] | undefined;

const fake = fakeVscode as unknown as Record<string, Record<string, unknown>> & Record<string, unknown>;
installModelCommandFakes(() => workspaceFolders);
Object.assign(fake.window, {
  createStatusBarItem: () => {
    const item: FakeStatusItem = {
      text: '',
      tooltip: undefined,
      command: undefined,
      name: '',
      visible: false,
      show() { this.visible = true; },
      hide() { this.visible = false; },
      dispose() {},
    };
    statusItems.push(item);
    return item;
  },
  withProgress: async (_opts: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) => {
    const listeners = new Set<() => void>();
    const token = {
      isCancellationRequested: false,
      onCancellationRequested: (l: () => void) => {
        listeners.add(l);
        return { dispose: () => listeners.delete(l) };
      },
    };
    const progress = {
      report: (r: { message?: string; increment?: number }) => {
        progressReports.push(r);
        if (cancelWhen && r.message && cancelWhen.test(r.message) && !token.isCancellationRequested) {
          token.isCancellationRequested = true;
          for (const l of listeners) l();
        }
      },
    };
    return task(progress, token);
  },
  showQuickPick: async (items: { version?: string; starter?: string; kind?: number }[]) => quickPickAnswer(items),
  showTextDocument: async () => undefined,
});

// ───────────── fixtures ─────────────

const DIMS = [24, 24, 16] as const;
const N = DIMS[0] * DIMS[1] * DIMS[2];
const repoRoot = resolve(__dirname, '../..');
let dir = '';
let ws = '';
let imagePath = '';
let api: import('../../src/extension').LesionLabApi;
let doc: import('../../src/editor/labelDocument').LabelDocument;
let panel: FakePanel;
const edits: { label: string; undo(): void; redo(): void }[] = [];

function phantom(): Float32Array {
  const v = new Float32Array(N);
  for (let z = 0; z < DIMS[2]; z++) for (let y = 0; y < DIMS[1]; y++) for (let x = 0; x < DIMS[0]; x++) {
    const inBrain = x >= 3 && x < 21 && y >= 3 && y < 21 && z >= 2 && z < 14;
    const inLesion = x >= 9 && x < 14 && y >= 9 && y < 14 && z >= 6 && z < 10;
    v[(z * DIMS[1] + y) * DIMS[0] + x] = inLesion ? 250 : inBrain ? 100 + ((x * 7 + y * 3 + z) % 11) : 0;
  }
  return v;
}

const settle = (ms = 20) => new Promise((r) => setTimeout(r, ms));
const run = <T>(id: string, ...args: unknown[]) => commandHandlers.get(id)!(...args) as Promise<T>;
const messagesMatching = (re: RegExp) => shownMessages.filter((m) => re.test(m.text));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-modelwiring-'));
  ws = join(dir, 'ws');
  mkdirSync(join(ws, 'cases'), { recursive: true });
  imagePath = join(ws, 'cases', 'case.nii.gz');
  const file = buildNifti({ dim: [...DIMS], datatype: 16, bitpix: 32, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: bytesOf(phantom()) }).file;
  writeFileSync(imagePath, gzip(file));

  // Workspace store with v1 = a tiny untrained U-Net.
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const { createUNet3d, } = await import('../../src/ml/network');
  const { saveUNet3d } = await import('../../src/ml/network/serialize');
  const { ModelStore, workspaceModelRoot } = await import('../../src/ml/modelStore');
  const { defaultPreprocessing } = await import('../../src/ml/preprocess');
  const store = new ModelStore(workspaceModelRoot(ws));
  const pending = await store.beginVersion();
  const net = createUNet3d({ levels: 2, baseFilters: 2, normalization: 'none', seed: 3 });
  await saveUNet3d(net, pending.dir);
  net.dispose();
  await pending.commit({
    format: 'lesion-lab-model',
    formatVersion: 1,
    parentVersion: null,
    createdAt: '2026-11-27T09:00:00.000Z',
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR', null),
    network: { ...net.config },
    training: null,
  });

  workspaceFolders = [{ uri: Uri.file(ws), name: 'ws', index: 0 }];
  configuration.backend = 'cpu';
  configuration.testTimeAugmentation = true;
  configuration.fineTuneMinutes = 2;
  configuration.fineTuneMaxSteps = 2;

  const { activate } = await import('../../src/extension');
  api = activate(fakeContext(repoRoot) as never);
  api.provider.onDidChangeCustomDocument((e) => edits.push(e as never));
  doc = await api.provider.openCustomDocument(Uri.file(imagePath) as never, { backupId: undefined, untitledDocumentData: undefined }, cancellation as never);
  assert.equal(doc.openError, null);
  panel = new FakePanel();
  await api.provider.resolveCustomEditor(doc, panel as never, cancellation as never);
  panel.webview.send({ type: 'ready', protocolVersion: 1 });
  await settle();
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function probabilityOverlay(): { probs: Float32Array; proposal: { modelVersion: string; labelValue: number; threshold: number } } {
  const m = panel.webview.ofType('overlay').filter((o) => o.kind === 'probability').at(-1)!;
  return { probs: new Float32Array(m.voxels as ArrayBuffer), proposal: m.proposal as never };
}

// ───────────── tests (in order: they share the document and the store) ─────────────

test('registration: the six commands exist; the status bar shows the active model before any backend starts', async () => {
  for (const id of ['segmentLesion', 'acceptProposal', 'rejectProposal', 'fineTune', 'selectModelVersion', 'showModelHistory']) {
    assert.ok(commandHandlers.has(`lesionLab.${id}`), id);
  }
  await settle();
  const item = statusItems[0];
  assert.equal(item.text, '$(beaker) model v1');
  assert.equal(item.visible, true, 'shown while a Lesion Lab document is open');
  assert.equal(item.command, 'lesionLab.selectModelVersion');
});

test('Segment Lesion: patches done / total, probability + uncertainty overlays on the image grid, lesions in the log', async () => {
  progressReports.length = 0;
  const r = await run<import('../../src/editor/segmentCommand').SegmentCommandResult>('lesionLab.segmentLesion');
  assert.ok(r, 'a result');
  assert.equal(r.modelVersion, 'v1');
  assert.equal(r.backend, 'cpu');
  assert.ok(r.windowsTotal >= 2 && r.windowsPredicted >= 1 && r.windowsPredicted <= r.windowsTotal);
  const patchMsgs = progressReports.map((p) => p.message ?? '').filter((m) => m.startsWith('patches '));
  assert.equal(patchMsgs.at(-1), `patches ${r.windowsTotal} / ${r.windowsTotal}`);
  assert.ok(progressReports.reduce((s, p) => s + (p.increment ?? 0), 0) <= 100);
  const { probs, proposal } = probabilityOverlay();
  assert.equal(probs.length, N);
  assert.deepEqual(proposal, { modelVersion: 'v1', labelValue: 1, threshold: 0.5 });
  const unc = panel.webview.ofType('overlay').filter((o) => o.kind === 'uncertainty').at(-1)!;
  assert.equal((unc.voxels as ArrayBuffer).byteLength, N * 4);
  assert.equal(unc.proposal, null);
  const range = unc.range as [number, number];
  assert.ok(range[0] === 0 && range[1] > 0);
  assert.equal(panel.webview.ofType('overlay').at(-1)!.kind, 'probability', 'the proposal is sent last, so the view shows it');
  // A view opened later gets the same maps, the proposal last.
  const late = new FakePanel();
  await api.provider.resolveCustomEditor(doc, late as never, cancellation as never);
  late.webview.send({ type: 'ready', protocolVersion: 1 });
  await settle();
  assert.deepEqual(late.webview.ofType('overlay').map((o) => o.kind), ['uncertainty', 'probability']);
  late.dispose();
  assert.ok(fakeLog.lines.some((l) => /case\.nii\.gz: model v1 proposed \d+ lesions?, [\d.]+ mm³ \(threshold 0\.5, \d+\/\d+ patches predicted/.test(l)));
  assert.ok(fakeLog.lines.some((l) => /backend: cpu \(cpu \(pure JavaScript\) was requested\)/.test(l)), 'the backend and its reason are logged');
  assert.equal(statusItems[0].text, '$(beaker) cpu · model v1');
  assert.equal(doc.session!.model.isDirty, false, 'a proposal alone does not change the labels');
});

test('Accept Lesion Proposal: one undoable edit, label 1 where proposed, locked labels kept, model version in the sidecar', async () => {
  // Make sure the proposal has voxels: re-run at the 90th percentile of the untrained net's map.
  const sorted = Float32Array.from(probabilityOverlay().probs).sort();
  const threshold = Math.min(0.99, Math.max(0.01, +sorted[Math.floor(0.9 * N)].toFixed(4)));
  configuration.proposalThreshold = threshold;
  configuration.testTimeAugmentation = false;
  const r = await run<{ lesionCount: number }>('lesionLab.segmentLesion');
  assert.ok(r.lesionCount > 0);
  const { probs, proposal } = probabilityOverlay();
  assert.equal(proposal.threshold, threshold);
  assert.ok(panel.webview.ofType('clearOverlay').some((m) => m.kind === 'uncertainty'), 'without TTA the uncertainty map is removed');
  const proposed = Array.from(probs, (p) => (p >= threshold ? 1 : 0));
  const proposedIdx = proposed.flatMap((v, i) => (v ? [i] : []));
  assert.ok(proposedIdx.length > 10);

  // Paint label 2 on three proposed voxels and lock it.
  const { encodeDelta } = await import('../../src/protocol/labelDelta');
  const painted = doc.labels.slice();
  const lockedIdx = proposedIdx.slice(0, 3);
  for (const i of lockedIdx) painted[i] = 2;
  doc.makeEdit('Brush', encodeDelta(doc.labels, painted));
  doc.setLabelTable('Lock', [
    { value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false },
    { value: 2, name: 'Keep', color: [0, 255, 0], visible: true, locked: true },
  ]);
  const editsBefore = edits.length;
  const accepted = await run<import('../../src/editor/proposalStore').AcceptCommandResult>('lesionLab.acceptProposal', doc.uri);
  assert.deepEqual(accepted, { modelVersion: 'v1', addedVoxels: proposedIdx.length - 3, replacedVoxels: 0, lockedVoxels: 3 });
  assert.equal(edits.length, editsBefore + 1, 'exactly one undoable edit');
  assert.equal(edits.at(-1)!.label, 'Accept lesion proposal (model v1)');
  const expected = proposed.map((v, i) => (lockedIdx.includes(i) ? 2 : v));
  assert.deepEqual(Array.from(doc.labels), expected);
  assert.ok(panel.webview.ofType('clearOverlay').filter((m) => m.kind === 'probability').length >= 1, 'the proposal map is removed');

  edits.at(-1)!.undo();
  assert.deepEqual(Array.from(doc.labels), Array.from(painted));
  edits.at(-1)!.redo();
  assert.deepEqual(Array.from(doc.labels), expected);

  await doc.save(cancellation as never);
  const sidecar = JSON.parse(readFileSync(join(ws, 'cases', 'case_seg.json'), 'utf8')) as { provenance: { modelVersion: string }; reviewed: boolean };
  assert.equal(sidecar.provenance.modelVersion, 'v1');
  assert.equal(sidecar.reviewed, true);

  // A second Accept has nothing to accept.
  shownMessages.length = 0;
  assert.equal(await run('lesionLab.acceptProposal'), undefined);
  assert.equal(messagesMatching(/there is no lesion proposal on case\.nii\.gz; run Segment Lesion first/).length, 1);
});

test('Reject Lesion Proposal removes the maps and leaves the labels; a cancelled Segment Lesion changes nothing', async () => {
  const before = Array.from(doc.labels);
  await run('lesionLab.segmentLesion');
  const clears = panel.webview.ofType('clearOverlay').length;
  assert.equal(await run('lesionLab.rejectProposal'), true);
  assert.deepEqual(panel.webview.ofType('clearOverlay').slice(clears).map((m) => m.kind), ['probability', 'uncertainty', 'brain']);
  assert.deepEqual(Array.from(doc.labels), before);

  shownMessages.length = 0;
  const overlays = panel.webview.ofType('overlay').length;
  cancelWhen = /^patches /;
  try {
    assert.equal(await run('lesionLab.segmentLesion'), undefined);
  } finally {
    cancelWhen = null;
  }
  assert.equal(messagesMatching(/Segment Lesion cancelled; the labels are unchanged/).length, 1);
  assert.equal(panel.webview.ofType('overlay').length, overlays, 'no overlay from a cancelled run');
  assert.equal(await run('lesionLab.acceptProposal'), undefined, 'nothing to accept after a cancelled run');
  assert.equal(statusItems[0].text, '$(beaker) cpu · model v1', 'the busy marker is gone');
});

test('Fine-tune: cancelled leaves v1 active; completed adds v2 from the saved reviewed mask and reports Dice before/after', async () => {
  const { ModelStore, workspaceModelRoot } = await import('../../src/ml/modelStore');
  const store = new ModelStore(workspaceModelRoot(ws));
  shownMessages.length = 0;
  cancelWhen = /^epoch |validating the current model/;
  try {
    assert.equal(await run('lesionLab.fineTune'), undefined);
  } finally {
    cancelWhen = null;
  }
  assert.equal(messagesMatching(/fine-tuning cancelled; model v1 is still the active one/).length, 1);
  assert.deepEqual((await store.list()).map((v) => v.version), ['v1']);
  assert.equal((await store.active())!.version, 'v1');

  shownMessages.length = 0;
  progressReports.length = 0;
  const r = await run<import('../../src/ml/training').FineTuneResult>('lesionLab.fineTune');
  assert.ok(r, `a result (messages: ${JSON.stringify(shownMessages)})`);
  assert.equal(r.version.version, 'v2');
  assert.deepEqual(r.version.card.training!.pairs.map((p) => [p.imagePath, p.maskPath]), [[imagePath, join(ws, 'cases', 'case_seg.nii.gz')]]);
  assert.equal(r.version.card.parentVersion, 'v1');
  // lesionLab.fineTuneMaxSteps = 2: a step budget, so a busy machine still trains (and no more).
  assert.equal(r.steps, 2);
  assert.equal(r.version.card.training!.steps, 2);
  assert.match(r.version.card.training!.backend, /^cpu, 1 thread$/);
  assert.ok(progressReports.some((p) => /validating the current model/.test(p.message ?? '')));
  const [summary] = messagesMatching(/^Lesion Lab: Fine-tuned v1 → v2: validation Dice \d\.\d{3} → \d\.\d{3} \(1 case, \d+ steps, stopped by [a-z ]+, [\d.]+ (s|min)\); /);
  assert.ok(summary, `summary shown (messages: ${JSON.stringify(shownMessages)})`);
  assert.ok(fakeLog.lines.some((l) => /fine-tune: Fine-tuned v1 → v2/.test(l)));
  const active = (await store.active())!.version;
  assert.equal(active, r.activated ? 'v2' : 'v1');
  assert.equal(statusItems[0].text, `$(beaker) cpu · model ${active}`);
});

test('Select Model: the workspace versions, then the shipped starters; Show Model History', async () => {
  let offered: string[] = [];
  let starters: string[] = [];
  quickPickAnswer = (items) => {
    offered = items.flatMap((i) => (i.version ? [i.version] : []));
    starters = items.flatMap((i) => (i.starter ? [i.starter] : []));
    return items.find((i) => i.version === 'v1');
  };
  assert.equal(await run('lesionLab.selectModelVersion'), 'v1');
  assert.deepEqual(offered, ['v2', 'v1']);
  // Every task starter in media/models; the one suggested for the open image (a small MR crop) first.
  assert.deepEqual(starters, ['sarcoma-mr-t1', 'brain-tumour-flair', 'ms-flair', 'sarcoma-ct', 'sarcoma-pet']);
  assert.equal(statusItems[0].text, '$(beaker) cpu · model v1');
  const md = await run<string>('lesionLab.showModelHistory');
  assert.match(md, /\| v2 \| {2}\| v1 \|/);
  assert.match(md, /\| v1 \| ✓ \| — \| 2026-11-27 09:00 \|/);
  assert.ok(executedCommands.some((c) => c.command === 'markdown.showPreview'));
});

test('without a workspace folder: Fine-tune says so; Select Model offers the starters only', async () => {
  const saved = workspaceFolders;
  workspaceFolders = undefined;
  shownMessages.length = 0;
  let offered: unknown[] = [];
  quickPickAnswer = (items) => {
    offered = items.flatMap((i) => (i.kind === undefined ? [i.version ?? i.starter] : []));
    return undefined;
  };
  try {
    assert.equal(await run('lesionLab.fineTune'), undefined);
    assert.equal(await run('lesionLab.selectModelVersion'), undefined);
  } finally {
    workspaceFolders = saved;
  }
  assert.deepEqual(offered, ['sarcoma-mr-t1', 'brain-tumour-flair', 'ms-flair', 'sarcoma-ct', 'sarcoma-pet']);
  assert.equal(messagesMatching(/Fine-tune needs an open workspace folder/).length, 1);
  assert.equal(messagesMatching(/open a folder first/i).length, 1);
  // Unsaved edits: Fine-tune asks first; Cancel stops it.
  const painted = doc.labels.slice();
  // A voxel outside the locked label 2 (the host refuses edits of locked labels).
  const free = painted.findIndex((v) => v !== 2);
  painted[free] = painted[free] === 1 ? 0 : 1;
  const { encodeDelta } = await import('../../src/protocol/labelDelta');
  doc.makeEdit('Brush', encodeDelta(doc.labels, painted));
  dialogAnswers.push(undefined);
  assert.equal(await run('lesionLab.fineTune'), undefined);
  assert.equal(messagesMatching(/case\.nii\.gz has unsaved label changes/).length, 1);
});

test('Fine-tune claims its job before asking about unsaved changes; in Restricted Mode it is off and says why', async () => {
  const { workspaceState } = await import('./fakeVscode');
  assert.equal(doc.session!.model.isDirty, true, 'the previous test left an unsaved edit');
  shownMessages.length = 0;
  dialogAnswers.push(undefined); // the unsaved-changes question is cancelled…
  const fineTune = run('lesionLab.fineTune');
  // …but while it is open, another model command must see the fine-tune as running.
  const segment = run('lesionLab.segmentLesion');
  assert.equal(await segment, undefined);
  assert.equal(await fineTune, undefined);
  assert.equal(messagesMatching(/a fine-tune is running; wait for it or cancel it/).length, 1);
  assert.equal(statusItems[0].text.includes('fine-tuning'), false, 'the job is released after Cancel');

  workspaceState.isTrusted = false;
  try {
    shownMessages.length = 0;
    assert.equal(await run('lesionLab.fineTune'), undefined);
    assert.equal(messagesMatching(/Fine-tune is off in Restricted Mode/).length, 1);
  } finally {
    workspaceState.isTrusted = true;
  }
});

test('a broken active.json is reported with the model that runs instead', async () => {
  const { ModelStore, workspaceModelRoot } = await import('../../src/ml/modelStore');
  const store = new ModelStore(workspaceModelRoot(ws));
  const saved = readFileSync(store.activePath, 'utf8');
  writeFileSync(store.activePath, '{"version": ');
  shownMessages.length = 0;
  try {
    // Focusing a Lesion Lab editor refreshes the model shown in the status bar.
    const another = new FakePanel();
    await api.provider.resolveCustomEditor(doc, another as never, cancellation as never);
    await settle(100);
    another.dispose();
    const [warning] = messagesMatching(/active\.json is not valid JSON/);
    assert.ok(warning, `warned (messages: ${JSON.stringify(shownMessages)})`);
    assert.match(warning.text, /the starter model \([^)]+\) runs instead/);
    assert.ok(fakeLog.lines.some((l) => /active\.json is not valid JSON/.test(l)));
  } finally {
    writeFileSync(store.activePath, saved);
  }
});

test('Fine-tune leaves out reviewed cases of another modality than the model (a CT beside MR cases) and says which', async () => {
  // A workspace may hold a patient's CT beside the MR: the MR model must not be trained on it.
  const { buildSidecar, sidecarToText } = await import('../../src/labels/sidecar');
  const ctPath = join(ws, 'cases', 'ct.nii.gz');
  const ct = new Int16Array(N);
  const ctMask = new Uint8Array(N);
  for (let z = 0, v = 0; z < DIMS[2]; z++) for (let y = 0; y < DIMS[1]; y++) for (let x = 0; x < DIMS[0]; x++, v++) {
    const inBody = x >= 3 && x < 21 && y >= 3 && y < 21;
    ctMask[v] = x >= 9 && x < 14 && y >= 9 && y < 14 && z >= 6 && z < 10 ? 1 : 0;
    ct[v] = ctMask[v] ? 60 : inBody ? 30 + ((x + y + z) % 7) : -1000;
  }
  writeFileSync(ctPath, gzip(buildNifti({ dim: [...DIMS], datatype: 4, bitpix: 16, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: bytesOf(ct) }).file));
  writeFileSync(join(ws, 'cases', 'ct_seg.nii.gz'), gzip(buildNifti({ dim: [...DIMS], datatype: 2, bitpix: 8, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: ctMask }).file));
  const sidecar = buildSidecar({
    imageFile: 'ct.nii.gz',
    imageSha256: 'ab'.repeat(32),
    maskFile: 'ct_seg.nii.gz',
    dims: [...DIMS],
    bits: 8,
    voxelVolumeMm3: 1,
    labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }],
    voxelCounts: new Map([[1, 100]]),
    modelVersion: null,
    handEditedVoxels: 100,
    reviewed: true,
    savedAt: new Date('2026-12-06T10:00:00Z'),
  });
  writeFileSync(join(ws, 'cases', 'ct_seg.json'), sidecarToText(sidecar));
  try {
    shownMessages.length = 0;
    fakeLog.lines.length = 0;
    // (An earlier test left an unsaved edit: train on the saved masks.)
    if (doc.session!.model.isDirty) dialogAnswers.push('Fine-tune on Saved Masks');
    const r = await run<import('../../src/ml/training').FineTuneResult>('lesionLab.fineTune');
    assert.ok(r, `a result (messages: ${JSON.stringify(shownMessages)})`);
    assert.deepEqual(r.version.card.training!.pairs.map((p) => p.imagePath), [imagePath]);
    assert.ok(fakeLog.lines.some((l) => /fine-tune: leaving out .*ct\.nii\.gz: it is a CT \(1st percentile -1000 ≤ −500 \(air in HU\) and integer values\), and the model works on MR/.test(l)), fakeLog.lines.join('\n'));
    assert.equal(messagesMatching(/1 case\(s\) of another modality were left out \(see the Lesion Lab output\)/).length, 1, JSON.stringify(shownMessages));
  } finally {
    for (const f of ['ct.nii.gz', 'ct_seg.nii.gz', 'ct_seg.json']) rmSync(join(ws, 'cases', f), { force: true });
  }
});

/** What Segment All Unreviewed needs to segment the one case `imagePath` of the workspace with its active model (the caller disposes of `model`). */
async function segmentAllOf(imagePath: string) {
  const { segmentCases } = await import('../../src/editor/segmentAllCommand');
  const { scanCases } = await import('../../src/dataset/cases');
  const { loadSegmentationModel } = await import('../../src/ml/inference');
  const { ModelStore, workspaceModelRoot } = await import('../../src/ml/modelStore');
  const active = (await new ModelStore(workspaceModelRoot(ws)).active())!;
  const model = await loadSegmentationModel(active.dir);
  const ordered = (await scanCases([ws])).cases.filter((c) => c.imagePath === imagePath);
  assert.equal(ordered.length, 1);
  const env = { host: { log: fakeLog, provider: api.provider }, abort: new AbortController(), progress: { report: () => undefined }, refresh: () => undefined, offer: () => undefined };
  const settings = { proposalThreshold: 0.5, minLesionMm3: 0, testTimeAugmentation: false };
  return { segmentCases, ordered, model, active, env, settings };
}

test('Segment All Unreviewed gives a model trained on skull-stripped brains only the brain of a head with its skull, and saves no proposal where no brain can be told, saying why', async () => {
  const headPath = join(ws, 'cases', 'head.nii.gz');
  writeHeadImage(headPath, join(dir, 'head-mask.nii.gz'));
  const { segmentCases, ordered, model, active, env, settings } = await segmentAllOf(headPath);
  try {
    const engine = { model: { ...model, brainImages: { skullStripped: 3, withSkull: 0 } }, modelVersion: active.version, backendName: 'cpu', settings };
    const r = await segmentCases(engine as never, ordered, env as never);
    assert.match(r.failed.find((f) => f.imagePath === headPath)?.reason ?? '', /head\.nii\.gz: it shows a head with its skull, but the model was trained on skull-stripped brains only \(3 images\).*; its skull could not be stripped: .*; no proposal saved/);
    assert.ok(!existsSync(join(ws, 'cases', 'head_proposal.nii.gz')));
    // With a scalp and a skull around its brain, the head is stripped and segmented.
    writeHeadImage(headPath, join(dir, 'head-mask.nii.gz'), { layers: true });
    const stripped = await segmentCases(engine as never, ordered, env as never);
    assert.deepEqual(stripped.segmented, [headPath]);
    assert.ok(existsSync(join(ws, 'cases', 'head_proposal.nii.gz')));
    rmSync(join(ws, 'cases', 'head_proposal.nii.gz'));
    // A model that has seen heads with their skull segments it as it is.
    writeHeadImage(headPath, join(dir, 'head-mask.nii.gz'));
    const seen = await segmentCases({ ...engine, model: { ...model, brainImages: { skullStripped: 3, withSkull: 1 } } } as never, ordered, env as never);
    assert.deepEqual(seen.segmented, [headPath]);
  } finally {
    model.network.dispose();
    for (const f of ['head.nii.gz', 'head_proposal.nii.gz', 'head_uncertainty.nii.gz', 'head_proposal.json']) rmSync(join(ws, 'cases', f), { force: true });
  }
});

test('Segment All Unreviewed saves no proposal for a case of another modality than the model, and says why', async () => {
  const ctPath = join(ws, 'cases', 'ct2.nii.gz');
  const ct = new Int16Array(N);
  for (let z = 0, v = 0; z < DIMS[2]; z++) for (let y = 0; y < DIMS[1]; y++) for (let x = 0; x < DIMS[0]; x++, v++) ct[v] = x >= 3 && x < 21 && y >= 3 && y < 21 ? 40 : -1000;
  writeFileSync(ctPath, gzip(buildNifti({ dim: [...DIMS], datatype: 4, bitpix: 16, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: bytesOf(ct) }).file));
  const { segmentCases, ordered, model, active, env, settings } = await segmentAllOf(ctPath);
  try {
    const engine = { model, modelVersion: active.version, backendName: 'cpu', settings };
    const r = await segmentCases(engine as never, ordered, env as never);
    assert.ok(!r.segmented.includes(ctPath));
    const failed = r.failed.find((f) => f.imagePath === ctPath);
    assert.match(failed?.reason ?? '', /ct2\.nii\.gz: it is a CT \(.*\), and the model works on MR; no proposal saved \(Select Model picks one for this modality\)/);
    assert.ok(!existsSync(join(ws, 'cases', 'ct2_proposal.nii.gz')));
  } finally {
    model.network.dispose();
    for (const f of ['ct2.nii.gz', 'ct2_proposal.nii.gz', 'ct2_uncertainty.nii.gz']) rmSync(join(ws, 'cases', f), { force: true });
  }
});
test('Segment All Unreviewed segments a CT stored without its rescale intercept with the MR model, and logs what it looks like', async () => {
  const rawPath = join(ws, 'cases', 'ctraw.nii.gz');
  // HU + 1024: air 24, a body of soft tissue around 1,064 with a little spread.
  const raw = new Int16Array(N);
  for (let z = 0, v = 0; z < DIMS[2]; z++) for (let y = 0; y < DIMS[1]; y++) for (let x = 0; x < DIMS[0]; x++, v++) raw[v] = x >= 3 && x < 21 && y >= 3 && y < 21 ? 1064 + ((x * 7 + y * 3 + z) % 9) : 24;
  writeFileSync(rawPath, gzip(buildNifti({ dim: [...DIMS], datatype: 4, bitpix: 16, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: bytesOf(raw) }).file));
  const { segmentCases, ordered, model, active, env, settings } = await segmentAllOf(rawPath);
  const before = fakeLog.lines.length;
  try {
    const engine = { model, modelVersion: active.version, backendName: 'cpu', settings };
    const r = await segmentCases(engine as never, ordered, env as never);
    assert.deepEqual(r.segmented, [rawPath]);
    const logged = fakeLog.lines.slice(before).join('\n');
    assert.match(logged, /Segment All Unreviewed: cases[\\/]ctraw\.nii\.gz: it looks like a CT stored without its rescale intercept: .*scl_inter to −1024; segmented as MR/);
  } finally {
    model.network.dispose();
    for (const f of ['ctraw.nii.gz', 'ctraw_proposal.nii.gz', 'ctraw_uncertainty.nii.gz', 'ctraw_seg.json']) rmSync(join(ws, 'cases', f), { force: true });
  }
});


test('Segment Lesion on a head whose skull it strips shows the brain it gave the model as an outline map, cleared with the proposal', async () => {
  const { ModelStore, workspaceModelRoot, readCard } = await import('../../src/ml/modelStore');
  const { readNifti } = await import('../../src/nifti');
  const { brainMaskFor } = await import('../../src/ml/starterChoice');
  // A version of the active model whose card says it saw skull-stripped brains only.
  const store = new ModelStore(workspaceModelRoot(ws));
  const active = (await store.active())!;
  const card = await readCard(active.dir);
  assert.ok(card.training, 'the active model was fine-tuned by the tests above');
  const pending = await store.beginVersion();
  for (const f of readdirSync(active.dir)) if (f !== 'card.json') copyFileSync(join(active.dir, f), join(pending.dir, f));
  const strippedOnly = { skullStripped: 3, withSkull: 0 };
  const version = await pending.commit({ ...card, parentVersion: active.version, training: { ...card.training, brainImages: strippedOnly } });
  await store.setActive(version.version);
  const headPath = join(ws, 'cases', 'head3.nii.gz');
  writeHeadImage(headPath, join(dir, 'head3-mask.nii.gz'), { layers: true });
  const head = await api.provider.openCustomDocument(Uri.file(headPath) as never, { backupId: undefined, untitledDocumentData: undefined }, cancellation as never);
  const headPanel = new FakePanel();
  await api.provider.resolveCustomEditor(head, headPanel as never, cancellation as never);
  headPanel.webview.send({ type: 'ready', protocolVersion: 1 });
  await settle();
  try {
    const r = await run<{ modelVersion: string }>('lesionLab.segmentLesion', Uri.file(headPath));
    assert.equal(r.modelVersion, version.version);
    const brain = headPanel.webview.ofType('overlay').filter((o) => o.kind === 'brain').at(-1);
    assert.ok(brain, 'the brain is shown');
    assert.equal(brain.proposal, null);
    const shown = new Float32Array(brain.voxels as ArrayBuffer);
    const expected = brainMaskFor(await readNifti(headPath), strippedOnly);
    assert.ok(expected?.brainMask);
    assert.deepEqual(Array.from(shown), Array.from(expected.brainMask), 'the mask the model was given, 1 inside');
    assert.ok(fakeLog.lines.some((l) => l.includes('head3.nii.gz') && /brain/.test(l)), 'the log says the skull was stripped');
    // Reject drops the outline with the proposal.
    await run('lesionLab.rejectProposal', Uri.file(headPath));
    assert.ok(headPanel.webview.ofType('clearOverlay').some((m) => m.kind === 'brain'));
    assert.equal(api.provider.overlayOf(head, 'brain'), undefined);
    // The case image, not the document of the earlier tests, got it.
    assert.ok(!panel.webview.ofType('overlay').some((o) => o.kind === 'brain'));
  } finally {
    headPanel.dispose();
    await store.setActive(active.version);
    for (const f of ['head3.nii.gz', 'head3_seg.json']) rmSync(join(ws, 'cases', f), { force: true });
  }
});

test('Segment Lesion with a fused image of another modality averages in its own starter\'s opinion; removed, it does not', async () => {
  // A CT of the same "patient" on the case's grid: air around a body, a denser lesion.
  const ctPath = join(ws, 'cases', 'case_ct.nii.gz');
  const body = phantom();
  const ct = Int16Array.from(body, (v) => (v === 0 ? -1000 : v === 250 ? 70 : 30));
  writeFileSync(ctPath, gzip(buildNifti({ dim: [...DIMS], datatype: 4, bitpix: 16, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: bytesOf(ct) }).file));
  const { overlayAnotherImage, fusedImageOf } = await import('../../src/editor/overlayImageCommand');
  const { readNifti } = await import('../../src/nifti');
  const { companionProbability } = await import('../../src/ml/companion');
  const { shippedStarterLocator } = await import('../../src/ml/starterModels');
  try {
    const uri = Uri.file(imagePath);
    // No flips: the CT starter runs on the cpu backend here.
    configuration.testTimeAugmentation = false;
    await run('lesionLab.segmentLesion', uri);
    const alone = probabilityOverlay().probs.slice();
    await run('lesionLab.rejectProposal', uri);
    assert.equal(await overlayAnotherImage(fakeLog as never, api.provider, doc as never, Uri.file(ctPath) as never), true);
    assert.equal(fusedImageOf(doc)?.path, ctPath);
    const r = await run<{ modelVersion: string } | undefined>('lesionLab.segmentLesion', uri);
    assert.ok(r, `Segment Lesion ran (last messages: ${JSON.stringify(shownMessages.slice(-3))})`);
    assert.ok(fakeLog.lines.some((l) => l.includes(`case.nii.gz: the fused case_ct.nii.gz was segmented by sarcoma-ct (sarcoma-ct, covering 100 % of the image); its probability is averaged with model ${r.modelVersion}'s`)));
    assert.ok(messagesMatching(/proposes .* \(with sarcoma-ct on the fused case_ct\.nii\.gz\) in case\.nii\.gz/).length > 0);
    // The proposal is the mean of v1's probability and the CT starter's on the CT.
    const ctImage = await readNifti(ctPath);
    const second = await companionProbability(await readNifti(imagePath), ctImage, 'case_ct.nii.gz', (t) => shippedStarterLocator(repoRoot).dirOf(t), { ttaFlips: [[]] });
    // A CT whose affine puts it 300 mm away, placed back by a registration's affine, gives the same opinion.
    const away = { ...ctImage, affine: ctImage.affine.map((v, i) => (i === 3 ? v + 300 : v)) };
    const placedBack = await companionProbability(await readNifti(imagePath), away, 'case_ct.nii.gz', (t) => shippedStarterLocator(repoRoot).dirOf(t), { ttaFlips: [[]], placedAffine: ctImage.affine });
    assert.deepEqual(Array.from(placedBack.probability), Array.from(second.probability));
    await assert.rejects(companionProbability(await readNifti(imagePath), away, 'case_ct.nii.gz', (t) => shippedStarterLocator(repoRoot).dirOf(t), { ttaFlips: [[]] }), /does not overlap the image in scanner coordinates/);
    const fused = probabilityOverlay().probs;
    let worst = 0;
    for (let v = 0; v < N; v++) worst = Math.max(worst, Math.abs(fused[v] - 0.5 * (alone[v] + second.probability[v])));
    assert.ok(worst < 1e-5, `the averaged probability (largest difference ${worst})`);
    // Accepted, the labels' provenance names both models.
    const acceptedFused = await run<{ modelVersion: string } | undefined>('lesionLab.acceptProposal', uri);
    const both = `${r.modelVersion} + sarcoma-ct on case_ct.nii.gz`;
    assert.equal(acceptedFused?.modelVersion, both);
    assert.equal(doc.session!.model.proposalModelVersion, both);
    edits.at(-1)!.undo();
    // Removed, the fused image no longer takes part.
    await run('lesionLab.clearOverlayImage', uri);
    assert.equal(fusedImageOf(doc)?.path, undefined);
    assert.equal(api.provider.overlayOf(doc, 'fusion'), undefined);
    await run('lesionLab.segmentLesion', uri);
    assert.deepEqual(Array.from(probabilityOverlay().probs), Array.from(alone));
    await run('lesionLab.rejectProposal', uri);
  } finally {
    rmSync(ctPath, { force: true });
  }
});
