// LesionLabEditorProvider: the CustomEditorProvider for *.nii / *.nii.gz. The provider holds
// the webviews (WebviewCollection); the documents hold the data. Webview messages are validated
// on arrival, then dispatched with an exhaustive switch.

import * as vscode from 'vscode';
import { deltaToWire } from '../protocol/labelDeltaWire';
import {
  assertNever,
  PROTOCOL_VERSION,
  type HostToWebviewMessage,
  type InitMessage,
  type OverlayKind,
  type OverlayMessage,
  type AcceptPromptMessage,
  type PromptMessage,
} from '../protocol/messages';
import { parseWebviewMessage, ProtocolError, type ValidWebviewMessage } from '../protocol/validate';
import { disposeAll } from './dispose';
import { toWireVoxels, toWireVoxelType } from '../volume/imageInfo';
import { LabelDocument, type DocumentChange } from './labelDocument';
import { LabelEditError } from '../labels/labelModel';
import type { MaskLocationRule } from '../labels/maskFiles';
import { DEFAULT_MASK_PATTERN, maskPatternSource } from '../labels/maskPath';
import { readEditorSettings, type EditorSettings } from '../settings/editorSettings';
import { volumeDisplayProblem } from '../protocol/volumeLimits';
import { makeNonce, webviewHtml } from './webviewHtml';
import { WebviewCollection } from './webviewCollection';
import { askMaskChanged, askMaskProblem } from './maskDialogs';
import { initMessage, replaceLabelsMessage } from './initMessage';
import { errorText } from '../util/errorText';

/** A Prompt tool message from a webview of `document` (handled by src/editor/promptCommand.ts). */
export interface PromptRequest {
  document: LabelDocument;
  message: PromptMessage | AcceptPromptMessage;
}

/** Timing reported by a webview (`rendered`), for tests and the bench. */
export interface RenderedEvent {
  document: LabelDocument;
  what: 'first' | 'frame';
  ms: number;
}

/** The Lesion Lab custom editor. */
export class LesionLabEditorProvider implements vscode.CustomEditorProvider<LabelDocument>, vscode.Disposable {
  static readonly viewType = 'lesionLab.editor';

  /** Registers the provider and its settings listener. */
  static register(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): LesionLabEditorProvider {
    const provider = new LesionLabEditorProvider(context, log);
    context.subscriptions.push(
      provider,
      vscode.window.registerCustomEditorProvider(LesionLabEditorProvider.viewType, provider, {
        // State lives in getState/setState (small) and in the host (labels): no retained context.
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
    );
    return provider;
  }

  private readonly webviews = new WebviewCollection();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly _onDidChangeCustomDocument = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<LabelDocument>>();
  readonly onDidChangeCustomDocument = this._onDidChangeCustomDocument.event;
  private readonly _onDidRender = new vscode.EventEmitter<RenderedEvent>();
  /** A webview drew its first slice or a frame. */
  readonly onDidRender = this._onDidRender.event;
  private readonly _onDidChangeActiveDocument = new vscode.EventEmitter<LabelDocument | undefined>();
  readonly onDidChangeActiveDocument = this._onDidChangeActiveDocument.event;
  private readonly _onDidReceivePrompt = new vscode.EventEmitter<PromptRequest>();
  /** A webview sent the Prompt tool's prompts or asked to accept its proposal. */
  readonly onDidReceivePrompt = this._onDidReceivePrompt.event;
  private readonly documents = new Set<LabelDocument>();
  private readonly overlays = new WeakMap<LabelDocument, Map<OverlayKind, OverlayMessage>>();
  private active: { document: LabelDocument; panel: vscode.WebviewPanel } | undefined;
  private settings: EditorSettings;
  /** Where masks may be saved under the current settings and trust. */
  private maskLocation: MaskLocationRule = { allowedFolders: [], patternFromUserSettings: true };

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.settings = this.readSettings();
    this.disposables.push(
      this._onDidChangeCustomDocument,
      this._onDidRender,
      this._onDidChangeActiveDocument,
      this._onDidReceivePrompt,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('lesionLab')) return;
        this.settings = this.readSettings();
        for (const doc of this.documents) this.postToWebviews(doc, { type: 'settings', settings: this.settings.viewer });
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.settings = this.readSettings();
        this.log.info('workspace trusted: the workspace\'s lesionLab.maskPattern applies to images opened from now on');
        for (const doc of this.documents) {
          this.postToWebviews(doc, { type: 'status', text: 'Workspace trusted: reopen this image to use the workspace\'s mask location; Fine-tune is available.', level: 'info' });
        }
      }),
    );
  }

  /** The document of the focused Lesion Lab editor (or the last focused one still open). */
  get activeDocument(): LabelDocument | undefined {
    return this.active?.document;
  }

  /** All open documents. */
  get openDocuments(): LabelDocument[] {
    return [...this.documents];
  }

  /** Current settings. */
  get currentSettings(): EditorSettings {
    return this.settings;
  }

  private readSettings(): EditorSettings {
    const config = vscode.workspace.getConfiguration('lesionLab');
    const inspected = config.inspect<unknown>('maskPattern');
    const source = maskPatternSource(inspected);
    const trusted = vscode.workspace.isTrusted;
    // In Restricted Mode VS Code already ignores workspace values of settings listed in
    // restrictedConfigurations; this also covers hosts that do not.
    const ignoreWorkspacePattern = !trusted && source === 'workspace';
    const { settings, problems } = readEditorSettings((key) =>
      key === 'maskPattern' && ignoreWorkspacePattern ? (inspected?.globalValue ?? DEFAULT_MASK_PATTERN) : config.get(key),
    );
    if (ignoreWorkspacePattern) {
      this.log.warn(`Restricted Mode: lesionLab.maskPattern from the workspace settings is ignored; masks are saved as "${settings.maskPattern}"`);
    }
    for (const p of problems) {
      this.log.warn(p);
      void vscode.window.showWarningMessage(`Lesion Lab: ${p}`);
    }
    this.maskLocation = {
      allowedFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
      patternFromUserSettings: ignoreWorkspacePattern || source !== 'workspace',
      patternOrigin: 'the workspace settings',
    };
    return settings;
  }

  /**
   * Sends a message to every webview of `document` (ArrayBuffers in it are sent to each; the
   * caller keeps its own copies). The hook for ML commands: overlays, status, deltas.
   */
  postToWebviews(document: LabelDocument, message: HostToWebviewMessage, except?: vscode.WebviewPanel): void {
    for (const panel of this.webviews.get(document.uri)) {
      if (panel !== except) this.post(panel, message);
    }
  }

  /**
   * Shows a probability/uncertainty map in every view of `document`, and in views opened later
   * (it is re-sent after their `init`). Replaces an earlier map of the same kind. The host keeps
   * `message.voxels`; VS Code copies it for each webview.
   */
  showOverlay(document: LabelDocument, message: OverlayMessage): void {
    let byKind = this.overlays.get(document);
    if (!byKind) this.overlays.set(document, (byKind = new Map()));
    byKind.set(message.kind, message);
    this.postToWebviews(document, message);
  }

  /** Removes an overlay from every view of `document`. */
  clearOverlay(document: LabelDocument, kind: OverlayKind): void {
    this.overlays.get(document)?.delete(kind);
    this.postToWebviews(document, { type: 'clearOverlay', kind });
  }

  /** The overlay of `kind` currently shown for `document`, if any. */
  overlayOf(document: LabelDocument, kind: OverlayKind): OverlayMessage | undefined {
    return this.overlays.get(document)?.get(kind);
  }

  private post(panel: vscode.WebviewPanel, message: HostToWebviewMessage): void {
    panel.webview.postMessage(message).then(
      (delivered) => {
        if (!delivered && message.type !== 'status') this.log.debug(`message '${message.type}' not delivered (webview hidden or closed)`);
      },
      (err: unknown) => this.log.error(`posting '${message.type}' failed: ${errorText(err)}`),
    );
  }

  // ───────────── CustomEditorProvider ─────────────

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext, _token: vscode.CancellationToken): Promise<LabelDocument> {
    const t0 = Date.now();
    const document = await LabelDocument.create(uri, openContext.backupId, {
      maskPattern: this.settings.maskPattern,
      maskLocation: this.maskLocation,
      askMaskProblem: (p) => askMaskProblem(p, this.settings.gridMismatchAction, this.log),
      askMaskChanged: (message) => askMaskChanged(message),
      log: this.log,
    });
    if (document.openError) {
      this.log.error(document.openError);
      void vscode.window.showErrorMessage(`Lesion Lab: ${document.openError}`);
    } else {
      this.log.info(`${document.fileName}: opened in ${Date.now() - t0} ms`);
      const s = document.session;
      if (s?.mask.message) void vscode.window.showWarningMessage(`Lesion Lab: ${s.mask.message}`);
      if (s?.sidecarWarning) void vscode.window.showWarningMessage(`Lesion Lab: ${s.sidecarWarning}`);
    }
    this.documents.add(document);
    const listeners: vscode.Disposable[] = [
      document.onDidChangeDocument((e) => this._onDidChangeCustomDocument.fire(e)),
      document.onDidChange((change) => this.forward(document, change)),
    ];
    document.onDidDispose(() => {
      this.documents.delete(document);
      this.overlays.delete(document);
      if (this.active?.document === document) {
        this.active = undefined;
        this._onDidChangeActiveDocument.fire(undefined);
      }
      disposeAll(listeners);
    });
    return document;
  }

  async resolveCustomEditor(document: LabelDocument, panel: vscode.WebviewPanel, _token: vscode.CancellationToken): Promise<void> {
    this.webviews.add(document.uri, panel);
    const extensionUri = this.context.extensionUri;
    const webview = panel.webview;
    webview.options = {
      enableScripts: !document.openError,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css')).toString(),
      errorMessage: document.openError,
    });
    if (document.openError) return;

    const setActive = () => {
      if (panel.active) {
        this.active = { document, panel };
        this._onDidChangeActiveDocument.fire(document);
      }
    };
    const subscriptions: vscode.Disposable[] = [
      webview.onDidReceiveMessage((raw: unknown) => {
        this.onMessage(document, panel, raw).catch((err: unknown) => {
          this.log.error(`${document.fileName}: ${errorText(err)}`);
          this.post(panel, { type: 'error', message: errorText(err), fatal: false });
        });
      }),
      panel.onDidChangeViewState(setActive),
    ];
    panel.onDidDispose(() => {
      disposeAll(subscriptions);
      if (this.active?.panel === panel) {
        const other = [...this.webviews.get(document.uri)].find((p) => p !== panel);
        this.active = other ? { document, panel: other } : undefined;
        this._onDidChangeActiveDocument.fire(this.active?.document);
      }
    });
    this.active = { document, panel };
    this._onDidChangeActiveDocument.fire(document);
  }

  private async onMessage(document: LabelDocument, panel: vscode.WebviewPanel, raw: unknown): Promise<void> {
    const session = document.session;
    if (!session) return;
    let msg: ValidWebviewMessage;
    try {
      const dims: [number, number, number] = [session.image.dims[0], session.image.dims[1], session.image.dims[2]];
      msg = parseWebviewMessage(raw, { voxelCount: session.model.voxelCount, frameCount: session.image.frameCount, dims });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.log.error(`${document.fileName}: ${err.message}`);
      // A refused edit leaves the webview ahead of the host: resend the truth.
      if ((raw as { type?: unknown } | null)?.type === 'edit') this.post(panel, replaceLabelsMessage(document, 'resync'));
      return;
    }
    switch (msg.type) {
      case 'ready': {
        if (msg.protocolVersion !== PROTOCOL_VERSION) {
          this.log.warn(`${document.fileName}: webview speaks protocol ${msg.protocolVersion}, host ${PROTOCOL_VERSION}`);
        }
        const image = session.image;
        const tooBig = volumeDisplayProblem(document.fileName, [image.dims[0], image.dims[1], image.dims[2]], toWireVoxelType(image.data));
        if (tooBig) {
          // Not posted: a volume the webview cannot hold would only cost a copy of it and then fail.
          this.log.error(tooBig);
          void vscode.window.showErrorMessage(`Lesion Lab: ${tooBig}.`);
          this.post(panel, { type: 'error', message: `${tooBig}.`, fatal: true });
          return;
        }
        this.post(panel, this.initMessage(document));
        for (const overlay of this.overlays.get(document)?.values() ?? []) this.post(panel, overlay);
        if (!vscode.workspace.isTrusted) {
          this.post(panel, {
            type: 'status',
            text: 'Restricted Mode: viewing and labelling work; masks are saved only beside the image or where your own settings say, and Fine-tune is off until you trust this workspace.',
            level: 'info',
          });
        }
        return;
      }
      case 'edit':
        try {
          document.makeEdit(msg.label, msg.decoded, panel);
        } catch (err) {
          if (!(err instanceof LabelEditError)) throw err;
          this.log.warn(`${document.fileName}: ${err.message}`);
          this.post(panel, replaceLabelsMessage(document, 'resync'));
          this.post(panel, { type: 'status', text: err.message, level: 'warning' });
        }
        return;
      case 'requestFrame': {
        await document.loadFrame(msg.frame);
        const image = session.image;
        const wire = toWireVoxels(image.data, { shareWholeBuffer: true });
        this.post(panel, { type: 'frameData', frame: image.frame, voxelType: wire.voxelType, voxels: wire.voxels, stats: document.stats() });
        return;
      }
      case 'setLabelTable':
        try {
          document.setLabelTable(msg.label, msg.labelTable);
        } catch (err) {
          if (!(err instanceof LabelEditError)) throw err;
          this.post(panel, { type: 'labelTable', labelTable: session.model.labelTable });
          this.post(panel, { type: 'status', text: err.message, level: 'warning' });
        }
        return;
      case 'requestResync':
        this.post(panel, replaceLabelsMessage(document, 'resync'));
        return;
      case 'runCommand':
        try {
          await vscode.commands.executeCommand(msg.command, document.uri);
        } catch (err) {
          this.post(panel, { type: 'status', text: `${msg.command}: ${errorText(err)}`, level: 'warning' });
        }
        return;
      case 'prompt':
      case 'acceptPrompt':
        this._onDidReceivePrompt.fire({ document, message: msg });
        return;
      case 'log': {
        const line = `${document.fileName} (webview): ${msg.message}`;
        if (msg.level === 'debug') this.log.debug(line);
        else if (msg.level === 'info') this.log.info(line);
        else if (msg.level === 'warn') this.log.warn(line);
        else this.log.error(line);
        return;
      }
      case 'error':
        this.log.error(`${document.fileName} (webview): ${msg.message}${msg.stack ? `\n${msg.stack}` : ''}`);
        return;
      case 'rendered':
        this.log.info(`${document.fileName}: rendered ${msg.what} in ${msg.ms.toFixed(1)} ms`);
        this._onDidRender.fire({ document, what: msg.what, ms: msg.ms });
        return;
      default:
        assertNever(msg, 'webview message');
    }
  }

  /** The full `init` for one webview (fresh buffers each time). */
  initMessage(document: LabelDocument): InitMessage {
    return initMessage(document, this.settings.viewer);
  }

  private forward(document: LabelDocument, change: DocumentChange): void {
    switch (change.kind) {
      case 'delta':
        this.postToWebviews(
          document,
          { type: 'applyDelta', delta: deltaToWire(change.delta), cause: change.cause, label: change.label },
          change.origin ?? undefined,
        );
        return;
      case 'replace':
        this.postToWebviews(document, replaceLabelsMessage(document, change.cause));
        return;
      case 'table':
        this.postToWebviews(document, { type: 'labelTable', labelTable: document.session?.model.labelTable ?? [] });
        return;
      case 'readOnly':
        this.postToWebviews(document, { type: 'readOnly', readOnly: document.session?.readOnly ?? true, reason: document.session?.readOnlyReason ?? null });
        return;
      case 'status':
        this.postToWebviews(document, { type: 'status', text: change.text, level: change.level });
        return;
      default:
        assertNever(change, 'document change');
    }
  }

  saveCustomDocument(document: LabelDocument, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.save(cancellation);
  }

  saveCustomDocumentAs(document: LabelDocument, destination: vscode.Uri, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.saveAs(destination, cancellation);
  }

  revertCustomDocument(document: LabelDocument, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.revert(cancellation);
  }

  backupCustomDocument(document: LabelDocument, context: vscode.CustomDocumentBackupContext, cancellation: vscode.CancellationToken): Thenable<vscode.CustomDocumentBackup> {
    return document.backup(context.destination, cancellation);
  }

  dispose(): void {
    disposeAll(this.disposables);
  }
}
