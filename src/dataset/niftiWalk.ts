// The bounded folder walk that finds the NIfTI files of a workspace, shared by the case scan
// (Cases view) and the training-pair search (Fine-tune on Corrected Masks): hidden and excluded
// folders are never entered, the depth and the number of directory entries read are capped.
import { promises as fsp, type Dirent } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Options of {@link walkNiftiFiles}. */
export interface NiftiWalkOptions {
  /** Folder names never entered, besides hidden folders; default node_modules. */
  excludeFolderNames?: readonly string[];
  /** Folders never entered (absolute or relative to the working folder), e.g. an export's output. */
  excludeFolders?: readonly string[];
  /** Deepest folder level searched below each root; default 12. */
  maxDepth?: number;
  /** Largest number of directory entries read in total; default 200 000. */
  maxEntries?: number;
}

/** Result of {@link walkNiftiFiles}. */
export interface NiftiWalk {
  /** Absolute paths of the `.nii` / `.nii.gz` files (regular files or links), in walk order. */
  niftiPaths: string[];
  /** Names of every non-folder entry of each folder read: existence checks without a stat per file. */
  fileNamesByFolder: Map<string, Set<string>>;
  /** True when the walk stopped at `maxEntries` (the result is incomplete). */
  truncated: boolean;
}

const NIFTI_NAME = /\.(nii|nii\.gz|nrrd|nhdr|mha|mhd|mgh|mgz)$/i;
/**
 * Label maps, not images to label: 3D Slicer's segmentations, and FreeSurfer's and SAMSEG's
 * (aseg.mgz, aparc+aseg.mgz, wmparc.mgz, ribbon.mgz, filled.mgz, seg.mgz).
 */
const LABEL_MAP_NAME = /\.seg\.nrrd$|^(aseg|aparc|wmparc|lh\.ribbon|rh\.ribbon|ribbon|filled|seg)\b.*\.mg[hz]$/i;

/** True when `path` is `folder` or lies inside it. */
export function isInsideFolder(path: string, folder: string): boolean {
  const r = relative(folder, path);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/**
 * Walks `roots` in name order for NIfTI files. Unreadable folders are passed over (they hold
 * nothing to show or train on).
 *
 * @param invalidOption - makes the error thrown for an invalid `maxDepth` or `maxEntries` (each
 *   caller names its own error class).
 */
export async function walkNiftiFiles(roots: readonly string[], opts: NiftiWalkOptions, invalidOption: (message: string) => Error): Promise<NiftiWalk> {
  const excludedNames = new Set(opts.excludeFolderNames ?? ['node_modules']);
  const excludedFolders = (opts.excludeFolders ?? []).map((f) => resolve(f));
  const maxDepth = opts.maxDepth ?? 12;
  const maxEntries = opts.maxEntries ?? 200_000;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw invalidOption(`option maxDepth must be an integer ≥ 0, got ${String(opts.maxDepth)}`);
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw invalidOption(`option maxEntries must be an integer ≥ 1, got ${String(opts.maxEntries)}`);

  const niftiPaths: string[] = [];
  const fileNamesByFolder = new Map<string, Set<string>>();
  let entries = 0;
  let truncated = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    let list: Dirent[];
    try {
      list = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = new Set<string>();
    fileNamesByFolder.set(dir, names);
    for (const entry of list) {
      if (++entries > maxEntries) {
        truncated = true;
        return;
      }
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.') || excludedNames.has(entry.name) || depth >= maxDepth) continue;
        if (excludedFolders.some((f) => isInsideFolder(path, f))) continue;
        await walk(path, depth + 1);
        if (truncated) return;
      } else {
        names.add(entry.name);
        if (NIFTI_NAME.test(entry.name) && !LABEL_MAP_NAME.test(entry.name) && (entry.isFile() || entry.isSymbolicLink())) niftiPaths.push(path);
      }
    }
  };
  for (const root of roots.map((r) => resolve(r))) {
    if (excludedFolders.some((f) => isInsideFolder(root, f))) continue;
    await walk(root, 0);
    if (truncated) break;
  }
  return { niftiPaths, fileNamesByFolder, truncated };
}
