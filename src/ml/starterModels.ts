// The starter models shipped in media/models/<name>/, one per task we have permissive data for:
// their card.json names the task (`task`: name, modality, description) and the held-out figures
// (`heldOut`: mean Dice over the cases it never saw). Select Model offers them beside the
// workspace's own versions, and the first Segment Lesion in a workspace without a chosen model
// asks which one fits, the one chooseStarterTask suggests for the image first. Pure apart from
// reading the cards (no vscode).
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { findModelsDir, findStarterModelDir, LESION_PRIOR_MODEL, ModelStoreError, readCard, STARTER_NAME_RE, type ModelCard } from './modelStore';
import type { StarterLocator } from './modelChoice';
import { chooseStarterTask } from './starterChoice';
import type { Vec3 } from '../volume/vec3';
import { errorText } from '../util/errorText';

/** A shipped starter model, as its card describes it. */
export interface ShippedStarter {
  /** Folder name under media/models ('ms-flair'); what active.json stores. */
  name: string;
  dir: string;
  card: ModelCard;
  /** What it segments, e.g. "soft-tissue sarcoma (GTV) on CT, images cropped 5 cm around the tumour". */
  description: string;
  /** 'CT', 'MR', 'PET'. */
  modality: string;
  /** Mean Dice on the held-out cases, or null when the card gives none. */
  heldOutDice: number | null;
  heldOutCaseCount: number;
  /** Whether the figures are leave-one-out ones (a task with too few cases to hold any out). */
  leaveOneOut: boolean;
}

/** The card's `task` and `heldOut` fields when they have the expected shape, else null. */
function taskOf(card: ModelCard): Pick<ShippedStarter, 'modality' | 'description' | 'heldOutDice' | 'heldOutCaseCount' | 'leaveOneOut'> | null {
  const extra = card as unknown as { task?: unknown; heldOut?: unknown };
  const task = extra.task as { modality?: unknown; description?: unknown } | null | undefined;
  if (typeof task !== 'object' || task === null || typeof task.modality !== 'string' || typeof task.description !== 'string') return null;
  const heldOut = extra.heldOut as { meanDice?: unknown; meanDiceWithPostprocessing?: unknown; cases?: unknown; method?: unknown } | null | undefined;
  // The figure of what Segment Lesion does: with the card's post-processing when it was scored.
  const figure = typeof heldOut === 'object' && heldOut !== null ? (heldOut.meanDiceWithPostprocessing ?? heldOut.meanDice) : undefined;
  const dice = typeof figure === 'number' && Number.isFinite(figure) ? figure : null;
  const cases = typeof heldOut === 'object' && heldOut !== null && Array.isArray(heldOut.cases) ? heldOut.cases.length : 0;
  const leaveOneOut = typeof heldOut === 'object' && heldOut !== null && typeof heldOut.method === 'string' && heldOut.method.startsWith('leave-one-out');
  return { modality: task.modality, description: task.description, heldOutDice: dice, heldOutCaseCount: cases, leaveOneOut };
}

/**
 * The task starters in `modelsDir` (media/models), by folder name. A folder whose card names no
 * task (media/models/starter, the historical fallback), whose network takes more than the image
 * (media/models/prompt) or that is the lesion prior (media/models/lesion-prior) is not one of them; a folder whose card
 * cannot be read is reported in `problems` (naming its card.json) and left out.
 */
export async function listShippedStarters(modelsDir: string): Promise<{ starters: ShippedStarter[]; problems: string[] }> {
  let names: string[];
  try {
    names = (await fsp.readdir(modelsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (e) {
    return { starters: [], problems: [`${modelsDir}: the shipped models cannot be listed (${errorText(e)})`] };
  }
  const starters: ShippedStarter[] = [];
  const problems: string[] = [];
  for (const name of names.sort()) {
    const dir = join(modelsDir, name);
    // The lesion prior is where re-planned fine-tuning starts, not a model to segment with.
    if (name === LESION_PRIOR_MODEL || !STARTER_NAME_RE.test(name) || !existsSync(join(dir, 'card.json'))) continue;
    let card: ModelCard;
    try {
      card = await readCard(dir);
    } catch (e) {
      problems.push(errorText(e));
      continue;
    }
    // A starter segments the image alone: a model with more input channels (the Prompt tool's
    // image + clicks model in media/models/prompt) is not one.
    const inChannels = (card.network as { inChannels?: unknown }).inChannels;
    if (typeof inChannels === 'number' && inChannels !== 1) continue;
    const task = taskOf(card);
    if (task) starters.push({ name, dir, card, ...task });
  }
  return { starters, problems };
}

/**
 * The shipped starters of the extension (or repository) at `root`: media/models/<name> by name,
 * media/models/starter as the default.
 */
export function shippedStarterLocator(root: string): StarterLocator {
  return {
    dirOf: (name) => {
      const models = findModelsDir(root);
      if (!models) throw new ModelStoreError(`no media/models folder above ${root}`);
      const dir = join(models, name);
      if (!STARTER_NAME_RE.test(name) || !existsSync(join(dir, 'card.json'))) {
        throw new ModelStoreError(`${join(models, name)} is not a starter model shipped with this Lesion Lab (no card.json there)`);
      }
      return dir;
    },
    defaultDir: () => findStarterModelDir(root),
  };
}

/** The suggested starter for an image (chooseStarterTask's task) and why. */
export interface StarterSuggestion {
  name: string;
  reason: string;
}

/** The starter chooseStarterTask suggests for `image` (the same rule as the CLI `fine-tune` without --base). */
export function suggestStarter(image: { data: ArrayLike<number>; dims: Vec3; spacingMm: Vec3 }): StarterSuggestion {
  const { task, reason } = chooseStarterTask(image);
  return { name: task, reason };
}

/**
 * The starter that fine-tuning on these cases starts from, as `lesion-lab fine-tune` without --base
 * picks it (starterForCases: the first image's, or one for the same kind of image whose lesions are
 * nearer the cases' size, such as whole brain tumours on FLAIR).
 */
export async function suggestStarterForCases(pairs: readonly { imagePath: string; maskPath: string }[], from?: string): Promise<StarterSuggestion> {
  const { readNifti } = await import('../nifti');
  const { typicalLesionVolumeOfFiles } = await import('./training/lesionScale');
  const { starterForCases } = await import('./starterChoice');
  const { task, reason } = await starterForCases(await readNifti(pairs[0].imagePath), await typicalLesionVolumeOfFiles(pairs.map((p) => p.maskPath)), from);
  return { name: task, reason };
}

/** One entry of the starter picker. */
export interface StarterPickItem {
  /** Task and modality: "Soft-tissue sarcoma (GTV) · CT". */
  label: string;
  /** The folder name, and "suggested" on the suggested one. */
  description: string;
  /** Held-out Dice and what the model was trained for. */
  detail: string;
  /** Folder name under media/models. */
  starter: string;
}

/** "Soft-tissue sarcoma (GTV)" from "soft-tissue sarcoma (GTV) on CT, images cropped …". */
function taskTitle(description: string): string {
  const lesion = description.split(/ on /)[0].trim();
  return lesion.charAt(0).toUpperCase() + lesion.slice(1);
}

/** "held-out Dice 0.754 (10 cases)", "leave-one-out Dice 0.437 (3 cases)", or "no held-out figures" when the card has none. */
export function heldOutText(s: Pick<ShippedStarter, 'heldOutDice' | 'heldOutCaseCount'> & { leaveOneOut?: boolean }): string {
  if (s.heldOutDice === null) return 'no held-out figures in its card';
  const cases = s.heldOutCaseCount > 0 ? ` (${s.heldOutCaseCount} case${s.heldOutCaseCount === 1 ? '' : 's'})` : '';
  return `${s.leaveOneOut ? 'leave-one-out' : 'held-out'} Dice ${s.heldOutDice.toFixed(3)}${cases}`;
}

/**
 * Quick-pick entries for the starters: the suggested one first (marked "suggested"), the others in
 * folder-name order; `active` (a folder name) is marked with a check.
 */
export function starterPickItems(starters: readonly ShippedStarter[], opts: { suggested?: string | null; active?: string | null } = {}): StarterPickItem[] {
  const ordered = [...starters].sort((a, b) => Number(b.name === opts.suggested) - Number(a.name === opts.suggested) || a.name.localeCompare(b.name));
  return ordered.map((s) => {
    const marks = [s.name === opts.suggested ? 'suggested' : null, s.name === opts.active ? 'active' : null].filter((m): m is string => m !== null);
    return {
      label: `${s.name === opts.active ? '$(check) ' : ''}${taskTitle(s.description)} · ${s.modality}`,
      description: [s.name, ...marks].join(' · '),
      detail: `${heldOutText(s)}${s.card.postprocessing?.threshold !== undefined ? ` · threshold ${s.card.postprocessing.threshold}` : ''} · ${s.description}`,
      starter: s.name,
    };
  });
}
