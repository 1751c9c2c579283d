// Select Model Version (a quick pick of the workspace's versions) and Show Model History (a
// Markdown preview of every version, served by a text document content provider).

import * as vscode from 'vscode';
import { readCard } from '../ml/modelStore';
import { workspaceStore } from '../ml/modelChoice';
import type { ModelRuntime } from './modelRuntime';
import { modelHistoryMarkdown, versionPickItems } from '../ml/modelText';
import { errorText } from '../util/errorText';

const HISTORY_SCHEME = 'lesion-lab-history';

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

  /** Select Model Version: a quick pick of the store's versions with their Dice and date. */
  async selectModelVersion(): Promise<string | undefined> {
    const store = workspaceStore(this.runtime.workspaceFolder());
    if (!store) {
      void vscode.window.showErrorMessage('Lesion Lab: model versions live in the workspace (<folder>/.lesion-lab/models); open a folder first.');
      return undefined;
    }
    const history = await store.history();
    if (history.length === 0) {
      let starter: string;
      try {
        starter = `the starter model (${(await this.runtime.activeModel()).version})`;
      } catch {
        starter = 'no model (the starter model is missing)';
      }
      void vscode.window.showInformationMessage(`Lesion Lab: no fine-tuned versions in this workspace yet; ${starter} is in use.`);
      return undefined;
    }
    const items = versionPickItems(history);
    const picked = await vscode.window.showQuickPick(items, { title: 'Lesion Lab: active model version', placeHolder: 'Pick the model that Segment Lesion and Fine-tune start from' });
    if (!picked) return undefined;
    const busy = this.runtime.busyMessage();
    if (busy) {
      void vscode.window.showWarningMessage(busy);
      return undefined;
    }
    try {
      await store.setActive(picked.version);
    } catch (err) {
      void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
      return undefined;
    }
    this.runtime.host.log.info(`model ${picked.version} is now active (${store.root})`);
    await this.runtime.refreshModelStatus();
    return picked.version;
  }

  /** Show Model History: a Markdown preview of every version (and a summary in the output channel). */
  async showModelHistory(): Promise<string> {
    const store = workspaceStore(this.runtime.workspaceFolder());
    const history = store ? await store.history() : [];
    let starter: Awaited<ReturnType<typeof readCard>> | null;
    try {
      starter = await readCard(this.runtime.findStarter());
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
