// The cases of a workspace: every NIfTI image (not our masks, proposals or uncertainty maps) with
// its review state and what its sidecar says (lesions, volume, model version, uncertainty); the
// orders, filter, progress line and "next case" of the Cases view. Pure file-system logic, no
// vscode.

import { promises as fsp } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DEFAULT_MASK_PATTERN, imageStem, maskPathFor, maskPathsOf, sidecarPathFor } from '../labels/maskPath';
import { ownerStemOfMap } from './caseFiles';
import { walkNiftiFiles, type NiftiWalkOptions } from './niftiWalk';
import { correctionRecordOf, parseSidecarObject, proposalRecordOf, type CorrectionRecord, type ProposalRecord } from './sidecarFields';

/** Review states, in the order a reviewer works through them. */
export const CASE_STATES = ['proposal', 'edited', 'no-mask', 'reviewed'] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** What the view shows for each state. */
export const CASE_STATE_TEXT: Readonly<Record<CaseState, string>> = {
  'no-mask': 'no mask',
  proposal: 'proposal ready',
  edited: 'edited',
  reviewed: 'reviewed',
};

/** The orders of the Cases view. */
export const CASE_ORDERS = ['name', 'state', 'informative'] as const;
export type CaseOrder = (typeof CASE_ORDERS)[number];

/** One image of the workspace and its state. */
export interface CaseInfo {
  imagePath: string;
  /** The image's folder relative to its workspace root ('' at the root). */
  folder: string;
  /** The image's path relative to its workspace root. */
  relativePath: string;
  fileName: string;
  maskPath: string;
  sidecarPath: string;
  state: CaseState;
  /** Lesions (connected components) in the saved mask, or in the proposal; null when unknown. */
  lesionCount: number | null;
  /** Labelled (or proposed) volume in mm³; null when unknown. */
  volumeMm3: number | null;
  /** The model version that proposed the mask or the waiting proposal; null when drawn by hand or none. */
  modelVersion: string | null;
  /** Mean flip-TTA uncertainty inside the proposal; null without one. */
  meanUncertainty: number | null;
  proposal: ProposalRecord | null;
  correction: CorrectionRecord | null;
  /** Why the sidecar could not be read (the state is then taken from the files alone), else null. */
  problem: string | null;
}

/** Options of {@link scanCases}: the mask pattern and the bounds of the folder walk. */
export interface ScanOptions extends NiftiWalkOptions {
  /** The `lesionLab.maskPattern` setting; default `${name}_seg.nii.gz`. */
  maskPattern?: string;
}

/** Result of {@link scanCases}. */
export interface CaseScan {
  /** Sorted by relative path. */
  cases: CaseInfo[];
  /** True when the walk stopped at `maxEntries`. */
  truncated: boolean;
}

/** Thrown for invalid scan options. */
export class CaseScanError extends Error {
  override name = 'CaseScanError';
}

/** A stable total order on names with numbers compared as numbers ("case2" before "case10"). */
export function compareNames(a: string, b: string): number {
  const c = a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' });
  return c !== 0 ? c : a < b ? -1 : a > b ? 1 : 0;
}

function rootOf(path: string, roots: readonly string[]): string {
  for (const root of roots) {
    const r = relative(root, path);
    if (r === '' || (!r.startsWith('..') && !isAbsolute(r))) return root;
  }
  return dirname(path);
}

/** Sum of the sidecar's label volumes, or null when it lists none. */
function labelledVolume(sidecar: Record<string, unknown>): number | null {
  if (!Array.isArray(sidecar.labels)) return null;
  let total = 0;
  for (const l of sidecar.labels) {
    const v = (l as { volumeMm3?: unknown } | null)?.volumeMm3;
    if (typeof v === 'number' && Number.isFinite(v)) total += v;
  }
  return total;
}

/**
 * Finds every NIfTI image under `roots` and its state. A file is not an image when it is the mask
 * of an image found (by `maskPattern`), or a proposal or uncertainty map beside its image
 * (`<stem>_proposal.nii.gz`, `<stem>_uncertainty.nii.gz`), or a map named by a sidecar.
 *
 * States: *reviewed* (the mask's sidecar says `reviewed: true`), *edited* (a mask exists, not
 * reviewed), *proposal* (no mask; the sidecar names a proposal file that exists), *no-mask*.
 *
 * @throws MaskPathError for an unusable mask pattern; CaseScanError for invalid options.
 * @example const { cases } = await scanCases(['/data/study']);
 */
export async function scanCases(roots: readonly string[], opts: ScanOptions = {}): Promise<CaseScan> {
  const pattern = opts.maskPattern ?? DEFAULT_MASK_PATTERN;
  const absRoots = roots.map((r) => resolve(r));
  // An unusable pattern fails for every image: say so once, up front.
  maskPathFor(join(absRoots[0] ?? resolve('.'), 'probe.nii.gz'), pattern);
  const walked = await walkNiftiFiles(absRoots, opts, (message) => new CaseScanError(message));
  const niftis = walked.niftiPaths;
  /** Every file seen, by folder: existence checks without one stat per file. */
  const listed = walked.fileNamesByFolder;
  const truncated = walked.truncated;

  const exists = async (path: string): Promise<boolean> => {
    const names = listed.get(dirname(path));
    if (names) return names.has(basename(path));
    try {
      await fsp.access(path);
      return true;
    } catch {
      return false;
    }
  };

  // Masks first, so that a mask found by the walk is not taken for an image.
  const { maskOf, masks } = maskPathsOf(niftis, pattern);
  const candidates = niftis.filter((p) => maskOf.has(p) && !masks.has(p));
  const stemsByFolder = new Map<string, Set<string>>();
  for (const p of candidates) {
    const folder = dirname(p);
    const set = stemsByFolder.get(folder) ?? new Set<string>();
    set.add(imageStem(p));
    stemsByFolder.set(folder, set);
  }
  const isMapOfAnImage = (p: string): boolean => {
    const owner = ownerStemOfMap(basename(p));
    return owner !== null && (stemsByFolder.get(dirname(p))?.has(owner) ?? false);
  };
  const images = candidates.filter((p) => !isMapOfAnImage(p));

  const namedMaps = new Set<string>();
  const cases: CaseInfo[] = [];
  for (const imagePath of images) {
    const maskPath = maskOf.get(imagePath) as string;
    const sidecarPath = sidecarPathFor(maskPath);
    const root = rootOf(imagePath, absRoots);
    const relativePath = relative(root, imagePath);
    const info: CaseInfo = {
      imagePath,
      folder: dirname(relativePath) === '.' ? '' : dirname(relativePath),
      relativePath,
      fileName: basename(imagePath),
      maskPath,
      sidecarPath,
      state: 'no-mask',
      lesionCount: null,
      volumeMm3: null,
      modelVersion: null,
      meanUncertainty: null,
      proposal: null,
      correction: null,
      problem: null,
    };
    const hasMask = await exists(maskPath);
    let sidecar: Record<string, unknown> | null = null;
    if (await exists(sidecarPath)) {
      try {
        sidecar = parseSidecarObject(await fsp.readFile(sidecarPath, 'utf8'), basename(sidecarPath));
      } catch (err) {
        info.problem = (err as Error).message;
      }
    }
    const proposal = proposalRecordOf(sidecar);
    if (proposal) {
      namedMaps.add(join(dirname(imagePath), proposal.file));
      if (proposal.uncertaintyFile) namedMaps.add(join(dirname(imagePath), proposal.uncertaintyFile));
    }
    info.proposal = proposal;
    info.correction = correctionRecordOf(sidecar);
    info.meanUncertainty = proposal?.meanUncertainty ?? null;
    if (hasMask) {
      info.state = sidecar?.reviewed === true ? 'reviewed' : 'edited';
      if (sidecar) {
        info.volumeMm3 = labelledVolume(sidecar);
        info.lesionCount = typeof sidecar.lesionCount === 'number' ? sidecar.lesionCount : null;
        const prov = sidecar.provenance as { modelVersion?: unknown } | undefined;
        info.modelVersion = typeof prov?.modelVersion === 'string' ? prov.modelVersion : null;
      }
    } else if (proposal && (await exists(join(dirname(imagePath), proposal.file)))) {
      info.state = 'proposal';
      info.lesionCount = proposal.lesionCount;
      info.volumeMm3 = proposal.volumeMm3;
      info.modelVersion = proposal.modelVersion;
    }
    cases.push(info);
  }
  return { cases: cases.filter((c) => !namedMaps.has(c.imagePath)).sort((a, b) => compareNames(a.imagePath, b.imagePath)), truncated };
}

/**
 * The cases in `order`: by name (folder, then file); by state (proposal ready, edited, no mask,
 * reviewed); or most informative first (highest mean uncertainty inside the proposal; cases
 * without one last). Ties go by name. Returns a new array.
 */
export function sortCases(cases: readonly CaseInfo[], order: CaseOrder): CaseInfo[] {
  const byName = (a: CaseInfo, b: CaseInfo): number => compareNames(a.relativePath, b.relativePath) || compareNames(a.imagePath, b.imagePath);
  const copy = [...cases];
  switch (order) {
    case 'name':
      return copy.sort(byName);
    case 'state':
      return copy.sort((a, b) => CASE_STATES.indexOf(a.state) - CASE_STATES.indexOf(b.state) || byName(a, b));
    case 'informative':
      return copy.sort((a, b) => {
        const ua = a.meanUncertainty ?? Number.NEGATIVE_INFINITY;
        const ub = b.meanUncertainty ?? Number.NEGATIVE_INFINITY;
        return ua !== ub ? (ub > ua ? 1 : -1) : byName(a, b);
      });
    default: {
      const never: never = order;
      throw new CaseScanError(`unknown order ${String(never)}; the orders are ${CASE_ORDERS.join(', ')}`);
    }
  }
}

/** A parsed filter: words that must all appear in the relative path, and allowed states. */
export interface CaseFilter {
  words: string[];
  /** null: every state. */
  states: Set<CaseState> | null;
}

const STATE_WORDS: Readonly<Record<string, CaseState[]>> = {
  'is:no-mask': ['no-mask'],
  'is:proposal': ['proposal'],
  'is:edited': ['edited'],
  'is:reviewed': ['reviewed'],
  'is:unreviewed': ['no-mask', 'proposal', 'edited'],
};

/**
 * Parses the filter text of the Cases view: words to find in the path (case-insensitive), and
 * `is:no-mask`, `is:proposal`, `is:edited`, `is:reviewed`, `is:unreviewed` for states.
 * @throws CaseScanError for an unknown `is:` word (the message lists the known ones).
 */
export function parseCaseFilter(text: string): CaseFilter {
  const words: string[] = [];
  let states: Set<CaseState> | null = null;
  for (const token of text.trim().toLowerCase().split(/\s+/).filter((t) => t !== '')) {
    if (token.startsWith('is:')) {
      const s = STATE_WORDS[token];
      if (!s) throw new CaseScanError(`unknown filter word "${token}"; use ${Object.keys(STATE_WORDS).join(', ')}`);
      states ??= new Set();
      for (const x of s) states.add(x);
    } else {
      words.push(token);
    }
  }
  return { words, states };
}

/** The cases that pass `filter`. */
export function filterCases(cases: readonly CaseInfo[], filter: CaseFilter): CaseInfo[] {
  return cases.filter((c) => {
    if (filter.states && !filter.states.has(c.state)) return false;
    const path = c.relativePath.toLowerCase();
    return filter.words.every((w) => path.includes(w));
  });
}

/** "17 / 50 reviewed". */
export function progressLine(cases: readonly CaseInfo[]): string {
  const reviewed = cases.filter((c) => c.state === 'reviewed').length;
  return `${reviewed} / ${cases.length} reviewed`;
}

/**
 * The next case to review in `ordered`: the first one not reviewed after `currentPath` (wrapping
 * around), or the first not reviewed when `currentPath` is not listed; null when all are reviewed.
 */
export function nextCase(ordered: readonly CaseInfo[], currentPath: string | null): CaseInfo | null {
  const start = currentPath === null ? -1 : ordered.findIndex((c) => c.imagePath === currentPath);
  for (let step = 1; step <= ordered.length; step++) {
    const c = ordered[(start + step + ordered.length) % ordered.length];
    if (c.state !== 'reviewed' && c.imagePath !== currentPath) return c;
  }
  return null;
}

/** One line describing a case for the view: "proposal ready · 3 lesions · 1,234 mm³ · v2 · u 0.031". */
export function caseDescription(c: CaseInfo): string {
  const parts: string[] = [CASE_STATE_TEXT[c.state]];
  if (c.lesionCount !== null) parts.push(`${c.lesionCount} lesion${c.lesionCount === 1 ? '' : 's'}`);
  if (c.volumeMm3 !== null && c.state !== 'no-mask') parts.push(`${Math.round(c.volumeMm3).toLocaleString('en-US')} mm³`);
  if (c.modelVersion) parts.push(c.modelVersion);
  if (c.meanUncertainty !== null) parts.push(`u ${c.meanUncertainty.toFixed(3)}`);
  return parts.join(' · ');
}

/**
 * Groups ordered cases by folder; folders come in the order of their first case, so a global order
 * (most informative first) also orders the folders, and cases keep their order within a folder.
 */
export function groupCasesByFolder(ordered: readonly CaseInfo[]): { folder: string; cases: CaseInfo[] }[] {
  const groups = new Map<string, { folder: string; cases: CaseInfo[] }>();
  for (const c of ordered) {
    let g = groups.get(c.folder);
    if (!g) groups.set(c.folder, (g = { folder: c.folder, cases: [] }));
    g.cases.push(c);
  }
  return [...groups.values()];
}

/**
 * What Segment All Unreviewed segments, in the given order: cases without a mask, and proposals of
 * another model version than `modelVersion`. Cases with a mask (edited or reviewed) and proposals
 * already made by this model are left alone, so a cancelled run resumes where it stopped.
 */
export function casesToSegment(ordered: readonly CaseInfo[], modelVersion: string): CaseInfo[] {
  return ordered.filter((c) => c.state === 'no-mask' || (c.state === 'proposal' && c.proposal?.modelVersion !== modelVersion));
}
