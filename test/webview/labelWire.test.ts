// The label volume as the host really sends it: an all-background volume is an empty buffer with
// its bit depth. The webview must make a zeroed array of the right type and size from it, so a
// later 16-bit change (a redo with a label above 255) lands exactly.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inPage, launchChromium, openHarness, syntheticVolume, type Harness } from './harness';

let browser: Browser;
let h: Harness;
const DIMS: [number, number, number] = [24, 20, 12];
const N = DIMS[0] * DIMS[1] * DIMS[2];

before(async () => {
  browser = await launchChromium();
  h = await openHarness(browser, { width: 300, height: 300 });
});
after(async () => {
  await h?.close();
  await browser?.close();
});

test('an empty 16-bit label volume stays 16-bit; a host delta with label 300 lands; replaceLabels too', async () => {
  await h.load({ ...syntheticVolume(DIMS, [1, 1, 1]), labels: new Uint16Array(N) });
  const state = await inPage(h, (v) => ({ kind: v.labels.constructor.name, length: v.labels.length }));
  assert.deepEqual(state, { kind: 'Uint16Array', length: N });
  const warnings = (await h.posted()).filter((m) => m.type === 'log' && /label volume has/.test(String(m.message)));
  assert.deepEqual(warnings, [], 'no "starting empty" fallback');

  // A redo from the host: voxel 1234 becomes label 300.
  await h.page.evaluate(() => {
    const u32 = (a: number[]) => new Uint32Array(a).buffer;
    const u16 = (a: number[]) => new Uint16Array(a).buffer;
    window.postMessage({ type: 'applyDelta', cause: 'redo', label: 'Brush', delta: { runs: u32([1234, 1]), before: u16([0]), after: u16([300]), bits: 16 } }, '*');
  });
  await h.settle();
  assert.equal(await inPage(h, (v) => v.labels[1234]), 300);

  // Revert to an all-background 16-bit volume: again an empty buffer.
  await h.page.evaluate(() => {
    window.postMessage({ type: 'replaceLabels', cause: 'revert', labels: { voxels: new ArrayBuffer(0), bits: 16 }, labelTable: [] }, '*');
  });
  await h.settle();
  const reverted = await inPage(h, (v) => ({ kind: v.labels.constructor.name, length: v.labels.length, at: v.labels[1234] }));
  assert.deepEqual(reverted, { kind: 'Uint16Array', length: N, at: 0 });
});
