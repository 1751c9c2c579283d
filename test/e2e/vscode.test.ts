// End-to-end test in a real VS Code: code-server (installed on first use into .vscode-test/) with a
// fresh profile and the packaged extension, driven through its UI by headless Debian Chromium with
// playwright-core. Screenshots of every step go to test-output/e2e/.
//
// Steps are switched on in STEP_SWITCHES below as the features land:
//   'auto'  runs the step when its contribution (custom editor / command) is in package.json
//           (brush, undo/redo and save need only the custom editor; Segment Lesion and
//           Fine-tune also need the starter model the test picks, media/models/ms-flair),
//   true    always runs it (a missing contribution is a failure),
//   false   skips it with the reason given.
// LESION_LAB_E2E_ALL=1 forces every step on (to try a feature before switching it on);
// LESION_LAB_E2E_IMAGE=phantom uses the generated phantom instead of the shared volumes;
// LESION_LAB_E2E_EXT=symlink links the project folder instead of installing the packaged .vsix.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import {
  CACHE_DIR,
  PROJECT_ROOT,
  ensureCodeServer,
  extensionId,
  freshProfile,
  installVsix,
  linkExtension,
  packageVsix,
  startCodeServer,
  tail,
  type ProfileDirs,
  type RunningCodeServer,
} from '../../scripts/e2e/codeServer';
import { readNifti } from '../../src/nifti';
import { outlineOfRegion } from '../../src/interactive/lasso';
import { nextRobotClick, robotScribble } from '../../src/interactive/robotUser';
import { rasterizeScribble } from '../../src/interactive/scribble';
import { writeCropNifti, writePhantomNifti } from '../../scripts/e2e/fixtures';
import { sharedDataPath } from '../helpers/sharedData';
import { CHROMIUM_ARGS } from '../webview/harness';
import { extensionLog, sleep, StopWaiting, visibleText, waitFor } from './workbench';

type StepName = 'installed' | 'openAndRender' | 'openCase' | 'segment' | 'brush' | 'undoRedo' | 'save' | 'fineTune' | 'prompt' | 'fusion';
type Switch = 'auto' | boolean;

const inCi = process.env.CI === 'true';
const forceAll = process.env.LESION_LAB_E2E_ALL === '1';

/** Which steps run. Flip to true as each feature lands (see the header comment). */
const STEP_SWITCHES: Record<StepName, Switch> = {
  installed: true,
  openAndRender: true,
  openCase: true,
  segment: true,
  brush: true,
  undoRedo: true,
  save: true,
  fineTune: true,
  prompt: 'auto',
  fusion: 'auto',
};

/** Extra user settings for the run, merged into the profile's settings.json. */
const E2E_SETTINGS: Record<string, unknown> = {
  // A short fine-tune: 3 optimiser steps (a step budget, so a busy machine still trains), within a
  // 3-minute time budget that validation and saving count in.
  'lesionLab.fineTuneMinutes': 3,
  'lesionLab.fineTuneMaxSteps': 3,
};

const CUSTOM_EDITOR_VIEW_TYPE = 'lesionLab.editor';
/**
 * The shipped starter the test picks when the first Segment Lesion asks which starter fits (the
 * workspace has no model yet); Segment Lesion and Fine-tune then start from it.
 */
const PICKED_STARTER = 'ms-flair';
const STARTER_MODEL_DIR = `media/models/${PICKED_STARTER}`;
/** Title of the starter question (src/editor/starterPick.ts). */
const STARTER_PICK_TITLE = /which starter model fits/i;
/**
 * LESION_LAB_E2E_STARTER_DIR: a model folder (model.json, weights.bin, card.json) copied into the
 * installed extension as the picked starter, to try the loop with another model, e.g.
 * `node --import tsx scripts/train-starter.ts --task ms-flair --minutes 1 --out .vscode-test/starter-tmp`.
 */
const STARTER_OVERRIDE = process.env.LESION_LAB_E2E_STARTER_DIR ? resolve(process.env.LESION_LAB_E2E_STARTER_DIR) : undefined;
/** Command titles looked up in package.json (contributes.commands), then typed into the palette. */
const SEGMENT_TITLE = /segment lesion/i;
const FINE_TUNE_TITLE = /fine-?tune/i;
const ACCEPT_TITLE = /accept.*proposal/i;

/** Opened first, unmodified: a small real volume (an 87×69×22 int16 CT crop of STS_002, CC BY 3.0). */
const IMAGE_SOURCE = ['odd', 'generated_valid', 'ct_int16.nii.gz'] as const;
/**
 * The case the loop runs on (Segment Lesion … Fine-tune): an 80×80×48 box of MS patient 19's FLAIR
 * (CC-BY, Lesjak et al. 2017) holding 36,043 lesion voxels, in the domain of the starter model,
 * small enough for CI. Written at run time into the ignored workspace; the source is only read.
 */
const CASE_SOURCE = ['lesion', 'ms-flair-mni', 'patient19', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'] as const;
const CASE_CROP = { origin: [48, 68, 68] as const, size: [80, 80, 48] as const };
/**
 * The Prompt tool's case: the whole STS_002 CT crop (161×143×48 float32, soft-tissue sarcoma,
 * CC BY 3.0) and its reference tumour mask, copied into the workspace as TUMOUR_NAME.
 */
const TUMOUR_DIR = ['lesion', 'sarcoma-ct-mr-pet', 'STS_002', 'CT'] as const;
const TUMOUR_NAME = 'sts002_tumour_ct.nii.gz';
/** The same patient's PET, fused over the tumour's CT (Overlay Another Image). */
const FUSION_SOURCE = ['lesion', 'sarcoma-ct-mr-pet', 'STS_002', 'PET', 'image.nii.gz'] as const;
const FUSION_NAME = 'sts002_pet.nii.gz';
const OVERLAY_TITLE = /^Overlay Another Image/;

/** The expert (consensus) lesion mask of the case, on the FLAIR's grid. */
const CASE_EXPERT_MASK = ['lesion', 'ms-flair-mni', 'patient19', 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz'] as const;

/**
 * Answers the question of the first Segment Lesion in a workspace without a model: checks that it
 * offers the shipped starters with one marked "suggested" first, calls `whileShown` (a screenshot),
 * types `starter` (its folder name, which the pick matches in the row's description) and accepts
 * it once it is the highlighted row.
 * @returns the rows as shown before typing (their visible text).
 */
async function answerStarterPick(page: Page, starter: string, whileShown: () => Promise<unknown>): Promise<string[]> {
  await waitFor(
    'the starter question ("which starter model fits these images?")',
    async () => STARTER_PICK_TITLE.test(await visibleText(page, '.quick-input-widget .quick-input-title')) || undefined,
    60_000,
    300,
  );
  const rows = (await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allInnerTexts()).map((r) => r.replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim());
  await whileShown();
  await page.keyboard.type(starter, { delay: 15 });
  await waitFor(
    `"${starter}" to be the highlighted starter`,
    async () => (await visibleText(page, '.quick-input-widget .quick-input-list .monaco-list-row.focused')).includes(starter) || undefined,
    10_000,
    200,
  );
  await page.keyboard.press('Enter');
  return rows;
}

/** Dice of the saved labels other than the brush label (the accepted proposal) against the expert mask, on the crop. */
async function diceAgainstExpert(labels: ArrayLike<number>, brushLabel: number): Promise<number> {
  const expert = await readNifti(sharedDataPath(...CASE_EXPERT_MASK));
  const [sx, sy] = expert.dims;
  const [nx, ny, nz] = CASE_CROP.size;
  const [ox, oy, oz] = CASE_CROP.origin;
  let both = 0;
  let proposed = 0;
  let truth = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const l = labels[i + nx * (j + ny * k)];
        const p = l !== 0 && l !== brushLabel;
        const t = expert.data[ox + i + sx * (oy + j + sy * (oz + k))] > 0;
        if (p) proposed++;
        if (t) truth++;
        if (p && t) both++;
      }
  return proposed + truth === 0 ? 1 : (2 * both) / (proposed + truth);
}

/**
 * The two images of the run: from ../shared/data, or (outside CI, without it, or with
 * LESION_LAB_E2E_IMAGE=phantom) the generated phantom for both. In CI missing data fails the file.
 */
const IMAGES = ((): { render: { sharedPath?: string; name: string }; case: { sharedPath?: string; name: string } } => {
  const phantom = { name: 'phantom_lesion.nii.gz' };
  if (process.env.LESION_LAB_E2E_IMAGE === 'phantom') return { render: phantom, case: phantom };
  const renderPath = sharedDataPath(...IMAGE_SOURCE);
  const casePath = sharedDataPath(...CASE_SOURCE);
  if (existsSync(renderPath) && existsSync(casePath)) {
    return { render: { sharedPath: renderPath, name: 'sts002_ct.nii.gz' }, case: { sharedPath: casePath, name: 'ms_patient19_flair_crop.nii.gz' } };
  }
  if (inCi) throw new Error(`CI=true but the shared test data is missing: ${existsSync(renderPath) ? casePath : renderPath}`);
  return { render: phantom, case: phantom };
})();
const IMAGE_NAME = IMAGES.render.name;
const CASE_NAME = IMAGES.case.name;
const SEG_NAME = CASE_NAME.replace(/\.nii\.gz$/, '_seg.nii.gz');

const OUT_DIR = join(PROJECT_ROOT, 'test-output/e2e');
const RUN_DIR = join(CACHE_DIR, 'e2e');
const CHROMIUM = '/usr/bin/chromium';

interface PackageJson {
  contributes?: {
    customEditors?: { viewType: string }[];
    commands?: { command: string; title: string; category?: string }[];
  };
}
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as PackageJson;

function findCommand(title: RegExp): { command: string; paletteText: string } | undefined {
  const c = pkg.contributes?.commands?.find((x) => title.test(x.title));
  return c && { command: c.command, paletteText: c.category ? `${c.category}: ${c.title}` : c.title };
}

/** Why a step is not run, or undefined when it runs. */
function skipReason(step: StepName): string | undefined {
  const sw = forceAll ? true : STEP_SWITCHES[step];
  if (sw === false) return `step "${step}" is switched off in STEP_SWITCHES (feature not landed yet)`;
  if (sw === true) return undefined;
  const hasEditor = pkg.contributes?.customEditors?.some((e) => e.viewType === CUSTOM_EDITOR_VIEW_TYPE) ?? false;
  const hasStarterModel = existsSync(join(PROJECT_ROOT, STARTER_MODEL_DIR, 'card.json')) || STARTER_OVERRIDE !== undefined;
  switch (step) {
    case 'openAndRender':
    case 'openCase':
      return hasEditor ? undefined : `custom editor ${CUSTOM_EDITOR_VIEW_TYPE} is not contributed in package.json yet`;
    case 'segment':
      if (!hasEditor) return `custom editor ${CUSTOM_EDITOR_VIEW_TYPE} is not contributed yet`;
      if (!findCommand(SEGMENT_TITLE)) return 'no command titled "Segment Lesion" in package.json yet';
      return hasStarterModel ? undefined : `the starter model (${STARTER_MODEL_DIR}) is not in the repository yet`;
    case 'fineTune':
      if (!hasEditor) return `custom editor ${CUSTOM_EDITOR_VIEW_TYPE} is not contributed yet`;
      if (!findCommand(FINE_TUNE_TITLE)) return 'no command titled "Fine-tune" in package.json yet';
      return hasStarterModel ? undefined : `the starter model (${STARTER_MODEL_DIR}) is not in the repository yet`;
    case 'brush':
    case 'undoRedo':
    case 'save':
      return hasEditor ? undefined : `custom editor ${CUSTOM_EDITOR_VIEW_TYPE} is not contributed yet`;
    case 'prompt':
      if (!hasEditor) return `custom editor ${CUSTOM_EDITOR_VIEW_TYPE} is not contributed yet`;
      if (process.env.LESION_LAB_E2E_IMAGE === 'phantom') return 'LESION_LAB_E2E_IMAGE=phantom: the tumour case is not used';
      if (existsSync(sharedDataPath(...TUMOUR_DIR, 'image.nii.gz'))) return undefined;
      if (inCi) throw new Error(`CI=true but the shared test data is missing: ${sharedDataPath(...TUMOUR_DIR)}`);
      return `the tumour case ${TUMOUR_DIR.join('/')} is not in ../shared/data`;
    case 'fusion':
      if (!findCommand(OVERLAY_TITLE)) return 'no command titled "Overlay Another Image" in package.json yet';
      if (skipReason('prompt') !== undefined) return `it overlays the prompt step's tumour: ${skipReason('prompt')}`;
      if (existsSync(sharedDataPath(...FUSION_SOURCE))) return undefined;
      if (inCi) throw new Error(`CI=true but the shared test data is missing: ${sharedDataPath(...FUSION_SOURCE)}`);
      return `the PET ${FUSION_SOURCE.join('/')} is not in ../shared/data`;
    default:
      return undefined;
  }
}

function chromiumSkip(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (inCi) throw new Error(`CI=true but ${CHROMIUM} is missing; .ci/run installs it with apt-get install chromium`);
  return `${CHROMIUM} not found (apt-get install -y chromium); the real-VS Code test needs it`;
}

// ---------------------------------------------------------------- pixels

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixel statistics of one screen region. */
interface RegionStats {
  box: Box;
  meanLuma: number;
  stdLuma: number;
  /** Distinct luma values (0..255) seen. */
  distinctLuma: number;
  /**
   * Pixels whose max−min channel difference exceeds 60 and that are not blue-dominant: label and
   * proposal overlays, not grey anatomy and not the (blue) crosshair.
   */
  colouredPixels: number;
  pixels: number;
}

function regionStats(png: PNG, box: Box): RegionStats {
  const x0 = Math.max(0, Math.round(box.x));
  const y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(png.width, Math.round(box.x + box.width));
  const y1 = Math.min(png.height, Math.round(box.y + box.height));
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let coloured = 0;
  const seen = new Set<number>();
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 4;
      const r = png.data[i];
      const g = png.data[i + 1];
      const b = png.data[i + 2];
      const luma = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      seen.add(luma);
      sum += luma;
      sumSq += luma * luma;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60 && !(b > r && b > g)) coloured++;
      n++;
    }
  }
  const mean = n ? sum / n : 0;
  return {
    box,
    meanLuma: mean,
    stdLuma: n ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : 0,
    distinctLuma: seen.size,
    colouredPixels: coloured,
    pixels: n,
  };
}

/** Count of pixels that differ by more than `threshold` in any channel inside `box`. */
function changedPixels(a: PNG, b: PNG, box: Box, threshold = 24): number {
  let changed = 0;
  for (let y = Math.max(0, Math.round(box.y)); y < Math.min(a.height, Math.round(box.y + box.height)); y++) {
    for (let x = Math.max(0, Math.round(box.x)); x < Math.min(a.width, Math.round(box.x + box.width)); x++) {
      const i = (y * a.width + x) * 4;
      if (
        Math.abs(a.data[i] - b.data[i]) > threshold ||
        Math.abs(a.data[i + 1] - b.data[i + 1]) > threshold ||
        Math.abs(a.data[i + 2] - b.data[i + 2]) > threshold
      ) {
        changed++;
      }
    }
  }
  return changed;
}

// ---------------------------------------------------------------- workbench helpers

/**
 * Ctrl+P (files) or F1 (commands): types `text`, checks that the highlighted row is the one meant
 * (a near match such as "Disable All Installed Extensions" must never run), and accepts it.
 */
async function quickInput(page: Page, key: 'Control+P' | 'F1', text: string): Promise<void> {
  // A key pressed while focus is moving (an editor just closed) can be lost: press again.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press(key);
    const shown = await page.waitForSelector('.quick-input-widget .quick-input-box input', { state: 'visible', timeout: 4_000 }).then(
      () => true,
      () => false,
    );
    if (shown) break;
    if (attempt === 3) throw new Error(`the quick input did not open after pressing ${key} three times`);
    await page.mouse.click(2, 400);
  }
  await page.keyboard.type(text, { delay: 15 });
  const wanted = text.toLowerCase();
  await waitFor(
    `"${text}" to be the highlighted quick-input row`,
    async () => {
      const row = (await visibleText(page, '.quick-input-widget .quick-input-list .monaco-list-row.focused')).toLowerCase();
      return row.includes(wanted) || undefined;
    },
    15_000,
    200,
  ).catch(async (e: unknown) => {
    const rows = await visibleText(page, '.quick-input-widget .quick-input-list');
    await page.keyboard.press('Escape');
    throw new Error(`${String(e)}; rows shown: ${JSON.stringify(rows.slice(0, 400))}`);
  });
  await page.keyboard.press('Enter');
}

/** What the Lesion Lab webview reports about itself (webview/main.ts, webview/viewer.ts). */
interface WebviewProbe {
  /** 'rendered' once the first slice is drawn; 'loading' before; null in frames that are not ours. */
  status: 'rendered' | 'loading' | null;
  /** The status line (bottom of the editor), or the message shown instead of the views. */
  statusText: string;
  message: string;
}

/** The webview frame of the Lesion Lab editor: the inner frame holding the viewer's canvas. */
async function findEditorFrame(page: Page, known: Set<Frame> = new Set()): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f === page.mainFrame() || known.has(f)) continue;
    const probe = await probeWebview(f);
    if (probe && probe.status !== null) return f;
  }
  return undefined;
}

async function probeWebview(frame: Frame): Promise<WebviewProbe | undefined> {
  return frame
    .evaluate((): WebviewProbe => {
      const canvas = document.querySelector('canvas.ll-canvas');
      if (!canvas) return { status: null, statusText: '', message: '' };
      // A DOM marker, if the webview sets one; else the viewer handle main.ts exposes for tests:
      // the first frame is drawn once a volume is loaded and no first frame is pending.
      const marker = document.querySelector('[data-rendered]');
      const handle = (window as unknown as { lesionLab?: { viewer?: Record<string, unknown> } }).lesionLab;
      const viewer = handle?.viewer;
      const rendered = marker !== null || (viewer !== undefined && viewer.vol != null && viewer.firstFramePending === false);
      const messageEl = document.querySelector('.ll-message') as HTMLElement | null;
      return {
        status: rendered ? 'rendered' : 'loading',
        statusText: document.querySelector('.ll-status')?.textContent ?? '',
        message: messageEl && !messageEl.hidden ? (messageEl.textContent ?? '') : '',
      };
    })
    .catch(() => undefined);
}

/** A view of the editor (axial, coronal, sagittal, 3d) and its box in main-page coordinates. */
interface ViewBox extends Box {
  view: string;
}

/** The visible views of at least 48×48 px: the overlay boxes the viewer lays over its one canvas. */
async function viewBoxes(frame: Frame): Promise<ViewBox[]> {
  const boxes: ViewBox[] = [];
  for (const o of await frame.$$('.ll-view-overlay[data-view]')) {
    const b = await o.boundingBox();
    const view = (await o.getAttribute('data-view')) ?? '?';
    if (b && b.width >= 48 && b.height >= 48) boxes.push({ ...b, view });
  }
  if (boxes.length === 0) {
    // No overlays (a different layout): fall back to the canvas as one view.
    const c = await frame.$('canvas');
    const b = c && (await c.boundingBox());
    if (b && b.width >= 48 && b.height >= 48) boxes.push({ ...b, view: 'canvas' });
  }
  return boxes;
}

/** The webview canvas as drawn (read back with toDataURL), and the views' boxes in its pixels. */
interface CanvasPixels {
  png: PNG;
  views: ViewBox[];
}

/**
 * Reads the viewer's canvas back (it keeps its drawing buffer), so that pixel checks see only what
 * the webview drew: no workbench notification, hover or quick pick on top of it.
 */
async function canvasPixels(frame: Frame): Promise<CanvasPixels> {
  const canvas = await frame.$('canvas.ll-canvas');
  const canvasBox = canvas && (await canvas.boundingBox());
  if (!canvasBox) throw new Error('the viewer canvas (canvas.ll-canvas) is not visible');
  const dataUrl = await frame.evaluate("document.querySelector('canvas.ll-canvas').toDataURL('image/png')");
  if (typeof dataUrl !== 'string' || !dataUrl.startsWith('data:image/png;base64,')) throw new Error('reading back the viewer canvas failed');
  const png = PNG.sync.read(Buffer.from(dataUrl.slice('data:image/png;base64,'.length), 'base64'));
  const sx = png.width / canvasBox.width;
  const sy = png.height / canvasBox.height;
  const views = (await viewBoxes(frame)).map((v) => ({
    view: v.view,
    x: (v.x - canvasBox.x) * sx,
    y: (v.y - canvasBox.y) * sy,
    width: v.width * sx,
    height: v.height * sy,
  }));
  return { png, views };
}

/** Coloured (overlay or label) pixels summed over the slice views. */
function colouredInSliceViews(c: CanvasPixels): number {
  return c.views.filter((v) => v.view !== '3d').reduce((n, v) => n + regionStats(c.png, v).colouredPixels, 0);
}

/** Pixels of one view that differ between two read-backs. */
function changedInView(a: CanvasPixels, b: CanvasPixels, view: string): number {
  const box = a.views.find((v) => v.view === view) ?? a.views[0];
  if (!box || a.png.width !== b.png.width || a.png.height !== b.png.height) return Number.POSITIVE_INFINITY;
  return changedPixels(a.png, b.png, box);
}

/** Texts of the notification toasts now shown, with their severity. */
async function toastTexts(page: Page): Promise<string[]> {
  // A string expression: tsx's helpers must not leak into code evaluated in the page.
  const texts = await page
    .evaluate(
      `[...document.querySelectorAll('.notifications-toasts .notification-toast')].map((t) => {
        const icon = t.querySelector('.notification-list-item-icon');
        const cls = icon ? icon.className : '';
        const severity = cls.includes('codicon-error') ? 'error' : cls.includes('codicon-warning') ? 'warning' : 'info';
        const msg = t.querySelector('.notification-list-item-message');
        return severity + ': ' + (msg ? msg.textContent : '').replace(/\u00a0/g, ' ');
      })`,
    )
    .catch(() => []);
  return Array.isArray(texts) ? texts.map(String) : [];
}

/** What the UI and the extension's log showed before a command, to spot what the command reported. */
interface ProblemBaseline {
  toasts: string[];
  logLines: number;
}

async function problemBaseline(page: Page, profile: ProfileDirs): Promise<ProblemBaseline> {
  return { toasts: await toastTexts(page), logLines: extensionLog(profile).length };
}

/**
 * Stops a wait when the command failed: a new error/warning notification (toasts hide after a
 * while, so the extension's log is read too, for new [error] lines).
 */
async function failOnNewProblems(page: Page, profile: ProfileDirs, before: ProblemBaseline, what: string): Promise<void> {
  const fresh = (await toastTexts(page)).filter((t) => !before.toasts.includes(t) && /^(error|warning): /.test(t));
  const logErrors = extensionLog(profile)
    .slice(before.logLines)
    .filter((l) => /\[error\]/.test(l));
  if (fresh.length || logErrors.length) throw new StopWaiting(`"${what}" reported: ${[...fresh, ...logErrors].join(' | ')}`);
}

// ---------------------------------------------------------------- the run

interface Summary {
  startedAt: string;
  image?: string;
  timingsMs: Record<string, number>;
  steps: Record<string, unknown>;
  consoleErrors: string[];
}

describe('real VS Code (code-server + Chromium): Lesion Lab through the UI', { skip: chromiumSkip() }, () => {
  let server: RunningCodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let profile: ProfileDirs;
  let workspaceDir: string;
  let editorFrame: Frame | undefined;
  /** The prompt step's editor of the tumour's CT (the fusion step overlays its PET there). */
  let tumourFrame: Frame | undefined;
  let shotIndex = 0;
  const failedSteps = new Set<StepName>();
  const t0 = Date.now();
  const summary: Summary = { startedAt: new Date().toISOString(), timingsMs: {}, steps: {}, consoleErrors: [] };

  async function shot(name: string): Promise<PNG> {
    shotIndex++;
    const file = join(OUT_DIR, `${String(shotIndex).padStart(2, '0')}-${name}.png`);
    const buf = await page.screenshot({ path: file });
    if (editorFrame) {
      // What the webview itself drew, without the workbench on top (for comparing with the screenshot).
      const drawn = await canvasPixels(editorFrame).catch(() => undefined);
      if (drawn) writeFileSync(file.replace(/\.png$/, '.canvas.png'), PNG.sync.write(drawn.png));
    }
    return PNG.sync.read(buf);
  }

  /** Runs a step unless switched off; a step whose prerequisite failed is skipped with that reason. */
  function step(name: StepName, needs: StepName[], timeoutMs: number, body: () => Promise<void>): void {
    const reason = skipReason(name);
    test(name, { skip: reason ?? false, timeout: timeoutMs }, async (t) => {
      const broken = needs.filter((n) => failedSteps.has(n) || skipReason(n) !== undefined);
      if (broken.length) {
        failedSteps.add(name);
        t.skip(`needs step(s) ${broken.join(', ')}, which failed or are off`);
        return;
      }
      const started = Date.now();
      try {
        await body();
      } catch (e) {
        failedSteps.add(name);
        await shot(`${name}-FAILED`).catch(() => undefined);
        throw e;
      } finally {
        summary.timingsMs[name] = Date.now() - started;
      }
    });
  }

  before(async () => {
    rmSync(OUT_DIR, { recursive: true, force: true });
    mkdirSync(OUT_DIR, { recursive: true });
    let t = Date.now();
    const install = ensureCodeServer();
    summary.timingsMs.ensureCodeServer = Date.now() - t;

    t = Date.now();
    profile = freshProfile(join(RUN_DIR, 'state'), E2E_SETTINGS);
    if (process.env.LESION_LAB_E2E_EXT === 'symlink') {
      linkExtension(profile);
    } else {
      const vsix = packageVsix(join(RUN_DIR, 'lesion-lab-e2e.vsix'));
      installVsix(install, profile, vsix);
      if (STARTER_OVERRIDE) {
        const installed = readdirSync(profile.extensionsDir).find((n) => n.startsWith(`${extensionId()}-`));
        assert.ok(installed, `the installed extension folder in ${profile.extensionsDir}`);
        cpSync(STARTER_OVERRIDE, join(profile.extensionsDir, installed, STARTER_MODEL_DIR), { recursive: true });
      }
    }
    summary.timingsMs.installExtension = Date.now() - t;

    workspaceDir = join(RUN_DIR, 'workspace');
    rmSync(workspaceDir, { recursive: true, force: true });
    mkdirSync(workspaceDir, { recursive: true });
    // A copy: the editor saves <name>_seg.nii.gz next to the image, and shared data is read-only.
    if (IMAGES.render.sharedPath && IMAGES.case.sharedPath) {
      copyFileSync(IMAGES.render.sharedPath, join(workspaceDir, IMAGE_NAME));
      chmodSync(join(workspaceDir, IMAGE_NAME), 0o644);
      const flair = await readNifti(IMAGES.case.sharedPath);
      writeCropNifti(join(workspaceDir, CASE_NAME), flair, CASE_CROP.origin, CASE_CROP.size, 'lesion-lab e2e: crop of MS patient19 FLAIR');
      summary.image = `render: shared ${IMAGE_SOURCE.join('/')}; case: crop of ${CASE_SOURCE.join('/')}`;
      if (skipReason('prompt') === undefined) {
        copyFileSync(sharedDataPath(...TUMOUR_DIR, 'image.nii.gz'), join(workspaceDir, TUMOUR_NAME));
        chmodSync(join(workspaceDir, TUMOUR_NAME), 0o644);
      }
      if (skipReason('fusion') === undefined) {
        copyFileSync(sharedDataPath(...FUSION_SOURCE), join(workspaceDir, FUSION_NAME));
        chmodSync(join(workspaceDir, FUSION_NAME), 0o644);
      }
    } else {
      console.log(`e2e: ../shared/data not used; opening the generated phantom ${IMAGE_NAME} instead`);
      writePhantomNifti(join(workspaceDir, IMAGE_NAME));
      summary.image = 'phantom';
    }

    t = Date.now();
    server = await startCodeServer({ install, profile, workspaceDir });
    summary.timingsMs.serverStart = Date.now() - t;

    t = Date.now();
    context = await chromium.launchPersistentContext(join(RUN_DIR, 'chromium-profile-' + process.pid), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') summary.consoleErrors.push(`${m.location().url}: ${m.text()}`.slice(0, 500));
    });
    page.on('pageerror', (e) => summary.consoleErrors.push(`pageerror: ${e.message}`.slice(0, 500)));
    await page.goto(server.url);
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
    await sleep(800); // the workbench keeps restoring views for a moment after the explorer shows
    summary.timingsMs.workbenchReady = Date.now() - t;
    await shot('workbench');
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await server?.stop();
    rmSync(join(RUN_DIR, 'chromium-profile-' + process.pid), { recursive: true, force: true });
    summary.timingsMs.total = Date.now() - t0;
    writeFileSync(join(OUT_DIR, 'summary.json'), JSON.stringify(summary, null, 2));
    if (profile) {
      writeFileSync(join(OUT_DIR, 'lesion-lab.log'), extensionLog(profile).join('\n') + '\n');
      if (existsSync(profile.logFile)) copyFileSync(profile.logFile, join(OUT_DIR, 'code-server.log'));
    }
    if (failedSteps.size && profile) {
      console.error(`e2e: failed steps ${[...failedSteps].join(', ')}; code-server log tail:\n${tail(profile.logFile, 30)}`);
      console.error(`e2e: extension host log tail:\n${extHostLog(profile).split('\n').slice(-30).join('\n')}`);
      console.error(`e2e: Lesion Lab log tail:\n${extensionLog(profile).slice(-30).join('\n')}`);
      if (summary.consoleErrors.length) console.error(`e2e: browser console errors:\n${summary.consoleErrors.slice(-20).join('\n')}`);
    }
  });

  step('installed', [], 60_000, async () => {
    // The Extensions view, filtered to installed extensions, lists what the extension host scanned.
    await page.keyboard.press('Control+Shift+X');
    await page.waitForSelector('.extensions-viewlet .suggest-input-container', { state: 'visible', timeout: 15_000 });
    await page.click('.extensions-viewlet .suggest-input-container');
    await page.keyboard.type('@installed Lesion Lab', { delay: 10 });
    const row = await waitFor(
      'Lesion Lab in the installed extensions list',
      async () => (await visibleText(page, '.extensions-viewlet .extensions-list')).includes('Lesion Lab') || undefined,
      20_000,
    );
    assert.ok(row);
    await shot('installed');
    await page.keyboard.press('Control+Shift+E'); // back to the Explorer
    summary.steps.installed = { extensionId: extensionId() };
  });

  /**
   * Opens `name` with Ctrl+P (the custom editor is the default for .nii.gz), waits for its webview
   * (a frame not seen before) to draw, and checks that every view shows anatomy in the page
   * screenshot (what the user sees) and in the canvas read-back (what the webview drew).
   */
  async function openAndCheck(name: string, shotName: string, frameTimeoutMs = 30_000): Promise<{ frame: Frame; status: string; views: unknown[] }> {
    const known = new Set(page.frames());
    await quickInput(page, 'Control+P', name);
    const frame = await waitFor('the Lesion Lab webview (canvas.ll-canvas) to appear', () => findEditorFrame(page, known), frameTimeoutMs).catch(async (e: unknown) => {
      // What the page holds instead: every frame, new or not, and whether it has our canvas.
      const frames = await Promise.all(page.frames().map(async (f) => `${known.has(f) ? 'old' : 'new'} ${f.url().slice(0, 90)} ${JSON.stringify(await probeWebview(f))}`));
      const webviews = await page.evaluate(`[...document.querySelectorAll('iframe.webview')].map((w) => (w.className + ' ' + w.style.cssText).slice(0, 200))`).catch(() => []);
      throw new Error(`${String(e)}; frames: ${JSON.stringify(frames)}; webview iframes: ${JSON.stringify(webviews)}`);
    });
    const probe = await waitFor(
      'the webview to draw its first frame',
      async () => {
        const p = await probeWebview(frame);
        if (p?.message) throw new StopWaiting(`the webview shows a message instead of the views: ${p.message}`);
        return p?.status === 'rendered' ? p : undefined;
      },
      45_000,
    );
    await sleep(500);
    const tab = await visibleText(page, '.tabs-container .tab.active');
    assert.ok(tab.includes(name), `the active editor tab should be ${name}, got "${tab}"`);
    const png = await shot(shotName);
    const boxes = await viewBoxes(frame);
    const sliceViews = boxes.filter((b) => b.view !== '3d');
    assert.ok(sliceViews.length >= 1, `the editor should show slice views, found ${JSON.stringify(boxes.map((b) => b.view))}`);
    const drawn = await canvasPixels(frame);
    const stats = boxes.map((b) => {
      const onScreen = regionStats(png, b);
      const inCanvas = regionStats(drawn.png, drawn.views.find((v) => v.view === b.view) ?? b);
      return { view: b.view, onScreen: { ...onScreen, box: undefined }, inCanvas: { ...inCanvas, box: undefined } };
    });
    // Each slice view must show anatomy (many grey levels, contrast), not a blank or uniform area;
    // the 3-D view must at least not be uniform.
    for (const st of stats) {
      for (const [where, v] of [['on screen', st.onScreen], ['in the canvas', st.inCanvas]] as const) {
        const ok = st.view === '3d' ? v.distinctLuma >= 8 && v.stdLuma >= 4 : v.distinctLuma >= 24 && v.stdLuma >= 12;
        assert.ok(ok, `${name}: view ${st.view} looks empty ${where}: ${JSON.stringify(v)}`);
      }
    }
    return { frame, status: probe.statusText, views: stats };
  }

  step('openAndRender', [], 90_000, async () => {
    const opened = await openAndCheck(IMAGE_NAME, 'opened');
    editorFrame = opened.frame;
    const activation = extHostLog(profile);
    const id = extensionId();
    assert.ok(
      new RegExp(`_doActivateExtension ${id.replace('.', '\\.')}`, 'i').test(activation),
      `the extension host log should show ${id} activating`,
    );
    assert.ok(!new RegExp(`Activating extension ${id.replace('.', '\\.')} failed`, 'i').test(activation), `${id} failed to activate`);
    summary.steps.openAndRender = { image: IMAGE_NAME, statusLine: opened.status, views: opened.views };
  });

  step('openCase', ['openAndRender'], 90_000, async () => {
    if (CASE_NAME === IMAGE_NAME) {
      summary.steps.openCase = { image: CASE_NAME, note: 'same image as openAndRender' };
      return;
    }
    const opened = await openAndCheck(CASE_NAME, 'case-opened');
    editorFrame = opened.frame;
    summary.steps.openCase = { image: CASE_NAME, statusLine: opened.status, views: opened.views };
  });

  let proposalAccepted = false;
  let starterPicked = false;
  step('segment', ['openCase'], 240_000, async () => {
    const frame = editorFrame as Frame;
    await shot('before-segment');
    const before = await canvasPixels(frame);
    const colouredBefore = colouredInSliceViews(before);
    const cmd = findCommand(SEGMENT_TITLE);
    assert.ok(cmd, 'Segment Lesion command is contributed');
    const baseline = await problemBaseline(page, profile);
    await quickInput(page, 'F1', cmd.paletteText);
    // The workspace has no model yet: Segment Lesion first asks which shipped starter fits.
    const starterRows = await answerStarterPick(page, PICKED_STARTER, () => shot('starter-question'));
    assert.ok(starterRows.length >= 4, `the four task starters are offered: ${JSON.stringify(starterRows)}`);
    assert.match(starterRows[0], /· suggested/, `the suggested starter comes first: ${JSON.stringify(starterRows)}`);
    for (const name of ['ms-flair', 'sarcoma-ct', 'sarcoma-mr-t1', 'sarcoma-pet']) {
      assert.ok(starterRows.some((r) => r.includes(name) && /(held-out|leave-one-out) Dice \d\.\d{3}/.test(r)), `${name} offered with its held-out Dice: ${JSON.stringify(starterRows)}`);
    }
    starterPicked = true;
    // The proposal overlay is coloured on grey anatomy: wait for coloured pixels in the slice views
    // (read back from the webview's canvas, so notifications on top do not count).
    const colouredAfter = await waitFor(
      'the proposal overlay (coloured pixels) to appear in the slice views',
      async () => {
        await failOnNewProblems(page, profile, baseline, cmd.paletteText);
        const coloured = colouredInSliceViews(await canvasPixels(frame));
        return coloured > colouredBefore + 20 ? coloured : undefined;
      },
      180_000,
      1000,
    );
    await shot('segmented');
    let colouredAccepted: number | undefined;
    const accept = findCommand(ACCEPT_TITLE);
    if (accept) {
      // Accepting turns the proposal into labels (one undoable edit); Save checks them in the file.
      const baselineAccept = await problemBaseline(page, profile);
      await quickInput(page, 'F1', accept.paletteText);
      await sleep(1500);
      await failOnNewProblems(page, profile, baselineAccept, accept.paletteText);
      colouredAccepted = colouredInSliceViews(await canvasPixels(frame));
      await shot('proposal-accepted');
      assert.ok(colouredAccepted > colouredBefore + 20, `after accepting, the labels should show in the views (${colouredAccepted} coloured pixels, ${colouredBefore} before)`);
      proposalAccepted = true;
    }
    summary.steps.segment = { starter: PICKED_STARTER, starterRows, colouredBefore, colouredAfter, accepted: accept !== undefined, colouredAccepted };
  });

  let beforeBrush: CanvasPixels | undefined;
  let afterBrush: CanvasPixels | undefined;
  let brushSliceK: number | undefined;
  let brushLabel = -1; // set by the brush step
  step('brush', ['openCase'], 60_000, async () => {
    const frame = editorFrame as Frame;
    // Paint with a new label, so the stroke shows (and is checked in the saved mask) even where an
    // accepted proposal already covers the view with label 1.
    await frame.click('.ll-labels button:has-text("+ label")');
    const active = await frame.getAttribute('.ll-labels .ll-label-row.ll-active', 'data-value', { timeout: 5000 });
    brushLabel = Number(active);
    assert.ok(Number.isInteger(brushLabel) && brushLabel > 0, `"+ label" should make a new label active, got ${String(active)}`);
    await selectBrush(frame, page);
    const boxes = (await viewBoxes(frame)).filter((b) => b.view !== '3d');
    const brushBox = boxes.find((b) => b.view === 'axial') ?? boxes[0];
    assert.ok(brushBox, 'a slice view to paint in');
    await moveMouseAway(page);
    // The axial view's title reads "Axial 12/22": the stroke lands in slice k = 11.
    const title = (await frame.textContent('.ll-view-overlay[data-view="axial"] .ll-title').catch(() => null)) ?? '';
    const m = /(\d+)\s*\/\s*(\d+)/.exec(title);
    brushSliceK = m ? Number(m[1]) - 1 : undefined;
    await shot('before-brush');
    const beforeStroke = await canvasPixels(frame);
    beforeBrush = beforeStroke;
    // A horizontal stroke across the middle 40 % of the axial view.
    const y = brushBox.y + brushBox.height * 0.5;
    await page.mouse.move(brushBox.x + brushBox.width * 0.3, y);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(brushBox.x + brushBox.width * (0.3 + (0.4 * i) / 12), y);
    await page.mouse.up();
    await moveMouseAway(page); // hides the brush cursor ring, which would count as changed pixels
    afterBrush = await waitFor(
      'the brush stroke to change the labels shown',
      async () => {
        const now = await canvasPixels(frame);
        return changedInView(beforeStroke, now, brushBox.view) > 50 ? now : undefined;
      },
      10_000,
    );
    await shot('brushed');
    summary.steps.brush = { label: brushLabel, view: brushBox.view, axialSliceK: brushSliceK, changedPixels: changedInView(beforeStroke, afterBrush, brushBox.view) };
  });

  step('undoRedo', ['brush'], 60_000, async () => {
    const frame = editorFrame as Frame;
    const before = beforeBrush as CanvasPixels;
    const after = afterBrush as CanvasPixels;
    // Undo and redo go through VS Code (the custom editor's edit stack), not the webview.
    await page.keyboard.press('Control+Z');
    const undone = await waitFor(
      'undo to restore the labels from before the stroke',
      async () => {
        const now = await canvasPixels(frame);
        return changedInView(before, now, 'axial') <= 10 ? now : undefined;
      },
      10_000,
    );
    await shot('undone');
    await page.keyboard.press('Control+Shift+Z');
    await waitFor(
      'redo to bring the stroke back',
      async () => {
        const now = await canvasPixels(frame);
        return changedInView(after, now, 'axial') <= 10 ? now : undefined;
      },
      10_000,
    );
    await shot('redone');
    summary.steps.undoRedo = { undoneDiffFromBefore: changedInView(before, undone, 'axial'), strokeDiff: changedInView(before, after, 'axial') };
  });

  step('save', ['openCase'], 60_000, async () => {
    const segPath = join(workspaceDir, SEG_NAME);
    rmSync(segPath, { force: true });
    await page.keyboard.press('Control+S');
    await waitFor(`${SEG_NAME} to be written`, async () => existsSync(segPath) && statSync(segPath).size > 0, 20_000);
    await sleep(300);
    const image = await readNifti(join(workspaceDir, CASE_NAME));
    const seg = await readNifti(segPath);
    assert.deepEqual(seg.dims, image.dims, 'the mask has the image shape');
    for (let i = 0; i < 16; i++) {
      assert.ok(Math.abs(seg.affine[i] - image.affine[i]) < 1e-4, `affine element ${i}: mask ${seg.affine[i]} vs image ${image.affine[i]}`);
    }
    const [nx, ny] = seg.dims;
    let labelled = 0;
    let labelledInStrokeSlice = 0;
    for (let i = 0; i < seg.data.length; i++) {
      if (seg.data[i] === 0) continue;
      labelled++;
      if (seg.data[i] === brushLabel && Math.floor(i / (nx * ny)) === brushSliceK) labelledInStrokeSlice++;
    }
    if (skipReason('brush') === undefined && brushSliceK !== undefined) {
      // The 2-D disc stroke across 40 % of the axial view covers some hundred voxels of that slice.
      assert.ok(labelledInStrokeSlice >= 50, `the saved mask should hold the brush stroke (label ${brushLabel}) in axial slice k=${brushSliceK}, found ${labelledInStrokeSlice} voxels there`);
    }
    let proposalDiceVsExpert: number | undefined;
    if (proposalAccepted) {
      let proposalVoxels = 0;
      for (let i = 0; i < seg.data.length; i++) if (seg.data[i] !== 0 && seg.data[i] !== brushLabel) proposalVoxels++;
      assert.ok(proposalVoxels > 0, 'the saved mask should hold the accepted proposal');
      // For the record, not a pass/fail criterion here: how the proposal compares with the expert mask.
      if (IMAGES.case.sharedPath) proposalDiceVsExpert = await diceAgainstExpert(seg.data, brushLabel);
    }
    await shot('saved');
    summary.steps.save = { segPath: basename(segPath), labelledVoxels: labelled, labelledInStrokeSlice, brushSliceK, dims: seg.dims, proposalDiceVsExpert };
  });

  step('fineTune', ['openCase'], 300_000, async () => {
    const before = modelVersionDirs(profile, workspaceDir);
    const cmd = findCommand(FINE_TUNE_TITLE);
    assert.ok(cmd, 'Fine-tune command is contributed');
    const baseline = await problemBaseline(page, profile);
    await quickInput(page, 'F1', cmd.paletteText);
    const prompts: string[] = [];
    const created = await waitFor(
      'a new model version (a new v<N>/card.json) after fine-tuning',
      async () => {
        await failOnNewProblems(page, profile, baseline, cmd.paletteText);
        prompts.push(...(await acceptPrompts(page)));
        const fresh = modelVersionDirs(profile, workspaceDir).filter((d) => !before.includes(d));
        return fresh.length ? fresh : undefined;
      },
      240_000,
      1000,
    );
    await sleep(500);
    await shot('fine-tuned');
    // The new version's card records where it came from and what it was trained on.
    assert.equal(created.length, 1, `one new model version, got ${created.join(', ')}`);
    const card = JSON.parse(readFileSync(join(created[0], 'card.json'), 'utf8')) as {
      version?: string;
      parentVersion?: string | null;
      training?: { pairs?: { imagePath?: string; maskPath?: string }[]; steps?: number } | null;
    };
    assert.equal(card.version, basename(created[0]), 'card.json names its own version');
    assert.ok(card.parentVersion, 'the fine-tuned version names the version it started from');
    // Fine-tune starts from the starter picked at the first Segment Lesion, without asking again.
    if (starterPicked) assert.equal(card.parentVersion, PICKED_STARTER);
    const pairs = card.training?.pairs ?? [];
    assert.ok(
      pairs.some((p) => p.imagePath?.endsWith(CASE_NAME) && p.maskPath?.endsWith(SEG_NAME)),
      `the fine-tune trained on ${CASE_NAME} + ${SEG_NAME}; card lists ${JSON.stringify(pairs)}`,
    );
    assert.ok((card.training?.steps ?? 0) >= 1, `the fine-tune should take at least one training step, card says ${card.training?.steps}`);
    summary.steps.fineTune = {
      newVersions: created.map((d) => d.replace(RUN_DIR, '<run>')),
      parentVersion: card.parentVersion,
      steps: card.training?.steps,
      promptsAccepted: prompts,
    };
  });

  step('prompt', ['openAndRender'], 120_000, async () => {
    // The Prompt tool on a real tumour: K, a click at its centre, a box over its extent on that
    // axial slice; the host's proposal is checked against the reference mask, accepted (one
    // edit into the selected label) and undone through VS Code.
    const reference = await readNifti(sharedDataPath(...TUMOUR_DIR, 'mask.nii.gz'));
    const ref = Uint8Array.from(reference.data as ArrayLike<number>, (v) => (v > 0 ? 1 : 0));
    const [nx, ny, nz] = reference.dims;
    // The centre: the middle of the tumour's largest axial section, then its in-plane centroid.
    let bestK = 0;
    let bestArea = -1;
    for (let k = 0; k < nz; k++) {
      let area = 0;
      for (let v = k * nx * ny; v < (k + 1) * nx * ny; v++) area += ref[v];
      if (area > bestArea) [bestK, bestArea] = [k, area];
    }
    let si = 0;
    let sj = 0;
    const min = [nx, ny, bestK];
    const max = [-1, -1, bestK];
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        if (!ref[i + nx * (j + ny * bestK)]) continue;
        si += i;
        sj += j;
        min[0] = Math.min(min[0], i);
        min[1] = Math.min(min[1], j);
        max[0] = Math.max(max[0], i);
        max[1] = Math.max(max[1], j);
      }
    const centre = [Math.round(si / bestArea), Math.round(sj / bestArea), bestK];
    assert.equal(ref[centre[0] + nx * (centre[1] + ny * centre[2])], 1, `the centroid ${centre} lies in the tumour`);

    const opened = await openAndCheck(TUMOUR_NAME, 'tumour-opened');
    const frame = opened.frame;
    tumourFrame = frame;
    await frame.evaluate((c) => (window as any).lesionLab.viewer.setCrosshairVoxel(c), centre);
    await frame.focus('canvas.ll-canvas');
    await page.keyboard.press('k');
    assert.equal(await frame.evaluate(() => (window as any).lesionLab.viewer.tool), 'prompt', 'K selects the Prompt tool');
    const pageOf = async (voxel: number[]): Promise<[number, number]> => {
      const box = await (await frame.$('canvas.ll-canvas'))!.boundingBox();
      const c = (await frame.evaluate((v) => (window as any).lesionLab.viewer.canvasOfVoxel('axial', v), voxel)) as [number, number];
      return [box!.x + c[0], box!.y + c[1]];
    };
    const statusText = () => frame.evaluate(() => document.querySelector('.ll-status')?.textContent ?? '');
    /** Waits for the host's "Prompt: N ms, M voxels" after the n-th prompt and returns N. */
    const promptAnswer = async (previous: string): Promise<{ ms: number; voxels: number; text: string }> =>
      waitFor(
        "the host's prompt proposal (status \"Prompt: N ms, M voxels\")",
        async () => {
          const text = await statusText();
          const m = /Prompt: (\d+) ms, ([\d,]+) voxels/.exec(text);
          return m && text !== previous ? { ms: Number(m[1]), voxels: Number(m[2].replace(/,/g, '')), text } : undefined;
        },
        20_000,
        100,
      );
    const proposalDice = async (): Promise<number> => {
      const indices = (await frame.evaluate(() => {
        const v = (window as any).lesionLab.viewer;
        if (v.proposal?.origin !== 'prompts') return null;
        const data = v.overlayMaps.values('probability') as Float32Array;
        const out: number[] = [];
        for (let n = 0; n < data.length; n++) if (data[n] > 0.5) out.push(n);
        return out;
      })) as number[] | null;
      assert.ok(indices, 'the webview shows the prompt proposal');
      let both = 0;
      for (const n of indices) both += ref[n];
      let truth = 0;
      for (let n = 0; n < ref.length; n++) truth += ref[n];
      return (2 * both) / (indices.length + truth);
    };
    const baseline = await problemBaseline(page, profile);
    const [cx, cy] = await pageOf(centre);
    await page.mouse.click(cx, cy);
    const click = await promptAnswer('');
    const clickDice = await proposalDice();
    const [ax, ay] = await pageOf(min);
    const [bx, by] = await pageOf(max);
    await page.mouse.move(ax, ay);
    await page.mouse.down();
    await page.mouse.move((ax + bx) / 2, (ay + by) / 2, { steps: 3 });
    await page.mouse.move(bx, by, { steps: 3 });
    await page.mouse.up();
    const boxed = await promptAnswer(click.text);
    const dice = await proposalDice();
    await moveMouseAway(page);
    await sleep(300);
    await shot('prompt-proposal');
    await failOnNewProblems(page, profile, baseline, 'Prompt tool');
    assert.ok(dice >= 0.7, `Dice of the prompt proposal (click + box) vs the reference mask: ${dice.toFixed(3)} (click alone ${clickDice.toFixed(3)})`);

    // Accept (Shift+A in the webview): one edit into label 1; then Undo through VS Code.
    const labelled = () => frame.evaluate(() => {
      const l = (window as any).lesionLab.viewer.labels as Uint8Array;
      let n = 0;
      for (let v = 0; v < l.length; v++) if (l[v] === 1) n++;
      return n;
    });
    await frame.focus('canvas.ll-canvas');
    await page.keyboard.press('Shift+A');
    const accepted = await waitFor('the accepted object in the labels', async () => ((await labelled()) === boxed.voxels ? boxed.voxels : undefined), 10_000);
    assert.match(await statusText(), /Accepted the prompted object: [\d,]+ voxels set to label 1/);
    await shot('prompt-accepted');
    await page.keyboard.press('Control+Z');
    await waitFor('Undo to remove the accepted object', async () => ((await labelled()) === 0 ? true : undefined), 10_000);
    await shot('prompt-undone');

    // The next object from an outline: Ctrl+drag around the tumour's section on that slice (the
    // vertices through its edge voxels); the proposal is checked, then Esc drops it.
    const traced = outlineOfRegion(ref.subarray(bestK * nx * ny, (bestK + 1) * nx * ny), [nx, ny], 2, bestK)!;
    const ring = await Promise.all(traced.points.map((p) => pageOf([Math.round(p[0]), Math.round(p[1]), bestK])));
    const beforeOutline = await statusText();
    await frame.focus('canvas.ll-canvas');
    await page.keyboard.down('Control');
    await page.mouse.move(ring[0][0], ring[0][1]);
    await page.mouse.down();
    for (const [x, y] of [...ring.slice(1), ring[0]]) await page.mouse.move(x, y, { steps: 2 });
    await page.mouse.up();
    await page.keyboard.up('Control');
    const outlined = await promptAnswer(beforeOutline);
    const outlineDice = await proposalDice();
    await moveMouseAway(page);
    await sleep(300);
    await shot('prompt-outline');
    assert.ok(outlineDice >= 0.7, `Dice of the outline's proposal vs the reference mask: ${outlineDice.toFixed(3)}`);
    await frame.focus('canvas.ll-canvas');
    await page.keyboard.press('Escape');
    await waitFor('Esc to drop the outline\'s proposal', async () => ((await frame.evaluate(() => (window as any).lesionLab.viewer.proposal)) === null ? true : undefined), 10_000);

    // The next object from a click, then a stroke where it is wrong on that slice, as the robot
    // user draws one (through the deepest voxel of the slice's largest error, along that error):
    // Alt+drag, with Shift where the object leaks; the host edits the click's object near it.
    const beforeStrokeClick = await statusText();
    await page.mouse.click(cx, cy);
    const strokeClick = await promptAnswer(beforeStrokeClick);
    const strokeClickDice = await proposalDice();
    const proposed = new Uint8Array(ref.length);
    for (const n of (await frame.evaluate(() => {
      const data = (window as any).lesionLab.viewer.overlayMaps.values('probability') as Float32Array;
      const out: number[] = [];
      for (let n = 0; n < data.length; n++) if (data[n] > 0.5) out.push(n);
      return out;
    })) as number[]) proposed[n] = 1;
    const onSlice = (m: Uint8Array) => Uint8Array.from(m, (x, n) => (Math.floor(n / (nx * ny)) === bestK ? x : 0));
    const wrongAt = nextRobotClick(onSlice(proposed), onSlice(ref), reference.dims, reference.spacingMm)!;
    const stroke = robotScribble(wrongAt, proposed, ref, reference.dims, reference.spacingMm);
    const strokeAt = await Promise.all(stroke.points.map((p) => pageOf(p)));
    await frame.focus('canvas.ll-canvas');
    const modifiers = stroke.positive ? ['Alt'] : ['Alt', 'Shift'];
    for (const key of modifiers) await page.keyboard.down(key);
    await page.mouse.move(strokeAt[0][0], strokeAt[0][1]);
    await page.mouse.down();
    for (const [x, y] of strokeAt.slice(1)) await page.mouse.move(x, y, { steps: 8 });
    await page.mouse.up();
    for (const key of modifiers.reverse()) await page.keyboard.up(key);
    const stroked = await promptAnswer(strokeClick.text);
    const strokeDice = await proposalDice();
    const strokeVoxels = rasterizeScribble(stroke, reference.dims).voxels;
    const held = (await frame.evaluate((vs) => {
      const data = (window as any).lesionLab.viewer.overlayMaps.values('probability') as Float32Array;
      return vs.filter((n: number) => data[n] > 0.5).length;
    }, strokeVoxels.map((v) => v[0] + nx * (v[1] + ny * v[2])))) as number;
    await moveMouseAway(page);
    await sleep(300);
    await shot('prompt-stroke');
    assert.equal(held, stroke.positive ? strokeVoxels.length : 0, `the proposal holds ${stroke.positive ? 'every' : 'none'} of the ${stroke.positive ? 'positive' : 'negative'} stroke's voxels (${held} of ${strokeVoxels.length})`);
    assert.notEqual(stroked.voxels, strokeClick.voxels, 'the stroke changed the object');
    assert.ok(strokeDice >= 0.7, `Dice of the click-and-stroke proposal vs the reference mask: ${strokeDice.toFixed(3)} (the click alone ${strokeClickDice.toFixed(3)})`);
    // Then Ctrl+Shift+drag a negative outline around the object's right end on that slice: none of
    // what it encloses stays.
    const ringVoxels = [[max[0] - 8, min[1] - 2], [max[0] + 2, min[1] - 2], [max[0] + 2, max[1] + 2], [max[0] - 8, max[1] + 2]].map(([i, j]) => [i, j, bestK]);
    const ringAt = await Promise.all(ringVoxels.map((p) => pageOf(p)));
    await frame.focus('canvas.ll-canvas');
    for (const key of ['Control', 'Shift']) await page.keyboard.down(key);
    await page.mouse.move(ringAt[0][0], ringAt[0][1]);
    await page.mouse.down();
    for (const [x, y] of [...ringAt.slice(1), ringAt[0]]) await page.mouse.move(x, y, { steps: 6 });
    await page.mouse.up();
    for (const key of ['Shift', 'Control']) await page.keyboard.up(key);
    const unOutlined = await promptAnswer(stroked.text);
    const enclosedLeft = (await frame.evaluate((box) => {
      const data = (window as any).lesionLab.viewer.overlayMaps.values('probability') as Float32Array;
      let n = 0;
      for (let j = box.j0; j <= box.j1; j++) for (let i = box.i0; i <= box.i1; i++) if (data[i + box.nx * (j + box.ny * box.k)] > 0.5) n++;
      return n;
    }, { i0: max[0] - 7, i1: max[0] + 1, j0: min[1] - 1, j1: max[1] + 1, k: bestK, nx, ny })) as number;
    await moveMouseAway(page);
    await sleep(300);
    await shot('prompt-negative-outline');
    assert.equal(enclosedLeft, 0, 'nothing the negative outline encloses stays in the object');
    assert.ok(unOutlined.voxels < stroked.voxels, `the negative outline took voxels away (${stroked.voxels} → ${unOutlined.voxels})`);
    await frame.focus('canvas.ll-canvas');
    await page.keyboard.press('Escape');
    await waitFor('Esc to drop the stroke\'s proposal', async () => ((await frame.evaluate(() => (window as any).lesionLab.viewer.proposal)) === null ? true : undefined), 10_000);
    summary.steps.prompt = {
      image: TUMOUR_NAME,
      centre,
      box: { min, max },
      clickMs: click.ms,
      clickVoxels: click.voxels,
      clickDice: Number(clickDice.toFixed(3)),
      boxMs: boxed.ms,
      boxVoxels: boxed.voxels,
      dice: Number(dice.toFixed(3)),
      acceptedVoxels: accepted,
      outlineVertices: traced.points.length,
      outlineMs: outlined.ms,
      outlineDice: Number(outlineDice.toFixed(3)),
      strokePositive: stroke.positive,
      strokeVertices: stroke.points.length,
      strokeMs: stroked.ms,
      strokeClickDice: Number(strokeClickDice.toFixed(3)),
      strokeDice: Number(strokeDice.toFixed(3)),
      negativeOutlineMs: unOutlined.ms,
      negativeOutlineVoxels: unOutlined.voxels,
    };
  });

  step('fusion', ['prompt'], 90_000, async () => {
    // Overlay Another Image on the tumour's CT: the same patient's PET, picked in code-server's
    // file dialog, is drawn over the slices (more coloured pixels), then removed with its button.
    const frame = tumourFrame;
    assert.ok(frame, 'the prompt step left the tumour open');
    assert.ok((await visibleText(page, '.tabs-container .tab.active')).includes(TUMOUR_NAME), 'the tumour is the active editor');
    const hasFusion = () => frame.evaluate(() => (window as any).lesionLab.viewer.hasOverlay('fusion') as boolean);
    const before = await canvasPixels(frame);
    const command = findCommand(OVERLAY_TITLE);
    assert.ok(command, 'Overlay Another Image is contributed');
    await quickInput(page, 'F1', command.paletteText);
    // code-server's open dialog is a quick input holding a path. It lists the folder
    // asynchronously and rewrites the value while it does, so: wait for the listing, fill the PET's
    // path, and press Enter only once the value holds it and the PET is the focused row.
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    const path = join(workspaceDir, FUSION_NAME);
    const focusedRow = () => visibleText(page, '.quick-input-widget .quick-input-list .monaco-list-row.focused');
    await waitFor('the dialog to list the workspace', async () => ((await visibleText(page, '.quick-input-widget .quick-input-list')).includes(FUSION_NAME) || undefined), 10_000);
    await waitFor(
      'the dialog to hold the PET and focus its row',
      async () => {
        if ((await input.inputValue()) !== path) {
          await input.fill(path);
          await sleep(500);
          return undefined;
        }
        return (await focusedRow()).includes(FUSION_NAME) || undefined;
      },
      15_000,
      300,
    );
    await shot('fusion-dialog');
    await page.keyboard.press('Enter');
    await waitFor('the fused PET in the webview', async () => ((await hasFusion()) ? true : undefined), 20_000).catch(async (e: unknown) => {
      const value = await input.inputValue().catch(() => '(gone)');
      const rows = await visibleText(page, '.quick-input-widget');
      const toasts = await visibleText(page, '.notifications-toasts');
      throw new Error(`${String(e)}; dialog value ${JSON.stringify(value)}, dialog ${JSON.stringify(rows.slice(0, 400))}, notifications ${JSON.stringify(toasts.slice(0, 400))}`);
    });
    await sleep(500);
    const after = await canvasPixels(frame);
    const colouredBefore = colouredInSliceViews(before);
    const colouredAfter = colouredInSliceViews(after);
    await moveMouseAway(page);
    await shot('fusion-shown');
    assert.ok(colouredAfter > colouredBefore + 1000, `the PET colours the slices: ${colouredBefore} → ${colouredAfter} coloured pixels`);
    const name = await frame.evaluate(() => document.querySelector('[data-group="fusion"] .ll-field-label')?.textContent ?? '');
    assert.equal(name, FUSION_NAME, 'the fused image is named in its controls');
    // Register, from its button: the host aligns the PET to the CT rigidly and says how it moved it
    // (a PET and its CT share the scanner's space, so by little), and the PET stays shown.
    const logBefore = extensionLog(profile).length;
    await frame.click('button[data-action="registerOverlayImage"]');
    const registered = await waitFor('Register to report its result in the log', async () => extensionLog(profile).slice(logBefore).find((l) => /sts002_pet\.nii\.gz registered rigidly: rotation/.test(l)), 30_000);
    const shift = /translation \(([-\d.]+), ([-\d.]+), ([-\d.]+)\) mm/.exec(registered);
    assert.ok(shift && Math.hypot(Number(shift[1]), Number(shift[2]), Number(shift[3])) < 15, `a PET and its CT need little moving: ${registered}`);
    await waitFor('the registered PET in the webview', async () => ((await hasFusion()) ? true : undefined), 10_000);
    await shot('fusion-registered');
    // Closed and reopened, the CT gets its PET back; Remove then takes it away.
    const closeTumour = async (): Promise<void> => {
      // The tab's close button, as a user closes it (the document has no unsaved edits).
      await page.click('.tabs-container .tab.active .codicon-close');
      await waitFor('the tumour editor to close', async () => (!(await visibleText(page, '.tabs-container')).includes(TUMOUR_NAME) ? true : undefined), 10_000);
      await sleep(500);
    };
    await closeTumour();
    // code-server often leaves a custom editor reopened within 2 s of closing blank: its webview's
    // content frame never loads, though the host opened the document (7 of 17 runs here, with the
    // tab's close button too; setting the html again did not help). After a 3 s pause it rendered;
    // should it stay blank, it is closed and opened once more.
    await sleep(3000);
    let reopenAttempts = 1;
    const reopened = await openAndCheck(TUMOUR_NAME, 'fusion-reopened', 20_000)
      .catch(async (e: unknown) => {
        reopenAttempts = 2;
        console.log(`# e2e: the reopened ${TUMOUR_NAME} stayed blank; closing and opening it again (${String(e).slice(0, 300)})`);
        await closeTumour();
        await sleep(3000);
        return openAndCheck(TUMOUR_NAME, 'fusion-reopened-again');
      })
      .then((o) => o.frame);
    const hasFusionAgain = () => reopened.evaluate(() => (window as any).lesionLab.viewer.hasOverlay('fusion') as boolean);
    await waitFor('the fused PET to come back with the reopened CT', async () => ((await hasFusionAgain()) ? true : undefined), 20_000);
    await reopened.click('button[data-action="clearOverlayImage"]');
    await waitFor('the fused PET to be removed', async () => ((await hasFusionAgain()) ? undefined : true), 10_000);
    summary.steps.fusion = { image: TUMOUR_NAME, overlay: FUSION_NAME, colouredBefore, colouredAfter, registered, reopenAttempts };
  });
});

/** The extension host's log (code-server writes it under the profile's logs folder). */
function extHostLog(profile: ProfileDirs): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/exthost\.log$/i.test(name)) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(profile.userDataDir, 'logs'));
  return out.join('\n');
}

/** Model version folders (`v<N>` holding card.json) in the workspace and the extension's storage. */
function modelVersionDirs(profile: ProfileDirs, workspaceDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 8 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (!statSync(p).isDirectory()) continue;
      if (/^v\d+$/.test(name) && existsSync(join(p, 'card.json'))) found.push(p);
      else walk(p, depth + 1);
    }
  };
  walk(join(profile.userDataDir, 'User/globalStorage'), 0);
  walk(workspaceDir, 0);
  return found;
}

/**
 * Accepts the defaults of whatever a long command asks: Enter on an open quick pick / input box,
 * the primary button of a modal dialog. Returns what was accepted, for the summary.
 */
async function acceptPrompts(page: Page): Promise<string[]> {
  const accepted: string[] = [];
  if (await page.locator('.quick-input-widget').isVisible().catch(() => false)) {
    const title = await visibleText(page, '.quick-input-widget');
    accepted.push(`quick input: ${title.slice(0, 160)}`);
    await page.keyboard.press('Enter');
  }
  const dialog = page.locator('.monaco-dialog-box');
  if (await dialog.isVisible().catch(() => false)) {
    accepted.push(`dialog: ${(await visibleText(page, '.monaco-dialog-box')).slice(0, 160)}`);
    await dialog.locator('.dialog-buttons .monaco-button').first().click();
  }
  return accepted;
}

/** Moves the mouse onto the Explorer so no brush cursor or hover state shows in the views. */
async function moveMouseAway(page: Page): Promise<void> {
  await page.mouse.move(150, 500);
  await sleep(150);
}

/** Picks the brush tool in the webview: a [data-tool="brush"] control, a "Brush" button, or key B. */
async function selectBrush(frame: Frame, page: Page): Promise<void> {
  const control = (await frame.$('[data-tool="brush"]')) ?? (await frame.$('button:has-text("Brush")'));
  if (control) await control.click();
  else await page.keyboard.press('b');
}

