// Segment All Unreviewed, one case after another: segments every case without a mask (or with
// a proposal from another model version) and saves each proposal beside its image. Cases with
// unsaved edits are skipped; a cancelled run keeps what it saved.

import * as vscode from 'vscode';
import { readNifti } from '../nifti';
import { casesToSegment, type CaseInfo } from '../dataset/cases';
import { saveProposal } from '../dataset/proposalFiles';
import type { LabelDocument } from './labelDocument';
import { defaultLabelTable } from '../labels/labelModel';
import { sha256OfFile } from '../labels/maskFiles';
import type { ModelCommandHost, SegmentationEngine } from './modelRuntime';
import { errorText } from '../util/errorText';

/** What Segment All Unreviewed returns (for tests and scripts). */
export interface SegmentAllResult {
  modelVersion: string;
  segmented: string[];
  failed: { imagePath: string; reason: string }[];
  skipped: number;
  cancelled: boolean;
}

/** What {@link segmentCases} reports to and calls back into the Cases view. */
export interface SegmentCasesEnv {
  host: ModelCommandHost;
  abort: AbortController;
  progress: vscode.Progress<{ message?: string; increment?: number }>;
  /** Rescans the cases (after each case). */
  refresh(): void;
  /** Shows a just-saved proposal on its open document. */
  offer(doc: LabelDocument): void;
}

/** Segments the cases of `ordered` that need it, in that order, with `engine`. */
export async function segmentCases(engine: SegmentationEngine, ordered: readonly CaseInfo[], env: SegmentCasesEnv): Promise<SegmentAllResult> {
  const { segmentVolume, DEFAULT_TTA_FLIPS } = await import('../ml/inference');
  const { ctWithoutInterceptSigns, modalityMismatch } = await import('../ml/autoConfig');
  const { brainMaskFor } = await import('../ml/starterChoice');
  const settings = engine.settings;
  const todo = casesToSegment(ordered, engine.modelVersion);
  const result: SegmentAllResult = { modelVersion: engine.modelVersion, segmented: [], failed: [], skipped: ordered.length - todo.length, cancelled: false };
  env.host.log.info(`Segment All Unreviewed: ${todo.length} case(s) with model ${engine.modelVersion} (${engine.backendName}); ${result.skipped} skipped (reviewed, edited, or proposal from this model)`);
  const step = todo.length > 0 ? 100 / todo.length : 100;
  for (let n = 0; n < todo.length; n++) {
    if (env.abort.signal.aborted) break;
    const c = todo[n];
    env.progress.report({ message: `${n + 1} / ${todo.length}: ${c.relativePath}` });
    const open = env.host.provider.openDocuments.find((d) => d.uri.fsPath === c.imagePath);
    if (open?.session?.model.isDirty) {
      env.host.log.info(`Segment All Unreviewed: ${c.relativePath} has unsaved edits open; skipped`);
      result.skipped++;
      env.progress.report({ increment: step });
      continue;
    }
    try {
      const image = await readNifti(c.imagePath);
      if (image.rgb) throw new Error(`${c.fileName} is an RGB image; Segment Lesion needs a grey-level volume`);
      // A case of another modality than the model's gets no proposal rather than a meaningless one.
      const mismatch = modalityMismatch(image.data, image.spacingMm, engine.model.preprocessing);
      if (mismatch) throw new Error(`${c.fileName}: ${mismatch}; no proposal saved (Select Model picks one for this modality)`);
      const rawCt = engine.model.preprocessing.modality === 'CT' ? null : ctWithoutInterceptSigns(image.data);
      if (rawCt) env.host.log.warn(`Segment All Unreviewed: ${c.relativePath}: ${rawCt}; segmented as ${engine.model.preprocessing.modality}`);
      const skull = brainMaskFor(image, engine.model.brainImages);
      if (skull && !skull.brainMask) throw new Error(`${c.fileName}: ${skull.warning}; no proposal saved`);
      if (skull?.brainMask) env.host.log.info(`Segment All Unreviewed: ${c.relativePath}: ${skull.note}`);
      const seg = await segmentVolume(image, engine.model, {
        threshold: settings.proposalThreshold ?? undefined,
        minLesionMm3: settings.minLesionMm3,
        ttaFlips: settings.testTimeAugmentation ? DEFAULT_TTA_FLIPS : [[]],
        brainMask: skull?.brainMask ?? undefined,
        signal: env.abort.signal,
      });
      const record = await saveProposal({
        image,
        imagePath: c.imagePath,
        maskPath: c.maskPath,
        imageSha256: await sha256OfFile(c.imagePath),
        modelVersion: engine.modelVersion,
        threshold: seg.threshold,
        minLesionMm3: settings.minLesionMm3,
        probability: seg.probability,
        uncertainty: settings.testTimeAugmentation ? seg.uncertainty : null,
        labels: seg.labels,
        lesions: seg.lesions,
        labelTable: defaultLabelTable(),
      });
      result.segmented.push(c.imagePath);
      env.host.log.info(
        `Segment All Unreviewed: ${c.relativePath}: ${record.lesionCount} lesion(s), ${record.volumeMm3.toFixed(1)} mm³` +
          (record.meanUncertainty !== null ? `, mean uncertainty ${record.meanUncertainty.toFixed(4)}` : ''),
      );
      if (open) env.offer(open);
    } catch (err) {
      if (env.abort.signal.aborted) break;
      result.failed.push({ imagePath: c.imagePath, reason: errorText(err) });
      env.host.log.error(`Segment All Unreviewed: ${c.relativePath}: ${errorText(err)}`);
    }
    env.progress.report({ increment: step });
    env.refresh();
  }
  result.cancelled = env.abort.signal.aborted;
  const failed = result.failed.length > 0 ? `; ${result.failed.length} failed (see the Lesion Lab output)` : '';
  const text = result.cancelled
    ? `Segment All Unreviewed cancelled after ${result.segmented.length} of ${todo.length} case(s); the proposals saved so far stay, and running it again continues with the rest${failed}.`
    : `Segment All Unreviewed: ${result.segmented.length} proposal(s) saved with model ${engine.modelVersion}${failed}. Open Next Case (Alt+N) to review them.`;
  env.host.log.info(text);
  void vscode.window.showInformationMessage(`Lesion Lab: ${text}`);
  return result;
}
