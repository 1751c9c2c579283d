// The Measure tool in headless Chromium on a volume with anisotropic voxels (1 × 1.5 × 2 mm): D
// selects it; a drag lays a ruler whose length is in mm, true to the voxel sizes; in angle mode a
// drag and a click lay an angle in degrees; measurements are drawn on the slice they were laid on
// only (another slice or another view does not show them) and come back when the webview reloads;
// Backspace removes the last and Esc clears them; a click lays none; the labels never change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inPage, launchChromium, openHarness, pageOfVoxel, syntheticVolume, type Harness } from './harness';

const DIMS: [number, number, number] = [64, 48, 32];
const SPACING: [number, number, number] = [1, 1.5, 2];

let browser: Browser;
let h: Harness;

before(async () => {
  browser = await launchChromium();
  h = await openHarness(browser, { width: 900, height: 700 });
  await h.load(syntheticVolume(DIMS, SPACING));
  await inPage(h, (v) => v.setCrosshairVoxel([32, 24, 16]));
  await h.settle();
});
after(async () => {
  await h?.close();
  await browser?.close();
});

/** Ruler-coloured (yellow) pixels of the overlay layer in the rectangle of `view`. */
async function yellowIn(view: 'axial' | 'coronal' | 'sagittal'): Promise<number> {
  const rect = await inPage(h, (v, kind: string) => v.sliceViews.find((s: { kind: string }) => s.kind === kind).rect, view);
  return h.page.evaluate((rect: { x: number; y: number; width: number; height: number }) => {
    const c = document.querySelector('canvas.ll-prompt-layer') as HTMLCanvasElement;
    const s = window.devicePixelRatio || 1;
    const d = c.getContext('2d')!.getImageData(Math.round(rect.x * s), Math.round(rect.y * s), Math.round(rect.width * s), Math.round(rect.height * s)).data;
    let n = 0;
    for (let p = 0; p < d.length; p += 4) if (d[p + 3] > 200 && d[p] > 200 && d[p + 1] > 170 && d[p + 2] < 60) n++;
    return n;
  }, rect);
}

/** A left-button drag in `view` from voxel centre `a` to voxel centre `b`. */
async function drag(view: string, a: number[], b: number[]): Promise<void> {
  const [ax, ay] = await pageOfVoxel(h, view, a);
  const [bx, by] = await pageOfVoxel(h, view, b);
  await h.page.mouse.move(ax, ay);
  await h.page.mouse.down();
  await h.page.mouse.move(bx, by, { steps: 6 });
  await h.page.mouse.up();
  await h.settle();
}

const rulerLengths = (): Promise<number[]> =>
  inPage(h, (v) => v.measureTool.rulers.map((r: { a: number[]; b: number[] }) => Math.hypot(r.b[0] - r.a[0], r.b[1] - r.a[1], r.b[2] - r.a[2])));
const status = async (): Promise<string> => (await h.page.textContent('.ll-status')) ?? '';

test('D selects the Measure tool; a drag lays a ruler measured in mm, true to anisotropic voxels', async () => {
  const edits = (await h.posted()).filter((m) => m.type === 'edit').length;
  await h.page.focus('canvas.ll-canvas');
  await h.page.keyboard.press('d');
  assert.equal(await inPage(h, (v) => v.tool), 'measure');
  assert.match(await h.page.getAttribute('button[data-tool="measure"]', 'title') ?? '', /^Measure \(D\)/);
  // 30 voxels along i (1 mm) and 20 along j (1.5 mm): √(30² + 30²) = 42.43 mm between the centres.
  await drag('axial', [10, 10, 16], [40, 30, 16]);
  const [len] = await rulerLengths();
  assert.ok(Math.abs(len - Math.hypot(30, 30)) < 0.4, `ruler ${len.toFixed(2)} mm`);
  assert.match(await status(), /^Ruler 1: 4[12]\.\d mm \(Backspace removes the last measurement, Esc clears it\)$/);
  assert.ok((await yellowIn('axial')) > 100, 'drawn in the axial view');
  assert.equal(await yellowIn('coronal'), 0, 'not in the other views');
  assert.equal(await yellowIn('sagittal'), 0);
  // Along k in the coronal view: 16 slices of 2 mm.
  await drag('coronal', [20, 24, 4], [20, 24, 20]);
  assert.ok(Math.abs((await rulerLengths())[1] - 32) < 0.6, `ruler ${(await rulerLengths())[1].toFixed(2)} mm`);
  assert.match(await status(), /^Ruler 2: 3[12]\.\d mm \(Backspace removes the last measurement, Esc clears all 2\)$/);
  assert.ok((await yellowIn('coronal')) > 50);
  await h.screenshot('measure-rulers');
  assert.equal((await h.posted()).filter((m) => m.type === 'edit').length, edits, 'measuring never edits the labels');
});

test('a ruler shows on its own slice only; a click lays none; Backspace removes the last, Esc clears them', async () => {
  const axialYellow = await yellowIn('axial');
  await inPage(h, (v) => v.scrollSlice('axial', 1));
  await h.settle();
  assert.equal(await yellowIn('axial'), 0, 'the next axial slice has no ruler');
  await inPage(h, (v) => v.scrollSlice('axial', -1));
  await h.settle();
  assert.equal(await yellowIn('axial'), axialYellow, 'back on its slice');
  // A click without a drag.
  const [px, py] = await pageOfVoxel(h, 'axial', [50, 40, 16]);
  await h.page.mouse.click(px, py);
  await h.settle();
  assert.equal((await rulerLengths()).length, 2);
  await h.page.keyboard.press('Backspace');
  await h.settle();
  assert.equal((await rulerLengths()).length, 1);
  assert.equal(await yellowIn('coronal'), 0, 'the coronal ruler was the last');
  assert.equal(await yellowIn('axial'), axialYellow);
  await h.page.keyboard.press('Escape');
  await h.settle();
  assert.deepEqual(await rulerLengths(), []);
  assert.equal(await yellowIn('axial'), 0);
});

test('angle mode: a drag lays the first arm, a click the second; the angle is in degrees, true to the voxel sizes', async () => {
  await h.page.selectOption('select[data-ctl="measureMode"]', 'angle');
  // First arm from (30, 10) to (10, 10): −20 mm along i; second arm to (10, 30): +30 mm along j. 90°.
  await drag('axial', [30, 10, 16], [10, 10, 16]);
  assert.equal((await rulerLengths()).length, 0, 'not laid before the second arm');
  assert.match(await status(), /^Angle: first arm 2\d\.\d mm; click where the second arm from its end goes$/);
  const [px, py] = await pageOfVoxel(h, 'axial', [10, 30, 16]);
  await h.page.mouse.click(px, py);
  await h.settle();
  const angles = (): Promise<number[]> =>
    inPage(h, (v) =>
      v.measureTool.rulers
        .filter((r: { c?: number[] }) => r.c)
        .map((r: { a: number[]; b: number[]; c: number[] }) => {
          const u = [0, 1, 2].map((n) => r.a[n] - r.b[n]);
          const w = [0, 1, 2].map((n) => r.c[n] - r.b[n]);
          return (Math.acos((u[0] * w[0] + u[1] * w[1] + u[2] * w[2]) / (Math.hypot(...u) * Math.hypot(...w))) * 180) / Math.PI;
        }),
    );
  assert.ok(Math.abs((await angles())[0] - 90) < 1.5, `${(await angles())[0]}°`);
  assert.match(await status(), /^Angle 1: (8[89]|9[01])\.\d° \(Backspace removes the last measurement, Esc clears it\)$/);
  // (10, 10) → (30, 10) then to (50, 30): arms (−20, 0) and (+20, +30) mm; the angle is 123.7°.
  await drag('axial', [10, 10, 16], [30, 10, 16]);
  await drag('axial', [40, 20, 16], [50, 30, 16]);
  const all = await angles();
  assert.equal(all.length, 2);
  assert.ok(Math.abs(all[1] - 123.69) < 1.5, `${all[1]}°`);
  await h.screenshot('measure-angles');
  // Kept with the view state: a reload of the same document brings them back.
  const saved = await inPage(h, (v) => v.measureTool.rulers.length);
  await h.page.waitForTimeout(600);
  await h.load(syntheticVolume(DIMS, SPACING));
  await h.settle();
  assert.equal(await inPage(h, (v) => v.measureTool.rulers.length), saved);
  assert.ok((await yellowIn('axial')) > 100);
  await h.page.keyboard.press('Escape');
  await h.settle();
  assert.equal(await inPage(h, (v) => v.measureTool.rulers.length), 0);
});
