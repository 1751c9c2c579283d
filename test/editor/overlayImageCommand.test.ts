// Overlay Another Image (src/editor/overlayImageCommand.ts) with the fake vscode, on a soft-tissue
// sarcoma patient's CT and PET (STS_035; CC BY 3.0): the PET is resampled onto the CT's grid by the
// two affines and sent as the fused image, named, NaN where it does not reach; inside the tumour
// (the same contour on both) its mean SUV is the PET's own; the image itself, and an image of
// another patient (no overlap in scanner space), are refused with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fakeLog, fakeVscode, shownMessages, Uri } from './fakeVscode';
import { fakeProviderSetup } from './fakeProvider';
import { readNifti, writeVolumeLike } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

// Namespace members the modules read must exist before they are imported.
Object.assign(fakeVscode as unknown as Record<string, unknown>, { ProgressLocation: { Notification: 15 } });
const setup = fakeProviderSetup('ll-fusion-');
const STS = ['lesion', 'sarcoma-ct-mr-pet', 'STS_035'] as const;
const FLAIR = ['lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'] as const;

test('a PET over its CT: resampled by the affines, named, NaN beyond its reach, the tumour\'s SUV kept', { skip: skipWithoutSharedData(...STS, 'PET', 'image.nii.gz') || skipWithoutSharedData(...FLAIR) }, async () => {
  const dir = setup.tempDir();
  const ctPath = join(dir, 'sts035_ct.nii.gz');
  const petPath = join(dir, 'sts035_pet.nii.gz');
  copyFileSync(sharedDataPath(...STS, 'CT', 'image.nii.gz'), ctPath);
  copyFileSync(sharedDataPath(...STS, 'PET', 'image.nii.gz'), petPath);
  const { provider } = setup.makeProvider();
  const doc = await setup.open(provider, ctPath);
  const { overlayAnotherImage } = await import('../../src/editor/overlayImageCommand');

  assert.equal(await overlayAnotherImage(fakeLog as never, provider, doc as never, Uri.file(petPath) as never), true);
  const shown = provider.overlayOf(doc, 'fusion');
  assert.ok(shown, 'the fused image is shown (and kept for webviews that open later)');
  assert.equal(shown.name, 'sts035_pet.nii.gz');
  assert.equal(shown.proposal, null);
  const values = new Float32Array(shown.voxels);
  const ct = doc.session!.image;
  assert.equal(values.length, ct.data.length);
  const nan = values.filter((v) => Number.isNaN(v)).length;
  assert.ok(nan > 0 && nan < values.length / 2, `the PET's field of view covers most of the CT crop (${nan} of ${values.length} voxels beyond it)`);
  assert.match(shownMessages.at(-1)?.text ?? '', /^Lesion Lab: sts035_pet\.nii\.gz shown over sts035_ct\.nii\.gz; it covers \d+ % of the image\./);
  // Its colours start at the median SUV and end at the 99.5th percentile.
  assert.ok(shown.range[0] < shown.range[1] && shown.range[1] < 30, `range ${shown.range}`);

  // The tumour's mean SUV: the PET's own voxels in its mask against the fused values in the CT's.
  const meanIn = (data: ArrayLike<number>, mask: ArrayLike<number>): number => {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0 || !Number.isFinite(data[i])) continue;
      sum += data[i];
      n++;
    }
    return sum / n;
  };
  const pet = await readNifti(petPath);
  const own = meanIn(pet.data, (await readNifti(sharedDataPath(...STS, 'PET', 'mask.nii.gz'))).data);
  const fused = meanIn(values, (await readNifti(sharedDataPath(...STS, 'CT', 'mask.nii.gz'))).data);
  assert.ok(Math.abs(fused - own) < 0.1 * own, `mean tumour SUV ${fused.toFixed(2)} fused against ${own.toFixed(2)} in the PET`);

  // Refused: the image itself; an image of another patient, elsewhere in scanner space.
  assert.equal(await overlayAnotherImage(fakeLog as never, provider, doc as never, Uri.file(ctPath) as never), false);
  assert.match(shownMessages.at(-1)?.text ?? '', /sts035_ct\.nii\.gz is the image itself/);
  assert.equal(await overlayAnotherImage(fakeLog as never, provider, doc as never, Uri.file(sharedDataPath(...FLAIR)) as never), false);
  assert.match(shownMessages.at(-1)?.text ?? '', /does not overlap sts035_ct\.nii\.gz in scanner coordinates/);
  assert.equal(provider.overlayOf(doc, 'fusion'), shown, 'a refused image leaves the fused one');
  provider.clearOverlay(doc, 'fusion');
  assert.equal(provider.overlayOf(doc, 'fusion'), undefined);

  // From the command: the open dialog starts in the image's folder; cancelling it changes nothing.
  const asked: { defaultUri?: { fsPath: string } }[] = [];
  const answers = [undefined, [Uri.file(petPath)]];
  Object.assign(fakeVscode.window, { showOpenDialog: async (options: { defaultUri?: { fsPath: string } }) => (asked.push(options), answers.shift()) });
  assert.equal(await overlayAnotherImage(fakeLog as never, provider, doc as never), false);
  assert.equal(provider.overlayOf(doc, 'fusion'), undefined);
  assert.equal(await overlayAnotherImage(fakeLog as never, provider, doc as never), true);
  assert.equal(provider.overlayOf(doc, 'fusion')?.name, 'sts035_pet.nii.gz');
  assert.deepEqual(asked.map((o) => o.defaultUri?.fsPath), [dir, dir]);
});

test('a reopened image gets its fused image back; Remove, or the file gone, forgets it', { skip: skipWithoutSharedData(...STS, 'PET', 'image.nii.gz') }, async () => {
  const dir = setup.tempDir();
  const ctPath = join(dir, 'sts035_ct_again.nii.gz');
  const petPath = join(dir, 'sts035_pet_again.nii.gz');
  copyFileSync(sharedDataPath(...STS, 'CT', 'image.nii.gz'), ctPath);
  copyFileSync(sharedDataPath(...STS, 'PET', 'image.nii.gz'), petPath);
  const stored = new Map<string, unknown>();
  const memento = { get: (key: string) => stored.get(key), update: async (key: string, value: unknown) => void stored.set(key, value), keys: () => [...stored.keys()] };
  const { overlayAnotherImage, removeOverlayImage, restoreOverlayImage, fusedImageOf } = await import('../../src/editor/overlayImageCommand');
  const { provider } = setup.makeProvider();

  const first = await setup.open(provider, ctPath);
  assert.equal(await restoreOverlayImage(fakeLog as never, provider, first as never, memento as never), false, 'nothing fused yet');
  assert.equal(await overlayAnotherImage(fakeLog as never, provider, first as never, Uri.file(petPath) as never, { memento: memento as never }), true);
  first.dispose();

  // Reopened (a new document of the same file): the PET is back, without a notification.
  const second = await setup.open(provider, ctPath);
  const messagesBefore = shownMessages.length;
  assert.equal(await restoreOverlayImage(fakeLog as never, provider, second as never, memento as never), true);
  assert.equal(provider.overlayOf(second, 'fusion')?.name, 'sts035_pet_again.nii.gz');
  assert.equal(fusedImageOf(second)?.path, petPath, 'Segment Lesion asks it for its opinion again');
  assert.equal(shownMessages.length, messagesBefore, 'restored quietly');
  assert.ok(fakeLog.lines.some((l) => l.includes('shown over it again')));

  // Removed: the next open does not bring it back.
  await removeOverlayImage(provider, second, memento as never);
  second.dispose();
  const third = await setup.open(provider, ctPath);
  assert.equal(await restoreOverlayImage(fakeLog as never, provider, third as never, memento as never), false);
  assert.equal(provider.overlayOf(third, 'fusion'), undefined);

  // Fused again, then the PET deleted: the open goes on without it, and it is forgotten.
  assert.equal(await overlayAnotherImage(fakeLog as never, provider, third as never, Uri.file(petPath) as never, { memento: memento as never }), true);
  third.dispose();
  rmSync(petPath);
  const fourth = await setup.open(provider, ctPath);
  assert.equal(await restoreOverlayImage(fakeLog as never, provider, fourth as never, memento as never), false);
  assert.ok(fakeLog.lines.some((l) => l.includes('sts035_pet_again.nii.gz) is gone; not restored')));
  assert.deepEqual(stored.get('lesionLab.fusedImages'), {});
  fourth.dispose();
});

test('an image of "another session" 300 mm off: refused with Register rigidly, which aligns it; kept on reopening; Register again stays', { skip: skipWithoutSharedData(...STS, 'CT', 'image.nii.gz') }, async () => {
  const dir = setup.tempDir();
  const ctPath = join(dir, 'sts035_ct_baseline.nii.gz');
  const laterPath = join(dir, 'sts035_ct_later.nii.gz');
  copyFileSync(sharedDataPath(...STS, 'CT', 'image.nii.gz'), ctPath);
  // The same CT written with its affine moved 300 mm and turned 6° about its centre: what a scan of
  // another day looks like to the affines.
  const ct = await readNifti(ctPath);
  const a = ct.affine;
  const centre = [0, 1, 2].map((r) => a[4 * r] * (ct.dims[0] - 1) / 2 + a[4 * r + 1] * (ct.dims[1] - 1) / 2 + a[4 * r + 2] * (ct.dims[2] - 1) / 2 + a[4 * r + 3]);
  const t = (6 * Math.PI) / 180;
  const R = [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1];
  const moved: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) moved.push(R[3 * r] * a[c] + R[3 * r + 1] * a[4 + c] + R[3 * r + 2] * a[8 + c]);
    moved.push(R[3 * r] * (a[3] - centre[0]) + R[3 * r + 1] * (a[7] - centre[1]) + R[3 * r + 2] * (a[11] - centre[2]) + centre[r] + [300, 20, -10][r]);
  }
  await writeVolumeLike({ ...ct, header: { ...ct.header, qformCode: 0, sformCode: 1, srow: moved } }, Float32Array.from(ct.data), laterPath);
  const cornerErrorMm = (b: ArrayLike<number>): number => {
    let worst = 0;
    for (const i of [0, ct.dims[0] - 1]) for (const j of [0, ct.dims[1] - 1]) for (const k of [0, ct.dims[2] - 1]) {
      const d = [0, 1, 2].map((r) => (b[4 * r] - a[4 * r]) * i + (b[4 * r + 1] - a[4 * r + 1]) * j + (b[4 * r + 2] - a[4 * r + 2]) * k + b[4 * r + 3] - a[4 * r + 3]);
      worst = Math.max(worst, Math.hypot(d[0], d[1], d[2]));
    }
    return worst;
  };

  const stored = new Map<string, unknown>();
  const memento = { get: (key: string) => stored.get(key), update: async (key: string, value: unknown) => void stored.set(key, value), keys: () => [...stored.keys()] };
  const { overlayAnotherImage, registerOverlayImage, restoreOverlayImage, fusedImageOf } = await import('../../src/editor/overlayImageCommand');
  const { provider } = setup.makeProvider();
  const doc = await setup.open(provider, ctPath);
  const errors: string[] = [];
  const answer: { button?: string } = {};
  Object.assign(fakeVscode.window, {
    showErrorMessage: async (text: string, ...buttons: string[]) => (errors.push(text), answer.button && buttons.includes(answer.button) ? answer.button : undefined),
    withProgress: async (_opts: unknown, task: (p: unknown) => Promise<unknown>) => task({ report() {} }),
  });

  // Dismissed: nothing is shown.
  assert.equal(await overlayAnotherImage(fakeLog as never, provider, doc as never, Uri.file(laterPath) as never, { memento: memento as never }), false);
  assert.match(errors.at(-1)!, /sts035_ct_later\.nii\.gz does not overlap sts035_ct_baseline\.nii\.gz in scanner coordinates.*Register rigidly aligns it/);
  assert.equal(provider.overlayOf(doc, 'fusion'), undefined);

  // Register rigidly: aligned to a fraction of a voxel, and the fused values are the CT's own.
  answer.button = 'Register rigidly';
  const nErr = errors.length;
  const registeredOk = await overlayAnotherImage(fakeLog as never, provider, doc as never, Uri.file(laterPath) as never, { memento: memento as never });
  assert.deepEqual(errors.slice(nErr + 1), []);
  assert.equal(registeredOk, true);
  const placed = fusedImageOf(doc)?.registeredAffine;
  assert.ok(placed, 'the registration is kept with the fused image');
  assert.ok(cornerErrorMm(placed) < 0.5, `corners within ${cornerErrorMm(placed).toFixed(2)} mm of the baseline's`);
  const values = new Float32Array(provider.overlayOf(doc, 'fusion')!.voxels);
  let diff = 0;
  let n = 0;
  for (let v = 0; v < values.length; v++) {
    if (!Number.isFinite(values[v])) continue;
    diff += Math.abs(values[v] - ct.data[v]);
    n++;
  }
  assert.ok(n > 0.9 * values.length && diff / n < 15, `mean |fused − CT| ${(diff / n).toFixed(1)} HU over ${n} voxels`);
  assert.match(shownMessages.at(-1)?.text ?? '', /sts035_ct_later\.nii\.gz registered rigidly: rotation \(.*\)°, translation \(.*\) mm; normalised mutual information/);

  // Reopened: shown where Register put it.
  doc.dispose();
  const again = await setup.open(provider, ctPath);
  assert.equal(await restoreOverlayImage(fakeLog as never, provider, again as never, memento as never), true);
  assert.deepEqual(fusedImageOf(again)?.registeredAffine, placed);
  assert.deepEqual(new Float32Array(provider.overlayOf(again, 'fusion')!.voxels), values);

  // Register again from there: it stays put.
  assert.equal(await registerOverlayImage(fakeLog as never, provider, again as never, memento as never), true);
  assert.ok(cornerErrorMm(fusedImageOf(again)!.registeredAffine!) < 0.5);
  again.dispose();
  // Nothing fused: Register says what to do first.
  const third = await setup.open(provider, ctPath);
  assert.equal(await registerOverlayImage(fakeLog as never, provider, third as never), false);
  assert.match(errors.at(-1)!, /no image is fused over sts035_ct_baseline\.nii\.gz; Overlay… one first/);
  third.dispose();
});
