// Host side of the editor on a 512×512×300 int16 CT-like volume (157 MB of voxels): open
// (read + empty labels), the `init` preparation (statistics, voxel and label buffers), one brush
// stroke's delta through the wire and into the document model, and Save (mask + sidecar).
// Usage: npm run bench -- editor-host [--json]
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LabelDeltaRecorder } from '../../src/protocol/labelDelta';
import { deltaFromWire, deltaToWire } from '../../src/protocol/labelDeltaWire';
import { LabelSession } from '../../src/labels/labelSession';
import { intensityStats, isAllZero, toWireVoxels } from '../../src/volume/imageInfo';
import type { BenchOptions } from '../bench';

const NX = 512, NY = 512, NZ = 300;
const SPACING: [number, number, number] = [0.7, 0.7, 1.0];

/** A NIfTI-1 int16 file with an sform, holding a smooth body-like phantom in HU. */
function phantomNifti(): Uint8Array {
  const header = new ArrayBuffer(352);
  const dv = new DataView(header);
  dv.setInt32(0, 348, true);
  const dims = [3, NX, NY, NZ, 1, 1, 1, 1];
  dims.forEach((d, n) => dv.setInt16(40 + 2 * n, d, true));
  dv.setInt16(70, 4, true); // datatype int16
  dv.setInt16(72, 16, true); // bitpix
  [1, SPACING[0], SPACING[1], SPACING[2], 1, 1, 1, 1].forEach((p, n) => dv.setFloat32(76 + 4 * n, p, true));
  dv.setFloat32(108, 352, true); // vox_offset
  dv.setFloat32(112, 1, true); // scl_slope
  dv.setUint8(123, 10); // xyzt_units: mm, s
  dv.setInt16(254, 1, true); // sform_code
  const srow = [[-SPACING[0], 0, 0, 180], [0, -SPACING[1], 0, 180], [0, 0, SPACING[2], -150]];
  srow.forEach((row, r) => row.forEach((v, c) => dv.setFloat32(280 + 16 * r + 4 * c, v, true)));
  new Uint8Array(header).set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  const data = new Int16Array(NX * NY * NZ);
  let o = 0;
  for (let k = 0; k < NZ; k++) for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++, o++) {
    const dx = (i - 256) / 200, dy = (j - 256) / 150;
    const r = dx * dx + dy * dy;
    data[o] = r > 1 ? -1000 : r > 0.9 ? 900 : 40 + ((i * 7 + j * 13 + k * 3) % 41) - 20;
  }
  const whole = new Uint8Array(352 + data.byteLength);
  whole.set(new Uint8Array(header), 0);
  whole.set(new Uint8Array(data.buffer), 352);
  const gz = gzipSync(whole, { level: 1 });
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}

export default async function run(opts: BenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lesionlab-bench-editor-'));
  try {
    const imagePath = join(dir, 'ct_big.nii.gz');
    writeFileSync(imagePath, phantomNifti());
    const figures: Record<string, number> = { fileMB: Math.round(statSync(imagePath).size / 1e5) / 10 };

    let t0 = performance.now();
    const session = await LabelSession.open(imagePath);
    figures.openMs = ms(t0);
    t0 = performance.now();
    intensityStats(session.image.data);
    figures.statsMs = ms(t0);
    t0 = performance.now();
    toWireVoxels(session.image.data, { shareWholeBuffer: true });
    // A new mask travels as an empty buffer; the check is what it costs.
    if (!isAllZero(session.labels)) throw new Error('bench: expected an empty mask');
    figures.wireBuffersMs = ms(t0);
    const labelsCopy = new Uint8Array(session.labels);
    figures.hostInitTotalMs = Math.round((figures.openMs + figures.statsMs + figures.wireBuffersMs) * 10) / 10;

    // One brush stroke: a 10 mm disc dragged across 40 positions of slice 150.
    t0 = performance.now();
    const rec = new LabelDeltaRecorder(labelsCopy);
    const k = 150, rMm = 10;
    for (let step = 0; step < 40; step++) {
      const ci = 150 + step * 4, cj = 256;
      const ri = Math.ceil(rMm / SPACING[0]), rj = Math.ceil(rMm / SPACING[1]);
      for (let j = cj - rj; j <= cj + rj; j++) for (let i = ci - ri; i <= ci + ri; i++) {
        const dx = (i - ci) * SPACING[0], dy = (j - cj) * SPACING[1];
        if (dx * dx + dy * dy <= rMm * rMm) rec.set(i + NX * (j + NY * k), 1);
      }
    }
    const delta = rec.finish();
    figures.strokeRecordMs = ms(t0);
    figures.strokeVoxels = delta.before.length;
    t0 = performance.now();
    const wire = deltaToWire(delta);
    figures.strokeWireBytes = wire.runs.byteLength + wire.before.byteLength + wire.after.byteLength;
    const decoded = deltaFromWire(structuredClone(wire), NX * NY * NZ);
    session.model.applyVoxelEdit('Brush', decoded);
    figures.strokeHostApplyMs = ms(t0);

    t0 = performance.now();
    await session.save();
    figures.saveMs = ms(t0);

    if (opts.json) console.log(JSON.stringify({ part: 'editor-host', ...figures }));
    else for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(20)} ${value}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
