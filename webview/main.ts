// Lesion Lab webview entry: connects the Viewer to the extension host through acquireVsCodeApi()
// and the typed protocol (src/protocol/messages.ts). Sends `ready`, then handles host messages.
import { assertNever, type HostToWebviewMessage, type WebviewToHostMessage } from '../src/protocol/messages';
import { Controls } from './controls';
import { Viewer, type ViewerHost } from './viewer';

interface VsCodeApi {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

function start(): void {
  const vscode = acquireVsCodeApi();
  const host: ViewerHost = {
    post: (message: WebviewToHostMessage, transfer?: Transferable[]) => {
      // VS Code's webview postMessage takes no transfer list in every version; pass it when it can.
      if (transfer && transfer.length > 0) vscode.postMessage(message, transfer);
      else vscode.postMessage(message);
    },
    getState: () => vscode.getState(),
    setState: (s) => vscode.setState(s),
  };
  const parent = document.getElementById('lesion-lab') ?? document.body;
  const viewer = new Viewer(parent, host);
  const controls = new Controls(viewer);
  // Tests and the bench reach the viewer through this handle.
  (window as unknown as { lesionLab: { viewer: Viewer; controls: Controls } }).lesionLab = { viewer, controls };
  window.addEventListener('message', (event: MessageEvent<HostToWebviewMessage>) => {
    try {
      handle(viewer, controls, event.data);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      viewer.showStatus(`Error: ${err.message}`);
      host.post({ type: 'error', message: err.message, stack: err.stack ?? null });
    }
  });
  window.addEventListener('error', (e) => host.post({ type: 'error', message: String(e.message), stack: null }));
  viewer.sendReady();
}

function handle(viewer: Viewer, controls: Controls, m: HostToWebviewMessage): void {
  if (!m || typeof m !== 'object' || typeof (m as { type?: unknown }).type !== 'string') return;
  switch (m.type) {
    case 'init':
      viewer.load(m);
      break;
    case 'applyDelta':
      viewer.applyHostDelta(m);
      break;
    case 'replaceLabels':
      viewer.replaceLabels(m);
      break;
    case 'overlay':
      viewer.setOverlay(m);
      break;
    case 'clearOverlay':
      viewer.clearOverlay(m.kind);
      break;
    case 'labelTable':
      viewer.setLabelTable(m.labelTable, false);
      break;
    case 'frameData':
      viewer.loadFrame(m);
      break;
    case 'settings':
      viewer.applySettings(m.settings);
      break;
    case 'readOnly':
      viewer.readOnly = m.readOnly;
      viewer.readOnlyReason = m.reason;
      viewer.setWarning(m.readOnly && m.reason ? `Read-only: ${m.reason}` : '');
      controls.refresh();
      break;
    case 'status':
      viewer.showStatus(m.text);
      break;
    case 'promptsCleared':
      viewer.promptsCleared();
      break;
    case 'error':
      if (m.fatal) viewer.showMessage(m.message);
      else viewer.showStatus(m.message);
      break;
    default:
      assertNever(m);
  }
}

start();
