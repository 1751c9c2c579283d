// The Prompt tool on the host: the webview sends the current object's prompts (clicks, boxes,
// outlines and scribbles, in voxel indices); the host runs click-guided segmentation (the shipped
// prompt model, src/ml/promptModel.ts, else the click model shipped for the image's task,
// src/ml/clickModel.ts, else the star-shaped method of src/interactive) on the document's
// image at full precision and shows the object's 0/1 mask as the pending proposal; Accept writes
// it into the selected label as one undoable edit, honouring locked labels and the overwrite
// policy; Reject drops it. The computation runs here, not in the webview, because the host holds
// the image unconverted (the webview may hold a 16-bit or half-float copy) and the model's map.

import * as vscode from 'vscode';
import { PromptError, type Prompts } from '../interactive';
import { segmentPromptedObject, type PromptMethod, type PromptModel } from '../ml/promptModel';
import type { ClickModel } from '../ml/clickModel';
import { chooseStarterTask, type StarterTask } from '../ml/starterChoice';
import type { LabelArray } from '../protocol/labelDelta';
import type { AcceptPromptMessage, OverwriteMode, PromptMessage, PromptTarget } from '../protocol/messages';
import type { LabelDocument } from './labelDocument';
import { lockedLabelValues, proposalDelta } from '../labels/proposal';
import type { LesionLabEditorProvider, PromptRequest } from './provider';
import { errorText } from '../util/errorText';

/** The `modelVersion` of a prompt proposal's ProposalInfo (no model made it). */
export const PROMPT_PROPOSAL_SOURCE = 'prompts';

/** What the prompt controller needs from the extension. */
export interface PromptHost {
  provider: LesionLabEditorProvider;
  log: vscode.LogOutputChannel;
  /** The prompt model (with its backend started), or null to use the star-shaped method; loaded at the first prompt. */
  loadPromptModel?: () => Promise<PromptModel | null>;
  /** The click model of a starter task (src/ml/clickModel.ts, backend started), or null where none is shipped. */
  loadClickModel?: (task: StarterTask) => Promise<ClickModel | null>;
}

/** The object being prompted on one document. */
interface PromptObject {
  objectId: number;
  prompts: Prompts;
  /** The object's mask for `prompts` (0/1 on the image grid). */
  mask: Uint8Array;
  voxelCount: number;
  target: PromptTarget;
}

/** What one prompt message gave (for tests and the log). */
export interface PromptRunResult {
  objectId: number;
  /** Voxels in the object (0 when the prompts were cleared). */
  voxelCount: number;
  /** Milliseconds of segmentation, or 0 when cleared. */
  ms: number;
  /** Whether the previous mask of the same object was refined (a point was added) rather than recomputed. */
  refined: boolean;
  /** Whether a model's probability map was used as the prior. */
  usedPrior: boolean;
  /** Which method segmented the object (none when the prompts were cleared). */
  method: PromptMethod | 'none';
}

/** What accepting a prompt proposal did. */
export interface PromptAcceptResult {
  labelValue: number;
  addedVoxels: number;
  replacedVoxels: number;
  /** Object voxels left alone because their label is locked. */
  lockedVoxels: number;
  /** Object voxels left alone by the overwrite policy ('empty' or 'label'). */
  policyVoxels: number;
}

/**
 * The object mask restricted by the overwrite policy, like the paint tools' rule
 * (webview/tools/paintRule.ts): 'empty' writes only background voxels, 'label' only background
 * and voxels of `overwriteLabel`, 'all' any voxel. Locked labels are handled by proposalDelta.
 * @returns the restricted mask and how many object voxels the policy left out.
 */
export function maskUnderPolicy(current: LabelArray, mask: Uint8Array, overwrite: OverwriteMode, overwriteLabel: number): { mask: Uint8Array; policyVoxels: number } {
  if (mask.length !== current.length) {
    throw new PromptError(`the object mask has ${mask.length} voxels but the labels have ${current.length}`);
  }
  if (overwrite === 'all') return { mask, policyVoxels: 0 };
  const out = new Uint8Array(mask.length);
  let policyVoxels = 0;
  for (let v = 0; v < mask.length; v++) {
    if (!mask[v]) continue;
    const now = current[v];
    if (now === 0 || (overwrite === 'label' && now === overwriteLabel)) out[v] = 1;
    else policyVoxels++;
  }
  return { mask: out, policyVoxels };
}

/**
 * Whether `next` is `prev` plus one correction at the end: one new point, one new scribble or one
 * new negative outline. Then the previous mask is refined (src/interactive keeps it and edits it
 * near the new prompt, as its robot-user evaluation does). Anything else (a box, an outline of the
 * object, Backspace, another object) is recomputed from all prompts, since a kept mask would keep
 * what a removed prompt or a box should take away.
 */
export function addsOneCorrection(prev: Prompts, next: Prompts): boolean {
  const [prevScribbles, nextScribbles] = [prev.scribbles ?? [], next.scribbles ?? []];
  const [prevLassos, nextLassos] = [prev.lassos ?? [], next.lassos ?? []];
  const added = [next.points.length - prev.points.length, nextScribbles.length - prevScribbles.length, nextLassos.length - prevLassos.length];
  const oneAdded = added.every((x) => x >= 0) && added.reduce((a, x) => a + x, 0) === 1;
  if (!oneAdded || next.boxes.length !== prev.boxes.length || (added[2] === 1 && nextLassos[nextLassos.length - 1].positive !== false)) return false;
  const same = (a: readonly number[], b: readonly number[]): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
  const samePath = (a: readonly (readonly number[])[], b: readonly (readonly number[])[]): boolean => a.length === b.length && a.every((p, q) => same(p, b[q]));
  return (
    prev.points.every((p, n) => p.positive === next.points[n].positive && same(p.voxel, next.points[n].voxel)) &&
    prev.boxes.every((b, n) => same(b.min, next.boxes[n].min) && same(b.max, next.boxes[n].max)) &&
    prevLassos.every((l, n) => (l.positive !== false) === (nextLassos[n].positive !== false) && samePath(l.points, nextLassos[n].points)) &&
    prevScribbles.every((c, n) => c.positive === nextScribbles[n].positive && samePath(c.points, nextScribbles[n].points))
  );
}

/** Handles the Prompt tool's messages and holds each document's prompted object. */
export class PromptSegmenter implements vscode.Disposable {
  private readonly objects = new WeakMap<LabelDocument, PromptObject>();
  /** A model's probability map of the document, taken from its proposal when prompting started. */
  private readonly priors = new WeakMap<LabelDocument, Float32Array>();
  private readonly disposables: vscode.Disposable[] = [];
  private promptModel: Promise<PromptModel | null> | undefined;
  private readonly clickModels = new Map<StarterTask, Promise<ClickModel | null>>();
  private readonly tasks = new WeakMap<LabelDocument, StarterTask>();

  /**
   * @param onPromptProposal - called when a prompt proposal replaces what was shown (the model
   *   commands drop their pending proposal, whose map is no longer on screen).
   */
  constructor(
    private readonly host: PromptHost,
    private readonly onPromptProposal: (document: LabelDocument) => void = () => undefined,
  ) {
    this.disposables.push(host.provider.onDidReceivePrompt((request) => this.onRequest(request)));
  }

  private async onRequest({ document, message }: PromptRequest): Promise<void> {
    try {
      if (message.type === 'prompt') this.segment(document, message, await this.loadedPromptModel(), await this.loadedClickModel(document));
      else this.accept(document, message);
    } catch (err) {
      this.host.log.error(`${document.fileName}: Prompt tool: ${errorText(err)}`);
      this.host.provider.postToWebviews(document, { type: 'status', text: `Prompt: ${errorText(err)}`, level: 'warning' });
    }
  }

  /** The prompt model, loaded once; null (star-shaped method) when there is none or it failed to load (logged). */
  private loadedPromptModel(): Promise<PromptModel | null> {
    const load = this.host.loadPromptModel;
    if (!load) return Promise.resolve(null);
    this.promptModel ??= load().catch((err: unknown) => {
      this.host.log.error(`prompt model: ${errorText(err)}; the Prompt tool uses the star-shaped method`);
      return null;
    });
    return this.promptModel;
  }

  /** The click model of the document image's task (as the starter choice tells it), loaded once per task; null when none (or it failed to load: logged). */
  private loadedClickModel(document: LabelDocument): Promise<ClickModel | null> {
    const load = this.host.loadClickModel;
    const image = document.session?.image;
    if (!load || !image) return Promise.resolve(null);
    const task = this.tasks.get(document) ?? chooseStarterTask(image).task;
    this.tasks.set(document, task);
    let model = this.clickModels.get(task);
    if (!model) {
      model = load(task).catch((err: unknown) => {
        this.host.log.error(`click model for ${task}: ${errorText(err)}; the Prompt tool uses the star-shaped method`);
        return null;
      });
      this.clickModels.set(task, model);
    }
    return model;
  }

  /** Whether `document` shows a prompt proposal awaiting Accept or Reject. */
  hasProposal(document: LabelDocument): boolean {
    return this.objects.has(document);
  }

  /**
   * Recomputes the object of `message` and shows it as the document's proposal (or drops the
   * object when the prompts are empty).
   * @throws PromptError for prompts the segmentation refuses (e.g. only negative points).
   */
  segment(document: LabelDocument, message: PromptMessage, promptModel: PromptModel | null = null, clickModel: ClickModel | null = null): PromptRunResult {
    const session = document.session;
    if (!session) throw new PromptError(`${document.fileName} is not open`);
    const provider = this.host.provider;
    const old = this.objects.get(document);
    const lassos = message.lassos ?? [];
    const scribbles = message.scribbles ?? [];
    const prompts: Prompts = { points: message.points, boxes: message.boxes, ...(lassos.length > 0 ? { lassos } : {}), ...(scribbles.length > 0 ? { scribbles } : {}) };
    if (prompts.points.length === 0 && prompts.boxes.length === 0 && lassos.length === 0 && scribbles.length === 0) {
      if (old) {
        this.objects.delete(document);
        provider.clearOverlay(document, 'probability');
      }
      return { objectId: message.objectId, voxelCount: 0, ms: 0, refined: false, usedPrior: false, method: 'none' };
    }
    if (!old) this.takeModelPrior(document);
    const prior = this.priors.get(document);
    const image = session.image;
    const refine = old !== undefined && old.objectId === message.objectId && addsOneCorrection(old.prompts, prompts);
    const t0 = performance.now();
    const result = segmentPromptedObject({ values: image.data, dims: image.dims, spacingMm: image.spacingMm }, prompts, {
      previous: refine ? old.mask : undefined,
      prior,
      promptModel: promptModel ?? undefined,
      clickModel: clickModel ?? undefined,
    });
    // The overlay's values and the object's size in one pass (a whole brain has 7 million voxels:
    // a separate count and a copy of the buffer cost 0.1 s a click).
    let voxelCount = 0;
    const values = new Float32Array(result.mask.length);
    for (let v = 0; v < values.length; v++) {
      if (!result.mask[v]) continue;
      values[v] = 1;
      voxelCount++;
    }
    this.objects.set(document, { objectId: message.objectId, prompts, mask: result.mask, voxelCount, target: message.target });
    if (!old) {
      // The prompt proposal replaces a model proposal on screen, with its uncertainty map and brain outline.
      this.onPromptProposal(document);
      provider.clearOverlay(document, 'uncertainty');
      provider.clearOverlay(document, 'brain');
    }
    provider.showOverlay(document, {
      type: 'overlay',
      kind: 'probability',
      voxels: values.buffer,
      range: [0, 1],
      proposal: { modelVersion: PROMPT_PROPOSAL_SOURCE, labelValue: message.target.labelValue, threshold: 0.5, origin: 'prompts' },
    });
    // Segmentation plus building and posting the overlay: the host's part of a click.
    const ms = performance.now() - t0;
    const text = `Prompt: ${Math.round(ms)} ms, ${voxelCount.toLocaleString('en-US')} voxels`;
    const usedPrior = prior !== undefined && result.method === 'star-shaped';
    const detail = `${result.method} method, ${prompts.points.length} point(s), ${prompts.boxes.length} box(es)${lassos.length > 0 ? `, ${lassos.length} lasso(s)` : ''}${scribbles.length > 0 ? `, ${scribbles.length} scribble(s)` : ''}${refine ? ', refined' : ''}${usedPrior ? ', model prior' : ''}`;
    this.host.log.info(`${document.fileName}: ${text} (${detail}; ROI ${result.roi.min.join(',')}…${result.roi.max.join(',')})`);
    provider.postToWebviews(document, { type: 'status', text: `${text}. Accept (Shift+A) or Reject (Shift+X); Backspace removes the last prompt, Esc clears them.`, level: 'info' });
    return { objectId: message.objectId, voxelCount, ms, refined: refine, usedPrior, method: result.method };
  }

  /** Keeps the model's probability map shown now (a Segment Lesion proposal) as the prior. */
  private takeModelPrior(document: LabelDocument): void {
    const shown = this.host.provider.overlayOf(document, 'probability');
    if (!shown?.proposal || shown.proposal.origin === 'prompts') return;
    const map = new Float32Array(shown.voxels.slice(0));
    if (map.length === document.labels.length) this.priors.set(document, map);
  }

  /**
   * Accept: writes the prompted object into `target` (default: the label and policy of the last
   * prompt) as one undoable edit; locked labels and the overwrite policy are respected.
   * @returns what changed, or undefined when there is no prompt proposal.
   * @throws LabelEditError when the document is read-only (the proposal stays).
   */
  accept(document: LabelDocument, message?: AcceptPromptMessage): PromptAcceptResult | undefined {
    const session = document.session;
    const object = this.objects.get(document);
    if (!session || !object) return undefined;
    const target = message?.target ?? object.target;
    const current = document.labels;
    const { mask, policyVoxels } = maskUnderPolicy(current, object.mask, target.overwrite, target.overwriteLabel);
    const result = proposalDelta(current, mask, { labelValue: target.labelValue, lockedValues: lockedLabelValues(session.model.labelTable) });
    const changed = result.addedVoxels + result.replacedVoxels;
    // One undoable edit; read-only documents throw LabelEditError and keep the proposal.
    if (changed > 0) document.makeEdit(`Prompt segmentation (label ${target.labelValue})`, result.delta, null);
    this.drop(document, 'accepted');
    const kept = [
      result.lockedVoxels > 0 ? `${result.lockedVoxels.toLocaleString('en-US')} voxels of locked labels kept` : '',
      policyVoxels > 0 ? `${policyVoxels.toLocaleString('en-US')} voxels kept by the overwrite policy (${target.overwrite})` : '',
    ].filter(Boolean);
    const text = `Accepted the prompted object: ${changed.toLocaleString('en-US')} voxels set to label ${target.labelValue}${kept.length ? `; ${kept.join('; ')}` : ''}. Prompt the next object.`;
    this.host.log.info(`${document.fileName}: ${text}`);
    this.host.provider.postToWebviews(document, { type: 'status', text, level: 'info' });
    return { labelValue: target.labelValue, addedVoxels: result.addedVoxels, replacedVoxels: result.replacedVoxels, lockedVoxels: result.lockedVoxels, policyVoxels };
  }

  /** Reject: drops the prompted object and its proposal; labels are untouched. Returns whether there was one. */
  reject(document: LabelDocument): boolean {
    if (!this.objects.has(document)) return false;
    this.drop(document, 'rejected');
    this.host.log.info(`${document.fileName}: prompt proposal rejected`);
    return true;
  }

  /**
   * Forgets the document's prompts (a new model proposal replaced the prompt proposal) and the
   * model prior, which the new proposal's map supersedes.
   */
  forget(document: LabelDocument): void {
    this.priors.delete(document);
    if (!this.objects.delete(document)) return;
    this.host.provider.postToWebviews(document, { type: 'promptsCleared', cause: 'replaced' });
  }

  private drop(document: LabelDocument, cause: 'accepted' | 'rejected'): void {
    this.objects.delete(document);
    this.host.provider.clearOverlay(document, 'probability');
    this.host.provider.postToWebviews(document, { type: 'promptsCleared', cause });
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
