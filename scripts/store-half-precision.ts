// `node --import tsx scripts/store-half-precision.ts --dir media/models/NAME [--task TASK]`:
// stores a shipped model's weights in half precision (half the bytes in the .vsix), after checking
// on the task's held-out cases (flip TTA, the card's post-processing, as Segment Lesion) that no
// case's Dice moves by more than 0.005. The card records both figures (`weightPrecisionCheck`).
// Training and fine-tuned versions stay float32; a fine-tuned version of this model is saved in
// float32 again.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { initBackend } from '../src/ml/backend';
import { DEFAULT_TTA_FLIPS, loadSegmentationModel } from '../src/ml/inference';
import { readCard, writeCard, type ModelCard } from '../src/ml/modelStore';
import { MODEL_JSON, WEIGHTS_BIN, type UNet3d } from '../src/ml/network';
import { arg, scoreHeldOut, task, TASK_NAMES, type TaskName } from './tasks';

const MAX_CASE_DICE_CHANGE = 0.005;

async function main(): Promise<void> {
  const dirArg = arg('dir');
  if (!dirArg) throw new Error('--dir DIR (a model folder: model.json, weights.bin, card.json) is required');
  const dir = resolve(dirArg);
  const card = (await readCard(dir)) as ModelCard & { task?: { name?: string } };
  const taskName = (arg('task') ?? card.task?.name) as TaskName;
  if (!TASK_NAMES.includes(taskName)) throw new Error(`${dir}: --task must name the task whose held-out cases check it (${TASK_NAMES.join(', ')}), got ${taskName}`);
  const heldOut = task(taskName).heldOut;
  if (heldOut.length === 0) throw new Error(`${taskName} has no held-out cases to check the half-precision weights on`);
  const modelJson = JSON.parse(await fsp.readFile(join(dir, MODEL_JSON), 'utf8')) as { weightsManifest?: { weights?: { quantization?: unknown }[] }[] };
  if (modelJson.weightsManifest?.[0]?.weights?.[0]?.quantization) {
    console.log(`${dir}: already stored in half precision`);
    return;
  }
  await initBackend({ preferred: 'wasm' });
  const full = await loadSegmentationModel(dir);
  const before = await scoreHeldOut(full, heldOut, DEFAULT_TTA_FLIPS);
  const staging = await fsp.mkdtemp(join(dir, '..', '.half-'));
  try {
    await (full.network as UNet3d).save(staging, 'float16');
    full.network.dispose();
    await fsp.copyFile(join(dir, 'card.json'), join(staging, 'card.json'));
    const half = await loadSegmentationModel(staging);
    const after = await scoreHeldOut(half, heldOut, DEFAULT_TTA_FLIPS);
    half.network.dispose();
    const changes = before.rows.map((r, i) => ({ case: r.case, float32: r.dice, float16: after.rows[i].dice }));
    for (const c of changes) console.log(`${c.case}: Dice ${c.float32.toFixed(4)} (float32) → ${c.float16.toFixed(4)} (float16)`);
    const worst = Math.max(...changes.map((c) => Math.abs(c.float16 - c.float32)));
    console.log(`mean Dice ${before.meanDice.toFixed(4)} → ${after.meanDice.toFixed(4)}; largest change of a case ${worst.toFixed(4)}`);
    if (worst > MAX_CASE_DICE_CHANGE) throw new Error(`${dir}: half precision changes a case's Dice by ${worst.toFixed(4)} (> ${MAX_CASE_DICE_CHANGE}); the weights stay float32`);
    const sizes = await Promise.all([fsp.stat(join(dir, WEIGHTS_BIN)), fsp.stat(join(staging, WEIGHTS_BIN))]);
    // weights.bin first, then model.json: both renames are atomic, and the folder is consistent again once model.json lands.
    await fsp.rename(join(staging, WEIGHTS_BIN), join(dir, WEIGHTS_BIN));
    await fsp.rename(join(staging, MODEL_JSON), join(dir, MODEL_JSON));
    const checked: ModelCard & Record<string, unknown> = {
      ...card,
      weightPrecisionCheck: {
        precision: 'float16',
        heldOutCases: changes.length,
        meanDiceFloat32: round(before.meanDice),
        meanDiceFloat16: round(after.meanDice),
        largestCaseDiceChange: round(worst),
      },
    };
    await writeCard(dir, checked);
    console.log(`${dir}: weights.bin ${sizes[0].size} → ${sizes[1].size} bytes`);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

const round = (v: number): number => Math.round(v * 10_000) / 10_000;

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
