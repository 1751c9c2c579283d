// What every model command shares: the TensorFlow.js backend, the loaded model (one cached at a
// time), the active-model choice, the settings, and the one-job lock.
//
// The active model is what the workspace store's active.json points at: one of its versions or a
// shipped starter (`{"starter": "ms-flair"}`); in a window without a workspace folder a chosen
// starter is remembered in the workspace state instead. While nothing is chosen, the first model
// command that needs a model asks which shipped starter fits (starterPick.ts) and remembers it.
//
// The engine (TensorFlow.js) is imported lazily, on the first model command, so opening an image
// does not pay for loading it. One model job runs at a time because the backend is global state.

import * as vscode from 'vscode';
import type { BackendInfo } from '../ml/backend';
import type { LoadedModel, VolumeInput } from '../ml/inference';
import type { LabelDocument } from './labelDocument';
import type { LesionLabEditorProvider } from './provider';
import { chooseActiveModel, chosenStarter, workspaceStore, type ModelChoice, type StarterLocator } from '../ml/modelChoice';
import { readModelSettings, type ModelSettings } from '../settings/modelSettings';
import type { ModelStatus } from '../ml/modelText';
import { findModelsDir } from '../ml/modelStore';
import { listShippedStarters, shippedStarterLocator, type ShippedStarter, type StarterSuggestion } from '../ml/starterModels';
import { askForStarter } from './starterPick';
import { errorText } from '../util/errorText';

/** workspaceState key of the starter chosen in a window without a workspace folder (no model store). */
export const REMEMBERED_STARTER_KEY = 'lesionLab.chosenStarter';

/** What the model commands need from the extension (a subset of `LesionLabApi`). */
export interface ModelCommandHost {
  provider: LesionLabEditorProvider;
  log: vscode.LogOutputChannel;
  documentFor(uri?: vscode.Uri): LabelDocument | undefined;
}

/** What a model job of the Cases view gets: the loaded active model and the settings. */
export interface SegmentationEngine {
  model: LoadedModel;
  modelVersion: string;
  backendName: string;
  settings: ModelSettings;
}

/** The running model job, if any. */
export interface ModelJob {
  kind: 'segmenting' | 'fine-tuning';
  abort: AbortController;
}

/** Whether `err` ended a job because the user cancelled it. */
export function isCancellation(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof Error && (err.name === 'TrainingCancelledError' || err.name === 'AbortError'));
}

/** Backend, model cache and job lock of the model commands. */
export class ModelRuntime implements vscode.Disposable {
  private backendPromise: Promise<BackendInfo> | undefined;
  private backendInfo: BackendInfo | undefined;
  private loaded: LoadedModel | undefined;
  private currentJob: ModelJob | null = null;
  /** The last model-choice warning shown, so the same one is not shown on every refresh. */
  private shownModelWarning: string | null = null;
  readonly status: ModelStatus & { modelSource: string | null } = { backendName: null, modelVersion: null, modelSource: null, chosen: true };
  /** The starter models shipped with the extension. */
  readonly starters: StarterLocator;
  /** What {@link suggestStarterLooking} found, per image. */
  private readonly lookedSuggestions = new WeakMap<VolumeInput, StarterSuggestion>();

  /** @param onStateChange called when the backend, the active model or the job changes (the status bar). */
  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly host: ModelCommandHost,
    private readonly onStateChange: () => void,
  ) {
    this.starters = shippedStarterLocator(context.extensionUri.fsPath);
  }

  /** The extension's folder (media/models lies under it). */
  get extensionRoot(): string {
    return this.context.extensionUri.fsPath;
  }

  get job(): ModelJob | null {
    return this.currentJob;
  }

  get backendReason(): string | null {
    return this.backendInfo?.reason ?? null;
  }

  settings(): ModelSettings {
    const config = vscode.workspace.getConfiguration('lesionLab');
    const { settings, problems } = readModelSettings((key) => config.get(key));
    for (const p of problems) this.host.log.warn(p);
    return settings;
  }

  /** The first workspace folder on disk, or null. */
  workspaceFolder(): string | null {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    return folder ? folder.uri.fsPath : null;
  }

  /** The default starter folder (media/models/starter); throws when it is missing. */
  findStarter = (): string => this.starters.defaultDir();

  /** The starter chosen in a window without a workspace folder, or null. */
  private rememberedStarter(): string | null {
    const value = this.context.workspaceState.get<unknown>(REMEMBERED_STARTER_KEY);
    return typeof value === 'string' ? value : null;
  }

  /**
   * The active model (see the top of this file); `chosen` is false while it is only the default
   * starter because nothing was chosen.
   */
  async activeModel(): Promise<ModelChoice> {
    const store = workspaceStore(this.workspaceFolder());
    const choice = await chooseActiveModel(store, this.starters, store ? null : this.rememberedStarter());
    if (choice.warning && choice.warning !== this.shownModelWarning) {
      this.host.log.warn(choice.warning);
      void vscode.window.showWarningMessage(`Lesion Lab: ${choice.warning}.`);
    }
    this.shownModelWarning = choice.warning;
    return choice;
  }

  /** The task starters shipped with the extension (a card that cannot be read is logged and left out). */
  async shippedStarters(): Promise<ShippedStarter[]> {
    const models = findModelsDir(this.context.extensionUri.fsPath);
    if (!models) return [];
    const { starters, problems } = await listShippedStarters(models);
    for (const p of problems) this.host.log.warn(`starter models: ${p}`);
    return starters;
  }

  /**
   * Makes the shipped starter `name` the active model: in the workspace store's active.json, or
   * without a workspace folder in the workspace state.
   * @throws the store's error when active.json cannot be written.
   */
  async rememberStarter(name: string): Promise<void> {
    const store = workspaceStore(this.workspaceFolder());
    if (store) await store.setActiveStarter(name);
    else await this.context.workspaceState.update(REMEMBERED_STARTER_KEY, name);
    this.host.log.info(`starter model ${name} is now active (${store ? store.activePath : 'remembered for this window'})`);
  }

  /**
   * The starter suggested for `image`: by its grid and intensities (suggestStarter), and for a
   * whole-brain MR after the brain-tumour starter has looked for a tumour in it
   * (src/ml/brainTumourCheck.ts: a few seconds, under a notification). Remembered per image, for
   * Select Model's "suggested".
   */
  async suggestStarterLooking(image: VolumeInput, fileName: string, signal?: AbortSignal): Promise<StarterSuggestion> {
    const seen = this.lookedSuggestions.get(image);
    if (seen) return seen;
    const { suggestStarter } = await import('../ml/starterModels');
    const { brainTumourCheckDir, starterForImageContent } = await import('../ml/brainTumourCheck');
    const quick = suggestStarter(image);
    const root = this.extensionRoot;
    if (!brainTumourCheckDir(quick.name, root)) return quick;
    const suggestion = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Lesion Lab: looking at ${fileName} to suggest a starter model (a brain tumour, or MS lesions?)` },
      async () => {
        await this.ensureBackend();
        const { task, reason } = await starterForImageContent(image, { from: root, signal });
        return { name: task, reason };
      },
    );
    this.host.log.info(`${fileName}: ${suggestion.name} suggested (${suggestion.reason})`);
    this.lookedSuggestions.set(image, suggestion);
    return suggestion;
  }

  /** The suggestion {@link suggestStarterLooking} made for `image`, else the one by its grid and intensities alone. */
  async suggestedStarterSeen(image: VolumeInput): Promise<StarterSuggestion> {
    return this.lookedSuggestions.get(image) ?? (await import('../ml/starterModels')).suggestStarter(image);
  }

  /**
   * The model `what` runs with. While nothing is chosen (a workspace without a model), asks which
   * shipped starter fits, the one suggested for the image first, and remembers the answer; later
   * calls use it without asking.
   * @param suggest - the starter that suits the image(s) at hand, or null when there is none to look at.
   * @returns undefined when the question was dismissed (after a message saying `what` was cancelled).
   */
  async modelToRun(what: string, suggest: () => Promise<StarterSuggestion | null>): Promise<ModelChoice | undefined> {
    const current = await this.activeModel();
    if (current.chosen) return current;
    const starters = await this.shippedStarters();
    if (starters.length === 0) {
      this.host.log.info(`${what}: no task starter models are shipped; the default starter ${current.version} runs`);
      return current;
    }
    let suggestion: StarterSuggestion | null = null;
    try {
      suggestion = await suggest();
    } catch (err) {
      this.host.log.warn(`${what}: no starter suggestion (${errorText(err)})`);
    }
    const picked = await askForStarter(starters, suggestion, what);
    if (picked === undefined) {
      this.host.log.info(`${what}: cancelled, no starter model chosen`);
      void vscode.window.showInformationMessage(`Lesion Lab: ${what} cancelled: no model chosen. Run it again to choose a starter model, or use Lesion Lab: Select Model.`);
      return undefined;
    }
    try {
      await this.rememberStarter(picked);
    } catch (err) {
      const text = `the choice of starter ${picked} could not be remembered (${errorText(err)}); it is used this time`;
      this.host.log.warn(text);
      void vscode.window.showWarningMessage(`Lesion Lab: ${text}.`);
    }
    const choice = await chosenStarter(this.starters, picked);
    await this.refreshModelStatus();
    return choice;
  }

  /** Re-reads which model is active (store pointer or starter) and updates the status bar. */
  async refreshModelStatus(): Promise<void> {
    try {
      const m = await this.activeModel();
      this.status.modelVersion = m.version;
      this.status.chosen = m.chosen;
      this.status.modelSource = !m.chosen
        ? 'no model chosen yet: the first Segment Lesion asks which shipped starter fits'
        : m.source === 'starter'
          ? 'starter model shipped with Lesion Lab'
          : m.dir;
    } catch {
      this.status.modelVersion = null;
      this.status.modelSource = null;
      this.status.chosen = true;
    }
    this.onStateChange();
  }

  /** Forgets the backend: `lesionLab.backend` changed; the next model command starts it again. */
  resetBackend(): void {
    this.backendPromise = undefined;
  }

  /** Starts the TensorFlow.js backend once (again after `lesionLab.backend` changed). */
  ensureBackend(): Promise<BackendInfo> {
    if (!this.backendPromise) {
      const preferred = this.settings().backend;
      const started = (async () => {
        const { initBackend } = await import('../ml/backend');
        const info = await initBackend({ preferred });
        this.backendInfo = info;
        this.status.backendName = info.name;
        const line = `backend: ${info.name} (${info.reason})`;
        if (preferred !== 'auto' && info.name !== preferred) {
          this.host.log.warn(`${line}; lesionLab.backend asked for ${preferred}`);
          void vscode.window.showWarningMessage(`Lesion Lab: the ${preferred} backend could not start; using ${info.name}. See the Lesion Lab output for why.`);
        } else {
          this.host.log.info(line);
        }
        this.onStateChange();
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
  async loadModel(choice: ModelChoice): Promise<LoadedModel> {
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

  busyMessage(): string | null {
    if (!this.currentJob) return null;
    return `Lesion Lab: ${this.currentJob.kind === 'segmenting' ? 'Segment Lesion' : 'a fine-tune'} is running; wait for it or cancel it in its notification.`;
  }

  /** Takes the one-job lock, or warns and returns false when another job holds it. */
  claimJob(kind: ModelJob['kind'], abort: AbortController): boolean {
    const busy = this.busyMessage();
    if (busy) {
      void vscode.window.showWarningMessage(busy);
      return false;
    }
    this.currentJob = { kind, abort };
    this.onStateChange();
    return true;
  }

  /** Releases the lock taken by {@link claimJob}. */
  releaseJob(): void {
    this.currentJob = null;
    this.onStateChange();
  }

  /**
   * Runs `body` as the one model job (Segment All Unreviewed), with the backend started and the
   * active model loaded (asked for, with `suggest`'s starter first, when none is chosen). Returns
   * undefined, after a message, when another model job runs or the question was dismissed.
   */
  async runSegmentationJob<T>(
    abort: AbortController,
    body: (engine: SegmentationEngine) => Promise<T>,
    suggest: () => Promise<StarterSuggestion | null> = () => Promise.resolve(null),
  ): Promise<T | undefined> {
    if (!this.claimJob('segmenting', abort)) return undefined;
    try {
      const choice = await this.modelToRun('Segment All Unreviewed', suggest);
      if (!choice) return undefined;
      const backend = await this.ensureBackend();
      const model = await this.loadModel(choice);
      return await body({ model, modelVersion: choice.version, backendName: backend.name, settings: this.settings() });
    } finally {
      this.releaseJob();
    }
  }

  /** The document of `uri` (or the active one) with a session, or undefined after an error message. */
  documentOrComplain(uri: vscode.Uri | undefined, what: string): LabelDocument | undefined {
    const doc = this.host.documentFor(uri);
    if (!doc?.session) {
      const why = doc?.openError ? ` (${doc.openError})` : '';
      void vscode.window.showErrorMessage(`Lesion Lab: open an image in the Lesion Lab editor first, then run ${what}${why}.`);
      return undefined;
    }
    return doc;
  }

  isOpen(doc: LabelDocument): boolean {
    return this.host.provider.openDocuments.includes(doc);
  }

  dispose(): void {
    this.currentJob?.abort.abort();
    this.dropLoadedModel();
  }
}
