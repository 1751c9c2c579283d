// Issue 11 through the provider with a fake vscode: where the mask pattern comes from (inspect),
// Restricted Mode, a mask changed on disk at Save (overwrite / reload / save as), the old undo
// stack after a reload, locked labels enforced by the host, and volumes too big for the webview.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LabelDeltaRecorder } from '../../src/protocol/labelDelta';
import { deltaToWire } from '../../src/protocol/labelDeltaWire';
import {
  cancellation,
  CancellationError,
  configuration,
  dialogAnswers,
  FakePanel,
  grantWorkspaceTrust,
  shownMessages,
  workspaceConfiguration,
  workspaceState,
} from './fakeVscode';
import { buildNifti } from '../nifti/buildNifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { fakeProviderSetup, REPO_ROOT, settle } from './fakeProvider';

const { tempDir, makeProvider, open } = fakeProviderSetup('lesionlab-safety-');
const skip = skipWithoutSharedData('odd', 'generated_valid');

afterEach(() => {
  for (const k of Object.keys(workspaceConfiguration)) delete workspaceConfiguration[k];
  for (const k of Object.keys(configuration)) delete configuration[k];
  workspaceState.isTrusted = true;
  workspaceState.folders = [];
  workspaceState.saveDialogAnswers = [];
  dialogAnswers.length = 0;
});

/** <root>/work/case.nii.gz; the workspace folder is <root>/work. */
function workspaceCase(): { imagePath: string; work: string; root: string } {
  const root = mkdtempSync(join(tempDir(), 'root-'));
  const work = join(root, 'work');
  mkdirSync(work);
  copyFileSync(sharedDataPath('odd', 'generated_valid', 'ct_int16.nii.gz'), join(work, 'case.nii.gz'));
  return { imagePath: join(work, 'case.nii.gz'), work, root };
}

function brush(labels: ArrayLike<number>, from: number, to: number, value: number) {
  const rec = new LabelDeltaRecorder(Uint8Array.from(labels));
  for (let i = from; i < to; i++) rec.set(i, value);
  return deltaToWire(rec.finish());
}

test('a workspace maskPattern pointing outside the workspace opens read-only; the same pattern from user settings is allowed', { skip }, async () => {
  const { imagePath, work, root } = workspaceCase();
  mkdirSync(join(root, 'victim'));
  writeFileSync(join(root, 'victim', 'settings.json'), '{}\n');
  workspaceState.folders = [work];
  workspaceConfiguration.maskPattern = '../victim/settings.nii.gz';
  const { provider } = makeProvider();
  const doc = await open(provider, imagePath);
  assert.equal(doc.session!.readOnly, true);
  assert.match(doc.session!.readOnlyReason ?? '', /from the workspace settings .*outside the workspace folder/);
  provider.dispose();

  delete workspaceConfiguration.maskPattern;
  configuration.maskPattern = '../victim/settings.nii.gz';
  const user = makeProvider();
  const doc2 = await open(user.provider, imagePath);
  assert.equal(doc2.session!.readOnly, false, 'the user chose it in their own settings');
  user.provider.dispose();
});

test('Restricted Mode: the workspace maskPattern is ignored, the view says why, and trusting applies it to images opened later', { skip }, async () => {
  const { imagePath, work } = workspaceCase();
  mkdirSync(join(work, 'masks'));
  workspaceState.folders = [work];
  workspaceState.isTrusted = false;
  workspaceConfiguration.maskPattern = 'masks/${name}.nii.gz';
  const { provider } = makeProvider();
  const doc = await open(provider, imagePath);
  assert.equal(doc.session!.maskPath, join(work, 'case_seg.nii.gz'));
  assert.equal(doc.session!.readOnly, false, 'viewing and labelling work');
  const panel = new FakePanel();
  await provider.resolveCustomEditor(doc, panel as never, cancellation as never);
  panel.webview.send({ type: 'ready', protocolVersion: 1 });
  await settle();
  assert.equal(panel.webview.ofType('init').length, 1);
  assert.match(String(panel.webview.ofType('status').at(-1)?.text), /Restricted Mode/);
  grantWorkspaceTrust();
  assert.match(String(panel.webview.ofType('status').at(-1)?.text), /Workspace trusted/);
  const later = await open(provider, imagePath);
  assert.equal(later.session!.maskPath, join(work, 'masks', 'case.nii.gz'));
  provider.dispose();
});

test('a mask changed on disk: Save asks; Overwrite writes; Reload shows the file and old undos do nothing; cancel saves nothing', { skip }, async () => {
  const { imagePath, work } = workspaceCase();
  const maskPath = join(work, 'case_seg.nii.gz');
  const { provider, edits } = makeProvider();
  const doc = await open(provider, imagePath);
  const panel = new FakePanel();
  await provider.resolveCustomEditor(doc, panel as never, cancellation as never);
  panel.webview.send({ type: 'edit', label: 'Brush', delta: brush(doc.labels, 100, 140, 1) });
  await settle();
  await provider.saveCustomDocument(doc, cancellation as never);

  // Another program replaces the mask; an edit here; Save asks.
  copyFileSync(sharedDataPath('odd', 'generated_valid', 'mask_uint8.nii.gz'), maskPath);
  const external = readFileSync(maskPath);
  panel.webview.send({ type: 'edit', label: 'Brush', delta: brush(doc.labels, 200, 240, 1) });
  await settle();
  dialogAnswers.push(undefined); // Cancel
  await assert.rejects(Promise.resolve(provider.saveCustomDocument(doc, cancellation as never)), CancellationError);
  assert.ok(shownMessages.some((m) => /case_seg\.nii\.gz changed on disk/.test(m.text)));
  assert.deepEqual(readFileSync(maskPath), external);

  // Save As… writes elsewhere and leaves the document unsaved.
  dialogAnswers.push('Save As…');
  workspaceState.saveDialogAnswers.push(join(work, 'copy_seg.nii.gz'));
  await assert.rejects(Promise.resolve(provider.saveCustomDocument(doc, cancellation as never)), CancellationError);
  assert.ok(existsSync(join(work, 'copy_seg.nii.gz')) && existsSync(join(work, 'copy_seg.json')));
  assert.deepEqual(readFileSync(maskPath), external);
  assert.equal(doc.session!.model.isDirty, true);

  // Reload from Disk: the file's labels; VS Code's older edits can no longer change anything.
  dialogAnswers.push('Reload from Disk');
  await provider.saveCustomDocument(doc, cancellation as never);
  assert.equal(doc.labels[120], 0);
  assert.equal(doc.session!.model.isDirty, false);
  assert.equal(panel.webview.ofType('replaceLabels').at(-1)?.cause, 'revert');
  const reloaded = Uint8Array.from(doc.labels);
  assert.doesNotThrow(() => edits[1].undo());
  assert.doesNotThrow(() => edits[0].undo());
  assert.doesNotThrow(() => edits[0].redo());
  assert.deepEqual(Uint8Array.from(doc.labels), reloaded);
  assert.match(String(panel.webview.ofType('status').at(-1)?.text), /Nothing to (undo|redo)/);

  // Changed again; Overwrite writes the labels shown here.
  writeFileSync(maskPath, Buffer.concat([external, Buffer.from([1])]));
  panel.webview.send({ type: 'edit', label: 'Brush', delta: brush(doc.labels, 300, 340, 3) });
  await settle();
  dialogAnswers.push('Overwrite');
  await provider.saveCustomDocument(doc, cancellation as never);
  assert.notDeepEqual(readFileSync(maskPath), external);
  assert.equal(doc.session!.model.isDirty, false);
  provider.dispose();
});

test('the host refuses an edit that changes a locked label and resyncs the sender', { skip }, async () => {
  const { imagePath } = workspaceCase();
  const { provider, edits } = makeProvider();
  const doc = await open(provider, imagePath);
  const panel = new FakePanel();
  await provider.resolveCustomEditor(doc, panel as never, cancellation as never);
  panel.webview.send({ type: 'edit', label: 'Brush', delta: brush(doc.labels, 100, 140, 1) });
  await settle();
  panel.webview.send({ type: 'setLabelTable', label: 'Lock label', labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: true }] });
  await settle();
  panel.webview.send({ type: 'edit', label: 'Eraser', delta: brush(doc.labels, 120, 160, 0) });
  await settle();
  assert.equal(doc.labels[130], 1, 'locked voxels kept');
  assert.equal(edits.length, 2, 'no edit recorded');
  assert.equal(panel.webview.ofType('replaceLabels').at(-1)?.cause, 'resync');
  assert.match(String(panel.webview.ofType('status').at(-1)?.text), /locked label 1 \(Lesion\)/);
  provider.dispose();
});

test('a volume the webview cannot show is refused by the host with a message, not posted', async () => {
  const d = mkdtempSync(join(tempDir(), 'big-'));
  const path = join(d, 'long.nii.gz');
  // 2100×2×2 uint8: small on disk, but one side is longer than a 3-D texture may be.
  const built = buildNifti({ dim: [2100, 2, 2], datatype: 2, bitpix: 8, pixdim: [1, 1, 1, 1, 0, 0, 0, 0], data: new Uint8Array(2100 * 4) });
  writeFileSync(path, gzipSync(built.file));
  const { provider } = makeProvider();
  const doc = await open(provider, path);
  assert.equal(doc.openError, null);
  const panel = new FakePanel();
  await provider.resolveCustomEditor(doc, panel as never, cancellation as never);
  panel.webview.send({ type: 'ready', protocolVersion: 1 });
  await settle();
  assert.equal(panel.webview.ofType('init').length, 0, 'nothing the webview cannot hold is posted');
  const [err] = panel.webview.ofType('error');
  assert.equal(err?.fatal, true);
  assert.match(String(err?.message), /^long\.nii\.gz is 2100×2×2 voxels.*at most 2048/);
  assert.ok(shownMessages.some((m) => m.level === 'error' && /long\.nii\.gz is 2100×2×2/.test(m.text)));
  assert.ok(existsSync(dirname(path)));
  provider.dispose();
});

test('package.json: limited support in untrusted workspaces, with the path setting restricted', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    capabilities?: { untrustedWorkspaces?: { supported?: unknown; description?: string; restrictedConfigurations?: string[] } };
    contributes: { configuration: { properties: Record<string, unknown> } };
  };
  const trust = pkg.capabilities?.untrustedWorkspaces;
  assert.equal(trust?.supported, 'limited');
  assert.match(trust?.description ?? '', /Restricted Mode/);
  assert.ok(trust?.restrictedConfigurations?.includes('lesionLab.maskPattern'));
  for (const key of trust?.restrictedConfigurations ?? []) assert.ok(key in pkg.contributes.configuration.properties, `${key} is a contributed setting`);
});
