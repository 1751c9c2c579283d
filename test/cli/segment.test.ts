import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { readNifti, writeVolumeLike } from '../../src/nifti';
import { parsePair } from '../../src/cli/fineTune';
import { initBackend } from '../../src/ml/backend';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { tinyModel } from '../helpers/tinyModel';
import { HEAD_DIMS, insideHead, writeHeadImage } from '../helpers/headImage';
import { readCard, writeCard, type BrainImageCounts, type ModelCard } from '../../src/ml/modelStore';
import { buildNifti, bytesOf, gzip } from '../nifti/buildNifti';

const MS = ['lesion', 'ms-flair-mni', 'patient19'];
const FLAIR = 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz';
const skip = skipWithoutSharedData(...MS);
const ODD = ['odd', 'generated_valid'];
const skipOdd = skipWithoutSharedData(...ODD, 'ct_axes_permuted_SLP.nii.gz');

before(async () => {
  await initBackend({ preferred: 'wasm' });
});

function collect(): { io: { stdout: (t: string) => void; stderr: (t: string) => void }; out: () => string; err: () => string } {
  let o = '';
  let e = '';
  return { io: { stdout: (t) => (o += t), stderr: (t) => (e += t) }, out: () => o, err: () => e };
}

test('segment: a real 182×218×182 FLAIR gives a mask and probability map on exactly the source grid', { skip }, async () => {
  const dir = tempDir('ll-seg-');
  const model = await tinyModel(dir, { patchSizeVoxels: [96, 96, 96] });
  const image = sharedDataPath(...MS, FLAIR);
  const mask = join(dir, 'mask.nii.gz');
  const prob = join(dir, 'prob.nii.gz');
  const c = collect();
  const code = await runCli(['segment', image, '--model', model, '--out', mask, '--prob', prob, '--tta', 'none', '--backend', 'wasm', '--threshold', '0.3'], c.io);
  assert.equal(code, 0, c.err());
  assert.match(c.out(), /^backend: wasm \(/m);
  assert.match(c.out(), /segmented 182×218×182 in [\d.]+ s \(\d+\/\d+ windows predicted, no TTA\)/);
  const src = await readNifti(image);
  const m = await readNifti(mask);
  const p = await readNifti(prob);
  for (const out of [m, p]) {
    assert.deepEqual(out.dims, src.dims);
    assert.deepEqual(Array.from(out.affine), Array.from(src.affine));
    assert.deepEqual(out.spacingMm, src.spacingMm);
  }
  assert.equal(m.header.datatype, 'uint8');
  assert.equal(p.header.datatype, 'float32');
  // The mask is the thresholded probability (no minimum lesion size was asked for).
  let mismatches = 0;
  for (let i = 0; i < m.data.length; i++) if ((m.data[i] === 1) !== (p.data[i] >= 0.3)) mismatches++;
  assert.equal(mismatches, 0);
  // Outside the brain's bounding box nothing is predicted.
  assert.equal(p.data[0], 0);
});

test('segment without --model uses the starter that suits the image and says which; a model of another modality warns; a 4-D series gives frame 0', async () => {
  // A small CT (HU, integers, air at −1000) and a small body MR on 3 mm slices: before, both got
  // the MS FLAIR starter (a shared sarcoma CT scored Dice 0.002 with it, 0.826 with the CT starter).
  const dir = tempDir('ll-seg-starter-');
  const dims = [40, 40, 16];
  const ct = new Int16Array(dims[0] * dims[1] * dims[2]);
  const mr = new Int16Array(ct.length);
  for (let z = 0, v = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++, v++) {
    const inBody = (x - 20) ** 2 + (y - 20) ** 2 < 15 ** 2;
    ct[v] = inBody ? 40 + ((x * 7 + y * 3 + z) % 9) : -1000;
    mr[v] = inBody ? 300 + ((x * 5 + y + z) % 13) : 0;
  }
  for (const [name, values, task] of [['ct', ct, 'sarcoma-ct'], ['mr', mr, 'sarcoma-mr-t1']] as const) {
    const image = join(dir, `${name}.nii.gz`);
    writeFileSync(image, gzip(buildNifti({ dim: dims, datatype: 4, bitpix: 16, pixdim: [1, 3, 3, 3.3, 1, 0, 0, 0], data: bytesOf(values) }).file));
    const c = collect();
    const code = await runCli(['segment', image, '--out', join(dir, `${name}-mask.nii.gz`), '--tta', 'none', '--backend', 'wasm'], c.io);
    assert.equal(code, 0, c.err());
    assert.match(c.out(), new RegExp(`^starter: ${task}, chosen for the image: ${name === 'ct' ? 'CT' : 'MR'}`, 'm'));
    assert.match(c.out(), new RegExp(`^model: ${task} \\(.*media[\\\\/]models[\\\\/]${task}\\)`, 'm'));
    assert.deepEqual((await readNifti(join(dir, `${name}-mask.nii.gz`))).dims, dims);
  }
  // A model of another modality named with --model: segmented, with a warning that says why.
  const warned = collect();
  assert.equal(await runCli(['segment', join(dir, 'mr.nii.gz'), '--model', join(__dirname, '../../media/models/sarcoma-ct'), '--out', join(dir, 'mr-ct.nii.gz'), '--tta', 'none', '--backend', 'wasm'], warned.io), 0, warned.err());
  assert.match(warned.err(), /^lesion-lab segment: warning: .*mr\.nii\.gz: it has no values below -50 .* so it is not a CT in Hounsfield units, and the model works on CT; its proposal is unlikely to mean anything/m);
  // The CT stored without its rescale intercept (HU + 1024, as a converter that drops scl_inter
  // leaves it) is taken for MR, with a warning that says what it looks like and how to fix it.
  writeFileSync(join(dir, 'ct-raw.nii.gz'), gzip(buildNifti({ dim: dims, datatype: 4, bitpix: 16, pixdim: [1, 3, 3, 3.3, 1, 0, 0, 0], data: bytesOf(ct.map((v) => v + 1024)) }).file));
  const raw = collect();
  assert.equal(await runCli(['segment', join(dir, 'ct-raw.nii.gz'), '--out', join(dir, 'ct-raw-mask.nii.gz'), '--tta', 'none', '--backend', 'wasm'], raw.io), 0, raw.err());
  assert.match(raw.out(), /^starter: sarcoma-mr-t1, chosen for the image: MR/m);
  assert.match(
    raw.err(),
    /^lesion-lab segment: warning: .*ct-raw\.nii\.gz: it looks like a CT stored without its rescale intercept: .*set its header's scl_slope to 1 and scl_inter to −1024; it was segmented as MR by sarcoma-mr-t1$/m,
  );
  // A 4-D series: frame 0 is segmented, on the 3-D grid, and the output says so.
  const series = join(dir, 'series.nii.gz');
  writeFileSync(series, gzip(buildNifti({ dim: [...dims, 2], datatype: 4, bitpix: 16, pixdim: [1, 3, 3, 3.3, 1, 0, 0, 0], data: bytesOf(Int16Array.from([...ct, ...ct])) }).file));
  const c = collect();
  assert.equal(await runCli(['segment', series, '--out', join(dir, 'series-mask.nii.gz'), '--tta', 'none', '--backend', 'wasm'], c.io), 0, c.err());
  assert.match(c.out(), /^note: .*series\.nii\.gz holds 2 3-D frames; only frame 0 is used$/m);
  assert.deepEqual((await readNifti(join(dir, 'series-mask.nii.gz'))).dims, dims);
});

test('segment: a head with its skull, given to a model trained on skull-stripped brains only, is given its brain alone, or segmented with a warning where no brain can be told', async () => {
  const dir = tempDir('ll-seg-skull-');
  const image = join(dir, 'head.nii.gz');
  const layered = join(dir, 'layered.nii.gz');
  writeHeadImage(image, join(dir, 'head-mask.nii.gz'));
  writeHeadImage(layered, join(dir, 'head-mask.nii.gz'), { layers: true });
  const model = await tinyModel(dir, { seed: 5 });
  const out = join(dir, 'head-seg.nii.gz');
  const segmentWith = async (path: string, brainImages: BrainImageCounts | null): Promise<{ out: string; err: string }> => {
    const card = await readCard(model);
    await writeCard(model, { ...card, training: brainImages ? ({ brainImages } as NonNullable<ModelCard['training']>) : null });
    const c = collect();
    rmSync(brainOut, { force: true });
    assert.equal(await runCli(['segment', path, '--model', model, '--out', out, '--brain-mask', brainOut, '--threshold', '0.001', '--tta', 'none', '--backend', 'wasm'], c.io), 0, c.err());
    assert.ok(existsSync(out));
    return { out: c.out(), err: c.err() };
  };
  const brainOut = join(dir, 'brain.nii.gz');
  const skullStrippedOnly = { skullStripped: 40, withSkull: 0 };
  const stripped = await segmentWith(layered, skullStrippedOnly);
  assert.match(stripped.out, /layered\.nii\.gz: it shows a head with its skull, and the model was trained on skull-stripped brains only, so it was given the brain alone \(\d+ cm³, stripped by Lesion Lab\)/);
  assert.doesNotMatch(stripped.err, /warning/);
  // The untrained model marks nearly everything at this threshold, but nothing outside the brain.
  const labels = (await readNifti(out)).data;
  const [nx, ny, nz] = HEAD_DIMS;
  let inBrain = 0;
  let outside = 0;
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        if (!labels[v]) continue;
        if (insideHead(i, j, k, 10)) inBrain++;
        else outside++;
      }
    }
  }
  assert.ok(inBrain > 0, 'lesion voxels in the brain');
  assert.equal(outside, 0, 'none in the scalp and skull');
  // --brain-mask writes the brain the model was given, and every lesion voxel lies in it.
  const brain = (await readNifti(brainOut)).data;
  for (let v = 0; v < labels.length; v++) if (labels[v]) assert.equal(brain[v], 1);
  assert.match(stripped.out, /^wrote .*head-seg\.nii\.gz, .*brain\.nii\.gz$/m);
  assert.match((await segmentWith(image, skullStrippedOnly)).err, /^lesion-lab segment: warning: .*head\.nii\.gz: it shows a head with its skull, but the model was trained on skull-stripped brains only \(40 images\).*; its skull could not be stripped: the brain found is \d+ cm³/m);
  for (const seen of [{ skullStripped: 40, withSkull: 2 }, null]) {
    const r = await segmentWith(layered, seen);
    assert.doesNotMatch(r.out + r.err, /head with its skull/);
    assert.match(r.out, /brain\.nii\.gz was not written: the model was given the image as it is, not a brain stripped from it/);
    assert.ok(!existsSync(brainOut));
  }
});

test('segment: without --threshold the model card\'s threshold is used, and said; --threshold overrides it', async () => {
  const dir = tempDir('ll-seg-threshold-');
  const image = join(dir, 'head.nii.gz');
  writeHeadImage(image, join(dir, 'head-mask.nii.gz'));
  const model = await tinyModel(dir, { seed: 5 });
  const card = await readCard(model);
  const lesionVoxels = async (args: string[]): Promise<{ voxels: number; out: string }> => {
    const c = collect();
    const out = join(dir, `seg-${args.join('')}.nii.gz`);
    assert.equal(await runCli(['segment', image, '--model', model, '--out', out, '--tta', 'none', '--backend', 'wasm', ...args], c.io), 0, c.err());
    return { voxels: Array.from((await readNifti(out)).data).reduce((a, b) => a + b, 0), out: c.out() };
  };
  const atHalf = await lesionVoxels([]);
  assert.doesNotMatch(atHalf.out, /from the model's card/);
  await writeCard(model, { ...card, postprocessing: { threshold: 0.001 } });
  const atCard = await lesionVoxels([]);
  assert.match(atCard.out, /, threshold 0\.001 from the model's card\)/);
  assert.ok(atCard.voxels > atHalf.voxels, `${atCard.voxels} lesion voxels at the card's 0.001, ${atHalf.voxels} at 0.5`);
  const told = await lesionVoxels(['--threshold', '0.5']);
  assert.equal(told.voxels, atHalf.voxels);
  assert.doesNotMatch(told.out, /from the model's card/);
});

test('segment: a CT stored slices-first (odd file, axes S, L, P) gets exactly the mask of the same CT stored L, P, S', { skip: skipOdd }, async () => {
  const dir = tempDir('ll-seg-axes-');
  const masks = [];
  for (const name of ['ct_int16', 'ct_axes_permuted_SLP']) {
    const c = collect();
    const out = join(dir, `${name}_seg.nii.gz`);
    assert.equal(await runCli(['segment', sharedDataPath(...ODD, `${name}.nii.gz`), '--out', out, '--backend', 'wasm'], c.io), 0, c.err());
    assert.match(c.out(), /starter: sarcoma-ct/);
    masks.push(await readNifti(out));
  }
  const [upright, sideways] = masks;
  assert.deepEqual(sideways.dims, [upright.dims[2], upright.dims[0], upright.dims[1]]);
  // Voxel (i, j, k) of the upright CT is voxel (k, i, j) of the slices-first one.
  const [nx, ny, nz] = upright.dims;
  let lesion = 0;
  let differences = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const u = upright.data[i + nx * (j + ny * k)];
        lesion += u;
        if (u !== sideways.data[k + nz * (i + nx * j)]) differences++;
      }
  assert.ok(lesion > 1000, `the CT starter finds the tumour (${lesion} voxels)`);
  assert.equal(differences, 0);
});

test('segment / fine-tune: bad input exits 2 with one clear sentence', async () => {
  const dir = tempDir('ll-seg-bad-');
  const cases: [string[], RegExp][] = [
    [['segment', join(dir, 'missing.nii.gz'), '--out', join(dir, 'm.nii.gz')], /missing.nii.gz: file not found/],
    [['segment', __filename], /--out MASK.nii.gz is required/],
    [['segment', __filename, '--out', join(dir, 'm.nii')], /--out .*m.nii must end in .nii.gz/],
    [['segment', __filename, '--out', join(dir, 'm.nii.gz'), '--model', dir], /is neither a model folder \(no card.json\) nor a model store \(no active.json\)/],
    [['segment', __filename, '--out', join(dir, 'm.nii.gz'), '--threshold', '2'], /--threshold must be a number from 0.001 to 0.999, got "2"/],
    [['segment', __filename, '--out', join(dir, 'm.nii.gz'), '--frobnicate'], /unknown option --frobnicate/],
    [['fine-tune', 'a.nii.gz:b.nii.gz'], /--out STORE_DIR is required/],
    [['fine-tune', '--out', dir], /give at least one IMAGE:MASK pair/],
    [['fine-tune', '--out', dir, 'image-only.nii.gz'], /must be IMAGE:MASK/],
  ];
  for (const [argv, want] of cases) {
    const c = collect();
    const code = await runCli(argv, c.io);
    assert.equal(code, 2, `${argv.join(' ')} → ${code}: ${c.err()}`);
    assert.match(c.err(), want);
    assert.match(c.err(), /^lesion-lab (segment|fine-tune): /);
  }
  // An unreadable image: the NIfTI layer's sentence, exit 2.
  const notNifti = join(dir, 'not.nii.gz');
  writeFileSync(notNifti, 'hello');
  const model = join(dir, 'm');
  mkdirSync(model);
  const c = collect();
  const code = await runCli(['segment', notNifti, '--out', join(dir, 'o.nii.gz'), '--model', await tinyModel(dir, { patchSizeVoxels: [96, 96, 96] }), '--backend', 'cpu'], c.io);
  assert.equal(code, 2, c.err());
  assert.match(c.err(), /^lesion-lab segment: not.nii.gz: /);
  assert.equal(c.err().trim().split('\n').length, 1);
  assert.ok(!existsSync(join(dir, 'o.nii.gz')));
});

test('parsePair splits at the colon before the mask', () => {
  const dir = tempDir('ll-pair-');
  writeFileSync(join(dir, 'a.nii.gz'), '');
  writeFileSync(join(dir, 'b.nii'), '');
  const p = parsePair(`${join(dir, 'a.nii.gz')}:${join(dir, 'b.nii')}`);
  assert.equal(p.imagePath, join(dir, 'a.nii.gz'));
  assert.equal(p.maskPath, join(dir, 'b.nii'));
  assert.throws(() => parsePair(`${join(dir, 'a.nii.gz')}:${join(dir, 'c.nii.gz')}`), /c.nii.gz: file not found/);
  // Other formats, and a DICOM series' folder (an existing path without an image name).
  writeFileSync(join(dir, 'a.mha'), '');
  assert.equal(parsePair(`${join(dir, 'a.mha')}:${join(dir, 'b.nii')}`).imagePath, join(dir, 'a.mha'));
  mkdirSync(join(dir, 'series 1'));
  const series = parsePair(`${join(dir, 'series 1')}:${join(dir, 'b.nii')}`);
  assert.equal(series.imagePath, join(dir, 'series 1'));
  assert.equal(series.maskPath, join(dir, 'b.nii'));
  assert.throws(() => parsePair(`${join(dir, 'nothing')}:${join(dir, 'b.nii')}`), /must be IMAGE:MASK/);
});

test('segment --with: the patient\'s PET, segmented by its own starter, averaged in: the CT proposal of STS_032 gains; same-modality and non-overlapping images are refused', { skip: skipWithoutSharedData('lesion', 'sarcoma-ct-mr-pet', 'STS_032', 'PET', 'image.nii.gz') || skip }, async () => {
  const dir = tempDir('ll-seg-with-');
  const sts = (...p: string[]) => sharedDataPath('lesion', 'sarcoma-ct-mr-pet', 'STS_032', ...p);
  const dice = async (path: string): Promise<number> => {
    const [a, b] = [(await readNifti(path)).data, (await readNifti(sts('CT', 'mask.nii.gz'))).data];
    let both = 0;
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      both += a[i] > 0 && b[i] > 0 ? 1 : 0;
      sum += (a[i] > 0 ? 1 : 0) + (b[i] > 0 ? 1 : 0);
    }
    return (2 * both) / sum;
  };
  const alone = collect();
  assert.equal(await runCli(['segment', sts('CT', 'image.nii.gz'), '--out', join(dir, 'alone.nii.gz'), '--backend', 'wasm'], alone.io), 0, alone.err());
  const withPet = collect();
  assert.equal(await runCli(['segment', sts('CT', 'image.nii.gz'), '--out', join(dir, 'with.nii.gz'), '--with', sts('PET', 'image.nii.gz'), '--backend', 'wasm'], withPet.io), 0, withPet.err());
  assert.match(withPet.out(), /with .*STS_032\/PET\/image\.nii\.gz: its starter sarcoma-pet \(sarcoma-pet\), covering \d+ % of the image; the two probabilities are averaged/);
  const [d0, d1] = [await dice(join(dir, 'alone.nii.gz')), await dice(join(dir, 'with.nii.gz'))];
  // Held out from every starter: 0.61 alone, 0.81 with its PET (docs/training-recipe.md).
  assert.ok(d1 > d0 + 0.1, `Dice with the PET ${d1.toFixed(3)} against ${d0.toFixed(3)} alone`);

  const same = collect();
  assert.equal(await runCli(['segment', sts('CT', 'image.nii.gz'), '--out', join(dir, 'x.nii.gz'), '--with', sts('CT', 'image.nii.gz'), '--backend', 'wasm'], same.io), 2);
  assert.match(same.err(), /image\.nii\.gz suits the same starter as the image \(sarcoma-ct: CT: .*\); a second opinion must come from another modality/);
  const elsewhere = collect();
  assert.equal(await runCli(['segment', sts('CT', 'image.nii.gz'), '--out', join(dir, 'y.nii.gz'), '--with', sharedDataPath(...MS, FLAIR), '--backend', 'wasm'], elsewhere.io), 2);
  assert.match(elsewhere.err(), /FLAIR.*\.nii\.gz does not overlap the image in scanner coordinates/);
  assert.equal(existsSync(join(dir, 'x.nii.gz')) || existsSync(join(dir, 'y.nii.gz')), false, 'nothing written for a refused --with');

  // The PET as another session would place it (300 mm away): refused, unless --register aligns it first.
  const pet = await readNifti(sts('PET', 'image.nii.gz'));
  const srow = Array.from(pet.affine.slice(0, 12), (v, i) => (i === 3 ? v + 300 : i === 7 ? v - 20 : v));
  const awayPath = join(dir, 'pet_away.nii.gz');
  await writeVolumeLike({ ...pet, header: { ...pet.header, qformCode: 0, sformCode: 1, srow } }, Float32Array.from(pet.data), awayPath);
  const away = collect();
  assert.equal(await runCli(['segment', sts('CT', 'image.nii.gz'), '--out', join(dir, 'z.nii.gz'), '--with', awayPath, '--backend', 'wasm'], away.io), 2);
  assert.match(away.err(), /pet_away\.nii\.gz does not overlap the image in scanner coordinates/);
  const registered = collect();
  assert.equal(await runCli(['segment', sts('CT', 'image.nii.gz'), '--out', join(dir, 'registered.nii.gz'), '--with', awayPath, '--register', '--backend', 'wasm'], registered.io), 0, registered.err());
  assert.match(registered.out(), /pet_away\.nii\.gz: registered rigidly: rotation \(.*\)°, translation \(.*\) mm; normalised mutual information/);
  const d2 = await dice(join(dir, 'registered.nii.gz'));
  assert.ok(d2 > d0 + 0.1, `Dice with the registered PET ${d2.toFixed(3)} (with the PET where the scanner put it ${d1.toFixed(3)}, alone ${d0.toFixed(3)})`);
  const noWith = collect();
  assert.equal(await runCli(['segment', sts('CT', 'image.nii.gz'), '--out', join(dir, 'w.nii.gz'), '--register'], noWith.io), 2);
  assert.match(noWith.err(), /--register aligns the --with image: give --with OTHER too/);
});
