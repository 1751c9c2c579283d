// The set-up the provider tests share: the fake vscode module installed, the provider class
// loaded after it, a temporary folder for the run, and helpers to register a provider, open a
// document and let posted messages settle.
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cancellation, fakeContext, fakeLog, installFakeVscode, Uri } from './fakeVscode';

type ProviderClass = typeof import('../../src/editor/provider').LesionLabEditorProvider;
export type LesionLabEditorProvider = import('../../src/editor/provider').LesionLabEditorProvider;
/** An undoable edit the provider reported (CustomDocumentEditEvent). */
export type ReportedEdit = { label: string; undo(): void; redo(): void };

/** The repository root (the extension folder the fake context points at). */
export const REPO_ROOT = resolve(__dirname, '../..');

/** Lets the messages a handler posts arrive. */
export const settle = (): Promise<unknown> => new Promise((r) => setTimeout(r, 20));

/**
 * Installs the fake vscode module and adds the node:test hooks that load the provider after it
 * and create (then remove) a temporary folder whose name starts with `tempPrefix`. Call at the
 * top of a test file.
 */
export function fakeProviderSetup(tempPrefix: string): {
  /** The run's temporary folder (set once the `before` hook ran). */
  tempDir(): string;
  /** Registers a provider with a fresh fake context and collects the edits it reports. */
  makeProvider(): { provider: LesionLabEditorProvider; edits: ReportedEdit[] };
  /** Opens `path` as a custom document (optionally restoring a backup). */
  open(provider: LesionLabEditorProvider, path: string, backupId?: string): ReturnType<LesionLabEditorProvider['openCustomDocument']>;
} {
  installFakeVscode();
  let dir = '';
  let providerClass: ProviderClass | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), tempPrefix));
    providerClass = (await import('../../src/editor/provider')).LesionLabEditorProvider;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    tempDir: () => dir,
    makeProvider() {
      if (!providerClass) throw new Error('fakeProviderSetup: the provider is loaded in the before hook; make providers inside tests');
      const provider = providerClass.register(fakeContext(REPO_ROOT) as never, fakeLog as never);
      const edits: ReportedEdit[] = [];
      provider.onDidChangeCustomDocument((e) => edits.push(e as never));
      return { provider, edits };
    },
    open: (provider, path, backupId) =>
      provider.openCustomDocument(Uri.file(path) as never, { backupId, untitledDocumentData: undefined }, cancellation as never),
  };
}
