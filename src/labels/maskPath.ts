// Where the mask and its sidecar live for a given image. Pure path logic (node:path only).

import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** Default of the `lesionLab.maskPattern` setting. */
export const DEFAULT_MASK_PATTERN = '${name}_seg.nii.gz';

/** Thrown for a mask pattern that cannot give a usable mask path. */
export class MaskPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaskPathError';
  }
}

const IMAGE_SUFFIXES = ['.nii.gz', '.nii', '.hdr.gz', '.hdr', '.img.gz', '.img', '.nrrd', '.nhdr', '.mha', '.mhd', '.mgh', '.mgz'];

/** The image's base name without its NIfTI, NRRD, MetaImage or MGH suffix: "case01.nii.gz" → "case01", "case01.mha" → "case01". */
export function imageStem(imagePath: string): string {
  const base = basename(imagePath);
  const lower = base.toLowerCase();
  for (const s of IMAGE_SUFFIXES) if (lower.endsWith(s) && base.length > s.length) return base.slice(0, -s.length);
  return base;
}

/**
 * The mask path for an image: `pattern` with `${name}` replaced by the image's stem, resolved
 * against the image's folder unless absolute. Example: ("/d/case01.nii.gz", "${name}_seg.nii.gz")
 * → "/d/case01_seg.nii.gz"; "../masks/${name}.nii.gz" puts masks in a sibling folder.
 * @throws MaskPathError when the pattern is empty, does not end in .nii.gz (masks are always
 *   written compressed), or names the image itself.
 */
export function maskPathFor(imagePath: string, pattern: string = DEFAULT_MASK_PATTERN): string {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw new MaskPathError(`lesionLab.maskPattern must be a file name pattern such as "${DEFAULT_MASK_PATTERN}", got ${JSON.stringify(pattern)}`);
  }
  const filled = pattern.split('${name}').join(imageStem(imagePath));
  const lower = filled.toLowerCase();
  if (!lower.endsWith('.nii.gz')) {
    throw new MaskPathError(`lesionLab.maskPattern "${pattern}" must end in .nii.gz`);
  }
  const maskPath = isAbsolute(filled) ? resolve(filled) : resolve(dirname(imagePath), filled);
  if (maskPath === resolve(imagePath)) {
    throw new MaskPathError(`lesionLab.maskPattern "${pattern}" gives the image's own path (${basename(imagePath)}); the image must never be overwritten`);
  }
  return maskPath;
}

/**
 * Each NIfTI file's mask path under `pattern`, and the set of those mask paths, so a walk over a
 * folder can tell images from masks: a file whose mask path would be itself (pattern
 * "../masks/${name}.nii.gz" seen from masks/) has no entry in `maskOf`, and a file in `masks` is a
 * mask, not an image.
 */
export function maskPathsOf(paths: Iterable<string>, pattern: string): { maskOf: Map<string, string>; masks: Set<string> } {
  const maskOf = new Map<string, string>();
  for (const p of paths) {
    try {
      maskOf.set(p, maskPathFor(p, pattern));
    } catch {
      // The pattern gives the file itself: it is a mask.
    }
  }
  return { maskOf, masks: new Set(maskOf.values()) };
}

/** The provenance sidecar beside a mask: "case01_seg.nii.gz" → "case01_seg.json". */
export function sidecarPathFor(maskPath: string): string {
  const lower = maskPath.toLowerCase();
  if (lower.endsWith('.nii.gz')) return maskPath.slice(0, -'.nii.gz'.length) + '.json';
  if (lower.endsWith('.nii')) return maskPath.slice(0, -'.nii'.length) + '.json';
  return maskPath + '.json';
}

/** The ITK-SNAP label description file beside a mask: "case01_seg.nii.gz" → "case01_seg_labels.txt". */
export function itkSnapLabelPathFor(maskPath: string): string {
  return sidecarPathFor(maskPath).slice(0, -'.json'.length) + '_labels.txt';
}

/**
 * True when `path` is `folder` or lies below it. Both must be absolute and already resolved (real
 * paths when symbolic links matter); the comparison is textual and case-sensitive.
 */
export function isInsideFolder(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Where the effective `lesionLab.maskPattern` comes from (the scopes of `inspect()`). */
export type MaskPatternSource = 'default' | 'user' | 'workspace';

/**
 * The scope that decides the setting, from `WorkspaceConfiguration.inspect('maskPattern')`:
 * a workspace or folder value wins over the user's value, which wins over the default.
 */
export function maskPatternSource(inspected: { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown } | undefined): MaskPatternSource {
  if (!inspected) return 'default';
  if (inspected.workspaceFolderValue !== undefined || inspected.workspaceValue !== undefined) return 'workspace';
  if (inspected.globalValue !== undefined) return 'user';
  return 'default';
}
