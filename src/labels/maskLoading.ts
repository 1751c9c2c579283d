// Reading a mask for an image: same grid → loaded; missing → empty labels; unreadable, not a
// label map or on another grid → the user chooses (resample, read-only, ignore).

import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { checkSameGrid, readNifti, type NiftiImage } from '../nifti';
import type { LabelArray } from '../protocol/labelDelta';
import type { LabelTableEntry } from '../protocol/messages';
import { completeLabelTable, defaultLabelTable, type PriorProvenance } from './labelModel';
import { labelsFromMaskData, resampleLabelsToGrid } from './maskGrid';
import { fileExists } from './maskFiles';
import { sidecarPathFor } from './maskPath';
import { parseSidecar } from './sidecar';
import { errorText } from '../util/errorText';

/** What happened to the mask file when the image was opened. */
export type MaskStatus =
  /** A mask existed on the same grid and was loaded. */
  | 'loaded'
  /** No mask file yet; labels start empty and Save creates one. */
  | 'new'
  /** A mask existed on a different grid and the user chose to ignore it (Save overwrites it). */
  | 'ignored'
  /** A mask on a different grid was resampled (nearest neighbour, via the affines) onto the image grid. */
  | 'resampled';

/** Where the labels come from and why the document may be read-only. */
export interface MaskInfo {
  /** Absolute path of the mask file Save writes (may not exist yet). */
  path: string;
  status: MaskStatus;
  /** Human-readable note for the user (e.g. how the grids differ), or null. */
  message: string | null;
}

/** What the user chose for a mask that cannot be applied as it is. */
export type MaskProblemChoice =
  /** Resample the mask onto the image grid (nearest neighbour, by world position) and edit it. */
  | 'resample'
  /** Show the resampled mask (if possible) but make the document read-only: nothing is saved. */
  | 'readOnly'
  /** Start with empty labels; Save will replace the mask file. */
  | 'ignore';

/** A mask that exists but cannot be applied as it is. */
export interface MaskProblem {
  maskPath: string;
  /** 'grid': shape or affine differ; 'unreadable': not a valid NIfTI; 'notLabels': values are not labels. */
  kind: 'grid' | 'unreadable' | 'notLabels';
  /** Differences as phrases ("shifted 1.5 mm along x", "one slice short along k (21 vs 22)"). */
  differences: string[];
  /** One sentence for the user naming the mask file and the problem. */
  message: string;
  /** The choices that make sense for this problem (resampling needs a readable mask). */
  choices: MaskProblemChoice[];
}

/** The labels, label table and state read for an image. */
export interface LoadedLabels {
  labels: LabelArray;
  table: LabelTableEntry[];
  prior: PriorProvenance;
  mask: MaskInfo;
  readOnly: boolean;
  readOnlyReason: string | null;
  sidecarWarning: string | null;
}

/**
 * Reads the mask at `maskPath` for `image`: same grid → loaded; missing → empty; otherwise
 * asks `onMaskProblem` (default: read-only).
 */
export async function loadLabels(
  image: NiftiImage,
  maskPath: string,
  onMaskProblem: ((problem: MaskProblem) => Promise<MaskProblemChoice>) | undefined,
  /** Set when the mask path itself is refused: the mask is then neither read nor written. */
  refusedPath: string | null = null,
): Promise<LoadedLabels> {
  const voxels = image.dims[0] * image.dims[1] * image.dims[2];
  const empty = (): LabelArray => new Uint8Array(voxels);
  let table = defaultLabelTable();
  let prior: PriorProvenance = { modelVersion: null, handEditedVoxels: 0 };
  let sidecarWarning: string | null = null;
  if (refusedPath !== null) {
    return { table, prior, sidecarWarning, labels: empty(), mask: { path: maskPath, status: 'ignored', message: refusedPath }, readOnly: true, readOnlyReason: refusedPath };
  }
  const sidecarPath = sidecarPathFor(maskPath);
  if (await fileExists(sidecarPath)) {
    try {
      const parsed = parseSidecar(await fsp.readFile(sidecarPath, 'utf8'), basename(sidecarPath));
      if (parsed.labelTable.length > 0) table = parsed.labelTable;
      prior = { modelVersion: parsed.modelVersion, handEditedVoxels: parsed.handEditedVoxels };
    } catch (err) {
      sidecarWarning = `${errorText(err)}; using the default label table`;
    }
  }
  const base = { table, prior, sidecarWarning };
  if (!(await fileExists(maskPath))) {
    return { ...base, labels: empty(), mask: { path: maskPath, status: 'new', message: null }, readOnly: false, readOnlyReason: null };
  }
  const maskName = basename(maskPath);
  let maskImage: NiftiImage | null = null;
  let problem: MaskProblem | null = null;
  try {
    maskImage = await readNifti(maskPath);
  } catch (err) {
    problem = {
      maskPath,
      kind: 'unreadable',
      differences: [],
      message: `The mask ${maskName} cannot be read: ${errorText(err)}`,
      choices: ['readOnly', 'ignore'],
    };
  }
  let maskLabels: LabelArray | null = null;
  if (maskImage) {
    const converted = labelsFromMaskData(maskImage.data);
    if ('problem' in converted) {
      problem = {
        maskPath,
        kind: 'notLabels',
        differences: [],
        message: `The mask ${maskName} is not a label map: ${converted.problem}.`,
        choices: ['readOnly', 'ignore'],
      };
    } else {
      maskLabels = converted.labels;
      const grid = checkSameGrid(image, maskImage);
      if (grid.same) {
        return {
          ...base,
          table: completeLabelTable(table, maskLabels),
          labels: maskLabels,
          mask: { path: maskPath, status: 'loaded', message: null },
          readOnly: false,
          readOnlyReason: null,
        };
      }
      problem = {
        maskPath,
        kind: 'grid',
        differences: grid.differences,
        message: `The mask ${maskName} is not on the grid of ${basename(image.filePath)}: ${grid.differences.join('; ')}.`,
        choices: ['resample', 'readOnly', 'ignore'],
      };
    }
  }
  // problem is set here.
  const p = problem as MaskProblem;
  const choice = onMaskProblem ? await onMaskProblem(p) : 'readOnly';
  const resampled = (): LabelArray =>
    maskImage && maskLabels
      ? resampleLabelsToGrid({ labels: maskLabels, dims: maskImage.dims, affine: maskImage.affine }, image.dims, image.affine)
      : empty();
  const status = (s: MaskStatus, message: string): MaskInfo => ({ path: maskPath, status: s, message });
  switch (choice) {
    case 'resample': {
      const labels = resampled();
      return { ...base, table: completeLabelTable(table, labels), labels, mask: status('resampled', `${p.message} It was resampled onto the image grid; Save replaces it.`), readOnly: false, readOnlyReason: null };
    }
    case 'readOnly': {
      const labels = resampled();
      return {
        ...base,
        table: completeLabelTable(table, labels),
        labels,
        mask: status(p.kind === 'grid' ? 'resampled' : 'ignored', p.message),
        readOnly: true,
        readOnlyReason: `${p.message} Opened read-only so the mask is not overwritten.`,
      };
    }
    case 'ignore':
      return { ...base, labels: empty(), mask: status('ignored', `${p.message} Opened without it; Save replaces it.`), readOnly: false, readOnlyReason: null };
    default: {
      const never: never = choice;
      throw new Error(`unknown mask choice ${String(never)}`);
    }
  }
}
