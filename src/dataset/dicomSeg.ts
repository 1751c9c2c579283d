// A mask as a DICOM Segmentation (SEG): what PACS, OHIF and 3D Slicer take back for a DICOM study.
// The image must have been imported from DICOM by Lesion Lab, whose `<image>.dicom.json` records
// the series, frame of reference and the instance of each slice; the SEG references them, and its
// patient and study attributes are copied byte for byte from the series' first file (so the
// workspace's JSON holds no patient names). One segment per label value present, named and
// coloured from the mask's sidecar; one 1-bit frame per segment and slice holding it.
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkSameGrid, readNifti, NiftiReadError, type NiftiImage } from '../nifti';
import { decimalString, encodePart10, newUid, type DicomItem } from '../nifti/dicomEncode';
import { DicomParseError, parseDicom, str, TAG } from '../nifti/dicomParse';
import { readFileBytes } from '../nifti/fileBytes';
import type { DicomReferences } from '../nifti/types';
import { imageStem } from '../labels/maskPath';
import { sidecarPathFor } from '../labels/maskPath';
import { parseSidecar } from '../labels/sidecar';
import type { LabelTableEntry } from '../protocol/messages';
import { writeFileAtomic } from '../util/atomicWrite';
import { errorText } from '../util/errorText';

/** SOP class of a DICOM Segmentation. */
export const SEGMENTATION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';

const SOURCE_FORMAT = 'lesion-lab-dicom-source';
const MANUFACTURER = 0x00080070;

/** Thrown for a SEG that cannot be written: one sentence naming the file and the problem. */
export class DicomSegError extends Error {
  override name = 'DicomSegError';
}

/** Where the record of an imported image's DICOM source lives: `<image stem>.dicom.json` beside it. */
export function dicomSourcePathFor(imagePath: string): string {
  return join(dirname(imagePath), `${imageStem(imagePath)}.dicom.json`);
}

/** The record written beside an image imported from DICOM (no patient data: only UIDs and file names). */
export function dicomSourceText(image: NiftiImage): string {
  if (!image.dicom) throw new RangeError(`${image.filePath} was not read from DICOM`);
  const { seriesNumber, description, modality, references } = image.dicom;
  return `${JSON.stringify({ format: SOURCE_FORMAT, version: 1, modality, seriesNumber, seriesDescription: description, references }, null, 2)}\n`;
}

/** The DICOM source recorded for `imagePath`; a missing or malformed record is a DicomSegError. */
export async function readDicomSource(imagePath: string): Promise<DicomReferences> {
  const path = dicomSourcePathFor(imagePath);
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch {
    throw new DicomSegError(`${basename(imagePath)}: no ${basename(path)} beside it, so the DICOM series it came from is unknown; a DICOM SEG can be written only for images imported from DICOM by Lesion Lab (Import DICOM Folder as NIfTI…)`);
  }
  const bad = (why: string): never => {
    throw new DicomSegError(`${basename(path)}: ${why}`);
  };
  let record: { format?: unknown; references?: Partial<DicomReferences> };
  try {
    record = JSON.parse(text) as typeof record;
  } catch (e) {
    return bad(`not valid JSON (${errorText(e)})`);
  }
  if (record.format !== SOURCE_FORMAT) bad(`not a Lesion Lab DICOM source record (format is ${JSON.stringify(record.format)})`);
  const r = record.references ?? {};
  const uid = (v: unknown): v is string => typeof v === 'string' && /^[0-9.]{1,64}$/.test(v);
  if (!uid(r.studyUid) || !uid(r.seriesUid) || !uid(r.frameOfReferenceUid)) bad('its study, series or frame-of-reference UID is missing or malformed');
  if (typeof r.folder !== 'string' || !Array.isArray(r.instances) || r.instances.length === 0) bad('it names no source folder or instances');
  for (const [k, i] of (r.instances ?? []).entries()) {
    if (typeof i?.file !== 'string' || !uid(i.sopClassUid) || !uid(i.sopInstanceUid)) bad(`instance ${k} lacks its file, SOP class or SOP instance UID`);
  }
  return r as DicomReferences;
}

/** Patient and study attributes copied from the source series (raw bytes, so any character set survives). */
const COPIED: [number, string][] = [
  [0x00080005, 'CS'], // SpecificCharacterSet
  [0x00080020, 'DA'], // StudyDate
  [0x00080030, 'TM'], // StudyTime
  [0x00080050, 'SH'], // AccessionNumber
  [0x00080090, 'PN'], // ReferringPhysicianName
  [0x00081030, 'LO'], // StudyDescription
  [0x00100010, 'PN'], // PatientName
  [0x00100020, 'LO'], // PatientID
  [0x00100030, 'DA'], // PatientBirthDate
  [0x00100040, 'CS'], // PatientSex
  [0x00200010, 'SH'], // StudyID
];
/** Of those, the ones a SEG must carry even when empty (type 2). */
const REQUIRED_EMPTY = new Set([0x00080020, 0x00080030, 0x00080050, 0x00080090, 0x00100010, 0x00100020, 0x00100030, 0x00100040, 0x00200010]);

const code = (value: string, scheme: string, meaning: string): DicomItem =>
  new Map([
    [0x00080100, ['SH', value]],
    [0x00080102, ['SH', scheme]],
    [0x00080104, ['LO', meaning]],
  ]);

/** sRGB (0–255) → DICOM's CIELab (D65; L 0–100 and a, b −128–127 scaled to 0–65535). */
export function dicomCieLab([r, g, b]: readonly number[]): [number, number, number] {
  const lin = [r, g, b].map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const xyz = [
    (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047,
    0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2],
    (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883,
  ].map((t) => (t > 216 / 24389 ? Math.cbrt(t) : ((t * 24389) / 27 + 16) / 116));
  const [L, A, B] = [116 * xyz[1] - 16, 500 * (xyz[0] - xyz[1]), 200 * (xyz[1] - xyz[2])];
  const clamp = (v: number): number => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((A + 128) * 65535) / 255), clamp(((B + 128) * 65535) / 255)];
}

/** What {@link exportDicomSeg} wrote. */
export interface DicomSegExport {
  outPath: string;
  segments: { number: number; value: number; name: string; frames: number }[];
  frames: number;
  seriesInstanceUid: string;
}

/**
 * Writes the mask at `maskPath` (on the grid of `imagePath`, an image imported from DICOM) as a
 * DICOM SEG at `outPath`, atomically. Label names and colours come from the mask's sidecar when
 * it has one.
 * @throws DicomSegError naming the file and the problem: no DICOM source record, the source series
 *   gone, a mask on another grid or empty, an unwritable output.
 */
export async function exportDicomSeg(imagePath: string, maskPath: string, outPath: string, opts: { seriesDescription?: string; seriesNumber?: number } = {}): Promise<DicomSegExport> {
  if (!/\.dcm$/i.test(outPath)) throw new DicomSegError(`${basename(outPath)}: a DICOM SEG is written to a .dcm file`);
  await checkReplaceable(outPath);
  const source = await readDicomSource(imagePath);
  let image: NiftiImage;
  let mask: NiftiImage;
  try {
    image = await readNifti(imagePath);
    mask = await readNifti(maskPath);
  } catch (e) {
    if (e instanceof NiftiReadError) throw new DicomSegError(e.message);
    throw e;
  }
  const grid = checkSameGrid(image, mask);
  if (!grid.same) throw new DicomSegError(`${basename(maskPath)}: not on the grid of ${basename(imagePath)} (${grid.differences.join('; ')})`);
  const [nx, ny, nz] = image.dims;
  if (source.instances.length !== nz) throw new DicomSegError(`${basename(dicomSourcePathFor(imagePath))}: it records ${source.instances.length} slices, but ${basename(imagePath)} has ${nz}`);
  if (nx > 65535 || ny > 65535) throw new DicomSegError(`${basename(imagePath)}: slices of ${nx}×${ny} are larger than DICOM's 65535 rows or columns`);

  // The series' first file gives the patient and study attributes (and shows it is still there).
  const firstPath = join(source.folder, source.instances[0].file);
  let first;
  try {
    first = parseDicom(await readFileBytes(firstPath));
  } catch (e) {
    const why = e instanceof DicomParseError ? e.problem : e instanceof NiftiReadError ? e.message : errorText(e);
    throw new DicomSegError(`${basename(imagePath)}: the DICOM series it came from cannot be read at ${source.folder} (${why}); the SEG copies its patient and study from there`);
  }
  if (str(first, TAG.sopInstanceUid) !== source.instances[0].sopInstanceUid) {
    throw new DicomSegError(`${firstPath}: it is no longer the instance ${basename(imagePath)} was imported from (another SOP instance UID)`);
  }

  // Segments: the label values present, named and coloured as the mask's sidecar says.
  const labels = mask.data;
  const present = new Set<number>();
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) present.add(labels[i]);
  if (present.size === 0) throw new DicomSegError(`${basename(maskPath)}: the mask is empty, so there is no segment to write`);
  let table: readonly LabelTableEntry[] = [];
  let proposedByModel = false;
  try {
    const sidecar = parseSidecar(await fsp.readFile(sidecarPathFor(maskPath), 'utf8'), basename(sidecarPathFor(maskPath)));
    table = sidecar.labelTable;
    proposedByModel = sidecar.modelVersion !== null;
  } catch {
    // No sidecar (a mask from elsewhere): labels are named by value.
  }
  const values = [...present].sort((a, b) => a - b);
  const planeVoxels = nx * ny;
  const segments = values.map((value, s) => {
    const entry = table.find((e) => e.value === value);
    const slices: number[] = [];
    for (let k = 0; k < nz; k++) {
      for (let i = k * planeVoxels; i < (k + 1) * planeVoxels; i++) {
        if (labels[i] === value) {
          slices.push(k);
          break;
        }
      }
    }
    return { number: s + 1, value, name: entry?.name || `Label ${value}`, color: entry?.color ?? [255, 0, 0], slices };
  });

  // Geometry from the image's affine (the series' own, as read): RAS → LPS.
  const a = image.affine;
  const flip = [-1, -1, 1];
  const axis = (c: number): number[] => [0, 1, 2].map((w) => flip[w] * a[4 * w + c]);
  const length = (v: number[]): number => Math.hypot(v[0], v[1], v[2]);
  const [alongRow, alongColumn, alongSlice] = [axis(0), axis(1), axis(2)];
  const orientation = [...alongRow.map((v) => v / length(alongRow)), ...alongColumn.map((v) => v / length(alongColumn))];
  const origin = [0, 1, 2].map((w) => flip[w] * a[4 * w + 3]);
  const positionOf = (k: number): string => origin.map((o, w) => decimalString(o + k * alongSlice[w])).join('\\');

  // Frames: segment-major, slices in order; 1-bit pixels packed across frames (PS3.5 8.1.1).
  const frameList = segments.flatMap((s) => s.slices.map((k) => ({ segment: s, k })));
  const bytes = new Uint8Array(Math.ceil((frameList.length * planeVoxels) / 8 / 2) * 2);
  frameList.forEach(({ segment, k }, f) => {
    const base = f * planeVoxels;
    for (let p = 0; p < planeVoxels; p++) {
      if (labels[k * planeVoxels + p] === segment.value) bytes[(base + p) >> 3] |= 1 << ((base + p) & 7);
    }
  });

  const dimensionUid = newUid();
  const sopInstanceUid = newUid();
  const seriesInstanceUid = newUid();
  const now = new Date();
  const ds: DicomItem = new Map();
  for (const [tag, vr] of COPIED) {
    const e = first.elements.get(tag);
    if (e) ds.set(tag, [vr, e.bytes]);
    else if (REQUIRED_EMPTY.has(tag)) ds.set(tag, [vr, '']);
  }
  const perFrame = frameList.map(({ segment, k }) => {
    const instance = source.instances[k];
    const sourceImage: DicomItem = new Map<number, [string, string | DicomItem[]]>([
      [0x00081150, ['UI', instance.sopClassUid]],
      [0x00081155, ['UI', instance.sopInstanceUid]],
      [0x0040a170, ['SQ', [code('121322', 'DCM', 'Source image for image processing operation')]]],
    ]);
    if (instance.frame !== undefined) sourceImage.set(0x00081160, ['IS', String(instance.frame)]);
    return new Map<number, [string, DicomItem[]]>([
      [0x00089124, ['SQ', [new Map([[0x00082112, ['SQ', [sourceImage]]], [0x00089215, ['SQ', [code('113076', 'DCM', 'Segmentation')]]]])]]],
      [0x00209111, ['SQ', [new Map([[0x00209157, ['UL', [segment.number, k + 1]]]])]]],
      [0x00209113, ['SQ', [new Map([[0x00200032, ['DS', positionOf(k)]]])]]],
      [0x0062000a, ['SQ', [new Map([[0x0062000b, ['US', [segment.number]]]])]]],
    ]) as DicomItem;
  });
  const entries: [number, string, string | number[] | Uint8Array | DicomItem[]][] = [
    [0x00080008, 'CS', 'DERIVED\\PRIMARY'],
    [0x00080016, 'UI', SEGMENTATION_SOP_CLASS],
    [0x00080018, 'UI', sopInstanceUid],
    [0x00080023, 'DA', dicomDate(now)],
    [0x00080033, 'TM', dicomTime(now)],
    [0x00080060, 'CS', 'SEG'],
    [MANUFACTURER, 'LO', 'Lesion Lab'],
    [0x0008103e, 'LO', (opts.seriesDescription ?? 'Lesion Lab segmentation').slice(0, 64)],
    [0x00081090, 'LO', 'Lesion Lab'],
    [
      0x00081115,
      'SQ',
      [new Map<number, [string, string | DicomItem[]]>([
        // Each instance once, though a multi-frame one holds several slices.
        [0x0008114a, ['SQ', [...new Map(source.instances.map((i) => [i.sopInstanceUid, i])).values()].map((i) => new Map([[0x00081150, ['UI', i.sopClassUid]], [0x00081155, ['UI', i.sopInstanceUid]]]) as DicomItem)]],
        [0x0020000e, ['UI', source.seriesUid]],
      ]) as DicomItem],
    ],
    [0x00181000, 'LO', 'none'],
    [0x00181020, 'LO', 'Lesion Lab'],
    [0x0020000d, 'UI', source.studyUid],
    [0x0020000e, 'UI', seriesInstanceUid],
    [0x00200011, 'IS', String(opts.seriesNumber ?? 9901)],
    [0x00200013, 'IS', '1'],
    [0x00200052, 'UI', source.frameOfReferenceUid],
    [0x00201040, 'LO', ''],
    [0x00209221, 'SQ', [new Map([[0x00209164, ['UI', dimensionUid]]])]],
    [
      0x00209222,
      'SQ',
      [
        new Map<number, [string, string | number[]]>([[0x00209164, ['UI', dimensionUid]], [0x00209165, ['AT', [0x0062000b]]], [0x00209167, ['AT', [0x0062000a]]], [0x00209421, ['LO', 'ReferencedSegmentNumber']]]),
        new Map<number, [string, string | number[]]>([[0x00209164, ['UI', dimensionUid]], [0x00209165, ['AT', [0x00200032]]], [0x00209167, ['AT', [0x00209113]]], [0x00209421, ['LO', 'ImagePositionPatient']]]),
      ] as DicomItem[],
    ],
    [0x00280002, 'US', [1]],
    [0x00280004, 'CS', 'MONOCHROME2'],
    [0x00280008, 'IS', String(frameList.length)],
    [0x00280010, 'US', [ny]],
    [0x00280011, 'US', [nx]],
    [0x00280100, 'US', [1]],
    [0x00280101, 'US', [1]],
    [0x00280102, 'US', [0]],
    [0x00280103, 'US', [0]],
    [0x00282110, 'CS', '00'],
    [0x00620001, 'CS', 'BINARY'],
    [
      0x00620002,
      'SQ',
      segments.map((s) => {
        const item: DicomItem = new Map<number, [string, string | number[] | DicomItem[]]>([
          [0x00620003, ['SQ', [code('49755003', 'SCT', 'Morphologically Altered Structure')]]],
          [0x00620004, ['US', [s.number]]],
          [0x00620005, ['LO', s.name.slice(0, 64)]],
          [0x00620008, ['CS', proposedByModel ? 'SEMIAUTOMATIC' : 'MANUAL']],
          [0x0062000d, ['US', dicomCieLab(s.color)]],
          [0x0062000f, ['SQ', [code('52988006', 'SCT', 'Lesion')]]],
        ]);
        if (proposedByModel) item.set(0x00620009, ['LO', 'Lesion Lab']);
        return item;
      }),
    ],
    [0x00700080, 'CS', 'LESIONS'],
    [0x00700081, 'LO', `Labels of ${basename(maskPath)}`.slice(0, 64)],
    [0x00700084, 'PN', ''],
    [
      0x52009229,
      'SQ',
      [new Map<number, [string, DicomItem[]]>([
        [0x00209116, ['SQ', [new Map([[0x00200037, ['DS', orientation.map(decimalString).join('\\')]]])]]],
        [0x00289110, ['SQ', [new Map([[0x00180050, ['DS', decimalString(length(alongSlice))]], [0x00180088, ['DS', decimalString(length(alongSlice))]], [0x00280030, ['DS', `${decimalString(length(alongColumn))}\\${decimalString(length(alongRow))}`]]])]]],
      ]) as DicomItem],
    ],
    [0x52009230, 'SQ', perFrame],
    [0x7fe00010, 'OB', bytes],
  ];
  for (const [tag, vr, value] of entries) ds.set(tag, [vr, value]);
  try {
    await writeFileAtomic(outPath, encodePart10(ds, SEGMENTATION_SOP_CLASS, sopInstanceUid));
  } catch (e) {
    throw new DicomSegError(`${basename(outPath)}: the file could not be written (${errorText(e)})`);
  }
  return { outPath, segments: segments.map((s) => ({ number: s.number, value: s.value, name: s.name, frames: s.slices.length })), frames: frameList.length, seriesInstanceUid };
}

/** An existing file at `outPath` may be replaced only when it is a SEG that Lesion Lab wrote. */
async function checkReplaceable(outPath: string): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fsp.readFile(outPath));
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return;
    throw new DicomSegError(`${basename(outPath)}: it exists and cannot be read (${errorText(e)}), so it is not replaced`);
  }
  let ours: boolean;
  try {
    const ds = parseDicom(bytes);
    ours = str(ds, TAG.sopClass) === SEGMENTATION_SOP_CLASS && str(ds, MANUFACTURER) === 'Lesion Lab';
  } catch {
    ours = false;
  }
  if (!ours) throw new DicomSegError(`${basename(outPath)}: it exists and is not a DICOM SEG written by Lesion Lab, so it is not replaced; choose another name`);
}

function dicomDate(d: Date): string {
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}

function dicomTime(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, '0')).join('');
}
