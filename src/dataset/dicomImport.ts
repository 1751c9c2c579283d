// importDicom: every image series under a folder (a PACS or CD export, one folder per series or
// several series in one folder) written as NIfTI into another folder, so that the Cases view,
// fine-tuning and exports see them as cases. The DICOM files are only read; a series that cannot
// be stacked (a localizer, a missing slice, a compressed transfer syntax) is reported with why.
import { existsSync, promises as fsp } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { DICOM_NOT_AN_IMAGE, NiftiReadError, scanDicomFolder, seriesVolume, writeImageAsNifti, type DicomSeriesSummary } from '../nifti';
import { writeFileAtomic } from '../util/atomicWrite';
import { dicomSourcePathFor, dicomSourceText } from './dicomSeg';
import { isInsideFolder } from './niftiWalk';

const [NOT_DICOM, NO_PIXELS] = DICOM_NOT_AN_IMAGE;

/** A series written as NIfTI. */
export interface ImportedSeries {
  /** The folder the series' files are in. */
  folder: string;
  series: DicomSeriesSummary;
  /** The NIfTI file written. */
  niftiPath: string;
  dims: [number, number, number];
  spacingMm: [number, number, number];
  /** PET: the values' unit (SUVbw, or as stored) and how it was reached. */
  pet?: { unit: string; note: string };
  /** How the pixels were compressed with loss, when they were. */
  lossy?: string;
  /** A series of several volumes, written as the frames of a 4-D file: what told them apart, and their values. */
  volumes?: { by: string; labels: string[] };
}

/** Result of {@link importDicom}. */
export interface DicomImport {
  imported: ImportedSeries[];
  /** Series not written, with why (already there, or not stackable). */
  skippedSeries: { folder: string; series: DicomSeriesSummary; why: string }[];
  /** DICOM files that could not be read (compressed, truncated), with why. */
  unreadableFiles: { file: string; why: string }[];
  /** How many files were not DICOM images (reports, DICOMDIR, other files). */
  otherFiles: number;
}

/** Thrown for an import that cannot start (no such folder, output inside the DICOM folder's files). */
export class DicomImportError extends Error {
  override name = 'DicomImportError';
}

/** The NIfTI name of a series: its folder below the root, its number and description. */
function importedName(root: string, folder: string, series: DicomSeriesSummary): string {
  const rel = relative(root, folder);
  const parts = [rel === '' ? basename(resolve(root)) : rel.split(/[\\/]/).join('_'), series.number && `s${series.number}`, series.description];
  const stem = parts.filter((p) => p).join('_').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/_+/g, '_').replace(/^[._]+|_+$/g, '');
  return `${stem || 'series'}.nii.gz`;
}

/**
 * Writes each image series found under `root` (folders below it included) as a NIfTI file in
 * `outDir` (created if missing). A file already there is kept and its series reported as skipped.
 * @throws DicomImportError when `root` is not a folder or `outDir` is inside it.
 */
export async function importDicom(root: string, outDir: string, opts: { onSeries?: (done: number, folder: string) => void } = {}): Promise<DicomImport> {
  const rootPath = resolve(root);
  const outPath = resolve(outDir);
  if (!existsSync(rootPath) || !(await fsp.stat(rootPath)).isDirectory()) throw new DicomImportError(`${root}: folder not found`);
  // Writing inside the DICOM tree would mix our files into the export (and into the next scan).
  if (isInsideFolder(outPath, rootPath)) throw new DicomImportError(`--out ${outDir} lies inside ${root}; choose a folder outside the DICOM files`);
  await fsp.mkdir(outPath, { recursive: true });
  const result: DicomImport = { imported: [], skippedSeries: [], unreadableFiles: [], otherFiles: 0 };
  const taken = new Set<string>();
  const folders = await foldersBelow(rootPath, 12);
  for (const folder of folders) {
    const scan = await scanDicomFolder(folder);
    for (const skipped of scan.skipped) {
      if (skipped.why === NOT_DICOM || skipped.why === NO_PIXELS) result.otherFiles++;
      else result.unreadableFiles.push({ file: join(folder, skipped.file), why: skipped.why });
    }
    for (const series of scan.series) {
      let name = importedName(rootPath, folder, series);
      // Two series with one number and description (repeats): the UID's tail tells them apart.
      if (taken.has(name)) name = name.replace(/\.nii\.gz$/, `_${series.uid.split('.').pop() ?? 'x'}.nii.gz`);
      taken.add(name);
      const target = join(outPath, name);
      if (existsSync(target)) {
        result.skippedSeries.push({ folder, series, why: `${name} is already in ${outDir}` });
        continue;
      }
      let image;
      const frames = [];
      try {
        image = seriesVolume(scan, series);
        // A series of several volumes (echoes, diffusion weightings, time points) is one 4-D file.
        frames.push(image.data);
        for (let t = 1; t < image.frameCount; t++) frames.push(seriesVolume(scan, series, folder, t).data);
      } catch (e) {
        if (!(e instanceof NiftiReadError)) throw e;
        result.skippedSeries.push({ folder, series, why: e.message });
        continue;
      }
      const description = `lesion-lab DICOM series ${series.number} ${series.description}${image.dicom?.pet ? ` ${image.dicom.pet.unit}` : ''}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 79);
      await writeImageAsNifti(image, target, description, frames);
      // What a DICOM SEG of a mask on this image must reference (no patient data).
      await writeFileAtomic(dicomSourcePathFor(target), dicomSourceText(image));
      const { pet, volumes, lossy } = image.dicom ?? {};
      result.imported.push({ folder, series, niftiPath: target, dims: image.dims, spacingMm: image.spacingMm, ...(pet ? { pet } : {}), ...(volumes ? { volumes } : {}), ...(lossy ? { lossy } : {}) });
      opts.onSeries?.(result.imported.length, folder);
    }
  }
  return result;
}

/** `root` and the folders below it to `maxDepth`, in name order; hidden folders are not entered. */
async function foldersBelow(root: string, maxDepth: number): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    out.push(dir);
    if (depth >= maxDepth) return;
    let entries;
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return; // an unreadable folder holds nothing to import
    }
    const subfolders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules').map((e) => e.name).sort();
    for (const name of subfolders) await walk(join(dir, name), depth + 1);
  };
  await walk(root, 0);
  return out;
}
