// The status bar item "$(beaker) wasm · model v2": backend, active model and running job.
// Shown while a job runs or a Lesion Lab editor is open; a click picks the model version.

import * as vscode from 'vscode';
import type { LesionLabEditorProvider } from './provider';
import type { ModelRuntime } from './modelRuntime';
import { statusBarText, statusBarTooltip } from '../ml/modelText';

export class ModelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  /** @param command the command run on click (Select Model). */
  constructor(
    private readonly provider: LesionLabEditorProvider,
    command: string,
  ) {
    this.item = vscode.window.createStatusBarItem('lesionLab.model', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Lesion Lab model';
    this.item.command = command;
  }

  /** Shows the state of `runtime`. */
  update(runtime: ModelRuntime): void {
    const s = { ...runtime.status, busy: runtime.job?.kind ?? null };
    this.item.text = statusBarText(s);
    this.item.tooltip = statusBarTooltip({ ...s, backendReason: runtime.backendReason });
    if (runtime.job || this.provider.openDocuments.length > 0) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
