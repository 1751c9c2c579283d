// Viewer bench (headless Chromium, WebGL2 through SwiftShader): for a 157 MB-class int16 volume
// (512×512×300, generated in memory) measures
//  - open: `init` received → first slices drawn (texture upload, shader compile, draw, GPU sync);
//  - scroll: one slice step in the axial view → all slice views redrawn;
//  - stroke: one brush dab on the 512×512 axial slice → label texture patch uploaded and the
//    views redrawn.
// Every time ends with a 1-pixel readPixels, because gl.finish() does not wait in Chromium.
import { loadavg } from 'node:os';
import { launchChromium, openHarness, type TestVolume } from '../../test/webview/harness';

export interface BenchOptions {
  json: boolean;
  args: string[];
}

/** A CT-like phantom: air, a soft-tissue ellipse with noise, a bony ring. */
function phantom(nx: number, ny: number, nz: number): Int16Array {
  const data = new Int16Array(nx * ny * nz);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const y = (j - ny / 2) / (ny * 0.4);
      for (let i = 0; i < nx; i++) {
        const x = (i - nx / 2) / (nx * 0.45);
        const r = x * x + y * y;
        let v = -1000;
        if (r < 1) v = 40 + Math.round(rand() * 30);
        if (r > 0.8 && r < 0.9) v = 900;
        data[i + nx * (j + ny * k)] = v;
      }
    }
  }
  return data;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export default async function viewerBench(o: BenchOptions): Promise<void> {
  const dims: [number, number, number] = [512, 512, 300];
  const t0 = Date.now();
  const voxels = phantom(...dims);
  const genMs = Date.now() - t0;
  const vol: TestVolume = {
    fileName: 'bench_ct.nii.gz',
    dims,
    affine: [0.7, 0, 0, -179, 0, 0.7, 0, -179, 0, 0, 1.25, -187, 0, 0, 0, 1],
    voxels,
    modality: 'CT',
  };
  const browser = await launchChromium();
  try {
    const h = await openHarness(browser, { width: 900, height: 800 });
    // Two opens: the first includes shader compilation in a fresh page, the second is warm.
    const openColdMs = await h.load(vol);
    const openWarmMs = await h.load(vol);
    const rects = (await h.page.evaluate(() => (window as any).lesionLab.viewer.viewRects())) as Record<string, { width: number; height: number }>;
    const scroll = (await h.page.evaluate(() => {
      const v = (window as any).lesionLab.viewer;
      v.setLayout('1x3');
      v.renderNow();
      v.syncGpu();
      const times: number[] = [];
      for (let n = 0; n < 30; n++) {
        const t = performance.now();
        v.scrollSlice('axial', 1);
        v.renderNow();
        v.syncGpu();
        times.push(performance.now() - t);
      }
      v.setLayout('2x2');
      return times;
    })) as number[];
    const stroke = (await h.page.evaluate(() => {
      const v = (window as any).lesionLab.viewer;
      v.setLayout('single', 'axial');
      v.setCrosshairVoxel([256, 256, 150]);
      v.setTool('brush');
      v.brushRadiusMm = 5;
      v.renderNow();
      v.syncGpu();
      const canvas = document.querySelector('canvas.ll-canvas') as HTMLCanvasElement;
      const box = canvas.getBoundingClientRect();
      const times: number[] = [];
      const cpuTimes: number[] = [];
      const fire = (type: string, voxel: number[]) => {
        const c = v.canvasOfVoxel('axial', voxel);
        canvas.dispatchEvent(new PointerEvent(type, { clientX: box.left + c[0], clientY: box.top + c[1], pointerId: 7, button: 0, buttons: 1, bubbles: true }));
      };
      fire('pointerdown', [200, 200, 150]);
      v.renderNow();
      for (let n = 1; n <= 30; n++) {
        const t = performance.now();
        // Paint the dab into the label array and upload its dirty box (texSubImage3D)...
        fire('pointermove', [200 + 3 * n, 200 + 2 * n, 150]);
        const tPaint = performance.now();
        // ...then draw and wait for the pixels.
        v.renderNow();
        v.syncGpu();
        times.push(performance.now() - t);
        cpuTimes.push(tPaint - t);
      }
      fire('pointerup', [290, 260, 150]);
      return { times, cpuTimes };
    })) as { times: number[]; cpuTimes: number[] };
    const edits = await h.lastPosted('edit');
    const result = {
      volume: `${dims.join('×')} int16 (${((voxels.byteLength / 1e6) | 0)} MB)`,
      generateMs: genMs,
      openColdMs: Math.round(openColdMs),
      openWarmMs: Math.round(openWarmMs),
      scrollMedianMs: +median(scroll).toFixed(1),
      scrollMaxMs: +Math.max(...scroll).toFixed(1),
      scrollViews: '3 slice views, 1×3 layout',
      strokeMedianMs: +median(stroke.times).toFixed(1),
      strokeMaxMs: +Math.max(...stroke.times).toFixed(1),
      strokePaintAndUploadMedianMs: +median(stroke.cpuTimes).toFixed(2),
      strokeView: 'single axial view',
      editMessages: edits.count,
      loadAverage1m: +loadavg()[0].toFixed(2),
      viewSizesPx: Object.fromEntries(Object.entries(rects).map(([k, r]) => [k, `${r.width}×${r.height}`])),
    };
    if (o.json) console.log(JSON.stringify({ part: 'viewer', ...result }));
    else {
      console.log(`volume                       ${result.volume} (generated in ${genMs} ms)`);
      console.log(`open → first slices (cold)   ${result.openColdMs} ms`);
      console.log(`open → first slices (warm)   ${result.openWarmMs} ms`);
      console.log(`scroll one slice, redraw     median ${result.scrollMedianMs} ms, max ${result.scrollMaxMs} ms (${result.scrollViews})`);
      console.log(`brush dab → on screen        median ${result.strokeMedianMs} ms, max ${result.strokeMaxMs} ms (${result.strokeView}, 5 mm radius)`);
      console.log(`  of which paint + upload    median ${result.strokePaintAndUploadMedianMs} ms (dirty box only)`);
      console.log(`view sizes (2×2)             ${JSON.stringify(result.viewSizesPx)}`);
      console.log(`machine load (1 min)         ${result.loadAverage1m} (software GL: times grow with load)`);
    }
    await h.close();
  } finally {
    await browser.close();
  }
}
