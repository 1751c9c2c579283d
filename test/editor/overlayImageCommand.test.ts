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
import { readNifti } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

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
  const { overlayAnotherImage, removeOverlayImage, restoreOverlayImage, fusedImagePath } = await import('../../src/editor/overlayImageCommand');
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
  assert.equal(fusedImagePath(second), petPath, 'Segment Lesion asks it for its opinion again');
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
