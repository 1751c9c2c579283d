// Bench part "brain-extraction": how long extractBrain (src/ml/brainExtraction.ts) takes to strip
// Colin27's head (../shared/data/normal/mricron_debian/ch2.nii.gz, 181×217×181 at 1 mm) and the
// same head averaged into 5 mm slices, with the mask's Dice against Colin27's BET brain.
import { extractBrain } from '../../src/ml/brainExtraction';
import { diceScore } from '../../src/ml/metrics';
import { readNifti } from '../../src/nifti';
import type { Vec3 } from '../../src/volume/vec3';
import type { BenchOptions } from '../bench';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const RUNS = 3;

/** `data` averaged over every `t` slices along k (a thick-slice acquisition of the same head). */
function thickSlices(data: ArrayLike<number>, dims: Vec3, t: number): { data: Float32Array; dims: Vec3 } {
  const [nx, ny, nz] = dims;
  const oz = Math.floor(nz / t);
  const out = new Float32Array(nx * ny * oz);
  for (let k = 0; k < oz; k++) {
    for (let d = 0; d < t; d++) {
      const from = nx * ny * (k * t + d);
      for (let v = 0; v < nx * ny; v++) out[nx * ny * k + v] += data[from + v] / t;
    }
  }
  return { data: out, dims: [nx, ny, oz] };
}

export default async function benchBrainExtraction(options: BenchOptions): Promise<void> {
  const folder = resolve(__dirname, '../../../shared/data/normal/mricron_debian');
  if (!existsSync(join(folder, 'ch2bet.nii.gz'))) {
    console.log(options.json ? JSON.stringify({ bench: 'brain-extraction', skipped: `no ${folder}` }) : `skipped: ${folder} is missing`);
    return;
  }
  const head = await readNifti(join(folder, 'ch2.nii.gz'));
  const bet = await readNifti(join(folder, 'ch2bet.nii.gz'));
  const brain = Float32Array.from(bet.data as ArrayLike<number>, (x) => (x > 0 ? 1 : 0));
  const cases = [
    { name: 'Colin27, 1 mm', image: { data: head.data, dims: head.dims, spacingMm: head.spacingMm }, reference: brain },
    ...[5].map((t) => {
      const thick = thickSlices(head.data, head.dims, t);
      const reference = thickSlices(brain, head.dims, t).data.map((x) => (x >= 0.5 ? 1 : 0));
      return { name: `Colin27, ${t} mm slices`, image: { ...thick, spacingMm: [1, 1, t] as Vec3 }, reference };
    }),
  ];
  for (const c of cases) {
    const times: number[] = [];
    let mask: Uint8Array = new Uint8Array(0);
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      mask = extractBrain(c.image).mask;
      times.push(performance.now() - t0);
    }
    const ms = [...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)];
    const voxels = c.image.dims[0] * c.image.dims[1] * c.image.dims[2];
    const diceWithBet = diceScore(mask, c.reference);
    if (options.json) console.log(JSON.stringify({ bench: 'brain-extraction', case: c.name, ms, voxels, diceWithBet, runs: RUNS }));
    else console.log(`${c.name} (${c.image.dims.join('×')}, ${(voxels / 1e6).toFixed(1)} M voxels): ${(ms / 1000).toFixed(2)} s (median of ${RUNS}), Dice with BET's brain ${diceWithBet.toFixed(3)}`);
  }
}
