// `node --import tsx scripts/compare-prompt-methods.ts MODEL_DIR MR_T1,CT`: the robot user (5 clicks)
// on the held-out sarcoma patients (odd STS_011..STS_039) with two methods in the same run: the
// star-shaped method for every click, and "hybrid": the star-shaped first click, then the prompt
// model refining the object so far with all clicks. Prints Dice per click and the means
// (docs/interactive-segmentation.md, "The learned prompt model").
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readNifti } from '../src/nifti';
import { initBackend } from '../src/ml/backend';
import { loadPromptModel, segmentWithPromptModel } from '../src/ml/promptModel';
import { runRobotSession } from '../src/interactive/robotUser';
import { segmentFromPrompts } from '../src/interactive';
(async () => {
  await initBackend({ preferred: 'auto' });
  const m = await loadPromptModel(process.argv[2]);
  if (!process.argv[2] || !process.argv[3]) throw new Error('usage: compare-prompt-methods.ts MODEL_DIR MR_T1,CT,PET');
  const mods = process.argv[3].split(',');
  const sums: Record<string, number[]> = { star: [0, 0, 0, 0, 0], hybrid: [0, 0, 0, 0, 0] };
  let n = 0;
  for (let p = 11; p <= 39; p += 2) for (const mod of mods) {
    const d = resolve(__dirname, `../../shared/data/lesion/sarcoma-ct-mr-pet/STS_0${p}/${mod}`);
    if (!existsSync(`${d}/image.nii.gz`)) continue;
    const im = await readNifti(`${d}/image.nii.gz`);
    const mk = await readNifti(`${d}/mask.nii.gz`);
    const ref = Uint8Array.from(mk.data as ArrayLike<number>, (v) => (v ? 1 : 0));
    const vol = { values: im.data, dims: im.dims, spacingMm: im.spacingMm };
    const line: string[] = [];
    for (const method of ['star', 'hybrid']) {
      const steps = runRobotSession({ dims: im.dims, spacingMm: im.spacingMm, reference: ref, clicks: 5, segment: (points, previous) =>
        method === 'star' || !previous ? segmentFromPrompts(vol, { points, boxes: [] }, { previous: previous ?? undefined }).mask
          : segmentWithPromptModel(m, vol, { points, boxes: [] }, previous).mask });
      steps.forEach((s, i) => (sums[method][i] += s.dice));
      line.push(`${method} ${steps.map((s) => s.dice.toFixed(3)).join(' ')}`);
    }
    n++;
    console.log(p, mod, line.join(' | '));
  }
  for (const k of Object.keys(sums)) console.log(k, sums[k].map((x) => (x / n).toFixed(3)).join(' '));
})().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
