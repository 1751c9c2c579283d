// The model commands of the editor: Segment Lesion (proposal + uncertainty overlays), Accept /
// Reject Lesion Proposal, Fine-tune on Corrected Masks, Select Model Version, Show Model History,
// and the status bar item "$(beaker) wasm · model v2". Thin vscode wiring: the decisions live in
// pure modules beside it (proposal.ts, trainingPairs.ts, modelChoice.ts, modelText.ts,
// modelSettings.ts).
//
// The engine (TensorFlow.js) is imported lazily, on the first model command, so opening an image
// does not pay for loading it. One model job runs at a time (the backend is global state).
// Segment Lesion and Fine-tune yield to the event loop between patches / optimiser steps, so the
// extension host stays responsive; a single patch prediction or step is synchronous.

import * as vscode from 'vscode';
import { findStarterModelDir, readCard } from '../ml/modelStore';
import type { BackendInfo } from '../ml/backend';
import type { LoadedModel } from '../ml/inference';
import type { FineTuneResult, TrainingProgress } from '../ml/training';
import type { LabelDocument } from './labelDocument';
import type { LesionLabEditorProvider } from './provider';
import { chooseActiveModel, NoModelError, workspaceStore, type ModelChoice } from './modelChoice';
import { readModelSettings, type ModelSettings } from './modelSettings';
import {
  fineTuneSummary,
  lesionReport,
  lesionSummary,
  modelHistoryMarkdown,
  segmentProgressMessage,
  statusBarText,
  statusBarTooltip,
  totalLesionVolumeMm3,
  trainingProgressMessage,
  versionPickItems,
  type ModelStatus,
} from './modelText';
import { float32Buffer, lockedLabelValues, mapRange, proposalDelta } from './proposal';
import { PROMPT_PROPOSAL_SOURCE, PromptSegmenter } from './promptCommand';
import { displayPath, findReviewedTrainingPairs } from './trainingPairs';
import { readEditorSettings } from './settings';

/** What the model commands need from the extension (a subset of `LesionLabApi`). */
export interface ModelCommandHost {
  provider: LesionLabEditorProvider;
  log: vscode.LogOutputChannel;
  documentFor(uri?: vscode.Uri): LabelDocument | undefined;
}

/** A proposal shown on a document, waiting for Accept or Reject. */
interface PendingProposal {
  modelVersion: string;
  /** Thresholded proposal after the minimum lesion size (1 = lesion), on the image grid. */
  labels: Uint8Array;
  threshold: number;
  lesionCount: number;
}

/** What Segment Lesion returns (for tests and scripts calling the command). */
export interface SegmentCommandResult {
  fileName: string;
  modelVersion: string;
  backend: string;
  lesionCount: number;
  totalVolumeMm3: number;
  seconds: number;
  windowsTotal: number;
  windowsPredicted: number;
}

/** What a model job of the Cases view gets: the loaded active model and the settings. */
export interface SegmentationEngine {
  model: LoadedModel;
  modelVersion: string;
  backendName: string;
  settings: ModelSettings;
}

/** A saved proposal to show on an opened document (see {@link ModelCommands.offerSavedProposal}). */
export interface SavedProposalView {
  modelVersion: string;
  labels: Uint8Array;
  probability: Float32Array;
  uncertainty: Float32Array | null;
  threshold: number;
  lesionCount: number;
}

/** What Accept Lesion Proposal returns. */
export interface AcceptCommandResult {
  modelVersion: string;
  addedVoxels: number;
  replacedVoxels: number;
  lockedVoxels: number;
}

/** Command ids, as contributed in package.json. */
export const MODEL_COMMANDS = {
  segmentLesion: 'lesionLab.segmentLesion',
  acceptProposal: 'lesionLab.acceptProposal',
  rejectProposal: 'lesionLab.rejectProposal',
  fineTune: 'lesionLab.fineTune',
  selectModelVersion: 'lesionLab.selectModelVersion',
  showModelHistory: 'lesionLab.showModelHistory',
} as const;

const HISTORY_SCHEME = 'lesion-lab-history';
const PROPOSAL_LABEL_VALUE = 1;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isCancellation(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof Error && (err.name === 'TrainingCancelledError' || err.name === 'AbortError'));
}

/**
 * Registers the model commands and the status bar item.
 * @returns the controller (disposed with the extension).
 */
export function registerModelCommands(context: vscode.ExtensionContext, host: ModelCommandHost): ModelCommands {
  const commands = new ModelCommands(context, host);
  context.subscriptions.push(commands);
  return commands;
}

/** State and handlers of the model commands. */
export class ModelCommands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly statusItem: vscode.StatusBarItem;
  private readonly proposals = new WeakMap<LabelDocument, PendingProposal>();
  /** The Prompt tool's objects; Accept / Reject act on them first while one is shown. */
  readonly prompts: PromptSegmenter;
  private backendPromise: Promise<BackendInfo> | undefined;
  private backend: BackendInfo | undefined;
  private loaded: LoadedModel | undefined;
  private job: { kind: 'segmenting' | 'fine-tuning'; abort: AbortController } | null = null;
  private status: ModelStatus & { modelSource: string | null } = { backendName: null, modelVersion: null, modelSource: null };
  private historyText = '';
  /** More Markdown for Show Model History (the Cases view's correction effort per model version). */
  historyAppendix: (() => Promise<string>) | undefined;
  private readonly historyChanged = new vscode.EventEmitter<vscode.Uri>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: ModelCommandHost,
  ) {
    this.statusItem = vscode.window.createStatusBarItem('lesionLab.model', vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = 'Lesion Lab model';
    this.statusItem.command = MODEL_COMMANDS.selectModelVersion;
    const c = MODEL_COMMANDS;
    // A prompt proposal replaces a model proposal on screen: the hidden one is dropped.
    this.prompts = new PromptSegmenter(host, (doc) => this.proposals.delete(doc));
    this.disposables.push(
      this.prompts,
      this.statusItem,
      this.historyChanged,
      vscode.commands.registerCommand(c.segmentLesion, (uri?: unknown) => this.segmentLesion(asUri(uri))),
      vscode.commands.registerCommand(c.acceptProposal, (uri?: unknown) => this.acceptProposal(asUri(uri))),
      vscode.commands.registerCommand(c.rejectProposal, (uri?: unknown) => this.rejectProposal(asUri(uri))),
      vscode.commands.registerCommand(c.fineTune, () => this.fineTune()),
      vscode.commands.registerCommand(c.selectModelVersion, () => this.selectModelVersion()),
      vscode.commands.registerCommand(c.showModelHistory, () => this.showModelHistory()),
      vscode.workspace.registerTextDocumentContentProvider(HISTORY_SCHEME, {
        onDidChange: this.historyChanged.event,
        provideTextDocumentContent: () => this.historyText,
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('lesionLab.backend')) {
          // initBackend switches the global backend: done at the next model command, never mid-job.
          this.backendPromise = undefined;
          this.host.log.info(`lesionLab.backend changed to "${this.settings().backend}"; it takes effect with the next model command`);
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refreshModelStatus()),
      this.host.provider.onDidChangeActiveDocument(() => void this.refreshModelStatus()),
    );
    void this.refreshModelStatus();
  }

  // ───────────── shared state ─────────────

  private settings(): ModelSettings {
    const config = vscode.workspace.getConfiguration('lesionLab');
    const { settings, problems } = readModelSettings((key) => config.get(key));
    for (const p of problems) this.host.log.warn(p);
    return settings;
  }

  /** The first workspace folder on disk, or null. */
  private workspaceFolder(): string | null {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    return folder ? folder.uri.fsPath : null;
  }

  private findStarter = (): string => findStarterModelDir(this.context.extensionUri.fsPath);

  /** The last model-choice warning shown, so the same one is not shown on every refresh. */
  private shownModelWarning: string | null = null;

  private async activeModel(): Promise<ModelChoice> {
    const choice = await chooseActiveModel(workspaceStore(this.workspaceFolder()), this.findStarter);
    if (choice.warning && choice.warning !== this.shownModelWarning) {
      this.host.log.warn(choice.warning);
      void vscode.window.showWarningMessage(`Lesion Lab: ${choice.warning}.`);
    }
    this.shownModelWarning = choice.warning;
    return choice;
  }

  private updateStatusItem(): void {
    const s = { ...this.status, busy: this.job?.kind ?? null };
    this.statusItem.text = statusBarText(s);
    this.statusItem.tooltip = statusBarTooltip({ ...s, backendReason: this.backend?.reason ?? null });
    if (this.job || this.host.provider.openDocuments.length > 0) this.statusItem.show();
    else this.statusItem.hide();
  }

  /** Re-reads which model is active (store pointer or starter) and updates the status bar. */
  async refreshModelStatus(): Promise<void> {
    try {
      const m = await this.activeModel();
      this.status.modelVersion = m.version;
      this.status.modelSource = m.source === 'starter' ? 'starter model shipped with Lesion Lab' : m.dir;
    } catch {
      this.status.modelVersion = null;
      this.status.modelSource = null;
    }
    this.updateStatusItem();
  }

  /** Starts the TensorFlow.js backend once (again after `lesionLab.backend` changed). */
  private ensureBackend(): Promise<BackendInfo> {
    if (!this.backendPromise) {
      const preferred = this.settings().backend;
      const started = (async () => {
        const { initBackend } = await import('../ml/backend');
        const info = await initBackend({ preferred });
        this.backend = info;
        this.status.backendName = info.name;
        const line = `backend: ${info.name} (${info.reason})`;
        if (preferred !== 'auto' && info.name !== preferred) {
          this.host.log.warn(`${line}; lesionLab.backend asked for ${preferred}`);
          void vscode.window.showWarningMessage(`Lesion Lab: the ${preferred} backend could not start; using ${info.name}. See the Lesion Lab output for why.`);
        } else {
          this.host.log.info(line);
        }
        this.updateStatusItem();
        return info;
      })();
      this.backendPromise = started;
      started.catch(() => {
        if (this.backendPromise === started) this.backendPromise = undefined;
      });
    }
    return this.backendPromise;
  }

  /** Loads (or reuses) the network of `choice`. */
  private async loadModel(choice: ModelChoice): Promise<LoadedModel> {
    if (this.loaded?.dir === choice.dir) return this.loaded;
    const { loadSegmentationModel } = await import('../ml/inference');
    const model = await loadSegmentationModel(choice.dir);
    this.dropLoadedModel();
    this.loaded = model;
    return model;
  }

  private dropLoadedModel(): void {
    this.loaded?.network.dispose();
    this.loaded = undefined;
  }

  private busyMessage(): string | null {
    if (!this.job) return null;
    return `Lesion Lab: ${this.job.kind === 'segmenting' ? 'Segment Lesion' : 'a fine-tune'} is running; wait for it or cancel it in its notification.`;
  }

  private documentOrComplain(uri: vscode.Uri | undefined, what: string): LabelDocument | undefined {
    const doc = this.host.documentFor(uri);
    if (!doc?.session) {
      const why = doc?.openError ? ` (${doc.openError})` : '';
      void vscode.window.showErrorMessage(`Lesion Lab: open an image in the Lesion Lab editor first, then run ${what}${why}.`);
      return undefined;
    }
    return doc;
  }

  private isOpen(doc: LabelDocument): boolean {
    return this.host.provider.openDocuments.includes(doc);
  }

  // ───────────── Segment Lesion ─────────────

  /** Segment Lesion on `uri`'s document (or the active one). */
  async segmentLesion(uri?: vscode.Uri): Promise<SegmentCommandResult | undefined> {
    const doc = this.documentOrComplain(uri, 'Segment Lesion');
    if (!doc?.session) return undefined;
    const busy = this.busyMessage();
    if (busy) {
      void vscode.window.showWarningMessage(busy);
      return undefined;
    }
    const image = doc.session.image;
    if (image.rgb) {
      void vscode.window.showErrorMessage(`Lesion Lab: ${doc.fileName} is an RGB image; Segment Lesion needs a grey-level volume.`);
      return undefined;
    }
    const settings = this.settings();
    const abort = new AbortController();
    this.job = { kind: 'segmenting', abort };
    this.updateStatusItem();
    const log = this.host.log;
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Lesion Lab: Segment Lesion (${doc.fileName})`, cancellable: true },
        async (progress, token) => {
          const cancelListener = token.onCancellationRequested(() => abort.abort());
          try {
            progress.report({ message: 'starting the backend…' });
            const backend = await this.ensureBackend();
            const choice = await this.activeModel();
            progress.report({ message: `loading model ${choice.version}…` });
            const model = await this.loadModel(choice);
            const { segmentVolume } = await import('../ml/inference');
            if (image.frameCount > 1) log.info(`${doc.fileName}: segmenting frame ${image.frame + 1} of ${image.frameCount}`);
            const t0 = Date.now();
            let shownPercent = 0;
            const seg = await segmentVolume(image, model, {
              threshold: settings.proposalThreshold,
              minLesionMm3: settings.minLesionMm3,
              ttaFlips: settings.testTimeAugmentation ? [[], [0], [1], [2]] : [[]],
              signal: abort.signal,
              onProgress: (done, total) => {
                const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
                progress.report({ message: segmentProgressMessage(done, total), increment: percent - shownPercent });
                shownPercent = percent;
              },
            });
            const seconds = (Date.now() - t0) / 1000;
            if (!this.isOpen(doc)) {
              log.info(`${doc.fileName}: closed while Segment Lesion ran; the proposal is dropped`);
              return undefined;
            }
            const proposal: PendingProposal = {
              modelVersion: choice.version,
              labels: seg.labels,
              threshold: settings.proposalThreshold,
              lesionCount: seg.lesions.length,
            };
            this.proposals.set(doc, proposal);
            this.prompts.forget(doc);
            const provider = this.host.provider;
            // A new proposal replaces both maps of the previous one.
            provider.clearOverlay(doc, 'probability');
            provider.clearOverlay(doc, 'uncertainty');
            if (settings.testTimeAugmentation) {
              provider.showOverlay(doc, {
                type: 'overlay',
                kind: 'uncertainty',
                voxels: float32Buffer(seg.uncertainty),
                range: [0, mapRange(seg.uncertainty)[1]],
                proposal: null,
              });
            }
            provider.showOverlay(doc, {
              type: 'overlay',
              kind: 'probability',
              voxels: float32Buffer(seg.probability),
              range: [0, 1],
              proposal: { modelVersion: choice.version, labelValue: PROPOSAL_LABEL_VALUE, threshold: settings.proposalThreshold },
            });
            const lines = lesionReport({
              fileName: doc.fileName,
              modelVersion: choice.version,
              lesions: seg.lesions,
              seconds,
              windowsPredicted: seg.windowsPredicted,
              windowsTotal: seg.windowsTotal,
              threshold: settings.proposalThreshold,
            });
            for (const l of lines) log.info(l);
            const summary = lesionSummary(seg.lesions);
            provider.postToWebviews(doc, { type: 'status', text: `Proposal from model ${choice.version}: ${summary}. Accept or reject it.`, level: 'info' });
            // Not awaited: the command finishes while the notification waits for a click.
            void vscode.window
              .showInformationMessage(`Lesion Lab: model ${choice.version} proposes ${summary} in ${doc.fileName}.`, 'Accept', 'Reject')
              .then((pick) => {
                if (pick === 'Accept') return vscode.commands.executeCommand(MODEL_COMMANDS.acceptProposal, doc.uri);
                if (pick === 'Reject') return vscode.commands.executeCommand(MODEL_COMMANDS.rejectProposal, doc.uri);
                return undefined;
              });
            return {
              fileName: doc.fileName,
              modelVersion: choice.version,
              backend: backend.name,
              lesionCount: seg.lesions.length,
              totalVolumeMm3: totalLesionVolumeMm3(seg.lesions),
              seconds,
              windowsTotal: seg.windowsTotal,
              windowsPredicted: seg.windowsPredicted,
            };
          } finally {
            cancelListener.dispose();
          }
        },
      );
    } catch (err) {
      if (isCancellation(err, abort.signal)) {
        log.info(`${doc.fileName}: Segment Lesion cancelled`);
        void vscode.window.showInformationMessage('Lesion Lab: Segment Lesion cancelled; the labels are unchanged.');
        return undefined;
      }
      const text = err instanceof NoModelError ? err.message : `Segment Lesion failed on ${doc.fileName}: ${errorText(err)}`;
      log.error(text);
      void vscode.window.showErrorMessage(`Lesion Lab: ${text}`);
      return undefined;
    } finally {
      this.job = null;
      this.updateStatusItem();
    }
  }

  // ───────────── hooks for the Cases view (src/editor/caseCommands.ts) ─────────────

  /**
   * Runs `body` as the one model job (Segment All Unreviewed), with the backend started and the
   * active model loaded. Returns undefined, after a warning, when another model job runs.
   */
  async runSegmentationJob<T>(abort: AbortController, body: (engine: SegmentationEngine) => Promise<T>): Promise<T | undefined> {
    const busy = this.busyMessage();
    if (busy) {
      void vscode.window.showWarningMessage(busy);
      return undefined;
    }
    this.job = { kind: 'segmenting', abort };
    this.updateStatusItem();
    try {
      const backend = await this.ensureBackend();
      const choice = await this.activeModel();
      const model = await this.loadModel(choice);
      return await body({ model, modelVersion: choice.version, backendName: backend.name, settings: this.settings() });
    } finally {
      this.job = null;
      this.updateStatusItem();
    }
  }

  /** Shows a proposal saved beside the image (Segment All Unreviewed) on `doc`, ready to Accept. */
  offerSavedProposal(doc: LabelDocument, saved: SavedProposalView): void {
    this.proposals.set(doc, { modelVersion: saved.modelVersion, labels: saved.labels, threshold: saved.threshold, lesionCount: saved.lesionCount });
    this.prompts.forget(doc);
    const provider = this.host.provider;
    provider.clearOverlay(doc, 'probability');
    provider.clearOverlay(doc, 'uncertainty');
    if (saved.uncertainty) {
      provider.showOverlay(doc, { type: 'overlay', kind: 'uncertainty', voxels: float32Buffer(saved.uncertainty), range: [0, mapRange(saved.uncertainty)[1]], proposal: null });
    }
    provider.showOverlay(doc, {
      type: 'overlay',
      kind: 'probability',
      voxels: float32Buffer(saved.probability),
      range: [0, 1],
      proposal: { modelVersion: saved.modelVersion, labelValue: PROPOSAL_LABEL_VALUE, threshold: saved.threshold },
    });
    const text = `Proposal from model ${saved.modelVersion} (saved by Segment All Unreviewed): ${saved.lesionCount} lesion${saved.lesionCount === 1 ? '' : 's'}. Accept or reject it.`;
    provider.postToWebviews(doc, { type: 'status', text, level: 'info' });
    this.host.log.info(`${doc.fileName}: ${text}`);
  }

  /** Whether `doc` shows a model proposal waiting for Accept or Reject. */
  hasPendingProposal(doc: LabelDocument): boolean {
    return this.proposals.has(doc);
  }

  // ───────────── Accept / Reject ─────────────

  /** Accept Lesion Proposal: writes the proposal as label 1 (locked labels kept) in one undoable edit. */
  async acceptProposal(uri?: vscode.Uri): Promise<AcceptCommandResult | undefined> {
    const doc = this.documentOrComplain(uri, 'Accept Lesion Proposal');
    if (!doc?.session) return undefined;
    if (this.prompts.hasProposal(doc)) {
      // The Prompt tool's object goes into the label and policy it was prompted with.
      try {
        const r = this.prompts.accept(doc);
        return r && { modelVersion: PROMPT_PROPOSAL_SOURCE, addedVoxels: r.addedVoxels, replacedVoxels: r.replacedVoxels, lockedVoxels: r.lockedVoxels };
      } catch (err) {
        this.host.log.error(`${doc.fileName}: accepting the prompt proposal failed: ${errorText(err)}`);
        void vscode.window.showErrorMessage(`Lesion Lab: the prompt proposal could not be accepted: ${errorText(err)}`);
        return undefined;
      }
    }
    const pending = this.proposals.get(doc);
    if (!pending) {
      void vscode.window.showWarningMessage(`Lesion Lab: there is no lesion proposal on ${doc.fileName}; run Segment Lesion first.`);
      return undefined;
    }
    try {
      const result = proposalDelta(doc.labels, pending.labels, {
        labelValue: PROPOSAL_LABEL_VALUE,
        lockedValues: lockedLabelValues(doc.session.model.labelTable),
      });
      const changed = result.addedVoxels + result.replacedVoxels;
      if (changed > 0) doc.recordProposal(pending.modelVersion, result.delta, `Accept lesion proposal (model ${pending.modelVersion})`);
      // Kept for the correction effort measured when the mask is saved (src/dataset/review.ts).
      doc.session.acceptedProposal = { modelVersion: pending.modelVersion, labels: pending.labels };
      this.proposals.delete(doc);
      this.host.provider.clearOverlay(doc, 'probability');
      this.host.provider.clearOverlay(doc, 'uncertainty');
      const locked = result.lockedVoxels > 0 ? `; ${result.lockedVoxels} voxels of locked labels kept` : '';
      const replaced = result.replacedVoxels > 0 ? ` (${result.replacedVoxels} of them from other labels)` : '';
      const text =
        changed > 0
          ? `accepted the proposal of model ${pending.modelVersion}: ${changed} voxels set to label ${PROPOSAL_LABEL_VALUE}${replaced}${locked}`
          : `the proposal of model ${pending.modelVersion} changes no voxel (${pending.lesionCount} lesions, all already labelled or locked)${locked}`;
      this.host.log.info(`${doc.fileName}: ${text}`);
      this.host.provider.postToWebviews(doc, { type: 'status', text: text[0].toUpperCase() + text.slice(1), level: 'info' });
      return { modelVersion: pending.modelVersion, addedVoxels: result.addedVoxels, replacedVoxels: result.replacedVoxels, lockedVoxels: result.lockedVoxels };
    } catch (err) {
      // Read-only documents and out-of-sync labels: nothing changed, the proposal stays.
      this.host.log.error(`${doc.fileName}: Accept Lesion Proposal failed: ${errorText(err)}`);
      void vscode.window.showErrorMessage(`Lesion Lab: the proposal could not be accepted: ${errorText(err)}`);
      return undefined;
    }
  }

  /** Reject Lesion Proposal: removes the proposal and its maps; labels are untouched. */
  rejectProposal(uri?: vscode.Uri): boolean {
    const doc = this.documentOrComplain(uri, 'Reject Lesion Proposal');
    if (!doc?.session) return false;
    if (this.prompts.reject(doc)) return true;
    const had = this.proposals.delete(doc);
    this.host.provider.clearOverlay(doc, 'probability');
    this.host.provider.clearOverlay(doc, 'uncertainty');
    if (had) this.host.log.info(`${doc.fileName}: lesion proposal rejected`);
    return had;
  }

  // ───────────── Fine-tune ─────────────

  /** Fine-tune on Corrected Masks: trains a new version on every reviewed mask in the workspace. */
  async fineTune(): Promise<FineTuneResult | undefined> {
    const log = this.host.log;
    const folder = this.workspaceFolder();
    const store = workspaceStore(folder);
    if (folder === null || store === null) {
      void vscode.window.showErrorMessage(
        'Lesion Lab: Fine-tune needs an open workspace folder: it finds the reviewed masks there and stores the model versions in <folder>/.lesion-lab/models. Open a folder first.',
      );
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      const manage = 'Manage Workspace Trust';
      void vscode.window
        .showWarningMessage(
          'Lesion Lab: Fine-tune is off in Restricted Mode: it reads the masks this workspace points to and writes model versions into it. Trust the workspace to use it.',
          manage,
        )
        .then((pick) => (pick === manage ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
      return undefined;
    }
    const busy = this.busyMessage();
    if (busy) {
      void vscode.window.showWarningMessage(busy);
      return undefined;
    }
    // Claimed before the first await: a second Fine-tune (or Segment Lesion) started while the
    // unsaved-changes question is open must see this one as running.
    const abort = new AbortController();
    this.job = { kind: 'fine-tuning', abort };
    this.updateStatusItem();
    let base: ModelChoice | undefined;
    try {
      const dirty = this.host.provider.openDocuments.filter((d) => d.session?.model.isDirty);
      if (dirty.length > 0) {
        const saveAll = 'Save All and Fine-tune';
        const pick = await vscode.window.showWarningMessage(
          `${dirty.map((d) => d.fileName).join(', ')} ${dirty.length === 1 ? 'has' : 'have'} unsaved label changes. Fine-tuning uses the saved, reviewed masks only.`,
          { modal: true },
          saveAll,
          'Fine-tune on Saved Masks',
        );
        if (pick === undefined) return undefined;
        if (pick === saveAll) await vscode.workspace.saveAll(false);
      }
      const settings = this.settings();
      const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
      const editorSettings = readEditorSettings((key) => vscode.workspace.getConfiguration('lesionLab').get(key)).settings;
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Lesion Lab: Fine-tune on Corrected Masks', cancellable: true },
        async (progress, token) => {
          const cancelListener = token.onCancellationRequested(() => abort.abort());
          try {
            progress.report({ message: 'finding reviewed masks…' });
            const search = await findReviewedTrainingPairs(roots, { maskPattern: editorSettings.maskPattern });
            for (const s of search.skipped) log.warn(`fine-tune: skipping ${displayPath(s.imagePath, roots)}: ${s.reason}`);
            if (search.truncated) log.warn('fine-tune: the workspace has too many files; the search for reviewed masks stopped early');
            if (search.pairs.length === 0) {
              const msg =
                `no reviewed masks found among ${search.imagesSeen} images in the workspace (mask pattern "${editorSettings.maskPattern}"). ` +
                'Open an image in Lesion Lab, correct its labels and save: saving marks the mask reviewed.';
              log.warn(`fine-tune: ${msg}`);
              void vscode.window.showWarningMessage(`Lesion Lab: ${msg}`);
              return undefined;
            }
            log.info(`fine-tune: ${search.pairs.length} reviewed pair(s): ${search.pairs.map((p) => displayPath(p.imagePath, roots)).join(', ')}`);
            base = await this.activeModel();
            progress.report({ message: 'starting the backend…' });
            const backend = await this.ensureBackend();
            const { fineTune } = await import('../ml/training');
            const { unetNetworks } = await import('../ml/inference');
            const budgetS = settings.fineTuneMinutes * 60;
            let shownPercent = 0;
            let lastLoggedEpoch = -1;
            log.info(
              `fine-tune: from model ${base.version} (${base.dir}), loss ${settings.trainingLoss}, budget ${settings.fineTuneMinutes} min, backend ${backend.name}`,
            );
            const result = await fineTune({
              baseModelDir: base.dir,
              pairs: search.pairs.map((p) => ({ imagePath: p.imagePath, maskPath: p.maskPath })),
              store,
              networks: unetNetworks,
              minutes: settings.fineTuneMinutes,
              steps: settings.fineTuneMaxSteps > 0 ? settings.fineTuneMaxSteps : undefined,
              loss: settings.trainingLoss,
              backend: `${backend.name}${backend.simd ? ' (SIMD)' : ''}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}`,
              signal: abort.signal,
              onProgress: (p: TrainingProgress) => {
                const percent = Math.min(99, Math.floor((100 * p.elapsedS) / budgetS));
                progress.report({ message: trainingProgressMessage(p), increment: Math.max(0, percent - shownPercent) });
                shownPercent = Math.max(shownPercent, percent);
                if (p.phase === 'training' && p.epoch !== lastLoggedEpoch && p.valDice !== null) {
                  lastLoggedEpoch = p.epoch;
                  log.info(`fine-tune: ${trainingProgressMessage(p)}`);
                }
              },
            });
            const summary = fineTuneSummary({
              newVersion: result.version.version,
              activated: result.activated,
              previousVersion: base.version,
              validationDiceBefore: result.validationDiceBefore,
              validationDiceAfter: result.validationDiceAfter,
              patchDiceBefore: result.patchDiceBefore,
              patchDiceAfter: result.patchDiceAfter,
              pairCount: search.pairs.length,
              steps: result.steps,
              stoppedBecause: result.stoppedBecause,
              durationS: result.durationS,
            });
            log.info(`fine-tune: ${summary} Stored in ${result.version.dir}`);
            await this.refreshModelStatus();
            void vscode.window.showInformationMessage(`Lesion Lab: ${summary}`, 'Show Model History').then((pick) =>
              pick ? vscode.commands.executeCommand(MODEL_COMMANDS.showModelHistory) : undefined,
            );
            return result;
          } finally {
            cancelListener.dispose();
          }
        },
      );
    } catch (err) {
      const previous = base?.version ?? this.status.modelVersion ?? 'the previous model';
      if (isCancellation(err, abort.signal)) {
        log.info(`fine-tune: cancelled; ${previous} is still the active model`);
        void vscode.window.showInformationMessage(`Lesion Lab: fine-tuning cancelled; model ${previous} is still the active one.`);
        return undefined;
      }
      const text = err instanceof NoModelError ? err.message : `fine-tuning failed: ${errorText(err)}; model ${previous} is still the active one`;
      log.error(`fine-tune: ${text}`);
      void vscode.window.showErrorMessage(`Lesion Lab: ${text}`);
      return undefined;
    } finally {
      this.job = null;
      await this.refreshModelStatus();
    }
  }

  // ───────────── versions ─────────────

  /** Select Model Version: a quick pick of the store's versions with their Dice and date. */
  async selectModelVersion(): Promise<string | undefined> {
    const store = workspaceStore(this.workspaceFolder());
    if (!store) {
      void vscode.window.showErrorMessage('Lesion Lab: model versions live in the workspace (<folder>/.lesion-lab/models); open a folder first.');
      return undefined;
    }
    const history = await store.history();
    if (history.length === 0) {
      let starter: string;
      try {
        starter = `the starter model (${(await this.activeModel()).version})`;
      } catch {
        starter = 'no model (the starter model is missing)';
      }
      void vscode.window.showInformationMessage(`Lesion Lab: no fine-tuned versions in this workspace yet; ${starter} is in use.`);
      return undefined;
    }
    const items = versionPickItems(history);
    const picked = await vscode.window.showQuickPick(items, { title: 'Lesion Lab: active model version', placeHolder: 'Pick the model that Segment Lesion and Fine-tune start from' });
    if (!picked) return undefined;
    if (this.busyMessage()) {
      void vscode.window.showWarningMessage(this.busyMessage()!);
      return undefined;
    }
    try {
      await store.setActive(picked.version);
    } catch (err) {
      void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
      return undefined;
    }
    this.host.log.info(`model ${picked.version} is now active (${store.root})`);
    await this.refreshModelStatus();
    return picked.version;
  }

  /** Show Model History: a Markdown preview of every version (and a summary in the output channel). */
  async showModelHistory(): Promise<string> {
    const store = workspaceStore(this.workspaceFolder());
    const history = store ? await store.history() : [];
    let starter: Awaited<ReturnType<typeof readCard>> | null;
    try {
      starter = await readCard(this.findStarter());
    } catch {
      starter = null;
    }
    this.historyText = modelHistoryMarkdown(history, { storeRoot: store?.root ?? null, starter });
    if (this.historyAppendix) {
      try {
        this.historyText += await this.historyAppendix();
      } catch (err) {
        this.host.log.warn(`model history: the correction effort could not be read: ${errorText(err)}`);
      }
    }
    const log = this.host.log;
    log.info(`model history (${history.length} version${history.length === 1 ? '' : 's'}${store ? ` in ${store.root}` : ''}):`);
    for (const item of versionPickItems(history)) log.info(`  ${item.version}: ${item.description} · ${item.detail}`);
    if (starter) log.info(`  starter model ${starter.version} (shipped)`);
    const uri = vscode.Uri.from({ scheme: HISTORY_SCHEME, path: '/Lesion Lab model history.md' });
    this.historyChanged.fire(uri);
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch {
      // Without the Markdown extension: show the Markdown source.
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: true });
    }
    return this.historyText;
  }

  dispose(): void {
    this.job?.abort.abort();
    this.dropLoadedModel();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function asUri(value: unknown): vscode.Uri | undefined {
  return value instanceof vscode.Uri ? value : undefined;
}
