// The image colormaps (pure): gray and the perceptual maps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colormapTable } from '../../webview/colormaps';

test('colormaps: gray is the identity, the perceptual maps are monotone in lightness-ish and opaque', () => {
  const g = colormapTable('gray');
  assert.deepEqual([g[0], g[4 * 128], g[4 * 255]], [0, 128, 255]);
  for (const name of ['hot', 'viridis', 'inferno', 'plasma', 'cividis'] as const) {
    const t = colormapTable(name);
    assert.equal(t.length, 1024);
    const lum = (i: number) => 0.2126 * t[4 * i] + 0.7152 * t[4 * i + 1] + 0.0722 * t[4 * i + 2];
    assert.ok(lum(255) > lum(0) + 100, `${name} gets brighter`);
    for (let i = 0; i < 256; i++) assert.equal(t[4 * i + 3], 255);
  }
});
