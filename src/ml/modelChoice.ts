// Which model the commands use: the workspace store's active version when there is one, else the
// starter model shipped with the extension. Pure apart from reading the store (no vscode).

import { ModelStore, readCard, workspaceModelRoot, type ModelCard } from './modelStore';

/** The model a command runs with. */
export interface ModelChoice {
  dir: string;
  /** 'v3', or the starter card's version ('starter'). */
  version: string;
  source: 'workspace' | 'starter';
  card: ModelCard;
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

/** The workspace's model store, or null without a workspace folder. */
export function workspaceStore(workspaceFolder: string | null): ModelStore | null {
  return workspaceFolder === null ? null : new ModelStore(workspaceModelRoot(workspaceFolder));
}

/**
 * The active model: the store's active version, else the starter model.
 * @param store - the workspace store, or null without a workspace folder.
 * @param findStarter - returns the starter model folder or throws (findStarterModelDir).
 * @throws NoModelError when the store has no active version and the starter is missing or unreadable.
 */
export async function chooseActiveModel(store: ModelStore | null, findStarter: () => string): Promise<ModelChoice> {
  const { active, problem } = store ? await store.activeOrProblem() : { active: null, problem: null };
  if (active) return { dir: active.dir, version: active.version, source: 'workspace', card: active.card, warning: null };
  let dir: string;
  try {
    dir = findStarter();
  } catch (err) {
    const where = problem ?? (store ? `the workspace store ${store.root} has no active version` : 'no workspace folder is open (so there is no model store)');
    throw new NoModelError(
      `no model to run: ${where}, and the starter model shipped with the extension is missing (${(err as Error).message})`,
    );
  }
  try {
    const card = await readCard(dir);
    const warning = problem ? `${problem}; the starter model (${card.version}) runs instead` : null;
    return { dir, version: card.version, source: 'starter', card, warning };
  } catch (err) {
    throw new NoModelError(`the starter model in ${dir} cannot be used: ${(err as Error).message}`);
  }
}
