// A DICOM Segmentation (from OHIF, 3D Slicer, a PACS, or our own export) as labels on an image's
// grid, to be corrected like any mask. Frames are placed by their ImagePositionPatient on the
// image's slices (never by order or file name), after checking that the SEG's orientation, pixel
// spacing and size are the image's; each segment becomes the label of its SegmentNumber, named and
// coloured as the SEG says. BINARY and FRACTIONAL (above half the maximum) SEGs are read.
import { basename } from 'node:path';
import { DicomParseError, firstItem, numbers, parseDicom, str, TAG, ushort, type DicomDataSet } from '../nifti/dicomParse';
import type { NiftiImage } from '../nifti';
import type { LabelTableEntry } from '../protocol/messages';
import { SEGMENTATION_SOP_CLASS } from './dicomSeg';

/** Thrown for a SEG that cannot be placed on the image: one sentence naming the file and the problem. */
export class DicomSegReadError extends Error {
  override name = 'DicomSegReadError';
}

const SEG = {
  segmentSequence: 0x00620002,
  segmentNumber: 0x00620004,
  segmentLabel: 0x00620005,
  segmentationType: 0x00620001,
  segmentIdentificationSeq: 0x0062000a,
  referencedSegmentNumber: 0x0062000b,
  cieLab: 0x0062000d,
  maximumFractionalValue: 0x00620014,
} as const;

/** Labels read from a SEG. */
export interface SegLabels {
  /** One label per voxel of the image's grid (i fastest): the segment number, 0 outside every segment. */
  labels: Uint16Array;
  /** The segments, with their names, colours and voxel counts on the grid. */
  table: LabelTableEntry[];
  voxels: Map<number, number>;
  /** Voxels that more than one segment covers (the higher segment number is kept). */
  overlapping: number;
  /** What was read, for reports: "7 frame(s)", "23 contour(s)". */
  read: string;
}

/** sRGB (0–255) of DICOM's scaled CIELab (D65), the inverse of dicomCieLab. */
export function rgbFromDicomCieLab([l, a, b]: readonly number[]): [number, number, number] {
  const L = (l * 100) / 65535;
  const A = (a * 255) / 65535 - 128;
  const B = (b * 255) / 65535 - 128;
  const fy = (L + 16) / 116;
  const inverse = (f: number): number => (f ** 3 > 216 / 24389 ? f ** 3 : (116 * f - 16) / (24389 / 27));
  const [x, y, z] = [inverse(fy + A / 500) * 0.95047, inverse(fy), inverse(fy - B / 200) * 1.08883];
  const lin = [3.2406 * x - 1.5372 * y - 0.4986 * z, -0.9689 * x + 1.8758 * y + 0.0415 * z, 0.0557 * x - 0.204 * y + 1.057 * z];
  return lin.map((c) => {
    const v = c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
    return Math.max(0, Math.min(255, Math.round(v * 255)));
  }) as [number, number, number];
}

/** A value of a functional group: the frame's own, else the shared one. */
function groupValue(frame: DicomDataSet | undefined, shared: DicomDataSet | undefined, sequence: number, tag: number): number[] {
  for (const group of [frame, shared]) {
    const item = firstItem(group, sequence);
    if (!item) continue;
    if (tag === SEG.referencedSegmentNumber) {
      const n = ushort(item, tag);
      if (n !== undefined) return [n];
    } else {
      const v = numbers(item, tag);
      if (v.length > 0) return v;
    }
  }
  return [];
}

/**
 * Places the segments of the SEG file `bytes` (named `segName` in messages) on `image`'s grid.
 * @throws DicomSegReadError when the file is not a SEG, its pixel data cannot be read, or its
 *   frames do not lie on the image's slices.
 */
export function labelsFromDicomSeg(bytes: Uint8Array, segName: string, image: Pick<NiftiImage, 'dims' | 'affine' | 'filePath'>): SegLabels {
  const fail = (why: string): never => {
    throw new DicomSegReadError(`${segName}: ${why}`);
  };
  let ds;
  try {
    ds = parseDicom(bytes);
  } catch (e) {
    return fail(e instanceof DicomParseError ? e.problem : String(e));
  }
  if (str(ds, TAG.sopClass) !== SEGMENTATION_SOP_CLASS) fail(`not a DICOM Segmentation (SOP class ${str(ds, TAG.sopClass) || 'absent'}, modality ${str(ds, TAG.modality) || 'absent'})`);
  const type = str(ds, SEG.segmentationType).toUpperCase();
  const bits = ushort(ds, TAG.bitsAllocated);
  if (!((type === 'BINARY' && bits === 1) || (type === 'FRACTIONAL' && bits === 8))) fail(`SegmentationType ${type || 'absent'} with ${bits} bits per pixel is not read (BINARY 1-bit and FRACTIONAL 8-bit are)`);
  const pixel = ds.elements.get(TAG.pixelData);
  if (!pixel || pixel.fragments) fail('its pixel data are missing or compressed; uncompressed SEGs are read');
  const rows = ushort(ds, TAG.rows) ?? 0;
  const columns = ushort(ds, TAG.columns) ?? 0;
  const frameCount = Number(str(ds, TAG.numberOfFrames) || '1');
  const [nx, ny, nz] = image.dims;
  const imageName = basename(image.filePath);
  if (columns !== nx || rows !== ny) fail(`its frames are ${columns}×${rows} pixels, but the slices of ${imageName} are ${nx}×${ny}`);
  const planeVoxels = rows * columns;
  const pixelBytes = (pixel as { bytes: Uint8Array }).bytes;
  const needed = type === 'BINARY' ? Math.ceil((frameCount * planeVoxels) / 8) : frameCount * planeVoxels;
  if (pixelBytes.length < needed) fail(`its pixel data hold ${pixelBytes.length} bytes, but ${frameCount} frames of ${columns}×${rows} need ${needed}`);

  // The image's grid in LPS: voxel axes (mm per voxel) and origin.
  const a = image.affine;
  const flip = [-1, -1, 1];
  const axis = (c: number): number[] => [0, 1, 2].map((w) => flip[w] * a[4 * w + c]);
  const [ai, aj, ak] = [axis(0), axis(1), axis(2)];
  const origin = [0, 1, 2].map((w) => flip[w] * a[4 * w + 3]);
  const len = (v: number[]): number => Math.hypot(v[0], v[1], v[2]);
  const dot = (u: number[], v: number[]): number => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
  const shared = firstItem(ds, TAG.sharedGroups);
  const perFrame = ds.elements.get(TAG.perFrameGroups)?.items ?? [];
  if (perFrame.length !== frameCount) fail(`it has ${perFrame.length} per-frame functional groups for ${frameCount} frames`);
  const orientation = groupValue(perFrame[0], shared, 0x00209116, TAG.imageOrientation);
  const spacing = groupValue(perFrame[0], shared, 0x00289110, TAG.pixelSpacing);
  const want = [...ai.map((v) => v / len(ai)), ...aj.map((v) => v / len(aj))];
  if (orientation.length !== 6 || orientation.some((v, i) => Math.abs(v - want[i]) > 1e-3)) fail(`its ImageOrientationPatient [${orientation.join(', ')}] is not that of ${imageName}'s slices [${want.map((v) => +v.toFixed(4)).join(', ')}]`);
  if (spacing.length !== 2 || Math.abs(spacing[0] - len(aj)) > 1e-3 * len(aj) + 1e-4 || Math.abs(spacing[1] - len(ai)) > 1e-3 * len(ai) + 1e-4) {
    fail(`its PixelSpacing ${spacing.join(' × ')} mm is not that of ${imageName} (${len(aj).toFixed(4)} × ${len(ai).toFixed(4)} mm)`);
  }
  const normal = [ai[1] * aj[2] - ai[2] * aj[1], ai[2] * aj[0] - ai[0] * aj[2], ai[0] * aj[1] - ai[1] * aj[0]];

  // Segments: names and colours.
  const table: LabelTableEntry[] = [];
  for (const item of ds.elements.get(SEG.segmentSequence)?.items ?? []) {
    const number = ushort(item, SEG.segmentNumber);
    if (number === undefined || number < 1) fail('a segment of its SegmentSequence has no SegmentNumber');
    const lab = item.elements.get(SEG.cieLab)?.bytes;
    const labValues = lab?.length === 6 ? [0, 1, 2].map((i) => new DataView(lab.buffer, lab.byteOffset + 2 * i, 2).getUint16(0, item.littleEndian)) : null;
    table.push({ value: number as number, name: str(item, SEG.segmentLabel) || `Segment ${number}`, color: labValues ? rgbFromDicomCieLab(labValues) : [255, 0, 0], visible: true, locked: false });
  }
  if (table.length === 0) fail('its SegmentSequence is empty');
  const fractionalThreshold = type === 'FRACTIONAL' ? (numbers(ds, SEG.maximumFractionalValue)[0] || 255) / 2 : 0;

  const labels = new Uint16Array(nx * ny * nz);
  // How many segments cover each voxel (to 255), for the overlap count.
  const cover = new Uint8Array(labels.length);
  for (let f = 0; f < frameCount; f++) {
    const segment = groupValue(perFrame[f], shared, SEG.segmentIdentificationSeq, SEG.referencedSegmentNumber)[0];
    if (!table.some((e) => e.value === segment)) fail(`frame ${f + 1} names segment ${segment ?? '(none)'}, which its SegmentSequence does not hold`);
    const position = groupValue(perFrame[f], shared, 0x00209113, TAG.imagePosition);
    if (position.length !== 3) fail(`frame ${f + 1} has no ImagePositionPatient`);
    const d = position.map((p, w) => p - origin[w]);
    const k = dot(d, normal) / dot(ak, normal);
    const rest = d.map((v, w) => v - k * ak[w]);
    const kIndex = Math.round(k);
    if (Math.abs(k - kIndex) > 0.01 || kIndex < 0 || kIndex >= nz || len(rest) > 0.01 * Math.min(len(ai), len(aj)) + 1e-3) {
      fail(`frame ${f + 1} at [${position.map((v) => +v.toFixed(3)).join(', ')}] does not lie on a slice of ${imageName} (${Math.abs(k - kIndex) > 0.01 ? `${k.toFixed(2)} slices along its axis` : len(rest) > 0.01 ? `shifted ${len(rest).toFixed(2)} mm within the slice` : `slice ${kIndex} of 0..${nz - 1}`})`);
    }
    const base = kIndex * planeVoxels;
    for (let p = 0; p < planeVoxels; p++) {
      const on = type === 'BINARY' ? (pixelBytes[(f * planeVoxels + p) >> 3] >> ((f * planeVoxels + p) & 7)) & 1 : pixelBytes[f * planeVoxels + p] > fractionalThreshold;
      if (!on) continue;
      if (labels[base + p] !== segment && cover[base + p] < 255) cover[base + p]++;
      if ((segment as number) > labels[base + p]) labels[base + p] = segment as number;
    }
  }
  const voxels = new Map<number, number>();
  let overlapping = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0) voxels.set(labels[i], (voxels.get(labels[i]) ?? 0) + 1);
    if (cover[i] > 1) overlapping++;
  }
  return { labels, table, voxels, overlapping, read: `${frameCount} frame(s)` };
}
