// Bench part "registration": how long registerRigid (src/volume/rigidRegistration.ts) takes, and how
// close it lands, for an image whose affine was turned by 9° and shifted by 19 mm: STS_002's CT
// (161×143×48) against itself and its PET against it, Colin27 (181×217×181) onto the MNI152 2009
// template, and a 512×512×300 synthetic CT (the size of a whole-body CT) against itself.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNifti } from '../../src/nifti';
import { registerRigid, type RegistrationImage } from '../../src/volume/rigidRegistration';
import type { Vec3 } from '../../src/volume/vec3';
import type { BenchOptions } from '../bench';

const RUNS = 3;

/** Turns `affine` by 4°, −3°, 8° (x, y, z) about `centre` and shifts it by (15, −10, 6) mm. */
function moved(affine: ArrayLike<number>, centre: number[]): Float64Array {
  const [ax, ay, az] = [4, -3, 8].map((d) => (d * Math.PI) / 180);
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const R = [cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx, sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx, -sy, cy * sx, cy * cx];
  const shift = [15, -10, 6];
  const out = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) out[4 * r + c] = R[3 * r] * affine[c] + R[3 * r + 1] * affine[4 + c] + R[3 * r + 2] * affine[8 + c];
    out[4 * r + 3] += centre[r] + shift[r] - (R[3 * r] * centre[0] + R[3 * r + 1] * centre[1] + R[3 * r + 2] * centre[2]);
  }
  out[15] = 1;
  return out;
}

/** Largest distance (mm) between where two affines put the corner voxels of `dims`. */
function cornerMm(a: ArrayLike<number>, b: ArrayLike<number>, dims: Vec3): number {
  let worst = 0;
  for (const i of [0, dims[0] - 1]) for (const j of [0, dims[1] - 1]) for (const k of [0, dims[2] - 1]) {
    const d = [0, 1, 2].map((r) => (a[4 * r] - b[4 * r]) * i + (a[4 * r + 1] - b[4 * r + 1]) * j + (a[4 * r + 2] - b[4 * r + 2]) * k + a[4 * r + 3] - b[4 * r + 3]);
    worst = Math.max(worst, Math.hypot(d[0], d[1], d[2]));
  }
  return worst;
}

function syntheticCt(): RegistrationImage {
  const dims: Vec3 = [512, 512, 300];
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, o = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, o++) {
        // An elliptic body tapering along k, a spine-like bright rod and a lesion; air around.
        const body = Math.hypot((i - 256) / (200 - k / 5), (j - 256) / (150 - k / 6)) < 1;
        const bone = Math.hypot(i - 256, j - 330) < 18;
        const lesion = Math.hypot(i - 300, j - 220, (k - 150) * 2) < 40;
        data[o] = !body ? -1000 : bone ? 700 : lesion ? 90 : 40 + ((i * 7 + j * 13 + k * 3) % 20);
      }
    }
  }
  return { data, dims, affine: [0.8, 0, 0, -200, 0, 0.8, 0, -200, 0, 0, 1.5, -220, 0, 0, 0, 1] };
}

export default async function benchRegistration(options: BenchOptions): Promise<void> {
  const shared = resolve(__dirname, '../../../shared/data');
  const cases: { name: string; fixed: RegistrationImage; moving: RegistrationImage }[] = [];
  const sts = join(shared, 'lesion/sarcoma-ct-mr-pet/STS_002');
  if (existsSync(join(sts, 'PET/image.nii.gz'))) {
    const ct = await readNifti(join(sts, 'CT/image.nii.gz'));
    const pet = await readNifti(join(sts, 'PET/image.nii.gz'));
    cases.push({ name: 'STS_002 CT onto itself', fixed: ct, moving: ct }, { name: 'STS_002 PET onto its CT', fixed: ct, moving: pet });
  }
  const colin = join(shared, 'normal/mricron_debian/ch2.nii.gz');
  const template = join(shared, 'normal/niivue_images/MNI152_2009_template.nii.gz');
  if (existsSync(colin) && existsSync(template)) cases.push({ name: 'Colin27 onto MNI152 2009', fixed: await readNifti(template), moving: await readNifti(colin) });
  const ct = syntheticCt();
  cases.push({ name: 'synthetic CT 512×512×300 onto itself', fixed: ct, moving: ct });

  for (const c of cases) {
    const { fixed, moving } = c;
    const centre = [0, 1, 2].map((r) => fixed.affine[4 * r] * (fixed.dims[0] - 1) / 2 + fixed.affine[4 * r + 1] * (fixed.dims[1] - 1) / 2 + fixed.affine[4 * r + 2] * (fixed.dims[2] - 1) / 2 + fixed.affine[4 * r + 3]);
    const start = moved(moving.affine, centre);
    // Where the registration puts it from the affines as given: the reference for the moved start.
    const reference = registerRigid(fixed, moving).correctedAffine;
    const times: number[] = [];
    let landed = Infinity;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const result = registerRigid(fixed, { data: moving.data, dims: moving.dims, affine: start });
      times.push(performance.now() - t0);
      landed = cornerMm(result.correctedAffine, reference, moving.dims);
    }
    const ms = [...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)];
    const off = cornerMm(start, moving.affine, moving.dims);
    const voxels = fixed.dims[0] * fixed.dims[1] * fixed.dims[2];
    if (options.json) console.log(JSON.stringify({ bench: 'registration', case: c.name, ms, voxels, startCornerMm: off, landedCornerMm: landed, runs: RUNS }));
    else console.log(`${c.name} (${(voxels / 1e6).toFixed(1)} M voxels): ${(ms / 1000).toFixed(2)} s (median of ${RUNS}); corners ${off.toFixed(1)} mm off at the start, ${landed.toFixed(2)} mm from the pose found from the affines`);
  }
}
