// The toolbar: a tool palette with the active tool highlighted, a tool-options row that shows
// only the active tool's options (in words, with units), tooltips naming the shortcut keys,
// codicons from the bundled font, theme colours.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inPage, launchChromium, openHarness, syntheticVolume, type Harness } from './harness';
import { applyTheme } from './toolbarScreenshots';

let browser: Browser;
let h: Harness;

before(async () => {
  browser = await launchChromium();
  h = await openHarness(browser, { width: 1280, height: 500 });
  await h.load(syntheticVolume([32, 32, 16], [1, 1, 2]));
});

after(async () => {
  await h?.close();
  await browser?.close();
});

/** Fields of the tool-options row that are shown, by `data-field`. */
function shownOptions(): Promise<string[]> {
  return h.page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('[data-group="brush"] [data-field]'))
      .filter((e) => e.offsetParent !== null)
      .map((e) => e.dataset.field ?? ''),
  );
}

test('the palette highlights the active tool; the options row shows only its options', async () => {
  await h.page.click('button[data-tool="brush"]');
  assert.equal(await inPage(h, (v) => v.tool), 'brush');
  assert.equal(await h.page.getAttribute('button[data-tool="brush"]', 'aria-pressed'), 'true');
  assert.equal(await h.page.getAttribute('button[data-tool="navigate"]', 'aria-pressed'), 'false');
  assert.deepEqual(await shownOptions(), ['radius', 'shape', 'overwrite', 'threshold']);
  assert.equal(await h.page.textContent('[data-field="radius"]'), 'Radiusmm');
  assert.equal(await h.page.textContent('.ll-tool-name'), 'Brush');
  // The intensity range and "one label" fields appear with the options that need them.
  await h.page.check('input[data-ctl="threshold"]');
  await h.page.selectOption('select[data-ctl="overwrite"]', 'label');
  assert.deepEqual(await shownOptions(), ['radius', 'shape', 'overwrite', 'overwriteLabel', 'threshold', 'thrMin', 'thrMax']);
  assert.deepEqual(await inPage(h, (v) => [v.thresholdOn, v.overwrite]), [true, 'label']);
  await h.page.uncheck('input[data-ctl="threshold"]');
  await h.page.selectOption('select[data-ctl="overwrite"]', 'all');
  // Keys switch tools (not while a control has the focus), and the row follows.
  await h.page.focus('canvas.ll-canvas');
  await h.page.keyboard.press('g');
  assert.deepEqual(await shownOptions(), ['tolerance', 'overwrite', 'threshold']);
  await h.page.keyboard.press('n');
  assert.deepEqual(await shownOptions(), ['hint-navigate']);
  await h.page.keyboard.press('k');
  assert.deepEqual(await shownOptions(), ['hint-prompt', 'promptDrag', 'overwrite']);
  await h.page.keyboard.press('e');
  assert.deepEqual(await shownOptions(), ['radius', 'shape', 'overwrite']);
});

test('options typed in the row reach the viewer; keys update the row', async () => {
  await h.page.fill('input[data-ctl="radius"]', '4.5');
  await h.page.dispatchEvent('input[data-ctl="radius"]', 'change');
  assert.equal(await inPage(h, (v) => v.brushRadiusMm), 4.5);
  await h.page.focus('canvas.ll-canvas');
  await h.page.keyboard.press(']');
  assert.equal(await h.page.inputValue('input[data-ctl="radius"]'), String(await inPage(h, (v) => v.brushRadiusMm)));
  await h.page.keyboard.press('s');
  assert.equal(await h.page.inputValue('select[data-ctl="shape"]'), 'sphere');
});

test('every palette button and option has a tooltip; tools and toggles name their shortcut key', async () => {
  const titles: Record<string, string> = await h.page.evaluate(() =>
    Object.fromEntries(Array.from(document.querySelectorAll<HTMLElement>('button[data-tool], .ll-toolbar [data-field]')).map((e) => [e.dataset.tool ?? e.dataset.field ?? '', e.title])),
  );
  for (const [tool, key] of Object.entries({ navigate: 'N', brush: 'B', eraser: 'E', fill2d: 'F', grow3d: 'G', prompt: 'K', measure: 'D' })) assert.match(titles[tool], new RegExp(`\\(${key}\\)`), tool);
  assert.match(titles.radius, /\[ smaller, \] larger/);
  assert.match(titles.shape, /\(S\)/);
  assert.match(titles.threshold, /\(T\)/);
  for (const [field, title] of Object.entries(titles)) if (!field.startsWith('hint-')) assert.ok(title.length > 0, `${field} has a tooltip`);
});

test('icons come from the bundled codicon font; colours follow the theme variables', async () => {
  assert.equal(await h.page.evaluate(() => document.fonts.check('16px codicon')), true);
  assert.equal(await h.page.evaluate(async () => (await document.fonts.load('16px codicon')).length > 0), true, 'the codicon font loads');
  for (const kind of ['dark', 'light'] as const) {
    await applyTheme(h, kind);
    const [bar, active] = await h.page.evaluate(() => {
      document.querySelector<HTMLButtonElement>('button[data-tool="brush"]')!.click();
      return [getComputedStyle(document.querySelector('.ll-toolbar')!).backgroundColor, getComputedStyle(document.querySelector('button[data-tool="brush"]')!).borderColor];
    });
    assert.equal(bar, kind === 'dark' ? 'rgb(32, 32, 32)' : 'rgb(248, 248, 248)', `${kind}: --vscode-editorWidget-background`);
    assert.equal(active, kind === 'dark' ? 'rgb(36, 136, 219)' : 'rgb(0, 95, 184)', `${kind}: --vscode-inputOption-activeBorder`);
  }
});
