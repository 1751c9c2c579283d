// A head with its skull as 2-D MR stores it, for the tests of the skull check: an ellipsoid of
// tissue (130 × 150 × 130 mm) in noisy air on 1.5 × 1.5 × 6 mm voxels, with a bright 12 mm lesion.
// With `layers`, its outer 4 mm are scalp (brighter than most of the brain, as fat is on FLAIR)
// and the next 8 mm dark skull, so that a brain can be told from it (src/ml/brainExtraction.ts);
// without, it is tissue throughout and cannot.
import { writeFileSync } from 'node:fs';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';

export const HEAD_DIMS = [100, 110, 25] as const;
const SPACING_MM = [1.5, 1.5, 6] as const;

/** The head's semi-axes, and how deep its scalp and skull reach, mm. */
const HEAD_RADII_MM = [65, 75, 65] as const;
const SCALP_MM = 4;
const SKULL_MM = 12;

/** Whether voxel (i, j, k) lies deeper than `depthMm` inside the head (an ellipsoid shrunk by that much on every axis). */
export function insideHead(i: number, j: number, k: number, depthMm = 0): boolean {
  const mm = [i - (HEAD_DIMS[0] - 1) / 2, j - (HEAD_DIMS[1] - 1) / 2, k - (HEAD_DIMS[2] - 1) / 2].map((d, a) => d * SPACING_MM[a]);
  return mm.reduce((s, x, a) => s + (x / (HEAD_RADII_MM[a] - depthMm)) ** 2, 0) <= 1;
}

/** The brain of a head written with `layers`: inside its skull. */
export function headBrain(i: number, j: number, k: number): boolean {
  return insideHead(i, j, k, SKULL_MM);
}

/** Writes IMAGE (int16) and MASK (uint8) of the head; the image is a head with its skull for brainImageKind. */
export function writeHeadImage(imagePath: string, maskPath: string, opts: { layers?: boolean } = {}): void {
  const [nx, ny, nz] = HEAD_DIMS;
  const image = new Int16Array(nx * ny * nz);
  const mask = new Uint8Array(image.length);
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        const mm = [i - (nx - 1) / 2, j - (ny - 1) / 2, k - (nz - 1) / 2].map((d, a) => d * SPACING_MM[a]);
        const inLesion = (mm[0] - 20) ** 2 + mm[1] ** 2 + mm[2] ** 2 <= 12 ** 2;
        const tissue = 60 + ((v * 7919) % 41);
        const layer = !opts.layers || headBrain(i, j, k) ? tissue : insideHead(i, j, k, SCALP_MM) ? 10 + (v % 7) : 110;
        image[v] = inLesion ? 160 : insideHead(i, j, k) ? layer : 1 + (v % 5);
        mask[v] = inLesion ? 1 : 0;
      }
    }
  }
  const pixdim = [1, ...SPACING_MM, 1, 0, 0, 0];
  writeFileSync(imagePath, gzip(buildNifti({ dim: [...HEAD_DIMS], datatype: 4, bitpix: 16, pixdim, data: bytesOf(image) }).file));
  writeFileSync(maskPath, gzip(buildNifti({ dim: [...HEAD_DIMS], datatype: 2, bitpix: 8, pixdim, data: bytesOf(mask) }).file));
}
