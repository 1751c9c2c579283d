// Segment Lesion: runs the active model (asking which starter fits when the workspace has none yet)
// on the document's image in a cancellable notification and shows the proposal (probability and
// uncertainty maps) for Accept or Reject. It yields to the event loop between patches, so the
// extension host stays responsive; one patch is synchronous.

import { basename } from 'node:path';
import * as vscode from 'vscode';
import { NoModelError } from '../ml/modelChoice';
import { fusedImageOf } from './overlayImageCommand';
import { isCancellation, type ModelRuntime } from './modelRuntime';
import { lesionReport, lesionSummary, segmentProgressMessage, totalLesionVolumeMm3 } from '../ml/modelText';
import type { ProposalStore } from './proposalStore';
import { errorText } from '../util/errorText';

/** What Segment Lesion returns (for tests and scripts calling the command). */
export interface SegmentCommandResult {
  fileName: string;
  modelVersion: string;
  backend: string;
  lesionCount: number;
  totalVolumeMm3: number;
  seconds: number;
  windowsTotal: number;
  windowsPredicted: number;
}

/**
 * Segment Lesion on `uri`'s document (or the active one).
 * @param commands the command ids that the proposal's Accept / Reject buttons run.
 */
export async function segmentLesion(
  runtime: ModelRuntime,
  proposals: ProposalStore,
  commands: { acceptProposal: string; rejectProposal: string },
  uri?: vscode.Uri,
): Promise<SegmentCommandResult | undefined> {
  const doc = runtime.documentOrComplain(uri, 'Segment Lesion');
  if (!doc?.session) return undefined;
  const busy = runtime.busyMessage();
  if (busy) {
    void vscode.window.showWarningMessage(busy);
    return undefined;
  }
  const image = doc.session.image;
  if (image.rgb) {
    void vscode.window.showErrorMessage(`Lesion Lab: ${doc.fileName} is an RGB image; Segment Lesion needs a grey-level volume.`);
    return undefined;
  }
  const settings = runtime.settings();
  const abort = new AbortController();
  runtime.claimJob('segmenting', abort);
  const log = runtime.host.log;
  try {
    // In a workspace without a model, the first Segment Lesion asks which starter fits (remembered).
    const choice = await runtime.modelToRun('Segment Lesion', () => runtime.suggestStarterLooking(image, doc.fileName, abort.signal));
    if (!choice) return undefined;
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Lesion Lab: Segment Lesion (${doc.fileName})`, cancellable: true },
      async (progress, token) => {
        const cancelListener = token.onCancellationRequested(() => abort.abort());
        try {
          progress.report({ message: 'starting the backend…' });
          const backend = await runtime.ensureBackend();
          progress.report({ message: `loading model ${choice.version}…` });
          const model = await runtime.loadModel(choice);
          const { segmentVolume, DEFAULT_TTA_FLIPS } = await import('../ml/inference');
          const { modalityMismatch, ctWithoutInterceptSigns } = await import('../ml/autoConfig');
          const mismatch = modalityMismatch(image.data, image.spacingMm, model.preprocessing);
          const rawCt = mismatch || model.preprocessing.modality === 'CT' ? null : ctWithoutInterceptSigns(image.data);
          if (mismatch || rawCt) {
            const msg = mismatch
              ? `${doc.fileName}: ${mismatch}; the proposal of model ${choice.version} is unlikely to mean anything. Select Model picks one for this modality.`
              : `${doc.fileName}: ${rawCt}; it is segmented as ${model.preprocessing.modality} by model ${choice.version}.`;
            log.warn(msg);
            void vscode.window.showWarningMessage(`Lesion Lab: ${msg}`);
          }
          const skull = (await import('../ml/starterChoice')).brainMaskFor(image, model.brainImages);
          if (skull?.brainMask) log.info(`${doc.fileName}: ${skull.note} (model ${choice.version}).`);
          else if (skull) {
            const msg = `${doc.fileName}: ${skull.warning} (model ${choice.version}).`;
            log.warn(msg);
            void vscode.window.showWarningMessage(`Lesion Lab: ${msg}`);
          }
          if (image.frameCount > 1) log.info(`${doc.fileName}: segmenting frame ${image.frame + 1} of ${image.frameCount}`);
          const t0 = Date.now();
          const ttaFlips = settings.testTimeAugmentation ? DEFAULT_TTA_FLIPS : [[]];
          // A fused image of another modality (its PET, its CT) is segmented by its own starter, and
          // the two probabilities are averaged (src/ml/companion.ts).
          const fusedImage = fusedImageOf(doc);
          const fused = fusedImage?.path;
          let companion: import('../ml/companion').Companion | undefined;
          if (fused) {
            const { companionProbability, CompanionError } = await import('../ml/companion');
            try {
              progress.report({ message: `segmenting the fused ${basename(fused)} with its own starter…` });
              const other = await (await import('../nifti')).readNifti(fused);
              companion = await companionProbability(image, other, basename(fused), (task) => runtime.starters.dirOf(task), { ttaFlips, signal: abort.signal, placedAffine: fusedImage?.registeredAffine });
              log.info(`${doc.fileName}: the fused ${basename(fused)} was segmented by ${companion.version} (${companion.task}, covering ${(100 * companion.coverage).toFixed(0)} % of the image); its probability is averaged with model ${choice.version}'s`);
            } catch (e) {
              if (!(e instanceof CompanionError)) throw e;
              log.info(`${doc.fileName}: no second opinion from the fused image: ${e.message}`);
            }
          }
          let shownPercent = 0;
          const seg = await segmentVolume(image, model, {
            companion: companion?.probability,
            threshold: settings.proposalThreshold ?? undefined,
            minLesionMm3: settings.minLesionMm3,
            ttaFlips,
            brainMask: skull?.brainMask ?? undefined,
            signal: abort.signal,
            onProgress: (done, total) => {
              const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
              progress.report({ message: segmentProgressMessage(done, total), increment: percent - shownPercent });
              shownPercent = percent;
            },
          });
          const seconds = (Date.now() - t0) / 1000;
          if (!runtime.isOpen(doc)) {
            log.info(`${doc.fileName}: closed while Segment Lesion ran; the proposal is dropped`);
            return undefined;
          }
          // The mask's provenance names both models when a second opinion took part.
          const proposedBy = companion ? `${choice.version} + ${companion.version} on ${basename(fused ?? '')}` : choice.version;
          proposals.show(
            doc,
            { modelVersion: proposedBy, labels: seg.labels, threshold: seg.threshold, lesionCount: seg.lesions.length },
            { probability: seg.probability, uncertainty: settings.testTimeAugmentation ? seg.uncertainty : null, brain: skull?.brainMask ?? undefined },
          );
          const lines = lesionReport({
            fileName: doc.fileName,
            modelVersion: choice.version,
            lesions: seg.lesions,
            seconds,
            windowsPredicted: seg.windowsPredicted,
            windowsTotal: seg.windowsTotal,
            threshold: seg.threshold,
          });
          for (const l of lines) log.info(l);
          const summary = `${lesionSummary(seg.lesions)}${companion ? ` (with ${companion.version} on the fused ${basename(fused ?? '')})` : ''}`;
          runtime.host.provider.postToWebviews(doc, { type: 'status', text: `Proposal from model ${choice.version}: ${summary}. Accept or reject it.`, level: 'info' });
          // Not awaited: the command finishes while the notification waits for a click.
          void vscode.window
            .showInformationMessage(`Lesion Lab: model ${choice.version} proposes ${summary} in ${doc.fileName}.`, 'Accept', 'Reject')
            .then((pick) => {
              if (pick === 'Accept') return vscode.commands.executeCommand(commands.acceptProposal, doc.uri);
              if (pick === 'Reject') return vscode.commands.executeCommand(commands.rejectProposal, doc.uri);
              return undefined;
            });
          return {
            fileName: doc.fileName,
            modelVersion: choice.version,
            backend: backend.name,
            lesionCount: seg.lesions.length,
            totalVolumeMm3: totalLesionVolumeMm3(seg.lesions),
            seconds,
            windowsTotal: seg.windowsTotal,
            windowsPredicted: seg.windowsPredicted,
          };
        } finally {
          cancelListener.dispose();
        }
      },
    );
  } catch (err) {
    if (isCancellation(err, abort.signal)) {
      log.info(`${doc.fileName}: Segment Lesion cancelled`);
      void vscode.window.showInformationMessage('Lesion Lab: Segment Lesion cancelled; the labels are unchanged.');
      return undefined;
    }
    const text = err instanceof NoModelError ? err.message : `Segment Lesion failed on ${doc.fileName}: ${errorText(err)}`;
    log.error(text);
    void vscode.window.showErrorMessage(`Lesion Lab: ${text}`);
    return undefined;
  } finally {
    runtime.releaseJob();
  }
}
