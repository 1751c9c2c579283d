// The model overlays in headless Chromium: a probability map (heat colours, its own threshold,
// the proposal outline) and an uncertainty map (its own colormap and threshold) in separate slots,
// each toggled, faded and cleared on its own; the brain outline of a head whose skull was stripped;
// a fused image (another image on this grid: its colormap from its threshold up, nothing where it
// does not reach, its name and value in the readout, Overlay… and Remove posting the host commands);
// the proposal bar's Accept / Reject and the Segment Lesion button post the host commands. Pixels
// are read back from the canvas.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { parseWebviewMessage } from '../../src/protocol/validate';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { crop, inPage, launchChromium, openHarness, pageOfVoxel, syntheticVolume, volumeFromNifti, type Harness } from './harness';

let browser: Browser;
let h: Harness;
const DIMS: [number, number, number] = [64, 48, 32];
const SPACING: [number, number, number] = [1, 1.5, 2];
const [NX, NY, NZ] = DIMS;
const N = NX * NY * NZ;
const SLICE = 16;

before(async () => {
  browser = await launchChromium();
  h = await openHarness(browser, { width: 900, height: 600 });
});
after(async () => {
  await h?.close();
  await browser?.close();
});

type RGB = [number, number, number];

/** RGB of the canvas pixel at a voxel centre of the axial view. */
async function pixelAt(voxel: number[]): Promise<RGB> {
  const [ox, oy] = await h.page.evaluate(() => {
    const r = document.querySelector('canvas.ll-canvas')!.getBoundingClientRect();
    return [r.left, r.top] as [number, number];
  });
  const [px, py] = await pageOfVoxel(h, 'axial', voxel);
  const p = await h.pixels();
  const o = (Math.floor(py - oy) * p.width + Math.floor(px - ox)) * 4;
  return [p.data[o], p.data[o + 1], p.data[o + 2]];
}

/** The canvas pixels on the axial-view segment between two voxel centres (same row). */
async function pixelsBetween(a: number[], b: number[]): Promise<RGB[]> {
  const [ox, oy] = await h.page.evaluate(() => {
    const r = document.querySelector('canvas.ll-canvas')!.getBoundingClientRect();
    return [r.left, r.top] as [number, number];
  });
  const pa = await pageOfVoxel(h, 'axial', a);
  const pb = await pageOfVoxel(h, 'axial', b);
  const p = await h.pixels();
  const y = Math.floor(pa[1] - oy);
  const out: RGB[] = [];
  for (let x = Math.floor(Math.min(pa[0], pb[0]) - ox); x <= Math.floor(Math.max(pa[0], pb[0]) - ox); x++) {
    const o = (y * p.width + x) * 4;
    out.push([p.data[o], p.data[o + 1], p.data[o + 2]]);
  }
  return out;
}

const isGrey = (c: RGB): boolean => Math.abs(c[0] - c[1]) <= 1 && Math.abs(c[1] - c[2]) <= 1;
const isHot = (c: RGB): boolean => c[0] > c[2] + 40;
const isIce = (c: RGB): boolean => c[2] > c[0] + 40;
/** The proposal outline's magenta (neither 'hot' nor 'ice' has it). */
const isOutline = (c: RGB): boolean => c[0] > 200 && c[1] < 100 && c[2] > 200;

/** Probability 0.9 for i < 24, 0.3 for 24 ≤ i < 40, 0 beyond. */
function probabilityMap(): Float32Array {
  const p = new Float32Array(N);
  for (let idx = 0; idx < N; idx++) {
    const i = idx % NX;
    p[idx] = i < 24 ? 0.9 : i < 40 ? 0.3 : 0;
  }
  return p;
}

/** Uncertainty 0.4 for j < 20, 0.02 elsewhere (range [0, 0.5]: the default threshold is 0.05). */
function uncertaintyMap(): Float32Array {
  const u = new Float32Array(N);
  for (let idx = 0; idx < N; idx++) u[idx] = Math.floor(idx / NX) % NY < 20 ? 0.4 : 0.02;
  return u;
}

type Proposal = { modelVersion: string; labelValue: number; threshold: number } | null;

async function sendOverlay(kind: 'probability' | 'uncertainty' | 'brain' | 'fusion', map: Float32Array, range: [number, number], proposal: Proposal = null, name?: string): Promise<void> {
  await h.page.evaluate(
    ({ kind, values, range, proposal, name }) => {
      // NaN does not survive the page boundary as a number: null stands for it.
      const voxels = Float32Array.from(values, (x) => (x === null ? NaN : x)).buffer;
      window.postMessage({ type: 'overlay', kind, voxels, range, proposal, ...(name ? { name } : {}) }, '*');
    },
    { kind, values: Array.from(map, (x) => (Number.isNaN(x) ? null : x)), range, proposal, name },
  );
  await h.settle();
}

/** Presses a key with no control focused (the viewer ignores keys typed into inputs). */
async function press(key: string): Promise<void> {
  await h.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await h.page.keyboard.press(key);
  await h.settle();
}

async function clearOverlay(kind: 'probability' | 'uncertainty' | 'brain' | 'fusion'): Promise<void> {
  await h.page.evaluate((kind) => window.postMessage({ type: 'clearOverlay', kind }, '*'), kind);
  await h.settle();
}

/** runCommand messages posted so far, each checked by the host's validator. */
async function commandsPosted(): Promise<string[]> {
  const posted = (await h.posted()).filter((m) => m.type === 'runCommand');
  return posted.map((m) => {
    const valid = parseWebviewMessage(m, { voxelCount: N, frameCount: 1 });
    assert.equal(valid.type, 'runCommand');
    return (valid as { command: string }).command;
  });
}

// Voxels of the axial slice SLICE in each region of the two maps.
const PROB_ONLY = [10, 30, SLICE]; // p 0.9, u 0.02
const UNC_ONLY = [50, 10, SLICE]; // p 0, u 0.4
const BOTH = [10, 10, SLICE]; // p 0.9, u 0.4
const NEITHER = [50, 30, SLICE]; // p 0, u 0.02
const LOW_PROB = [30, 30, SLICE]; // p 0.3, u 0.02

/** The synthetic volume in a single axial view at its centre, grey window, labels hidden. */
async function loadAxialWithoutLabels(): Promise<void> {
    await h.load(syntheticVolume(DIMS, SPACING));
    await inPage(h, (v) => {
      v.setLayout('single', 'axial');
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
      v.setLabelDisplay({ show: false });
    });
    await h.settle();
}

describe('probability and uncertainty overlays', () => {
  let grey: Record<string, RGB>;

  before(async () => {
    await loadAxialWithoutLabels();
    grey = {};
    for (const [name, vox] of Object.entries({ PROB_ONLY, UNC_ONLY, BOTH, NEITHER, LOW_PROB })) grey[name] = await pixelAt(vox);
    for (const [name, c] of Object.entries(grey)) assert.ok(isGrey(c), `${name} is grey without overlays: ${c}`);
  });

  test('each map shows in its own colours above its own threshold, and both show together', async () => {
    await sendOverlay('probability', probabilityMap(), [0, 1]);
    await sendOverlay('uncertainty', uncertaintyMap(), [0, 0.5]);
    assert.deepEqual(await inPage(h, (v) => [v.hasOverlay('probability'), v.hasOverlay('uncertainty')]), [true, true]);
    // The uncertainty map's default threshold hides the lowest tenth of its range.
    assert.ok(Math.abs((await inPage(h, (v) => v.overlayDisplay.uncertainty.threshold)) - 0.05) < 1e-9);
    const probOnly = await pixelAt(PROB_ONLY);
    const uncOnly = await pixelAt(UNC_ONLY);
    const both = await pixelAt(BOTH);
    assert.ok(isHot(probOnly), `p 0.9 is hot: ${probOnly}`);
    assert.ok(isIce(uncOnly), `u 0.4 is blue: ${uncOnly}`);
    assert.deepEqual(await pixelAt(NEITHER), grey.NEITHER, 'p 0 and u 0.02 (below 0.05) leave the image');
    assert.deepEqual(await pixelAt(LOW_PROB), grey.LOW_PROB, 'p 0.3 is below the 0.5 threshold');
    assert.notDeepEqual(both, probOnly, 'where both maps are above threshold, the uncertainty shows through');
    assert.notDeepEqual(both, uncOnly);
    assert.ok(both[0] > both[2] + 20, `the probability map is drawn over the uncertainty map: ${both}`);
    await h.screenshot('overlays-both');
  });

  test('the readout gives both map values at the crosshair', async () => {
    await inPage(h, (v, c: number[]) => v.setCrosshairVoxel(c), BOTH);
    const status = (await h.page.textContent('.ll-status')) ?? '';
    assert.match(status, /voxel \[10, 10, 16\]/);
    assert.match(status, /p 0\.900/);
    assert.match(status, /uncertainty 0\.4000/);
    await inPage(h, (v) => v.setCrosshairVoxel([32, 24, 16]));
    await h.settle();
  });

  test('toggling one map (checkbox, key) changes only its pixels', async () => {
    const probOnly = await pixelAt(PROB_ONLY);
    const uncOnly = await pixelAt(UNC_ONLY);
    // Uncertainty off with the U key.
    await press('u');
    assert.equal(await inPage(h, (v) => v.overlayDisplay.uncertainty.show), false);
    assert.deepEqual(await pixelAt(UNC_ONLY), grey.UNC_ONLY, 'uncertainty hidden');
    assert.deepEqual(await pixelAt(PROB_ONLY), probOnly, 'probability unchanged');
    assert.equal(await h.page.isChecked('input[data-ctl="showUnc"]'), false, 'the checkbox follows the key');
    // Probability off with its checkbox.
    await h.page.uncheck('input[data-ctl="showProb"]');
    await h.settle();
    assert.deepEqual(await pixelAt(PROB_ONLY), grey.PROB_ONLY, 'probability hidden');
    await h.page.check('input[data-ctl="showUnc"]');
    await h.settle();
    assert.deepEqual(await pixelAt(UNC_ONLY), uncOnly, 'uncertainty back, probability still hidden');
    assert.deepEqual(await pixelAt(PROB_ONLY), grey.PROB_ONLY);
    await press('p');
    assert.deepEqual(await pixelAt(PROB_ONLY), probOnly, 'probability back with P');
    const tips = await h.page.evaluate(() =>
      ['showProb', 'showUnc', 'probOutline'].map((k) => (document.querySelector(`input[data-ctl="${k}"]`)!.parentElement as HTMLElement).title),
    );
    assert.match(tips[0], /\(P\)/);
    assert.match(tips[1], /\(U\)/);
    assert.match(tips[2], /\(C\)/);
  });

  test('thresholds and opacities are independent per map', async () => {
    // Probability threshold through its input: 0.25 colours p 0.3, and leaves the uncertainty map alone.
    await h.page.fill('input[data-ctl="probThreshold"]', '0.25');
    await h.page.dispatchEvent('input[data-ctl="probThreshold"]', 'change');
    await h.settle();
    assert.equal(await inPage(h, (v) => v.overlayDisplay.probability.threshold), 0.25);
    assert.ok(isHot(await pixelAt(LOW_PROB)), 'p 0.3 ≥ 0.25 is coloured');
    assert.deepEqual(await pixelAt(NEITHER), grey.NEITHER, 'u 0.02 still below the uncertainty threshold');
    await inPage(h, (v) => v.setOverlayDisplay('probability', { threshold: 0.95 }));
    await h.settle();
    assert.deepEqual(await pixelAt(LOW_PROB), grey.LOW_PROB);
    assert.deepEqual(await pixelAt(PROB_ONLY), grey.PROB_ONLY, 'p 0.9 < 0.95 is not coloured');
    assert.ok(isIce(await pixelAt(UNC_ONLY)), 'the uncertainty map is unaffected');
    // Uncertainty threshold: 0.01 colours u 0.02 everywhere; 0.5 hides u 0.4.
    await inPage(h, (v) => v.setOverlayDisplay('uncertainty', { threshold: 0.01 }));
    await h.settle();
    assert.ok(isIce(await pixelAt(NEITHER)), `u 0.02 ≥ 0.01 is coloured: ${await pixelAt(NEITHER)}`);
    await inPage(h, (v) => v.setOverlayDisplay('uncertainty', { threshold: 0.5 }));
    await h.settle();
    assert.deepEqual(await pixelAt(UNC_ONLY), grey.UNC_ONLY, 'u 0.4 < 0.5 is not coloured');
    // Opacity: the uncertainty map fades to nothing at 0, the probability map stays.
    await inPage(h, (v) => {
      v.setOverlayDisplay('uncertainty', { threshold: 0.05, opacity: 0 });
      v.setOverlayDisplay('probability', { threshold: 0.5 });
    });
    await h.settle();
    assert.deepEqual(await pixelAt(UNC_ONLY), grey.UNC_ONLY, 'opacity 0');
    const faint = await pixelAt(PROB_ONLY);
    await inPage(h, (v) => v.setOverlayDisplay('uncertainty', { opacity: 1 }));
    await h.settle();
    const full = await pixelAt(UNC_ONLY);
    assert.ok(isIce(full) && full[2] > 200, `opacity 1 shows the colormap itself: ${full}`);
    assert.deepEqual(await pixelAt(PROB_ONLY), faint, 'probability pixels do not depend on the uncertainty opacity');
    // Another colormap for the uncertainty map changes its colour only.
    await h.page.selectOption('select[data-ctl="uncColormap"]', 'viridis');
    await h.settle();
    assert.notDeepEqual(await pixelAt(UNC_ONLY), full);
    // The look of the maps is kept with setState (the host re-sends the maps themselves).
    const look = await inPage(h, (v) => {
      v.saveState();
      return (window as any).__state.overlayLook;
    });
    assert.deepEqual(look, { probabilityOpacity: 0.6, uncertaintyOpacity: 1, proposalOutline: true, uncertaintyColormap: 'viridis' });
    await inPage(h, (v) => {
      v.setUncertaintyColormap('ice');
      v.setOverlayDisplay('uncertainty', { opacity: 0.5 });
    });
    await h.settle();
  });

  test('clearing one kind keeps the other', async () => {
    const probOnly = await pixelAt(PROB_ONLY);
    const uncOnly = await pixelAt(UNC_ONLY);
    await clearOverlay('uncertainty');
    assert.deepEqual(await inPage(h, (v) => [v.hasOverlay('probability'), v.hasOverlay('uncertainty')]), [true, false]);
    assert.deepEqual(await pixelAt(UNC_ONLY), grey.UNC_ONLY, 'uncertainty gone');
    assert.deepEqual(await pixelAt(PROB_ONLY), probOnly, 'probability kept');
    assert.deepEqual(await h.page.evaluate(() => ['prob', 'unc'].map((g) => (document.querySelector(`[data-group="${g}"]`) as HTMLElement).hidden)), [false, true]);
    await sendOverlay('uncertainty', uncertaintyMap(), [0, 0.5]);
    assert.deepEqual(await pixelAt(UNC_ONLY), uncOnly, 'a new uncertainty map keeps the display settings');
    await clearOverlay('probability');
    assert.deepEqual(await pixelAt(PROB_ONLY), grey.PROB_ONLY, 'probability gone');
    assert.deepEqual(await pixelAt(UNC_ONLY), uncOnly, 'uncertainty kept');
    assert.deepEqual(await h.page.evaluate(() => ['prob', 'unc'].map((g) => (document.querySelector(`[data-group="${g}"]`) as HTMLElement).hidden)), [true, false]);
    await clearOverlay('uncertainty');
    assert.deepEqual(await pixelAt(UNC_ONLY), grey.UNC_ONLY);
    assert.equal(await inPage(h, (v) => v.hasOverlay()), false);
  });

  test('a map of the wrong size is refused with a status line, the other map stays', async () => {
    await sendOverlay('probability', probabilityMap(), [0, 1]);
    await sendOverlay('uncertainty', new Float32Array(100), [0, 1]);
    assert.equal(await inPage(h, (v) => v.hasOverlay('uncertainty')), false);
    assert.match((await h.page.textContent('.ll-status')) ?? '', /uncertainty map has 100 voxels, expected 98304/);
    assert.ok(isHot(await pixelAt(PROB_ONLY)));
    await clearOverlay('probability');
  });
});

describe('the brain outline (a head whose skull Segment Lesion stripped)', () => {
  /** The brain: voxels 8 ≤ i < 56 and 8 ≤ j < 40, every slice. */
  function brainMap(): Float32Array {
    const b = new Float32Array(N);
    for (let idx = 0; idx < N; idx++) {
      const i = idx % NX;
      const j = Math.floor(idx / NX) % NY;
      b[idx] = i >= 8 && i < 56 && j >= 8 && j < 40 ? 1 : 0;
    }
    return b;
  }
  const canvasPixels = async (): Promise<Uint8Array> => (await h.pixels()).data;

  before(async () => {
    await loadAxialWithoutLabels();
  });

  test('a dashed white outline just inside the brain\'s edge, toggled with H and its checkbox; the readout says what lies outside', async () => {
    assert.equal(await h.page.evaluate(() => (document.querySelector('[data-group="brain"]') as HTMLElement).hidden), true, 'no brain, no control');
    await sendOverlay('brain', brainMap(), [0, 1]);
    await h.screenshot('overlays-brain-outline');
    const outlined = await canvasPixels();
    const insideOutlined = await pixelAt([20, 20, SLICE]);
    const outsideOutlined = await pixelAt([3, 20, SLICE]);
    // H hides it (the maps row that came with it stays, so the views keep their size).
    await press('h');
    assert.equal(await h.page.isChecked('input[data-ctl="showBrain"]'), false);
    const plain = await canvasPixels();
    // Every pixel the outline changed turned whiter (under the crosshair too, which is drawn over
    // it); the voxels' centres inside and outside did not change.
    let changed = 0;
    for (let o = 0; o < plain.length; o += 4) {
      if (plain[o] === outlined[o] && plain[o + 1] === outlined[o + 1] && plain[o + 2] === outlined[o + 2]) continue;
      changed++;
      const whiter = [0, 1, 2].every((c) => outlined[o + c] >= plain[o + c]) && outlined[o] > plain[o];
      assert.ok(whiter, `pixel ${o / 4}: ${plain.slice(o, o + 3)} → ${outlined.slice(o, o + 3)}`);
    }
    assert.deepEqual(await pixelAt([20, 20, SLICE]), insideOutlined);
    assert.deepEqual(await pixelAt([3, 20, SLICE]), outsideOutlined);
    // The brain's perimeter on this slice, in screen pixels, dashed: half of it is drawn.
    const [x0] = await pageOfVoxel(h, 'axial', [8, 20, SLICE]);
    const [x1] = await pageOfVoxel(h, 'axial', [9, 20, SLICE]);
    const pxPerVoxelI = Math.abs(x1 - x0) * (await h.page.evaluate(() => window.devicePixelRatio));
    const perimeterPx = 2 * (48 * pxPerVoxelI + 32 * pxPerVoxelI * (SPACING[1] / SPACING[0]));
    assert.ok(changed > 0.3 * perimeterPx && changed < 0.8 * perimeterPx, `${changed} outline pixels for a perimeter of ${perimeterPx.toFixed(0)}`);
    await h.page.check('input[data-ctl="showBrain"]');
    await h.settle();
    assert.deepEqual(await canvasPixels(), outlined, 'the checkbox brings it back');
    assert.equal(await h.page.evaluate(() => (document.querySelector('[data-group="brain"]') as HTMLElement).hidden), false);
    assert.match(await h.page.evaluate(() => (document.querySelector('input[data-ctl="showBrain"]')!.parentElement as HTMLElement).title), /brain the model was given.*\(H\)$/);
    // The readout.
    await inPage(h, (v) => v.setCrosshairVoxel([3, 20, 16]));
    assert.match((await h.page.textContent('.ll-status')) ?? '', /voxel \[3, 20, 16\].*outside the brain/);
    await inPage(h, (v) => v.setCrosshairVoxel([20, 20, 16]));
    assert.doesNotMatch((await h.page.textContent('.ll-status')) ?? '', /outside the brain/);
    // Cleared with the proposal by the host: gone, and its control hidden.
    await clearOverlay('brain');
    assert.equal(await inPage(h, (v) => v.hasOverlay()), false);
    assert.equal(await h.page.evaluate(() => (document.querySelector('[data-group="brain"]') as HTMLElement).hidden), true);
  });
});

describe('proposal review', () => {
  before(async () => {
    await h.load(syntheticVolume(DIMS, SPACING));
    await inPage(h, (v) => {
      v.setLayout('single', 'axial');
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
    });
    await h.settle();
  });

  test('a probability map without proposal info shows no proposal bar, and Shift+A posts nothing', async () => {
    await sendOverlay('probability', probabilityMap(), [0, 1]);
    assert.equal(await h.page.isHidden('.ll-proposal'), true);
    const before = (await commandsPosted()).length;
    await press('Shift+A');
    assert.equal((await commandsPosted()).length, before);
    await clearOverlay('probability');
  });

  test('a proposal shows the bar with the model version; Accept, Reject, Segment Lesion post their commands', async () => {
    await sendOverlay('uncertainty', uncertaintyMap(), [0, 0.5]);
    await sendOverlay('probability', probabilityMap(), [0, 1], { modelVersion: 'v3', labelValue: 1, threshold: 0.5 });
    assert.equal(await h.page.isVisible('.ll-proposal'), true);
    const text = (await h.page.textContent('.ll-proposal')) ?? '';
    assert.match(text, /model v3/);
    assert.match(text, /0\.5/);
    const titles = await h.page.evaluate(() =>
      ['accept', 'reject'].map((a) => (document.querySelector(`.ll-proposal button[data-action="${a}"]`) as HTMLElement).title).concat(
        (document.querySelector('button[data-action="segment"]') as HTMLElement).title,
      ),
    );
    assert.match(titles[0], /Shift\+A/);
    assert.match(titles[1], /Shift\+X/);
    assert.match(titles[2], /Shift\+S/);
    await h.screenshot('proposal-bar');
    const before = (await commandsPosted()).length;
    await h.page.click('.ll-proposal button[data-action="accept"]');
    await h.page.click('.ll-proposal button[data-action="reject"]');
    await h.page.click('button[data-action="segment"]');
    await press('Shift+A');
    await press('Shift+X');
    await press('Shift+S');
    assert.deepEqual((await commandsPosted()).slice(before), [
      'lesionLab.acceptProposal',
      'lesionLab.rejectProposal',
      'lesionLab.segmentLesion',
      'lesionLab.acceptProposal',
      'lesionLab.rejectProposal',
      'lesionLab.segmentLesion',
    ]);
    // Read-only documents: Accept is disabled and says why.
    await h.page.evaluate(() => window.postMessage({ type: 'readOnly', readOnly: true, reason: 'the mask is on another grid' }, '*'));
    await h.settle();
    assert.equal(await h.page.isDisabled('.ll-proposal button[data-action="accept"]'), true);
    assert.match((await h.page.getAttribute('.ll-proposal button[data-action="accept"]', 'title')) ?? '', /another grid/);
    await h.page.evaluate(() => window.postMessage({ type: 'readOnly', readOnly: false, reason: null }, '*'));
    await h.settle();
    assert.equal(await h.page.isDisabled('.ll-proposal button[data-action="accept"]'), false);
  });

  test('the proposal outline follows the proposal threshold, not the display threshold', async () => {
    // p 0.9 for i < 24: the outline lies on the i 23 | 24 boundary; i 20 is inside, i 30 outside.
    const boundary = await pixelsBetween([22, 30, SLICE], [25, 30, SLICE]);
    assert.ok(boundary.some(isOutline), `an outline pixel on the proposal boundary: ${JSON.stringify(boundary)}`);
    const inside = await pixelAt([20, 30, SLICE]);
    assert.ok(isHot(inside) && !isOutline(inside), `inside is filled, not outlined: ${inside}`);
    // The display threshold changes the heat fill (p 0.3 coloured) but not the outline.
    await inPage(h, (v) => v.setOverlayDisplay('probability', { threshold: 0.2 }));
    await h.settle();
    assert.ok(isHot(await pixelAt(LOW_PROB)));
    assert.ok((await pixelsBetween([22, 30, SLICE], [25, 30, SLICE])).some(isOutline), 'outline still at p ≥ 0.5');
    assert.ok(!(await pixelsBetween([38, 30, SLICE], [41, 30, SLICE])).some(isOutline), 'no outline at the p 0.3 | 0 boundary');
    await h.screenshot('proposal-outline');
    // C toggles the outline.
    await press('c');
    assert.ok(!(await pixelsBetween([22, 30, SLICE], [25, 30, SLICE])).some(isOutline), 'outline off');
    await press('c');
  });

  test('the host clearing the probability map (Accept / Reject done) hides the bar and keeps the uncertainty map', async () => {
    await clearOverlay('probability');
    assert.equal(await h.page.isHidden('.ll-proposal'), true);
    assert.equal(await inPage(h, (v) => v.proposal), null);
    assert.ok(isIce(await pixelAt(UNC_ONLY)));
    await clearOverlay('uncertainty');
  });
});

describe('overlays on a real FLAIR volume', () => {
  const dir = ['lesion', 'ms-flair-mni', 'patient07'];
  const skip = skipWithoutSharedData(...dir);

  test('a blurred gold-standard mask as the proposal, its boundary as uncertainty', { skip }, async () => {
    const vol = await volumeFromNifti(
      sharedDataPath(...dir, 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'),
      sharedDataPath(...dir, 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz'),
    );
    await h.load(vol);
    // Maps made in the page from the loaded labels (no 30 MB array through the DevTools protocol):
    // p = the mask box-blurred over 3×3×3 voxels, u = 4·p·(1 − p)·0.25 (highest on the boundary).
    const peak = (await h.page.evaluate(() => {
      const v = (window as any).lesionLab.viewer;
      const [nx, ny, nz] = v.geometry.dims as number[];
      const labels = v.labels as Uint8Array;
      let a = Float32Array.from(labels, (x) => (x > 0 ? 1 : 0));
      const strides = [1, nx, nx * ny];
      for (let axis = 0; axis < 3; axis++) {
        const b = new Float32Array(a.length);
        const s = strides[axis];
        const n = [nx, ny, nz][axis];
        for (let idx = 0; idx < a.length; idx++) {
          const c = Math.floor(idx / s) % n;
          b[idx] = (a[idx] + (c > 0 ? a[idx - s] : 0) + (c < n - 1 ? a[idx + s] : 0)) / 3;
        }
        a = b;
      }
      const u = a.map((p) => p * (1 - p));
      let best = 0;
      for (let idx = 0; idx < a.length; idx++) if (a[idx] > a[best]) best = idx;
      window.postMessage({ type: 'overlay', kind: 'uncertainty', voxels: u.buffer, range: [0, 0.25], proposal: null }, '*');
      window.postMessage({ type: 'overlay', kind: 'probability', voxels: a.buffer, range: [0, 1], proposal: { modelVersion: 'starter', labelValue: 1, threshold: 0.5 } }, '*');
      return [best % nx, Math.floor(best / nx) % ny, Math.floor(best / (nx * ny))];
    })) as number[];
    await inPage(h, (v, c: number[]) => {
      v.setLayout('single', 'axial');
      v.setLabelDisplay({ show: false });
      v.setCrosshairVoxel(c);
      v.setOverlayDisplay('probability', { threshold: 0.5 });
      v.setOverlayDisplay('uncertainty', { threshold: 0.05 });
      const view = v.sliceViews.find((s: { kind: string }) => s.kind === 'axial');
      view.zoom = 3;
      view.panMm = [0, 0];
    }, peak);
    // Centre the zoomed view on the lesion: pan so the peak voxel sits in the middle.
    await inPage(h, (v, c: number[]) => {
      const view = v.sliceViews.find((s: { kind: string }) => s.kind === 'axial');
      const r = view.rect;
      const at = v.canvasOfVoxel('axial', c);
      view.panBy(v.geometry, r.x + r.width / 2 - at[0], r.y + r.height / 2 - at[1]);
      v.requestRender(false);
    }, peak);
    await h.settle();
    assert.equal(await h.page.isVisible('.ll-proposal'), true);
    const atPeak = await pixelAt(peak);
    assert.ok(isHot(atPeak), `the lesion centre is hot: ${atPeak}`);
    const rects = (await inPage(h, (v) => v.viewRects())) as Record<string, { x: number; y: number; width: number; height: number }>;
    const px = await h.pixels();
    let outline = 0;
    let ice = 0;
    const r = rects.axial;
    for (let y = r.y; y < r.y + r.height; y++) {
      for (let x = r.x; x < r.x + r.width; x++) {
        const o = (y * px.width + x) * 4;
        const c: RGB = [px.data[o], px.data[o + 1], px.data[o + 2]];
        if (isOutline(c)) outline++;
        else if (isIce(c)) ice++;
      }
    }
    assert.ok(outline > 30, `the proposal is outlined (${outline} pixels)`);
    assert.ok(ice > 30, `the uncertainty shows around it (${ice} pixels)`);
    await h.screenshot('overlays-flair');
    await clearOverlay('probability');
    await clearOverlay('uncertainty');
  });
});

describe('a fused image (Overlay Another Image)', () => {
  // 10 for j < 20, 1 elsewhere, NaN (the other image does not reach) for i ≥ 48; range [2, 20]
  // (10 is then in the red part of 'hot', whose top is white).
  const fused = (): Float32Array => {
    const f = new Float32Array(N);
    for (let idx = 0; idx < N; idx++) {
      const i = idx % NX;
      const j = Math.floor(idx / NX) % NY;
      f[idx] = i >= 48 ? NaN : j < 20 ? 10 : 1;
    }
    return f;
  };
  const HOT = [10, 10, SLICE];
  const LOW = [10, 30, SLICE];
  const BEYOND = [56, 10, SLICE];

  test('is coloured from its threshold up, nowhere it does not reach, and named in the readout', async () => {
    await loadAxialWithoutLabels();
    const grey = { hot: await pixelAt(HOT), low: await pixelAt(LOW), beyond: await pixelAt(BEYOND) };
    assert.equal(await h.page.isVisible('[data-group="fusion"]'), false, 'no controls without a fused image');
    await sendOverlay('fusion', fused(), [2, 20], null, 'pet.nii.gz');
    assert.equal(await inPage(h, (v) => v.overlayDisplay.fusion.threshold), 2, 'it starts coloured from the low end of its range');
    const hot = await pixelAt(HOT);
    assert.ok(isHot(hot), `10 is hot: ${hot}`);
    assert.deepEqual(await pixelAt(LOW), grey.low, '1 is below the threshold');
    assert.deepEqual(await pixelAt(BEYOND), grey.beyond, 'NaN (outside the other image) is not coloured');
    assert.equal(await h.page.isVisible('[data-group="fusion"]'), true);
    assert.equal(await h.page.textContent('[data-group="fusion"] .ll-field-label'), 'pet.nii.gz');
    await inPage(h, (v, c: number[]) => v.setCrosshairVoxel(c), HOT);
    assert.match((await h.page.textContent('.ll-status')) ?? '', /pet\.nii\.gz 10/);
    await inPage(h, (v, c: number[]) => v.setCrosshairVoxel(c), BEYOND);
    assert.match((await h.page.textContent('.ll-status')) ?? '', /pet\.nii\.gz \(outside it\)/);
    await inPage(h, (v) => v.setCrosshairVoxel([32, 24, 16]));
    await h.settle();
    await h.screenshot('overlays-fusion');

    // Threshold 0.5 colours the 1s too; the colormap and the checkbox act on it alone.
    await h.page.fill('input[data-ctl="fusionThreshold"]', '0.5');
    await h.page.dispatchEvent('input[data-ctl="fusionThreshold"]', 'change');
    await h.settle();
    assert.notDeepEqual(await pixelAt(LOW), grey.low, '1 ≥ 0.5 is coloured');
    // The same image sent again (registered, or restored) keeps the chosen lowest value; another resets it.
    await sendOverlay('fusion', fused(), [2, 20], null, 'pet.nii.gz');
    assert.equal(await inPage(h, (v) => v.overlayDisplay.fusion.threshold), 0.5);
    await sendOverlay('fusion', fused(), [3, 20], null, 'other_pet.nii.gz');
    assert.equal(await inPage(h, (v) => v.overlayDisplay.fusion.threshold), 3);
    await sendOverlay('fusion', fused(), [2, 20], null, 'pet.nii.gz');
    await h.page.fill('input[data-ctl="fusionThreshold"]', '0.5');
    await h.page.dispatchEvent('input[data-ctl="fusionThreshold"]', 'change');
    await h.settle();
    await h.page.selectOption('select[data-ctl="fusionColormap"]', 'gray');
    await h.settle();
    const greyMap = await pixelAt(HOT);
    assert.ok(isGrey(greyMap) && greyMap[0] > hot[1], `the gray colormap: ${greyMap}`);
    await h.page.uncheck('input[data-ctl="showFusion"]');
    await h.settle();
    assert.deepEqual(await pixelAt(HOT), grey.hot, 'hidden with its checkbox');

    // Overlay…, Register and Remove ask the host, which owns the image.
    await h.page.click('button[data-action="overlayImage"]');
    await h.page.click('button[data-action="registerOverlayImage"]');
    await h.page.click('button[data-action="clearOverlayImage"]');
    const commands = await commandsPosted();
    assert.deepEqual(commands.slice(-3), ['lesionLab.overlayImage', 'lesionLab.registerOverlayImage', 'lesionLab.clearOverlayImage']);
    await clearOverlay('fusion');
    assert.equal(await h.page.isVisible('[data-group="fusion"]'), false);
    assert.deepEqual(await pixelAt(HOT), grey.hot);
  });

  test('the 3-D view shows its maximum along each ray over the volume, in MIP and DVR, and hides it with its checkbox', async () => {
    await loadAxialWithoutLabels();
    // Red-dominant pixels of the 3-D view (the volume alone is grey).
    const hotIn3d = async (): Promise<number> => {
      await h.settle();
      await new Promise((r) => setTimeout(r, 400));
      await h.settle();
      const rect = (await inPage(h, (v) => v.viewRects()) as Record<string, { x: number; y: number; width: number; height: number }>)['3d'];
      const px = crop(await h.pixels(), rect);
      let n = 0;
      for (let o = 0; o < px.length; o += 4) if (isHot([px[o], px[o + 1], px[o + 2]])) n++;
      return n;
    };
    for (const mode of [0, 1]) {
      await inPage(h, (v, m: number) => {
        v.setLayout('single', '3d');
        v.set3dMode(m);
      }, mode);
      const before = await hotIn3d();
      await sendOverlay('fusion', fused(), [2, 20], null, 'pet.nii.gz');
      await h.page.selectOption('select[data-ctl="fusionColormap"]', 'hot');
      const shown = await hotIn3d();
      assert.ok(before < 20 && shown > 1000, `mode ${mode}: hot pixels in the 3-D view ${before} → ${shown}`);
      if (mode === 1) await h.screenshot('overlays-fusion-3d');
      await h.page.uncheck('input[data-ctl="showFusion"]');
      assert.ok((await hotIn3d()) < 20, `mode ${mode}: hidden with its checkbox`);
      await h.page.check('input[data-ctl="showFusion"]');
      assert.ok((await hotIn3d()) > 1000);
      await clearOverlay('fusion');
      assert.ok((await hotIn3d()) < 20, `mode ${mode}: gone when removed`);
    }
    await inPage(h, (v) => v.set3dMode(0));
  });
});
