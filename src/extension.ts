// Lesion Lab extension entry: the output channel, the custom editor, the ITK-SNAP label table
// commands, and the registration of the model commands (src/editor/modelCommands.ts) and the
// Lesion Lab view (src/editor/caseCommands.ts). Both get the `LesionLabApi` below; a failure to
// register them is logged and leaves the image editor usable.

import * as vscode from 'vscode';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { LesionLabEditorProvider } from './editor/provider';
import type { LabelDocument } from './editor/labelDocument';
import { itkSnapLabelPathFor } from './labels/maskPath';
import { registerModelCommands as registerEditorModelCommands, type ModelCommands } from './editor/modelCommands';
import { registerCaseCommands } from './editor/caseCommands';
import { importDicomFolder } from './editor/dicomImportCommand';
import { DICOM_NAME } from './nifti/dicom';
import { VOLUME_FILE_NAME } from './nifti/formats';
import { exportMaskAsDicomSeg, importDicomSegIntoMask } from './editor/dicomSegCommand';
import { overlayAnotherImage, registerOverlayImage, removeOverlayImage, restoreOverlayImage } from './editor/overlayImageCommand';
import { itkSnapLabelFile, parseItkSnapLabelFile } from './labels/sidecar';
import { errorText } from './util/errorText';

/** What `activate` returns: used by the ML commands and by end-to-end tests. */
export interface LesionLabApi {
  provider: LesionLabEditorProvider;
  log: vscode.LogOutputChannel;
  /** The document of `uri` if it is open in Lesion Lab, else the active one. */
  documentFor(uri?: vscode.Uri): LabelDocument | undefined;
}

export function activate(context: vscode.ExtensionContext): LesionLabApi {
  const log = vscode.window.createOutputChannel('Lesion Lab', { log: true });
  context.subscriptions.push(log);
  const provider = LesionLabEditorProvider.register(context, log);

  const api: LesionLabApi = {
    provider,
    log,
    documentFor(uri) {
      if (uri) {
        const doc = provider.openDocuments.find((d) => d.uri.toString() === uri.toString());
        if (doc) return doc;
      }
      return provider.activeDocument;
    },
  };

  /** The document a label-table command acts on (`uri`'s, else the active one), open; else says to open one first. */
  const openDocumentFor = (uri: unknown, action: string): (LabelDocument & { session: NonNullable<LabelDocument['session']> }) | undefined => {
    const doc = api.documentFor(uri instanceof vscode.Uri ? uri : undefined);
    if (doc?.session) return doc as LabelDocument & { session: NonNullable<LabelDocument['session']> };
    void vscode.window.showErrorMessage(`Lesion Lab: open an image in Lesion Lab first, then ${action}.`);
    return undefined;
  };

  // An image reopened gets back the image that was fused over it (checked once per document, once
  // its first view has drawn: nothing large is posted to a webview still loading).
  const fusionChecked = new WeakSet<LabelDocument>();
  context.subscriptions.push(
    provider.onDidRender(({ document: doc, what }) => {
      if (what !== 'first' || !doc.session || fusionChecked.has(doc)) return;
      fusionChecked.add(doc);
      void restoreOverlayImage(log, provider, doc as LabelDocument & { session: NonNullable<LabelDocument['session']> }, context.workspaceState);
    }),
  );

  context.subscriptions.push(
    vscode.commands.registerCommand('lesionLab.openWith', async (uri?: vscode.Uri) => {
      let target = uri instanceof vscode.Uri ? uri : undefined;
      if (!target) {
        const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        if (tab instanceof vscode.TabInputText || tab instanceof vscode.TabInputCustom) target = tab.uri;
      }
      if (!target) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Open with Lesion Lab',
          filters: { 'Images (NIfTI, NRRD, MetaImage, MGH)': ['nii', 'gz', 'hdr', 'nrrd', 'nhdr', 'mha', 'mhd', 'mgh', 'mgz'] },
        });
        target = picked?.[0];
      }
      if (!target) return;
      if (DICOM_NAME.test(target.path) && target.scheme === 'file') {
        // A DICOM file is one slice of a series: its folder is imported as NIfTI, then opened.
        await importDicomFolder(log, vscode.Uri.file(dirname(target.fsPath)));
        return;
      }
      if (!VOLUME_FILE_NAME.test(target.path)) {
        log.warn(`${basename(target.path)}: not named like an image Lesion Lab reads (.nii, .nii.gz, .hdr, .nrrd, .nhdr, .mha, .mhd, .mgh, .mgz); trying anyway`);
      }
      await vscode.commands.executeCommand('vscode.openWith', target, LesionLabEditorProvider.viewType);
    }),

    vscode.commands.registerCommand('lesionLab.importDicom', (folder?: vscode.Uri, outDir?: vscode.Uri) =>
      importDicomFolder(log, folder instanceof vscode.Uri ? folder : undefined, outDir instanceof vscode.Uri ? outDir : undefined),
    ),

    vscode.commands.registerCommand('lesionLab.exportItkSnapLabels', async (uri?: vscode.Uri, target?: vscode.Uri) => {
      const doc = openDocumentFor(uri, 'export its label table');
      if (!doc) return;
      let destination = target instanceof vscode.Uri ? target : undefined;
      if (!destination) {
        destination = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(itkSnapLabelPathFor(doc.session.maskPath)),
          filters: { 'ITK-SNAP label description': ['txt'] },
          saveLabel: 'Export labels',
        });
      }
      if (!destination) return;
      try {
        const text = itkSnapLabelFile(doc.session.model.labelTable);
        if (destination.scheme === 'file') await writeFile(destination.fsPath, text, 'utf8');
        else await vscode.workspace.fs.writeFile(destination, new TextEncoder().encode(text));
        log.info(`${doc.fileName}: label table exported to ${destination.fsPath}`);
        void vscode.window.showInformationMessage(`Lesion Lab: label descriptions written to ${basename(destination.path)}`);
      } catch (err) {
        void vscode.window.showErrorMessage(`Lesion Lab: ${basename(destination.path)} could not be written (${errorText(err)})`);
      }
    }),

    vscode.commands.registerCommand('lesionLab.exportDicomSeg', async (uri?: vscode.Uri, target?: vscode.Uri) => {
      const doc = openDocumentFor(uri, 'export its mask as DICOM SEG');
      if (doc) await exportMaskAsDicomSeg(log, doc, target instanceof vscode.Uri ? target : undefined);
    }),

    vscode.commands.registerCommand('lesionLab.importDicomSeg', async (uri?: vscode.Uri, source?: vscode.Uri) => {
      const doc = openDocumentFor(uri, 'import a DICOM SEG or RT Structure Set into its mask');
      if (doc) await importDicomSegIntoMask(log, doc, source instanceof vscode.Uri ? source : undefined);
    }),

    vscode.commands.registerCommand('lesionLab.overlayImage', async (uri?: vscode.Uri, source?: vscode.Uri) => {
      const doc = openDocumentFor(uri, 'overlay another image on it');
      if (doc) await overlayAnotherImage(log, provider, doc, source instanceof vscode.Uri ? source : undefined, { memento: context.workspaceState });
    }),

    vscode.commands.registerCommand('lesionLab.registerOverlayImage', async (uri?: vscode.Uri) => {
      const doc = openDocumentFor(uri, 'register its fused image to it');
      if (doc) await registerOverlayImage(log, provider, doc, context.workspaceState);
    }),

    vscode.commands.registerCommand('lesionLab.clearOverlayImage', async (uri?: vscode.Uri) => {
      const doc = openDocumentFor(uri, 'remove its overlay image');
      if (doc) await removeOverlayImage(provider, doc, context.workspaceState);
    }),

    vscode.commands.registerCommand('lesionLab.importItkSnapLabels', async (uri?: vscode.Uri, source?: vscode.Uri) => {
      const doc = openDocumentFor(uri, 'import a label table');
      if (!doc) return;
      let from = source instanceof vscode.Uri ? source : undefined;
      if (!from) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Import labels',
          filters: { 'ITK-SNAP label description': ['txt'] },
        });
        from = picked?.[0];
      }
      if (!from) return;
      try {
        const text = from.scheme === 'file' ? await readFile(from.fsPath, 'utf8') : new TextDecoder().decode(await vscode.workspace.fs.readFile(from));
        const table = parseItkSnapLabelFile(text, basename(from.path));
        doc.setLabelTable('Import label descriptions', table);
        log.info(`${doc.fileName}: label table imported from ${from.fsPath} (${table.length} labels)`);
      } catch (err) {
        void vscode.window.showErrorMessage(`Lesion Lab: ${errorText(err)}`);
      }
    }),
  );

  registerModelCommands(context, api);
  log.info('Lesion Lab activated');
  return api;
}

/**
 * The model commands (Segment Lesion, Accept/Reject Proposal, Fine-tune, model versions, status
 * bar; src/editor/modelCommands.ts) and then the Lesion Lab view, which uses them. The webview's
 * toolbar buttons reach those command ids through `runCommand`.
 */
function registerModelCommands(context: vscode.ExtensionContext, api: LesionLabApi): void {
  try {
    const models = registerEditorModelCommands(context, api);
    registerDatasetCommands(context, api, models);
  } catch (err) {
    // The image editor stays usable even when the model layer cannot start.
    api.log.error(`the model commands (Segment Lesion, Fine-tune) could not be registered: ${errorText(err)}`);
  }
}

/** The Lesion Lab activity-bar view (cases, review states, Segment All Unreviewed): src/editor/caseCommands.ts. */
function registerDatasetCommands(context: vscode.ExtensionContext, api: LesionLabApi, models: ModelCommands): void {
  try {
    registerCaseCommands(context, api, models);
  } catch (err) {
    api.log.error(`the Lesion Lab view (cases) could not be registered: ${errorText(err)}`);
  }
}

export function deactivate(): void {}
