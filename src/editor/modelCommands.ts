// The model commands of the editor: Segment Lesion, Accept / Reject Lesion Proposal, Fine-tune on
// Corrected Masks, Select Model (a workspace version or a shipped starter), Show Model History, and the status bar item. This module
// registers them and wires the parts together: modelRuntime.ts (backend, model cache, one-job
// lock), segmentCommand.ts, proposalStore.ts, fineTuneCommand.ts, modelVersions.ts and
// modelStatusBar.ts.

import * as vscode from 'vscode';
import type { FineTuneResult } from '../ml/training';
import type { LabelDocument } from './labelDocument';
import { fineTune } from './fineTuneCommand';
import { ModelRuntime, type ModelCommandHost, type SegmentationEngine } from './modelRuntime';
import { ModelStatusBar } from './modelStatusBar';
import { ModelVersions } from './modelVersions';
import { ProposalStore, type AcceptCommandResult, type SavedProposalView } from './proposalStore';
import type { PromptSegmenter } from './promptCommand';
import { segmentLesion, type SegmentCommandResult } from './segmentCommand';
import type { StarterSuggestion } from '../ml/starterModels';
import type { VolumeInput } from '../ml/inference';

/** Command ids, as contributed in package.json. */
export const MODEL_COMMANDS = {
  segmentLesion: 'lesionLab.segmentLesion',
  acceptProposal: 'lesionLab.acceptProposal',
  rejectProposal: 'lesionLab.rejectProposal',
  fineTune: 'lesionLab.fineTune',
  selectModelVersion: 'lesionLab.selectModelVersion',
  showModelHistory: 'lesionLab.showModelHistory',
} as const;

/**
 * Registers the model commands and the status bar item.
 * @returns the controller (disposed with the extension).
 */
export function registerModelCommands(context: vscode.ExtensionContext, host: ModelCommandHost): ModelCommands {
  const commands = new ModelCommands(context, host);
  context.subscriptions.push(commands);
  return commands;
}

/** The model commands' parts, and the hooks the Cases view (caseCommands.ts) uses. */
export class ModelCommands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly runtime: ModelRuntime;
  private readonly statusBar: ModelStatusBar;
  private readonly proposals: ProposalStore;
  private readonly versions: ModelVersions;

  constructor(context: vscode.ExtensionContext, host: ModelCommandHost) {
    const c = MODEL_COMMANDS;
    this.statusBar = new ModelStatusBar(host.provider, c.selectModelVersion);
    this.runtime = new ModelRuntime(context, host, () => this.statusBar.update(this.runtime));
    this.proposals = new ProposalStore(this.runtime);
    this.versions = new ModelVersions(this.runtime);
    this.disposables.push(
      this.proposals,
      this.statusBar,
      this.versions,
      vscode.commands.registerCommand(c.segmentLesion, (uri?: unknown) => this.segmentLesion(asUri(uri))),
      vscode.commands.registerCommand(c.acceptProposal, (uri?: unknown) => this.acceptProposal(asUri(uri))),
      vscode.commands.registerCommand(c.rejectProposal, (uri?: unknown) => this.rejectProposal(asUri(uri))),
      vscode.commands.registerCommand(c.fineTune, () => this.fineTune()),
      vscode.commands.registerCommand(c.selectModelVersion, () => this.selectModelVersion()),
      vscode.commands.registerCommand(c.showModelHistory, () => this.showModelHistory()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('lesionLab.backend')) {
          // initBackend switches the global backend: done at the next model command, never mid-job.
          this.runtime.resetBackend();
          host.log.info(`lesionLab.backend changed to "${this.runtime.settings().backend}"; it takes effect with the next model command`);
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refreshModelStatus()),
      host.provider.onDidChangeActiveDocument(() => void this.refreshModelStatus()),
    );
    void this.refreshModelStatus();
  }

  /** The Prompt tool's objects; Accept / Reject act on them first while one is shown. */
  get prompts(): PromptSegmenter {
    return this.proposals.prompts;
  }

  /** More Markdown for Show Model History (the Cases view's correction effort per model version). */
  set historyAppendix(appendix: (() => Promise<string>) | undefined) {
    this.versions.historyAppendix = appendix;
  }

  /** Re-reads which model is active (store pointer or starter) and updates the status bar. */
  refreshModelStatus(): Promise<void> {
    return this.runtime.refreshModelStatus();
  }

  /** Segment Lesion on `uri`'s document (or the active one). */
  segmentLesion(uri?: vscode.Uri): Promise<SegmentCommandResult | undefined> {
    return segmentLesion(this.runtime, this.proposals, MODEL_COMMANDS, uri);
  }

  /** Accept Lesion Proposal: writes the proposal as label 1 (locked labels kept) in one undoable edit. */
  async acceptProposal(uri?: vscode.Uri): Promise<AcceptCommandResult | undefined> {
    return this.proposals.accept(uri);
  }

  /** Reject Lesion Proposal: removes the proposal and its maps; labels are untouched. */
  rejectProposal(uri?: vscode.Uri): boolean {
    return this.proposals.reject(uri);
  }

  /** Fine-tune on Corrected Masks: trains a new version on every reviewed mask in the workspace. */
  fineTune(): Promise<FineTuneResult | undefined> {
    return fineTune(this.runtime, MODEL_COMMANDS.showModelHistory);
  }

  /** Select Model: a quick pick of the store's versions (Dice, date) and the shipped starters (held-out Dice). */
  selectModelVersion(): Promise<string | undefined> {
    return this.versions.selectModelVersion();
  }

  /** Show Model History: a Markdown preview of every version (and a summary in the output channel). */
  showModelHistory(): Promise<string> {
    return this.versions.showModelHistory();
  }

  /** See {@link ModelRuntime.runSegmentationJob}. */
  runSegmentationJob<T>(
    abort: AbortController,
    body: (engine: SegmentationEngine) => Promise<T>,
    suggest?: () => Promise<StarterSuggestion | null>,
  ): Promise<T | undefined> {
    return this.runtime.runSegmentationJob(abort, body, suggest);
  }

  /** See {@link ModelRuntime.suggestStarterLooking}. */
  suggestStarterLooking(image: VolumeInput, fileName: string, signal?: AbortSignal): Promise<StarterSuggestion> {
    return this.runtime.suggestStarterLooking(image, fileName, signal);
  }

  /** Shows a proposal saved beside the image (Segment All Unreviewed) on `doc`, ready to Accept. */
  offerSavedProposal(doc: LabelDocument, saved: SavedProposalView): void {
    this.proposals.offerSaved(doc, saved);
  }

  /** Whether `doc` shows a model proposal waiting for Accept or Reject. */
  hasPendingProposal(doc: LabelDocument): boolean {
    return this.proposals.has(doc);
  }

  dispose(): void {
    this.runtime.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function asUri(value: unknown): vscode.Uri | undefined {
  return value instanceof vscode.Uri ? value : undefined;
}
