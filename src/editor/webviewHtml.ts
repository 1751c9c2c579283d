// The webview's HTML page and its Content Security Policy. Pure (no vscode), so the CSP is tested.

import { randomBytes } from 'node:crypto';

/** A fresh CSP nonce: 128 random bits from the system CSPRNG, base64. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Inputs of {@link webviewHtml}. */
export interface WebviewHtmlInput {
  /** `webview.cspSource`. */
  cspSource: string;
  nonce: string;
  /** asWebviewUri of dist/webview.js. */
  scriptUri: string;
  /** asWebviewUri of media/webview.css. */
  styleUri: string;
  /** Shown instead of the viewer when the file could not be opened (the script is not loaded). */
  errorMessage?: string | null;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * The strict CSP: nothing by default; scripts only with the nonce (no 'unsafe-eval', no
 * inline handlers); styles from the extension or with the nonce; images from the extension,
 * blob: and data: (canvas snapshots); no network.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} blob: data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** The page: a root element `#lesion-lab` and the bundled viewer script (or an error message). */
export function webviewHtml(input: WebviewHtmlInput): string {
  const csp = contentSecurityPolicy(input.cspSource, input.nonce);
  const body = input.errorMessage
    ? `<div class="ll-open-error" role="alert"><h2>Lesion Lab cannot open this file</h2><p>${escapeHtml(input.errorMessage)}</p></div>`
    : `<div id="lesion-lab"></div>\n  <script nonce="${input.nonce}" src="${escapeHtml(input.scriptUri)}"></script>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeHtml(input.styleUri)}" nonce="${input.nonce}">
  <style nonce="${input.nonce}">
    html, body { margin: 0; padding: 0; height: 100%; overflow: hidden; }
    body { background: var(--vscode-editor-background); color: var(--vscode-editor-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
    #lesion-lab { position: absolute; inset: 0; }
    .ll-open-error { padding: 1.5em; }
    .ll-open-error p { color: var(--vscode-errorForeground); white-space: pre-wrap; }
  </style>
  <title>Lesion Lab</title>
</head>
<body>
  ${body}
</body>
</html>`;
}
