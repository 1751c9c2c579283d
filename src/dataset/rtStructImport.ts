// A DICOM RT Structure Set (radiotherapy contours: how TCIA and treatment-planning systems store
// tumour outlines) as labels on an image's grid. Each closed planar contour is mapped into the
// image's voxel space, must lie in one of its slices, and is filled there: a voxel belongs to it
// when its centre lies inside the polygon (the voxels plastimatch gives); contours of one structure
// on one slice are combined by parity, so a contour inside another is a hole, as 3D Slicer reads
// them (plastimatch fills such a hole in). Each
// structure becomes a label (1, 2, … in the order asked for, else in the file's); where structures
// overlap (a tumour inside the body outline) the smaller one keeps the voxel.
import { DicomParseError, numbers, parseDicom, str, TAG, type DicomDataSet } from '../nifti/dicomParse';
import type { NiftiImage } from '../nifti';
import type { LabelTableEntry } from '../protocol/messages';
import { DicomSegReadError, type SegLabels } from './dicomSegImport';

/** SOP class of an RT Structure Set. */
export const RT_STRUCTURE_SET_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.481.3';

const RT = {
  structureSetRoiSeq: 0x30060020,
  roiNumber: 0x30060022,
  roiName: 0x30060026,
  roiContourSeq: 0x30060039,
  referencedRoiNumber: 0x30060084,
  roiDisplayColor: 0x3006002a,
  contourSeq: 0x30060040,
  contourGeometricType: 0x30060042,
  contourData: 0x30060050,
} as const;

/** Voxel (i, j, k) of RAS world point `p` under a row-major 4×4 affine (its 3×3 inverted by cofactors). */
function voxelOf(affine: ArrayLike<number>): (p: readonly number[]) => [number, number, number] {
  const m = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[4 * r + c]));
  const det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const inv = [0, 1, 2].map((r) =>
    [0, 1, 2].map((c) => {
      const rows = [0, 1, 2].filter((x) => x !== c);
      const cols = [0, 1, 2].filter((x) => x !== r);
      const minor = m[rows[0]][cols[0]] * m[rows[1]][cols[1]] - m[rows[0]][cols[1]] * m[rows[1]][cols[0]];
      return (((r + c) % 2 === 0 ? 1 : -1) * minor) / det;
    }),
  );
  return (p) => {
    const d = [0, 1, 2].map((w) => p[w] - affine[4 * w + 3]);
    return [0, 1, 2].map((r) => inv[r][0] * d[0] + inv[r][1] * d[1] + inv[r][2] * d[2]) as [number, number, number];
  };
}

/** Toggles, in a slice of `nx`×`ny`, the voxels whose centres lie inside polygon `points` (i, j). */
function togglePolygon(slice: Uint8Array, nx: number, ny: number, points: readonly [number, number][]): void {
  const n = points.length;
  const jMin = Math.max(0, Math.ceil(Math.min(...points.map((p) => p[1]))));
  const jMax = Math.min(ny - 1, Math.floor(Math.max(...points.map((p) => p[1]))));
  const crossings: number[] = [];
  for (let j = jMin; j <= jMax; j++) {
    crossings.length = 0;
    for (let e = 0; e < n; e++) {
      const [x0, y0] = points[e];
      const [x1, y1] = points[(e + 1) % n];
      // Half-open in y, so a vertex on the row counts once.
      if ((y0 <= j && j < y1) || (y1 <= j && j < y0)) crossings.push(x0 + ((j - y0) / (y1 - y0)) * (x1 - x0));
    }
    crossings.sort((a, b) => a - b);
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      const from = Math.max(0, Math.ceil(crossings[c]));
      const to = Math.min(nx - 1, Math.ceil(crossings[c + 1]) - 1);
      for (let i = from; i <= to; i++) slice[i + nx * j] ^= 1;
    }
  }
}

/**
 * Rasterises the structures of the RT Structure Set `bytes` (named `fileName` in messages) on
 * `image`'s grid; `roiNames` picks structures by name (case-insensitive; default all).
 * @throws DicomSegReadError when the file is not a structure set, a named structure is missing,
 *   or a contour does not lie in a slice of the image.
 */
export function labelsFromRtStruct(bytes: Uint8Array, fileName: string, image: Pick<NiftiImage, 'dims' | 'affine' | 'filePath'>, roiNames: readonly string[] = []): SegLabels {
  const fail = (why: string): never => {
    throw new DicomSegReadError(`${fileName}: ${why}`);
  };
  let ds: DicomDataSet;
  try {
    ds = parseDicom(bytes);
  } catch (e) {
    return fail(e instanceof DicomParseError ? e.problem : String(e));
  }
  if (str(ds, TAG.sopClass) !== RT_STRUCTURE_SET_SOP_CLASS) fail(`not an RT Structure Set (SOP class ${str(ds, TAG.sopClass) || 'absent'}, modality ${str(ds, TAG.modality) || 'absent'})`);
  const names = new Map<number, string>();
  for (const item of ds.elements.get(RT.structureSetRoiSeq)?.items ?? []) names.set(numbers(item, RT.roiNumber)[0], str(item, RT.roiName));
  const structures = (ds.elements.get(RT.roiContourSeq)?.items ?? []).map((item) => {
    const number = numbers(item, RT.referencedRoiNumber)[0];
    const color = numbers(item, RT.roiDisplayColor);
    return { number, name: names.get(number) || `ROI ${number}`, color: color.length === 3 ? (color as [number, number, number]) : ([255, 0, 0] as [number, number, number]), contours: item.elements.get(RT.contourSeq)?.items ?? [] };
  });
  if (structures.length === 0) fail('it holds no contours (its ROIContourSequence is empty)');
  let chosen = structures;
  if (roiNames.length > 0) {
    chosen = roiNames.map((wanted) => structures.find((s) => s.name.toLowerCase() === wanted.toLowerCase()) ?? fail(`it has no structure named "${wanted}" (it has ${structures.map((s) => `"${s.name}"`).join(', ')})`));
  }

  const [nx, ny, nz] = image.dims;
  const toVoxel = voxelOf(image.affine);
  const planeVoxels = nx * ny;
  const masks = chosen.map((s, index) => {
    const mask = new Uint8Array(nx * ny * nz);
    s.contours.forEach((contour, c) => {
      const type = str(contour, RT.contourGeometricType).toUpperCase();
      if (type !== 'CLOSED_PLANAR') return; // points and open lines outline nothing
      const xyz = numbers(contour, RT.contourData);
      if (xyz.length < 9 || xyz.length % 3 !== 0 || !xyz.every(Number.isFinite)) fail(`contour ${c + 1} of "${s.name}" has ${xyz.length} coordinates, not three for each of at least three points`);
      // LPS → RAS, then voxel space.
      const voxels = Array.from({ length: xyz.length / 3 }, (_, p) => toVoxel([-xyz[3 * p], -xyz[3 * p + 1], xyz[3 * p + 2]]));
      const k = Math.round(voxels.reduce((sum, v) => sum + v[2], 0) / voxels.length);
      const off = Math.max(...voxels.map((v) => Math.abs(v[2] - k)));
      if (off > 0.1 || k < 0 || k >= nz) fail(`contour ${c + 1} of "${s.name}" does not lie in a slice of the image (it lies at slice ${k}${off > 0.1 ? `, its points up to ${off.toFixed(2)} slices off it` : ` of 0..${nz - 1}`})`);
      const slice = new Uint8Array(planeVoxels);
      togglePolygon(slice, nx, ny, voxels.map((v) => [v[0], v[1]]));
      const base = k * planeVoxels;
      for (let p = 0; p < planeVoxels; p++) mask[base + p] ^= slice[p];
    });
    let count = 0;
    for (const v of mask) count += v;
    return { value: index + 1, mask, count };
  });

  // The smaller structure keeps a shared voxel: write the largest first.
  const labels = new Uint16Array(nx * ny * nz);
  const cover = new Uint8Array(labels.length);
  for (const { value, mask } of [...masks].sort((a, b) => b.count - a.count)) {
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      labels[i] = value;
      if (cover[i] < 255) cover[i]++;
    }
  }
  const voxels = new Map<number, number>();
  let overlapping = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0) voxels.set(labels[i], (voxels.get(labels[i]) ?? 0) + 1);
    if (cover[i] > 1) overlapping++;
  }
  const table: LabelTableEntry[] = chosen.map((s, index) => ({ value: index + 1, name: s.name, color: s.color, visible: true, locked: false }));
  return { labels, table, voxels, overlapping, read: `${chosen.reduce((n, s) => n + s.contours.length, 0)} contour(s)` };
}
