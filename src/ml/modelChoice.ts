// Which model the commands use: what the workspace store's active.json points at (one of its
// versions, or a shipped starter model by name), else a starter remembered outside a store (a
// window without a workspace folder), else the default starter model (media/models/starter).
// Pure apart from reading the store and the cards (no vscode).

import { ModelStore, readCard, workspaceModelRoot, type ModelCard } from './modelStore';

/** The model a command runs with. */
export interface ModelChoice {
  dir: string;
  /** 'v3', or the starter card's version ('ms-flair', 'starter'). */
  version: string;
  source: 'workspace' | 'starter';
  card: ModelCard;
  /**
   * Whether someone chose this model: active.json names it, or it is the remembered starter. False
   * for the default starter, which runs only because nothing was chosen (the editor then asks).
   */
  chosen: boolean;
  /** The shipped starter's folder name under media/models when source is 'starter'. */
  starterName: string | null;
  /**
   * Set when the workspace store's active.json could not be used: what is wrong and which model
   * runs instead (one sentence, for the user).
   */
  warning: string | null;
}

/** Raised when no model can be used; the message says what to do. */
export class NoModelError extends Error {
  override name = 'NoModelError';
}

/** Where the shipped starter models are. */
export interface StarterLocator {
  /** The folder of the shipped starter `name` (media/models/<name>); throws when it is not shipped. */
  dirOf(name: string): string;
  /** The default starter folder (media/models/starter), used while nothing is chosen; throws when missing. */
  defaultDir(): string;
}

/** The workspace's model store, or null without a workspace folder. */
export function workspaceStore(workspaceFolder: string | null): ModelStore | null {
  return workspaceFolder === null ? null : new ModelStore(workspaceModelRoot(workspaceFolder));
}

/**
 * The active model: the store's active version or starter, else `rememberedStarter`, else the
 * default starter model (`chosen` false).
 * @param store - the workspace store, or null without a workspace folder.
 * @param starters - where the shipped starters are.
 * @param rememberedStarter - a starter chosen where there is no store to record it (no workspace folder).
 * @throws NoModelError when nothing chosen can be used and the default starter is missing or unreadable.
 */
export async function chooseActiveModel(store: ModelStore | null, starters: StarterLocator, rememberedStarter: string | null = null): Promise<ModelChoice> {
  const pointer = store ? await store.activeOrProblem() : { active: null, starter: null, problem: null };
  const { active } = pointer;
  if (active) return { dir: active.dir, version: active.version, source: 'workspace', card: active.card, chosen: true, starterName: null, warning: null };
  let problem = pointer.problem;
  const named = pointer.starter ?? (store ? null : rememberedStarter);
  if (named !== null) {
    const where = pointer.starter !== null && store ? store.activePath : 'the remembered choice';
    try {
      return await chosenStarter(starters, named);
    } catch (err) {
      problem = `${where} names the starter model "${named}", which cannot be used (${(err as Error).message})`;
    }
  }
  let dir: string;
  try {
    dir = starters.defaultDir();
  } catch (err) {
    const where = problem ?? (store ? `the workspace store ${store.root} has no active version` : 'no workspace folder is open (so there is no model store)');
    throw new NoModelError(
      `no model to run: ${where}, and the starter model shipped with the extension is missing (${(err as Error).message})`,
    );
  }
  try {
    const card = await readCard(dir);
    const warning = problem ? `${problem}; the starter model (${card.version}) runs instead` : null;
    return { dir, version: card.version, source: 'starter', card, chosen: false, starterName: null, warning };
  } catch (err) {
    throw new NoModelError(`the starter model in ${dir} cannot be used: ${(err as Error).message}`);
  }
}

/**
 * The shipped starter `name` as a chosen model.
 * @throws the locator's error when it is not shipped; ModelStoreError for an unreadable card.
 */
export async function chosenStarter(starters: StarterLocator, name: string): Promise<ModelChoice> {
  const dir = starters.dirOf(name);
  const card = await readCard(dir);
  return { dir, version: card.version, source: 'starter', card, chosen: true, starterName: name, warning: null };
}
