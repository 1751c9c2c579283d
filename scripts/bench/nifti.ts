// Bench part "nifti": how long readNifti takes to open a large int16 .nii.gz (512×512×300,
// 157 MB raw) next to zcat, libdeflate-gunzip and a bare Node zlib inflate of the same file.
// The file is generated once into os.tmpdir() and reused while its size matches.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readNifti } from '../../src/nifti';
import type { BenchOptions } from '../bench';


const NX = 512;
const NY = 512;
const NZ = 300;
const RUNS = 5;

/** A CT-like int16 volume: smooth body with soft-tissue noise inside air, so gzip behaves as on real scans. */
function makeVolumeFile(path: string): void {
  const header = new Uint8Array(352);
  const v = new DataView(header.buffer);
  v.setInt32(0, 348, true);
  [3, NX, NY, NZ, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, 4, true); // int16
  v.setInt16(72, 16, true);
  [1, 0.7, 0.7, 1.25, 1, 1, 1, 1].forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, 352, true);
  v.setFloat32(112, 1, true);
  v.setUint8(123, 2);
  v.setInt16(254, 1, true); // sform_code
  [0.7, 0, 0, -179, 0, 0.7, 0, -179, 0, 0, 1.25, -187].forEach((s, i) => v.setFloat32(280 + 4 * i, s, true));
  header.set([0x6e, 0x2b, 0x31, 0], 344);
  const voxels = new Int16Array(NX * NY * NZ);
  let seed = 12345;
  for (let k = 0, at = 0; k < NZ; k++) {
    for (let j = 0; j < NY; j++) {
      for (let i = 0; i < NX; i++, at++) {
        const dx = (i - NX / 2) / (NX * 0.4);
        const dy = (j - NY / 2) / (NY * 0.3);
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const noise = (seed >> 8) % 97;
        const inside = dx * dx + dy * dy < 1;
        // Scanner noise everywhere (real CT compresses about 3:1, not like a constant background).
        voxels[at] = inside ? 20 + 3 * noise + ((i + 2 * j + 3 * k) % 256) : -1000 + (noise >> 2);
      }
    }
  }
  const raw = new Uint8Array(header.length + voxels.byteLength);
  raw.set(header);
  raw.set(new Uint8Array(voxels.buffer), header.length);
  const gz = gzipSync(raw, { level: 6 });
  writeFileSync(path, new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function commandAvailable(command: string): boolean {
  return !spawnSync(command, ['--help'], { stdio: 'ignore' }).error;
}

function runCommand(command: string, args: string[]): void {
  const run = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (run.status !== 0) throw new Error(`${command} failed: ${run.stderr}`);
}

export default async function benchNifti(options: BenchOptions): Promise<void> {
  const path = join(tmpdir(), `lesion-lab-bench-${NX}x${NY}x${NZ}-int16.nii.gz`);
  if (!existsSync(path) || statSync(path).size < 1000) {
    if (!options.json) console.log(`generating ${path} ...`);
    makeVolumeFile(path);
  }
  const compressedMb = statSync(path).size / 1e6;
  const rawMb = (352 + NX * NY * NZ * 2) / 1e6;

  const cases: { name: string; run: () => unknown }[] = [
    {
      name: 'readNifti',
      run: async () => {
        const image = await readNifti(path);
        if (image.data.length !== NX * NY * NZ) throw new Error('bench: wrong voxel count');
      },
    },
    {
      name: 'node zlib gunzipSync (1 MiB chunks)',
      run: () => {
        const file = readFileSync(path);
        gunzipSync(new Uint8Array(file.buffer, file.byteOffset, file.byteLength), { chunkSize: 1 << 20 });
      },
    },
  ];
  if (commandAvailable('zcat')) cases.push({ name: 'zcat', run: () => runCommand('zcat', [path]) });
  if (commandAvailable('libdeflate-gunzip')) {
    cases.push({ name: 'libdeflate-gunzip -c', run: () => runCommand('libdeflate-gunzip', ['-c', path]) });
  }
  // Interleave the cases run by run, so that a change in machine load hits them all alike.
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    for (let c = 0; c < cases.length; c++) {
      const start = performance.now();
      await cases[c].run();
      times[c].push(performance.now() - start);
    }
  }
  const rows = cases.map((c, i) => ({ name: c.name, ms: median(times[i]) as number | undefined }));
  const readMs = rows[0].ms as number;
  if (options.json) {
    for (const row of rows) {
      console.log(
        JSON.stringify({
          bench: 'nifti',
          case: row.name,
          ms: row.ms ?? null,
          readNiftiRatio: row.ms ? readMs / row.ms : null,
          rawMb,
          compressedMb,
          runs: RUNS,
        }),
      );
    }
    return;
  }
  console.log(`file: ${NX}x${NY}x${NZ} int16, ${rawMb.toFixed(0)} MB raw, ${compressedMb.toFixed(1)} MB gzipped; median of ${RUNS} runs`);
  for (const row of rows) {
    const ms = row.ms === undefined ? 'not installed' : `${row.ms.toFixed(0)} ms`;
    const ratio = row.ms === undefined || row.name === 'readNifti' ? '' : `  (readNifti / this = ${(readMs / row.ms).toFixed(2)})`;
    console.log(`  ${row.name.padEnd(38)} ${ms.padStart(10)}${ratio}`);
  }
}
