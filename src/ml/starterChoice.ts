// Which shipped starter model suits an image: one per task we have permissive data for, in
// media/models/<task>/. Chosen from the image itself:
//  - CT (HU range: 1st percentile ≤ −500, integer values)           → sarcoma-ct
//  - PET (non-negative, mostly non-integer, SUV-like range, voxels ≥ 1.5 mm) → sarcoma-pet
//  - MR on a brain-sized, near-isotropic fine grid (every axis ≥ 140 mm, spacing ≤ 1.5 mm and
//    within a factor 1.5 across axes, as MNI-registered FLAIR is)     → ms-flair
//  - any other MR                                                     → sarcoma-mr-t1
// When the chosen folder is missing, media/models/starter (the historical MS FLAIR model) is used.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectModality } from './autoConfig';
import { findModelsDir } from './modelStore';
import type { Vec3 } from '../volume/vec3';

export const STARTER_TASKS = ['sarcoma-ct', 'sarcoma-mr-t1', 'sarcoma-pet', 'ms-flair'] as const;
export type StarterTask = (typeof STARTER_TASKS)[number];

/** Error raised when no starter model is installed. */
export class StarterChoiceError extends Error {
  override name = 'StarterChoiceError';
}

/** The task whose starter suits an image, and why. */
export function chooseStarterTask(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }): { task: StarterTask; reason: string } {
  const m = detectModality(image.data, image.spacingMm);
  if (m.modality === 'CT') return { task: 'sarcoma-ct', reason: `CT: ${m.reason}` };
  if (m.modality === 'PET') return { task: 'sarcoma-pet', reason: `PET: ${m.reason}` };
  const fov = image.dims.map((n, a) => n * image.spacingMm[a]);
  const sp = image.spacingMm;
  const brain = fov.every((f) => f >= 140) && Math.max(...sp) <= 1.5 && Math.max(...sp) / Math.min(...sp) <= 1.5;
  if (brain) return { task: 'ms-flair', reason: `MR on a brain-sized near-isotropic grid (${fov.map((f) => f.toFixed(0)).join('×')} mm at ${sp.map((s) => s.toFixed(2)).join('×')} mm): ${m.reason}` };
  return { task: 'sarcoma-mr-t1', reason: `MR (field of view ${fov.map((f) => f.toFixed(0)).join('×')} mm at ${sp.map((s) => s.toFixed(2)).join('×')} mm, not a whole brain): ${m.reason}` };
}

/** Where a task's click model (src/ml/clickModel.ts) is shipped, under media/models: click/<task>. */
export function clickModelFolder(task: StarterTask): string {
  return `click/${task}`;
}

/**
 * The starter model folder for an image: media/models/<task>/ of {@link chooseStarterTask},
 * else media/models/starter.
 * @throws StarterChoiceError when neither exists.
 */
export function starterForImage(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }, from?: string): { dir: string; task: StarterTask; reason: string } {
  const choice = chooseStarterTask(image);
  const models = findModelsDir(from);
  if (models) {
    const dir = join(models, choice.task);
    if (existsSync(join(dir, 'card.json'))) return { dir, ...choice };
    const fallback = join(models, 'starter');
    if (existsSync(join(fallback, 'card.json'))) return { dir: fallback, task: choice.task, reason: `${choice.reason}; media/models/${choice.task} is missing, so the general starter is used` };
  }
  throw new StarterChoiceError(`no starter model for ${choice.task} (${choice.reason}): media/models/${choice.task} is missing; run npm run train:starter -- --task ${choice.task}`);
}
