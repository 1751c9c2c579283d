// Per-label statistics: the pure computation (volume, intensity mean ± SD, min–max), and the label
// table's Statistics panel in headless Chromium, which matches it and follows the labels as they
// are painted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { formatVolume, labelStatistics } from '../../webview/labelStatistics';
import { inPage, launchChromium, openHarness, strokeThrough, syntheticVolume, type Harness } from './harness';

test('labelStatistics: voxels, volume and intensity per label; NaN voxels are counted but not averaged', () => {
  const image = [10, 20, 30, 40, NaN, 5, 7];
  const labels = [0, 1, 1, 2, 2, 0, 1];
  const stats = labelStatistics(image, labels, 1.5);
  assert.deepEqual(
    stats.map((s) => [s.value, s.voxels, s.volumeMm3, s.mean, s.min, s.max]),
    [
      [1, 3, 4.5, 19, 7, 30],
      [2, 2, 3, 40, 40, 40],
    ],
  );
  assert.ok(Math.abs(stats[0].sd - Math.sqrt(((20 - 19) ** 2 + (30 - 19) ** 2 + (7 - 19) ** 2) / 3)) < 1e-12);
  assert.equal(stats[1].sd, 0);
  // A label whose voxels are all NaN has no intensity.
  const nan = labelStatistics([NaN], [3], 1)[0];
  assert.deepEqual([nan.voxels, Number.isNaN(nan.mean), Number.isNaN(nan.sd), Number.isNaN(nan.min)], [1, true, true, true]);
  // Large offsets (CT in HU + 1024, 10⁶ voxels) keep their SD.
  const n = 1_000_000;
  const big = Float64Array.from({ length: n }, (_, i) => 3000 + (i % 2));
  const s = labelStatistics(big, new Uint8Array(n).fill(1), 1)[0];
  assert.ok(Math.abs(s.mean - 3000.5) < 1e-9 && Math.abs(s.sd - 0.5) < 1e-6, `${s.mean} ± ${s.sd}`);
  assert.equal(labelStatistics([1, 2], [0, 0], 1).length, 0);
  assert.throws(() => labelStatistics([1, 2], [1], 1), /2 image voxels but 1 labels/);
  assert.equal(formatVolume(1234.4), '1,234 mm³');
  assert.equal(formatVolume(12_345), '12.3 mL');
});

describe('the Statistics panel of the label table', () => {
  const DIMS: [number, number, number] = [40, 32, 16];
  const SPACING: [number, number, number] = [1, 1.5, 2];
  let browser: Browser;
  let h: Harness;
  const volume = syntheticVolume(DIMS, SPACING);
  const labels = new Uint8Array(volume.voxels.length);

  before(async () => {
    // Label 1: the bright box of the synthetic volume; label 2: a slab of the sphere.
    for (let v = 0; v < labels.length; v++) labels[v] = volume.voxels[v] === 400 ? 1 : Math.floor(v / (DIMS[0] * DIMS[1])) === 4 && volume.voxels[v] > 0 ? 2 : 0;
    browser = await launchChromium();
    h = await openHarness(browser, { width: 900, height: 600 });
    await h.load({ ...volume, labels, labelTable: [{ value: 2, name: 'Oedema', color: [0, 200, 0], visible: true, locked: false }] });
    await inPage(h, (v) => {
      v.setLayout('single', 'axial');
      v.setCrosshairVoxel([20, 16, 8]);
    });
    await h.settle();
  });
  after(async () => {
    await h?.close();
    await browser?.close();
  });

  const shown = (): Promise<string[]> => h.page.evaluate(() => Array.from(document.querySelectorAll('.ll-label-stat')).map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));

  test('Statistics shows each label\'s volume and intensity, as computed here; painting updates it', async () => {
    assert.equal(await h.page.isHidden('.ll-label-stats-list'), true, 'hidden until asked for');
    await h.page.click('.ll-label-stats button');
    await h.settle();
    const expected = labelStatistics(volume.voxels, labels, 3);
    assert.equal(expected.length, 2);
    const text = await shown();
    const fmt = (x: number): string => String(Number(x.toPrecision(4)));
    assert.deepEqual(
      text,
      expected.map((s) => `${s.value} ${s.value === 2 ? 'Oedema' : 'Label 1'}: ${formatVolume(s.volumeMm3)} (${s.voxels.toLocaleString('en-US')} voxels) intensity ${fmt(s.mean)} ± ${fmt(s.sd)} (${fmt(s.min)} to ${fmt(s.max)})`),
    );
    assert.match(text[0], /^1 Label 1: [\d,]+ mm³ \([\d,]+ voxels\) intensity 400 ± 0 \(400 to 400\)$/);
    await h.screenshot('label-statistics');
    // A brush stroke of label 1 on the axial slice adds voxels to it.
    const before1 = expected[0].voxels;
    await inPage(h, (v) => {
      v.setTool('brush');
      v.activeLabel = 1;
      v.brushRadiusMm = 2;
    });
    await strokeThrough(h, 'axial', [
      [5, 16, 8],
      [12, 16, 8],
    ]);
    await h.page.waitForTimeout(400);
    const after1 = await h.page.evaluate(() => (document.querySelector('.ll-label-stat[data-value="1"]') as HTMLElement).innerText);
    const count = Number(/\(([\d,]+) voxels\)/.exec(after1)![1].replace(/,/g, ''));
    const painted = await inPage(h, (v) => Array.from(v.vol.labels.data as Uint8Array).filter((x) => x === 1).length);
    assert.ok(count > before1, `${before1} → ${count} voxels`);
    assert.equal(count, painted, 'the panel follows the labels');
    // Hidden again with the same button.
    await h.page.click('.ll-label-stats button');
    assert.equal(await h.page.isHidden('.ll-label-stats-list'), true);
  });
});
