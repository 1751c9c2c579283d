// readDicomSeries: a DICOM series (a folder of slices, or one file of it) → the same validated
// NiftiImage as readNifti. The slices are stacked along their normal by ImagePositionPatient, never
// by file name or instance number; their geometry must agree (orientation, size, spacing) and the
// slice spacing must be even, else the series is refused with the reason (a localizer, a missing
// slice, several volumes in one series). A gantry tilt gives a sheared affine, which is exact.
// The LPS geometry becomes a RAS affine and a NIfTI-1 header, so a mask written for the series
// (writeMaskLike) is a NIfTI file on exactly its grid.
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { affineColumnNorms, affineProblem } from './affine';
import { decodeScalarVoxels, SCALAR_BYTES, type ScalarDatatype } from './decode';
import { DicomParseError, firstItem, frameBytes, looksLikeDicom, lossyCompressionNote, numbers, parseDicom, str, TAG, ushort, type DicomDataSet, type DicomFile } from './dicomParse';
import { petUnitsOf } from './dicomSuv';
import { splitVolumes, type SeriesVolumes } from './dicomVolumes';
import { fsProblem, NiftiReadError } from './errors';
import { VOLUME_FILE_NAME } from './formats';
import { headerFromAffine } from './syntheticHeader';
import type { NiftiImage, VoxelArray } from './types';

/** Names DICOM files often have; files without an extension are read too when a folder is given. */
export const DICOM_NAME = /\.(dcm|dicom|ima)$/i;

/**
 * True when `path` is to be read as DICOM: a folder, a file named like DICOM (.dcm, .dicom, .ima),
 * or a file with another name (often none) that starts like DICOM. NIfTI, NRRD, MetaImage and MGH names never are.
 */
export async function isDicomPath(path: string): Promise<boolean> {
  if (VOLUME_FILE_NAME.test(path)) return false;
  if (DICOM_NAME.test(path)) return true;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, 'r');
    if ((await handle.stat()).isDirectory()) return true;
    const start = new Uint8Array(132);
    const { bytesRead } = await handle.read(start, 0, 132, 0);
    return looksLikeDicom(start.subarray(0, bytesRead));
  } catch {
    return false; // the NIfTI reader names what is wrong with the path
  } finally {
    await handle?.close();
  }
}

/** One image series found in a folder. */
export interface DicomSeriesSummary {
  uid: string;
  /** SeriesNumber as written ('' when absent). */
  number: string;
  description: string;
  modality: string;
  /** Number of files (single- or multi-frame) of the series. */
  files: number;
}

/** What a folder holds: its image series, and the files that are not part of any. */
export interface DicomFolder {
  folder: string;
  series: DicomSeriesSummary[];
  /** Files that are not DICOM, DICOM without pixel data (reports, DICOMDIR), or unreadable, with why. */
  skipped: { file: string; why: string }[];
}

/** A scanned folder, with the parsed files of each series (by SeriesInstanceUID). */
export interface ScannedDicomFolder extends DicomFolder {
  parsed: Map<string, ParsedFile[]>;
}

export interface ParsedFile {
  path: string;
  dicom: DicomFile;
}

/** One 2-D plane of the series: a file's frame with its geometry and rescaling. */
interface Plane {
  file: ParsedFile;
  frame: number;
  frameCount: number;
  position: [number, number, number];
  orientation: number[];
  /** PixelSpacing: between rows, then between columns (mm). */
  spacing: [number, number];
  slope: number;
  intercept: number;
}

const MAX_FILE_BYTES = 1 << 30;

/** Why {@link scanDicomFolder} skips a file that is no DICOM image at all (not a reading problem). */
export const DICOM_NOT_AN_IMAGE = ['not DICOM', 'DICOM without pixel data'] as const;

/**
 * Reads a folder's files and groups the DICOM images by series.
 * @throws NiftiReadError when the folder cannot be listed.
 */
export async function scanDicomFolder(folder: string): Promise<ScannedDicomFolder> {
  let names: string[];
  try {
    names = (await fsp.readdir(folder, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (e) {
    throw new NiftiReadError(folder, fsProblem(e));
  }
  names.sort();
  const parsed = new Map<string, ParsedFile[]>();
  const series = new Map<string, DicomSeriesSummary>();
  const skipped: DicomFolder['skipped'] = [];
  for (const name of names) {
    const path = join(folder, name);
    const result = await parseFile(path);
    if (typeof result === 'string') {
      skipped.push({ file: name, why: result });
      continue;
    }
    const uid = str(result.dicom, TAG.seriesUid);
    let summary = series.get(uid);
    if (!summary) {
      summary = { uid, number: str(result.dicom, TAG.seriesNumber), description: str(result.dicom, TAG.seriesDescription), modality: str(result.dicom, TAG.modality), files: 0 };
      series.set(uid, summary);
      parsed.set(uid, []);
    }
    summary.files++;
    (parsed.get(uid) as ParsedFile[]).push(result);
  }
  return { folder, series: [...series.values()], skipped, parsed };
}

/** A parsed DICOM image file, or why the file is not one. */
async function parseFile(path: string): Promise<ParsedFile | string> {
  let bytes: Uint8Array;
  try {
    const stat = await fsp.stat(path);
    if (stat.size > MAX_FILE_BYTES) return 'larger than 1 GiB';
    bytes = new Uint8Array(await fsp.readFile(path));
  } catch (e) {
    return fsProblem(e);
  }
  if (!looksLikeDicom(bytes)) return DICOM_NOT_AN_IMAGE[0];
  try {
    const dicom = parseDicom(bytes);
    if (!dicom.elements.has(TAG.pixelData)) return DICOM_NOT_AN_IMAGE[1];
    return { path, dicom };
  } catch (e) {
    if (e instanceof DicomParseError) return e.problem;
    throw e;
  }
}

function describe(s: DicomSeriesSummary): string {
  return `${s.number || '?'}${s.description ? ` "${s.description}"` : ''} (${s.modality || 'no modality'}, ${s.files} file${s.files === 1 ? '' : 's'})`;
}

/**
 * Reads one DICOM series as a volume: `path` is a folder holding it, or one of its files (the
 * series of that file is read from its folder).
 * @throws NiftiReadError naming the file or folder and the problem.
 */
export async function readDicomSeries(path: string, frame = 0): Promise<NiftiImage> {
  let isFolder: boolean;
  try {
    isFolder = (await fsp.stat(path)).isDirectory();
  } catch (e) {
    throw new NiftiReadError(path, fsProblem(e));
  }
  let wanted: string | undefined;
  if (!isFolder) {
    const own = await parseFile(path);
    if (typeof own === 'string') throw new NiftiReadError(path, own === DICOM_NOT_AN_IMAGE[0] ? 'not a DICOM file (no "DICM" marker after the 128-byte preamble, and no DICOM data set at the start)' : `cannot be read as a DICOM image: ${own}`);
    wanted = str(own.dicom, TAG.seriesUid);
  }
  const folder = isFolder ? path : dirname(path);
  const scan = await scanDicomFolder(folder);
  if (scan.series.length === 0) {
    const dicomFiles = scan.skipped.filter((f) => f.why !== DICOM_NOT_AN_IMAGE[0]);
    if (dicomFiles.length === 0) throw new NiftiReadError(folder, `this is a folder, not a file, and it holds no DICOM files (${scan.skipped.length} other file(s))`);
    throw new NiftiReadError(folder, `holds no DICOM image series (${dicomFiles.length} DICOM file(s) skipped; e.g. ${dicomFiles[0].file}: ${dicomFiles[0].why})`);
  }
  let chosen: DicomSeriesSummary | undefined;
  if (wanted !== undefined) {
    chosen = scan.series.find((s) => s.uid === wanted);
    if (!chosen) throw new NiftiReadError(path, `its series was not found in ${basename(folder)} when the folder was read again`);
  } else if (scan.series.length === 1) chosen = scan.series[0];
  else {
    throw new NiftiReadError(
      folder,
      `holds ${scan.series.length} image series: ${scan.series.map(describe).join(', ')}; give one file of the series you want, or import the folder (each series becomes a NIfTI file)`,
    );
  }
  return seriesVolume(scan, chosen, path, frame);
}

/**
 * The volume of one series of a scanned folder (`frame` of a series holding several volumes);
 * `named` is the path messages name for the series.
 * @throws NiftiReadError naming the file or folder and the problem.
 */
export function seriesVolume(scan: ScannedDicomFolder, series: DicomSeriesSummary, named: string = scan.folder, frame = 0): NiftiImage {
  const files = scan.parsed.get(series.uid);
  if (!files) throw new RangeError(`series ${series.uid} is not one of ${scan.folder}`);
  return volumeOfSeries(files, series, named, frame);
}

/** The planes of a file: one per frame, with per-frame geometry where the file has it. */
function planesOf(file: ParsedFile): Plane[] {
  const ds = file.dicom;
  const frameCount = Number(str(ds, TAG.numberOfFrames) || '1');
  if (!Number.isInteger(frameCount) || frameCount < 1) throw new NiftiReadError(file.path, `NumberOfFrames is "${str(ds, TAG.numberOfFrames)}"`);
  const shared = firstItem(ds, TAG.sharedGroups);
  const perFrame = ds.elements.get(TAG.perFrameGroups)?.items;
  const offsets = numbers(ds, TAG.gridFrameOffsets);
  const planes: Plane[] = [];
  for (let f = 0; f < frameCount; f++) {
    const own = perFrame?.[f];
    const pick = (seq: number, tag: number): number[] => {
      for (const group of [own, shared]) {
        const v = numbers(firstItem(group, seq) ?? emptySet, tag);
        if (v.length > 0) return v;
      }
      return numbers(ds, tag);
    };
    const orientation = pick(TAG.planeOrientationSeq, TAG.imageOrientation);
    const spacing = pick(TAG.pixelMeasuresSeq, TAG.pixelSpacing);
    let position = pick(TAG.planePositionSeq, TAG.imagePosition);
    if (frameCount > 1 && !perFrame) {
      // RT Dose and similar: one position, frames offset along the normal.
      if (offsets.length !== frameCount) throw new NiftiReadError(file.path, `is a multi-frame image (${frameCount} frames) without a position for each frame`);
      if (orientation.length === 6 && position.length === 3) {
        const n = cross(orientation.slice(0, 3), orientation.slice(3, 6));
        position = position.map((p, a) => p + offsets[f] * n[a]);
      }
    }
    if (position.length !== 3 || !position.every(Number.isFinite)) throw new NiftiReadError(file.path, 'has no ImagePositionPatient (0020,0032): its slices cannot be placed in space');
    if (orientation.length !== 6 || !orientation.every(Number.isFinite)) throw new NiftiReadError(file.path, 'has no ImageOrientationPatient (0020,0037): its slices cannot be placed in space');
    if (spacing.length !== 2 || !spacing.every((s) => Number.isFinite(s) && s > 0)) throw new NiftiReadError(file.path, `has no usable PixelSpacing (0028,0030)${spacing.length > 0 ? ` ("${spacing.join('\\')}")` : ''}`);
    const rescale = pick(TAG.pixelValueTransformSeq, TAG.rescaleSlope);
    const intercept = pick(TAG.pixelValueTransformSeq, TAG.rescaleIntercept);
    // RT Dose grids scale their integers to Gy by DoseGridScaling instead of a rescale slope.
    const doseScale = numbers(ds, TAG.doseGridScaling)[0];
    const slope = (rescale.length > 0 && rescale[0] !== 0 ? rescale[0] : 1) * (doseScale && Number.isFinite(doseScale) ? doseScale : 1);
    planes.push({
      file,
      frame: f,
      frameCount,
      position: position as [number, number, number],
      orientation,
      spacing: spacing as [number, number],
      slope,
      intercept: intercept.length > 0 && Number.isFinite(intercept[0]) ? intercept[0] : 0,
    });
  }
  return planes;
}

const emptySet: DicomDataSet = { elements: new Map(), littleEndian: true };

function cross(a: number[], b: number[]): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/**
 * Stacks the series' planes into a volume (`frame` of several, when each position holds one image
 * of each volume); `named` is the path the caller gave, for messages.
 */
function volumeOfSeries(files: ParsedFile[], summary: DicomSeriesSummary, named: string, frame: number): NiftiImage {
  const first = files[0].dicom;
  const rows = ushort(first, TAG.rows);
  const columns = ushort(first, TAG.columns);
  const bitsAllocated = ushort(first, TAG.bitsAllocated);
  const samples = ushort(first, TAG.samplesPerPixel) ?? 1;
  const signed = (ushort(first, TAG.pixelRepresentation) ?? 0) === 1;
  const bitsStored = ushort(first, TAG.bitsStored) ?? bitsAllocated;
  if (!rows || !columns) throw new NiftiReadError(files[0].path, 'has no Rows and Columns');
  if (samples !== 1) throw new NiftiReadError(files[0].path, `is a colour image (${samples} samples per pixel, ${str(first, TAG.photometric)}); Lesion Lab reads grey-scale series`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) throw new NiftiReadError(files[0].path, `has ${bitsAllocated} bits per pixel; 8, 16 and 32 are read`);
  for (const f of files) {
    const d = f.dicom;
    if (ushort(d, TAG.rows) !== rows || ushort(d, TAG.columns) !== columns) {
      throw new NiftiReadError(f.path, `is ${ushort(d, TAG.columns)}×${ushort(d, TAG.rows)} pixels, but ${basename(files[0].path)} of the same series is ${columns}×${rows}`);
    }
    if (ushort(d, TAG.bitsAllocated) !== bitsAllocated || (ushort(d, TAG.pixelRepresentation) ?? 0) !== (signed ? 1 : 0)) {
      throw new NiftiReadError(f.path, `stores its pixels differently from ${basename(files[0].path)} of the same series`);
    }
  }
  let planes = files.flatMap(planesOf);
  const o = planes[0].orientation;
  const r = o.slice(0, 3);
  const c = o.slice(3, 6);
  for (const p of planes) {
    if (p.orientation.some((v, i) => Math.abs(v - o[i]) > 1e-4)) {
      throw new NiftiReadError(p.file.path, `is oriented differently from ${basename(planes[0].file.path)} of the same series (a localizer or a multi-plane series): [${p.orientation.map(round4).join(', ')}] against [${o.map(round4).join(', ')}]`);
    }
    if (Math.abs(p.spacing[0] - planes[0].spacing[0]) > 1e-4 || Math.abs(p.spacing[1] - planes[0].spacing[1]) > 1e-4) {
      throw new NiftiReadError(p.file.path, `has pixel spacing ${p.spacing.join(' × ')} mm, but ${basename(planes[0].file.path)} of the same series has ${planes[0].spacing.join(' × ')} mm`);
    }
  }
  const normal = cross(r, c);
  if (Math.abs(dot(normal, normal) - 1) > 1e-3) throw new NiftiReadError(planes[0].file.path, `has an ImageOrientationPatient whose rows and columns are not orthogonal unit vectors ([${o.map(round4).join(', ')}])`);
  planes.sort((a, b) => dot(a.position, normal) - dot(b.position, normal));
  let depth = planes.map((p) => dot(p.position, normal));
  let volumes: SeriesVolumes<Plane> | null = null;
  const twin = depth.findIndex((z, k) => k > 0 && Math.abs(z - depth[k - 1]) < 1e-3);
  if (twin > 0) {
    const split = splitVolumes(planes, depth);
    if (typeof split === 'string') {
      throw new NiftiReadError(named, `series ${describe(summary)} has two images at one slice position (${basename(planes[twin - 1].file.path)} and ${basename(planes[twin].file.path)}), ${split}, so it cannot be read as one volume or as a series of volumes`);
    }
    volumes = split;
    if (frame >= volumes.volumes.length) throw new NiftiReadError(named, `frame ${frame} does not exist (series ${describe(summary)} holds ${volumes.volumes.length} volumes, by ${volumes.by})`);
    planes = volumes.volumes[0];
    depth = planes.map((p) => dot(p.position, normal));
  } else if (frame !== 0) throw new NiftiReadError(named, `frame ${frame} does not exist (series ${describe(summary)} is one volume)`);
  const n = planes.length;
  let step: number[];
  if (n === 1) {
    const thickness = numbers(first, TAG.spacingBetweenSlices)[0] || numbers(first, TAG.sliceThickness)[0] || 1;
    step = normal.map((v) => v * thickness);
  } else {
    step = planes[n - 1].position.map((v, a) => (v - planes[0].position[a]) / (n - 1));
    const stepMm = Math.hypot(step[0], step[1], step[2]);
    const tolerance = 0.01 * stepMm + 0.01;
    for (let k = 1; k < n; k++) {
      const d = planes[k].position.map((v, a) => v - planes[k - 1].position[a]);
      if (Math.hypot(d[0] - step[0], d[1] - step[1], d[2] - step[2]) > tolerance) {
        const gaps = depth.slice(1).map((z, i) => z - depth[i]);
        const smallest = Math.min(...gaps);
        const largest = Math.max(...gaps);
        const at = gaps.indexOf(largest) + 1;
        const missing = largest > 1.5 * smallest ? `; a slice seems to be missing between ${basename(planes[at - 1].file.path)} and ${basename(planes[at].file.path)} (${largest.toFixed(2)} mm apart, against ${smallest.toFixed(2)} mm elsewhere)` : '';
        throw new NiftiReadError(
          named,
          `series ${describe(summary)} is not evenly spaced: slice gaps from ${smallest.toFixed(2)} to ${largest.toFixed(2)} mm${missing}; Lesion Lab reads only regular grids`,
        );
      }
    }
  }
  const [rowSpacing, columnSpacing] = planes[0].spacing;
  const origin = planes[0].position;
  // LPS → RAS flips the first two world axes; i runs along a row (r), j down the columns (c).
  const flip = [-1, -1, 1];
  const affine = new Float64Array(16);
  for (let a = 0; a < 3; a++) {
    affine[4 * a] = flip[a] * r[a] * columnSpacing;
    affine[4 * a + 1] = flip[a] * c[a] * rowSpacing;
    affine[4 * a + 2] = flip[a] * step[a];
    affine[4 * a + 3] = flip[a] * origin[a];
  }
  affine[15] = 1;
  const geometryProblem = affineProblem(affine, 'sform');
  if (geometryProblem) throw new NiftiReadError(named, `series ${describe(summary)}: ${geometryProblem}`);

  let data = stackPlanes(volumes ? volumes.volumes[frame] : planes, columns, rows, bitsAllocated, bitsStored as number, signed);
  // PET in Bq/mL becomes SUVbw, the unit radiologists read and the PET starter was trained on.
  const pet = summary.modality.toUpperCase() === 'PT' ? petUnitsOf(files.map((f) => f.dicom)) : undefined;
  if (pet && pet.factor !== 1) {
    const suv = new Float32Array(data.length);
    for (let i = 0; i < suv.length; i++) suv[i] = data[i] * pet.factor;
    data = suv;
  }
  const lossy = lossyCompressionNote(files.map((f) => f.dicom));
  const dims: [number, number, number] = [columns, rows, n];
  const datatype = datatypeOf(data);
  const description = `DICOM series ${summary.number} ${summary.description} ${summary.modality}${pet ? ` ${pet.unit}` : ''}`.replace(/[^\x20-\x7e]/g, '?');
  const shape = volumes ? [...dims, volumes.volumes.length] : dims.slice();
  return {
    filePath: named,
    header: headerFromAffine(affine, shape, datatype, description),
    shape,
    dims,
    spacingMm: affineColumnNorms(affine),
    affine,
    affineSource: 'sform',
    frameCount: shape[3] ?? 1,
    frame,
    data,
    dicom: {
      seriesNumber: summary.number,
      description: summary.description,
      modality: summary.modality,
      files: files.length,
      ...(pet ? { pet: { unit: pet.unit, note: pet.note } } : {}),
      ...(volumes ? { volumes: { by: volumes.by, labels: volumes.labels } } : {}),
      ...(lossy ? { lossy } : {}),
      references: {
        studyUid: str(first, TAG.studyUid),
        seriesUid: summary.uid,
        frameOfReferenceUid: str(first, TAG.frameOfReferenceUid),
        folder: resolve(dirname(files[0].path)),
        instances: planes.map((p) => ({
          file: basename(p.file.path),
          sopClassUid: str(p.file.dicom, TAG.sopClass),
          sopInstanceUid: str(p.file.dicom, TAG.sopInstanceUid),
          ...(p.frameCount > 1 ? { frame: p.frame + 1 } : {}),
        })),
      },
    },
  };
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/**
 * The planes' pixels, k slowest, with each plane's rescaling applied: the stored integer type when
 * no plane rescales, int16 or int32 when every slope is 1 and the intercepts are whole numbers
 * (a CT's −1024), float32 otherwise.
 */
function stackPlanes(planes: Plane[], columns: number, rows: number, bitsAllocated: number, bitsStored: number, signed: boolean): VoxelArray {
  const bytesPerSample = bitsAllocated / 8;
  const planeVoxels = columns * rows;
  const stored: ScalarDatatype = bitsAllocated === 8 ? (signed ? 'int8' : 'uint8') : bitsAllocated === 16 ? (signed ? 'int16' : 'uint16') : signed ? 'int32' : 'uint32';
  const raw = planes.map((p) => {
    let part: { bytes: Uint8Array; littleEndian: boolean };
    try {
      part = frameBytes(p.file.dicom, p.frame, p.frameCount, planeVoxels * SCALAR_BYTES[stored], bytesPerSample);
    } catch (e) {
      if (e instanceof DicomParseError) throw new NiftiReadError(p.file.path, e.problem);
      throw e;
    }
    const values = decodeScalarVoxels(part.bytes, stored, part.littleEndian);
    // Signed values stored in fewer bits than allocated are sign-extended from their top bit.
    if (signed && bitsStored < bitsAllocated) {
      const shift = 32 - bitsStored;
      for (let i = 0; i < values.length; i++) values[i] = (values[i] << shift) >> shift;
    }
    return values;
  });
  const identity = planes.every((p) => p.slope === 1 && p.intercept === 0);
  const wholeShift = planes.every((p) => p.slope === 1 && Number.isInteger(p.intercept));
  let out: VoxelArray;
  if (identity) out = newArrayLike(raw[0], planeVoxels * planes.length);
  else if (wholeShift) {
    let lo = Infinity;
    let hi = -Infinity;
    raw.forEach((values, k) => {
      for (let i = 0; i < values.length; i++) {
        const v = values[i] + planes[k].intercept;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    });
    out = lo >= -32768 && hi <= 32767 ? new Int16Array(planeVoxels * planes.length) : new Int32Array(planeVoxels * planes.length);
  } else out = new Float32Array(planeVoxels * planes.length);
  raw.forEach((values, k) => {
    const { slope, intercept } = planes[k];
    const offset = k * planeVoxels;
    for (let i = 0; i < planeVoxels; i++) out[offset + i] = values[i] * slope + intercept;
  });
  return out;
}

function newArrayLike(like: VoxelArray, length: number): VoxelArray {
  const Ctor = like.constructor as new (n: number) => VoxelArray;
  return new Ctor(length);
}

function datatypeOf(data: VoxelArray): ScalarDatatype {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Float64Array) return 'float64';
  return 'float32';
}
