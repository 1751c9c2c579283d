// The starter models shipped in media/models as Select Model and the first Segment Lesion offer
// them: one entry per task starter (task and modality, held-out Dice from its card), the one
// suggested for the image first and marked; a bad card is reported by its file and left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { heldOutText, listShippedStarters, shippedStarterLocator, starterPickItems, suggestStarter, suggestStarterForCases } from '../../src/ml/starterModels';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';
import { STARTER_TASKS, starterForCases } from '../../src/ml/starterChoice';
import type { Vec3 } from '../../src/volume/vec3';
import { tempDir } from '../helpers/tempDir';
import { writeHeadImage } from '../helpers/headImage';
import { readNifti } from '../../src/nifti';

const REPO = resolve(__dirname, '../..');
const MODELS = join(REPO, 'media/models');
// The starters chooseStarterTask suggests, and the brain-tumour one that fine-tuning picks for whole tumours on FLAIR.
const SHIPPED_STARTERS = [...STARTER_TASKS, 'brain-tumour-flair'].sort();

test('listShippedStarters: every task starter in media/models, with the task, modality and held-out Dice of its card', async () => {
  const { starters, problems } = await listShippedStarters(MODELS);
  assert.deepEqual(problems, []);
  assert.deepEqual(starters.map((s) => s.name), SHIPPED_STARTERS, 'the five task starters; media/models/starter names no task');
  for (const s of starters) {
    const card = JSON.parse(readFileSync(join(MODELS, s.name, 'card.json'), 'utf8')) as { task: { modality: string; description: string }; heldOut: { meanDice: number; meanDiceWithPostprocessing?: number; cases: string[] } };
    assert.equal(s.modality, card.task.modality);
    assert.equal(s.description, card.task.description);
    assert.equal(s.heldOutDice, card.heldOut.meanDiceWithPostprocessing ?? card.heldOut.meanDice);
    assert.equal(s.heldOutCaseCount, card.heldOut.cases.length);
  }
  const items = starterPickItems(starters);
  const ct = items.find((i) => i.starter === 'sarcoma-ct')!;
  assert.equal(ct.label, 'Soft-tissue sarcoma (GTV) · CT');
  const ctCard = starters.find((s) => s.name === 'sarcoma-ct')!;
  assert.match(ct.detail, new RegExp(`^held-out Dice ${ctCard.heldOutDice!.toFixed(3)} \\(${ctCard.heldOutCaseCount} cases\\) · soft-tissue sarcoma \\(GTV\\) on CT`));
  assert.equal(items.find((i) => i.starter === 'ms-flair')!.label, 'Multiple-sclerosis white-matter lesions · MR');
  assert.equal(items.find((i) => i.starter === 'sarcoma-pet')!.label, 'Soft-tissue sarcoma (GTV) · PET');
  assert.equal(items.find((i) => i.starter === 'brain-tumour-flair')!.label, 'Whole brain tumours (oedema, core and necrosis) · MR');
  // A card that names its threshold says so (the brain-tumour starter's probabilities run low on real tumours).
  assert.match(items.find((i) => i.starter === 'brain-tumour-flair')!.detail, /^held-out Dice 0\.\d{3} \(4 cases\) · threshold 0\.4 · .*synthetic tumours/);
});

test('starterPickItems: the suggested starter first and marked "suggested"; the active one checked; the rest by name', async () => {
  const { starters } = await listShippedStarters(MODELS);
  for (const suggested of STARTER_TASKS) {
    const items = starterPickItems(starters, { suggested });
    assert.equal(items[0].starter, suggested);
    assert.equal(items[0].description, `${suggested} · suggested`);
    assert.deepEqual(items.slice(1).map((i) => i.starter), SHIPPED_STARTERS.filter((t) => t !== suggested));
    assert.ok(items.slice(1).every((i) => !i.description.includes('suggested')));
  }
  const marked = starterPickItems(starters, { suggested: 'sarcoma-pet', active: 'sarcoma-pet' });
  assert.equal(marked[0].description, 'sarcoma-pet · suggested · active');
  assert.match(marked[0].label, /^\$\(check\) /);
  assert.equal(heldOutText({ heldOutDice: null, heldOutCaseCount: 0 }), 'no held-out figures in its card');
  assert.equal(heldOutText({ heldOutDice: 0.4371, heldOutCaseCount: 3, leaveOneOut: true }), 'leave-one-out Dice 0.437 (3 cases)');
  for (const s of starters) assert.equal(s.leaveOneOut, /^leave-one-out/.test(String((s.card as unknown as { heldOut: { method?: string } }).heldOut.method ?? '')));
});

test('suggestStarter: CT, PET, a whole-brain MR and a cropped MR go to their starters (src/ml/starterChoice.ts)', () => {
  const n = 20 * 20 * 20;
  const dims: Vec3 = [20, 20, 20];
  const ct = { data: Int16Array.from({ length: n }, (_, i) => (i % 3 ? -1000 : 40)), dims, spacingMm: [1, 1, 3] as Vec3 };
  assert.equal(suggestStarter(ct).name, 'sarcoma-ct');
  const pet = { data: Float32Array.from({ length: n }, (_, i) => 0.37 + (i % 7) * 0.53), dims, spacingMm: [4, 4, 3] as Vec3 };
  assert.equal(suggestStarter(pet).name, 'sarcoma-pet');
  const mr = (d: Vec3) => Float32Array.from({ length: d[0] * d[1] * d[2] }, (_, i) => 100 + (i % 13) * 10);
  const brain: Vec3 = [150, 180, 150];
  assert.equal(suggestStarter({ data: mr(brain), dims: brain, spacingMm: [1, 1, 1] }).name, 'ms-flair');
  const crop: Vec3 = [80, 80, 48];
  const cropped = suggestStarter({ data: mr(crop), dims: crop, spacingMm: [1, 1, 1] });
  assert.equal(cropped.name, 'sarcoma-mr-t1', 'an 80 mm MR crop is not a whole brain');
  assert.match(cropped.reason, /not a whole brain/);
});

test('listShippedStarters: a card that cannot be read is reported by its file and left out; the locator refuses what is not shipped', async () => {
  const root = tempDir('ll-shipped-');
  const models = join(root, 'media', 'models');
  mkdirSync(models, { recursive: true });
  cpSync(join(MODELS, 'sarcoma-pet', 'card.json'), join(models, 'sarcoma-pet', 'card.json'));
  // A model that takes more than the image (the Prompt tool's) is no starter, even with a task.
  const prompt = JSON.parse(readFileSync(join(MODELS, 'sarcoma-pet', 'card.json'), 'utf8')) as { network: Record<string, unknown> };
  mkdirSync(join(models, 'prompt'));
  writeFileSync(join(models, 'prompt', 'card.json'), JSON.stringify({ ...prompt, version: 'prompt', network: { ...prompt.network, inChannels: 3 } }));
  mkdirSync(join(models, 'broken'));
  writeFileSync(join(models, 'broken', 'card.json'), '{"format": ');
  const { starters, problems } = await listShippedStarters(models);
  assert.deepEqual(starters.map((s) => s.name), ['sarcoma-pet']);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /broken[/\\]card\.json: not valid JSON/);
  const locator = shippedStarterLocator(root);
  assert.equal(locator.dirOf('sarcoma-pet'), join(models, 'sarcoma-pet'));
  assert.throws(() => locator.dirOf('ms-flair'), /media[/\\]models[/\\]ms-flair is not a starter model shipped with this Lesion Lab/);
  assert.throws(() => locator.dirOf('../models'), /is not a starter model shipped/);
  assert.throws(() => locator.defaultDir(), /starter model not found in media\/models\/starter/);
});

test('starterForCases: fine-tuning on whole brain tumours starts from the brain-tumour starter, on MS-sized lesions from the MS one', async () => {
  const root = tempDir('ll-for-cases-');
  const models = join(root, 'media', 'models');
  const card = (name: string, typicalLesionMm3: number) => {
    const c = JSON.parse(readFileSync(join(MODELS, 'ms-flair', 'card.json'), 'utf8')) as { version: string; training: Record<string, unknown> };
    mkdirSync(join(models, name), { recursive: true });
    writeFileSync(join(models, name, 'card.json'), JSON.stringify({ ...c, version: name, training: { ...c.training, typicalLesionMm3 } }));
  };
  card('ms-flair', 17);
  const brain: Vec3 = [150, 180, 150];
  const flair = { data: Float32Array.from({ length: brain[0] * brain[1] * brain[2] }, (_, i) => 100 + (i % 13) * 10), dims: brain, spacingMm: [1, 1, 1] as Vec3 };
  assert.equal((await starterForCases(flair, 50_000, root)).task, 'ms-flair', 'no brain-tumour starter shipped: the image\'s starter');
  card('brain-tumour-flair', 60_000);
  const tumours = await starterForCases(flair, 50_000, root);
  assert.equal(tumours.task, 'brain-tumour-flair');
  assert.equal(tumours.dir, join(models, 'brain-tumour-flair'));
  assert.match(tumours.reason, /typically 50,000 mm³\) are nearer in size to brain-tumour-flair's \(60,000 mm³\) than to ms-flair's \(17 mm³\)/);
  assert.equal((await starterForCases(flair, 25, root)).task, 'ms-flair', 'MS-sized lesions');
  assert.equal((await starterForCases(flair, 150, root)).task, 'ms-flair', 'under 10× the MS lesions: the same kind');
  assert.equal((await starterForCases(flair, null, root)).task, 'ms-flair', 'masks without lesions');
  const crop: Vec3 = [80, 80, 48];
  const t1 = { data: Float32Array.from({ length: crop[0] * crop[1] * crop[2] }, (_, i) => 100 + (i % 13) * 10), dims: crop, spacingMm: [1, 1, 1] as Vec3 };
  card('sarcoma-mr-t1', 285_000);
  assert.equal((await starterForCases(t1, 50, root)).task, 'sarcoma-mr-t1', 'no other starter for cropped MR');
});

test('suggestStarterForCases: the editor\'s Fine-tune suggests what fine-tune without --base picks (whole brain tumours on FLAIR: the brain-tumour starter)', async () => {
  const root = tempDir('ll-suggest-cases-');
  for (const [name, typicalLesionMm3] of [['ms-flair', 17], ['brain-tumour-flair', 60_000]] as const) {
    const c = JSON.parse(readFileSync(join(MODELS, 'ms-flair', 'card.json'), 'utf8')) as { version: string; training: Record<string, unknown> };
    mkdirSync(join(root, 'media', 'models', name), { recursive: true });
    writeFileSync(join(root, 'media', 'models', name, 'card.json'), JSON.stringify({ ...c, version: name, training: { ...c.training, typicalLesionMm3 } }));
  }
  const dims = [100, 110, 100];
  const image = Int16Array.from({ length: dims[0] * dims[1] * dims[2] }, (_, i) => 100 + (i % 13) * 10);
  const mask = new Uint8Array(image.length);
  for (let z = 30; z < 62; z++) for (let y = 30; y < 70; y++) for (let x = 30; x < 70; x++) mask[(z * dims[1] + y) * dims[0] + x] = 1;
  const pixdim = [1, 1, 1, 1, 1, 0, 0, 0];
  const pair = { imagePath: join(root, 'flair.nii.gz'), maskPath: join(root, 'flair_seg.nii.gz') };
  writeFileSync(pair.imagePath, gzip(buildNifti({ dim: dims, datatype: 4, bitpix: 16, pixdim, data: bytesOf(image) }).file));
  writeFileSync(pair.maskPath, gzip(buildNifti({ dim: dims, datatype: 2, bitpix: 8, pixdim, data: bytesOf(mask) }).file));
  const s = await suggestStarterForCases([pair], root);
  assert.equal(s.name, 'brain-tumour-flair');
  assert.match(s.reason, /typically 51,200 mm³\) are nearer in size to brain-tumour-flair's/);
});

test('starterForCases: heads with their skull are given to a starter that has seen skull-stripped brains only as their brains alone, or, where no brain can be told, not fine-tuned from it', async () => {
  const root = tempDir('ll-for-heads-');
  const models = join(root, 'media', 'models');
  const card = (name: string, typicalLesionMm3: number, brainImages?: { skullStripped: number; withSkull: number }) => {
    const c = JSON.parse(readFileSync(join(MODELS, 'ms-flair', 'card.json'), 'utf8')) as { version: string; training: Record<string, unknown> };
    mkdirSync(join(models, name), { recursive: true });
    writeFileSync(join(models, name, 'card.json'), JSON.stringify({ ...c, version: name, training: { ...c.training, typicalLesionMm3, brainImages } }));
  };
  card('ms-flair', 17, { skullStripped: 3, withSkull: 0 });
  card('brain-tumour-flair', 60_000, { skullStripped: 40, withSkull: 0 });
  const dir = tempDir('ll-head-image-');
  writeHeadImage(join(dir, 'head.nii.gz'), join(dir, 'mask.nii.gz'));
  const head = await readNifti(join(dir, 'head.nii.gz'));
  assert.equal((await starterForCases(head, 50_000, root)).task, 'brain-tumour-flair', 'no body MR starter shipped: kept');
  card('sarcoma-mr-t1', 285_000);
  const c = await starterForCases(head, 50_000, root);
  assert.equal(c.task, 'sarcoma-mr-t1');
  assert.equal(c.dir, join(models, 'sarcoma-mr-t1'));
  assert.match(c.reason, /^MR of a head .*nearer in size to brain-tumour-flair's .*; but the cases are heads with their skull, brain-tumour-flair has seen skull-stripped brains only, and no brain could be told in the first \(the brain found is \d+ cm³.*\), so fine-tuning starts from sarcoma-mr-t1$/);
  writeHeadImage(join(dir, 'layered.nii.gz'), join(dir, 'mask.nii.gz'), { layers: true });
  const layered = await starterForCases(await readNifti(join(dir, 'layered.nii.gz')), 50_000, root);
  assert.equal(layered.task, 'brain-tumour-flair', 'a head whose brain can be told');
  assert.match(layered.reason, /; the cases are heads with their skull, and brain-tumour-flair has seen skull-stripped brains only, so it is given their brains alone \(stripped by Lesion Lab\)$/);
  assert.equal((await starterForCases(head, null, root)).task, 'sarcoma-mr-t1', 'the MS starter has seen no skull either');
  card('brain-tumour-flair', 60_000, { skullStripped: 40, withSkull: 4 });
  assert.equal((await starterForCases(head, 50_000, root)).task, 'brain-tumour-flair', 'a starter that has seen heads');
  card('brain-tumour-flair', 60_000);
  assert.equal((await starterForCases(head, 50_000, root)).task, 'brain-tumour-flair', 'a card that does not say');
});
