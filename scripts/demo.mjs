#!/usr/bin/env node
// `npm run demo [-- <folder>] [--port N] [--fresh] [--dev] [--no-build]`: Lesion Lab in a real VS Code in the browser.
// Installs code-server on first use into .vscode-test/ (ignored; not an extension dependency),
// builds and packages the extension, installs it into a demo profile, opens a workspace of real
// volumes from ../shared/data (or a generated phantom, or your own folder), serves it on
// 127.0.0.1, prints the URL, and stays in the foreground until Ctrl+C, then stops everything.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/cjs/api';

register(); // the harness is TypeScript, shared with test/e2e
const require = createRequire(import.meta.url);
/** @type {typeof import('./e2e/codeServer')} */
const cs = require('./e2e/codeServer.ts');
/** @type {typeof import('./e2e/fixtures')} */
const fixtures = require('./e2e/fixtures.ts');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_DIR = join(cs.CACHE_DIR, 'demo');
const SHARED_DATA = resolve(ROOT, '../shared/data');
const DEFAULT_PORT = 8765;

/** Real cases copied into the demo workspace: [source under ../shared/data, name in the workspace]. */
const DEMO_CASES = [
  ['lesion/sarcoma-ct-mr-pet/STS_002/CT/image.nii.gz', 'sarcoma_STS_002_CT.nii.gz'],
  ['lesion/sarcoma-ct-mr-pet/STS_002/MR_T1/image.nii.gz', 'sarcoma_STS_002_MR_T1.nii.gz'],
  ['lesion/sarcoma-ct-mr-pet/STS_003/CT/image.nii.gz', 'sarcoma_STS_003_CT.nii.gz'],
  ['lesion/ms-flair-mni/patient07/FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz', 'ms_patient07_FLAIR.nii.gz'],
  // Expert masks, kept apart so they are not mistaken for your corrections.
  ['lesion/sarcoma-ct-mr-pet/STS_002/CT/mask.nii.gz', 'reference-masks/sarcoma_STS_002_CT_tumour.nii.gz'],
  ['lesion/sarcoma-ct-mr-pet/STS_003/CT/mask.nii.gz', 'reference-masks/sarcoma_STS_003_CT_tumour.nii.gz'],
  ['lesion/ms-flair-mni/patient07/GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz', 'reference-masks/ms_patient07_lesions.nii.gz'],
];

const ATTRIBUTION = `# Demo data

Copied from ../shared/data (the originals are never modified):

- sarcoma_*: TCIA Soft-tissue-Sarcoma via the MIRP test data (oncoray/mirp), CC BY 3.0.
  Vallières et al. 2015, Phys Med Biol 60:5471, TCIA DOI 10.7937/K9/TCIA.2015.7GO2GSKS; Clark et al. 2013 (TCIA).
  Images cropped 5 cm around the tumour by A. Zwanenburg.
- ms_patient07_*: Ljubljana 3D MR MS database, MNI-registered by J. Muschelli (muschellij2/open_ms_data), CC-BY.
  Lesjak, Pernuš, Likar, Špiclin, Neuroinformatics (2017), DOI 10.1007/s12021-017-9348-7.

reference-masks/ holds the expert masks for comparison.
`;

function usage() {
  return `usage: npm run demo [-- <folder of .nii/.nii.gz files>] [--port N] [--fresh] [--dev] [--no-build]
  <folder>   open your own folder instead of the demo cases (masks are saved next to the images)
  --port N   port on 127.0.0.1 (default ${DEFAULT_PORT}; a free one is taken if it is busy)
  --fresh    start from a new VS Code profile (forgets settings from earlier demo runs)
  --dev      link the project folder instead of installing the packaged .vsix (implies --fresh)
  --no-build use the bundles already in dist/ (skips npm run build)`;
}

function parseArgs(argv) {
  const opts = { folder: undefined, port: DEFAULT_PORT, portGiven: false, fresh: false, dev: false, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage());
      process.exit(0);
    } else if (a === '--port') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`--port must be an integer 1–65535, got ${JSON.stringify(argv[i])}`);
      opts.port = v;
      opts.portGiven = true;
    } else if (a === '--fresh') opts.fresh = true;
    else if (a === '--dev') opts.dev = true;
    else if (a === '--no-build') opts.build = false;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${usage()}`);
    else if (opts.folder) throw new Error(`only one folder can be opened, got ${opts.folder} and ${a}`);
    else opts.folder = resolve(a);
  }
  if (opts.folder && (!existsSync(opts.folder) || !statSync(opts.folder).isDirectory())) {
    throw new Error(`${opts.folder} is not a folder; pass a folder that holds .nii or .nii.gz files`);
  }
  return opts;
}

function run(what, cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal})`);
}

/** Copies the demo cases that are not there yet; returns how many cases the workspace has. */
function populateFromSharedData(workspace) {
  let copied = 0;
  for (const [src, name] of DEMO_CASES) {
    const from = join(SHARED_DATA, src);
    const to = join(workspace, name);
    if (!existsSync(from)) continue;
    if (!existsSync(to)) {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, `${to}.tmp`);
      chmodSync(`${to}.tmp`, 0o644); // the shared originals are read-only; the copies behave like user files
      renameSync(`${to}.tmp`, to);
    }
    copied++;
  }
  if (copied) writeFileSync(join(workspace, 'ATTRIBUTION.md'), ATTRIBUTION);
  return copied;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const install = cs.ensureCodeServer();

  if (opts.build) {
    console.log('[demo] building the extension');
    run('npm run build', process.execPath, [join(ROOT, 'scripts/build.mjs')]);
  } else if (!existsSync(join(ROOT, 'dist/extension.js'))) {
    throw new Error('--no-build was given but dist/extension.js does not exist; run npm run build first');
  }
  const profile = opts.fresh || opts.dev || !existsSync(join(DEMO_DIR, 'state'))
    ? cs.freshProfile(join(DEMO_DIR, 'state'))
    : cs.reuseProfile(join(DEMO_DIR, 'state'));
  if (opts.dev) {
    cs.linkExtension(profile);
  } else {
    console.log('[demo] packaging and installing the extension');
    cs.installVsix(install, profile, cs.packageVsix(join(DEMO_DIR, 'lesion-lab-demo.vsix')));
  }

  let workspace = opts.folder;
  let note = '';
  if (!workspace) {
    workspace = join(DEMO_DIR, 'workspace');
    mkdirSync(workspace, { recursive: true });
    const n = existsSync(SHARED_DATA) ? populateFromSharedData(workspace) : 0;
    if (n > 0) {
      note = `demo workspace: ${n} files from ${SHARED_DATA} (copies; see ATTRIBUTION.md)`;
    } else {
      fixtures.writePhantomNifti(join(workspace, 'phantom_lesion.nii.gz'));
      note = `${SHARED_DATA} not found: the demo workspace holds a generated phantom with a synthetic lesion`;
    }
  }

  let port = opts.port;
  if (!(await portIsFree(port))) {
    if (opts.portGiven) throw new Error(`port ${port} on 127.0.0.1 is in use; pick another with --port`);
    port = await cs.freePort();
  }
  const server = await cs.startCodeServer({ install, profile, workspaceDir: workspace, port });
  let stopping = false;
  const shutdown = async (why) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[demo] ${why}: stopping code-server`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('Ctrl+C'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  server.child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[demo] code-server exited (${code ?? signal}); log: ${profile.logFile}`);
    process.exit(1);
  });

  console.log(`
[demo] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s
[demo] ${note || `workspace: ${workspace}`}
[demo] open in a browser:  ${server.url}
[demo] then click a .nii.gz file; F1 → "Lesion Lab" lists the commands
[demo] your own data:      npm run demo -- /path/to/folder/with/nifti
[demo] server log:         ${profile.logFile}
[demo] Ctrl+C stops the server`);
  await new Promise(() => undefined); // stay in the foreground until a signal arrives
}

async function portIsFree(port) {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.once('error', () => resolvePort(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolvePort(true)));
  });
}

main().catch((e) => {
  console.error(`[demo] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
