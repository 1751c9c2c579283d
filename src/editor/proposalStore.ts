// The lesion proposals shown on open documents, waiting for Accept or Reject. Accept writes a
// proposal as label 1 (locked labels kept) in one undoable edit; Reject drops it and its maps.
// The Prompt tool's object, while one is shown, takes precedence over a model proposal.

import * as vscode from 'vscode';
import type { LabelDocument } from './labelDocument';
import type { ModelRuntime } from './modelRuntime';
import { float32Buffer, lockedLabelValues, mapRange, proposalDelta } from '../labels/proposal';
import { PROMPT_PROPOSAL_SOURCE, PromptSegmenter } from './promptCommand';
import type { ClickModel } from '../ml/clickModel';
import type { StarterTask } from '../ml/starterChoice';
import type { PromptModel } from '../ml/promptModel';
import { errorText } from '../util/errorText';

export const PROPOSAL_LABEL_VALUE = 1;

/** A proposal shown on a document, waiting for Accept or Reject. */
export interface PendingProposal {
  modelVersion: string;
  /** Thresholded proposal after the minimum lesion size (1 = lesion), on the image grid. */
  labels: Uint8Array;
  threshold: number;
  lesionCount: number;
}

/** The maps shown with a proposal. */
export interface ProposalMaps {
  probability: Float32Array;
  /** Null when there is no uncertainty map (no test-time augmentation). */
  uncertainty: Float32Array | null;
  /** The brain the model was given (1 inside) when it stripped the skull of a head; absent otherwise. */
  brain?: Uint8Array;
}

/** The overlay kinds a model proposal brings, cleared with it. */
const PROPOSAL_OVERLAYS = ['probability', 'uncertainty', 'brain'] as const;

/** A saved proposal to show on an opened document (see {@link ProposalStore.offerSaved}). */
export interface SavedProposalView extends PendingProposal {
  probability: Float32Array;
  uncertainty: Float32Array | null;
}

/** What Accept Lesion Proposal returns. */
export interface AcceptCommandResult {
  modelVersion: string;
  addedVoxels: number;
  replacedVoxels: number;
  lockedVoxels: number;
}

export class ProposalStore implements vscode.Disposable {
  private readonly proposals = new WeakMap<LabelDocument, PendingProposal>();
  /** The Prompt tool's objects; Accept / Reject act on them first while one is shown. */
  readonly prompts: PromptSegmenter;

  constructor(private readonly runtime: ModelRuntime) {
    // A prompt proposal replaces a model proposal on screen: the hidden one is dropped.
    const loadPromptModel = async (): Promise<PromptModel | null> => {
      const { findShippedModelDir } = await import('../ml/modelStore');
      const dir = findShippedModelDir('prompt');
      if (!dir) return null;
      await runtime.ensureBackend();
      const { loadPromptModel: load } = await import('../ml/promptModel');
      const model = await load(dir);
      runtime.host.log.info(`Prompt tool: prompt model ${dir} (${model.network.paramCount.toLocaleString('en-US')} parameters)`);
      return model;
    };
    const loadClickModel = async (task: StarterTask): Promise<ClickModel | null> => {
      const { findShippedModelDir } = await import('../ml/modelStore');
      const { clickModelFolder } = await import('../ml/starterChoice');
      const dir = findShippedModelDir(clickModelFolder(task));
      if (!dir) return null;
      const { loadClickModel: load } = await import('../ml/clickModel');
      await runtime.ensureBackend();
      const model = await load(dir);
      runtime.host.log.info(`Prompt tool: click model ${dir} for ${task} images`);
      return model;
    };
    this.prompts = new PromptSegmenter({ ...runtime.host, loadPromptModel, loadClickModel }, (doc) => this.proposals.delete(doc));
  }

  /** Whether `doc` shows a model proposal waiting for Accept or Reject. */
  has(doc: LabelDocument): boolean {
    return this.proposals.has(doc);
  }

  /** Shows `proposal` with its maps on `doc`, replacing any earlier proposal and prompt object. */
  show(doc: LabelDocument, proposal: PendingProposal, maps: ProposalMaps): void {
    this.proposals.set(doc, proposal);
    this.prompts.forget(doc);
    const provider = this.runtime.host.provider;
    // A new proposal replaces every map of the previous one.
    for (const kind of PROPOSAL_OVERLAYS) provider.clearOverlay(doc, kind);
    if (maps.brain) {
      // Shown so that the user sees where the model looked: nothing outside it is proposed.
      provider.showOverlay(doc, { type: 'overlay', kind: 'brain', voxels: float32Buffer(Float32Array.from(maps.brain)), range: [0, 1], proposal: null });
    }
    if (maps.uncertainty) {
      provider.showOverlay(doc, {
        type: 'overlay',
        kind: 'uncertainty',
        voxels: float32Buffer(maps.uncertainty),
        range: [0, mapRange(maps.uncertainty)[1]],
        proposal: null,
      });
    }
    provider.showOverlay(doc, {
      type: 'overlay',
      kind: 'probability',
      voxels: float32Buffer(maps.probability),
      range: [0, 1],
      proposal: { modelVersion: proposal.modelVersion, labelValue: PROPOSAL_LABEL_VALUE, threshold: proposal.threshold },
    });
  }

  /** Shows a proposal saved beside the image (Segment All Unreviewed) on `doc`, ready to Accept. */
  offerSaved(doc: LabelDocument, saved: SavedProposalView): void {
    const { modelVersion, labels, threshold, lesionCount } = saved;
    this.show(doc, { modelVersion, labels, threshold, lesionCount }, { probability: saved.probability, uncertainty: saved.uncertainty });
    const text = `Proposal from model ${saved.modelVersion} (saved by Segment All Unreviewed): ${saved.lesionCount} lesion${saved.lesionCount === 1 ? '' : 's'}. Accept or reject it.`;
    this.runtime.host.provider.postToWebviews(doc, { type: 'status', text, level: 'info' });
    this.runtime.host.log.info(`${doc.fileName}: ${text}`);
  }

  /** Accept Lesion Proposal: writes the proposal as label 1 (locked labels kept) in one undoable edit. */
  accept(uri?: vscode.Uri): AcceptCommandResult | undefined {
    const host = this.runtime.host;
    const doc = this.runtime.documentOrComplain(uri, 'Accept Lesion Proposal');
    if (!doc?.session) return undefined;
    if (this.prompts.hasProposal(doc)) {
      // The Prompt tool's object goes into the label and policy it was prompted with.
      try {
        const r = this.prompts.accept(doc);
        return r && { modelVersion: PROMPT_PROPOSAL_SOURCE, addedVoxels: r.addedVoxels, replacedVoxels: r.replacedVoxels, lockedVoxels: r.lockedVoxels };
      } catch (err) {
        host.log.error(`${doc.fileName}: accepting the prompt proposal failed: ${errorText(err)}`);
        void vscode.window.showErrorMessage(`Lesion Lab: the prompt proposal could not be accepted: ${errorText(err)}`);
        return undefined;
      }
    }
    const pending = this.proposals.get(doc);
    if (!pending) {
      void vscode.window.showWarningMessage(`Lesion Lab: there is no lesion proposal on ${doc.fileName}; run Segment Lesion first.`);
      return undefined;
    }
    try {
      const result = proposalDelta(doc.labels, pending.labels, {
        labelValue: PROPOSAL_LABEL_VALUE,
        lockedValues: lockedLabelValues(doc.session.model.labelTable),
      });
      const changed = result.addedVoxels + result.replacedVoxels;
      if (changed > 0) doc.recordProposal(pending.modelVersion, result.delta, `Accept lesion proposal (model ${pending.modelVersion})`);
      // Kept for the correction effort measured when the mask is saved (src/dataset/review.ts).
      doc.session.acceptedProposal = { modelVersion: pending.modelVersion, labels: pending.labels };
      this.proposals.delete(doc);
      for (const kind of PROPOSAL_OVERLAYS) host.provider.clearOverlay(doc, kind);
      const locked = result.lockedVoxels > 0 ? `; ${result.lockedVoxels} voxels of locked labels kept` : '';
      const replaced = result.replacedVoxels > 0 ? ` (${result.replacedVoxels} of them from other labels)` : '';
      const text =
        changed > 0
          ? `accepted the proposal of model ${pending.modelVersion}: ${changed} voxels set to label ${PROPOSAL_LABEL_VALUE}${replaced}${locked}`
          : `the proposal of model ${pending.modelVersion} changes no voxel (${pending.lesionCount} lesions, all already labelled or locked)${locked}`;
      host.log.info(`${doc.fileName}: ${text}`);
      host.provider.postToWebviews(doc, { type: 'status', text: text[0].toUpperCase() + text.slice(1), level: 'info' });
      return { modelVersion: pending.modelVersion, addedVoxels: result.addedVoxels, replacedVoxels: result.replacedVoxels, lockedVoxels: result.lockedVoxels };
    } catch (err) {
      // Read-only documents and out-of-sync labels: nothing changed, the proposal stays.
      host.log.error(`${doc.fileName}: Accept Lesion Proposal failed: ${errorText(err)}`);
      void vscode.window.showErrorMessage(`Lesion Lab: the proposal could not be accepted: ${errorText(err)}`);
      return undefined;
    }
  }

  /** Reject Lesion Proposal: removes the proposal and its maps (the brain outline too); labels are untouched. */
  reject(uri?: vscode.Uri): boolean {
    const host = this.runtime.host;
    const doc = this.runtime.documentOrComplain(uri, 'Reject Lesion Proposal');
    if (!doc?.session) return false;
    if (this.prompts.reject(doc)) return true;
    const had = this.proposals.delete(doc);
    for (const kind of PROPOSAL_OVERLAYS) host.provider.clearOverlay(doc, kind);
    if (had) host.log.info(`${doc.fileName}: lesion proposal rejected`);
    return had;
  }

  dispose(): void {
    this.prompts.dispose();
  }
}
