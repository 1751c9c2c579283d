// Bundles the extension host (Node, CommonJS), the CLI and the webview (browser) with esbuild,
// copies the TensorFlow.js wasm binaries and the DICOM codecs' next to the host bundles so they
// are found without node_modules, and copies the codicons font into media/ for the webview.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // tfjs-node is optional and native: resolved at run time if it installed.
  external: ['vscode', '@tensorflow/tfjs-node'],
};

await build({ ...nodeCommon, entryPoints: [join(root, 'src/extension.ts')], outfile: join(dist, 'extension.js') });
await build({
  ...nodeCommon,
  entryPoints: [join(root, 'src/cli.ts')],
  outfile: join(dist, 'cli.js'),
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(join(dist, 'cli.js'), 0o755);
await build({
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  entryPoints: [join(root, 'webview/main.ts')],
  outfile: join(dist, 'webview.js'),
});

const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
if (existsSync(wasmDir)) {
  for (const f of readdirSync(wasmDir)) {
    if (f.endsWith('.wasm') || f.endsWith('.worker.js')) copyFileSync(join(wasmDir, f), join(dist, f));
  }
}
// The DICOM JPEG 2000 and HTJ2K decoders' WebAssembly (src/nifti/wasmCodecs.ts looks beside the bundle first).
for (const [pkg, file] of [
  ['@cornerstonejs/codec-openjpeg', 'openjpegwasm_decode.wasm'],
  ['@cornerstonejs/codec-openjph', 'openjphjs.wasm'],
]) {
  const from = join(root, 'node_modules', pkg, 'dist', file);
  if (existsSync(from)) copyFileSync(from, join(dist, file));
  else console.warn(`esbuild: ${pkg} is not installed; DICOM JPEG 2000 / HTJ2K series will be refused (npm ci installs it)`);
}
// The webview's icon font (VS Code's codicons) is served from media/ under the webview's CSP.
const codiconFont = join(root, 'node_modules/@vscode/codicons/dist/codicon.ttf');
if (existsSync(codiconFont)) copyFileSync(codiconFont, join(root, 'media/codicon.ttf'));
else console.warn('esbuild: @vscode/codicons is not installed; the webview toolbar shows no icons (npm ci installs it)');
if (watch) console.log('esbuild: --watch is not supported; rerun npm run build');
