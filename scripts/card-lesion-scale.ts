// `node --import tsx scripts/card-lesion-scale.ts`: writes `training.typicalLesionMm3` into the
// cards of the shipped starters (media/models/*), computed from their training pairs as fine-tuning
// computes it for a new version (src/ml/training/lesionScale.ts, on the training grid), so that
// fine-tuning a starter can tell a new kind of lesion. Needs ../shared/data.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCard, writeCard } from '../src/ml/modelStore';
import { prepareCase } from '../src/ml/training/cases';
import { typicalLesionVolumeMm3 } from '../src/ml/training/lesionScale';
import { DATA_ROOT, ROOT } from './tasks';

async function main(): Promise<void> {
  const models = join(ROOT, 'media/models');
  for (const name of readdirSync(models)) {
    const dir = join(models, name);
    const card = await readCard(dir);
    if (!card.training) continue;
    const cases = [];
    // (The first starter's card names its pairs relative to the MS folder.)
    const root = card.training.pairs.every((p) => existsSync(join(DATA_ROOT, p.imagePath))) ? DATA_ROOT : join(DATA_ROOT, 'ms-flair-mni');
    for (const p of card.training.pairs) {
      const pair = { imagePath: join(root, p.imagePath), maskPath: join(root, p.maskPath) };
      cases.push(await prepareCase(pair, card.preprocessing, false));
    }
    const mm3 = typicalLesionVolumeMm3(cases);
    console.log(`${name}: ${cases.length} training masks, typical lesion ${mm3?.toFixed(1)} mm³`);
    if (mm3 !== null) await writeCard(dir, { ...card, training: { ...card.training, typicalLesionMm3: Math.round(mm3 * 10) / 10 } });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
