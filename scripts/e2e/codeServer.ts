// A real VS Code for the demo and the end-to-end test: code-server (VS Code OSS server + web UI)
// installed from the npm registry into an ignored cache folder inside the project, started with a
// fresh profile in its own process group, with the built extension installed into that profile.
// Recipe and measurements: ../shared/docs/real-vscode-e2e.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The project root (the folder holding package.json). */
export const PROJECT_ROOT = resolve(__dirname, '../..');
/** Ignored cache folder for code-server, the packaged extension and run state. */
export const CACHE_DIR = join(PROJECT_ROOT, '.vscode-test');
/**
 * The code-server version: 4.100.3 is the newest release whose engines field accepts Node 20
 * (4.103+ needs Node 22, 4.133+ Node 24).
 */
export const CODE_SERVER_VERSION = '4.100.3';
/** ripgrep release that @vscode/ripgrep 1.15.11 (a dependency of code-server 4.100.3) downloads. */
const RIPGREP_CACHE_DIR_NAME = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_TARBALL_NAME = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const INSTALL_MARKER = 'lesion-lab-install.json';

/** Where one code-server version lives, and how to run it. */
export interface CodeServerInstall {
  version: string;
  /** Folder holding node_modules/code-server. */
  dir: string;
  /** The JavaScript entry point, run with the current Node (its native modules match this ABI). */
  entryJs: string;
}

/** What was recorded after a complete install; a mismatch means reinstall. */
interface InstallMarker {
  version: string;
  nodeAbi: string;
  platform: string;
  arch: string;
  installSeconds: number;
}

function log(message: string): void {
  process.stderr.write(`[code-server] ${message}\n`);
}

function installDirFor(version: string): string {
  return join(CACHE_DIR, `code-server-${version}`);
}

/** The install in the cache if it is complete and built for this Node ABI, else undefined. */
export function findCodeServer(version: string = CODE_SERVER_VERSION): CodeServerInstall | undefined {
  const dir = installDirFor(version);
  const entryJs = join(dir, 'node_modules/code-server/out/node/entry.js');
  const markerPath = join(dir, INSTALL_MARKER);
  if (!existsSync(markerPath) || !existsSync(entryJs)) return undefined;
  try {
    const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as InstallMarker;
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/code-server/package.json'), 'utf8')) as {
      version?: string;
    };
    if (
      marker.version !== version ||
      pkg.version !== version ||
      marker.nodeAbi !== process.versions.modules ||
      marker.platform !== process.platform ||
      marker.arch !== process.arch
    ) {
      return undefined;
    }
  } catch {
    return undefined;
  }
  return { version, dir, entryJs };
}

/** Folder with Node's C headers (include/node/node_api.h), so node-gyp need not download them. */
function nodeHeadersDir(): string | undefined {
  const candidates = [resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'];
  return candidates.find((d) => existsSync(join(d, 'include/node/node_api.h')));
}

/**
 * @vscode/ripgrep's postinstall downloads rg from GitHub, but first looks in
 * $TMPDIR/vscode-ripgrep-cache-<version>/; seed that cache with the system's rg so it installs offline.
 */
function seedRipgrepCache(tmpDir: string): void {
  const cacheDir = join(tmpDir, RIPGREP_CACHE_DIR_NAME);
  const tarball = join(cacheDir, RIPGREP_TARBALL_NAME);
  if (existsSync(tarball)) return;
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!rg) {
    throw new Error(
      'code-server install: ripgrep (rg) is not installed; its npm postinstall would download it from GitHub. Install it with `apt-get install -y ripgrep`.',
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(join(tmpDir, 'rg-'));
  copyFileSync(rg, join(staging, 'rg'));
  const r = spawnSync('tar', ['czf', `${tarball}.tmp`, '-C', staging, 'rg'], { stdio: 'inherit' });
  rmSync(staging, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`code-server install: could not write the ripgrep cache tarball ${tarball}.`);
  renameSync(`${tarball}.tmp`, tarball);
}

/**
 * Installs code-server into `.vscode-test/code-server-<version>/` unless a complete install for
 * this Node ABI is already there. Takes 1–2 minutes on 2 cores (native modules are compiled).
 * @throws Error naming the failing step when npm fails.
 */
export function ensureCodeServer(version: string = CODE_SERVER_VERSION): CodeServerInstall {
  const found = findCodeServer(version);
  if (found) return found;
  const dir = installDirFor(version);
  const tmpDir = join(CACHE_DIR, 'tmp');
  log(`installing code-server ${version} into ${dir} (first use; compiles native modules, 1–2 min)`);
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'lesion-lab-code-server', private: true, description: 'cache; not part of the extension' }, null, 2),
  );
  seedRipgrepCache(tmpDir);
  const headers = nodeHeadersDir();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TMPDIR: tmpDir,
    // code-server's postinstall refuses to run as root without it.
    npm_config_unsafe_perm: 'true',
    // node-pty's postinstall runs `npx node-gyp`, which cancels without a TTY unless told yes.
    npm_config_yes: 'true',
    JOBS: String(Math.max(1, Math.min(4, availableParallelism()))),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  // `npm test` / `npm run demo` export the parent project's npm state (local prefix, package
  // fields, lifecycle); the nested install must resolve its own folder, so drop those. Registry,
  // proxy, cache and certificate settings stay.
  for (const key of Object.keys(env)) {
    if (/^npm_(lifecycle_|package_|command$|execpath$|node_execpath$)/.test(key)) delete env[key];
  }
  for (const key of ['npm_config_local_prefix', 'npm_config_prefix', 'npm_config_global_prefix', 'npm_config_global', 'npm_config_call', 'npm_config_user_agent', 'npm_config_npm_version']) {
    delete env[key];
  }
  // npm 11 rejects allow-scripts in project installs (EALLOWSCRIPTS); an empty inherited one too.
  if (!env.npm_config_allow_scripts) delete env.npm_config_allow_scripts;
  if (headers) env.npm_config_nodedir = headers;
  else log('warning: Node headers not found next to node; node-gyp may try to download them');
  // npm's output (hundreds of lines of native builds) goes to a log file, shown only on failure.
  const logFile = join(CACHE_DIR, `code-server-${version}-install.log`);
  const logFd = openSync(logFile, 'w');
  let r;
  try {
    r = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', '--foreground-scripts', '--loglevel=error', `code-server@${version}`],
      { cwd: dir, env, stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  const entryJs = join(dir, 'node_modules/code-server/out/node/entry.js');
  if (r.status !== 0 || !existsSync(entryJs)) {
    throw new Error(
      `code-server install: \`npm install code-server@${version}\` in ${dir} failed (exit ${r.status ?? r.signal}); offline installs need ripgrep, libkrb5-dev and a C++ toolchain. Last lines of ${logFile}:\n${tail(logFile, 60)}`,
    );
  }
  const installSeconds = (Date.now() - started) / 1000;
  const marker: InstallMarker = {
    version,
    nodeAbi: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    installSeconds,
  };
  writeFileSync(join(dir, INSTALL_MARKER), JSON.stringify(marker, null, 2));
  log(`installed code-server ${version} in ${installSeconds.toFixed(0)} s (npm log: ${logFile})`);
  return { version, dir, entryJs };
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** User settings for a quiet, deterministic workbench. */
export const PROFILE_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  // VS Code in the browser saves after a delay by default; desktop does not. Off, so that Save is
  // what writes the mask (and the test of Save means something).
  'files.autoSave': 'off',
  'files.hotExit': 'off',
  'window.restoreWindows': 'none',
  'workbench.editor.restoreViewState': false,
};

/** The folders of one server's fresh profile. */
export interface ProfileDirs {
  stateDir: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
}

/** Wipes and recreates a profile under `stateDir` and writes its settings.json. */
export function freshProfile(stateDir: string, extraSettings: Record<string, unknown> = {}): ProfileDirs {
  stopStaleServer(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  return reuseProfile(stateDir, extraSettings);
}

/**
 * Keeps an existing profile under `stateDir` (settings, installed extensions, extension storage)
 * and rewrites its settings.json; creates the folders that are missing.
 */
export function reuseProfile(stateDir: string, extraSettings: Record<string, unknown> = {}): ProfileDirs {
  stopStaleServer(stateDir);
  const userDataDir = join(stateDir, 'user-data');
  const extensionsDir = join(stateDir, 'extensions');
  for (const d of [join(userDataDir, 'User'), extensionsDir, join(stateDir, 'xdg-config'), join(stateDir, 'xdg-data'), join(stateDir, 'xdg-cache'), join(stateDir, 'tmp')]) {
    mkdirSync(d, { recursive: true });
  }
  writeFileSync(join(userDataDir, 'User/settings.json'), JSON.stringify({ ...PROFILE_SETTINGS, ...extraSettings }, null, 2));
  return { stateDir, userDataDir, extensionsDir, logFile: join(stateDir, 'code-server.log') };
}

const PID_FILE = 'server.pid';

/**
 * Kills a server left behind by an earlier run that was killed too hard to clean up (SIGKILL):
 * its process group id is in `<stateDir>/server.pid`. Only a group whose leader still runs
 * code-server's entry.js is touched, so a recycled pid is never hit.
 */
export function stopStaleServer(stateDir: string): void {
  const pidFile = join(stateDir, PID_FILE);
  if (!existsSync(pidFile)) return;
  const pgid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pgid}/cmdline`, 'utf8');
  } catch {
    return; // not running
  }
  if (!cmdline.includes('code-server') || !cmdline.includes('entry.js')) return;
  log(`stopping a code-server left running by an earlier run (process group ${pgid})`);
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
}

/** Environment that keeps code-server's config.yaml, caches and temp files inside the state folder. */
function serverEnv(profile: ProfileDirs): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(profile.stateDir, 'xdg-config'),
    XDG_DATA_HOME: join(profile.stateDir, 'xdg-data'),
    XDG_CACHE_HOME: join(profile.stateDir, 'xdg-cache'),
    TMPDIR: join(profile.stateDir, 'tmp'),
  };
  // A password in the environment would switch auth on; the server only listens on 127.0.0.1.
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

function commonArgs(profile: ProfileDirs): string[] {
  return ['--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir];
}

/**
 * Installs a .vsix into the profile with code-server's CLI (about 1 s).
 * @throws Error with the CLI's output when the install fails.
 */
export function installVsix(install: CodeServerInstall, profile: ProfileDirs, vsixPath: string): void {
  const r = spawnSync(process.execPath, [install.entryJs, ...commonArgs(profile), '--install-extension', vsixPath, '--force'], {
    env: serverEnv(profile),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
    throw new Error(`code-server could not install ${vsixPath} (exit ${r.status ?? r.signal}): ${(r.stdout + r.stderr).trim()}`);
  }
}

/**
 * Dev loop without packaging: links the project folder into the profile's extensions folder.
 * VS Code picks the link up and writes extensions.json itself.
 */
export function linkExtension(profile: ProfileDirs, extensionDir: string = PROJECT_ROOT): string {
  const pkg = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')) as {
    publisher: string;
    name: string;
    version: string;
  };
  const link = join(profile.extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  rmSync(link, { recursive: true, force: true });
  symlinkSync(extensionDir, link, 'dir');
  return link;
}

/** The extension's id as VS Code knows it (publisher.name). */
export function extensionId(extensionDir: string = PROJECT_ROOT): string {
  const pkg = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')) as { publisher: string; name: string };
  return `${pkg.publisher}.${pkg.name}`;
}

/**
 * Packages the extension with @vscode/vsce into `outFile` (dist bundles must already be built).
 * Only what .vscodeignore lets through goes in; node_modules stay out (the bundles include them).
 * @throws Error with vsce's output when packaging fails.
 */
export function packageVsix(outFile: string): string {
  mkdirSync(dirname(outFile), { recursive: true });
  const vsce = join(PROJECT_ROOT, 'node_modules/@vscode/vsce/vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', outFile], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    input: 'y\n',
  });
  if (r.status !== 0 || !existsSync(outFile)) {
    throw new Error(`vsce package failed (exit ${r.status ?? r.signal}): ${(r.stdout + r.stderr).trim()}`);
  }
  return outFile;
}

/** A running code-server, in its own process group. */
export interface RunningCodeServer {
  url: string;
  port: number;
  profile: ProfileDirs;
  child: ChildProcess;
  /** Stops the whole process group (server, extension host, file watcher, pty host). Idempotent. */
  stop(): Promise<void>;
}

const runningGroups = new Set<number>();
let exitHookInstalled = false;

/** Kills every server still running when this process exits, whatever the reason. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of runningGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killGroup(pgid: number, graceMs: number): Promise<void> {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    runningGroups.delete(pgid);
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  runningGroups.delete(pgid);
}

/** Options for {@link startCodeServer}. */
export interface StartOptions {
  install: CodeServerInstall;
  profile: ProfileDirs;
  /** Folder the workbench opens (`?folder=`). */
  workspaceDir: string;
  /** TCP port on 127.0.0.1; default: a free one. */
  port?: number;
  /** How long to wait for /healthz, in ms; default 60000. */
  readyTimeoutMs?: number;
  /** Extra environment for the server and its extension host. */
  env?: NodeJS.ProcessEnv;
  /** Log level passed to code-server; default 'info'. */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}

/**
 * Starts code-server on 127.0.0.1 without auth, detached into its own process group (setsid),
 * and waits until /healthz answers.
 * @throws Error with the log's tail when the server exits early or does not get ready in time.
 */
export async function startCodeServer(options: StartOptions): Promise<RunningCodeServer> {
  const { install, profile, workspaceDir } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs <= 0) {
    throw new Error(`startCodeServer: readyTimeoutMs must be a positive number of ms, got ${String(readyTimeoutMs)}`);
  }
  if (!existsSync(workspaceDir) || !statSync(workspaceDir).isDirectory()) {
    throw new Error(`startCodeServer: workspaceDir ${workspaceDir} is not a folder`);
  }
  const port = options.port ?? (await freePort());
  const logFd = openSync(profile.logFile, 'a');
  const args = [
    install.entryJs,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--log',
    options.logLevel ?? 'info',
    ...commonArgs(profile),
  ];
  // detached = setsid: the server, extension host, file watcher and pty host share one process
  // group, so one kill(-pgid) stops them all (killing only the parent leaves the watcher behind).
  const child = spawn(process.execPath, args, {
    cwd: workspaceDir,
    env: { ...serverEnv(profile), ...options.env },
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const pgid = child.pid;
  if (pgid === undefined) throw new Error('startCodeServer: spawning node failed (no pid)');
  installExitHook();
  runningGroups.add(pgid);
  writeFileSync(join(profile.stateDir, PID_FILE), String(pgid));
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exit ${code ?? signal}`;
  });
  const stop = async (): Promise<void> => {
    if (runningGroups.has(pgid)) await killGroup(pgid, 5000);
    rmSync(join(profile.stateDir, PID_FILE), { force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited during start (${exited}); log ${profile.logFile}:\n${tail(profile.logFile)}`);
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${base}/healthz within ${readyTimeoutMs} ms; log:\n${tail(profile.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = `${base}/?folder=${encodeURIComponent(workspaceDir)}`;
  return { url, port, profile, child, stop };
}

/** The last lines of a text file, for error messages. */
export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
