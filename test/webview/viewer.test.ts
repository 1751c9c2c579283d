// The webview bundle in headless Chromium (SwiftShader WebGL2): rendered pixels, crosshair
// linking, window/level, orientation letters, overlays, state, error messages, and label edits
// by simulated mouse strokes on a synthetic anisotropic volume.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { webviewHtml } from '../../src/editor/webviewHtml';
import { crop, editOf, inPage as harnessInPage, launchChromium, openHarness, syntheticVolume, type Harness, type Posted } from './harness';

let browser: Browser;
let h: Harness;
// 1 × 1.5 × 2 mm voxels: anisotropic in every direction.
const DIMS: [number, number, number] = [64, 48, 32];
const SPACING: [number, number, number] = [1, 1.5, 2];
const [NX, NY] = DIMS;
const lin = (v: readonly number[]): number => v[0] + NX * (v[1] + NY * v[2]);

type Rect = { x: number; y: number; width: number; height: number };

before(async () => {
  browser = await launchChromium();
  h = await openHarness(browser, { width: 720, height: 560 });
});
after(async () => {
  await h?.close();
  await browser?.close();
});

/** Runs `fn(viewer, arg)` in the page. */
function inPage<T, A = undefined>(fn: (viewer: any, arg: A) => T, arg?: A): Promise<T> {
  return harnessInPage(h, fn, arg);
}

async function canvasOrigin(): Promise<[number, number]> {
  return h.page.evaluate(() => {
    const r = document.querySelector('canvas.ll-canvas')!.getBoundingClientRect();
    return [r.left, r.top] as [number, number];
  });
}

/** Page position of a voxel centre in a view. */
async function pageOfVoxel(kind: string, voxel: number[]): Promise<[number, number]> {
  const [ox, oy] = await canvasOrigin();
  const c = await inPage((v, a: { kind: string; voxel: number[] }) => v.canvasOfVoxel(a.kind, a.voxel), { kind, voxel });
  assert.ok(c, `voxel ${voxel} has no position in ${kind}`);
  return [ox + c[0], oy + c[1]];
}

/** RGB of the canvas pixel at a voxel centre of a view. */
async function pixelAtVoxel(kind: string, voxel: number[]): Promise<[number, number, number]> {
  const [ox, oy] = await canvasOrigin();
  const [px, py] = await pageOfVoxel(kind, voxel);
  const p = await h.pixels();
  const x = Math.floor(px - ox);
  const y = Math.floor(py - oy);
  const o = (y * p.width + x) * 4;
  return [p.data[o], p.data[o + 1], p.data[o + 2]];
}

async function viewPixels(kind: string): Promise<Uint8Array> {
  const rects = await inPage((v) => v.viewRects());
  return crop(await h.pixels(), (rects as Record<string, Rect>)[kind]);
}

async function edits(): Promise<Posted[]> {
  return (await h.posted()).filter((m) => m.type === 'edit');
}

/** Brute force: voxel centres within r mm of the segment a→b (in mm), limited to a slice when `sliceAxis` is set. */
function expectedStroke(a: number[], b: number[], r: number, sliceAxis: number | null): number[] {
  const out: number[] = [];
  const mm = (v: number[]) => v.map((c, n) => c * SPACING[n]);
  const A = mm(a);
  const B = mm(b);
  for (let k = 0; k < DIMS[2]; k++) {
    for (let j = 0; j < DIMS[1]; j++) {
      for (let i = 0; i < DIMS[0]; i++) {
        const v = [i, j, k];
        if (sliceAxis !== null && v[sliceAxis] !== a[sliceAxis]) continue;
        const P = mm(v);
        const AB = B.map((c, n) => c - A[n]);
        const AP = P.map((c, n) => c - A[n]);
        const len2 = AB.reduce((s, c) => s + c * c, 0);
        const t = len2 > 0 ? Math.max(0, Math.min(1, AP.reduce((s, c, n) => s + c * AB[n], 0) / len2)) : 0;
        const d2 = AP.reduce((s, c, n) => s + (c - t * AB[n]) ** 2, 0);
        if (d2 <= r * r + 1e-9) out.push(lin(v));
      }
    }
  }
  return out.sort((x, y) => x - y);
}

describe('slice views', () => {
  before(async () => {
    await h.load(syntheticVolume(DIMS, SPACING));
  });

  test('first frame is drawn and views show the volume at true aspect', async () => {
    const rects = (await inPage((v) => v.viewRects())) as Record<string, Rect>;
    for (const kind of ['axial', 'coronal', 'sagittal', '3d']) assert.ok(rects[kind]?.width > 50, `${kind} view is visible`);
    // The axial volume extent is 64 mm (x) by 72 mm (y): measure the drawn head's bounding box.
    const px = await viewPixels('axial');
    const r = rects.axial;
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) {
        const o = (y * r.width + x) * 4;
        if (px[o] > 20 && px[o] === px[o + 1] && px[o] === px[o + 2]) {
          minX = Math.min(minX, x);
          maxX = Math.max(maxX, x);
          minY = Math.min(minY, y);
          maxY = Math.max(maxY, y);
        }
      }
    }
    // The synthetic head is an ellipsoid of semi-axes 26.7 mm (x) and 30 mm (y).
    const aspect = (maxY - minY + 1) / (maxX - minX + 1);
    assert.ok(Math.abs(aspect - 30 / 26.67) < 0.08, `axial head aspect ${aspect.toFixed(3)} should be ${(30 / 26.67).toFixed(3)}`);
    await h.screenshot('synthetic-2x2');
  });

  test('orientation letters follow the radiological / neurological setting and the image mirrors', async () => {
    const letters = () =>
      h.page.evaluate(() => {
        const o = document.querySelector('.ll-view-overlay[data-view="axial"]')!;
        return ['left', 'right', 'top', 'bottom'].map((s) => o.querySelector(`.ll-${s}`)!.textContent);
      });
    assert.deepEqual(await letters(), ['R', 'L', 'A', 'P']);
    // Under a light theme (VS Code's dark-blue line-number colour) they stay light on the black views.
    const letterColour = await h.page.evaluate(() => {
      document.documentElement.style.setProperty('--vscode-editorLineNumber-activeForeground', '#0b216f');
      return getComputedStyle(document.querySelector('.ll-view-overlay[data-view="axial"] .ll-left')!).color;
    });
    const [r, g, b] = (letterColour.match(/\d+/g) ?? []).map(Number);
    assert.ok(r > 200 && g > 200 && b > 100, `orientation letters ${letterColour}`);
    // The bright "nose" block (value 400) sits at +x (patient right) and +y (anterior).
    const nose = [44, 36, 20];
    await inPage((v, a: number[]) => {
      v.setWindow({ level: 200, width: 400 });
      v.setCrosshairVoxel(a);
    }, nose);
    await h.settle();
    const rects = (await inPage((v) => v.viewRects())) as Record<string, Rect>;
    const [ox, oy] = await canvasOrigin();
    const [x1, y1] = await pageOfVoxel('axial', nose);
    assert.ok(x1 - ox < rects.axial.x + rects.axial.width / 2, 'patient right is on the screen left (radiological)');
    assert.ok(y1 - oy < rects.axial.y + rects.axial.height / 2, 'anterior is up');
    assert.deepEqual(await pixelAtVoxel('axial', [nose[0] + 2, nose[1], nose[2]]), [255, 255, 255]);
    const radiological = await viewPixels('axial');
    await inPage((v) => v.setRadiological(false));
    await h.settle();
    assert.deepEqual(await letters(), ['L', 'R', 'A', 'P']);
    const [x2] = await pageOfVoxel('axial', nose);
    assert.ok(x2 - ox > rects.axial.x + rects.axial.width / 2, 'patient right is on the screen right (neurological)');
    assert.deepEqual(await pixelAtVoxel('axial', [nose[0] + 2, nose[1], nose[2]]), [255, 255, 255]);
    assert.notDeepEqual(await viewPixels('axial'), radiological);
    await inPage((v) => v.setRadiological(true));
    await h.settle();
  });

  test('a click in one view moves the crosshair, and the other views change slice', async () => {
    await inPage((v) => v.setCrosshairVoxel([32, 24, 16]));
    await h.settle();
    const coronalBefore = await viewPixels('coronal');
    const sagittalBefore = await viewPixels('sagittal');
    const [x, y] = await pageOfVoxel('axial', [20, 34, 16]);
    await h.page.mouse.click(x, y);
    await h.settle();
    assert.deepEqual(await inPage((v) => v.crosshairVoxel()), [20, 34, 16]);
    assert.notDeepEqual(await viewPixels('coronal'), coronalBefore, 'coronal view shows another slice');
    assert.notDeepEqual(await viewPixels('sagittal'), sagittalBefore, 'sagittal view shows another slice');
    const titles = await h.page.evaluate(() => ['coronal', 'sagittal'].map((k) => document.querySelector(`.ll-view-overlay[data-view="${k}"] .ll-title`)!.textContent));
    assert.deepEqual(titles, ['Coronal 35/48', 'Sagittal 21/64']);
    const status = await h.page.evaluate(() => document.querySelector('.ll-status')!.textContent);
    assert.match(status ?? '', /voxel \[20, 34, 16\]/);
  });

  test('wheel and arrow keys scroll the slice under the mouse by one voxel', async () => {
    await inPage((v) => v.setCrosshairVoxel([32, 24, 16]));
    const [x, y] = await pageOfVoxel('axial', [32, 24, 16]);
    await h.page.mouse.move(x + 3, y + 3);
    await h.page.mouse.wheel(0, -100);
    await h.settle();
    assert.deepEqual(await inPage((v) => v.crosshairVoxel()), [32, 24, 17]);
    await h.page.keyboard.press('ArrowDown');
    await h.page.keyboard.press('ArrowDown');
    assert.deepEqual(await inPage((v) => v.crosshairVoxel()), [32, 24, 15]);
    await h.page.keyboard.press('PageUp');
    assert.deepEqual(await inPage((v) => v.crosshairVoxel()), [32, 24, 25]);
  });

  test('window/level sets the displayed grey exactly, and a right-drag changes it', async () => {
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 150, width: 100 });
    });
    await h.settle();
    // Voxel value is 100 + i inside the head: i = 40 → 140 → (140 − 100) / 100 → 102/255.
    const expectGrey = (value: number) => Math.round(Math.min(1, Math.max(0, (value - 100) / 100)) * 255);
    assert.deepEqual(await pixelAtVoxel('axial', [40, 20, 16]), [expectGrey(140), expectGrey(140), expectGrey(140)]);
    assert.deepEqual(await pixelAtVoxel('axial', [25, 20, 16]), [expectGrey(125), expectGrey(125), expectGrey(125)]);
    const [x, y] = await pageOfVoxel('axial', [30, 20, 16]);
    await h.page.mouse.move(x, y);
    await h.page.mouse.down({ button: 'right' });
    await h.page.mouse.move(x + 60, y + 30, { steps: 3 });
    await h.page.mouse.up({ button: 'right' });
    await h.settle();
    const w = (await inPage((v) => v.window)) as { level: number; width: number };
    assert.ok(w.width > 100 && w.level < 150, `drag widened the window and lowered the level: ${JSON.stringify(w)}`);
    const lo = w.level - w.width / 2;
    const g = Math.round(Math.min(1, Math.max(0, (140 - lo) / w.width)) * 255);
    const got = await pixelAtVoxel('axial', [40, 20, 16]);
    assert.ok(Math.abs(got[0] - g) <= 1, `grey ${got[0]} for value 140 under ${JSON.stringify(w)} should be ${g}`);
  });

  test('CT presets and the MR auto window', async () => {
    await inPage((v) => v.applyPreset('CT lung'));
    assert.deepEqual(await inPage((v) => v.window), { level: -600, width: 1500 });
    await inPage((v) => v.applyPreset('CT brain'));
    assert.deepEqual(await inPage((v) => v.window), { level: 40, width: 80 });
    await h.page.keyboard.press('w');
    const w = (await inPage((v) => v.window)) as { level: number; width: number };
    // Non-zero voxels run from 100 to 400 (the nose block): the auto window spans them.
    assert.ok(w.level - w.width / 2 >= 99 && w.level + w.width / 2 <= 400.5 && w.width > 50, JSON.stringify(w));
  });

  test('colormaps change the colours', async () => {
    await inPage((v) => {
      v.setWindow({ level: 150, width: 100 });
      v.setColormap('hot');
    });
    await h.settle();
    const hot = await pixelAtVoxel('axial', [40, 20, 16]);
    assert.ok(hot[0] > hot[1] && hot[1] >= hot[2], `hot colormap is red-dominant: ${hot}`);
    await inPage((v) => v.setColormap('viridis'));
    await h.settle();
    const vir = await pixelAtVoxel('axial', [40, 20, 16]);
    assert.ok(vir[1] > vir[0], `viridis mid-range is green-blue: ${vir}`);
    await inPage((v) => v.setColormap('gray'));
  });

  test('layouts 1×3 and single show the expected views', async () => {
    await inPage((v) => v.setLayout('1x3'));
    await h.settle();
    let rects = (await inPage((v) => v.viewRects())) as Record<string, Rect>;
    assert.deepEqual(Object.keys(rects).sort(), ['axial', 'coronal', 'sagittal']);
    await inPage((v) => v.setLayout('single', 'coronal'));
    await h.settle();
    rects = (await inPage((v) => v.viewRects())) as Record<string, Rect>;
    assert.deepEqual(Object.keys(rects), ['coronal']);
    await h.screenshot('synthetic-single-coronal');
    await inPage((v) => v.setLayout('2x2'));
    await h.settle();
  });

  test('zoom (ctrl+wheel) keeps the point under the mouse and magnifies', async () => {
    const voxel = [20, 20, 16];
    await inPage((v) => v.setCrosshairVoxel([32, 24, 16]));
    const before = await pageOfVoxel('axial', voxel);
    const other0 = await pageOfVoxel('axial', [30, 20, 16]);
    await h.page.mouse.move(before[0], before[1]);
    await h.page.keyboard.down('Control');
    await h.page.mouse.wheel(0, -100);
    await h.page.keyboard.up('Control');
    await h.settle();
    const after = await pageOfVoxel('axial', voxel);
    const other1 = await pageOfVoxel('axial', [30, 20, 16]);
    assert.ok(Math.abs(after[0] - before[0]) < 1 && Math.abs(after[1] - before[1]) < 1, `the point under the mouse stays: ${before} → ${after}`);
    assert.ok(Math.abs(other1[0] - after[0]) > Math.abs(other0[0] - before[0]) * 1.1, 'distances grow');
    // Shift+drag pans: the voxel moves with the mouse.
    const p0 = await pageOfVoxel('axial', voxel);
    await h.page.keyboard.down('Shift');
    await h.page.mouse.move(p0[0], p0[1]);
    await h.page.mouse.down();
    await h.page.mouse.move(p0[0] + 25, p0[1] - 15, { steps: 2 });
    await h.page.mouse.up();
    await h.page.keyboard.up('Shift');
    const p1 = await pageOfVoxel('axial', voxel);
    assert.ok(Math.abs(p1[0] - p0[0] - 25) < 0.5 && Math.abs(p1[1] - p0[1] + 15) < 0.5, `panned with the mouse: ${p0} → ${p1}`);
    await inPage((v) => {
      for (const s of v.sliceViews) {
        s.zoom = 1;
        s.panMm = [0, 0];
      }
      v.requestRender(false);
    });
  });

  test('view state is saved with setState', async () => {
    await inPage((v) => {
      v.setCrosshairVoxel([10, 11, 12]);
      v.setWindow({ level: 77, width: 55 });
      v.saveState();
    });
    const state = (await h.page.evaluate(() => (window as any).__state)) as { crosshair: number[]; window: { level: number }; layout: string; fileName: string };
    assert.equal(state.fileName, 'synthetic.nii.gz');
    assert.equal(state.window.level, 77);
    assert.equal(state.layout, '2x2');
    const w = await inPage((v, c: number[]) => v.worldOfVoxel(c), [10, 11, 12]);
    assert.deepEqual(state.crosshair.map((c) => c.toFixed(3)), (w as number[]).map((c) => c.toFixed(3)));
  });

  test('the 3-D view draws the volume (MIP and DVR differ)', async () => {
    await inPage((v) => {
      v.setWindow({ level: 200, width: 400 });
      v.set3dMode(0);
    });
    await h.settle();
    await new Promise((r) => setTimeout(r, 400));
    await h.settle();
    const mip = await viewPixels('3d');
    let lit = 0;
    for (let o = 0; o < mip.length; o += 4) if (mip[o] > 30) lit++;
    assert.ok(lit > 500, `3-D MIP shows the volume (${lit} lit pixels)`);
    await inPage((v) => v.set3dMode(1));
    await h.settle();
    await new Promise((r) => setTimeout(r, 400));
    await h.settle();
    const dvr = await viewPixels('3d');
    assert.notDeepEqual(dvr, mip);
    await h.screenshot('synthetic-3d-dvr');
    await inPage((v) => v.set3dMode(0));
  });
});

describe('label editing with the mouse', () => {
  before(async () => {
    await h.load(syntheticVolume(DIMS, SPACING));
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
    });
    await h.settle();
  });

  test('a brush stroke in the axial view changes exactly the voxels within radius of the path (anisotropic)', async () => {
    await h.page.keyboard.press('b');
    await inPage((v) => {
      v.brushRadiusMm = 3;
      v.brushShape = 'disc';
      v.activeLabel = 1;
    });
    const before = (await edits()).length;
    const textureVersion = await inPage((v) => v.vol.labels.texture.version);
    const a = [20, 16, 16];
    const b = [30, 22, 16];
    const pa = await pageOfVoxel('axial', a);
    const pb = await pageOfVoxel('axial', b);
    await h.page.mouse.move(pa[0], pa[1]);
    await h.page.mouse.down();
    await h.page.mouse.move(pb[0], pb[1], { steps: 1 });
    await h.page.mouse.up();
    await h.settle();
    const all = await edits();
    assert.equal(all.length, before + 1, 'one gesture → one edit message');
    const e = editOf(all[all.length - 1]);
    assert.equal(e.label, 'Brush');
    const expected = expectedStroke(a, b, 3, 2);
    assert.deepEqual(e.indices, expected);
    assert.ok(e.after.every((x) => x === 1) && e.before.every((x) => x === 0));
    // The disc covers ±3 voxels in i (1 mm) but only ±2 in j (1.5 mm).
    assert.ok(expected.includes(lin([17, 16, 16])) && !expected.includes(lin([16, 16, 16])));
    assert.ok(expected.includes(lin([20, 14, 16])) && !expected.includes(lin([20, 13, 16])));
    const labels = await inPage((v) => Array.from(v.labels as Uint8Array).reduce((s: number, x: number) => s + (x ? 1 : 0), 0));
    assert.equal(labels, expected.length, 'the webview applied the delta locally');
    // The painted voxels show red-tinted; an unpainted neighbour does not.
    const painted = await pixelAtVoxel('axial', [25, 19, 16]);
    assert.ok(painted[0] > painted[1] + 40, `painted voxel is red-tinted: ${painted}`);
    const clean = await pixelAtVoxel('axial', [25, 28, 16]);
    assert.ok(Math.abs(clean[0] - clean[1]) <= 1, `unpainted voxel stays grey: ${clean}`);
    assert.equal(await inPage((v) => v.vol.labels.texture.version), textureVersion, 'no whole-texture re-upload: only the dirty box went up');
    // Cursor preview: hovering with the brush draws the radius circle in yellow.
    const hover = await pageOfVoxel('axial', [45, 30, 16]);
    await h.page.mouse.move(hover[0], hover[1]);
    await h.settle();
    const px = await viewPixels('axial');
    let yellow = 0;
    for (let o = 0; o < px.length; o += 4) if (px[o] > 200 && px[o + 1] > 200 && px[o + 2] < 60) yellow++;
    assert.ok(yellow > 20, `brush preview circle drawn (${yellow} yellow pixels)`);
    await h.screenshot('brush-stroke');
  });

  test('a 3-D sphere brush in the coronal view covers neighbouring slices by mm', async () => {
    await inPage((v) => {
      v.brushShape = 'sphere';
      v.brushRadiusMm = 4;
      v.activeLabel = 2;
      v.setCrosshairVoxel([40, 30, 20]);
    });
    await h.settle();
    const c = [40, 30, 20];
    const p = await pageOfVoxel('coronal', c);
    await h.page.mouse.move(p[0], p[1]);
    await h.page.mouse.down();
    await h.page.mouse.up();
    await h.settle();
    const all = await edits();
    const e = editOf(all[all.length - 1]);
    assert.deepEqual(e.indices, expectedStroke(c, c, 4, null));
    // ±4 voxels in i (1 mm), ±2 in j (1.5 mm), ±2 in k (2 mm).
    assert.ok(e.indices.includes(lin([40, 32, 20])) && !e.indices.includes(lin([40, 33, 20])));
    assert.ok(e.indices.includes(lin([40, 30, 22])) && !e.indices.includes(lin([40, 30, 23])));
    assert.ok(e.after.every((x) => x === 2));
  });

  test('undo from the host (applyDelta with the inverse) restores labels and pixels', async () => {
    const all = await edits();
    const last = all[all.length - 1];
    const beforePixels = await viewPixels('coronal');
    // Post the inverse delta as the host would after Ctrl+Z.
    await h.page.evaluate((m) => {
      const toBuf = (b: { __bytes: number[] }) => Uint8Array.from(b.__bytes).buffer;
      const d = (m as any).delta;
      window.postMessage({ type: 'applyDelta', cause: 'undo', label: 'Brush', delta: { runs: toBuf(d.runs), before: toBuf(d.after), after: toBuf(d.before), bits: d.bits } }, '*');
    }, last);
    await h.settle();
    await h.settle();
    const e = editOf(last);
    const values = (await inPage((v, idx: number[]) => idx.map((i) => (v.labels as Uint8Array)[i]), e.indices)) as number[];
    assert.ok(values.every((x) => x === 0), 'labels back to 0');
    assert.notDeepEqual(await viewPixels('coronal'), beforePixels, 'the view redrew without the sphere');
    const px = await pixelAtVoxel('coronal', [40, 30, 20]);
    assert.ok(Math.abs(px[0] - px[1]) <= 1, `undone voxel is grey again: ${px}`);
  });

  test('the eraser clears label voxels; "only empty" and locked labels are respected', async () => {
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setTool('eraser');
      v.brushShape = 'disc';
      v.brushRadiusMm = 2;
    });
    const c = [25, 19, 16];
    const p = await pageOfVoxel('axial', c);
    await h.page.mouse.move(p[0], p[1]);
    await h.page.mouse.down();
    await h.page.mouse.up();
    await h.settle();
    let all = await edits();
    let e = editOf(all[all.length - 1]);
    assert.equal(e.label, 'Eraser');
    assert.deepEqual(e.indices, expectedStroke(c, c, 2, 2));
    assert.ok(e.after.every((x) => x === 0));
    // Paint label 3 with "only empty": the label-1 voxels stay 1.
    await inPage((v) => {
      v.setTool('brush');
      v.activeLabel = 3;
      v.overwrite = 'empty';
      v.brushRadiusMm = 4;
    });
    const c2 = [28, 20, 16];
    const p2 = await pageOfVoxel('axial', c2);
    await h.page.mouse.move(p2[0], p2[1]);
    await h.page.mouse.down();
    await h.page.mouse.up();
    all = await edits();
    e = editOf(all[all.length - 1]);
    assert.ok(e.before.every((x) => x === 0), 'only empty voxels were painted');
    assert.ok(e.indices.length > 0 && e.indices.length < expectedStroke(c2, c2, 4, 2).length);
    // Lock label 1, paint over all with label 4: label 1 voxels are untouched.
    await inPage((v) => {
      v.overwrite = 'all';
      v.activeLabel = 4;
      v.setLabelTable([{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: true }], true, 'Lock label');
    });
    const posted = await h.posted();
    assert.equal(posted[posted.length - 1].type, 'setLabelTable');
    await h.page.mouse.move(p2[0], p2[1]);
    await h.page.mouse.down();
    await h.page.mouse.up();
    all = await edits();
    e = editOf(all[all.length - 1]);
    assert.ok(e.before.every((x) => x !== 1), 'locked label 1 was not overwritten');
    assert.ok(e.before.some((x) => x === 3), 'label 3 was overwritten');
    await inPage((v) => {
      v.setLabelTable([], false);
      v.setTool('navigate');
    });
  });

  test('read-only documents refuse edits', async () => {
    await h.page.evaluate(() => window.postMessage({ type: 'readOnly', readOnly: true, reason: 'the folder is not writable' }, '*'));
    await h.settle();
    await inPage((v) => v.setTool('brush'));
    const n = (await edits()).length;
    const p = await pageOfVoxel('axial', [30, 30, 16]);
    await h.page.mouse.move(p[0], p[1]);
    await h.page.mouse.down();
    await h.page.mouse.up();
    assert.equal((await edits()).length, n);
    assert.match((await h.page.evaluate(() => document.querySelector('.ll-warning')!.textContent)) ?? '', /not writable/);
    await h.page.evaluate(() => window.postMessage({ type: 'readOnly', readOnly: false, reason: null }, '*'));
    await inPage((v) => v.setTool('navigate'));
  });
});

describe('overlays and messages', () => {
  test('a probability map shows in heat colours above its threshold only', async () => {
    await h.load(syntheticVolume(DIMS, SPACING));
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
    });
    const grey = await pixelAtVoxel('axial', [20, 20, 16]);
    await h.page.evaluate((dims) => {
      const n = dims[0] * dims[1] * dims[2];
      const p = new Float32Array(n);
      // p = 0.9 for i < 24, 0.2 elsewhere.
      for (let idx = 0; idx < n; idx++) p[idx] = idx % dims[0] < 24 ? 0.9 : 0.2;
      window.postMessage({ type: 'overlay', kind: 'probability', voxels: p.buffer, range: [0, 1], proposal: null }, '*');
    }, DIMS);
    await h.settle();
    const hot = await pixelAtVoxel('axial', [20, 20, 16]);
    assert.ok(hot[0] > grey[0] + 30 && hot[0] > hot[2] + 30, `p = 0.9 shows hot: ${hot} vs ${grey}`);
    const below = await pixelAtVoxel('axial', [40, 20, 16]);
    assert.ok(Math.abs(below[0] - below[2]) <= 1, `p = 0.2 is below the 0.5 threshold: ${below}`);
    await inPage((v) => v.setProbDisplay({ show: false }));
    await h.settle();
    assert.deepEqual(await pixelAtVoxel('axial', [20, 20, 16]), grey, 'toggled off');
    await h.page.evaluate(() => window.postMessage({ type: 'clearOverlay', kind: 'probability' }, '*'));
  });

  test('label outline mode draws only the boundary', async () => {
    const labels = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
    for (let k = 10; k < 22; k++) for (let j = 14; j < 34; j++) for (let i = 20; i < 44; i++) labels[lin([i, j, k])] = 1;
    await h.load({ ...syntheticVolume(DIMS, SPACING), labels });
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
      v.setLabelDisplay({ outline: false, opacity: 1 });
    });
    await h.settle();
    assert.deepEqual(await pixelAtVoxel('axial', [28, 20, 16]), [255, 0, 0], 'filled at opacity 1');
    await inPage((v) => v.setLabelDisplay({ outline: true }));
    await h.settle();
    const inner = await pixelAtVoxel('axial', [28, 20, 16]);
    assert.ok(inner[1] > 50 && Math.abs(inner[0] - inner[1]) <= 1, `inside is not filled in outline mode: ${inner}`);
    const px = await viewPixels('axial');
    let red = 0;
    for (let o = 0; o < px.length; o += 4) if (px[o] === 255 && px[o + 1] === 0) red++;
    assert.ok(red > 50, `an outline is drawn (${red} red pixels)`);
    await h.screenshot('labels-outline');
    await inPage((v) => v.setLabelDisplay({ outline: false, opacity: 0.5 }));
    // 3-D: no labels, tinted volume and surface give three different pictures with red in the last two.
    const pictures: Uint8Array[] = [];
    for (const labelMode of [0, 1, 2]) {
      await inPage((v, m: number) => v.set3dMode(1, m), labelMode);
      await h.settle();
      pictures.push(await viewPixels('3d'));
    }
    const reddish = (px: Uint8Array) => {
      let n = 0;
      for (let o = 0; o < px.length; o += 4) if (px[o] > px[o + 1] + 40 && px[o] > px[o + 2] + 40) n++;
      return n;
    };
    assert.equal(reddish(pictures[0]), 0, 'no labels: no red');
    assert.ok(reddish(pictures[1]) > 100, `tinted labels show red (${reddish(pictures[1])})`);
    assert.ok(reddish(pictures[2]) > 100, `label surface shows red (${reddish(pictures[2])})`);
    assert.notDeepEqual(pictures[1], pictures[2]);
    await h.screenshot('labels-3d-surface');
    await inPage((v) => v.set3dMode(0, 1));
  });

  test('4-D: the frame keys ask the host for a frame, and frameData replaces the image', async () => {
    const vol = syntheticVolume(DIMS, SPACING);
    await h.load(vol);
    await h.page.evaluate(() => {
      const v = (window as any).lesionLab.viewer;
      // Pretend the document has 3 frames (init said 1 in this harness).
      v.vol.init.frameCount = 3;
      v.onUiChanged?.();
    });
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
    });
    await h.settle();
    const before = await pixelAtVoxel('axial', [40, 20, 16]);
    const [x, y] = await pageOfVoxel('axial', [40, 20, 16]);
    await h.page.mouse.move(x, y);
    await h.page.keyboard.press('.');
    const req = await h.lastPosted('requestFrame');
    assert.equal(req.last?.frame, 1);
    await h.page.evaluate((dims) => {
      const n = dims[0] * dims[1] * dims[2];
      const voxels = new Int16Array(n).fill(300);
      const stats = { min: 300, max: 300, mean: 300, p1: 300, p5: 300, p50: 300, p95: 300, p99: 300, p99_5: 300, nonFiniteCount: 0, headerWindow: null };
      window.postMessage({ type: 'frameData', frame: 1, voxelType: 'int16', voxels: voxels.buffer, stats }, '*');
    }, DIMS);
    await h.settle();
    const after = await pixelAtVoxel('axial', [40, 20, 16]);
    assert.notDeepEqual(after, before);
    assert.deepEqual(after, [191, 191, 191], 'value 300 in window [0, 400] → 191');
    assert.equal(await inPage((v) => v.frame), 1);
    const status = await h.page.evaluate(() => document.querySelector('.ll-status')!.textContent);
    assert.match(status ?? '', /frame 2\/3/);
  });

  test('16-bit label volumes (R16UI) draw label values above 255 in their table colour', async () => {
    const n = DIMS[0] * DIMS[1] * DIMS[2];
    const labels = new Uint16Array(n);
    for (let k = 10; k < 22; k++) for (let j = 14; j < 34; j++) for (let i = 20; i < 44; i++) labels[lin([i, j, k])] = 300;
    await h.load({
      ...syntheticVolume(DIMS, SPACING),
      labels,
      labelTable: [{ value: 300, name: 'Region 300', color: [0, 255, 0], visible: true, locked: false }],
    });
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
      v.setLabelDisplay({ opacity: 1, outline: false });
    });
    await h.settle();
    assert.deepEqual(await pixelAtVoxel('axial', [28, 20, 16]), [0, 255, 0]);
    // Paint with label 301 and check the delta is 16-bit.
    await inPage((v) => {
      v.setTool('brush');
      v.activeLabel = 301;
      v.brushRadiusMm = 1;
    });
    const p = await pageOfVoxel('axial', [50, 10, 16]);
    await h.page.mouse.move(p[0], p[1]);
    await h.page.mouse.down();
    await h.page.mouse.up();
    const e = editOf((await h.lastPosted('edit')).last!);
    assert.ok(e.after.every((x) => x === 301));
    assert.ok(e.indices.includes(lin([50, 10, 16])));
    await inPage((v) => {
      v.setTool('navigate');
      v.setLabelDisplay({ opacity: 0.5 });
    });
  });

  test('the label table renames, hides and locks labels and posts setLabelTable', async () => {
    const labels = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
    for (let k = 10; k < 22; k++) for (let j = 14; j < 34; j++) for (let i = 20; i < 44; i++) labels[lin([i, j, k])] = 1;
    await h.load({ ...syntheticVolume(DIMS, SPACING), labels });
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setLabelDisplay({ opacity: 1 });
    });
    const name = h.page.locator('.ll-label-row[data-value="1"] input[type="text"]');
    await name.fill('Lesion');
    await name.press('Enter');
    let m = (await h.lastPosted('setLabelTable')).last!;
    assert.equal(m.label, 'Rename label');
    assert.deepEqual((m.labelTable as { value: number; name: string }[]).map((e) => [e.value, e.name]), [[1, 'Lesion']]);
    await h.settle();
    assert.deepEqual(await pixelAtVoxel('axial', [28, 20, 16]), [255, 0, 0]);
    await h.page.locator('.ll-label-row[data-value="1"] input[type="checkbox"]').first().uncheck();
    m = (await h.lastPosted('setLabelTable')).last!;
    assert.equal(m.label, 'Hide label');
    await h.settle();
    const hidden = await pixelAtVoxel('axial', [28, 20, 16]);
    assert.ok(hidden[0] === hidden[1], `hidden label is not drawn: ${hidden}`);
    await h.page.locator('.ll-label-row[data-value="1"] input[type="checkbox"]').nth(1).check();
    m = (await h.lastPosted('setLabelTable')).last!;
    assert.equal(m.label, 'Lock label');
    assert.equal((m.labelTable as { locked: boolean }[])[0].locked, true);
    await inPage((v) => v.setLabelDisplay({ opacity: 0.5 }));
  });

  test('replaceLabels swaps the whole label volume; settings change layout and convention', async () => {
    await h.load(syntheticVolume(DIMS, SPACING));
    await inPage((v) => {
      v.setCrosshairVoxel([32, 24, 16]);
      v.setWindow({ level: 200, width: 400 });
    });
    await h.page.evaluate((dims) => {
      const n = dims[0] * dims[1] * dims[2];
      const labels = new Uint8Array(n).fill(5);
      window.postMessage({ type: 'replaceLabels', cause: 'revert', labels: { voxels: labels.buffer, bits: 8 }, labelTable: [{ value: 5, name: 'Five', color: [0, 0, 255], visible: true, locked: false }] }, '*');
      window.postMessage({ type: 'settings', settings: { radiological: false, layout: '1x3', colormap: 'gray', labelOpacity: 1, labelOutline: false, brushRadiusMm: 2, overwriteMode: 'empty' } }, '*');
    }, DIMS);
    await h.settle();
    assert.deepEqual(await pixelAtVoxel('axial', [40, 20, 16]), [0, 0, 255]);
    const rects = (await inPage((v) => v.viewRects())) as Record<string, Rect>;
    assert.deepEqual(Object.keys(rects).sort(), ['axial', 'coronal', 'sagittal']);
    assert.equal(await inPage((v) => v.radiological), false);
    assert.equal(await inPage((v) => v.overwrite), 'empty');
    const rows = await h.page.evaluate(() => Array.from(document.querySelectorAll('.ll-label-row input[type="text"]')).map((i) => (i as HTMLInputElement).value));
    assert.equal(rows[0], 'Five', 'the new table is shown (plus the active label row)');
    await h.page.evaluate(() =>
      window.postMessage({ type: 'settings', settings: { radiological: true, layout: '2x2', colormap: 'gray', labelOpacity: 0.5, labelOutline: false, brushRadiusMm: 3, overwriteMode: 'all' } }, '*'),
    );
    await h.settle();
  });

  test('a volume larger than the texture limit gets a clear message with size and limit', async () => {
    const dims: [number, number, number] = [2100, 2, 1];
    await h.page.evaluate((dims) => {
      const n = dims[0] * dims[1] * dims[2];
      window.postMessage({
        type: 'init', fileName: 'wide.nii.gz', dims,
        affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], voxelType: 'uint8',
        voxels: new ArrayBuffer(n), frameCount: 1, frame: 0,
        stats: { min: 0, max: 0, mean: 0, p1: 0, p5: 0, p50: 0, p95: 0, p99: 0, p99_5: 0, nonFiniteCount: 0, headerWindow: null },
        modality: 'unknown', labels: { voxels: new ArrayBuffer(n), bits: 8 }, labelTable: [], readOnly: false, readOnlyReason: null,
        maskMessage: null,
        settings: { radiological: true, layout: '2x2', colormap: 'gray', labelOpacity: 0.5, labelOutline: false, brushRadiusMm: 3, overwriteMode: 'all' },
      }, '*');
    }, dims);
    await h.page.waitForFunction(() => !(document.querySelector('.ll-message') as HTMLElement).hidden);
    const text = await h.page.evaluate(() => document.querySelector('.ll-message')!.textContent);
    assert.match(text ?? '', /wide\.nii\.gz is 2100×2×1 voxels/);
    assert.match(text ?? '', /at most 2048 voxels/);
    await h.screenshot('message-too-large');
  });

  test('the bundle runs under the editor\'s strict CSP (nonce scripts, no eval) without violations', async () => {
    const nonce = 'dGVzdG5vbmNlMTIzNDU2Nw==';
    h.serveHtml(
      '/csp.html',
      webviewHtml({ cspSource: h.origin, nonce, scriptUri: `${h.origin}/dist/webview.js`, styleUri: `${h.origin}/media/webview.css` }),
    );
    const page = await h.page.context().newPage();
    await page.addInitScript(() => {
      (window as any).__name = (f: unknown) => f;
      (window as any).__violations = [];
      (window as any).__posted = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as any).__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      (window as any).acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => (window as any).__posted.push(m),
        getState: () => undefined,
        setState: () => undefined,
      });
    });
    await page.goto(`${h.origin}/csp.html`);
    await page.waitForFunction(() => (window as any).lesionLab !== undefined);
    await page.evaluate((dims) => {
      const n = dims[0] * dims[1] * dims[2];
      const voxels = new Int16Array(n).fill(100);
      window.postMessage({
        type: 'init', fileName: 'csp.nii.gz', dims,
        affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], voxelType: 'int16',
        voxels: voxels.buffer, frameCount: 1, frame: 0,
        stats: { min: 100, max: 100, mean: 100, p1: 100, p5: 100, p50: 100, p95: 100, p99: 100, p99_5: 100, nonFiniteCount: 0, headerWindow: null },
        modality: 'unknown', labels: { voxels: new ArrayBuffer(n), bits: 8 }, labelTable: [], readOnly: false, readOnlyReason: null,
        maskMessage: null,
        settings: { radiological: true, layout: '2x2', colormap: 'gray', labelOpacity: 0.5, labelOutline: false, brushRadiusMm: 3, overwriteMode: 'all' },
      }, '*');
    }, [16, 16, 8]);
    await page.waitForFunction(() => (window as any).__posted.some((m: { type: string }) => m.type === 'rendered'));
    assert.deepEqual(await page.evaluate(() => (window as any).__violations), []);
    await page.close();
  });

  test('without WebGL2 the webview says so instead of drawing', async () => {
    const page = await h.page.context().newPage();
    await page.addInitScript(() => {
      (window as any).__name = (f: unknown) => f;
      const orig = HTMLCanvasElement.prototype.getContext;
      (HTMLCanvasElement.prototype as any).getContext = function (this: HTMLCanvasElement, kind: string, ...rest: unknown[]) {
        return kind === 'webgl2' ? null : (orig as any).call(this, kind, ...rest);
      };
    });
    await page.goto(h.page.url());
    await page.waitForFunction(() => (window as any).lesionLab !== undefined);
    const text = await page.evaluate(() => document.querySelector('.ll-message')!.textContent);
    assert.match(text ?? '', /WebGL2 is not available/);
    const posted = (await page.evaluate(() => (window as any).__posted.map((m: { type: string }) => m.type))) as string[];
    assert.ok(posted.includes('error') && posted.includes('ready'));
    await page.close();
  });
});
