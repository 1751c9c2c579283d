// A minimal in-process stand-in for the parts of the `vscode` API that the Lesion Lab editor
// provider uses, so its wiring (ready → init, edits, undo/redo, save, backup) is tested without
// a running VS Code. Real VS Code behaviour is covered by the e2e tests.
import Module from 'node:module';
import { promises as fsp, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { hostMessageProblem } from '../../src/protocol/validateHostMessage';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  constructor(readonly scheme: string, readonly path: string) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static parse(s: string): Uri {
    if (s.startsWith('file://')) return new Uri('file', fileURLToPath(s));
    const m = /^([a-z-]+):(.*)$/.exec(s);
    return m ? new Uri(m[1], m[2]) : new Uri('file', s);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, posix.join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.path).toString() : `${this.scheme}:${this.path}`;
  }
}

/** Messages shown through window.show*Message, for assertions. */
export const shownMessages: { level: 'error' | 'warning' | 'info'; text: string }[] = [];
/** Answer given to the next modal warning (label of a button, or undefined for Cancel). */
export const dialogAnswers: (string | undefined)[] = [];
/** `lesionLab.*` values from the user's settings (what `get` returns unless a workspace value is set). */
export const configuration: Record<string, unknown> = {};
/** `lesionLab.*` values from the workspace's settings (`inspect().workspaceValue`). */
export const workspaceConfiguration: Record<string, unknown> = {};
/** Workspace trust and the folders of the workspace; tests change them. */
export const workspaceState = {
  isTrusted: true,
  folders: [] as string[],
  /** Answers of window.showSaveDialog, in order (undefined: cancelled). */
  saveDialogAnswers: [] as (string | undefined)[],
};
const grantTrust = new EventEmitter<void>();
/** Simulates the user trusting the workspace. */
export function grantWorkspaceTrust(): void {
  workspaceState.isTrusted = true;
  grantTrust.fire();
}
export const executedCommands: { command: string; args: unknown[] }[] = [];
/** Handlers registered with commands.registerCommand, by id. */
export const commandHandlers = new Map<string, (...args: unknown[]) => unknown>();
export let registeredProvider: unknown = null;

/** Host → webview messages that did not fit the protocol (see FakeWebview.postMessage). */
export const protocolViolations: string[] = [];

export class FakeWebview {
  html = '';
  options: unknown = {};
  readonly cspSource = 'https://fake.vscode-cdn.net';
  readonly received: Record<string, unknown>[] = [];
  private readonly onMessage = new EventEmitter<unknown>();
  onDidReceiveMessage = this.onMessage.event;
  asWebviewUri(uri: Uri): Uri {
    return new Uri('https', `//fake.vscode-cdn.net${uri.path}`);
  }
  async postMessage(message: Record<string, unknown>): Promise<boolean> {
    // Every host → webview message must fit the protocol: a misfit fails the running test (thrown
    // outside the host's promise chain, which would only log it).
    const problem = hostMessageProblem(message);
    if (problem) {
      protocolViolations.push(problem);
      process.nextTick(() => {
        throw new Error(problem);
      });
    }
    // structuredClone mimics the process boundary (ArrayBuffers copied, no shared objects).
    this.received.push(structuredClone(message));
    return true;
  }
  /** Simulates the webview script posting to the host. */
  send(message: unknown): void {
    this.onMessage.fire(structuredClone(message));
  }
  ofType(type: string): Record<string, unknown>[] {
    return this.received.filter((m) => m.type === type);
  }
}

export class FakePanel {
  readonly webview = new FakeWebview();
  active = true;
  private readonly disposeEmitter = new EventEmitter<void>();
  private readonly viewState = new EventEmitter<unknown>();
  onDidDispose = this.disposeEmitter.event;
  onDidChangeViewState = this.viewState.event;
  dispose(): void {
    this.disposeEmitter.fire();
  }
}

export class CancellationError extends Error {
  constructor() {
    super('Canceled');
    this.name = 'Canceled';
  }
}

const log = {
  lines: [] as string[],
  info(m: string) { this.lines.push(`info ${m}`); },
  warn(m: string) { this.lines.push(`warn ${m}`); },
  error(m: string) { this.lines.push(`error ${m}`); },
  debug(m: string) { this.lines.push(`debug ${m}`); },
  trace(m: string) { this.lines.push(`trace ${m}`); },
  appendLine(m: string) { this.lines.push(m); },
  dispose() {},
};
export const fakeLog = log;

export const fakeVscode = {
  EventEmitter,
  Uri,
  QuickPickItemKind: { Separator: -1, Default: 0 },
  TabInputText: class {},
  TabInputCustom: class {},
  CancellationError,
  workspace: {
    getConfiguration: () => ({
      // Like VS Code: a workspace value wins over the user's, except in Restricted Mode for the
      // settings package.json lists in restrictedConfigurations.
      get: (key: string) =>
        key in workspaceConfiguration && (workspaceState.isTrusted || !restrictedConfigurations().includes(`lesionLab.${key}`))
          ? workspaceConfiguration[key]
          : configuration[key],
      inspect: (key: string) => ({ key: `lesionLab.${key}`, globalValue: configuration[key], workspaceValue: workspaceConfiguration[key] }),
    }),
    onDidChangeConfiguration: () => ({ dispose() {} }),
    get isTrusted() {
      return workspaceState.isTrusted;
    },
    onDidGrantWorkspaceTrust: grantTrust.event,
    get workspaceFolders() {
      return workspaceState.folders.length ? workspaceState.folders.map((f, index) => ({ uri: Uri.file(f), name: f, index })) : undefined;
    },
    fs: {
      readFile: async (uri: Uri) => new Uint8Array(await fsp.readFile(uri.fsPath)),
      writeFile: async (uri: Uri, bytes: Uint8Array) => fsp.writeFile(uri.fsPath, bytes),
      delete: async (uri: Uri) => fsp.rm(uri.fsPath),
    },
  },
  window: {
    showErrorMessage: async (text: string) => { shownMessages.push({ level: 'error', text }); return undefined; },
    showWarningMessage: async (text: string, ..._rest: unknown[]) => {
      shownMessages.push({ level: 'warning', text });
      const opts = _rest[0] as { modal?: boolean } | undefined;
      return opts && typeof opts === 'object' && opts.modal ? dialogAnswers.shift() : undefined;
    },
    showInformationMessage: async (text: string) => { shownMessages.push({ level: 'info', text }); return undefined; },
    showSaveDialog: async () => {
      const answer = workspaceState.saveDialogAnswers.shift();
      return answer === undefined ? undefined : Uri.file(answer);
    },
    registerCustomEditorProvider: (_viewType: string, provider: unknown) => {
      registeredProvider = provider;
      return { dispose() {} };
    },
    createOutputChannel: () => log,
    tabGroups: { activeTabGroup: { activeTab: undefined } },
  },
  commands: {
    executeCommand: async (command: string, ...args: unknown[]) => { executedCommands.push({ command, args }); },
    registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
      commandHandlers.set(id, handler);
      return { dispose: () => commandHandlers.delete(id) };
    },
  },
};

/** package.json's `capabilities.untrustedWorkspaces.restrictedConfigurations`. */
function restrictedConfigurations(): string[] {
  const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
    capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
  };
  return pkg.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? [];
}

/** Makes `require('vscode')` return the fake. Call before importing editor modules. */
export function installFakeVscode(): void {
  const mod = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = mod._load;
  mod._load = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') return fakeVscode;
    return original.call(this, request, ...rest);
  };
}

export const cancellation = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };

/** An in-memory vscode.Memento (ExtensionContext.workspaceState). */
export class FakeMemento {
  readonly values = new Map<string, unknown>();
  get<T>(key: string, defaultValue?: T): T | undefined {
    return this.values.has(key) ? (this.values.get(key) as T) : defaultValue;
  }
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
  }
}

export function fakeContext(repoRoot: string): { extensionUri: Uri; subscriptions: { dispose(): unknown }[]; workspaceState: FakeMemento } {
  return { extensionUri: Uri.file(join(repoRoot)), subscriptions: [], workspaceState: new FakeMemento() };
}

/**
 * What the model commands need beyond the shared fake: status-bar alignment, progress locations,
 * Uri.from, and a workspace whose folders the test sets through `folders`.
 */
export function installModelCommandFakes(folders: () => { uri: Uri; name: string; index: number }[] | undefined): void {
  const fake = fakeVscode as unknown as Record<string, Record<string, unknown>> & Record<string, unknown>;
  fake.StatusBarAlignment = { Left: 1, Right: 2 };
  fake.ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
  (fakeVscode.Uri as unknown as Record<string, unknown>).from = (c: { scheme: string; path: string }) => new Uri(c.scheme, c.path);
  Object.assign(fake.workspace, {
    registerTextDocumentContentProvider: () => ({ dispose() {} }),
    onDidChangeWorkspaceFolders: () => ({ dispose() {} }),
    saveAll: async () => true,
    openTextDocument: async () => ({}),
  });
  Object.defineProperty(fake.workspace, 'workspaceFolders', { get: folders, configurable: true });
}
