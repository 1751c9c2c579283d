// `lesion-lab segment IMAGE --out MASK.nii.gz --prompts PROMPTS.json [--previous PREV.nii.gz]
// [--model DIR] [--prompt-model DIR|none] [--click-model DIR|none]`: click-guided segmentation of
// one object. The shipped prompt model (media/models/prompt, src/ml/promptModel.ts) segments it;
// without one, the click model of the image's task (media/models/click/<task>, src/ml/clickModel.ts)
// where one is shipped or given; otherwise the star-shaped method of src/interactive, with
// --model's lesion probability as its prior. segment.ts hands any command line holding --prompts here.
import { existsSync, promises as fsp } from 'node:fs';
import { checkSameGrid, readNifti, writeMaskLike, type NiftiImage } from '../nifti';
import { parsePromptsJson, PromptError, type PromptSegmentationOptions, type Prompts } from '../interactive';
import { segmentPromptedObject, type PromptedObject, type PromptModel } from '../ml/promptModel';
import type { ClickModel } from '../ml/clickModel';
import { checkOutputPaths, type GuardedInput } from '../util/outputGuard';
import { CliUsageError, EXIT_BAD_INPUT, EXIT_OK, type CliIo } from './command';
import { backendOption, firstFrameNote, isInputError, parseArgs, resolveModelDir } from './segment';

export const PROMPT_USAGE =
  'lesion-lab segment IMAGE --out MASK.nii.gz --prompts PROMPTS.json [--previous PREV.nii.gz] [--model DIR] [--prompt-model DIR|none] [--click-model DIR|none] [--backend auto|wasm|cpu]';

/** Whether a `segment` command line asks for click-guided segmentation (it has --prompts). */
export function wantsPromptSegmentation(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--prompts' || a.startsWith('--prompts='));
}

/**
 * The object so far from a --previous mask: 1 where the mask is non-zero.
 * @throws PromptError when the mask is not on the image's grid (naming the differences).
 */
export function previousMaskOnGrid(image: NiftiImage, previous: NiftiImage, previousPath: string): Uint8Array {
  const grid = checkSameGrid(image, previous);
  if (!grid.same) throw new PromptError(`--previous ${previousPath} is not on the grid of ${image.filePath}: ${grid.differences.join(', ')}`);
  const out = new Uint8Array(previous.data.length);
  for (let v = 0; v < out.length; v++) out[v] = previous.data[v] !== 0 ? 1 : 0;
  return out;
}

/**
 * The segmentation both the CLI and the robot user (scripts/eval-interactive.ts) run: the image's
 * values, dims and spacing with the prompts, the previous object, and the prompt model (or the
 * star-shaped method's prior and tuning).
 */
export function segmentImageFromPrompts(
  image: NiftiImage,
  prompts: Prompts,
  opts: { previous?: Uint8Array; prior?: Float32Array; promptModel?: PromptModel; clickModel?: ClickModel; tuning?: PromptSegmentationOptions } = {},
): PromptedObject {
  return segmentPromptedObject({ values: image.data, dims: image.dims, spacingMm: image.spacingMm }, prompts, opts);
}

/** The prompt model of `--prompt-model` (a folder, or none), by default the shipped one; null for the star-shaped method. */
async function promptModelOption(value: string | true | undefined, backend: ReturnType<typeof backendOption>, io: CliIo): Promise<PromptModel | null> {
  if (value === 'none') return null;
  if (value === true) throw new CliUsageError('--prompt-model needs a folder or none');
  if (typeof value === 'string' && !existsSync(value)) throw new PromptError(`--prompt-model ${value}: folder not found`);
  const { findShippedModelDir } = await import('../ml/modelStore');
  const dir = value ?? findShippedModelDir('prompt');
  if (!dir) return null;
  const { initBackend } = await import('../ml/backend');
  const { loadPromptModel } = await import('../ml/promptModel');
  const b = await initBackend({ preferred: backend });
  io.stdout(`backend: ${b.name} (${b.reason})\n`);
  return loadPromptModel(dir);
}

async function lesionProbability(image: NiftiImage, modelPath: string, backend: ReturnType<typeof backendOption>, io: CliIo): Promise<Float32Array> {
  const modelDir = await resolveModelDir(modelPath);
  const { initBackend } = await import('../ml/backend');
  const { loadSegmentationModel, segmentVolume } = await import('../ml/inference');
  const b = await initBackend({ preferred: backend });
  io.stdout(`backend: ${b.name} (${b.reason})\n`);
  const model = await loadSegmentationModel(modelDir);
  try {
    // A brain model is given a head's brain alone, as Segment Lesion gives it (src/ml/starterChoice.ts).
    const skull = (await import('../ml/starterChoice')).brainMaskFor(image, model.brainImages);
    if (skull?.brainMask) io.stdout(`prior: ${skull.note}\n`);
    else if (skull) io.stderr(`lesion-lab segment: warning: prior: ${skull.warning}\n`);
    const seg = await segmentVolume(image, model, { ttaFlips: [[]], brainMask: skull?.brainMask ?? undefined });
    io.stdout(`prior: lesion probability from model ${model.version ?? modelDir}\n`);
    return seg.probability;
  } finally {
    model.network.dispose();
  }
}

/**
 * The click model of `--click-model` (a folder, or none), by default the one shipped for the
 * image's starter task (media/models/click/<task>); null for the star-shaped method.
 */
async function clickModelOption(value: string | true | undefined, image: NiftiImage, backend: ReturnType<typeof backendOption>, io: CliIo): Promise<ClickModel | null> {
  if (value === 'none') return null;
  if (value === true) throw new CliUsageError('--click-model needs a folder or none');
  if (typeof value === 'string' && !existsSync(value)) throw new PromptError(`--click-model ${value}: folder not found`);
  const { findShippedModelDir } = await import('../ml/modelStore');
  const { chooseStarterTask, clickModelFolder } = await import('../ml/starterChoice');
  const dir = value ?? findShippedModelDir(clickModelFolder(chooseStarterTask(image).task));
  if (!dir) return null;
  const { loadClickModel } = await import('../ml/clickModel');
  const { initBackend } = await import('../ml/backend');
  const b = await initBackend({ preferred: backend });
  io.stdout(`backend: ${b.name} (${b.reason})\n`);
  try {
    return await loadClickModel(dir);
  } catch (e) {
    throw new PromptError(`--click-model ${dir}: not a click model (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Runs `segment ... --prompts ...`; bad files give one sentence on stderr and exit status 2. */
export async function runPromptSegment(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['out', 'prompts', 'previous', 'model', 'prompt-model', 'click-model', 'backend']);
  if (args.positional.length !== 1) throw new CliUsageError(`expected one IMAGE, got ${args.positional.length}`);
  const imagePath = args.positional[0];
  const out = args.options.get('out');
  const promptsPath = args.options.get('prompts');
  const previousPath = args.options.get('previous');
  const modelPath = args.options.get('model');
  if (typeof out !== 'string') throw new CliUsageError('--out MASK.nii.gz is required');
  if (!/\.nii\.gz$/i.test(out)) throw new CliUsageError(`--out ${out} must end in .nii.gz`);
  if (typeof promptsPath !== 'string') throw new CliUsageError('--prompts PROMPTS.json needs a value');
  const backend = backendOption(args);
  const fail = (message: string): number => {
    io.stderr(`lesion-lab segment: ${message}\n`);
    return EXIT_BAD_INPUT;
  };
  for (const [role, path] of [['IMAGE', imagePath], ['--prompts', promptsPath], ['--previous', previousPath]] as const) {
    if (typeof path === 'string' && !existsSync(path)) return fail(`${role} ${path}: file not found`);
  }
  try {
    const t0 = performance.now();
    const inputs: GuardedInput[] = [{ role: 'the input image', path: imagePath }, { role: '--prompts', path: promptsPath }];
    if (typeof previousPath === 'string') inputs.push({ role: '--previous', path: previousPath });
    await checkOutputPaths({ inputs, outputs: [{ role: '--out', path: out, kind: 'nifti' }] });
    const image = await readNifti(imagePath);
    io.stdout(firstFrameNote(imagePath, image.frameCount));
    let prompts: Prompts;
    try {
      // With --previous, negative points alone may cut the object so far.
      prompts = parsePromptsJson(await fsp.readFile(promptsPath, 'utf8'), image.dims, typeof previousPath === 'string');
    } catch (e) {
      if (e instanceof PromptError) return fail(`${promptsPath}: ${e.message}`);
      throw e;
    }
    const previous = typeof previousPath === 'string' ? previousMaskOnGrid(image, await readNifti(previousPath), previousPath) : undefined;
    const promptModel = await promptModelOption(args.options.get('prompt-model'), backend, io);
    const clickModel = promptModel ? null : await clickModelOption(args.options.get('click-model'), image, backend, io);
    const prior = typeof modelPath === 'string' && !promptModel ? await lesionProbability(image, modelPath, backend, io) : undefined;
    if (promptModel && typeof modelPath === 'string') io.stdout(`--model ${modelPath} is not needed by the prompt model; ignored (--prompt-model none uses it as the prior)\n`);
    const tRead = performance.now();
    const result = segmentImageFromPrompts(image, prompts, { previous, prior, promptModel: promptModel ?? undefined, clickModel: clickModel ?? undefined });
    promptModel?.network.dispose();
    clickModel?.network.dispose();
    await writeMaskLike(image, result.mask, out);
    let voxels = 0;
    for (let v = 0; v < result.mask.length; v++) voxels += result.mask[v];
    const mm3 = voxels * image.spacingMm[0] * image.spacingMm[1] * image.spacingMm[2];
    const positives = prompts.points.filter((p) => p.positive).length;
    io.stdout(
      `segmented one object from ${positives} positive, ${prompts.points.length - positives} negative point(s) and ${prompts.boxes.length} box(es)${prompts.lassos ? `, ${prompts.lassos.length} lasso(s)` : ''}${prompts.scribbles ? `, ${prompts.scribbles.length} scribble(s)` : ''}` +
        `${previous ? ' refining --previous' : ''} by the ${result.method} method in ${result.totalMs.toFixed(0)} ms (reading ${(tRead - t0).toFixed(0)} ms): ` +
        `${voxels} voxels, ${mm3.toFixed(1)} mm³\nwrote ${out}\n`,
    );
    return EXIT_OK;
  } catch (e) {
    if (e instanceof PromptError || isInputError(e)) return fail(e.message.split('\n')[0]);
    throw e;
  }
}
