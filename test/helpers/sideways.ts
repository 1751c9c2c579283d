// Writes an image (and its mask) stored as a stack lying on its side: voxel axes in the order
// k, i, j, with the affine's columns to match, so every voxel keeps its world position.
import { readNifti, writeMaskLike, writeVolumeLike } from '../../src/nifti';
import type { Vec3 } from '../../src/volume/vec3';

/** Voxels of a dims-sized grid reordered to k, i, j. */
export function sidewaysVoxels<T extends Float32Array | Uint8Array>(data: ArrayLike<number>, dims: Vec3, out: T): T {
  const [nx, ny, nz] = dims;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) out[k + nz * (i + nx * j)] = data[i + nx * (j + ny * k)];
  return out;
}

/** Writes imagePath (and maskPath) stored sideways to the given paths (sform only). */
export async function writeSideways(imagePath: string, maskPath: string, outImagePath: string, outMaskPath: string): Promise<void> {
  const image = await readNifti(imagePath);
  const mask = await readNifti(maskPath);
  const [nx, ny, nz] = image.dims;
  const a = image.affine;
  const srow = [0, 1, 2].flatMap((r) => [a[r * 4 + 2], a[r * 4], a[r * 4 + 1], a[r * 4 + 3]]);
  const h = image.header;
  const header = { ...h, qformCode: 0, sformCode: 1, srow, pixdim: [1, h.pixdim[3], h.pixdim[1], h.pixdim[2], ...h.pixdim.slice(4)] };
  const source = { ...image, header, dims: [nz, nx, ny] as Vec3 };
  await writeVolumeLike(source, sidewaysVoxels(image.data, image.dims, new Float32Array(image.data.length)), outImagePath);
  await writeMaskLike(source, sidewaysVoxels(mask.data, image.dims, new Uint8Array(mask.data.length)), outMaskPath);
}
