// The starter question wired into the extension with a fake vscode module, in a workspace without
// a model: the first Segment Lesion asks which shipped starter fits (every task starter offered,
// the one suggested for the image first and marked), a dismissed pick cancels with a message and
// changes nothing, the answer is remembered in the store's active.json and used without asking,
// Select Model switches to another starter, Segment All and Fine-tune use the chosen starter, and
// a window without a workspace folder remembers it in the workspace state.
// The extension root is a temporary folder whose media/models holds tiny untrained U-Nets with the
// shipped cards' tasks and held-out figures, so Segment Lesion runs in well under a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import {
  cancellation,
  commandHandlers,
  configuration,
  fakeContext,
  FakePanel,
  fakeVscode,
  installFakeVscode,
  installModelCommandFakes,
  shownMessages,
  Uri,
} from './fakeVscode';

installFakeVscode();

interface PickItem {
  label: string;
  description?: string;
  detail?: string;
  kind?: number;
  version?: string;
  starter?: string;
}
interface PickCall {
  items: PickItem[];
  options: { title?: string; placeHolder?: string };
}
const picks: PickCall[] = [];
let answer: (call: PickCall) => PickItem | undefined = () => undefined;
let workspaceFolders: { uri: Uri; name: string; index: number }[] | undefined;
const statusItems: { text: string }[] = [];
const progressTitles: string[] = [];

const fake = fakeVscode as unknown as Record<string, Record<string, unknown>> & Record<string, unknown>;
installModelCommandFakes(() => workspaceFolders);
Object.assign(fake.window, {
  createStatusBarItem: () => {
    const item = { text: '', tooltip: undefined, command: undefined, name: '', show() {}, hide() {}, dispose() {} };
    statusItems.push(item);
    return item;
  },
  withProgress: async (opts: { title?: string }, task: (p: unknown, t: unknown) => Promise<unknown>) => {
    progressTitles.push(opts.title ?? '');
    return task({ report: () => undefined }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) });
  },
  showQuickPick: async (items: PickItem[], options: PickCall['options']) => {
    const call = { items, options };
    picks.push(call);
    return answer(call);
  },
  showTextDocument: async () => undefined,
});

const REPO = resolve(__dirname, '../..');
const TASK_STARTERS = ['ms-flair', 'sarcoma-ct', 'sarcoma-mr-t1', 'sarcoma-pet'];
const DIMS = [24, 24, 16] as const;
let dir = '';
let ws = '';
let extensionRoot = '';
let imagePath = '';
let context: ReturnType<typeof fakeContext>;
let api: import('../../src/extension').LesionLabApi;
let doc: import('../../src/editor/labelDocument').LabelDocument;
let panel: FakePanel;

const run = <T>(id: string, ...args: unknown[]) => commandHandlers.get(id)!(...args) as Promise<T>;
const pickOf = (name: string) => (call: PickCall) => call.items.find((i) => i.starter === name);
const activeJson = () => JSON.parse(readFileSync(join(ws, '.lesion-lab', 'models', 'active.json'), 'utf8')) as { starter?: string; version?: string };
type SegmentResult = import('../../src/editor/segmentCommand').SegmentCommandResult;

/** A small MR-like phantom (integer values, 24 mm field): src/ml/starterChoice.ts suggests sarcoma-mr-t1. */
function phantom(): Float32Array {
  const v = new Float32Array(DIMS[0] * DIMS[1] * DIMS[2]);
  for (let z = 0; z < DIMS[2]; z++) for (let y = 0; y < DIMS[1]; y++) for (let x = 0; x < DIMS[0]; x++) {
    const inBody = x >= 3 && x < 21 && y >= 3 && y < 21 && z >= 2 && z < 14;
    const inLesion = x >= 9 && x < 14 && y >= 9 && y < 14 && z >= 6 && z < 10;
    v[(z * DIMS[1] + y) * DIMS[0] + x] = inLesion ? 250 : inBody ? 100 + ((x * 7 + y * 3 + z) % 11) : 0;
  }
  return v;
}

/** A tiny untrained U-Net in the fake extension's media/models/<name>, with the shipped card's task and figures. */
async function writeTinyStarter(name: string): Promise<string> {
  const { createUNet3d } = await import('../../src/ml/network');
  const { saveUNet3d } = await import('../../src/ml/network/serialize');
  const { writeCard } = await import('../../src/ml/modelStore');
  const { defaultPreprocessing } = await import('../../src/ml/preprocess');
  const modelDir = join(extensionRoot, 'media', 'models', name);
  const shipped = JSON.parse(readFileSync(join(REPO, 'media', 'models', name, 'card.json'), 'utf8')) as Record<string, unknown>;
  const net = createUNet3d({ levels: 2, baseFilters: 2, normalization: 'none', seed: 3 });
  await saveUNet3d(net, modelDir);
  net.dispose();
  await writeCard(modelDir, {
    format: 'lesion-lab-model',
    formatVersion: 1,
    version: name,
    parentVersion: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR', null),
    network: { ...net.config },
    training: null,
    ...(shipped.task ? { task: shipped.task, heldOut: shipped.heldOut } : {}),
  } as never);
  return modelDir;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lesionlab-starterwiring-'));
  ws = join(dir, 'ws');
  mkdirSync(join(ws, 'cases'), { recursive: true });
  imagePath = join(ws, 'cases', 'case.nii.gz');
  const file = buildNifti({ dim: [...DIMS], datatype: 16, bitpix: 32, pixdim: [1, 1, 1, 1, 1, 1, 1, 1], data: bytesOf(phantom()) }).file;
  writeFileSync(imagePath, gzip(file));

  // media/models of the fake extension: tiny nets under the shipped cards' tasks and figures.
  extensionRoot = join(dir, 'extension');
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  for (const name of [...TASK_STARTERS, 'starter']) await writeTinyStarter(name);

  workspaceFolders = [{ uri: Uri.file(ws), name: 'ws', index: 0 }];
  configuration.backend = 'cpu';
  configuration.testTimeAugmentation = false;
  configuration.fineTuneMinutes = 2;
  configuration.fineTuneMaxSteps = 1;
  const { activate } = await import('../../src/extension');
  context = fakeContext(extensionRoot);
  api = activate(context as never);
  doc = await api.provider.openCustomDocument(Uri.file(imagePath) as never, { backupId: undefined, untitledDocumentData: undefined }, cancellation as never);
  assert.equal(doc.openError, null);
  panel = new FakePanel();
  await api.provider.resolveCustomEditor(doc, panel as never, cancellation as never);
  panel.webview.send({ type: 'ready', protocolVersion: 1 });
  await new Promise((r) => setTimeout(r, 50));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('before any choice the status bar says no model is chosen', async () => {
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(statusItems[0].text, '$(beaker) model not chosen');
});

test('first Segment Lesion: a dismissed pick cancels with a message; nothing is remembered, no job is left running', async () => {
  picks.length = 0;
  shownMessages.length = 0;
  answer = () => undefined;
  assert.equal(await run('lesionLab.segmentLesion'), undefined);
  assert.equal(picks.length, 1);
  assert.ok(shownMessages.some((m) => /Segment Lesion cancelled: no model chosen\. Run it again to choose a starter model, or use Lesion Lab: Select Model\./.test(m.text)), JSON.stringify(shownMessages));
  assert.ok(!shownMessages.some((m) => m.level === 'error'), 'no error');
  assert.equal(existsSync(join(ws, '.lesion-lab', 'models', 'active.json')), false);
  assert.equal(panel.webview.ofType('overlay').length, 0, 'no proposal shown');
  assert.equal(statusItems[0].text.includes('segmenting'), false, 'the job is released');
});

test('first Segment Lesion: every task starter is offered, the suggested one first; the answer runs and is remembered', async () => {
  picks.length = 0;
  answer = pickOf('ms-flair');
  const r = await run<SegmentResult>('lesionLab.segmentLesion');
  assert.equal(picks.length, 1);
  const [{ items, options }] = picks;
  assert.deepEqual(items.map((i) => i.starter), ['sarcoma-mr-t1', 'ms-flair', 'sarcoma-ct', 'sarcoma-pet'], 'the suggestion for a small MR crop first');
  assert.equal(items[0].description, 'sarcoma-mr-t1 · suggested');
  assert.equal(items[0].label, 'Soft-tissue sarcoma (GTV) · MR');
  assert.match(items[0].detail ?? '', /^held-out Dice \d\.\d{3} \(\d+ cases\) · soft-tissue sarcoma \(GTV\) on MR T1/);
  assert.ok(items.slice(1).every((i) => !/suggested/.test(i.description ?? '')));
  assert.match(options.placeHolder ?? '', /suggested: sarcoma-mr-t1 \(MR \(field of view 24×24×16 mm/);
  assert.equal(r.modelVersion, 'ms-flair');
  assert.deepEqual(activeJson().starter, 'ms-flair');
  assert.equal(statusItems[0].text, '$(beaker) cpu · model ms-flair');
});

test('later Segment Lesion runs use the remembered starter without asking', async () => {
  picks.length = 0;
  const r = await run<SegmentResult>('lesionLab.segmentLesion');
  assert.equal(picks.length, 0);
  assert.equal(r.modelVersion, 'ms-flair');
});

test('Select Model offers the starters (the active one checked) and switches to another; Segment Lesion follows', async () => {
  picks.length = 0;
  answer = pickOf('sarcoma-ct');
  assert.equal(await run('lesionLab.selectModelVersion'), 'sarcoma-ct');
  const items = picks[0].items.filter((i) => i.kind === undefined);
  assert.deepEqual(items.map((i) => i.starter), ['sarcoma-mr-t1', 'ms-flair', 'sarcoma-ct', 'sarcoma-pet']);
  assert.match(items[1].label, /^\$\(check\) Multiple-sclerosis white-matter lesions · MR$/);
  assert.equal(items[1].description, 'ms-flair · active');
  assert.deepEqual(activeJson().starter, 'sarcoma-ct');
  picks.length = 0;
  assert.equal((await run<SegmentResult>('lesionLab.segmentLesion')).modelVersion, 'sarcoma-ct');
  assert.equal(picks.length, 0);
});

test('Fine-tune starts from the chosen starter and its new version becomes the active model', async () => {
  // A reviewed mask: paint a few voxels and save.
  const { encodeDelta } = await import('../../src/protocol/labelDelta');
  const painted = doc.labels.slice();
  for (let v = 0; v < 40; v++) painted[9 + 24 * (9 + 24 * 7) + v] = 1;
  doc.makeEdit('Brush', encodeDelta(doc.labels, painted));
  await doc.save(cancellation as never);
  picks.length = 0;
  const r = await run<import('../../src/ml/training').FineTuneResult>('lesionLab.fineTune');
  assert.ok(r, JSON.stringify(shownMessages.slice(-3)));
  assert.equal(picks.length, 0, 'no question: a starter is chosen');
  assert.equal(r.version.card.parentVersion, 'sarcoma-ct');
  if (r.activated) assert.deepEqual([activeJson().version, activeJson().starter], [r.version.version, undefined]);
});

test('a window without a workspace folder asks once and remembers the starter in the workspace state', async () => {
  const saved = workspaceFolders;
  workspaceFolders = undefined;
  try {
    picks.length = 0;
    answer = pickOf('sarcoma-pet');
    assert.equal((await run<SegmentResult>('lesionLab.segmentLesion')).modelVersion, 'sarcoma-pet');
    assert.equal(picks.length, 1);
    const { REMEMBERED_STARTER_KEY } = await import('../../src/editor/modelRuntime');
    assert.equal(context.workspaceState.get(REMEMBERED_STARTER_KEY), 'sarcoma-pet');
    assert.equal((await run<SegmentResult>('lesionLab.segmentLesion')).modelVersion, 'sarcoma-pet');
    assert.equal(picks.length, 1, 'asked only once');
  } finally {
    workspaceFolders = saved;
  }
});

test('a whole-brain MR: the brain-tumour starter looks at it first, under a notification, and Select Model marks what it suggested', async () => {
  // A brain-sized MR (102 mm at 1.5 mm): the grid alone says ms-flair; with a brain-tumour
  // starter shipped, it looks for a tumour before the question (src/ml/brainTumourCheck.ts).
  const tumourModel = await writeTinyStarter('brain-tumour-flair');
  const n = 68;
  const values = new Int16Array(n * n * n);
  for (let z = 0, v = 0; z < n; z++) for (let y = 0; y < n; y++) for (let x = 0; x < n; x++, v++) {
    const r = Math.hypot(x - 34, y - 34, z - 34);
    values[v] = r < 30 ? (Math.hypot(x - 24, y - 34, z - 34) < 7 ? 300 : 120 + ((x * 7 + y * 3 + z) % 13)) : 0;
  }
  const brainPath = join(ws, 'cases', 'brain.nii.gz');
  writeFileSync(brainPath, gzip(buildNifti({ dim: [n, n, n], datatype: 4, bitpix: 16, pixdim: [1, 1.5, 1.5, 1.5, 1, 0, 0, 0], data: bytesOf(values) }).file));
  const brainDoc = await api.provider.openCustomDocument(Uri.file(brainPath) as never, { backupId: undefined, untitledDocumentData: undefined }, cancellation as never);
  const brainPanel = new FakePanel();
  await api.provider.resolveCustomEditor(brainDoc, brainPanel as never, cancellation as never);
  brainPanel.webview.send({ type: 'ready', protocolVersion: 1 });
  await new Promise((r) => setTimeout(r, 50));
  rmSync(join(ws, '.lesion-lab', 'models', 'active.json'));
  const { fakeLog } = await import('./fakeVscode');
  try {
    picks.length = 0;
    progressTitles.length = 0;
    answer = pickOf('ms-flair');
    assert.equal((await run<SegmentResult>('lesionLab.segmentLesion', Uri.file(brainPath))).modelVersion, 'ms-flair');
    assert.ok(progressTitles.includes('Lesion Lab: looking at brain.nii.gz to suggest a starter model (a brain tumour, or MS lesions?)'), JSON.stringify(progressTitles));
    const looked = fakeLog.lines.find((l) => l.startsWith('info brain.nii.gz: ') && l.includes(' suggested (MR on a brain-sized near-isotropic grid'));
    assert.ok(looked, fakeLog.lines.slice(-5).join('\n'));
    // The untrained net's verdict, whichever it is, is the suggestion offered first and explained.
    const suggested = /^info brain\.nii\.gz: (\S+) suggested/.exec(looked)![1];
    assert.ok(suggested === 'ms-flair' || suggested === 'brain-tumour-flair', suggested);
    assert.equal(picks[0].items[0].starter, suggested);
    assert.match(picks[0].options.placeHolder ?? '', /brain-tumour-flair( finds no lesion|'s most confident lesion is)/);
    // Select Model marks the same suggestion without looking again.
    picks.length = 0;
    progressTitles.length = 0;
    answer = () => undefined;
    await run('lesionLab.selectModelVersion');
    assert.equal(progressTitles.length, 0);
    assert.equal(picks[0].items.find((i) => /suggested/.test(i.description ?? ''))?.starter, suggested);
  } finally {
    rmSync(tumourModel, { recursive: true, force: true });
  }
});
