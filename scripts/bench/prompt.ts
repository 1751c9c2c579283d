// Click-guided segmentation, the prompt model (media/models/prompt) and the star-shaped method
// (src/interactive) in the same run: milliseconds per click in process, on a synthetic
// 80 mm object at 1 × 1 × 3 mm, on a real sarcoma MR tumour and on an MS lesion on FLAIR (robot
// clicks; without a prompt model the lesion takes step 0, the contrast region) and on a large lobed
// tumour put into that FLAIR (step 0a), and whole CLI calls (`node dist/cli.js segment --prompts`,
// Node start-up and reading included) on a 240×240×155 volume made by padding (in-plane) and
// cropping (slices) an MS FLAIR, first click and refinement, and a first click on the tumour.
// Where a task's click model is shipped (media/models/click/<task>), the same run times it against
// the star on that task's sarcoma image (robot clicks in process; a whole CLI call, TensorFlow.js
// start-up and the model's loading included).
// Usage: npm run bench -- prompt [--json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readNifti, type NiftiImage } from '../../src/nifti';
import type { PointPrompt } from '../../src/interactive';
import { initBackend } from '../../src/ml/backend';
import { findShippedModelDir } from '../../src/ml/modelStore';
import { loadPromptModel, segmentPromptedObject, type PromptModel } from '../../src/ml/promptModel';
import { loadClickModel, type ClickModel } from '../../src/ml/clickModel';
import { clickModelFolder } from '../../src/ml/starterChoice';
import { labelComponents } from '../../src/interactive/components';
import { nextRobotClick } from '../../src/interactive/robotUser';
import type { Vec3 } from '../../src/volume/vec3';
import type { BenchOptions } from '../bench';

const DATA = resolve(__dirname, '../../../shared/data/lesion');
const FLAIR = join(DATA, 'ms-flair-mni/patient19/FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz');
const FLAIR_MASK = join(DATA, 'ms-flair-mni/patient19/GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz');
const STS = join(DATA, 'sarcoma-ct-mr-pet/STS_021/MR_T1');
/**
 * The sarcoma images each task's click model is timed on: STS_032's tumour (58 × 59 × 72 mm on
 * MR, within the goal's 80 mm) and STS_021's (112 × 109 × 167 mm).
 */
const CLICK_MODEL_CASES = ([['sarcoma-mr-t1', 'MR_T1'], ['sarcoma-pet', 'PET']] as const).flatMap(([task, modality]) => ['STS_032', 'STS_021'].map((c) => [task, c, join(DATA, 'sarcoma-ct-mr-pet', c, modality)] as const));

const round = (v: number): number => Math.round(v * 10) / 10;
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** A float32 NIfTI-1 (.nii.gz) with 1 mm voxels and a plain pixdim geometry. */
function niftiFloat32(dims: Vec3, values: Float32Array): Uint8Array {
  const header = new ArrayBuffer(352);
  const dv = new DataView(header);
  dv.setInt32(0, 348, true);
  [3, dims[0], dims[1], dims[2], 1, 1, 1, 1].forEach((d, n) => dv.setInt16(40 + 2 * n, d, true));
  dv.setInt16(70, 16, true);
  dv.setInt16(72, 32, true);
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((p, n) => dv.setFloat32(76 + 4 * n, p, true));
  dv.setFloat32(108, 352, true);
  dv.setUint8(123, 10);
  new Uint8Array(header).set([0x6e, 0x2b, 0x31, 0], 344);
  const whole = new Uint8Array(352 + values.byteLength);
  whole.set(new Uint8Array(header), 0);
  whole.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 352);
  const gz = gzipSync(whole, { level: 6 });
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

/** A bright 80 mm ellipsoid in noise on a 1 × 1 × 3 mm grid. */
function syntheticObject(): { values: Float32Array; dims: Vec3; spacingMm: Vec3; centre: Vec3 } {
  const dims: Vec3 = [130, 130, 40];
  const spacingMm: Vec3 = [1, 1, 3];
  const centre: Vec3 = [65, 65, 20];
  const values = new Float32Array(dims[0] * dims[1] * dims[2]);
  let s = 12345;
  let v = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, v++) {
    const x = (i - centre[0]) / 40, y = (j - centre[1]) / 35, z = ((k - centre[2]) * 3) / 40;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[v] = (x * x + y * y + z * z <= 1 ? 80 : 30) + 20 * (s / 2 ** 32 - 0.5);
  }
  return { values, dims, spacingMm, centre };
}

/**
 * A whole-tumour-like object put into a real brain FLAIR (in place): a body and two lobes reaching
 * sideways (some 47 mm across at scale 1, 75 mm at 1.6), 1.6× brighter than the tissue, with a
 * core only 1.2× brighter.
 */
function insertLobedTumour(values: Float32Array, dims: Vec3, c: Vec3, scale = 1): Uint8Array {
  const parts = ([[[0, 0, 0], [16, 12, 12]], [[18, 10, 0], [6, 20, 7]], [[-16, 0, 12], [7, 6, 18]]] as [Vec3, Vec3][]).map(([o, r]) => [o.map((x) => x * scale), r.map((x) => x * scale)]);
  const reference = new Uint8Array(values.length);
  for (let k = 0, v = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, v++) {
    const p = [i - c[0], j - c[1], k - c[2]];
    if (!parts.some(([o, r]) => p.reduce((a, x, d) => a + ((x - o[d]) / r[d]) ** 2, 0) <= 1) || values[v] <= 0) continue;
    reference[v] = 1;
    values[v] *= Math.hypot(p[0], p[1], p[2]) <= 5 ? 1.2 : 1.6;
  }
  return reference;
}

/** Wall milliseconds of one whole `node dist/cli.js segment ARGS` call (Node start-up and reading included). */
function segmentCallMs(cli: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'segment', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench prompt: CLI failed: ${r.stderr}`);
  return performance.now() - t0;
}

/** Wall and CPU milliseconds of each of 5 robot clicks on one object. */
function robotClickTimes(image: NiftiImage, reference: Uint8Array, model: PromptModel | undefined, clickModel?: ClickModel): { times: number[]; cpuTimes: number[] } {
  const volume = { values: image.data, dims: image.dims, spacingMm: image.spacingMm };
  const points: PointPrompt[] = [];
  let pred: Uint8Array | null = null;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let c = 0; c < 5; c++) {
    const click = nextRobotClick(pred, reference, image.dims, image.spacingMm);
    if (!click) break;
    points.push(click);
    const cpu0 = process.cpuUsage();
    const r = segmentPromptedObject(volume, { points, boxes: [] }, { previous: pred ?? undefined, promptModel: model, clickModel });
    const cpu = process.cpuUsage(cpu0);
    times.push(r.totalMs);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    pred = r.mask;
  }
  return { times, cpuTimes };
}

export default async function run(opts: BenchOptions): Promise<void> {
  const figures: Record<string, number | string> = {};
  const promptModelDir = findShippedModelDir('prompt', __dirname);
  let promptModel: PromptModel | undefined;
  if (promptModelDir) {
    await initBackend({ preferred: 'auto' });
    promptModel = await loadPromptModel(promptModelDir);
  }
  // Both methods in the same run: the prompt model (shipped) and the star-shaped one.
  const methods: [string, PromptModel | undefined][] = [['star', undefined], ...(promptModel ? [['model', promptModel] as [string, PromptModel]] : [])];
  for (const [name, model] of methods) {
    // 1. In process, synthetic 80 mm object: first click, then a negative correction.
    const synth = syntheticObject();
    const first: PointPrompt[] = [{ voxel: synth.centre, positive: true }];
    segmentPromptedObject(synth, { points: first, boxes: [] }, { promptModel: model });
    const oneClick: number[] = [];
    const oneClickCpu: number[] = [];
    for (let r = 0; r < 5; r++) {
      const cpu0 = process.cpuUsage();
      oneClick.push(segmentPromptedObject(synth, { points: first, boxes: [] }, { promptModel: model }).totalMs);
      const cpu = process.cpuUsage(cpu0);
      oneClickCpu.push((cpu.user + cpu.system) / 1000);
    }
    figures[`${name}Synthetic80mmFirstClickMs`] = round(median(oneClick));
    // CPU time of the call: what it costs on one core (the model's wasm threads add theirs), whatever else shares the machine.
    figures[`${name}Synthetic80mmFirstClickCpuMs`] = round(median(oneClickCpu));
    const second: PointPrompt[] = [...first, { voxel: [synth.centre[0] + 35, synth.centre[1], synth.centre[2]], positive: false }];
    const prev = segmentPromptedObject(synth, { points: first, boxes: [] }, { promptModel: model }).mask;
    figures[`${name}Synthetic80mmSecondClickMs`] = round(segmentPromptedObject(synth, { points: second, boxes: [] }, { previous: prev, promptModel: model }).totalMs);
    // The same click with a box around the object: a tight 3-D box, and one drawn on its middle slice.
    const c = synth.centre;
    const tightBox = { min: [c[0] - 40, c[1] - 35, c[2] - 13] as Vec3, max: [c[0] + 40, c[1] + 35, c[2] + 13] as Vec3 };
    const sliceBox = { min: [c[0] - 40, c[1] - 35, c[2]] as Vec3, max: [c[0] + 40, c[1] + 35, c[2]] as Vec3 };
    for (const [kind, box] of [['Box3d', tightBox], ['SliceBox', sliceBox]] as const) {
      const times: number[] = [];
      for (let r = 0; r < 3; r++) times.push(segmentPromptedObject(synth, { points: first, boxes: [box] }, { promptModel: model }).totalMs);
      figures[`${name}Synthetic80mmFirstClick${kind}Ms`] = round(median(times));
    }
    // An outline of its middle slice alone (the star-shaped method; the models take no lassos).
    const outline = { points: Array.from({ length: 64 }, (_, q) => [c[0] + 38 * Math.cos((q * Math.PI) / 32), c[1] + 33 * Math.sin((q * Math.PI) / 32), c[2]] as Vec3) };
    const lassoTimes: number[] = [];
    for (let r = 0; r < 3; r++) lassoTimes.push(segmentPromptedObject(synth, { points: [], boxes: [], lassos: [outline] }, { promptModel: model }).totalMs);
    figures[`${name}Synthetic80mmLassoMs`] = round(median(lassoTimes));
    // A negative stroke across the first click's object, 30 mm from the click (the star-shaped method; the models take no scribbles).
    const stroke = { points: [[c[0] + 30, c[1] - 30, c[2]], [c[0] + 30, c[1] + 30, c[2]]] as Vec3[], positive: false };
    const strokeTimes: number[] = [];
    // Wall time: the edit near the stroke comes after the method's own timings.
    const wallMs = (run: () => unknown): number => {
      const t0 = performance.now();
      run();
      return performance.now() - t0;
    };
    for (let r = 0; r < 3; r++) strokeTimes.push(wallMs(() => segmentPromptedObject(synth, { points: first, boxes: [], scribbles: [stroke] }, { previous: prev, promptModel: model })));
    figures[`${name}Synthetic80mmStrokeMs`] = round(median(strokeTimes));
    // A negative outline over the first click's object from 20 mm past the click to beyond its edge (60 × 80 mm on its slice).
    const leak = { points: [[c[0] + 20, c[1] - 40, c[2]], [c[0] + 80, c[1] - 40, c[2]], [c[0] + 80, c[1] + 40, c[2]], [c[0] + 20, c[1] + 40, c[2]]].map((p) => p.map((x, a) => Math.max(0, Math.min(synth.dims[a] - 1, x)))) as Vec3[], positive: false };
    const leakTimes: number[] = [];
    for (let r = 0; r < 3; r++) leakTimes.push(wallMs(() => segmentPromptedObject(synth, { points: first, boxes: [], lassos: [leak] }, { previous: prev, promptModel: model })));
    figures[`${name}Synthetic80mmNegativeOutlineMs`] = round(median(leakTimes));

    // 2. In process, a real tumour with robot clicks (5 clicks).
    if (existsSync(join(STS, 'image.nii.gz'))) {
      const image = await readNifti(join(STS, 'image.nii.gz'));
      const mask = await readNifti(join(STS, 'mask.nii.gz'));
      const { times, cpuTimes } = robotClickTimes(image, Uint8Array.from(mask.data as ArrayLike<number>, (x) => (x ? 1 : 0)), model);
      figures[`${name}SarcomaMrPerClickMs`] = times.map(round).join(' / ');
      figures[`${name}SarcomaMrPerClickCpuMs`] = cpuTimes.map(round).join(' / ');
      figures.sarcomaMrGrid = `${image.dims.join('×')} @ ${image.spacingMm.map((x) => x.toFixed(2)).join('×')} mm`;
    }
    // 2b. The same on an MS lesion (the first of 100–400 voxels of patient19).
    if (existsSync(FLAIR)) {
      const image = await readNifti(FLAIR);
      const mask = await readNifti(FLAIR_MASK);
      const components = labelComponents(mask.data, mask.dims, 26);
      const label = components.sizes.findIndex((n) => n >= 100 && n <= 400) + 1;
      const { cpuTimes } = robotClickTimes(image, Uint8Array.from(components.labels, (l) => (l === label ? 1 : 0)), model);
      figures[`${name}MsLesion${components.sizes[label - 1]}vxPerClickCpuMs`] = cpuTimes.map(round).join(' / ');
      // 2c. A large lobed tumour put into the same brain (step 0a: a thresholded region), and
      // one 1.6 times its size (75 mm across: the size the goal of ≤ 1 s a click names).
      for (const scale of [1, 1.6]) {
        const tumour = Float32Array.from(image.data as ArrayLike<number>);
        const reference = insertLobedTumour(tumour, image.dims, [91, 109, 91], scale);
        const large = robotClickTimes({ ...image, data: tumour }, reference, model);
        const voxels = reference.reduce((a, b) => a + b, 0);
        figures[`${name}BrainTumour${voxels}vxPerClickMs`] = large.times.map(round).join(' / ');
        figures[`${name}BrainTumour${voxels}vxPerClickCpuMs`] = large.cpuTimes.map(round).join(' / ');
      }
    }
  }
  promptModel?.network.dispose();

  // 2d. Each shipped click model against the star on its task's sarcoma image (robot clicks).
  const cli = resolve(__dirname, '../../dist/cli.js');
  for (const [task, caseName, caseDir] of CLICK_MODEL_CASES) {
    const dir = findShippedModelDir(clickModelFolder(task), __dirname);
    if (!dir || !existsSync(join(caseDir, 'image.nii.gz'))) continue;
    await initBackend({ preferred: 'auto' });
    const clickModel = await loadClickModel(dir);
    const image = await readNifti(join(caseDir, 'image.nii.gz'));
    const reference = Uint8Array.from((await readNifti(join(caseDir, 'mask.nii.gz'))).data as ArrayLike<number>, (x) => (x ? 1 : 0));
    robotClickTimes(image, reference, undefined, clickModel); // warm-up: the working image and the backend's kernels
    const name = [...task.split('-'), caseName.replace('_', '').toLowerCase()].map((w) => w[0].toUpperCase() + w.slice(1)).join('');
    for (const [method, model] of [['star', undefined], ['clickModel', clickModel]] as const) {
      const { times, cpuTimes } = robotClickTimes(image, reference, undefined, model);
      figures[`${method}${name}PerClickMs`] = times.map(round).join(' / ');
      figures[`${method}${name}PerClickCpuMs`] = cpuTimes.map(round).join(' / ');
    }
    clickModel.network.dispose();
    if (existsSync(cli)) {
      const tmp = mkdtempSync(join(tmpdir(), 'll-bench-click-'));
      try {
        const click = nextRobotClick(null, reference, image.dims, image.spacingMm) as PointPrompt;
        writeFileSync(join(tmp, 'p.json'), JSON.stringify({ points: [click] }));
        for (const [method, flag] of [['star', 'none'], ['clickModel', dir]]) {
          const calls = [0, 1, 2].map(() => segmentCallMs(cli, [join(caseDir, 'image.nii.gz'), '--out', join(tmp, 'm.nii.gz'), '--prompts', join(tmp, 'p.json'), '--click-model', flag]));
          figures[`${method}Cli${name}FirstClickMs`] = round(median(calls));
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  }

  // 3. Whole CLI calls on a 240×240×155 volume (padded MS FLAIR), clicking a lesion.
  if (existsSync(FLAIR) && existsSync(cli)) {
    const flair = await readNifti(FLAIR);
    const lesions = await readNifti(FLAIR_MASK);
    const dims: Vec3 = [240, 240, 155];
    const off: Vec3 = [Math.floor((240 - flair.dims[0]) / 2), Math.floor((240 - flair.dims[1]) / 2), Math.floor((flair.dims[2] - 155) / 2)];
    const padded = new Float32Array(240 * 240 * 155);
    let lesionVoxel: Vec3 | null = null;
    for (let k = 0; k < 155; k++) for (let j = 0; j < flair.dims[1]; j++) for (let i = 0; i < flair.dims[0]; i++) {
      const src = i + flair.dims[0] * (j + flair.dims[1] * (k + off[2]));
      padded[i + off[0] + 240 * (j + off[1] + 240 * k)] = flair.data[src];
      if (!lesionVoxel && lesions.data[src] && k > 60) lesionVoxel = [i + off[0], j + off[1], k];
    }
    const dir = mkdtempSync(join(tmpdir(), 'll-bench-prompt-'));
    try {
      const image = join(dir, 'flair240.nii.gz');
      writeFileSync(image, niftiFloat32(dims, padded));
      const click = lesionVoxel ?? [120, 120, 77];
      writeFileSync(join(dir, 'p1.json'), JSON.stringify({ points: [{ voxel: click, positive: true }] }));
      writeFileSync(join(dir, 'p2.json'), JSON.stringify({ points: [{ voxel: click, positive: true }, { voxel: [click[0] + 6, click[1], click[2]], positive: false }] }));
      // The same volume with a large lobed tumour in the middle of the brain, clicked at its centre.
      const tumourCentre: Vec3 = [120, 120, 77];
      insertLobedTumour(padded, dims, tumourCentre);
      const tumourImage = join(dir, 'tumour240.nii.gz');
      writeFileSync(tumourImage, niftiFloat32(dims, padded));
      writeFileSync(join(dir, 'p3.json'), JSON.stringify({ points: [{ voxel: tumourCentre, positive: true }] }));
      const call = (args: string[], on = image): number => segmentCallMs(cli, [on, ...args]);
      for (const [name, method] of [['star', ['--prompt-model', 'none']], ...(promptModelDir ? [['model', []]] : [])] as [string, string[]][]) {
        const firstCalls = [0, 1, 2].map(() => call(['--out', join(dir, 'm1.nii.gz'), '--prompts', join(dir, 'p1.json'), ...method]));
        const refineCalls = [0, 1, 2].map(() => call(['--out', join(dir, 'm2.nii.gz'), '--prompts', join(dir, 'p2.json'), '--previous', join(dir, 'm1.nii.gz'), ...method]));
        figures[`${name}Cli240x240x155FirstClickMs`] = round(median(firstCalls));
        figures[`${name}Cli240x240x155RefineMs`] = round(median(refineCalls));
        const tumourCalls = [0, 1, 2].map(() => call(['--out', join(dir, 'm3.nii.gz'), '--prompts', join(dir, 'p3.json'), ...method], tumourImage));
        figures[`${name}Cli240x240x155BrainTumourFirstClickMs`] = round(median(tumourCalls));
      }
      const t0 = performance.now();
      spawnSync(process.execPath, [cli, '--help']);
      figures.cliStartupOnlyMs = round(performance.now() - t0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    figures.cli = 'skipped (no ../shared/data MS FLAIR or no dist/cli.js: npm run build)';
  }
  if (opts.json) console.log(JSON.stringify({ part: 'prompt', ...figures }));
  else for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(30)} ${value}`);
}
