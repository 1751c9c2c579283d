// A head with its skull as 2-D MR stores it, for the tests of the skull check: an ellipsoid of
// tissue (130 × 150 × 130 mm) in noisy air on 1.5 × 1.5 × 6 mm voxels, with a bright 12 mm lesion.
import { writeFileSync } from 'node:fs';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';

export const HEAD_DIMS = [100, 110, 25] as const;
const SPACING_MM = [1.5, 1.5, 6] as const;

/** Writes IMAGE (int16) and MASK (uint8) of the head; the image is a head with its skull for brainImageKind. */
export function writeHeadImage(imagePath: string, maskPath: string): void {
  const [nx, ny, nz] = HEAD_DIMS;
  const image = new Int16Array(nx * ny * nz);
  const mask = new Uint8Array(image.length);
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        const mm = [i - (nx - 1) / 2, j - (ny - 1) / 2, k - (nz - 1) / 2].map((d, a) => d * SPACING_MM[a]);
        const inHead = (mm[0] / 65) ** 2 + (mm[1] / 75) ** 2 + (mm[2] / 65) ** 2 <= 1;
        const inLesion = (mm[0] - 20) ** 2 + mm[1] ** 2 + mm[2] ** 2 <= 12 ** 2;
        image[v] = inLesion ? 160 : inHead ? 60 + ((v * 7919) % 41) : 1 + (v % 5);
        mask[v] = inLesion ? 1 : 0;
      }
    }
  }
  const pixdim = [1, ...SPACING_MM, 1, 0, 0, 0];
  writeFileSync(imagePath, gzip(buildNifti({ dim: [...HEAD_DIMS], datatype: 4, bitpix: 16, pixdim, data: bytesOf(image) }).file));
  writeFileSync(maskPath, gzip(buildNifti({ dim: [...HEAD_DIMS], datatype: 2, bitpix: 8, pixdim, data: bytesOf(mask) }).file));
}
