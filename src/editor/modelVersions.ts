// Select Model (a quick pick of the workspace's versions and the shipped starter models) and Show
// Model History (a Markdown preview of every version, served by a text document content provider).

import * as vscode from 'vscode';
import { readCard } from '../ml/modelStore';
import { workspaceStore, type ModelChoice } from '../ml/modelChoice';
import { starterPickItems } from '../ml/starterModels';
import type { ModelRuntime } from './modelRuntime';
import { modelHistoryMarkdown, versionPickItems } from '../ml/modelText';
import { errorText } from '../util/errorText';

const HISTORY_SCHEME = 'lesion-lab-history';

/** An entry of Select Model: a workspace version, a shipped starter, or a separator. */
type ModelPickItem = vscode.QuickPickItem & { version?: string; starter?: string };

export class ModelVersions implements vscode.Disposable {
  private historyText = '';
  /** More Markdown for Show Model History (the Cases view's correction effort per model version). */
  historyAppendix: (() => Promise<string>) | undefined;
  private readonly historyChanged = new vscode.EventEmitter<vscode.Uri>();
  private readonly registration: vscode.Disposable;

  constructor(private readonly runtime: ModelRuntime) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(HISTORY_SCHEME, {
      onDidChange: this.historyChanged.event,
      provideTextDocumentContent: () => this.historyText,
    });
  }

  /**
   * Select Model: a quick pick of the workspace store's versions (Dice, date) and of the starter
   * models shipped with the extension (task and modality, held-out Dice). Without a workspace
   * folder only the starters are offered (the choice is then remembered for the window).
   * @returns the version ('v2') or starter ('ms-flair') made active, or undefined.
   */
  async selectModelVersion(): Promise<string | undefined> {
    const store = workspaceStore(this.runtime.workspaceFolder());
    const history = store ? await store.history() : [];
    const starters = await this.runtime.shippedStarters();
    if (history.length === 0 && starters.length === 0) {
      if (!store) {
        void vscode.window.showErrorMessage('Lesion Lab: model versions live in the workspace (<folder>/.lesion-lab/models); open a folder first.');
        return undefined;
      }
      let starter: string;
      try {
        starter = `the starter model (${(await this.runtime.activeModel()).version})`;
      } catch {
        starter = 'no model (the starter model is missing)';
      }
      void vscode.window.showInformationMessage(`Lesion Lab: no fine-tuned versions in this workspace yet; ${starter} is in use.`);
      return undefined;
    }
    let active: ModelChoice | null = null;
    try {
      active = await this.runtime.activeModel();
    } catch {
      // No model runs now: nothing is marked active.
    }
    const doc = this.runtime.host.documentFor();
    const image = doc?.session && !doc.session.image.rgb ? doc.session.image : null;
    const items: ModelPickItem[] = [];
    if (history.length > 0) {
      items.push({ label: 'Fine-tuned in this workspace', kind: vscode.QuickPickItemKind.Separator });
      items.push(...versionPickItems(history));
    }
    if (starters.length > 0) {
      items.push({ label: 'Starter models shipped with Lesion Lab', kind: vscode.QuickPickItemKind.Separator });
      items.push(...starterPickItems(starters, { suggested: image ? (await this.runtime.suggestedStarterSeen(image)).name : null, active: active?.chosen ? active.starterName : null }));
    }
    const placeHolder = store
      ? 'Pick the model that Segment Lesion and Fine-tune start from'
      : 'Pick the starter model that Segment Lesion uses in this window (open a folder to keep fine-tuned versions)';
    const picked = await vscode.window.showQuickPick(items, { title: 'Lesion Lab: active model', placeHolder, matchOnDescription: true });
    if (!picked || (picked.version === undefined && picked.starter === undefined)) return undefined;
    const busy = this.runtime.busyMessage();
    if (busy) {
      void vscode.window.showWarningMessage(busy);
      return undefined;
    }
    try {
      if (picked.version !== undefined) {
        if (!store) return undefined;
        await store.setActive(picked.version);
        this.runtime.host.log.info(`model ${picked.version} is now active (${store.root})`);
      } else if (picked.starter !== undefined) {
        await this.runtime.rememberStarter(picked.starter);
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
      return undefined;
    }
    await this.runtime.refreshModelStatus();
    return picked.version ?? picked.starter;
  }

  /** Show Model History: a Markdown preview of every version (and a summary in the output channel). */
  async showModelHistory(): Promise<string> {
    const store = workspaceStore(this.runtime.workspaceFolder());
    const history = store ? await store.history() : [];
    let starter: Awaited<ReturnType<typeof readCard>> | null;
    try {
      const active = await this.runtime.activeModel();
      starter = active.source === 'starter' ? active.card : await readCard(this.runtime.findStarter());
    } catch {
      starter = null;
    }
    this.historyText = modelHistoryMarkdown(history, { storeRoot: store?.root ?? null, starter });
    if (this.historyAppendix) {
      try {
        this.historyText += await this.historyAppendix();
      } catch (err) {
        this.runtime.host.log.warn(`model history: the correction effort could not be read: ${errorText(err)}`);
      }
    }
    const log = this.runtime.host.log;
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
    this.registration.dispose();
    this.historyChanged.dispose();
  }
}
