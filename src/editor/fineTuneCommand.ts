// Fine-tune on Corrected Masks: trains a new model version on every reviewed mask in the
// workspace, in a cancellable notification, and reports Dice before and after. It yields to the
// event loop between optimiser steps, so the extension host stays responsive.

import * as vscode from 'vscode';
import type { FineTuneResult, TrainingProgress } from '../ml/training';
import { NoModelError, workspaceStore, type ModelChoice } from '../ml/modelChoice';
import { isCancellation, type ModelRuntime } from './modelRuntime';
import { fineTuneSummary, trainingProgressMessage } from '../ml/modelText';
import { displayPath, findReviewedTrainingPairs } from '../dataset/trainingPairs';
import { readEditorSettings } from '../settings/editorSettings';
import { errorText } from '../util/errorText';

/** Fine-tune on Corrected Masks: trains a new version on every reviewed mask in the workspace. */
export async function fineTune(runtime: ModelRuntime, showModelHistoryCommand: string): Promise<FineTuneResult | undefined> {
  const host = runtime.host;
  const log = host.log;
  const folder = runtime.workspaceFolder();
  const store = workspaceStore(folder);
  if (folder === null || store === null) {
    void vscode.window.showErrorMessage(
      'Lesion Lab: Fine-tune needs an open workspace folder: it finds the reviewed masks there and stores the model versions in <folder>/.lesion-lab/models. Open a folder first.',
    );
    return undefined;
  }
  if (!vscode.workspace.isTrusted) {
    const manage = 'Manage Workspace Trust';
    void vscode.window
      .showWarningMessage(
        'Lesion Lab: Fine-tune is off in Restricted Mode: it reads the masks this workspace points to and writes model versions into it. Trust the workspace to use it.',
        manage,
      )
      .then((pick) => (pick === manage ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
    return undefined;
  }
  // Claimed before the first await: a second Fine-tune (or Segment Lesion) started while the
  // unsaved-changes question is open must see this one as running.
  const abort = new AbortController();
  if (!runtime.claimJob('fine-tuning', abort)) return undefined;
  let base: ModelChoice | undefined;
  try {
    const dirty = host.provider.openDocuments.filter((d) => d.session?.model.isDirty);
    if (dirty.length > 0) {
      const saveAll = 'Save All and Fine-tune';
      const pick = await vscode.window.showWarningMessage(
        `${dirty.map((d) => d.fileName).join(', ')} ${dirty.length === 1 ? 'has' : 'have'} unsaved label changes. Fine-tuning uses the saved, reviewed masks only.`,
        { modal: true },
        saveAll,
        'Fine-tune on Saved Masks',
      );
      if (pick === undefined) return undefined;
      if (pick === saveAll) await vscode.workspace.saveAll(false);
    }
    const settings = runtime.settings();
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const editorSettings = readEditorSettings((key) => vscode.workspace.getConfiguration('lesionLab').get(key)).settings;
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Lesion Lab: Fine-tune on Corrected Masks', cancellable: true },
      async (progress, token) => {
        const cancelListener = token.onCancellationRequested(() => abort.abort());
        try {
          progress.report({ message: 'finding reviewed masks…' });
          const search = await findReviewedTrainingPairs(roots, { maskPattern: editorSettings.maskPattern });
          for (const s of search.skipped) log.warn(`fine-tune: skipping ${displayPath(s.imagePath, roots)}: ${s.reason}`);
          if (search.truncated) log.warn('fine-tune: the workspace has too many files; the search for reviewed masks stopped early');
          if (search.pairs.length === 0) {
            const msg =
              `no reviewed masks found among ${search.imagesSeen} images in the workspace (mask pattern "${editorSettings.maskPattern}"). ` +
              'Open an image in Lesion Lab, correct its labels and save: saving marks the mask reviewed.';
            log.warn(`fine-tune: ${msg}`);
            void vscode.window.showWarningMessage(`Lesion Lab: ${msg}`);
            return undefined;
          }
          log.info(`fine-tune: ${search.pairs.length} reviewed pair(s): ${search.pairs.map((p) => displayPath(p.imagePath, roots)).join(', ')}`);
          // The chosen model is the base; in a workspace without one, ask which starter fits the
          // cases, the one the CLI's fine-tune would pick first.
          base = await runtime.modelToRun('Fine-tune', async () => (await import('../ml/starterModels')).suggestStarterForCases(search.pairs, runtime.extensionRoot));
          if (!base) return undefined;
          progress.report({ message: 'starting the backend…' });
          const backend = await runtime.ensureBackend();
          const { describePostprocessingChoice, fineTune, fineTuneStart } = await import('../ml/training');
          // The base, unless its grid or modality does not suit the reviewed cases (coarser slices, another modality).
          const begin = await fineTuneStart(base, search.pairs, { replan: true, loss: settings.trainingLoss });
          if (begin.replanned) log.info(`fine-tune: ${begin.replanned.join('; ')}`);
          if (begin.newLesionType) log.info(`fine-tune: ${begin.newLesionType}: learning rate ${begin.options.learningRate}`);
          // A workspace may hold several modalities of a patient (CT, MR, PET): the run takes the
          // cases its model's normalisation suits and says which it leaves out.
          const { modalityMismatch } = await import('../ml/autoConfig');
          const { readNifti } = await import('../nifti');
          const runPreprocessing = 'newNetwork' in begin.start ? begin.start.newNetwork.preprocessing : (begin.start.configuration?.preprocessing ?? base.card.preprocessing);
          const pairs: typeof search.pairs = [];
          const leftOut: string[] = [];
          for (const p of search.pairs) {
            const image = await readNifti(p.imagePath);
            const mismatch = modalityMismatch(image.data, image.spacingMm, runPreprocessing);
            if (mismatch) {
              leftOut.push(displayPath(p.imagePath, roots));
              log.warn(`fine-tune: leaving out ${displayPath(p.imagePath, roots)}: ${mismatch}`);
            } else pairs.push(p);
          }
          if (pairs.length === 0) {
            const msg = `none of the ${search.pairs.length} reviewed case(s) suits model ${base.version}'s modality (${runPreprocessing.modality}); Select Model picks one for theirs.`;
            log.warn(`fine-tune: ${msg}`);
            void vscode.window.showWarningMessage(`Lesion Lab: ${msg}`);
            return undefined;
          }
          const { unetNetworks } = await import('../ml/inference');
          const budgetS = settings.fineTuneMinutes * 60;
          let shownPercent = 0;
          let lastLoggedEpoch = -1;
          log.info(
            `fine-tune: from model ${base.version} (${base.dir}), loss ${settings.trainingLoss}, budget ${settings.fineTuneMinutes} min, backend ${backend.name}`,
          );
          const result = await fineTune({
            ...begin.start,
            ...begin.options,
            replanned: begin.replanned,
            pairs: pairs.map((p) => ({ imagePath: p.imagePath, maskPath: p.maskPath })),
            store,
            networks: unetNetworks,
            minutes: settings.fineTuneMinutes,
            steps: settings.fineTuneMaxSteps > 0 ? settings.fineTuneMaxSteps : undefined,
            loss: settings.trainingLoss,
            backend: `${backend.name}${backend.simd ? ' (SIMD)' : ''}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}`,
            signal: abort.signal,
            onProgress: (p: TrainingProgress) => {
              const percent = Math.min(99, Math.floor((100 * p.elapsedS) / budgetS));
              progress.report({ message: trainingProgressMessage(p), increment: Math.max(0, percent - shownPercent) });
              shownPercent = Math.max(shownPercent, percent);
              if (p.phase === 'training' && p.epoch !== lastLoggedEpoch && p.valDice !== null) {
                lastLoggedEpoch = p.epoch;
                log.info(`fine-tune: ${trainingProgressMessage(p)}`);
              }
            },
          });
          const summary = fineTuneSummary({
            newVersion: result.version.version,
            activated: result.activated,
            previousVersion: base.version,
            validationDiceBefore: result.validationDiceBefore,
            validationDiceAfter: result.validationDiceAfter,
            patchDiceBefore: result.patchDiceBefore,
            patchDiceAfter: result.patchDiceAfter,
            pairCount: pairs.length,
            steps: result.steps,
            stoppedBecause: result.stoppedBecause,
            durationS: result.durationS,
          });
          log.info(`fine-tune: ${summary} Stored in ${result.version.dir}`);
          if (leftOut.length > 0) log.warn(`fine-tune: ${leftOut.length} case(s) of another modality left out: ${leftOut.join(', ')}`);
          if (result.postprocessing) log.info(`fine-tune: ${describePostprocessingChoice(result.postprocessing)}`);
          await runtime.refreshModelStatus();
          const leftOutNote = leftOut.length > 0 ? ` ${leftOut.length} case(s) of another modality were left out (see the Lesion Lab output).` : '';
          void vscode.window.showInformationMessage(`Lesion Lab: ${summary}${leftOutNote}`, 'Show Model History').then((pick) =>
            pick ? vscode.commands.executeCommand(showModelHistoryCommand) : undefined,
          );
          return result;
        } finally {
          cancelListener.dispose();
        }
      },
    );
  } catch (err) {
    const previous = base?.version ?? runtime.status.modelVersion ?? 'the previous model';
    if (isCancellation(err, abort.signal)) {
      log.info(`fine-tune: cancelled; ${previous} is still the active model`);
      void vscode.window.showInformationMessage(`Lesion Lab: fine-tuning cancelled; model ${previous} is still the active one.`);
      return undefined;
    }
    const text = err instanceof NoModelError ? err.message : `fine-tuning failed: ${errorText(err)}; model ${previous} is still the active one`;
    log.error(`fine-tune: ${text}`);
    void vscode.window.showErrorMessage(`Lesion Lab: ${text}`);
    return undefined;
  } finally {
    runtime.releaseJob();
    await runtime.refreshModelStatus();
  }
}
