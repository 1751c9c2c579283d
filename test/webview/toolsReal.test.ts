// Label tools on real volumes from ../shared/data, driven by simulated mouse and keys in headless
// Chromium: threshold-constrained painting, flood fill, 3-D region growing, interpolation, island
// removal, and grow / shrink / smooth of a label. Expected voxel sets are computed here in Node,
// independently of the webview (the margins by brute force over the voxels in mm).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { lastEdit, editOf, inPage, launchChromium, openHarness, pageOfVoxel, strokeThrough, volumeFromNifti, type Harness, type TestVolume } from './harness';

const FLAIR_DIR = ['lesion', 'ms-flair-mni', 'patient07'];
const FLAIR = [...FLAIR_DIR, 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'];
const FLAIR_MASK = [...FLAIR_DIR, 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz'];
const CT_DIR = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT'];
const skip = skipWithoutSharedData(...FLAIR_DIR) || skipWithoutSharedData(...CT_DIR);

let browser: Browser;
let h: Harness;

before(async () => {
  if (skip) return;
  browser = await launchChromium();
  h = await openHarness(browser, { width: 720, height: 640 });
});
after(async () => {
  await h?.close();
  await browser?.close();
});

const linOf = (dims: readonly number[]) => (v: readonly number[]) => v[0] + dims[0] * (v[1] + dims[1] * v[2]);
const voxOf = (dims: readonly number[], idx: number) => [idx % dims[0], Math.floor(idx / dims[0]) % dims[1], Math.floor(idx / (dims[0] * dims[1]))];

/** Voxels of slice k within r mm of voxel c (in-plane, spacing from the volume). */
function discInSlice(vol: TestVolume, c: number[], r: number): number[] {
  const sp = [0, 1, 2].map((n) => Math.hypot(vol.affine[n], vol.affine[4 + n], vol.affine[8 + n]));
  const out: number[] = [];
  const lin = linOf(vol.dims);
  const ext = [Math.ceil(r / sp[0]), Math.ceil(r / sp[1])];
  for (let j = c[1] - ext[1]; j <= c[1] + ext[1]; j++) {
    for (let i = c[0] - ext[0]; i <= c[0] + ext[0]; i++) {
      if (i < 0 || j < 0 || i >= vol.dims[0] || j >= vol.dims[1]) continue;
      if (((i - c[0]) * sp[0]) ** 2 + ((j - c[1]) * sp[1]) ** 2 <= r * r + 1e-9) out.push(lin([i, j, c[2]]));
    }
  }
  return out.sort((a, b) => a - b);
}

/** Independent 4/6-connected component check of a voxel set. */
function isConnected(dims: readonly number[], indices: number[]): boolean {
  const set = new Set(indices);
  const seen = new Set([indices[0]]);
  const stack = [indices[0]];
  const lin = linOf(dims);
  while (stack.length) {
    const [i, j, k] = voxOf(dims, stack.pop() as number);
    for (const d of [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]) {
      const n = [i + d[0], j + d[1], k + d[2]];
      if (n.some((x, a) => x < 0 || x >= dims[a])) continue;
      const idx = lin(n);
      if (set.has(idx) && !seen.has(idx)) {
        seen.add(idx);
        stack.push(idx);
      }
    }
  }
  return seen.size === set.size;
}

describe('FLAIR (float32, 182×218×182, with its lesion mask)', { skip }, () => {
  let vol: TestVolume;
  before(async () => {
    vol = await volumeFromNifti(sharedDataPath(...FLAIR), sharedDataPath(...FLAIR_MASK));
    await h.load(vol);
  });

  test('threshold-constrained brush paints only voxels inside the intensity range', async () => {
    const lin = linOf(vol.dims);
    const c = [100, 120, 90];
    const min = 0.5 * (vol.voxels as Float32Array)[lin(c)];
    const max = 1e9;
    await inPage(h, (v, a: { c: number[]; min: number; max: number }) => {
      v.setCrosshairVoxel(a.c);
      v.setTool('brush');
      v.brushShape = 'disc';
      v.brushRadiusMm = 6;
      v.activeLabel = 2;
      v.thresholdOn = true;
      v.thresholdRange = { min: a.min, max: a.max };
    }, { c, min, max });
    await h.settle();
    const n0 = (await lastEdit(h)).count;
    await strokeThrough(h, 'axial', [c]);
    const { count, last } = await lastEdit(h);
    assert.equal(count, n0 + 1);
    const e = editOf(last!);
    const labels = vol.labels as Uint8Array;
    const image = vol.voxels as Float32Array;
    const disc = discInSlice(vol, c, 6);
    const expected = disc.filter((idx) => image[idx] >= min && image[idx] <= max && labels[idx] !== 2);
    assert.ok(expected.length > 10 && expected.length < disc.length, `the range excludes some of the disc (${expected.length}/${disc.length})`);
    assert.deepEqual(e.indices, expected);
    assert.ok(e.after.every((x) => x === 2));
    await inPage(h, (v) => {
      v.thresholdOn = false;
    });
    await h.screenshot('flair-threshold-brush');
  });

  test('remove islands deletes exactly the lesion components smaller than N voxels', async () => {
    await h.load(vol); // fresh labels = the gold-standard mask
    const labels = vol.labels as Uint8Array;
    const dims = vol.dims;
    // Independent component labelling (union-find over 6-neighbours).
    const n = labels.length;
    const parent = new Int32Array(n).fill(-1);
    const find = (x: number): number => {
      while (parent[x] !== x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
      }
      return x;
    };
    for (let idx = 0; idx < n; idx++) if (labels[idx]) parent[idx] = idx;
    const [nx, ny] = dims;
    for (let idx = 0; idx < n; idx++) {
      if (!labels[idx]) continue;
      const i = idx % nx;
      const j = Math.floor(idx / nx) % ny;
      for (const [ok, nb] of [[i > 0, idx - 1], [j > 0, idx - nx], [idx >= nx * ny, idx - nx * ny]] as [boolean, number][]) {
        if (ok && labels[nb] === labels[idx]) parent[find(idx)] = find(nb);
      }
    }
    const size = new Map<number, number>();
    for (let idx = 0; idx < n; idx++) if (labels[idx]) size.set(find(idx), (size.get(find(idx)) ?? 0) + 1);
    const expected: number[] = [];
    for (let idx = 0; idx < n; idx++) if (labels[idx] && (size.get(find(idx)) as number) < 10) expected.push(idx);
    assert.ok(size.size > 20, `the mask has many components (${size.size})`);
    assert.ok(expected.length > 0);
    await inPage(h, (v) => {
      v.islandMinVoxels = 10;
      v.activeLabel = 1;
    });
    const [x, y] = await pageOfVoxel(h, 'axial', [90, 110, 90]);
    await h.page.mouse.move(x, y);
    const n0 = (await lastEdit(h)).count;
    await h.page.keyboard.press('r');
    const { count, last } = await lastEdit(h);
    assert.equal(count, n0 + 1);
    const e = editOf(last!);
    assert.equal(e.label, 'Remove islands');
    assert.deepEqual(e.indices, expected);
    assert.ok(e.after.every((v) => v === 0));
    const status = await h.page.evaluate(() => document.querySelector('.ll-status')!.textContent);
    assert.match(status ?? '', new RegExp(`Removed ${expected.length} voxels`));
  });

  test('interpolation fills the slices between two drawn axial discs', async () => {
    await h.load({ ...vol, labels: undefined });
    const k0 = 80;
    const k1 = 86;
    await inPage(h, (v, k: number) => {
      v.setCrosshairVoxel([91, 109, k]);
      v.setTool('brush');
      v.brushShape = 'disc';
      v.brushRadiusMm = 8;
      v.activeLabel = 1;
      v.overwrite = 'all';
    }, k0);
    await h.settle();
    await strokeThrough(h, 'axial', [[91, 109, k0]]);
    // Scroll the axial view six slices up with the keyboard, then draw a smaller disc.
    const [x, y] = await pageOfVoxel(h, 'axial', [91, 109, k0]);
    await h.page.mouse.move(x + 30, y + 30);
    for (let s = 0; s < k1 - k0; s++) await h.page.keyboard.press('ArrowUp');
    assert.deepEqual(await inPage(h, (v) => v.crosshairVoxel()), [91, 109, k1]);
    await inPage(h, (v) => {
      v.brushRadiusMm = 4;
    });
    await strokeThrough(h, 'axial', [[91, 109, k1]]);
    const [x2, y2] = await pageOfVoxel(h, 'axial', [91, 109, k1]);
    await h.page.mouse.move(x2 + 30, y2 + 30);
    const n0 = (await lastEdit(h)).count;
    await h.page.keyboard.press('i');
    const { count, last } = await lastEdit(h);
    assert.equal(count, n0 + 1);
    const e = editOf(last!);
    assert.equal(e.label, 'Interpolate');
    const perSlice = new Map<number, number>();
    for (const idx of e.indices) {
      const k = voxOf(vol.dims, idx)[2];
      perSlice.set(k, (perSlice.get(k) ?? 0) + 1);
    }
    assert.deepEqual([...perSlice.keys()].sort((a, b) => a - b), [81, 82, 83, 84, 85]);
    const big = discInSlice(vol, [91, 109, k0], 8).length;
    const small = discInSlice(vol, [91, 109, k1], 4).length;
    for (let k = 81; k <= 85; k++) {
      const a = perSlice.get(k) as number;
      assert.ok(a <= big && a >= small * 0.8, `slice ${k}: ${a} voxels between ${small} and ${big}`);
    }
    assert.ok((perSlice.get(81) as number) > (perSlice.get(85) as number), 'areas shrink towards the small disc');
    await inPage(h, (v, k: number) => v.setCrosshairVoxel([91, 109, k]), 83);
    await h.settle();
    await h.screenshot('flair-interpolated');
  });
});

describe('sarcoma CT (float32 HU, anisotropic 0.98 × 0.98 × 3.27 mm)', { skip }, () => {
  let vol: TestVolume;
  before(async () => {
    vol = await volumeFromNifti(sharedDataPath(...CT_DIR, 'image.nii.gz'), sharedDataPath(...CT_DIR, 'mask.nii.gz'));
    vol = { ...vol, labels: undefined, modality: 'CT' };
    await h.load(vol);
  });

  /** A seed voxel deep inside the tumour mask. */
  async function tumourSeed(): Promise<number[]> {
    const withMask = await volumeFromNifti(sharedDataPath(...CT_DIR, 'image.nii.gz'), sharedDataPath(...CT_DIR, 'mask.nii.gz'));
    const m = withMask.labels as Uint8Array;
    const sum = [0, 0, 0];
    let n = 0;
    for (let idx = 0; idx < m.length; idx++) {
      if (!m[idx]) continue;
      const v = voxOf(vol.dims, idx);
      sum[0] += v[0];
      sum[1] += v[1];
      sum[2] += v[2];
      n++;
    }
    return sum.map((s) => Math.round(s / n));
  }

  for (const threeD of [false, true]) {
    test(threeD ? '3-D region growing from a click: connected, within tolerance, through slices' : 'flood fill in the slice: connected, within tolerance, one slice', async () => {
      await h.load(vol); // fresh, empty labels
      const seed = await tumourSeed();
      const lin = linOf(vol.dims);
      const image = vol.voxels as Float32Array;
      const tol = 15;
      await inPage(h, (v, a: { seed: number[]; threeD: boolean; tol: number }) => {
        v.setCrosshairVoxel(a.seed);
        v.setTool(a.threeD ? 'grow3d' : 'fill2d');
        v.fillTolerance = a.tol;
        v.activeLabel = 1;
        v.overwrite = 'all';
        v.thresholdOn = false;
      }, { seed, threeD, tol });
      await h.settle();
      await h.page.keyboard.press(threeD ? 'g' : 'f');
      const n0 = (await lastEdit(h)).count;
      await strokeThrough(h, 'axial', [seed]);
      const { count, last } = await lastEdit(h);
      assert.equal(count, n0 + 1);
      const e = editOf(last!);
      assert.equal(e.label, threeD ? 'Region grow' : 'Fill');
      const s = image[lin(seed)];
      assert.ok(e.indices.length > 20, `${e.indices.length} voxels`);
      assert.ok(e.indices.every((idx) => Math.abs(image[idx] - s) <= tol), 'all within the tolerance of the seed value');
      const slices = new Set(e.indices.map((idx) => voxOf(vol.dims, idx)[2]));
      if (threeD) assert.ok(slices.size > 1, 'grows through slices');
      else assert.deepEqual([...slices], [seed[2]]);
      if (!threeD) assert.ok(e.indices.includes(lin(seed)));
      assert.ok(isConnected(vol.dims, e.indices), 'one connected region');
      // Maximal: no voxel next to the region (in its slice for 2-D) is within the tolerance and unpainted.
      const set = new Set(e.indices);
      for (const idx of e.indices) {
        const [i, j, k] = voxOf(vol.dims, idx);
        const nbs = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], ...(threeD ? [[0, 0, 1], [0, 0, -1]] : [])];
        for (const d of nbs) {
          const n = [i + d[0], j + d[1], k + d[2]];
          if (n.some((x, a) => x < 0 || x >= vol.dims[a])) continue;
          const nIdx = lin(n);
          if (!set.has(nIdx) && Math.abs(image[nIdx] - s) <= tol) {
            // Only allowed when it already had the label (from the 2-D fill before).
            const had = (await inPage(h, (v, i: number) => (v.labels as Uint8Array)[i], nIdx)) as number;
            assert.equal(had, 1, `neighbour ${n} is within tolerance but was not filled`);
          }
        }
      }
      await h.screenshot(threeD ? 'ct-region-grow' : 'ct-fill2d');
    });
  }

  test('Grow, Shrink and Smooth of the tumour mask: one edit each; the margin in mm is true to the 3.27 mm slices', async () => {
    const withMask = await volumeFromNifti(sharedDataPath(...CT_DIR, 'image.nii.gz'), sharedDataPath(...CT_DIR, 'mask.nii.gz'));
    const mask = withMask.labels as Uint8Array;
    await h.load({ ...vol, labels: mask });
    const seed = await tumourSeed();
    await inPage(h, (v, c: number[]) => {
      v.setCrosshairVoxel(c);
      v.activeLabel = 1;
      v.overwrite = 'all';
      v.thresholdOn = false;
    }, seed);
    await h.settle();
    const sp = [0, 1, 2].map((n) => Math.hypot(vol.affine[n], vol.affine[4 + n], vol.affine[8 + n]));
    // Brute force: the background voxels within 4 mm of a mask voxel, in the mask's bounding box ± 4 mm.
    const dims = vol.dims;
    const inside: number[][] = [];
    for (let idx = 0; idx < mask.length; idx++) if (mask[idx]) inside.push(voxOf(dims, idx));
    const lo = [0, 1, 2].map((a) => Math.max(0, Math.min(...inside.map((p) => p[a])) - Math.ceil(4 / sp[a])));
    const hi = [0, 1, 2].map((a) => Math.min(dims[a] - 1, Math.max(...inside.map((p) => p[a])) + Math.ceil(4 / sp[a])));
    // Only the mask's surface voxels can be nearest to a voxel outside it.
    const lin = linOf(dims);
    const surface = inside.filter(([i, j, k]) => [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]].some(([a, b, c]) => !mask[lin([i + a, j + b, k + c])]));
    const expected: number[] = [];
    for (let k = lo[2]; k <= hi[2]; k++)
      for (let j = lo[1]; j <= hi[1]; j++)
        for (let i = lo[0]; i <= hi[0]; i++) {
          if (mask[lin([i, j, k])]) continue;
          if (surface.some((p) => ((p[0] - i) * sp[0]) ** 2 + ((p[1] - j) * sp[1]) ** 2 + ((p[2] - k) * sp[2]) ** 2 <= 16 * (1 + 1e-9))) expected.push(lin([i, j, k]));
        }
    const n0 = (await lastEdit(h)).count;
    await h.page.fill('input[data-ctl="marginMm"]', '4');
    await h.page.dispatchEvent('input[data-ctl="marginMm"]', 'change');
    await h.page.click('button[data-action="grow"]');
    const grown = await lastEdit(h);
    assert.equal(grown.count, n0 + 1);
    const g = editOf(grown.last!);
    assert.equal(g.label, 'Grow label');
    assert.deepEqual(g.indices, expected);
    assert.ok(g.after.every((x) => x === 1));
    const slices = new Set(g.indices.map((idx) => voxOf(dims, idx)[2]));
    const maskSlices = new Set(inside.map((p) => p[2]));
    assert.equal(slices.size - maskSlices.size, 2, '4 mm reaches one 3.27 mm slice beyond each end');
    await h.screenshot('ct-grow-4mm');
    // Shrink by 4 mm clears label voxels only; Smooth makes one edit of both kinds at most.
    await h.page.click('button[data-action="shrink"]');
    const s1 = editOf((await lastEdit(h)).last!);
    assert.equal(s1.label, 'Shrink label');
    assert.ok(s1.before.every((x) => x === 1) && s1.after.every((x) => x === 0) && s1.indices.length > 0);
    await h.page.click('button[data-action="smooth"]');
    const { count, last } = await lastEdit(h);
    assert.equal(count, n0 + 3);
    assert.equal(editOf(last!).label, 'Smooth label');
    assert.match((await h.page.textContent('.ll-status')) ?? '', /^Smooth label 1 with a 1\.5 mm closing and opening: \d+ voxels added, \d+ cleared\.$/);
  });
});
