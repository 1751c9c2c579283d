// Real VS Code (code-server + headless Chromium, the packaged extension): the Lesion Lab
// activity-bar view on a workspace of four MS FLAIR crops (CC-BY, Lesjak et al. 2017) in all
// states, Segment All Unreviewed on the two without a mask, Open Next Case (Alt+N) showing the
// saved proposal, Accept, Mark Reviewed, and the states and counts changing. Screenshots go to
// test-output/e2e-cases/. Uses its own run folder, so it can run beside test/e2e/vscode.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { CACHE_DIR, PROJECT_ROOT, ensureCodeServer, freshProfile, installVsix, packageVsix, startCodeServer, tail, type ProfileDirs, type RunningCodeServer } from '../../scripts/e2e/codeServer';
import { writeCropNifti } from '../../scripts/e2e/fixtures';
import { readNifti, writeMaskLike } from '../../src/nifti';
import { buildSidecar, sidecarToText } from '../../src/labels/sidecar';
import { sharedDataPath } from '../helpers/sharedData';
import { CHROMIUM_ARGS } from '../webview/harness';
import { extensionLog, sleep, visibleText, waitFor } from './workbench';

const CHROMIUM = '/usr/bin/chromium';
const inCi = process.env.CI === 'true';
const OUT_DIR = join(PROJECT_ROOT, 'test-output/e2e-cases');
const RUN_DIR = join(CACHE_DIR, 'e2e-cases');
const FLAIR = (patient: string) => ['lesion', 'ms-flair-mni', patient, 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'];
const CROP = { origin: [48, 68, 68] as const, size: [80, 80, 48] as const };
/** The shipped starter the workspace's active.json names (the model version the proposals carry). */
const CHOSEN_STARTER = 'ms-flair';

function skipReason(): string | false {
  const data = sharedDataPath(...FLAIR('patient19'));
  if (!existsSync(CHROMIUM) || !existsSync(data)) {
    if (inCi) throw new Error(`CI=true but ${existsSync(CHROMIUM) ? data : CHROMIUM} is missing`);
    return `${existsSync(CHROMIUM) ? data : CHROMIUM} not found`;
  }
  return false;
}

/** F1, type the command's palette text, check the highlighted row, Enter. */
async function runCommand(page: Page, text: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { state: 'visible', timeout: 10_000 });
  await page.keyboard.type(text, { delay: 15 });
  // The palette lists near matches alphabetically ("Mark Not Reviewed" before "Mark Reviewed"):
  // move down to the row whose label is exactly the command's.
  const wanted = text.toLowerCase();
  await waitFor(
    `"${text}" highlighted in the command palette`,
    async () => {
      const label = (await visibleText(page, '.quick-input-widget .quick-input-list .monaco-list-row.focused')).toLowerCase().trim();
      if (label.startsWith(wanted) && !/^[a-z]/.test(label.slice(wanted.length))) return true;
      if (label !== '') await page.keyboard.press('ArrowDown');
      return undefined;
    },
    15_000,
    250,
  );
  await page.keyboard.press('Enter');
}

/** The rows of the Cases view as "relative/path: description" (their accessibility labels). */
async function caseRows(page: Page): Promise<string[]> {
  const labels = await page
    .locator('[id="workbench.view.extension.lesionLab"] .monaco-list-row')
    .evaluateAll((rows) => rows.map((r) => (r.getAttribute('aria-label') ?? '').replace(/\u00a0/g, ' ')))
    .catch(() => [] as string[]);
  return labels.filter((l) => l.includes('.nii'));
}

async function viewText(page: Page): Promise<string> {
  return visibleText(page, '[id="workbench.view.extension.lesionLab"]');
}

/** The Lesion Lab editor's webview frame (the one holding canvas.ll-canvas) that has drawn. */
async function renderedEditorFrame(page: Page, known: Set<Frame>): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f === page.mainFrame() || known.has(f)) continue;
    const rendered = await f
      .evaluate(() => {
        if (!document.querySelector('canvas.ll-canvas')) return false;
        const viewer = (window as unknown as { lesionLab?: { viewer?: Record<string, unknown> } }).lesionLab?.viewer;
        return document.querySelector('[data-rendered]') !== null || (viewer !== undefined && viewer.vol != null && viewer.firstFramePending === false);
      })
      .catch(() => false);
    if (rendered) return f;
  }
  return undefined;
}

/** Coloured (overlay) pixels in the viewer's canvas, read back from the webview. */
async function colouredPixels(frame: Frame): Promise<number> {
  const dataUrl = await frame.evaluate("document.querySelector('canvas.ll-canvas').toDataURL('image/png')");
  const png = PNG.sync.read(Buffer.from(String(dataUrl).slice('data:image/png;base64,'.length), 'base64'));
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const r = png.data[i];
    const g = png.data[i + 1];
    const b = png.data[i + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60 && !(b > r && b > g)) n++;
  }
  return n;
}

function sidecarOf(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

describe('real VS Code: the Lesion Lab Cases view, Segment All Unreviewed, Open Next Case, Mark Reviewed', { skip: skipReason() }, () => {
  let server: RunningCodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let profile: ProfileDirs;
  let ws = '';
  let shotIndex = 0;
  const summary: Record<string, unknown> = { startedAt: new Date().toISOString() };

  async function shot(name: string): Promise<void> {
    shotIndex++;
    await page.screenshot({ path: join(OUT_DIR, `${String(shotIndex).padStart(2, '0')}-${name}.png`) });
  }

  before(async () => {
    rmSync(OUT_DIR, { recursive: true, force: true });
    mkdirSync(OUT_DIR, { recursive: true });
    const install = ensureCodeServer();
    profile = freshProfile(join(RUN_DIR, 'state'), { 'lesionLab.testTimeAugmentation': true });
    installVsix(install, profile, packageVsix(join(RUN_DIR, 'lesion-lab-cases.vsix')));
    ws = join(RUN_DIR, 'workspace');
    rmSync(ws, { recursive: true, force: true });
    // Two cases without a mask, one edited (mask, not reviewed), one reviewed.
    const crops: [string, string][] = [
      ['cases/a_p19.nii.gz', 'patient19'],
      ['cases/b_p26.nii.gz', 'patient26'],
      ['done/c_p07.nii.gz', 'patient07'],
      ['done/d_p07.nii.gz', 'patient07'],
    ];
    for (const [rel, patient] of crops) {
      mkdirSync(join(ws, rel, '..'), { recursive: true });
      writeCropNifti(join(ws, rel), await readNifti(sharedDataPath(...FLAIR(patient))), CROP.origin, CROP.size, `lesion-lab e2e: crop of MS ${patient} FLAIR`);
    }
    for (const [name, reviewed] of [['c_p07', true], ['d_p07', false]] as const) {
      const image = await readNifti(join(ws, 'done', `${name}.nii.gz`));
      const labels = new Uint8Array(image.data.length);
      for (let v = 0; v < 500; v++) labels[30 + 80 * (30 + 80 * 20) + v] = 1;
      await writeMaskLike(image, labels, join(ws, 'done', `${name}_seg.nii.gz`));
      const sidecar = buildSidecar({
        imageFile: `${name}.nii.gz`, imageSha256: '00'.repeat(32), maskFile: `${name}_seg.nii.gz`, dims: image.dims, bits: 8, voxelVolumeMm3: 1,
        labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }], voxelCounts: new Map([[1, 500]]),
        modelVersion: null, handEditedVoxels: 500, reviewed, savedAt: new Date(),
      });
      writeFileSync(join(ws, 'done', `${name}_seg.json`), sidecarToText({ ...sidecar, lesionCount: 1 } as typeof sidecar));
    }
    // The model chosen up front for this workspace, as Select Model (or the first Segment
    // Lesion's starter question) records it: Segment All Unreviewed uses it without asking.
    mkdirSync(join(ws, '.lesion-lab', 'models'), { recursive: true });
    writeFileSync(join(ws, '.lesion-lab', 'models', 'active.json'), JSON.stringify({ starter: CHOSEN_STARTER }));
    server = await startCodeServer({ install, profile, workspaceDir: ws });
    context = await chromium.launchPersistentContext(join(RUN_DIR, 'chromium-profile-' + process.pid), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 860 },
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(server.url);
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
    await sleep(800);
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await server?.stop();
    rmSync(join(RUN_DIR, 'chromium-profile-' + process.pid), { recursive: true, force: true });
    if (profile) {
      writeFileSync(join(OUT_DIR, 'lesion-lab.log'), extensionLog(profile).join('\n') + '\n');
      writeFileSync(join(OUT_DIR, 'summary.json'), JSON.stringify(summary, null, 2));
      if (existsSync(profile.logFile)) writeFileSync(join(OUT_DIR, 'code-server.log'), tail(profile.logFile, 200));
    }
  });

  test('the view lists the four images with their states and the progress line', { timeout: 90_000 }, async () => {
    await page.click('.activitybar [aria-label^="Lesion Lab"]', { timeout: 20_000 });
    const rows = await waitFor('four cases in the view', async () => {
      const r = await caseRows(page);
      return r.length === 4 ? r : undefined;
    }, 45_000);
    await shot('cases-view');
    summary.initialRows = rows;
    assert.match(rows[0], /^cases\/a_p19\.nii\.gz: no mask$/);
    assert.match(rows[1], /^cases\/b_p26\.nii\.gz: no mask$/);
    assert.match(rows[2], /^done\/c_p07\.nii\.gz: reviewed · 1 lesion · 500 mm³$/);
    assert.match(rows[3], /^done\/d_p07\.nii\.gz: edited · 1 lesion · 500 mm³$/);
    assert.match(await viewText(page), /1 \/ 4 reviewed/);
  });

  test('Segment All Unreviewed saves a proposal beside each image without a mask', { timeout: 420_000 }, async () => {
    await runCommand(page, 'Lesion Lab: Segment All Unreviewed');
    const rows = await waitFor('both unreviewed cases to show "proposal ready"', async () => {
      const r = await caseRows(page);
      const errors = extensionLog(profile).filter((l) => /\[error\]/.test(l));
      if (errors.length) throw new Error(errors.join(' | '));
      return r.filter((x) => x.includes('proposal ready')).length === 2 ? r : undefined;
    }, 400_000, 1000);
    await sleep(500);
    await shot('segmented-all');
    summary.afterSegmentAll = rows;
    assert.match(rows[0], new RegExp(`^cases/a_p19\\.nii\\.gz: proposal ready · \\d+ lesions? · [\\d,]+ mm³ · ${CHOSEN_STARTER} · u \\d\\.\\d{3}$`));
    assert.match(rows[3], /^done\/d_p07\.nii\.gz: edited/, 'an edited case is not segmented');
    for (const name of ['a_p19', 'b_p26']) {
      assert.ok(existsSync(join(ws, 'cases', `${name}_proposal.nii.gz`)), `${name}_proposal.nii.gz saved`);
      assert.ok(existsSync(join(ws, 'cases', `${name}_uncertainty.nii.gz`)), `${name}_uncertainty.nii.gz saved`);
      assert.ok(!existsSync(join(ws, 'cases', `${name}_seg.nii.gz`)), 'no mask is written by the queue');
      const sc = sidecarOf(join(ws, 'cases', `${name}_seg.json`));
      assert.equal(sc.reviewed, false);
      assert.equal((sc.proposal as { modelVersion: string }).modelVersion, CHOSEN_STARTER);
    }
    assert.ok(!existsSync(join(ws, 'done', 'd_p07_proposal.nii.gz')));
  });

  test('Open Next Case (Alt+N) opens the first unreviewed case with its proposal ready; Accept; Mark Reviewed changes state and counts', { timeout: 240_000 }, async () => {
    try {
      await nextCaseAcceptReview();
    } catch (e) {
      await shot('FAILED').catch(() => undefined);
      throw e;
    }
  });

  async function nextCaseAcceptReview(): Promise<void> {
    // Alt+N in the focused Cases view.
    await runCommand(page, 'Lesion Lab: Focus on Cases View');
    await sleep(300);
    const known = new Set(page.frames());
    await page.keyboard.press('Alt+N');
    const frame = await waitFor('the editor of the next case to draw', () => renderedEditorFrame(page, known), 60_000);
    const tab = await visibleText(page, '.tabs-container .tab.active');
    assert.match(tab, /a_p19\.nii\.gz/);
    const proposalPixels = await waitFor('the saved proposal to show as an overlay', async () => {
      const n = await colouredPixels(frame);
      return n > 50 ? n : undefined;
    }, 30_000, 500);
    await shot('next-case-with-proposal');
    summary.proposalPixels = proposalPixels;

    await runCommand(page, 'Lesion Lab: Accept Lesion Proposal');
    await sleep(1500);
    await shot('accepted');
    await runCommand(page, 'Lesion Lab: Mark Reviewed');
    const rows = await waitFor('a_p19 to show "reviewed"', async () => {
      const r = await caseRows(page);
      return r[0]?.includes(': reviewed') ? r : undefined;
    }, 30_000);
    await waitFor('the progress line 2 / 4', async () => /2 \/ 4 reviewed/.test(await viewText(page)) || undefined, 10_000);
    await sleep(500);
    await shot('reviewed');
    summary.afterReview = rows;
    assert.match(rows[0], new RegExp(`^cases/a_p19\\.nii\\.gz: reviewed · \\d+ lesions? · [\\d,]+ mm³ · ${CHOSEN_STARTER} · u \\d\\.\\d{3}$`));
    assert.match(rows[1], /^cases\/b_p26\.nii\.gz: proposal ready/);
    const sc = sidecarOf(join(ws, 'cases', 'a_p19_seg.json')) as { reviewed: boolean; correction?: { dice: number; modelVersion: string; addedVoxels: number; removedVoxels: number }; lesionCount?: number; provenance: { modelVersion: string } };
    assert.equal(sc.reviewed, true);
    assert.equal(sc.provenance.modelVersion, CHOSEN_STARTER);
    assert.ok(sc.correction, 'the correction effort is recorded');
    assert.equal(sc.correction.modelVersion, CHOSEN_STARTER);
    assert.equal(sc.correction.dice, 1, 'accepted unchanged: Dice 1');
    assert.equal(sc.correction.addedVoxels + sc.correction.removedVoxels, 0);
    assert.ok(existsSync(join(ws, 'cases', 'a_p19_seg.nii.gz')));
    summary.sidecar = sc;

    // Next case again: now b_p26.
    const known2 = new Set(page.frames());
    await runCommand(page, 'Lesion Lab: Open Next Case');
    await waitFor('the editor of b_p26 to draw', () => renderedEditorFrame(page, known2), 60_000);
    assert.match(await visibleText(page, '.tabs-container .tab.active'), /b_p26\.nii\.gz/);
    await shot('next-case-b');
  }
});
