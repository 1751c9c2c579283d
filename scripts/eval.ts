// `npm run eval [-- --tasks sarcoma-ct,sarcoma-mr-t1,sarcoma-pet,ms-flair] [--tta none|lr]`:
// scores each shipped starter model (media/models/<task>/) on its task's fixed held-out cases,
// which it never saw: Dice, precision, recall, lesion-wise F1 and the 95th-percentile Hausdorff
// distance (mm, on the source grid), next to the PyTorch reference recipe's figures on the same
// split where docs/reference-results.json has them (written by scripts/run-reference.sh).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti } from '../src/nifti';
import { initBackend } from '../src/ml/backend';
import { DEFAULT_TTA_FLIPS, loadSegmentationModel, segmentVolume } from '../src/ml/inference';
import { hausdorff95, lesionWiseF1, overlapScores } from '../src/ml/metrics';
import { arg, caseName, ROOT, task, TASK_NAMES, type TaskName } from './tasks';

const fmt = (v: number | null): string => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(3));

async function main(): Promise<void> {
  const names = (arg('tasks') ?? TASK_NAMES.join(',')).split(',') as TaskName[];
  const flips = arg('tta') === 'none' ? [[]] : DEFAULT_TTA_FLIPS;
  const backend = await initBackend({ preferred: (arg('backend') as 'wasm' | 'cpu' | undefined) ?? 'auto' });
  console.log(`backend: ${backend.name} (${backend.reason}); flip TTA ${flips.length > 1 ? 'left-right' : 'none'}, threshold 0.5`);
  const refPath = join(ROOT, 'docs/reference-results.json');
  const reference = existsSync(refPath) ? (JSON.parse(readFileSync(refPath, 'utf8')) as Record<string, { meanDice: number; minutes: number; steps: number }>) : {};
  console.log('\n| task | held-out cases | Dice | precision | recall | lesion F1 | HD95 mm | segment s/case | PyTorch reference Dice (budget) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    if (!TASK_NAMES.includes(name)) throw new Error(`unknown task ${name}; known: ${TASK_NAMES.join(', ')}`);
    const t = task(name);
    const dir = join(ROOT, 'media/models', name);
    if (!existsSync(join(dir, 'card.json'))) {
      console.log(`| ${name} | - | no model in media/models/${name} | | | | | | |`);
      continue;
    }
    const model = await loadSegmentationModel(dir);
    const rows: { dice: number; precision: number; recall: number; f1: number; hd95: number | null; s: number }[] = [];
    for (const p of t.heldOut) {
      const image = await readNifti(p.imagePath);
      const mask = await readNifti(p.maskPath);
      const t0 = Date.now();
      const seg = await segmentVolume(image, model, { ttaFlips: flips });
      const s = (Date.now() - t0) / 1000;
      const o = overlapScores(seg.labels, mask.data);
      const f = lesionWiseF1(seg.labels, mask.data, mask.dims);
      const hd = hausdorff95(seg.labels, mask.data, mask.dims, mask.spacingMm);
      rows.push({ dice: o.dice, precision: o.precision ?? 0, recall: o.recall ?? 0, f1: f.f1, hd95: hd, s });
      console.error(`  ${name} ${caseName(p.imagePath)}: Dice ${fmt(o.dice)} precision ${fmt(o.precision)} recall ${fmt(o.recall)} lesion F1 ${fmt(f.f1)} HD95 ${fmt(hd)} mm (${s.toFixed(1)} s)`);
    }
    model.network.dispose();
    const mean = (f: (r: (typeof rows)[number]) => number | null): number | null => {
      const v = rows.map(f).filter((x): x is number => x !== null);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    };
    const ref = reference[name];
    console.log(
      `| ${name} | ${rows.length} | ${fmt(mean((r) => r.dice))} | ${fmt(mean((r) => r.precision))} | ${fmt(mean((r) => r.recall))} | ${fmt(mean((r) => r.f1))} | ` +
        `${fmt(mean((r) => r.hd95))} | ${fmt(mean((r) => r.s))} | ${ref ? `${ref.meanDice.toFixed(3)} (${ref.minutes} min, ${ref.steps} steps)` : 'not run'} |`,
    );
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
