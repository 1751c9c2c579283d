import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../src/editor/webviewHtml';

test('webview HTML: strict CSP with a fresh nonce, no eval, scripts only by nonce', () => {
  const n1 = makeNonce();
  const n2 = makeNonce();
  assert.notEqual(n1, n2);
  assert.ok(Buffer.from(n1, 'base64').length === 16);
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', n1);
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, new RegExp(`script-src 'nonce-${n1.replace(/[+/]/g, (c) => `\\${c}`)}'$`));
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline/);
  assert.match(csp, /style-src https:\/\/x\.vscode-cdn\.net 'nonce-/);
  const html = webviewHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: n1, scriptUri: 'https://x/dist/webview.js', styleUri: 'https://x/media/webview.css' });
  assert.match(html, new RegExp(`<script nonce="${n1.replace(/[+/]/g, (c) => `\\${c}`)}" src="https://x/dist/webview.js"></script>`));
  assert.match(html, /<div id="lesion-lab"><\/div>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  const err = webviewHtml({ cspSource: 'c', nonce: n1, scriptUri: 's', styleUri: 't', errorMessage: 'bad.nii.gz: image data is <short>' });
  assert.doesNotMatch(err, /<script/);
  assert.match(err, /bad\.nii\.gz: image data is &lt;short&gt;/);
});
