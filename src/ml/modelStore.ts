// Versioned model store: `<root>/v1`, `<root>/v2`, … each holding the network files plus
// card.json, and `<root>/active.json` pointing at the model in use: a version of the store
// (`{"version": "v2"}`) or a starter model shipped with the extension (`{"starter": "ms-flair"}`,
// the folder name under media/models). Nothing is overwritten: a
// new version is written into a hidden temporary folder and renamed into place only once it is
// complete, and active.json is replaced atomically, so a cancelled or killed run leaves the
// previous version intact and active.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite';
import type { Vec3 } from '../volume/vec3';
import { validatePreprocessing, type Modality, type Preprocessing } from './preprocess';
import { DEFAULT_UNET3D_CONFIG, spatialMultiple } from './network/config';

/** Error raised for a malformed store, card or version name. */
export class ModelStoreError extends Error {
  override name = 'ModelStoreError';
}

/** One training pair as recorded in a card. */
export interface TrainingPairRecord {
  imagePath: string;
  maskPath: string;
  imageSha256: string;
  maskSha256: string;
  /** Set for a pair of another modality pooled in for training patches only. */
  pooledModality?: Modality;
}

/** What a fine-tune run did; null in a card for a model that was not trained by fine-tuning. */
export interface TrainingRecord {
  pairs: TrainingPairRecord[];
  /** Cases held out for validation (image paths). */
  validationImages: string[];
  loss: { name: string; options: Record<string, unknown> };
  hyperparameters: Record<string, number | string | boolean | number[]>;
  backend: string;
  durationS: number;
  steps: number;
  /** Why training stopped: 'steps', 'time budget', 'early stopping', … */
  stoppedBecause: string;
  /** Validation Dice of the parent model and of this one on the same held-out cases, each with its own post-processing. */
  validationDiceBefore: number | null;
  validationDiceAfter: number | null;
  /** Set when fine-tuning did not start from the base it was given (its grid or modality did not suit the cases): why, and what instead. */
  replanned?: string[];
  /** How the post-processing was chosen after training (src/ml/training/postprocessingChoice.ts): pooled validation Dice per candidate. */
  postprocessingChoice?: { validationDice: Record<string, number>; notTried: string[] };
  /** Typical lesion volume of the training masks, mm³ (src/ml/training/lesionScale.ts): how fine-tuning tells a new kind of lesion. */
  typicalLesionMm3?: number;
  /** Set when fine-tuning found the cases' lesions of another kind than the base's: why (it then trains at a higher rate). */
  newLesionType?: string;
  /** How many training images were brains without their skull, and heads with it (src/ml/starterChoice.ts brainImageKind); absent when none was either. */
  brainImages?: BrainImageCounts;
}

/** Counts of a model's training images that were skull-stripped brains, and heads with their skull. */
export interface BrainImageCounts {
  skullStripped: number;
  withSkull: number;
}

/** card.json's `training.brainImages` when it holds two counts; a malformed record counts as none. */
export function brainImagesOf(card: ModelCard): BrainImageCounts | undefined {
  const b = card.training?.brainImages;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  return b && count(b.skullStripped) && count(b.withSkull) ? { skullStripped: b.skullStripped, withSkull: b.withSkull } : undefined;
}

/** card.json: everything needed to use and trace a model version. */
export interface ModelCard {
  format: 'lesion-lab-model';
  formatVersion: 1;
  /** 'v3', or 'starter' for the shipped model. */
  version: string;
  parentVersion: string | null;
  createdAt: string;
  /** Window size the model predicts on, [x, y, z] voxels. */
  patchSizeVoxels: Vec3;
  preprocessing: Preprocessing;
  /** The network's configuration as its builder takes it. */
  network: Record<string, unknown>;
  training: TrainingRecord | null;
  attribution?: string;
  notes?: string;
  /** What Segment Lesion does after thresholding (src/ml/inference.ts reads and checks it). */
  postprocessing?: { keepLargestComponents?: number; threshold?: number };
}

/** A complete version in the store. */
export interface StoredVersion {
  version: string;
  dir: string;
  card: ModelCard;
}

const VERSION_RE = /^v(\d+)$/;
/** A shipped starter's folder name under media/models ('ms-flair', 'sarcoma-mr-t1'): no path, no dots. */
export const STARTER_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Longest side of a model's window. The network's activations grow with the window's volume;
 * 256³ is already far beyond what a CPU backend holds for a U-Net, and the starter uses 96³.
 */
export const MAX_PATCH_SIDE_VOXELS = 256;
/** Levels a U-Net card may name (as the network's own config check). */
const MAX_NETWORK_LEVELS = 6;
const INCOMPLETE_PREFIX = '.incomplete-';

/**
 * Checks a parsed card.json.
 * @throws ModelStoreError naming the file and the field.
 */
export function validateCard(value: unknown, where: string): ModelCard {
  const fail = (what: string): never => {
    throw new ModelStoreError(`${where}: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('is not a JSON object');
  const c = value as Record<string, unknown>;
  if (c.format !== 'lesion-lab-model') fail(`format must be "lesion-lab-model", got ${JSON.stringify(c.format)}`);
  if (c.formatVersion !== 1) fail(`formatVersion must be 1, got ${JSON.stringify(c.formatVersion)}`);
  if (typeof c.version !== 'string') fail('version must be a string');
  const p = c.patchSizeVoxels;
  if (!(Array.isArray(p) && p.length === 3 && p.every((n) => Number.isInteger(n) && n > 0))) {
    fail(`patchSizeVoxels must be three positive integers, got ${JSON.stringify(p)}`);
  }
  if (typeof c.network !== 'object' || c.network === null) fail('network must be an object');
  const patch = p as number[];
  if (patch.some((n) => n > MAX_PATCH_SIDE_VOXELS)) {
    fail(`patchSizeVoxels [${patch.join(',')}] has a side over ${MAX_PATCH_SIDE_VOXELS} voxels; a window that large cannot be allocated`);
  }
  // The window must halve cleanly at every pooling: a multiple of 2^(levels-1).
  const levels = (c.network as Record<string, unknown>).levels ?? DEFAULT_UNET3D_CONFIG.levels;
  if (!(typeof levels === 'number' && Number.isInteger(levels) && levels >= 1 && levels <= MAX_NETWORK_LEVELS)) {
    fail(`network.levels must be an integer from 1 to ${MAX_NETWORK_LEVELS}, got ${JSON.stringify(levels)}`);
  }
  const multiple = spatialMultiple(levels as number);
  if (patch.some((n) => n % multiple !== 0)) {
    fail(`patchSizeVoxels [${patch.join(',')}] must be multiples of 2^(levels-1) = ${multiple} for a network of ${String(levels)} levels`);
  }
  try {
    validatePreprocessing(c.preprocessing);
  } catch (e) {
    fail((e as Error).message);
  }
  return c as unknown as ModelCard;
}

/** Reads and validates `<dir>/card.json`. */
export async function readCard(dir: string): Promise<ModelCard> {
  const path = join(dir, 'card.json');
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch {
    throw new ModelStoreError(`${path}: no model card there (is ${dir} a model folder?)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelStoreError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return validateCard(json, path);
}

/** Writes `<dir>/card.json` atomically. */
export async function writeCard(dir: string, card: ModelCard): Promise<void> {
  validateCard(card, join(dir, 'card.json'));
  await writeFileAtomic(join(dir, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
}

/** SHA-256 of a file, hex. */
export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(typeof chunk === 'string' ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)))
      .on('error', rej)
      .on('end', () => res(hash.digest('hex')));
  });
}

/** A version being written; nothing is visible in the store until {@link PendingVersion.commit}. */
export interface PendingVersion {
  /** Temporary folder to write the network files (and checkpoints) into. */
  readonly dir: string;
  /**
   * Writes the card, renames the folder to the next free `vN` and (by default) makes it active.
   * The card's `version` field is filled in.
   */
  commit(card: Omit<ModelCard, 'version'>, opts?: { activate?: boolean }): Promise<StoredVersion>;
  /** Deletes the temporary folder. */
  abandon(): Promise<void>;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The model versions of a workspace (e.g. `<workspace>/.lesion-lab/models`). */
export class ModelStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Path of the active-version pointer. */
  get activePath(): string {
    return join(this.root, 'active.json');
  }

  /** Complete versions, oldest first. Folders without a valid card are skipped. */
  async list(): Promise<StoredVersion[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.root);
    } catch {
      return [];
    }
    const out: { n: number; v: StoredVersion }[] = [];
    for (const name of names) {
      const m = VERSION_RE.exec(name);
      if (!m) continue;
      const dir = join(this.root, name);
      try {
        const card = await readCard(dir);
        out.push({ n: Number(m[1]), v: { version: name, dir, card } });
      } catch {
        // A folder without a readable card is not a usable version.
      }
    }
    return out.sort((a, b) => a.n - b.n).map((o) => o.v);
  }

  /** The version named in active.json, or null when there is none (or it is gone). */
  async active(): Promise<StoredVersion | null> {
    let name: unknown;
    try {
      name = (JSON.parse(await fsp.readFile(this.activePath, 'utf8')) as { version?: unknown }).version;
    } catch {
      return null;
    }
    if (typeof name !== 'string' || !VERSION_RE.test(name)) return null;
    const dir = join(this.root, name);
    try {
      return { version: name, dir, card: await readCard(dir) };
    } catch {
      return null;
    }
  }

  /**
   * What active.json points at: a version of the store (`active`), a shipped starter model by its
   * folder name (`starter`, checked for form only: whether it is shipped is the caller's to check),
   * or why active.json cannot be used (`problem`, one sentence naming the file). A missing
   * active.json is no problem: nothing was chosen in this store yet.
   */
  async activeOrProblem(): Promise<{ active: StoredVersion | null; starter: string | null; problem: string | null }> {
    const none = (problem: string) => ({ active: null, starter: null, problem });
    let text: string;
    try {
      text = await fsp.readFile(this.activePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { active: null, starter: null, problem: null };
      return none(`${this.activePath} cannot be read (${(e as Error).message})`);
    }
    let pointer: { version?: unknown; starter?: unknown } | null;
    try {
      pointer = JSON.parse(text) as { version?: unknown; starter?: unknown } | null;
    } catch (e) {
      return none(`${this.activePath} is not valid JSON (${(e as Error).message})`);
    }
    const starter = pointer?.starter;
    if (pointer?.version === undefined && starter !== undefined) {
      if (typeof starter !== 'string' || !STARTER_NAME_RE.test(starter)) {
        return none(`${this.activePath} names starter ${JSON.stringify(starter)}, not the folder name of a shipped starter model (e.g. "ms-flair")`);
      }
      return { active: null, starter, problem: null };
    }
    const name = pointer?.version;
    if (typeof name !== 'string' || !VERSION_RE.test(name)) {
      return none(`${this.activePath} names ${JSON.stringify(name ?? null)}, not a version of this store (v1, v2, …)`);
    }
    const dir = join(this.root, name);
    try {
      const [realDir, realRoot] = await Promise.all([fsp.realpath(dir), fsp.realpath(this.root)]);
      if (dirname(realDir) !== realRoot) return none(`${this.activePath} names ${name}, but ${dir} is outside the model store (it leads to ${realDir})`);
      return { active: { version: name, dir, card: await readCard(dir) }, starter: null, problem: null };
    } catch (e) {
      return none(`${this.activePath} names ${name}, but ${dir} cannot be used (${(e as Error).message})`);
    }
  }

  /**
   * Makes `version` the active one.
   * @throws ModelStoreError when the version does not exist in the store.
   */
  async setActive(version: string): Promise<StoredVersion> {
    if (!VERSION_RE.test(version)) throw new ModelStoreError(`version must look like v1, v2, …; got ${JSON.stringify(version)}`);
    const dir = join(this.root, version);
    if (!existsSync(dir)) throw new ModelStoreError(`model version ${version} does not exist in ${this.root}`);
    const card = await readCard(dir);
    await fsp.mkdir(this.root, { recursive: true });
    await writeFileAtomic(this.activePath, `${JSON.stringify({ version, updatedAt: new Date().toISOString() }, null, 2)}\n`);
    return { version, dir, card };
  }

  /**
   * Makes the shipped starter model `name` (its folder under media/models) the active model, so
   * that Segment Lesion and Fine-tune use it until another version or starter is chosen.
   * @throws ModelStoreError for a name that is not a starter folder name.
   */
  async setActiveStarter(name: string): Promise<void> {
    if (!STARTER_NAME_RE.test(name)) throw new ModelStoreError(`a starter model is named by its folder under media/models (e.g. "ms-flair"); got ${JSON.stringify(name)}`);
    await fsp.mkdir(this.root, { recursive: true });
    await writeFileAtomic(this.activePath, `${JSON.stringify({ starter: name, updatedAt: new Date().toISOString() }, null, 2)}\n`);
  }

  /** All versions with which one is active, oldest first. */
  async history(): Promise<(StoredVersion & { active: boolean })[]> {
    const active = await this.active();
    return (await this.list()).map((v) => ({ ...v, active: v.version === active?.version }));
  }

  /** Removes temporary folders left by runs whose process has ended. */
  async removeAbandoned(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.root);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      if (!name.startsWith(INCOMPLETE_PREFIX)) continue;
      const pid = Number(name.slice(INCOMPLETE_PREFIX.length).split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) continue;
      await fsp.rm(join(this.root, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Starts a new version in a hidden temporary folder of the store. */
  async beginVersion(): Promise<PendingVersion> {
    await fsp.mkdir(this.root, { recursive: true });
    await this.removeAbandoned();
    const dir = join(this.root, `${INCOMPLETE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    await fsp.mkdir(dir);
    let finished = false;
    return {
      dir,
      commit: async (card, opts = {}) => {
        if (finished) throw new ModelStoreError('this pending version was already committed or abandoned');
        for (let attempt = 0; attempt < 100; attempt++) {
          const versions = await this.list();
          let next = 1;
          for (const v of versions) next = Math.max(next, Number(VERSION_RE.exec(v.version)![1]) + 1);
          // Skip numbers whose folder exists without a valid card too.
          while (existsSync(join(this.root, `v${next}`))) next++;
          const version = `v${next}`;
          const full: ModelCard = { ...card, version } as ModelCard;
          await writeCard(dir, full);
          const target = join(this.root, version);
          if (existsSync(target)) continue;
          try {
            await fsp.rename(dir, target);
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code === 'EEXIST' || code === 'ENOTEMPTY') continue;
            throw e;
          }
          finished = true;
          if (opts.activate ?? true) await this.setActive(version);
          return { version, dir: target, card: full };
        }
        throw new ModelStoreError(`could not find a free version name in ${this.root}`);
      },
      abandon: async () => {
        finished = true;
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** The workspace's model store folder. */
export function workspaceModelRoot(workspaceDir: string): string {
  return join(workspaceDir, '.lesion-lab', 'models');
}

/**
 * Folder of the starter model shipped with the extension (`media/models/starter`), found by
 * walking up from this module (works from src/ under tsx and from the dist/ bundle).
 * @throws ModelStoreError when it cannot be found.
 */
export function findStarterModelDir(from: string = typeof __dirname === 'string' ? __dirname : process.cwd()): string {
  const dir = findShippedModelDir('starter', from);
  if (!dir) throw new ModelStoreError(`starter model not found in media/models/starter above ${from}; run npm run train:starter`);
  return dir;
}

/** media/models above `from` (the extension or repository root, or a folder below it). */
export function findModelsDir(from: string = typeof __dirname === 'string' ? __dirname : process.cwd()): string | null {
  let dir = resolve(from);
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'media', 'models');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/**
 * Folder name (media/models/…) of the general lesion prior: a network trained on several lesion
 * types and modalities, whose weights re-planned fine-tuning starts from (src/ml/training/recipe.ts
 * fineTuneStart). Not a starter that Select Model offers.
 */
export const LESION_PRIOR_MODEL = 'lesion-prior';

/** The shipped model folder media/models/<name> (with a card.json) above `from`, or null. */
export function findShippedModelDir(name: string, from: string = typeof __dirname === 'string' ? __dirname : process.cwd()): string | null {
  const models = findModelsDir(from);
  const dir = models === null ? null : join(models, name);
  return dir !== null && existsSync(join(dir, 'card.json')) ? dir : null;
}
