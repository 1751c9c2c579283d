// `lesion-lab segment IMAGE --model DIR --out MASK.nii.gz [--prob PROB.nii.gz]`: the Segment
// Lesion engine for batch work. The mask is written on exactly the source grid.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readNifti, writeMaskLike, writeVolumeLike, type NiftiImage } from '../nifti';
import { initBackend, BACKEND_PREFERENCES, type BackendPreference } from '../ml/backend';
import { ALL_AXIS_FLIPS, DEFAULT_TTA_FLIPS, loadSegmentationModel, segmentVolume } from '../ml/inference';
import { ModelStore, ModelStoreError } from '../ml/modelStore';
import { ctWithoutInterceptSigns, modalityMismatch } from '../ml/autoConfig';
import { brainMaskFor, StarterChoiceError } from '../ml/starterChoice';
import { starterForImageContent } from '../ml/brainTumourCheck';
import { companionProbability } from '../ml/companion';
import { registerRigid } from '../volume/rigidRegistration';
import { shippedStarterLocator } from '../ml/starterModels';
import { NiftiReadError, NiftiWriteError } from '../nifti';
import { checkOutputPaths, type GuardedOutput } from '../util/outputGuard';
import { cancelOnSignals } from './signals';
import { CliUsageError, EXIT_BAD_INPUT, EXIT_OK, type CliCommand, type CliIo } from './command';

/** Parsed command line: positional arguments and `--name value` / `--flag` options. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string | true>;
}

/**
 * Splits arguments into positionals and options; `valueOptions` take the next argument,
 * `flagOptions` take none.
 * @throws CliUsageError for an unknown option or a missing value.
 */
export function parseArgs(argv: string[], valueOptions: string[], flagOptions: string[] = []): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (flagOptions.includes(name)) {
      options.set(name, true);
    } else if (valueOptions.includes(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new CliUsageError(`option --${name} needs a value`);
      options.set(name, value);
    } else {
      const known = [...valueOptions, ...flagOptions].map((o) => `--${o}`).join(', ');
      throw new CliUsageError(`unknown option ${a} (known options: ${known})`);
    }
  }
  return { positional, options };
}

/** Reads a numeric option within [min, max]. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = args.options.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw === true || !Number.isFinite(v) || v < min || v > max) {
    throw new CliUsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** Reads the --backend option. */
export function backendOption(args: ParsedArgs): BackendPreference {
  const raw = args.options.get('backend') ?? 'auto';
  if (raw === true || !(BACKEND_PREFERENCES as readonly string[]).includes(raw)) {
    throw new CliUsageError(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as BackendPreference;
}

/**
 * A model folder from a path that is either a model folder (has card.json) or a model store
 * (has active.json: its active version, or the shipped starter it names).
 * @throws CliUsageError when the path is neither.
 */
export async function resolveModelDir(path: string): Promise<string> {
  const dir = resolve(path);
  if (existsSync(join(dir, 'card.json'))) return dir;
  if (existsSync(join(dir, 'active.json'))) {
    const pointer = await new ModelStore(dir).activeOrProblem();
    if (pointer.active) return pointer.active.dir;
    if (pointer.starter !== null) {
      // The editor's Select Model (or first Segment Lesion) chose a shipped starter for this workspace.
      const { shippedStarterLocator } = await import('../ml/starterModels');
      try {
        return shippedStarterLocator(typeof __dirname === 'string' ? __dirname : process.cwd()).dirOf(pointer.starter);
      } catch (e) {
        throw new CliUsageError(`${path} is a model store whose active.json names the starter model "${pointer.starter}", which cannot be used (${(e as Error).message})`);
      }
    }
    throw new CliUsageError(`${path} is a model store whose active version is missing or unreadable${pointer.problem ? ` (${pointer.problem})` : ''}`);
  }
  const versions = await new ModelStore(dir).list();
  if (versions.length > 0) {
    throw new CliUsageError(`${path} is a model store with no active version; pass one of its versions, e.g. --model ${join(path, versions[versions.length - 1].version)}`);
  }
  throw new CliUsageError(`${path} is neither a model folder (no card.json) nor a model store (no active.json)`);
}

function checkOutPath(option: string, path: string): void {
  if (!/\.nii\.gz$/i.test(path)) throw new CliUsageError(`--${option} ${path} must end in .nii.gz`);
  if (!existsSync(dirname(resolve(path)))) throw new CliUsageError(`the folder of --${option} ${path} does not exist`);
}

const USAGE =
  'lesion-lab segment IMAGE --out MASK.nii.gz [--model DIR] [--prob PROB.nii.gz] [--uncertainty U.nii.gz] ' +
  '[--threshold P (default the model card\'s, else 0.5)] [--min-lesion-mm3 0] [--tta lr|xyz|none] [--overlap 0.5 (0.25 for batch-norm models)] [--brain-mask BRAIN.nii.gz] [--with OTHER [--register]] [--backend auto|wasm|cpu]' +
  '\n   or: lesion-lab segment IMAGE --out MASK.nii.gz --prompts PROMPTS.json [--previous PREV.nii.gz] [--model DIR] (click-guided, one object)' +
  '\n      PROMPTS.json, 0-based voxel indices of IMAGE: {"points": [{"voxel": [i, j, k], "positive": true}], "boxes": [{"min": [i, j, k], "max": [i, j, k]}],' +
  '\n      "lassos": [{"points": [[i, j, k], ...], "positive": true}] (outlines on one slice), "scribbles": [{"points": [[i, j, k], ...], "positive": false}] (strokes)}';

/**
 * A file-system error on a path (ENOENT, EACCES, ENOSPC, …): Node's message names the call and
 * the path, e.g. "EACCES: permission denied, mkdir '/data/models'".
 */
function isFileSystemError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException;
  return e instanceof Error && typeof x.code === 'string' && /^E[A-Z]+$/.test(x.code) && typeof x.path === 'string' && typeof x.syscall === 'string';
}

/** Errors caused by the user's files, model folder or store location: one sentence, exit status 2. */
export function isInputError(e: unknown): e is Error {
  return (
    isFileSystemError(e) ||
    e instanceof NiftiReadError ||
    e instanceof NiftiWriteError ||
    e instanceof ModelStoreError ||
    (e instanceof Error &&
      ['TrainingError', 'InferenceError', 'PreprocessError', 'ResampleError', 'PatchError', 'OutputPathError', 'LabelMaskError', 'DicomImportError', 'DicomSegError', 'DicomSegReadError', 'CompanionError', 'RegistrationError'].includes(e.name))
  );
}

/**
 * Runs a command body; an input error (see {@link isInputError}) becomes its first line on stderr,
 * prefixed `lesion-lab COMMAND:`, and exit status 2. Other errors propagate.
 */
export async function reportInputErrors(commandName: string, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (!isInputError(e)) throw e;
    io.stderr(`lesion-lab ${commandName}: ${e.message.split('\n')[0]}\n`);
    return EXIT_BAD_INPUT;
  }
}

/**
 * A note for an image with several 3-D frames (a 4-D series, e.g. an MSD brain-tumour case with
 * FLAIR, T1, T1-Gd and T2 as frames): only frame 0 is used, and the user should know it.
 */
export function firstFrameNote(path: string, frameCount: number): string {
  return frameCount > 1 ? `note: ${path} holds ${frameCount} 3-D frames; only frame 0 is used\n` : '';
}

/**
 * The shipped starter for an image (src/ml/starterChoice.ts), saying which and why; on a whole-brain
 * MR, after the brain-tumour starter has looked for a tumour (src/ml/brainTumourCheck.ts).
 */
async function starterFor(image: NiftiImage, io: CliIo, signal: AbortSignal): Promise<string> {
  try {
    const starter = await starterForImageContent(image, { signal });
    io.stdout(`starter: ${starter.task}, chosen for the image: ${starter.reason}\n`);
    return starter.dir;
  } catch (e) {
    if (e instanceof StarterChoiceError) throw new CliUsageError(e.message);
    throw e;
  }
}

async function runSegment(argv: string[], io: CliIo): Promise<number> {
  if ((await import('./promptSegment')).wantsPromptSegmentation(argv)) return (await import('./promptSegment')).runPromptSegment(argv, io);
  const args = parseArgs(argv, ['model', 'out', 'prob', 'uncertainty', 'brain-mask', 'threshold', 'min-lesion-mm3', 'tta', 'overlap', 'backend', 'with'], ['register']);
  if (args.positional.length !== 1) throw new CliUsageError(`expected one IMAGE, got ${args.positional.length}`);
  const imagePath = args.positional[0];
  if (!existsSync(imagePath)) throw new CliUsageError(`${imagePath}: file not found`);
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new CliUsageError('--out MASK.nii.gz is required');
  checkOutPath('out', out);
  const prob = args.options.get('prob');
  if (typeof prob === 'string') checkOutPath('prob', prob);
  const uncertaintyPath = args.options.get('uncertainty');
  if (typeof uncertaintyPath === 'string') checkOutPath('uncertainty', uncertaintyPath);
  const withPath = args.options.get('with');
  if (withPath !== undefined && (typeof withPath !== 'string' || !existsSync(withPath))) throw new CliUsageError(`--with ${typeof withPath === 'string' ? `${withPath}: file not found` : 'needs another image of the same patient'}`);
  const register = args.options.get('register') === true;
  if (register && withPath === undefined) throw new CliUsageError('--register aligns the --with image: give --with OTHER too');
  const brainMaskPath = args.options.get('brain-mask');
  if (typeof brainMaskPath === 'string') checkOutPath('brain-mask', brainMaskPath);
  // Absent: the model card's threshold (0.5 unless the card chose another).
  const threshold = args.options.has('threshold') ? numberOption(args, 'threshold', 0.5, 0.001, 0.999) : undefined;
  const minLesionMm3 = numberOption(args, 'min-lesion-mm3', 0, 0, 1e9);
  const overlap = args.options.has('overlap') ? numberOption(args, 'overlap', 0.5, 0, 0.9) : undefined;
  const tta = args.options.get('tta') ?? 'lr';
  if (tta !== 'lr' && tta !== 'xyz' && tta !== 'none') throw new CliUsageError(`--tta must be lr, xyz or none, got ${JSON.stringify(tta)}`);
  const ttaFlips = tta === 'none' ? [[]] : tta === 'xyz' ? ALL_AXIS_FLIPS : DEFAULT_TTA_FLIPS;
  const preferred = backendOption(args);
  const outputs: GuardedOutput[] = [{ role: '--out', path: out, kind: 'nifti' }];
  if (typeof prob === 'string') outputs.push({ role: '--prob', path: prob, kind: 'nifti' });
  if (typeof uncertaintyPath === 'string') outputs.push({ role: '--uncertainty', path: uncertaintyPath, kind: 'nifti' });
  if (typeof brainMaskPath === 'string') outputs.push({ role: '--brain-mask', path: brainMaskPath, kind: 'nifti' });
  await checkOutputPaths({ inputs: [{ role: 'the input image', path: imagePath }, ...(typeof withPath === 'string' ? [{ role: '--with', path: withPath }] : [])], outputs });
  const modelArg = args.options.get('model') as string | undefined;
  const givenModelDir = modelArg === undefined ? null : await resolveModelDir(modelArg);

  const backend = await initBackend({ preferred });
  io.stdout(`backend: ${backend.name} (${backend.reason})\n`);
  const image = await readNifti(imagePath);
  io.stdout(firstFrameNote(imagePath, image.frameCount));
  // Without --model, the shipped starter that suits the image (as fine-tune picks its base), not
  // one model for every image: an MS FLAIR model on a CT is a silent wrong result.
  let modelDir = givenModelDir;
  if (modelDir === null) {
    const choosing = cancelOnSignals();
    try {
      modelDir = await starterFor(image, io, choosing.signal);
    } catch (e) {
      const received = choosing.received();
      if (received === null) throw e;
      io.stderr(`lesion-lab segment: cancelled by ${received} while choosing the starter; nothing was written\n`);
      return choosing.exitCode();
    } finally {
      choosing.dispose();
    }
  }
  const model = await loadSegmentationModel(modelDir);
  io.stdout(`model: ${model.version ?? basename(modelDir)} (${modelDir}), window ${model.patchSizeVoxels.join('×')}\n`);
  const mismatch = modalityMismatch(image.data, image.spacingMm, model.preprocessing);
  if (mismatch) io.stderr(`lesion-lab segment: warning: ${imagePath}: ${mismatch}; its proposal is unlikely to mean anything (choose a model for its modality, or leave out --model)\n`);
  const rawCt = model.preprocessing.modality === 'CT' ? null : ctWithoutInterceptSigns(image.data);
  if (rawCt) io.stderr(`lesion-lab segment: warning: ${imagePath}: ${rawCt}; it was segmented as ${model.preprocessing.modality} by ${model.version ?? basename(modelDir)}\n`);
  const skull = brainMaskFor(image, model.brainImages);
  if (skull?.brainMask) io.stdout(`${imagePath}: ${skull.note}\n`);
  else if (skull) io.stderr(`lesion-lab segment: warning: ${imagePath}: ${skull.warning}\n`);
  const t0 = Date.now();
  let lastTenth = -1;
  let seg;
  const cancellation = cancelOnSignals();
  try {
    // A second opinion: another modality of the patient, segmented by its own starter (src/ml/companion.ts).
    let companion;
    if (typeof withPath === 'string') {
      const other = await readNifti(withPath);
      io.stdout(firstFrameNote(withPath, other.frameCount));
      const starters = shippedStarterLocator(__dirname);
      let placedAffine: Float64Array | undefined;
      if (register) {
        // Another session: aligned rigidly to the image first (src/volume/rigidRegistration.ts).
        const r = registerRigid(image, other, { signal: cancellation.signal });
        placedAffine = r.correctedAffine;
        const fmt = (v: number[]): string => v.map((x) => x.toFixed(1)).join(', ');
        io.stdout(`with ${withPath}: registered rigidly: rotation (${fmt(r.rotationDeg)})°, translation (${fmt(r.translationMm)}) mm; normalised mutual information ${r.nmiBefore.toFixed(3)} → ${r.nmiAfter.toFixed(3)}\n`);
      }
      companion = await companionProbability(image, other, basename(withPath), (task) => starters.dirOf(task), { ttaFlips, signal: cancellation.signal, placedAffine });
      io.stdout(`with ${withPath}: its starter ${companion.version} (${companion.task}), covering ${(100 * companion.coverage).toFixed(0)} % of the image; the two probabilities are averaged\n`);
    }
    seg = await segmentVolume(image, model, {
      companion: companion?.probability,
      threshold,
      minLesionMm3,
      overlap,
      ttaFlips,
      brainMask: skull?.brainMask ?? undefined,
      signal: cancellation.signal,
      onProgress: (done, total) => {
        const tenth = Math.floor((10 * done) / total);
        if (tenth !== lastTenth) {
          lastTenth = tenth;
          io.stderr(`  windows ${done}/${total}\n`);
        }
      },
    });
  } catch (e) {
    cancellation.dispose();
    const received = cancellation.received();
    if (received === null) throw e;
    io.stderr(`lesion-lab segment: segmentation was cancelled by ${received}; nothing was written\n`);
    return cancellation.exitCode();
  } finally {
    model.network.dispose();
  }
  const seconds = (Date.now() - t0) / 1000;
  try {
    await writeMaskLike(image, seg.labels, out);
    if (typeof prob === 'string') await writeVolumeLike(image, seg.probability, prob, { description: 'lesion-lab lesion probability' });
    if (typeof uncertaintyPath === 'string') await writeVolumeLike(image, seg.uncertainty, uncertaintyPath, { description: 'lesion-lab flip TTA std' });
    if (typeof brainMaskPath === 'string' && skull?.brainMask) await writeMaskLike(image, skull.brainMask, brainMaskPath);
  } finally {
    // Kept through the writes: a signal then lets them finish, so no temporary file stays behind.
    cancellation.dispose();
  }
  const total = seg.lesions.reduce((a, l) => a + l.volumeMm3, 0);
  io.stdout(
    `segmented ${image.dims.join('×')} in ${seconds.toFixed(1)} s (${seg.windowsPredicted}/${seg.windowsTotal} windows predicted, ` +
      `${ttaFlips.length === 1 ? 'no TTA' : `${ttaFlips.length} flip passes`}${threshold === undefined && seg.threshold !== 0.5 ? `, threshold ${seg.threshold} from the model's card` : ''}): ` +
      `${seg.lesions.length} lesion${seg.lesions.length === 1 ? '' : 's'}, ${total.toFixed(1)} mm³\n`,
  );
  const brainMaskWritten = typeof brainMaskPath === 'string' && skull?.brainMask ? `, ${brainMaskPath}` : '';
  io.stdout(`wrote ${out}${typeof prob === 'string' ? `, ${prob}` : ''}${typeof uncertaintyPath === 'string' ? `, ${uncertaintyPath}` : ''}${brainMaskWritten}\n`);
  if (typeof brainMaskPath === 'string' && !skull?.brainMask) io.stdout(`${brainMaskPath} was not written: the model was given the image as it is, not a brain stripped from it\n`);
  const late = cancellation.received();
  if (late !== null) {
    io.stderr(`lesion-lab segment: ${late} arrived while the outputs were being written; they were written completely\n`);
    return cancellation.exitCode();
  }
  return EXIT_OK;
}

/** `lesion-lab segment`: Segment Lesion from the command line (same engine as the editor). */
export const segmentCommand: CliCommand = {
  name: 'segment',
  summary: 'propose a lesion mask for IMAGE with a model (by default the shipped starter that suits the image)',
  usage: USAGE,
  run(args, io) {
    return reportInputErrors('segment', io, () => runSegment(args, io));
  },
};

