// The same anatomy must look the same whatever the file's axis order and flips: the 48 files of
// niivue's nifti_space hold one image in every orientation; all must render identical pixels.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { OUTPUT_DIR, crop, launchChromium, openHarness, savePng, volumeFromNifti, type Harness } from './harness';

const DIR = ['odd', 'niivue', 'nifti_space'];
const skip = skipWithoutSharedData(...DIR);
let browser: Browser;
let h: Harness;

before(async () => {
  if (skip) return;
  try {
    for (const f of readdirSync(OUTPUT_DIR)) if (f.startsWith('nifti_space-')) rmSync(join(OUTPUT_DIR, f));
  } catch {
    // No output folder yet.
  }
  browser = await launchChromium();
  h = await openHarness(browser, { width: 400, height: 400 });
});
after(async () => {
  await h?.close();
  await browser?.close();
});

type Rects = Record<string, { x: number; y: number; width: number; height: number }>;

test('all 48 nifti_space orientations render the same slice pixels', { skip }, async () => {
  const files = readdirSync(sharedDataPath(...DIR)).filter((f) => f.endsWith('.nii.gz')).sort();
  assert.equal(files.length, 48);
  // The toolbar and label table take room; the views area is what counts.
  let reference: { file: string; views: Record<string, Uint8Array> } | null = null;
  const mismatches: string[] = [];
  for (const file of files) {
    await h.load(await volumeFromNifti(sharedDataPath(...DIR, file)));
    const rects = (await h.page.evaluate(() => (window as any).lesionLab.viewer.viewRects())) as Rects;
    const canvasBox = await h.page.evaluate(() => {
      const r = document.querySelector('canvas.ll-canvas')!.getBoundingClientRect();
      return { x: r.left, y: r.top };
    });
    void canvasBox;
    const px = await h.pixels();
    const views: Record<string, Uint8Array> = {};
    for (const kind of ['axial', 'coronal', 'sagittal']) views[kind] = crop(px, rects[kind]);
    if (!reference) {
      reference = { file, views };
      // The picture must not be empty: the brain is there.
      const bright = countBright(views.axial);
      assert.ok(bright > 1000, `axial view of ${file} shows ${bright} bright pixels; expected the brain`);
      for (const kind of ['axial', 'coronal', 'sagittal']) savePng(`nifti_space-${kind}-${file.slice(0, 3)}`, rects[kind].width, rects[kind].height, views[kind]);
      await h.screenshot(`nifti_space-${file.slice(0, 3)}`);
      continue;
    }
    for (const kind of ['axial', 'coronal', 'sagittal']) {
      const diff = countDiff(views[kind], reference.views[kind]);
      if (diff > 0) {
        mismatches.push(`${file} ${kind}: ${diff} pixels differ from ${reference.file}`);
        savePng(`nifti_space-${kind}-${file.slice(0, 3)}-MISMATCH`, rects[kind].width, rects[kind].height, views[kind]);
      }
    }
  }
  assert.deepEqual(mismatches, []);
});

function countBright(rgba: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i] > 60 && rgba[i] === rgba[i + 1]) n++;
  return n;
}

function countDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}

test('oblique images show a visible warning with the angle and still render', { skip: skipWithoutSharedData('odd', 'niivue_flair_drawing') }, async () => {
  await h.load(await volumeFromNifti(sharedDataPath('odd', 'niivue_flair_drawing', 'FLAIR.nii.gz'), sharedDataPath('odd', 'niivue_flair_drawing', 'lesion.nii.gz')));
  const warning = await h.page.evaluate(() => {
    const w = document.querySelector('.ll-warning') as HTMLElement;
    return { hidden: w.hidden, text: w.textContent };
  });
  assert.equal(warning.hidden, false);
  assert.match(warning.text ?? '', /Oblique image \(19\.0° from the scanner axes\): shown in voxel space/);
  const rects = (await h.page.evaluate(() => (window as any).lesionLab.viewer.viewRects())) as Rects;
  const axial = crop(await h.pixels(), rects.axial);
  assert.ok(countBright(axial) > 500, 'the oblique image is drawn');
  // The demo drawing's labels 1–3 are listed in the label table.
  const rows = await h.page.evaluate(() => Array.from(document.querySelectorAll('.ll-label-row')).map((r) => (r as HTMLElement).dataset.value));
  assert.deepEqual(rows, ['1', '2', '3']);
  await h.screenshot('oblique-flair-warning');
  // An axis-aligned image has no warning.
  await h.load(await volumeFromNifti(sharedDataPath(...DIR, 'RAS.nii.gz')));
  assert.equal(await h.page.evaluate(() => (document.querySelector('.ll-warning') as HTMLElement).hidden), true);
});
