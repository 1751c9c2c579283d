// `npm run eval:interactive -- [--clicks 5] [--max-clicks 20] [--per-lesion] [--min-voxels 20]
//   [--max-objects N] [--cli N] [--json] IMAGE:MASK ...`: the robot user of the CVPR 2025
// interactive 3-D segmentation protocol (src/interactive/robotUser.ts) against click-guided
// segmentation, through the same function the CLI runs (segmentImageFromPrompts). Prints the
// Dice after each click per object, and the mean Dice after 1, 3 and 5 clicks, NoC@85 and NoC@90
// (capped at 20) and the milliseconds per click. The whole mask (> 0) is one object, or with
// --per-lesion every 26-connected component of at least --min-voxels voxels is its own object
// (--max-objects takes an evenly spread sample per case). --prompt-model DIR|none chooses the
// method: the shipped prompt model by default, none = the star-shaped method (tuned by --opt),
// with --model DIR's lesion probability as its prior (as the CLI's --model). --cli N replays every click
// of the first N objects through `node dist/cli.js segment --prompts … --previous …` (build first), one
// process per click as a script calls it, and checks it gives the robot's Dice after each click. --click-model DIR|none: a task's click model
// (src/ml/clickModel.ts; by default the one shipped for the image's task, none today). --new-clicks-only sends each call only its new click with
// the previous mask (a caller that keeps no click history), instead of all clicks so far.
// --labels 1,2,… takes each of those values of a multi-label mask as its own object (e.g. organs
// of a TotalSegmentator mask, a probe of objects other than lesions). --box 3d|2d adds a box to
// every call: the reference's bounding box, or its 2-D bounding box on the axial slice (k) of the
// first click, as the editor's Prompt tool draws one (2d2: that and its box on the first click's
// sagittal slice, drawn in two views); --box-first segments from the box alone
// first (Dice @0), and the clicks then correct that (the CVPR 2025 challenge's box, then clicks).
// --lasso [3|2v] adds to every call the outline of the reference's section on the first click's
// axial slice (its largest 4-connected region, holes filled: what a careful user would draw), with
// 3 also on the slices halfway from it to the reference's first and last slice, with 2v also on
// the first click's sagittal slice; with --box-first the lassos alone segment first.
// --scribble: each correction is a stroke instead of a click, drawn through the robot's click along
// the longest axis of the error's section on its axial slice (robotScribble); the first prompt
// stays the first click (or the box or lassos with --box-first; with --box-first alone, a stroke
// through the reference's section on the first click's axial slice). --negative-outline: each negative
// correction is instead the outline of the leak's section on the click's axial slice, a negative
// lasso (robotNegativeOutline).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readNifti, type NiftiImage } from '../src/nifti';
import { segmentImageFromPrompts } from '../src/cli/promptSegment';
import { labelComponents } from '../src/interactive/components';
import { clicksToReach, diceCoefficient, nextRobotClick, robotNegativeOutline, robotScribble, runRobotSession, type RobotStep } from '../src/interactive/robotUser';
import type { ScribblePrompt } from '../src/interactive/scribble';
import { maskBoundingBox, type VoxelBox } from '../src/interactive/box';
import { outlineOfRegion, type LassoPrompt } from '../src/interactive/lasso';
import type { PointPrompt, Prompts } from '../src/interactive';
import { initBackend } from '../src/ml/backend';
import { findShippedModelDir } from '../src/ml/modelStore';
import { loadPromptModel, type PromptModel } from '../src/ml/promptModel';
import { loadClickModel, type ClickModel } from '../src/ml/clickModel';
import { chooseStarterTask, clickModelFolder } from '../src/ml/starterChoice';
import { loadSegmentationModel, segmentVolume, type SegmentationModel } from '../src/ml/inference';

interface ObjectResult {
  name: string;
  voxels: number;
  steps: RobotStep[];
  /** Dice of the box alone (--box-first). */
  boxDice?: number;
}

/** Which outlines the robot draws (--lasso): none, the first click's axial section, 3 axial sections, or its axial and sagittal sections. */
type LassoKind = 'none' | '1' | '3' | '2v';

export function parse(argv: string[]): { clicks: number; maxClicks: number; perLesion: boolean; minVoxels: number; maxObjects: number; cli: number; json: boolean; newClicksOnly: boolean; labels: number[] | null; box: 'none' | '2d' | '2d2' | '3d'; lasso: LassoKind; scribble: boolean; negativeOutline: boolean; boxFirst: boolean; promptModel: string | null; clickModel: string | null; model: string | null; pairs: [string, string][]; opts: Record<string, number | string | boolean> } {
  const o = { clicks: 5, maxClicks: 20, perLesion: false, minVoxels: 20, maxObjects: Infinity, cli: 0, json: false, newClicksOnly: false, labels: null as number[] | null, box: 'none' as 'none' | '2d' | '2d2' | '3d', lasso: 'none' as LassoKind, scribble: false, negativeOutline: false, boxFirst: false, promptModel: null as string | null, clickModel: null as string | null, model: null as string | null, pairs: [] as [string, string][], opts: {} as Record<string, number | string | boolean> };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number ≥ 0, got ${argv[i]}`);
      return v;
    };
    if (a === '--clicks') o.clicks = num();
    else if (a === '--max-clicks') o.maxClicks = num();
    else if (a === '--per-lesion') o.perLesion = true;
    else if (a === '--min-voxels') o.minVoxels = num();
    else if (a === '--max-objects') o.maxObjects = num();
    else if (a === '--cli') o.cli = num();
    else if (a === '--json') o.json = true;
    else if (a === '--new-clicks-only') o.newClicksOnly = true;
    else if (a === '--labels') {
      o.labels = (argv[++i] ?? '').split(',').map(Number);
      if (o.labels.some((l) => !Number.isInteger(l) || l <= 0)) throw new Error(`--labels takes positive whole label values separated by commas, got ${argv[i]}`);
    }
    else if (a === '--box') {
      const kind = argv[++i];
      if (kind !== '2d' && kind !== '2d2' && kind !== '3d' && kind !== 'none') throw new Error(`--box takes 2d, 2d2, 3d or none, got ${kind}`);
      o.box = kind;
    } else if (a === '--lasso') o.lasso = argv[i + 1] === '3' || argv[i + 1] === '2v' ? (argv[++i] as LassoKind) : '1';
    else if (a === '--scribble') o.scribble = true;
    else if (a === '--negative-outline') o.negativeOutline = true;
    else if (a === '--box-first') o.boxFirst = true;
    else if (a === '--prompt-model') o.promptModel = argv[++i];
    else if (a === '--model') o.model = argv[++i];
    else if (a === '--click-model') o.clickModel = argv[++i];
    else if (a === '--opt') {
      // Tuning only: --opt name=value overrides one PromptSegmentationOptions field.
      const [k, v] = (argv[++i] ?? '').split('=');
      o.opts[k] = v === 'true' || v === 'false' ? v === 'true' : v !== undefined && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else {
      const c = a.lastIndexOf(':');
      if (c <= 0) throw new Error(`expected IMAGE:MASK, got ${a}`);
      o.pairs.push([a.slice(0, c), a.slice(c + 1)]);
    }
  }
  if (o.labels && o.perLesion) throw new Error('--labels and --per-lesion exclude each other');
  if (o.boxFirst && o.box === 'none' && o.lasso === 'none' && !o.scribble) throw new Error('--box-first needs --box 3d or 2d, --lasso or --scribble');
  // The CLI replay sends each robot call's prompts, not a box-only first call, nor --opt's tuning.
  if (o.cli > 0 && (o.boxFirst || Object.keys(o.opts).length > 0)) throw new Error('--cli replays the shipped method: leave out --box-first and --opt');
  if ((o.scribble || o.negativeOutline) && o.newClicksOnly) throw new Error('--scribble and --negative-outline send every stroke and outline so far; leave out --new-clicks-only');
  if (o.pairs.length === 0) throw new Error('usage: npm run eval:interactive -- [--clicks N] [--per-lesion] [--min-voxels 20] IMAGE:MASK ...');
  if (!(o.clicks >= 1)) throw new Error('--clicks must be ≥ 1');
  return o;
}

/** The objects of a reference mask: the whole mask, each given label value, or each component of ≥ minVoxels voxels. */
export function objectsOf(mask: Pick<NiftiImage, 'data' | 'dims'>, perLesion: boolean, minVoxels: number, maxObjects: number, labelValues: number[] | null): { name: string; reference: Uint8Array }[] {
  if (labelValues) {
    return labelValues.map((l) => {
      const ref = Uint8Array.from(mask.data as ArrayLike<number>, (v) => (v === l ? 1 : 0));
      return { name: `label ${l} (${ref.reduce((a, b) => a + b, 0)} vx)`, reference: ref };
    });
  }
  const bin = new Uint8Array(mask.data.length);
  for (let v = 0; v < bin.length; v++) bin[v] = mask.data[v] !== 0 ? 1 : 0;
  if (!perLesion) return [{ name: 'whole', reference: bin }];
  const { labels, sizes } = labelComponents(bin, mask.dims, 26);
  let ids = sizes.map((s, n) => ({ s, label: n + 1 })).filter((c) => c.s >= minVoxels);
  if (ids.length > maxObjects) {
    const sorted = [...ids].sort((a, b) => a.s - b.s);
    ids = Array.from({ length: maxObjects }, (_, q) => sorted[Math.round((q * (sorted.length - 1)) / Math.max(1, maxObjects - 1))]);
  }
  return ids.map(({ label, s }) => {
    const ref = new Uint8Array(bin.length);
    for (let v = 0; v < ref.length; v++) ref[v] = labels[v] === label ? 1 : 0;
    return { name: `lesion ${label} (${s} vx)`, reference: ref };
  });
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const results: ObjectResult[] = [];
  const cliMs: number[] = [];
  let cliMismatch = 0;
  let cliLeft = o.cli;
  let promptModel: PromptModel | undefined;
  if (o.promptModel !== 'none') {
    const dir = o.promptModel ?? findShippedModelDir('prompt', __dirname);
    if (dir) {
      await initBackend({ preferred: 'auto' });
      promptModel = await loadPromptModel(dir);
      if (!o.json) console.log(`method: prompt model ${dir}`);
    }
  }
  if (!promptModel && !o.json) console.log(`method: star-shaped (no prompt model)${o.model ? `, prior: lesion probability of ${o.model}` : ''}`);
  // --click-model DIR, or none; by default the click model shipped for each image's task, as the CLI does.
  const clickModels = new Map<string, ClickModel | undefined>();
  const clickModelFor = async (image: NiftiImage): Promise<ClickModel | undefined> => {
    if (o.clickModel === 'none' || promptModel) return undefined;
    const dir = o.clickModel ?? findShippedModelDir(clickModelFolder(chooseStarterTask(image).task), __dirname);
    if (!dir) return undefined;
    if (!clickModels.has(dir)) {
      await initBackend({ preferred: 'auto' });
      clickModels.set(dir, await loadClickModel(dir));
      if (!o.json) console.log(`method: click model ${dir} (the star-shaped method where it finds nothing at the clicks, and for a click it does not honour)`);
    }
    return clickModels.get(dir);
  };
  let priorModel: SegmentationModel | undefined;
  if (o.model && !promptModel) {
    await initBackend({ preferred: 'auto' });
    priorModel = await loadSegmentationModel(o.model);
  }
  for (const [imagePath, maskPath] of o.pairs) {
    const image = await readNifti(imagePath);
    const mask = await readNifti(maskPath);
    // The prior as the CLI computes it with --model (no test-time augmentation).
    const prior = priorModel ? (await segmentVolume(image, priorModel, { ttaFlips: [[]] })).probability : undefined;
    const clickModel = await clickModelFor(image);
    const segmentOpts = { promptModel, prior, tuning: o.opts };
    for (const obj of objectsOf(mask, o.perLesion, o.minVoxels, o.maxObjects, o.labels)) {
      const boxes = o.box === 'none' ? [] : o.box === '2d2' ? [sliceBox(obj.reference, image, 2), sliceBox(obj.reference, image, 0)] : [referenceBox(obj.reference, image, o.box)];
      const lassos = referenceLassos(obj.reference, image, o.lasso);
      // --scribble: each correction is the stroke drawn instead of the robot's click (robotScribble);
      // --negative-outline: each negative one the outline of the leak's section (robotNegativeOutline).
      const kept: PointPrompt[] = [];
      const scribbles: ScribblePrompt[] = [];
      const negativeOutlines: LassoPrompt[] = [];
      const sent: Prompts[] = [];
      const segment = (points: PointPrompt[], previous: Uint8Array | null): Uint8Array => {
        const click = points[points.length - 1];
        // --scribble --box-first (no box or outline): first a stroke through the reference's section
        // on the first click's axial slice, along its longest axis, alone.
        if (!click && o.scribble && boxes.length === 0 && lassos.length === 0) {
          scribbles.push(robotScribble(nextRobotClick(null, obj.reference, image.dims, image.spacingMm)!, new Uint8Array(obj.reference.length), obj.reference, image.dims, image.spacingMm));
        }
        if (click) {
          const outline = o.negativeOutline && previous && kept.length + scribbles.length + negativeOutlines.length > 0 ? robotNegativeOutline(click, previous, obj.reference, image.dims) : null;
          if (outline) negativeOutlines.push(outline);
          else if (o.scribble && previous && (o.boxFirst || kept.length > 0)) scribbles.push(robotScribble(click, previous, obj.reference, image.dims, image.spacingMm));
          else kept.push(click);
        }
        const given = previous && o.newClicksOnly ? kept.slice(-1) : [...kept];
        const allLassos = [...lassos, ...negativeOutlines];
        const prompts = { points: given, boxes, ...(allLassos.length > 0 ? { lassos: allLassos } : {}), ...(scribbles.length > 0 ? { scribbles: [...scribbles] } : {}) };
        sent.push(prompts);
        return segmentImageFromPrompts(image, prompts, { ...segmentOpts, clickModel, previous: previous ?? undefined }).mask;
      };
      const initial = o.boxFirst ? segment([], null) : undefined;
      const boxDice = initial ? diceCoefficient(initial, obj.reference) : undefined;
      const steps = runRobotSession({
        initial,
        dims: image.dims,
        spacingMm: image.spacingMm,
        reference: obj.reference,
        clicks: o.clicks,
        maxClicks: o.maxClicks,
        stopDice: 0.9,
        segment,
      });
      let voxels = 0;
      for (let v = 0; v < obj.reference.length; v++) voxels += obj.reference[v];
      const name = `${imagePath.replace(/.*sarcoma-ct-mr-pet\//, '').replace(/.*ms-flair-mni\//, '')} ${obj.name}`;
      results.push({ name, voxels, steps, boxDice });
      if (!o.json) {
        console.log(`${name}: Dice ${boxDice !== undefined ? `(box ${boxDice.toFixed(3)}) ` : ''}${steps.map((s) => s.dice.toFixed(3)).join(' ')}  (${(steps.reduce((a, s) => a + s.ms, 0) / steps.length).toFixed(0)} ms/click)`);
      }
      if (cliLeft > 0) {
        cliLeft--;
        const methodArgs = ['--prompt-model', promptModel ? promptModel.dir : 'none', ...(o.model ? ['--model', o.model] : []), ...(o.clickModel ? ['--click-model', o.clickModel] : [])];
        const check = await cliReplay(imagePath, steps, obj.reference, sent, methodArgs);
        cliMs.push(...check.ms);
        if (!check.same) cliMismatch++;
        if (!o.json) console.log(`  CLI replay: Dice ${check.dice.map((d) => d.toFixed(3)).join(' ')}; ${check.ms.map((m) => `${m.toFixed(0)} ms`).join(', ')} per call; ${check.same ? 'the same as' : 'DIFFERENT from'} the robot's`);
      }
    }
  }
  // Runs that stopped early reached Dice ≥ 0.9 past --clicks: their last Dice carries forward.
  // Beyond --max-clicks there is nothing measured.
  const meanAt = (c: number): number | null => (c > o.maxClicks ? null : results.reduce((a, r) => a + r.steps[Math.min(c, r.steps.length) - 1].dice, 0) / results.length);
  const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));
  const dicesOf = (r: ObjectResult): number[] => r.steps.map((s) => s.dice);
  const noc = (t: number): number => results.reduce((a, r) => a + clicksToReach(dicesOf(r), t, 20), 0) / results.length;
  const allMs = results.flatMap((r) => r.steps.filter((s) => s.ms > 0).map((s) => s.ms)).sort((a, b) => a - b);
  const summary = {
    objects: results.length,
    meanDice: { ...(o.boxFirst ? { 0: results.reduce((a, r) => a + (r.boxDice ?? 0), 0) / results.length } : {}), 1: meanAt(1), 3: meanAt(3), 5: meanAt(5) },
    noc85: noc(0.85),
    noc90: noc(0.9),
    msPerClick: { mean: allMs.reduce((a, b) => a + b, 0) / Math.max(1, allMs.length), median: allMs[Math.floor(allMs.length / 2)] ?? 0, max: allMs[allMs.length - 1] ?? 0 },
    cliMsPerCall: cliMs,
    cliMismatches: cliMismatch,
  };
  if (o.json) {
    console.log(JSON.stringify({ summary, objects: results.map((r) => ({ name: r.name, voxels: r.voxels, dice: dicesOf(r), ms: r.steps.map((s) => Math.round(s.ms)) })) }, null, 1));
    return;
  }
  console.log(
    `\n${summary.objects} object(s): mean Dice ${o.boxFirst ? `box alone ${fmt(summary.meanDice[0] ?? null)}  ` : ''}@1 ${fmt(summary.meanDice[1])}  @3 ${fmt(summary.meanDice[3])}  @5 ${fmt(summary.meanDice[5])}  ` +
      `NoC@85 ${summary.noc85.toFixed(2)}  NoC@90 ${summary.noc90.toFixed(2)} (cap 20${o.maxClicks < 20 ? `; runs stopped at ${o.maxClicks} clicks, unreached counted as 20` : ''})  ms/click mean ${summary.msPerClick.mean.toFixed(0)}, median ${summary.msPerClick.median.toFixed(0)}, max ${summary.msPerClick.max.toFixed(0)}`,
  );
  if (cliMs.length > 0) console.log(`CLI calls: ${cliMs.map((m) => m.toFixed(0)).join(', ')} ms; ${cliMismatch} object(s) whose CLI Dice differs from the robot's`);
}

/** The box a user would draw around the reference: its bounding box, or its 2-D box on the first click's axial slice. */
function referenceBox(reference: Uint8Array, image: NiftiImage, kind: '2d' | '3d'): VoxelBox {
  const whole = maskBoundingBox(reference, image.dims);
  if (!whole) throw new Error('the reference mask is empty');
  return kind === '3d' ? whole : sliceBox(reference, image, 2);
}

/** The reference's 2-D box on the first click's slice across voxel axis `across` (2: axial, 0: sagittal). */
function sliceBox(reference: Uint8Array, image: NiftiImage, across: number): VoxelBox {
  const at = nextRobotClick(null, reference, image.dims, image.spacingMm)!.voxel[across];
  const [nx, ny] = image.dims;
  const slice = Uint8Array.from(reference, (x, v) => (x && [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))][across] === at ? 1 : 0));
  return maskBoundingBox(slice, image.dims)!;
}

/**
 * The outlines a careful user would draw around the reference's sections: on the first click's
 * axial slice, and also on the slices halfway from it to the reference's first and
 * last slice ('3'), or on its sagittal slice too ('2v').
 */
function referenceLassos(reference: Uint8Array, image: NiftiImage, kind: LassoKind): LassoPrompt[] {
  if (kind === 'none') return [];
  const first = nextRobotClick(null, reference, image.dims, image.spacingMm)!.voxel;
  const k = first[2];
  const [nx, ny, nz] = image.dims;
  if (kind === '2v') {
    // The axial and the sagittal section through the first click, drawn in two views.
    const sagittal = new Uint8Array(ny * nz);
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) sagittal[z * ny + y] = reference[(z * ny + y) * nx + first[0]];
    return [outlineOfRegion(reference.subarray(k * nx * ny, (k + 1) * nx * ny), [nx, ny], 2, k)!, outlineOfRegion(sagittal, [ny, nz], 0, first[0])!];
  }
  const box = maskBoundingBox(reference, image.dims)!;
  const slices = kind === '1' ? [k] : [Math.round((box.min[2] + k) / 2), k, Math.round((k + box.max[2]) / 2)];
  return [...new Set(slices)].flatMap((s) => outlineOfRegion(reference.subarray(s * nx * ny, (s + 1) * nx * ny), [nx, ny], 2, s) ?? []);
}

/**
 * Replays the robot's clicks through the real CLI, a process per click with the previous call's
 * mask as --previous, and scores each written mask against the reference. A session that reached
 * a perfect mask carries nominal steps (no call) after it: those are not replayed.
 */
async function cliReplay(
  imagePath: string,
  steps: readonly RobotStep[],
  reference: Uint8Array,
  sent: readonly Prompts[],
  methodArgs: string[],
): Promise<{ ms: number[]; dice: number[]; same: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'll-eval-int-'));
  const cli = resolve(__dirname, '../dist/cli.js');
  const ms: number[] = [];
  const dice: number[] = [];
  let previousPath: string | undefined;
  try {
    // The calls the robot made (a perfect object needs no more).
    for (let c = 1; c <= sent.length; c++) {
      const promptsPath = join(dir, `prompts${c}.json`);
      writeFileSync(promptsPath, JSON.stringify(sent[c - 1]));
      const out = join(dir, `mask${c}.nii.gz`);
      const argv = [cli, 'segment', imagePath, '--out', out, '--prompts', promptsPath, ...methodArgs, ...(previousPath ? ['--previous', previousPath] : [])];
      const t0 = performance.now();
      const r = spawnSync(process.execPath, argv, { encoding: 'utf8' });
      ms.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`CLI failed (${r.status}): ${r.stderr}`);
      const written = (await readNifti(out)).data;
      dice.push(diceCoefficient(Uint8Array.from(written, (x) => (x !== 0 ? 1 : 0)), reference));
      previousPath = out;
    }
    // Equal Dice after every click: the CLI, a process per click, answers as the robot did in one process.
    return { ms, dice, same: dice.every((d, c) => Math.abs(d - steps[c].dice) < 1e-9) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
