// The Lesion Lab activity-bar view and its commands: Open Case, Open Next Case, Mark Reviewed /
// Mark Not Reviewed, Segment All Unreviewed (a cancellable background queue that saves each
// proposal beside its image), Sort, Filter, Refresh; and the hook that shows a saved proposal
// when its case is opened. Thin vscode wiring: states, orders and files live in src/dataset.

import { basename } from 'node:path';
import * as vscode from 'vscode';
import {
  CASE_ORDERS,
  CASE_STATE_TEXT,
  filterCases,
  nextCase,
  parseCaseFilter,
  progressLine,
  scanCases,
  sortCases,
  type CaseInfo,
  type CaseOrder,
  type CaseScan,
} from '../dataset/cases';
import { correctionEffortMarkdown } from '../dataset/correction';
import type { ExportResult } from '../dataset/export';
import { exportCasesForTraining } from './exportCommand';
import { loadProposal } from '../dataset/proposalFiles';
import { setCaseReviewed } from '../dataset/review';
import type { LabelDocument } from './labelDocument';
import type { ModelCommands } from './modelCommands';
import { errorText } from '../util/errorText';
import type { ModelCommandHost } from './modelRuntime';
import { CasesTreeProvider, type CasesTreeNode } from './casesView';
import { segmentCases, type SegmentAllResult } from './segmentAllCommand';

/** Command ids, as contributed in package.json. */
export const CASE_COMMANDS = {
  openCase: 'lesionLab.openCase',
  openNextCase: 'lesionLab.openNextCase',
  markReviewed: 'lesionLab.markReviewed',
  markNotReviewed: 'lesionLab.markNotReviewed',
  segmentAllUnreviewed: 'lesionLab.segmentAllUnreviewed',
  sortCases: 'lesionLab.sortCases',
  filterCases: 'lesionLab.filterCases',
  clearCaseFilter: 'lesionLab.clearCaseFilter',
  refreshCases: 'lesionLab.refreshCases',
  exportDataset: 'lesionLab.exportDataset',
} as const;

export const CASES_VIEW_ID = 'lesionLab.cases';
const ORDER_KEY = 'lesionLab.casesOrder';
const FILTER_KEY = 'lesionLab.casesFilter';
/** File changes arriving within this time are one refresh (a save writes mask and sidecar). */
const REFRESH_DEBOUNCE_MS = 400;

const ORDER_TEXT: Readonly<Record<CaseOrder, string>> = {
  name: 'Name',
  state: 'State (proposal ready, edited, no mask, reviewed)',
  informative: 'Most informative first (highest mean uncertainty inside the proposal)',
};

function isCaseOrder(v: unknown): v is CaseOrder {
  return typeof v === 'string' && (CASE_ORDERS as readonly string[]).includes(v);
}

/** Registers the view and its commands. */
export function registerCaseCommands(context: vscode.ExtensionContext, host: ModelCommandHost, models: ModelCommands): CaseCommands {
  const commands = new CaseCommands(context, host, models);
  context.subscriptions.push(commands);
  return commands;
}

/** State and handlers of the Cases view. */
export class CaseCommands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly tree = new CasesTreeProvider();
  private readonly view: vscode.TreeView<CasesTreeNode>;
  private scan: CaseScan = { cases: [], truncated: false };
  private order: CaseOrder;
  private filterText: string;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private readonly offered = new WeakSet<LabelDocument>();
  private queue: AbortController | null = null;
  /** Folders of running exports, kept out of the scan. */
  readonly excludedFolders = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: ModelCommandHost,
    private readonly models: ModelCommands,
  ) {
    const saved = context.workspaceState.get<unknown>(ORDER_KEY);
    this.order = isCaseOrder(saved) ? saved : 'name';
    const savedFilter = context.workspaceState.get<unknown>(FILTER_KEY);
    this.filterText = typeof savedFilter === 'string' ? savedFilter : '';
    this.view = vscode.window.createTreeView(CASES_VIEW_ID, { treeDataProvider: this.tree, showCollapseAll: true });
    const c = CASE_COMMANDS;
    // Images of every format the Cases view lists, masks (.nii.gz) and sidecars (.json).
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{nii,gz,json,nrrd,nhdr,mha,mhd,mgh,mgz}');
    this.disposables.push(
      this.tree,
      this.view,
      watcher,
      watcher.onDidCreate(() => this.scheduleRefresh()),
      watcher.onDidChange(() => this.scheduleRefresh()),
      watcher.onDidDelete(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('lesionLab.maskPattern')) this.scheduleRefresh();
      }),
      // Brush strokes fire this often: redraw only when the set of unsaved cases changes.
      host.provider.onDidChangeCustomDocument(() => {
        if (this.unsavedKey() !== this.renderedUnsavedKey) this.render();
      }),
      host.provider.onDidChangeActiveDocument((doc) => {
        this.render();
        if (doc) void this.offerSavedProposal(doc);
      }),
      vscode.commands.registerCommand(c.openCase, (arg?: unknown) => this.openCase(arg)),
      vscode.commands.registerCommand(c.openNextCase, () => this.openNextCase()),
      vscode.commands.registerCommand(c.markReviewed, (arg?: unknown) => this.markReviewed(arg, true)),
      vscode.commands.registerCommand(c.markNotReviewed, (arg?: unknown) => this.markReviewed(arg, false)),
      vscode.commands.registerCommand(c.segmentAllUnreviewed, () => this.segmentAllUnreviewed()),
      vscode.commands.registerCommand(c.sortCases, (order?: unknown) => this.sortCases(order)),
      vscode.commands.registerCommand(c.filterCases, (text?: unknown) => this.filterCases(text)),
      vscode.commands.registerCommand(c.clearCaseFilter, () => this.filterCases('')),
      vscode.commands.registerCommand(c.refreshCases, () => this.refresh()),
      vscode.commands.registerCommand(c.exportDataset, () => this.exportDataset()),
    );
    models.historyAppendix = () => this.correctionHistoryMarkdown();
    void this.refresh();
  }

  // ───────────── scanning and rendering ─────────────

  private roots(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Rescans the workspace (one scan at a time; a request during a scan runs one more after it). */
  async refresh(): Promise<CaseInfo[]> {
    if (this.refreshing) {
      this.refreshAgain = true;
      await this.refreshing;
      return this.visibleCases();
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          this.scan = await scanCases(this.roots(), { maskPattern: this.host.provider.currentSettings.maskPattern, excludeFolders: [...this.excludedFolders] });
        } catch (err) {
          this.host.log.error(`Cases view: the workspace could not be scanned: ${errorText(err)}`);
        }
        this.render();
      } while (this.refreshAgain);
    })();
    try {
      await this.refreshing;
    } finally {
      this.refreshing = null;
    }
    return this.visibleCases();
  }

  /** The cases shown, in display order (sorted, filtered, grouped by folder). */
  visibleCases(): CaseInfo[] {
    return this.tree.displayOrder();
  }

  /** Every case found (unfiltered), in scan order. */
  allCases(): CaseInfo[] {
    return this.scan.cases;
  }

  private renderedUnsavedKey = '';

  private unsavedPaths(): Set<string> {
    return new Set(this.host.provider.openDocuments.filter((d) => d.session?.model.isDirty).map((d) => d.uri.fsPath));
  }

  private unsavedKey(): string {
    return [...this.unsavedPaths()].sort().join('\n');
  }

  private render(): void {
    let filtered = this.scan.cases;
    let filterProblem: string | null = null;
    try {
      filtered = filterCases(this.scan.cases, parseCaseFilter(this.filterText));
    } catch (err) {
      filterProblem = errorText(err);
    }
    const unsaved = this.unsavedPaths();
    this.renderedUnsavedKey = [...unsaved].sort().join('\n');
    this.tree.setCases(sortCases(filtered, this.order), unsaved);
    const parts: string[] = [];
    if (this.scan.cases.length > 0) parts.push(progressLine(this.scan.cases));
    if (this.filterText !== '') parts.push(`filter "${this.filterText}": ${filtered.length} shown`);
    if (this.order !== 'name' && this.scan.cases.length > 0) parts.push(`order: ${this.order === 'state' ? 'state' : 'most informative first'}`);
    if (filterProblem) parts.push(filterProblem);
    if (this.scan.truncated) parts.push('the workspace has too many files; the list stopped early');
    this.view.message = parts.length > 0 ? parts.join(' · ') : undefined;
    void vscode.commands.executeCommand('setContext', 'lesionLab.casesFiltered', this.filterText !== '');
    void vscode.commands.executeCommand('setContext', 'lesionLab.hasCases', this.scan.cases.length > 0);
  }

  // ───────────── opening cases ─────────────

  private caseFromArg(arg: unknown): CaseInfo | undefined {
    if (arg && typeof arg === 'object' && (arg as CasesTreeNode).kind === 'case') return (arg as { info: CaseInfo }).info;
    const path = arg instanceof vscode.Uri ? arg.fsPath : this.host.provider.activeDocument?.uri.fsPath;
    if (!path) return undefined;
    return this.scan.cases.find((c) => c.imagePath === path);
  }

  async openCase(arg: unknown): Promise<void> {
    const info = this.caseFromArg(arg);
    if (!info) return;
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(info.imagePath), 'lesionLab.editor');
  }

  /** Open Next Case: the next unreviewed case after the active one, in the view's order. */
  async openNextCase(): Promise<CaseInfo | undefined> {
    await this.refresh();
    const current = this.host.provider.activeDocument?.uri.fsPath ?? null;
    const next = nextCase(this.visibleCases(), current);
    if (!next) {
      const all = this.scan.cases.length;
      void vscode.window.showInformationMessage(
        all === 0 ? 'Lesion Lab: there are no NIfTI images in this workspace.' : `Lesion Lab: every case shown is reviewed (${progressLine(this.scan.cases)}).`,
      );
      return undefined;
    }
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(next.imagePath), 'lesionLab.editor');
    const node = this.tree.nodeFor(next.imagePath);
    if (node && this.view.visible) void this.view.reveal(node, { select: true, focus: false });
    return next;
  }

  /** Shows the proposal saved beside the image when a case without a mask is opened. */
  private async offerSavedProposal(doc: LabelDocument): Promise<boolean> {
    const s = doc.session;
    if (!s || this.offered.has(doc) || s.mask.status !== 'new' || s.model.isDirty || this.models.hasPendingProposal(doc)) return false;
    this.offered.add(doc);
    try {
      const saved = await loadProposal(s.image, s.imagePath, s.maskPath);
      if (!saved || s.model.isDirty || this.models.hasPendingProposal(doc)) return false;
      this.models.offerSavedProposal(doc, {
        modelVersion: saved.record.modelVersion,
        labels: saved.labels,
        probability: saved.probability,
        uncertainty: saved.uncertainty,
        threshold: saved.record.threshold,
        lesionCount: saved.lesions.length,
      });
      return true;
    } catch (err) {
      this.host.log.warn(`${doc.fileName}: the saved proposal cannot be shown: ${errorText(err)}`);
      return false;
    }
  }

  // ───────────── review state ─────────────

  /** Mark Reviewed / Mark Not Reviewed on a case (view item, editor uri, or the active document). */
  async markReviewed(arg: unknown, reviewed: boolean): Promise<boolean> {
    const info = this.caseFromArg(arg) ?? (await this.refresh(), this.caseFromArg(arg));
    const what = reviewed ? 'Mark Reviewed' : 'Mark Not Reviewed';
    if (!info) {
      void vscode.window.showErrorMessage(`Lesion Lab: ${what} needs a case: pick one in the Lesion Lab view or open an image in the editor.`);
      return false;
    }
    const doc = this.host.provider.openDocuments.find((d) => d.uri.fsPath === info.imagePath);
    try {
      if (reviewed && doc?.session && (doc.session.model.isDirty || doc.session.mask.status === 'new')) {
        // Saving writes the mask with `reviewed: true` and measures the correction effort.
        const saved = await vscode.workspace.save(doc.uri);
        if (!saved) {
          void vscode.window.showWarningMessage(`Lesion Lab: ${info.fileName} was not saved, so it is not marked reviewed.`);
          return false;
        }
      } else {
        const correction = await setCaseReviewed(info.imagePath, info.maskPath, reviewed);
        if (correction) {
          this.host.log.info(`${info.fileName}: correction of model ${correction.modelVersion}'s proposal: Dice ${correction.dice.toFixed(3)}, +${correction.addedVoxels} / −${correction.removedVoxels} voxels`);
        }
        if (!reviewed && doc?.session?.model.isDirty) {
          void vscode.window.showInformationMessage(`Lesion Lab: ${info.fileName} has unsaved changes; saving it marks it reviewed again.`);
        }
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
      return false;
    }
    this.host.log.info(`${info.fileName}: marked ${reviewed ? 'reviewed' : 'not reviewed'}`);
    await this.refresh();
    return true;
  }

  // ───────────── Segment All Unreviewed ─────────────

  /**
   * Segments every case without a mask (and every proposal from another model version) in the
   * view's order, saving each proposal beside its image. Cancelling keeps the proposals saved so
   * far; running it again resumes with the rest. Cases with a mask or unsaved edits are skipped.
   */
  async segmentAllUnreviewed(): Promise<SegmentAllResult | undefined> {
    if (this.queue) {
      void vscode.window.showWarningMessage('Lesion Lab: Segment All Unreviewed is already running; cancel it in its notification.');
      return undefined;
    }
    await this.refresh();
    const abort = new AbortController();
    this.queue = abort;
    const log = this.host.log;
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Lesion Lab: Segment All Unreviewed', cancellable: true },
        async (progress, token) => {
          const listener = token.onCancellationRequested(() => abort.abort());
          try {
            progress.report({ message: 'starting the backend…' });
            const first = this.visibleCases()[0];
            return await this.models.runSegmentationJob(
              abort,
              (engine) =>
                segmentCases(engine, this.visibleCases(), {
                  host: this.host,
                  abort,
                  progress,
                  refresh: () => void this.refresh(),
                  offer: (doc) => void this.offerSavedProposal(doc),
                }),
              // Without a chosen model, the starter suggested for the first case is offered first.
              async () => (first ? this.models.suggestStarterLooking(await (await import('../nifti')).readNifti(first.imagePath), basename(first.imagePath), abort.signal) : null),
            );
          } finally {
            listener.dispose();
          }
        },
      );
    } catch (err) {
      log.error(`Segment All Unreviewed failed: ${errorText(err)}`);
      void vscode.window.showErrorMessage(`Lesion Lab: Segment All Unreviewed failed: ${errorText(err)}`);
      return undefined;
    } finally {
      this.queue = null;
      await this.refresh();
    }
  }

  // ───────────── order and filter ─────────────

  async sortCases(order?: unknown): Promise<CaseOrder | undefined> {
    let chosen: CaseOrder | undefined = isCaseOrder(order) ? order : undefined;
    if (!chosen) {
      const picked = await vscode.window.showQuickPick(
        CASE_ORDERS.map((o) => ({ label: ORDER_TEXT[o], order: o, picked: o === this.order, description: o === this.order ? 'current' : undefined })),
        { title: 'Lesion Lab: order the cases' },
      );
      chosen = picked?.order;
    }
    if (!chosen) return undefined;
    this.order = chosen;
    await this.context.workspaceState.update(ORDER_KEY, chosen);
    this.render();
    return chosen;
  }

  async filterCases(text?: unknown): Promise<string | undefined> {
    let value: string | undefined = typeof text === 'string' ? text : undefined;
    if (value === undefined) {
      value = await vscode.window.showInputBox({
        title: 'Lesion Lab: filter the cases',
        value: this.filterText,
        prompt: `Words to find in the path, and is:proposal, is:edited, is:reviewed, is:no-mask or is:unreviewed (states: ${Object.values(CASE_STATE_TEXT).join(', ')})`,
        validateInput: (v) => {
          try {
            parseCaseFilter(v);
            return undefined;
          } catch (err) {
            return errorText(err);
          }
        },
      });
    }
    if (value === undefined) return undefined;
    this.filterText = value.trim();
    await this.context.workspaceState.update(FILTER_KEY, this.filterText);
    this.render();
    return this.filterText;
  }

  // ───────────── export ─────────────

  /** Export for Training: the workspace's labelled cases in the nnU-Net v2 or MSD layout. */
  exportDataset(): Promise<ExportResult | undefined> {
    return exportCasesForTraining(this.roots(), this.host);
  }

  // ───────────── model history ─────────────

  /** The "Correction effort" section of Show Model History. */
  async correctionHistoryMarkdown(): Promise<string> {
    await this.refresh();
    return correctionEffortMarkdown(this.scan.cases.filter((c) => c.state === 'reviewed' && c.correction).map((c) => c.correction!));
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.queue?.abort();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
