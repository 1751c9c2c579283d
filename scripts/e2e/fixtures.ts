// NIfTI files the demo and the e2e test generate: the phantom for machines without
// ../shared/data, and crops of shared volumes. A tiny inline NIfTI-1 writer, so these fixtures do
// not depend on src/nifti (whose reader the e2e test uses to check what the extension saved).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';

/** What {@link writeNifti1Gz} writes. */
export interface Nifti1Volume {
  dims: readonly [number, number, number];
  /** Voxel size in mm (pixdim[1..3]). */
  spacingMm: readonly [number, number, number];
  /** Voxel → world (RAS+, mm), row-major 4×4; stored as the sform (code 1) and nothing else. */
  affine: ArrayLike<number>;
  data: Int16Array | Float32Array;
  description: string;
}

/**
 * Writes a gzipped single-file NIfTI-1 (`.nii.gz`) atomically (temp file + rename).
 * @throws Error naming the file when the data length does not match the dims.
 */
export function writeNifti1Gz(path: string, v: Nifti1Volume): void {
  const [nx, ny, nz] = v.dims;
  if (v.data.length !== nx * ny * nz) throw new Error(`writeNifti1Gz ${path}: ${v.data.length} values for dims ${v.dims.join('×')}`);
  if (v.affine.length !== 16) throw new Error(`writeNifti1Gz ${path}: the affine must have 16 numbers, got ${v.affine.length}`);
  const isFloat = v.data instanceof Float32Array;
  const header = Buffer.alloc(352); // 348-byte NIfTI-1 header + 4-byte empty extension flag
  header.writeInt32LE(348, 0); // sizeof_hdr
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, n) => header.writeInt16LE(d, 40 + 2 * n));
  header.writeInt16LE(isFloat ? 16 : 4, 70); // datatype: float32 or int16
  header.writeInt16LE(isFloat ? 32 : 16, 72); // bitpix
  [1, ...v.spacingMm, 0, 0, 0, 0].forEach((p, n) => header.writeFloatLE(p, 76 + 4 * n));
  header.writeFloatLE(352, 108); // vox_offset
  header.writeFloatLE(1, 112); // scl_slope
  header.writeUInt8(2, 123); // xyzt_units: mm
  header.write(v.description.slice(0, 79), 148, 'latin1');
  header.writeInt16LE(0, 252); // qform_code
  header.writeInt16LE(1, 254); // sform_code: scanner
  for (let n = 0; n < 12; n++) header.writeFloatLE(v.affine[n], 280 + 4 * n);
  header.write('n+1\0', 344, 'latin1');
  const bytes = Buffer.concat([header, Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength)]);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, gzipSync(bytes));
  renameSync(`${path}.tmp`, path);
}

/** The phantom's grid and its lesion (centre voxel, radius in mm); the sform puts voxel (48, 48, 24) at the origin. */
export const PHANTOM = {
  dims: [96, 96, 48],
  spacingMm: [1, 1, 2.5],
  lesionVoxel: [62, 38, 25],
  lesionRadiusMm: 8,
} as const;

/**
 * Writes the phantom as a gzipped NIfTI-1 file: a FLAIR-like 96×96×48 int16 head (brain ~400
 * with noise, a darker rim ~150, air 0) holding one bright spherical lesion (~900, radius 8 mm)
 * that crosses the middle axial slice, at 1×1×2.5 mm, with an RAS sform.
 */
export function writePhantomNifti(path: string): void {
  const [nx, ny, nz] = PHANTOM.dims;
  const spacingMm = PHANTOM.spacingMm;
  const data = new Int16Array(nx * ny * nz);
  const centre = [nx / 2, ny / 2, nz / 2];
  const lesion = PHANTOM.lesionVoxel;
  let seed = 12345; // deterministic noise (LCG) so the file is identical on every machine
  const noise = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 60;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const dx = (i - centre[0]) * spacingMm[0];
        const dy = (j - centre[1]) * spacingMm[1];
        const dz = (k - centre[2]) * spacingMm[2];
        const r = Math.sqrt((dx / 40) ** 2 + (dy / 44) ** 2 + (dz / 52) ** 2);
        let v = 0;
        if (r < 0.9) v = 400 + noise();
        else if (r < 1) v = 150 + noise();
        const lx = (i - lesion[0]) * spacingMm[0];
        const ly = (j - lesion[1]) * spacingMm[1];
        const lz = (k - lesion[2]) * spacingMm[2];
        if (Math.sqrt(lx * lx + ly * ly + lz * lz) < PHANTOM.lesionRadiusMm) v = 900 + noise();
        data[i + nx * (j + ny * k)] = Math.max(0, Math.round(v));
      }
  // prettier-ignore
  const affine = [
    spacingMm[0], 0, 0, -centre[0] * spacingMm[0],
    0, spacingMm[1], 0, -centre[1] * spacingMm[1],
    0, 0, spacingMm[2], -centre[2] * spacingMm[2],
    0, 0, 0, 1,
  ];
  writeNifti1Gz(path, { dims: [nx, ny, nz], spacingMm: [...spacingMm], affine, data, description: 'lesion-lab demo phantom' });
}

/** A volume as the project's reader returns it (the fields a crop needs). */
export interface CroppableVolume {
  dims: readonly [number, number, number];
  spacingMm: readonly [number, number, number];
  affine: ArrayLike<number>;
  data: ArrayLike<number>;
}

/**
 * Writes the box [origin, origin + size) of `source` as float32 NIfTI-1 whose affine is the
 * source's shifted to the box corner, so every voxel keeps its world position.
 * @throws Error when the box leaves the source grid.
 */
export function writeCropNifti(path: string, source: CroppableVolume, origin: readonly [number, number, number], size: readonly [number, number, number], description: string): void {
  const [sx, sy, sz] = source.dims;
  for (let a = 0; a < 3; a++) {
    if (origin[a] < 0 || size[a] < 1 || origin[a] + size[a] > source.dims[a]) {
      throw new Error(`writeCropNifti ${path}: box ${origin.join(',')}+${size.join('×')} leaves the ${source.dims.join('×')} grid`);
    }
  }
  const [nx, ny, nz] = size;
  const data = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = source.data[origin[0] + i + sx * (origin[1] + j + sy * (origin[2] + k))];
  void sz;
  const A = source.affine;
  const affine = Array.from(A);
  for (let r = 0; r < 3; r++) affine[4 * r + 3] = A[4 * r] * origin[0] + A[4 * r + 1] * origin[1] + A[4 * r + 2] * origin[2] + A[4 * r + 3];
  writeNifti1Gz(path, { dims: [nx, ny, nz], spacingMm: source.spacingMm, affine, data, description });
}
