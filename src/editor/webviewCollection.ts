import type * as vscode from 'vscode';

/** Tracks the webview panels of each document; closed panels drop out. */
export class WebviewCollection {
  private readonly webviews = new Set<{ readonly resource: string; readonly panel: vscode.WebviewPanel }>();

  /** All live panels for `uri`. */
  *get(uri: vscode.Uri): Iterable<vscode.WebviewPanel> {
    const key = uri.toString();
    for (const entry of this.webviews) if (entry.resource === key) yield entry.panel;
  }

  /** Adds a panel; it is removed when disposed. */
  add(uri: vscode.Uri, panel: vscode.WebviewPanel): void {
    const entry = { resource: uri.toString(), panel };
    this.webviews.add(entry);
    panel.onDidDispose(() => this.webviews.delete(entry));
  }
}
