// Headless-Chromium harness for the webview bundle: a page served from memory that loads
// dist/webview.js and media/webview.css with a fake acquireVsCodeApi recording what the webview
// posts; volumes go in as real `init` messages with ArrayBuffers (fetched from the harness
// server, so no big JSON crosses the DevTools protocol).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { intensityStats, guessModality, labelsToWire, toWireVoxels } from '../../src/volume/imageInfo';
import { DEFAULT_SETTINGS as DEFAULT_EDITOR_SETTINGS } from '../../src/settings/editorSettings';
import { readNifti } from '../../src/nifti/index';
import type { InitMessage, LabelTableEntry, ViewerSettings } from '../../src/protocol/messages';

export const REPO = resolve(__dirname, '../..');
export const OUTPUT_DIR = join(REPO, 'test-output', 'webview');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

/** The `init` fields a test must give; everything else gets a sensible default. */
export interface TestVolume {
  fileName: string;
  dims: [number, number, number];
  affine: number[];
  voxels: Uint8Array | Int8Array | Int16Array | Uint16Array | Float32Array;
  labels?: Uint8Array | Uint16Array;
  labelTable?: LabelTableEntry[];
  modality?: InitMessage['modality'];
  settings?: Partial<ViewerSettings>;
  readOnly?: boolean;
}

/** The viewer settings the host sends when the user has changed none. */
export const DEFAULT_SETTINGS: ViewerSettings = DEFAULT_EDITOR_SETTINGS.viewer;

/** Reads a NIfTI file (frame 0) into a TestVolume, with its mask when given. */
export async function volumeFromNifti(path: string, maskPath?: string): Promise<TestVolume> {
  const img = await readNifti(path);
  const wire = toWireVoxels(img.data);
  const ctor = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, float32: Float32Array }[wire.voxelType];
  let labels: Uint8Array | undefined;
  if (maskPath) {
    const m = await readNifti(maskPath);
    labels = Uint8Array.from(m.data as ArrayLike<number>, (v) => (v > 0 ? Math.round(v) : 0));
  }
  return {
    fileName: basename(path),
    dims: img.dims,
    affine: Array.from(img.affine),
    voxels: new ctor(wire.voxels),
    labels,
  };
}

/** Builds the `init` message the host would send for a TestVolume. */
export function initMessageFields(v: TestVolume): Omit<InitMessage, 'voxels' | 'labels'> & { labelBits: 8 | 16 } {
  const stats = intensityStats(v.voxels);
  const voxelType = v.voxels instanceof Uint8Array ? 'uint8' : v.voxels instanceof Int8Array ? 'int8' : v.voxels instanceof Uint16Array ? 'uint16' : v.voxels instanceof Int16Array ? 'int16' : 'float32';
  return {
    type: 'init',
    fileName: v.fileName,
    dims: v.dims,
    affine: v.affine,
    voxelType,
    frameCount: 1,
    frame: 0,
    stats,
    modality: v.modality ?? guessModality(v.fileName, '', stats),
    labelTable: v.labelTable ?? [],
    readOnly: v.readOnly ?? false,
    readOnlyReason: null,
    maskMessage: null,
    settings: { ...DEFAULT_SETTINGS, ...v.settings },
    labelBits: v.labels instanceof Uint16Array ? 16 : 8,
  };
}

/** A posted message as recorded in the page (ArrayBuffers turned into byte arrays). */
export type Posted = { type: string; [k: string]: unknown };

export interface Harness {
  page: Page;
  /** Sends `init` for the volume and waits until the first frame is drawn; returns its ms. */
  load(v: TestVolume): Promise<number>;
  /** Messages the webview posted so far. */
  posted(): Promise<Posted[]>;
  /** Number of posted messages of a type, and the last one (cheaper than posted() with big deltas). */
  lastPosted(type: string): Promise<{ count: number; last: Posted | null }>;
  /** Waits until the viewer has drawn everything requested (two animation frames). */
  settle(): Promise<void>;
  /** RGBA pixels of the canvas (top row first), width and height in device pixels. */
  pixels(): Promise<{ width: number; height: number; data: Uint8Array }>;
  /** The harness server's origin (http://127.0.0.1:port) and a way to serve extra HTML pages. */
  origin: string;
  serveHtml(path: string, html: string): void;
  /** Saves a screenshot of the page to test-output/webview/<name>.png. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

const HTML = `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/media/webview.css">
<script>
  // tsx (esbuild keepNames) wraps named functions in test callbacks with __name().
  window.__name = (f) => f;
  window.__posted = [];
  window.__state = undefined;
  function acquireVsCodeApi() {
    return {
      postMessage(m) { window.__posted.push(m); },
      getState() { return window.__state; },
      setState(s) { window.__state = s; },
    };
  }
</script></head><body><div id="lesion-lab"></div><script src="/dist/webview.js"></script></body></html>`;

/** Opens a page of the given viewport size with the webview loaded (no volume yet). */
export async function openHarness(browser: Browser, size = { width: 400, height: 400 }): Promise<Harness> {
  const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const blobs = new Map<string, Buffer>();
  const pages = new Map<string, string>();
  let blobId = 0;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || process.env.HARNESS_CONSOLE) console.log(`[webview ${m.type()}] ${m.text()}`);
  });
  // A local HTTP server (not Playwright routes, which base64 every body over CDP): volumes of
  // tens of MB reach the page in milliseconds.
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (body: Buffer | string, type: string) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/harness.html') return send(HTML, 'text/html');
    if (path === '/favicon.ico') return send('', 'image/x-icon');
    if (path === '/dist/webview.js') return send(readFileSync(join(REPO, 'dist/webview.js')), 'text/javascript');
    if (path === '/media/webview.css') return send(readFileSync(join(REPO, 'media/webview.css')), 'text/css');
    if (path === '/media/codicon.ttf') return send(readFileSync(join(REPO, 'media/codicon.ttf')), 'font/ttf');
    const blob = blobs.get(path);
    if (blob) return send(blob, 'application/octet-stream');
    const extra = pages.get(path);
    if (extra) return send(extra, 'text/html');
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await page.goto(`${origin}/harness.html`);
  await page.waitForFunction(() => (window as unknown as { lesionLab?: unknown }).lesionLab !== undefined, undefined, { timeout: 20_000 }).catch((e: Error) => {
    throw new Error(`webview did not start: ${errors.join('; ') || e.message}`);
  });
  if (errors.length) throw new Error(`webview page errors: ${errors.join('; ')}`);
  const addBlob = (view: ArrayBufferView): string => {
    const path = `/blob/${blobId++}`;
    blobs.set(path, Buffer.from(view.buffer, view.byteOffset, view.byteLength));
    return path;
  };
  const harness: Harness = {
    page,
    origin,
    serveHtml(path, html) {
      pages.set(path, html);
    },
    async load(v) {
      const fields = initMessageFields(v);
      const n = v.dims[0] * v.dims[1] * v.dims[2];
      const voxelsPath = addBlob(v.voxels);
      // Exactly what the host sends: an all-background volume is an empty buffer with its bits.
      const labelsPath = addBlob(new Uint8Array(labelsToWire(v.labels ?? new Uint8Array(n)).voxels));
      const before = (await harness.posted()).filter((m) => m.type === 'rendered').length;
      await page.evaluate(
        async ({ fields, voxelsPath, labelsPath }) => {
          const [voxels, labels] = await Promise.all([voxelsPath, labelsPath].map((p) => fetch(p).then((r) => r.arrayBuffer())));
          const { labelBits, ...rest } = fields;
          window.postMessage({ ...rest, voxels, labels: { voxels: labels, bits: labelBits } }, '*');
        },
        { fields, voxelsPath, labelsPath },
      );
      await page.waitForFunction(
        (n) => (window as unknown as { __posted: { type: string }[] }).__posted.filter((m) => m.type === 'rendered').length > n,
        before,
        { timeout: 60_000 },
      );
      blobs.clear();
      const rendered = (await harness.posted()).filter((m) => m.type === 'rendered');
      await harness.settle();
      if (errors.length) throw new Error(`webview page errors: ${errors.join('; ')}`);
      return rendered[rendered.length - 1].ms as number;
    },
    async posted() {
      return page.evaluate(() =>
        (window as unknown as { __posted: Record<string, unknown>[] }).__posted.map((m) => JSON.parse(JSON.stringify(m, (_k, val) => (val instanceof ArrayBuffer ? { __bytes: Array.from(new Uint8Array(val)) } : val)))),
      );
    },
    async lastPosted(type) {
      return page.evaluate((type) => {
        const all = (window as unknown as { __posted: { type: string }[] }).__posted.filter((m) => m.type === type);
        const last = all.length ? all[all.length - 1] : null;
        const json = last ? JSON.parse(JSON.stringify(last, (_k, val) => (val instanceof ArrayBuffer ? { __bytes: Array.from(new Uint8Array(val)) } : val))) : null;
        return { count: all.length, last: json };
      }, type);
    },
    async settle() {
      await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
    },
    async pixels() {
      const r = await page.evaluate(() => {
        const canvas = document.querySelector('canvas.ll-canvas') as HTMLCanvasElement;
        const gl = canvas.getContext('webgl2') as WebGL2RenderingContext;
        const w = gl.drawingBufferWidth;
        const h = gl.drawingBufferHeight;
        const buf = new Uint8Array(w * h * 4);
        gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, buf);
        let s = '';
        for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
        return { width: w, height: h, b64: btoa(s) };
      });
      const raw = Buffer.from(r.b64, 'base64');
      // GL rows are bottom-up; flip so row 0 is the top.
      const data = new Uint8Array(raw.length);
      const row = r.width * 4;
      for (let y = 0; y < r.height; y++) data.set(raw.subarray((r.height - 1 - y) * row, (r.height - y) * row), y * row);
      return { width: r.width, height: r.height, data };
    },
    async screenshot(name) {
      mkdirSync(OUTPUT_DIR, { recursive: true });
      const path = join(OUTPUT_DIR, `${name}.png`);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      await context.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return harness;
}

/** Crops RGBA pixels to a rectangle (CSS px = device px here). */
export function crop(p: { width: number; data: Uint8Array }, r: { x: number; y: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++) {
    out.set(p.data.subarray(((r.y + y) * p.width + r.x) * 4, ((r.y + y) * p.width + r.x + r.width) * 4), y * r.width * 4);
  }
  return out;
}

/** Writes RGBA pixels as a PNG to test-output/webview/<name>.png. */
export function savePng(name: string, width: number, height: number, rgba: Uint8Array): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  const path = join(OUTPUT_DIR, `${name}.png`);
  writeFileSync(path, PNG.sync.write(png));
  return path;
}

/** A synthetic test volume: a bright ellipsoid "head" with an off-centre "nose" bump (so flips show). */
export function syntheticVolume(dims: [number, number, number], spacing: [number, number, number]): TestVolume {
  const [nx, ny, nz] = dims;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const x = (i - (nx - 1) / 2) / (nx / 2.4);
        const y = (j - (ny - 1) / 2) / (ny / 2.4);
        const z = (k - (nz - 1) / 2) / (nz / 2.4);
        let v = x * x + y * y + z * z < 1 ? 100 + i : 0;
        if (x > 0.3 && y > 0.3 && z > 0 && x < 0.7 && y < 0.7) v = 400;
        data[i + nx * (j + ny * k)] = v;
      }
    }
  }
  const affine = [spacing[0], 0, 0, -((nx - 1) / 2) * spacing[0], 0, spacing[1], 0, -((ny - 1) / 2) * spacing[1], 0, 0, spacing[2], -((nz - 1) / 2) * spacing[2], 0, 0, 0, 1];
  return { fileName: 'synthetic.nii.gz', dims, affine, voxels: data, modality: 'MR' };
}

/** Typed view of a recorded ArrayBuffer ({__bytes}) from `posted()`. */
export function bytesOf(v: unknown): Uint8Array {
  const b = (v as { __bytes?: number[] }).__bytes;
  if (!b) throw new Error(`expected a recorded ArrayBuffer, got ${JSON.stringify(v).slice(0, 80)}`);
  return Uint8Array.from(b);
}

/** Changed voxel indices and after-values of a recorded `edit` message. */
export function editOf(m: Posted): { label: string; indices: number[]; before: number[]; after: number[] } {
  const delta = m.delta as Record<string, unknown>;
  const runsBytes = bytesOf(delta.runs);
  const runs = new Uint32Array(runsBytes.buffer, runsBytes.byteOffset, runsBytes.byteLength / 4);
  const indices: number[] = [];
  for (let r = 0; r < runs.length; r += 2) for (let n = 0; n < runs[r + 1]; n++) indices.push(runs[r] + n);
  const read = (v: unknown): number[] => {
    const b = bytesOf(v);
    return delta.bits === 16 ? Array.from(new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2)) : Array.from(b);
  };
  return { label: String(m.label), indices, before: read(delta.before), after: read(delta.after) };
}

/** Runs `fn(viewer, arg)` in the page (the function is sent as source text). */
export function inPage<T, A = undefined>(h: Harness, fn: (viewer: any, arg: A) => T, arg?: A): Promise<T> {
  return h.page.evaluate(
    ({ src, arg }) => {
      const f = new Function('viewer', 'arg', `return (${src})(viewer, arg);`);
      return f((window as any).lesionLab.viewer, arg);
    },
    { src: fn.toString(), arg: arg as A },
  ) as Promise<T>;
}

/** Page position of a voxel centre in a slice view. */
export async function pageOfVoxel(h: Harness, kind: string, voxel: number[]): Promise<[number, number]> {
  const [ox, oy] = await h.page.evaluate(() => {
    const r = document.querySelector('canvas.ll-canvas')!.getBoundingClientRect();
    return [r.left, r.top] as [number, number];
  });
  const c = await inPage(h, (v, a: { kind: string; voxel: number[] }) => v.canvasOfVoxel(a.kind, a.voxel), { kind, voxel });
  if (!c) throw new Error(`voxel ${voxel} has no position in the ${kind} view`);
  return [ox + (c as number[])[0], oy + (c as number[])[1]];
}

/** Clicks (or drags through) voxel centres of a view with the left button: one gesture. */
export async function strokeThrough(h: Harness, kind: string, voxels: number[][]): Promise<void> {
  const first = await pageOfVoxel(h, kind, voxels[0]);
  await h.page.mouse.move(first[0], first[1]);
  await h.page.mouse.down();
  for (const v of voxels.slice(1)) {
    const p = await pageOfVoxel(h, kind, v);
    await h.page.mouse.move(p[0], p[1], { steps: 1 });
  }
  await h.page.mouse.up();
}

/** How many `edit` messages were posted, and the last one. */
export function lastEdit(h: Harness): Promise<{ count: number; last: Posted | null }> {
  return h.lastPosted('edit');
}
