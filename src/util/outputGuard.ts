// Where a command may write: never over one of its inputs, never two outputs onto one file, and
// never over a file that is not a previous output of ours. Paths are compared as the operating
// system resolves them (realpath, so `sub/../x` and symbolic links count), by device and inode
// where the file exists, and case-folded on file systems that ignore case.
import { promises as fsp, type Dirent, type Stats } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';

/** Error raised for an output path that must not be written; the message is one sentence. */
export class OutputPathError extends Error {
  override name = 'OutputPathError';
}

/** A file a command reads. */
export interface GuardedInput {
  /** How messages name it, e.g. 'the input image', 'the mask', '--prompts'. */
  role: string;
  path: string;
}

/**
 * A path a command writes. `nifti`: one file, which may replace only a previous Lesion Lab output
 * (see {@link isLesionLabNifti}). `model-store`: a folder that is new, empty or a Lesion Lab model
 * store (see {@link MODEL_STORE_ENTRY}), holding none of the inputs.
 */
export interface GuardedOutput {
  /** How messages name it, e.g. '--out'. */
  role: string;
  path: string;
  kind: 'nifti' | 'model-store';
}

/** Options of {@link checkOutputPaths}. */
export interface OutputGuardOptions {
  /** Whether names in a folder are compared ignoring case; default: probed on disk (see {@link probeCaseInsensitive}). */
  isCaseInsensitive?: (folder: string) => Promise<boolean>;
}

/** Every NIfTI file Lesion Lab writes has a header description starting with this. */
export const LESION_LAB_DESCRIPTION_PREFIX = 'lesion-lab';

/**
 * Names a Lesion Lab model store may hold (src/ml/modelStore.ts): version folders, the active
 * pointer, temporary folders of running or killed runs, atomic-write temporaries, and the
 * Finder's .DS_Store.
 */
export const MODEL_STORE_ENTRY = /^(?:active\.json|v\d+|\.incomplete-.+|\.active\.json\..+\.tmp|\.DS_Store)$/;

/** Bytes read from the start of a file to find its NIfTI header (a .nii.gz is inflated from them). */
const HEADER_PREFIX_BYTES = 64 * 1024;
const NIFTI1_HEADER_BYTES = 348;
const DESCRIPTION_OFFSET = 148;
const DESCRIPTION_BYTES = 80;

interface Located {
  role: string;
  path: string;
  /** Real path (of the file, or of its folder joined with its name when it does not exist yet). */
  real: string;
  /** `real`, lower-cased where the file system ignores case. */
  key: string;
  /** stat of the existing file; null when there is none yet. */
  stat: Stats | null;
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

function swapCase(name: string): string {
  let out = '';
  for (const ch of name) out += ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
  return out;
}

async function sameInode(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([fsp.lstat(a), fsp.lstat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Whether `folder` compares names ignoring case: an entry with letters is looked up with its
 * case swapped (same inode: case-insensitive). With no such entry, the folder's own name is tried
 * in its parent; failing that, the platform's usual default (macOS and Windows ignore case).
 */
export async function probeCaseInsensitive(folder: string): Promise<boolean> {
  try {
    let looked = 0;
    for await (const entry of await fsp.opendir(folder)) {
      const swapped = swapCase(entry.name);
      if (swapped !== entry.name) return await sameInode(join(folder, entry.name), join(folder, swapped));
      if (++looked >= 100) break;
    }
  } catch {
    // Unreadable folder: fall through to the other probes.
  }
  const name = basename(folder);
  if (swapCase(name) !== name) return sameInode(folder, join(dirname(folder), swapCase(name)));
  return process.platform === 'darwin' || process.platform === 'win32';
}

/**
 * Where a path that does not exist yet would be created: the real path of its nearest existing
 * folder joined with the rest. Only a model store may have missing parent folders (it is created
 * with them); a file's folder must exist.
 */
async function realPathToBe(role: string, path: string, missingParentsAllowed: boolean): Promise<string> {
  const rest = [basename(path)];
  let folder = dirname(path);
  for (;;) {
    try {
      const real = await fsp.realpath(folder);
      if (!(await fsp.stat(real)).isDirectory()) throw new OutputPathError(`the folder of ${role} ${path} is not a folder (${folder} is a file)`);
      return join(real, ...rest);
    } catch (e) {
      if (e instanceof OutputPathError) throw e;
      const code = errnoCode(e);
      if (code === 'ENOTDIR') throw new OutputPathError(`the folder of ${role} ${path} is not a folder (a part of ${folder} is a file)`);
      if (code !== 'ENOENT' || !missingParentsAllowed || dirname(folder) === folder) throw new OutputPathError(`the folder of ${role} ${path} does not exist`);
    }
    rest.unshift(basename(folder));
    folder = dirname(folder);
  }
}

async function locate(
  role: string,
  path: string,
  existence: 'must exist' | 'may be new' | 'may be new with its folders',
  foldCase: (folder: string) => Promise<boolean>,
): Promise<Located> {
  let real: string | undefined;
  let stat: Stats | null = null;
  try {
    real = await fsp.realpath(path);
    stat = await fsp.stat(real);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ELOOP') throw new OutputPathError(`${role} ${path} is a loop of symbolic links`);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new OutputPathError(`${role} ${path} cannot be checked (${code ?? String(e)})`);
    real = undefined;
  }
  if (real === undefined) {
    if (existence === 'must exist') throw new OutputPathError(`${role} ${path}: file not found`);
    const link = await fsp.lstat(path).catch(() => null);
    if (link?.isSymbolicLink()) throw new OutputPathError(`${role} ${path} is a symbolic link to a missing file; remove the link or choose another name`);
    real = await realPathToBe(role, path, existence === 'may be new with its folders');
  }
  const key = (await foldCase(dirname(real))) ? real.toLowerCase() : real;
  return { role, path, real, key, stat };
}

function sameFile(a: Located, b: Located): boolean {
  if (a.stat && b.stat) return a.stat.dev === b.stat.dev && a.stat.ino === b.stat.ino;
  return a.key === b.key;
}

/**
 * Reads the header description of a NIfTI-1 file (plain or gzip) from its first bytes only.
 * @returns `ours`: the description starts with {@link LESION_LAB_DESCRIPTION_PREFIX};
 *   `description`: null when the file is not a readable NIfTI-1 file.
 */
export async function isLesionLabNifti(path: string): Promise<{ ours: boolean; description: string | null }> {
  const notNifti = { ours: false, description: null };
  let prefix: Uint8Array;
  try {
    const handle = await fsp.open(path, 'r');
    try {
      const buffer = new Uint8Array(HEADER_PREFIX_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      prefix = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return notNifti;
  }
  let bytes = prefix;
  if (prefix[0] === 0x1f && prefix[1] === 0x8b) {
    try {
      // Z_SYNC_FLUSH: inflate what the prefix holds instead of failing at its cut-off end.
      bytes = gunzipSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      return notNifti;
    }
  }
  if (bytes.length < NIFTI1_HEADER_BYTES) return notNifti;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getInt32(0, true) !== NIFTI1_HEADER_BYTES && view.getInt32(0, false) !== NIFTI1_HEADER_BYTES) return notNifti;
  let description = '';
  for (let i = DESCRIPTION_OFFSET; i < DESCRIPTION_OFFSET + DESCRIPTION_BYTES && bytes[i] !== 0; i++) description += String.fromCharCode(bytes[i]);
  return { ours: description.startsWith(LESION_LAB_DESCRIPTION_PREFIX), description };
}

/**
 * The editor's provenance sidecar beside a mask (`x.nii.gz` → `x.json`, format
 * 'lesion-lab-mask-sidecar', see src/labels/sidecar.ts) when it says `reviewed: true`: such a mask
 * is someone's corrected work, so no command replaces it even though its header is ours.
 */
async function reviewedSidecar(maskPath: string): Promise<string | null> {
  const sidecar = maskPath.replace(/(\.nii\.gz|\.nii)$/i, '') + '.json';
  try {
    const parsed = JSON.parse(await fsp.readFile(sidecar, 'utf8')) as { format?: unknown; reviewed?: unknown } | null;
    return parsed?.format === 'lesion-lab-mask-sidecar' && parsed.reviewed === true ? sidecar : null;
  } catch {
    return null;
  }
}

async function checkExistingNifti(o: Located): Promise<void> {
  if (!o.stat) return;
  if (o.stat.isDirectory()) throw new OutputPathError(`${o.role} ${o.path} already exists and is a folder; give a file name ending in .nii.gz`);
  const { ours, description } = await isLesionLabNifti(o.real);
  if (ours) {
    const sidecar = await reviewedSidecar(o.real);
    if (sidecar) throw new OutputPathError(`${o.role} ${o.path} is a mask reviewed in the Lesion Lab editor (see ${basename(sidecar)}), so it is left alone; choose another name`);
    return;
  }
  const what = description === null ? 'it is not a NIfTI-1 file' : `its header description is ${JSON.stringify(description)}`;
  throw new OutputPathError(`${o.role} ${o.path} already exists and is not a Lesion Lab output (${what}), so it is left alone; choose another name or delete it first`);
}

async function checkModelStore(o: Located, inputs: Located[], foldCase: (folder: string) => Promise<boolean>): Promise<void> {
  const inside = (await foldCase(o.real)) ? (p: Located) => p.real.toLowerCase().startsWith(o.real.toLowerCase() + sep) : (p: Located) => p.real.startsWith(o.real + sep);
  const checkInputsOutside = (): void => {
    for (const i of inputs) {
      if (inside(i)) throw new OutputPathError(`${i.role} ${i.path} lies inside the model store ${o.role} ${o.path}; keep images and masks outside it`);
    }
  };
  if (!o.stat) return;
  if (!o.stat.isDirectory()) throw new OutputPathError(`${o.role} ${o.path} already exists and is a file, not a folder; give a model store folder`);
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(o.real, { withFileTypes: true });
  } catch (e) {
    throw new OutputPathError(`${o.role} ${o.path} cannot be read (${errnoCode(e) ?? String(e)})`);
  }
  const foreign = entries
    .filter((d) => !MODEL_STORE_ENTRY.test(d.name) || (/^v\d+$/.test(d.name) && !d.isDirectory()))
    .map((d) => d.name)
    .sort();
  if (foreign.length === 0) {
    checkInputsOutside();
    return;
  }
  const shown = foreign.length > 3 ? `${foreign.slice(0, 3).join(', ')} and ${foreign.length - 3} more` : foreign.join(', ');
  throw new OutputPathError(
    `${o.role} ${o.path} already exists and is neither empty nor a Lesion Lab model store (it holds ${shown}); choose a new or empty folder, or an existing model store`,
  );
}

/**
 * Checks, before anything is computed or written, that no output would replace an input, another
 * output, or a file that is not ours. Inputs must exist.
 *
 * @param files.inputs - files the command reads (images, masks, prompts, previous masks).
 * @param files.outputs - files or folders it writes; the folder of a new file must exist.
 * @param opts - `isCaseInsensitive` replaces the on-disk probe (tests).
 * @throws OutputPathError (one sentence naming the paths and the way out) at the first problem.
 * @example await checkOutputPaths({ inputs: [{ role: 'the input image', path: img }], outputs: [{ role: '--out', path: out, kind: 'nifti' }] });
 */
export async function checkOutputPaths(
  files: { inputs: readonly GuardedInput[]; outputs: readonly GuardedOutput[] },
  opts: OutputGuardOptions = {},
): Promise<void> {
  const cache = new Map<string, Promise<boolean>>();
  const probe = opts.isCaseInsensitive ?? probeCaseInsensitive;
  const foldCase = (folder: string): Promise<boolean> => {
    let known = cache.get(folder);
    if (!known) cache.set(folder, (known = probe(folder)));
    return known;
  };
  const inputs: Located[] = [];
  for (const i of files.inputs) inputs.push(await locate(i.role, i.path, 'must exist', foldCase));
  const outputs: Located[] = [];
  for (const o of files.outputs) {
    const located = await locate(o.role, o.path, o.kind === 'model-store' ? 'may be new with its folders' : 'may be new', foldCase);
    for (const i of inputs) {
      if (sameFile(located, i)) {
        throw new OutputPathError(`${o.role} ${o.path} is ${i.role} ${i.path}; writing there would replace it, so choose another name`);
      }
    }
    for (const earlier of outputs) {
      if (sameFile(located, earlier)) {
        throw new OutputPathError(`${o.role} ${o.path} and ${earlier.role} ${earlier.path} are the same file; give each output its own name`);
      }
    }
    outputs.push(located);
  }
  for (let k = 0; k < outputs.length; k++) {
    if (files.outputs[k].kind === 'nifti') await checkExistingNifti(outputs[k]);
    else await checkModelStore(outputs[k], inputs, foldCase);
  }
}
