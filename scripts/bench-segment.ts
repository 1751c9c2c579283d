// `node --import tsx scripts/bench-segment.ts [--models a,b]`: Segment Lesion time with flip TTA
// (unflipped + left-right, as the editor runs it) on a 240×240×155 volume at 1 mm (BraTS size; an
// ellipsoid "head" filling most of the grid) for each model in media/models/ (a model that may run
// on larger windows than its card's is timed both ways). The budget is 20 s on 2 cores; on a
// shared machine compare with the load in mind. Last, the time the brain-tumour look adds to the
// starter choice of `segment` without --model on such a brain-sized MR.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/ml/backend';
import { DEFAULT_TTA_FLIPS, loadSegmentationModel, segmentVolume } from '../src/ml/inference';
import { starterForImageContent } from '../src/ml/brainTumourCheck';
import { seededRandom } from '../src/util/random';
import { arg, ROOT } from './tasks';

async function main(): Promise<void> {
  const backend = await initBackend({ preferred: 'wasm' });
  const dims: [number, number, number] = [240, 240, 155];
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const r = seededRandom(3);
  for (let z = 0, v = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, v++) {
        const d = ((x - 120) / 80) ** 2 + ((y - 120) / 100) ** 2 + ((z - 77) / 70) ** 2;
        data[v] = d < 1 ? 400 + 100 * r() + (d < 0.01 ? 300 : 0) : 0;
      }
  const dir = join(ROOT, 'media/models');
  const names = arg('models')?.split(',') ?? readdirSync(dir).filter((n) => existsSync(join(dir, n, 'card.json')));
  console.log(`backend ${backend.name} ${backend.threads} threads; 240×240×155 at 1 mm, flip TTA ${JSON.stringify(DEFAULT_TTA_FLIPS)}`);
  for (const n of names) {
    const model = await loadSegmentationModel(join(dir, n));
    // A network without statistics over the window may run on larger windows (src/ml/inferenceWindow.ts):
    // timed with the card's window too, in the same run, so the two compare under the same load.
    for (const growWindow of model.windowGrowth ? [false, true] : [true]) {
      const t0 = Date.now();
      const seg = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: DEFAULT_TTA_FLIPS, growWindow });
      const which = model.windowGrowth ? (growWindow ? ' (grown window)' : ' (card window)') : '';
      console.log(
        `${n}${which}: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${seg.windowsPredicted}/${seg.windowsTotal} windows of ${seg.windowSize.join('×')} ` +
          `at ${model.preprocessing.targetSpacingMm?.join('×') ?? 'native'} mm`,
      );
    }
    model.network.dispose();
  }
  // What `segment` without --model (and the first question in the editor) adds on a brain MR: the
  // brain-tumour starter's look (src/ml/brainTumourCheck.ts), one pass without flips.
  const t0 = Date.now();
  const look = await starterForImageContent({ data, dims, spacingMm: [1, 1, 1] }, { from: ROOT });
  console.log(`starter choice with the brain-tumour look: ${((Date.now() - t0) / 1000).toFixed(1)} s → ${look.task}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
