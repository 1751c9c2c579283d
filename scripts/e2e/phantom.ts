// A phantom NIfTI volume for machines without ../shared/data (the demo, and the e2e test outside
// CI): written with a tiny inline NIfTI-1 writer so it does not depend on src/nifti.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The phantom's grid and its lesion (centre voxel, radius in mm); the sform puts voxel (48, 48, 24) at the origin. */
export const PHANTOM = {
  dims: [96, 96, 48],
  spacingMm: [1, 1, 2.5],
  lesionVoxel: [62, 38, 25],
  lesionRadiusMm: 8,
} as const;

/**
 * Writes the phantom as a gzipped NIfTI-1 file (atomically): a FLAIR-like 96×96×48 int16 head (brain ~400
 * with noise, a darker rim ~150, air 0) holding one bright spherical lesion (~900, radius 8 mm)
 * that crosses the middle axial slice, at 1×1×2.5 mm, written as NIfTI-1 with an RAS sform.
 */
export function writePhantomNifti(path: string): void {
  const [nx, ny, nz] = PHANTOM.dims;
  const spacingMm = PHANTOM.spacingMm;
  const data = new Int16Array(nx * ny * nz);
  const centre = [nx / 2, ny / 2, nz / 2];
  const lesion = PHANTOM.lesionVoxel;
  const lesionRadiusMm = PHANTOM.lesionRadiusMm;
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
        if (Math.sqrt(lx * lx + ly * ly + lz * lz) < lesionRadiusMm) v = 900 + noise();
        data[i + nx * (j + ny * k)] = Math.max(0, Math.round(v));
      }
  const header = Buffer.alloc(352); // 348-byte NIfTI-1 header + 4-byte empty extension flag
  header.writeInt32LE(348, 0); // sizeof_hdr
  const dim = [3, nx, ny, nz, 1, 1, 1, 1];
  dim.forEach((d, n) => header.writeInt16LE(d, 40 + 2 * n));
  header.writeInt16LE(4, 70); // datatype int16
  header.writeInt16LE(16, 72); // bitpix
  const pixdim = [1, ...spacingMm, 0, 0, 0, 0];
  pixdim.forEach((p, n) => header.writeFloatLE(p, 76 + 4 * n));
  header.writeFloatLE(352, 108); // vox_offset
  header.writeFloatLE(1, 112); // scl_slope
  header.writeUInt8(2, 123); // xyzt_units: mm
  header.write('lesion-lab demo phantom', 148, 'latin1');
  header.writeInt16LE(0, 252); // qform_code
  header.writeInt16LE(1, 254); // sform_code: scanner
  const srow = [
    [spacingMm[0], 0, 0, -centre[0] * spacingMm[0]],
    [0, spacingMm[1], 0, -centre[1] * spacingMm[1]],
    [0, 0, spacingMm[2], -centre[2] * spacingMm[2]],
  ];
  srow.flat().forEach((v, n) => header.writeFloatLE(v, 280 + 4 * n));
  header.write('n+1\0', 344, 'latin1');
  const bytes = Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, gzipSync(bytes));
  renameSync(`${path}.tmp`, path);
}
