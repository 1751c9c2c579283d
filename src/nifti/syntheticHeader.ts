// Images read from other formats (NRRD, MetaImage, MGH, DICOM): a NIfTI-1 header made from their
// RAS affine, so that a mask written beside them (writeMaskLike) is a NIfTI file on exactly their
// grid, and the NiftiImage of one frame of their voxels.
import { affineColumnNorms, affineDeterminant3 } from './affine';
import { datatypeByName } from './datatypes';
import { decodeScalarVoxels, SCALAR_BYTES, type ScalarDatatype } from './decode';
import { NiftiReadError } from './errors';
import type { NiftiDatatypeName, NiftiHeader, NiftiImage } from './types';

/**
 * A NIfTI-1 header for an image of `sizes` (3 or 4 axes) and `datatype` whose voxel → RAS mapping
 * is `affine`: the affine as the sform (code 1, scanner), and as the qform where the axes are
 * orthogonal (else qform code 0). `description` is cut to the field's 79 characters.
 */
export function headerFromAffine(affine: Float64Array, sizes: readonly number[], datatype: NiftiDatatypeName, description: string): NiftiHeader {
  const info = datatypeByName(datatype);
  const a = affine;
  const norms = affineColumnNorms(a);
  const q = quaternionOf(a, norms);
  const [nx, ny, nz, nt] = sizes;
  return {
    niftiVersion: 1,
    format: 'nifti-single',
    littleEndian: true,
    dim: [sizes.length, nx, ny, nz, nt ?? 1, 1, 1, 1],
    pixdim: [q?.qfac ?? 1, norms[0], norms[1], norms[2], 1, 0, 0, 0],
    datatypeCode: info.code,
    datatype,
    bitpix: info.bitpix,
    voxOffset: 352,
    sclSlope: 1,
    sclInter: 0,
    xyztUnits: 2,
    qformCode: q ? 1 : 0,
    sformCode: 1,
    quaternB: q?.b ?? 0,
    quaternC: q?.c ?? 0,
    quaternD: q?.d ?? 0,
    qoffsetX: a[3],
    qoffsetY: a[7],
    qoffsetZ: a[11],
    srow: Array.from(a.subarray(0, 12)),
    intentCode: 0,
    intentName: '',
    description: description.slice(0, 79),
    calMin: 0,
    calMax: 0,
    extensions: [],
  };
}

/**
 * The NIfTI quaternion (b, c, d) and qfac of an affine whose axes are orthogonal (to 1e-4), as
 * nifti_mat44_to_quatern computes them; null when they are not (a sheared grid: sform only).
 */
export function quaternionOf(a: ArrayLike<number>, norms: readonly number[]): { b: number; c: number; d: number; qfac: number } | null {
  // Columns of the rotation, the third flipped when the axes are left-handed (qfac −1).
  const qfac = affineDeterminant3(a) < 0 ? -1 : 1;
  const r = [0, 1, 2].map((row) => [0, 1, 2].map((col) => (a[4 * row + col] / norms[col]) * (col === 2 ? qfac : 1)));
  for (let i = 0; i < 3; i++)
    for (let j = i + 1; j < 3; j++) {
      const dot = r[0][i] * r[0][j] + r[1][i] * r[1][j] + r[2][i] * r[2][j];
      if (Math.abs(dot) > 1e-4) return null;
    }
  let qa = r[0][0] + r[1][1] + r[2][2] + 1;
  let b: number;
  let c: number;
  let d: number;
  if (qa > 0.5) {
    qa = 0.5 * Math.sqrt(qa);
    b = (0.25 * (r[2][1] - r[1][2])) / qa;
    c = (0.25 * (r[0][2] - r[2][0])) / qa;
    d = (0.25 * (r[1][0] - r[0][1])) / qa;
  } else {
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r[0][1] + r[1][0])) / b;
      d = (0.25 * (r[0][2] + r[2][0])) / b;
      qa = (0.25 * (r[2][1] - r[1][2])) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r[0][1] + r[1][0])) / c;
      d = (0.25 * (r[1][2] + r[2][1])) / c;
      qa = (0.25 * (r[0][2] - r[2][0])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r[0][2] + r[2][0])) / d;
      c = (0.25 * (r[1][2] + r[2][1])) / d;
      qa = (0.25 * (r[1][0] - r[0][1])) / d;
    }
    if (qa < 0) [b, c, d] = [-b, -c, -d];
  }
  return { b, c, d, qfac };
}

/** A volume read from another format: its geometry and voxel layout, checked by its reader. */
export interface ScalarVolume {
  /** 3 spatial sizes, and a 4th for a series of frames. */
  sizes: readonly number[];
  datatype: ScalarDatatype;
  littleEndian: boolean;
  /** Voxel → RAS world (mm), row-major 4×4. */
  affine: Float64Array;
  /** The header's description (cut to 79 characters). */
  description: string;
  /** The file holding the voxels, when not the image file itself. */
  dataFilePath?: string | null;
  /** The frames are interleaved (a vector per voxel: component fastest), not one after the other. */
  interleaved?: boolean;
}

/**
 * The image of frame `frame` of `volume`, whose voxels (every frame, x fastest) are `data`, which
 * its reader has checked to be exactly that long.
 * @throws NiftiReadError naming `filePath` for a frame the volume does not have.
 */
export function imageOfFrame(filePath: string, volume: ScalarVolume, data: Uint8Array, frame = 0): NiftiImage {
  const [nx, ny, nz, nt = 1] = volume.sizes;
  if (!Number.isInteger(frame) || frame < 0 || frame >= nt) throw new NiftiReadError(filePath, `frame ${frame} does not exist (it has ${nt} frame${nt === 1 ? '' : 's'})`);
  const bytes = SCALAR_BYTES[volume.datatype];
  const frameBytes = nx * ny * nz * bytes;
  let frameData = data.subarray(frame * frameBytes, (frame + 1) * frameBytes);
  if (volume.interleaved && nt > 1) {
    frameData = new Uint8Array(frameBytes);
    for (let v = 0, from = frame * bytes; v < nx * ny * nz; v++, from += nt * bytes) frameData.set(data.subarray(from, from + bytes), v * bytes);
  }
  return {
    filePath,
    header: headerFromAffine(volume.affine, volume.sizes, volume.datatype, volume.description),
    ...(volume.dataFilePath ? { dataFilePath: volume.dataFilePath } : {}),
    shape: volume.sizes.slice(),
    dims: [nx, ny, nz],
    spacingMm: affineColumnNorms(volume.affine),
    affine: volume.affine,
    affineSource: 'sform',
    frameCount: nt,
    frame,
    data: decodeScalarVoxels(frameData, volume.datatype, volume.littleEndian),
  };
}
