// Runs test/nifti/nibabel_dump.py once over a list of files and gives typed access to nibabel's
// results (shape, affine, header fields, axis codes, canonical affine, unscaled values).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's python, which has nibabel (the pyenv python on PATH does not). */
export const NIBABEL_PYTHON = '/usr/bin/python3';

export interface NibabelEntry {
  file: string;
  ok: boolean;
  error?: string;
  shape: number[];
  affine: number[][];
  axcodes: string;
  canonical_affine: number[][];
  canonical_shape: number[];
  header: Record<string, number | number[]>;
  slope: number | null;
  inter: number | null;
  raw_dtype: string;
  rgb_channels?: number;
  frames: { frame: number; values_file: string }[];
}

export interface NibabelDump {
  dir: string;
  entries: Map<string, NibabelEntry>;
  /** nibabel's unscaled values of one dumped frame, as numbers. */
  values(entry: NibabelEntry, frame: number): Float64Array;
  dispose(): void;
}

/** Dumps every file with nibabel in ONE python process. Throws with python's stderr on failure. */
export function dumpWithNibabel(files: string[]): NibabelDump {
  const dir = mkdtempSync(join(tmpdir(), 'lesion-lab-nibabel-'));
  const script = join(__dirname, 'nibabel_dump.py');
  const run = spawnSync(NIBABEL_PYTHON, [script, dir, ...files], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nibabel_dump.py failed (status ${run.status}): ${run.stderr || run.error?.message}`);
  }
  const list = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as NibabelEntry[];
  const entries = new Map(list.map((e) => [e.file, e]));
  return {
    dir,
    entries,
    values(entry, frame) {
      const item = entry.frames.find((f) => f.frame === frame);
      if (!item) throw new Error(`nibabel dump of ${entry.file} has no frame ${frame}`);
      const bytes = new Uint8Array(readFileSync(join(dir, item.values_file)));
      const buffer = bytes.buffer;
      const typed = {
        uint8: () => new Uint8Array(buffer),
        int8: () => new Int8Array(buffer),
        int16: () => new Int16Array(buffer),
        uint16: () => new Uint16Array(buffer),
        int32: () => new Int32Array(buffer),
        uint32: () => new Uint32Array(buffer),
        float32: () => new Float32Array(buffer),
        float64: () => new Float64Array(buffer),
        int64: () => Float64Array.from(new BigInt64Array(buffer), Number),
        uint64: () => Float64Array.from(new BigUint64Array(buffer), Number),
      }[entry.raw_dtype];
      if (!typed) throw new Error(`unexpected raw dtype ${entry.raw_dtype} for ${entry.file}`);
      return Float64Array.from(typed());
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
