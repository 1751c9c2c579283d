// Export of labelled cases for training elsewhere: the nnU-Net v2 raw layout
// (`Dataset501_Lesions/imagesTr/<case>_0000.nii.gz`, `labelsTr/<case>.nii.gz`, `dataset.json`) or
// the Medical Segmentation Decathlon layout (`Task501_Lesions/imagesTr/<case>.nii.gz`, …).
// Images are hard-linked or copied byte for byte (gzipped when the source is a plain .nii), never
// modified; masks are written on their image's grid with consecutive label values; every label
// file is checked against its image afterwards. A manifest lists what the export wrote, so a
// rerun replaces exactly its own files, removes the ones no longer exported, and leaves anything
// else alone.

import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { checkSameGrid, convertedFormatOf, encodeMaskLike, encodeVolumeLike, readNifti, readNiftiHeader } from '../nifti';
import { writeFileAtomic } from '../util/atomicWrite';
import { checkOutputPaths, type GuardedInput, type GuardedOutput } from '../util/outputGuard';
import { imageStem } from '../labels/maskPath';
import { parseSidecar } from '../labels/sidecar';
import { checkLabelMask } from '../volume/labelMask';
import { scanCases, type CaseInfo } from './cases';

export const EXPORT_FORMATS = ['nnunet', 'msd'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Name of the manifest an export writes into its dataset folder. */
export const EXPORT_MANIFEST = 'lesion-lab-export.json';
const MANIFEST_FORMAT = 'lesion-lab-export';

/** Raised for an export that cannot be done; the message is one sentence naming the file and the problem. */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** Options of {@link exportDataset}. */
export interface ExportOptions {
  format: ExportFormat;
  /** The folder that receives `Dataset<id>_<name>` (nnU-Net's nnUNet_raw) or `Task<id>_<name>`. */
  outDir: string;
  /** 1…999; default 501. */
  datasetId?: number;
  /** Letters, digits, `-` and `_`; default "Lesions". */
  name?: string;
  /** Only cases whose sidecar says reviewed; default false (every case with a mask). */
  reviewedOnly?: boolean;
  /** The imaging channel's name in dataset.json (nnU-Net normalises "CT" differently); default "image". */
  channelName?: string;
  /** The `lesionLab.maskPattern`; default `${name}_seg.nii.gz`. */
  maskPattern?: string;
  /** Called after each case is written. */
  onProgress?: (done: number, total: number, caseId: string) => void;
  /** Cancels between cases (what was written stays; a rerun completes it). */
  signal?: AbortSignal;
}

/** One exported case. */
export interface ExportedCase {
  caseId: string;
  imagePath: string;
  maskPath: string;
  imageOut: string;
  labelOut: string;
  /** How the image got there. */
  /** 'converted': a NRRD, MetaImage or MGH image written as NIfTI (float32) on its grid. */
  imageBy: 'hard link' | 'copy' | 'gzip' | 'converted' | 'unchanged';
}

/** What an export did. */
export interface ExportResult {
  datasetDir: string;
  format: ExportFormat;
  cases: ExportedCase[];
  /** Label name → value written, background first. */
  labels: Record<string, number>;
  /** Source value → written value, for every value that changed. */
  remapped: Record<number, number>;
  /** Cases with an image but no mask (or not reviewed with reviewedOnly). */
  skipped: number;
  /** Files of a previous export that are no longer part of it and were removed. */
  removed: string[];
}

interface Manifest {
  format: typeof MANIFEST_FORMAT;
  files: { path: string; sha256?: string }[];
}

const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

function isInside(path: string, folder: string): boolean {
  const r = relative(folder, path);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/** The dataset folder name: "Dataset501_Lesions" (nnU-Net) or "Task501_Lesions" (MSD). */
export function datasetFolderName(format: ExportFormat, id: number, name: string): string {
  return `${format === 'nnunet' ? 'Dataset' : 'Task'}${String(id).padStart(3, '0')}_${name}`;
}

/**
 * Case identifiers from the images' paths relative to their workspace root: folders joined with
 * "_" and characters other than letters, digits, "-" and "_" replaced ("site a/c1.nii.gz" →
 * "site_a_c1").
 * @throws ExportError when two images give the same identifier.
 */
export function caseIds(cases: readonly Pick<CaseInfo, 'relativePath' | 'imagePath'>[]): string[] {
  const seen = new Map<string, string>();
  return cases.map((c) => {
    const parts = dirname(c.relativePath) === '.' ? [] : dirname(c.relativePath).split(/[\\/]/);
    const id = [...parts, imageStem(c.relativePath)].join('_').replace(/[^A-Za-z0-9_-]/g, '_');
    const other = seen.get(id);
    if (other !== undefined) throw new ExportError(`${c.imagePath} and ${other} would both be exported as case "${id}"; rename one of them`);
    seen.set(id, c.imagePath);
    return id;
  });
}

/**
 * The label table of the export: value 0 is "background"; every other value found in the masks
 * gets the name from the sidecars (first seen wins; duplicates get the value appended) and a
 * consecutive value 1…K in increasing source order, as nnU-Net requires.
 */
export function exportLabelTable(found: ReadonlyMap<number, string | null>): { labels: Record<string, number>; map: Map<number, number> } {
  const values = [...found.keys()].filter((v) => v !== 0).sort((a, b) => a - b);
  const labels: Record<string, number> = { background: 0 };
  const map = new Map<number, number>([[0, 0]]);
  values.forEach((v, n) => {
    let name = (found.get(v) ?? '').trim() || `label_${v}`;
    if (name in labels) name = `${name}_${v}`;
    labels[name] = n + 1;
    map.set(v, n + 1);
  });
  return { labels, map };
}

/** dataset.json for nnU-Net v2. */
export function nnunetDatasetJson(labels: Record<string, number>, numTraining: number, channelName: string, name: string): Record<string, unknown> {
  return {
    channel_names: { '0': channelName },
    labels,
    numTraining,
    file_ending: '.nii.gz',
    name,
    description: 'Exported by Lesion Lab from masks saved in the editor.',
  };
}

/** dataset.json of the Medical Segmentation Decathlon. */
export function msdDatasetJson(labels: Record<string, number>, caseIdsList: readonly string[], channelName: string, name: string): Record<string, unknown> {
  const byValue: Record<string, string> = {};
  for (const [labelName, value] of Object.entries(labels)) byValue[String(value)] = labelName;
  return {
    name,
    description: 'Exported by Lesion Lab from masks saved in the editor.',
    tensorImageSize: '3D',
    modality: { '0': channelName },
    labels: byValue,
    numTraining: caseIdsList.length,
    numTest: 0,
    training: caseIdsList.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
    test: [],
  };
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function statOrNull(path: string) {
  try {
    return await fsp.stat(path);
  } catch {
    return null;
  }
}

async function readManifest(datasetDir: string): Promise<Manifest | null> {
  const path = join(datasetDir, EXPORT_MANIFEST);
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (m?.format !== MANIFEST_FORMAT || !Array.isArray(m.files)) throw new Error('not an export manifest');
    return m;
  } catch (err) {
    throw new ExportError(`${path} is not a Lesion Lab export manifest (${(err as Error).message}); choose another --out folder or remove it`);
  }
}

/**
 * Puts a byte-identical (or, from a plain .nii, gzipped) copy of `source` at `target` through a
 * temporary file and a rename. A hard link is tried first: no bytes are copied and the source's
 * content cannot change through it, since nothing writes into an exported image.
 */
async function placeImage(source: string, target: string): Promise<ExportedCase['imageBy']> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    let how: ExportedCase['imageBy'];
    if (convertedFormatOf(source) !== null) {
      // nnU-Net and the MSD read NIfTI: a NRRD, MetaImage or MGH image is written as NIfTI on its grid.
      const image = await readNifti(source);
      await fsp.writeFile(temp, encodeVolumeLike(image, Float32Array.from(image.data), target), { flag: 'wx' });
      how = 'converted';
    } else if (!/\.gz$/i.test(source)) {
      await pipeline(createReadStream(source), createGzip({ level: 6 }), createWriteStream(temp, { flags: 'wx' }));
      how = 'gzip';
    } else {
      try {
        await fsp.link(source, temp);
        how = 'hard link';
      } catch {
        await fsp.copyFile(source, temp, fsp.constants?.COPYFILE_EXCL ?? 1);
        how = 'copy';
      }
    }
    await fsp.rename(temp, target);
    return how;
  } catch (err) {
    await fsp.rm(temp, { force: true });
    throw new ExportError(`${target} could not be written (${(err as Error).message})`);
  }
}

/**
 * Exports every case with a mask under `roots` in the nnU-Net v2 or MSD raw layout.
 * @returns what was written.
 * @throws ExportError (one sentence naming the file) for a mask that is not on its image's grid or
 *   not a label mask, colliding case names, an output folder holding inputs, an existing file the
 *   export did not write, or a failed validation; OutputPathError from the output guard.
 * @example await exportDataset(['/data/study'], { format: 'nnunet', outDir: '/data/nnUNet_raw' });
 */
export async function exportDataset(roots: readonly string[], opts: ExportOptions): Promise<ExportResult> {
  const datasetId = opts.datasetId ?? 501;
  const name = opts.name ?? 'Lesions';
  const channelName = opts.channelName ?? 'image';
  if (!Number.isInteger(datasetId) || datasetId < 1 || datasetId > 999) throw new ExportError(`the dataset id must be a whole number from 1 to 999, got ${String(opts.datasetId)}`);
  if (!NAME_PATTERN.test(name)) throw new ExportError(`the dataset name must use letters, digits, "-" and "_" only, got ${JSON.stringify(name)}`);
  if (channelName.trim() === '') throw new ExportError('the channel name must not be empty');
  const outDir = resolve(opts.outDir);
  const datasetDir = join(outDir, datasetFolderName(opts.format, datasetId, name));
  const outStat = await statOrNull(outDir);
  if (!outStat) throw new ExportError(`the output folder ${outDir} does not exist; create it first`);
  if (!outStat.isDirectory()) throw new ExportError(`the output folder ${outDir} is a file, not a folder`);

  const scan = await scanCases(roots, { maskPattern: opts.maskPattern, excludeFolders: [datasetDir] });
  const chosen = scan.cases.filter((c) => (opts.reviewedOnly ? c.state === 'reviewed' : c.state === 'reviewed' || c.state === 'edited'));
  const skipped = scan.cases.length - chosen.length;
  if (chosen.length === 0) {
    throw new ExportError(
      `no ${opts.reviewedOnly ? 'reviewed ' : ''}case with a mask among ${scan.cases.length} image(s) under ${roots.join(', ')}; save masks in Lesion Lab (or name them by lesionLab.maskPattern) first`,
    );
  }
  for (const c of chosen) {
    if (isInside(c.imagePath, datasetDir) || isInside(c.maskPath, datasetDir)) {
      throw new ExportError(`${c.imagePath} lies inside the export folder ${datasetDir}; export somewhere else`);
    }
  }
  const ids = caseIds(chosen);
  const imageName = (id: string) => (opts.format === 'nnunet' ? `${id}_0000.nii.gz` : `${id}.nii.gz`);
  const plan = chosen.map((c, n) => ({
    c,
    caseId: ids[n],
    imageOut: join(datasetDir, 'imagesTr', imageName(ids[n])),
    labelOut: join(datasetDir, 'labelsTr', `${ids[n]}.nii.gz`),
  }));

  // The label table from the sidecars (names) and the masks (values present).
  const found = new Map<number, string | null>();
  for (const p of plan) {
    try {
      const parsed = parseSidecar(await fsp.readFile(p.c.sidecarPath, 'utf8'), basename(p.c.sidecarPath));
      for (const e of parsed.labelTable) if (e.value !== 0 && !found.has(e.value)) found.set(e.value, null);
    } catch {
      // No or unreadable sidecar: the values come from the mask alone.
    }
  }

  // Which files of the dataset folder are ours to replace.
  const manifest = await readManifest(datasetDir);
  const ours = new Set((manifest?.files ?? []).map((f) => resolve(datasetDir, f.path)));
  const planned = new Set<string>([join(datasetDir, 'dataset.json'), join(datasetDir, EXPORT_MANIFEST)]);
  for (const p of plan) planned.add(p.imageOut).add(p.labelOut);
  for (const file of [join(datasetDir, 'dataset.json')]) {
    if ((await statOrNull(file)) && !ours.has(file)) throw new ExportError(`${file} already exists and was not written by a Lesion Lab export; choose another --out folder or dataset name`);
  }

  // Output guard: no output may be an input; label files may replace only our own outputs.
  const inputs: GuardedInput[] = plan.flatMap((p) => [
    { role: 'the image', path: p.c.imagePath },
    { role: 'the mask', path: p.c.maskPath },
  ]);
  await fsp.mkdir(join(datasetDir, 'imagesTr'), { recursive: true });
  await fsp.mkdir(join(datasetDir, 'labelsTr'), { recursive: true });
  const outputs: GuardedOutput[] = [];
  for (const p of plan) {
    outputs.push({ role: `the label file of ${p.caseId}`, path: p.labelOut, kind: 'nifti' });
    // An existing image copy is checked below (same file, or ours from the manifest).
    if (!(await statOrNull(p.imageOut))) outputs.push({ role: `the image of ${p.caseId}`, path: p.imageOut, kind: 'nifti' });
  }
  await checkOutputPaths({ inputs, outputs });
  // An existing image file must be the source itself (hard link) or our own earlier copy.
  for (const p of plan) {
    const existing = await statOrNull(p.imageOut);
    if (!existing || ours.has(p.imageOut)) continue;
    const sourceStat = await fsp.stat(p.c.imagePath);
    if (existing.dev !== sourceStat.dev || existing.ino !== sourceStat.ino) {
      throw new ExportError(`${p.imageOut} already exists and was not written by a Lesion Lab export; choose another --out folder or dataset name`);
    }
  }

  // Masks first (read, checked, values collected), so a bad one stops the export before any write.
  const masks: { labels: Uint16Array | Uint8Array }[] = [];
  for (const p of plan) {
    const header = await readNiftiHeader(p.c.imagePath);
    const mask = await readNifti(p.c.maskPath);
    const grid = checkSameGrid(header, mask);
    if (!grid.same) {
      throw new ExportError(`the mask ${p.c.maskPath} is not on the grid of ${basename(p.c.imagePath)} (${grid.differences.join('; ')}); open the case in Lesion Lab, let it resample the mask and save, then export again`);
    }
    let values: number[];
    try {
      values = checkLabelMask(mask.data, basename(p.c.maskPath));
    } catch (err) {
      throw new ExportError((err as Error).message);
    }
    for (const v of values) if (v !== 0 && !found.has(v)) found.set(v, null);
    masks.push({ labels: mask.data instanceof Uint8Array ? mask.data : Uint16Array.from(mask.data) });
  }
  // Names from the sidecars (now that every value is known).
  for (const p of plan) {
    try {
      const parsed = parseSidecar(await fsp.readFile(p.c.sidecarPath, 'utf8'), basename(p.c.sidecarPath));
      for (const e of parsed.labelTable) if (found.has(e.value) && found.get(e.value) === null) found.set(e.value, e.name);
    } catch {
      // see above
    }
  }
  const { labels, map } = exportLabelTable(found);
  const remapped: Record<number, number> = {};
  for (const [from, to] of map) if (from !== to) remapped[from] = to;

  const exported: ExportedCase[] = [];
  const manifestFiles: Manifest['files'] = [];
  for (let n = 0; n < plan.length; n++) {
    if (opts.signal?.aborted) throw new ExportError('the export was cancelled; run it again to complete it');
    const p = plan[n];
    // Image: kept when it already is the source (hard link) or our earlier copy of it.
    let imageBy: ExportedCase['imageBy'];
    const existing = await statOrNull(p.imageOut);
    const sourceStat = await fsp.stat(p.c.imagePath);
    if (existing && existing.dev === sourceStat.dev && existing.ino === sourceStat.ino) {
      imageBy = 'unchanged';
    } else if (existing && /\.gz$/i.test(p.c.imagePath) && existing.size === sourceStat.size && (await sha256OfFile(p.imageOut)) === (await sha256OfFile(p.c.imagePath))) {
      imageBy = 'unchanged';
    } else {
      imageBy = await placeImage(p.c.imagePath, p.imageOut);
    }
    // Label file: the mask's values mapped to the export's, on the image's grid.
    const image = await readNifti(p.c.imagePath);
    const src = masks[n].labels;
    const out = new Uint8Array(src.length);
    for (let v = 0; v < src.length; v++) out[v] = map.get(src[v]) ?? 0;
    const bytes = encodeMaskLike(image, out, p.labelOut);
    const previous = await statOrNull(p.labelOut);
    const sameBytes = previous !== null && previous.size === bytes.length && (await fsp.readFile(p.labelOut)).equals(bytes);
    if (!sameBytes) await writeFileAtomic(p.labelOut, bytes);
    exported.push({ caseId: p.caseId, imagePath: p.c.imagePath, maskPath: p.c.maskPath, imageOut: p.imageOut, labelOut: p.labelOut, imageBy });
    manifestFiles.push({ path: relative(datasetDir, p.imageOut) }, { path: relative(datasetDir, p.labelOut) });
    masks[n] = { labels: new Uint8Array(0) };
    opts.onProgress?.(n + 1, plan.length, p.caseId);
  }

  // Files of a previous export that are not part of this one.
  const removed: string[] = [];
  for (const file of ours) {
    if (!planned.has(file) && (await statOrNull(file))) {
      await fsp.rm(file, { force: true });
      removed.push(file);
    }
  }

  const json =
    opts.format === 'nnunet'
      ? nnunetDatasetJson(labels, plan.length, channelName, name)
      : msdDatasetJson(labels, plan.map((p) => p.caseId), channelName, name);
  manifestFiles.push({ path: 'dataset.json' });
  await writeFileAtomic(join(datasetDir, 'dataset.json'), JSON.stringify(json, null, 2) + '\n');
  await writeFileAtomic(join(datasetDir, EXPORT_MANIFEST), JSON.stringify({ format: MANIFEST_FORMAT, files: manifestFiles }, null, 2) + '\n');

  await validateExport(exported);
  return { datasetDir, format: opts.format, cases: exported, labels, remapped, skipped, removed };
}

/**
 * Checks every exported label file against its exported image: readable, same shape and affine.
 * @throws ExportError naming the first file that does not fit.
 */
export async function validateExport(cases: readonly ExportedCase[]): Promise<void> {
  for (const c of cases) {
    const [image, label] = await Promise.all([readNiftiHeader(c.imageOut), readNiftiHeader(c.labelOut)]);
    const grid = checkSameGrid(image, label);
    if (!grid.same) throw new ExportError(`validation failed: ${c.labelOut} is not on the grid of ${c.imageOut} (${grid.differences.join('; ')})`);
  }
}
