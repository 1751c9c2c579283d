// `lesion-lab fine-tune --out DIR [--base DIR] [--minutes M] IMAGE:MASK [IMAGE:MASK …]`: the
// Fine-tune on Corrected Masks engine for scripts. DIR is a model store: the run adds the next
// version folder (v1, v2, …) and makes it active when its validation Dice did not drop.
import { existsSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { initBackend } from '../ml/backend';
import { checkWorkingGrid, unetNetworks } from '../ml/inference';
import { ModelStore, readCard } from '../ml/modelStore';
import { describePostprocessingChoice, fineTune, fineTuneStart, TrainingCancelledError, type TrainingPair } from '../ml/training';
import { typicalLesionVolumeOfFiles } from '../ml/training/lesionScale';
import { LOSS_NAMES } from '../ml/losses';
import { checkOutputPaths } from '../util/outputGuard';
import { cancelOnSignals } from './signals';
import { checkLabelMask } from '../volume/labelMask';
import { readNifti, readNiftiHeader } from '../nifti';
import { CliUsageError, EXIT_OK, type CliCommand, type CliIo } from './command';
import { backendOption, firstFrameNote, numberOption, parseArgs, reportInputErrors, resolveModelDir } from './segment';
import { worldAxisGrid } from '../volume/orientation';

const USAGE =
  'lesion-lab fine-tune --out STORE_DIR [--base MODEL_OR_STORE_DIR] [--minutes 10] [--steps N] [--loss NAME] ' +
  '[--lr 1e-4] [--seed 1] [--activate if-better|always|never] [--replan auto|never|keep-weights] [--backend auto|wasm|cpu] IMAGE:MASK [IMAGE:MASK …]';

/** An image file name before the colon of a pair: NIfTI, NRRD, MetaImage, MGH or a DICOM file. */
const PAIR_IMAGE = /^(.+\.(?:nii|nii\.gz|hdr|nrrd|nhdr|mha|mhd|mgh|mgz|dcm|dicom|ima)):(.+)$/i;

/**
 * Splits `IMAGE:MASK` at the colon before the mask (paths may hold colons on Windows drives). The
 * image is named like an image file, or is a path that exists (a DICOM series' folder, or a DICOM
 * file without an extension).
 */
export function parsePair(text: string): TrainingPair {
  let m: [string, string] | null = null;
  const named = PAIR_IMAGE.exec(text);
  if (named) m = [named[1], named[2]];
  for (let at = text.indexOf(':'); m === null && at >= 0; at = text.indexOf(':', at + 1)) {
    if (at > 0 && at < text.length - 1 && existsSync(text.slice(0, at))) m = [text.slice(0, at), text.slice(at + 1)];
  }
  if (m === null) throw new CliUsageError(`pair ${JSON.stringify(text)} must be IMAGE:MASK with an image file (.nii, .nii.gz, .hdr, .nrrd, .mha, .mgz, a DICOM file) or a DICOM series' folder`);
  for (const f of m) if (!existsSync(f)) throw new CliUsageError(`${f}: file not found`);
  return { imagePath: resolve(m[0]), maskPath: resolve(m[1]) };
}

/** A path as messages show it: relative to the working folder when inside it. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

async function chooseStarter(pairs: readonly { imagePath: string; maskPath: string }[], casesLesionMm3: number | null): Promise<{ dir: string; task: string; reason: string }> {
  const { readNifti } = await import('../nifti');
  const { starterForCases } = await import('../ml/starterChoice');
  try {
    return await starterForCases(await readNifti(pairs[0].imagePath), casesLesionMm3);
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
}

async function runFineTune(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['out', 'base', 'minutes', 'steps', 'loss', 'lr', 'seed', 'activate', 'replan', 'backend']);
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new CliUsageError('--out STORE_DIR is required (the model store the new version goes into)');
  if (args.positional.length === 0) throw new CliUsageError('give at least one IMAGE:MASK pair');
  const pairs = args.positional.map(parsePair);
  const minutes = numberOption(args, 'minutes', 10, 0.05, 24 * 60);
  const stepsRaw = args.options.get('steps');
  const steps = stepsRaw === undefined ? undefined : numberOption(args, 'steps', 1, 1, 1e7);
  if (steps !== undefined && !Number.isInteger(steps)) throw new CliUsageError(`--steps must be a whole number, got ${JSON.stringify(stepsRaw)}`);
  // Default: 1e-4 for the base, the recipe's for a new network (src/ml/training/recipe.ts).
  const learningRate = args.options.has('lr') ? numberOption(args, 'lr', 1e-4, 1e-7, 1) : undefined;
  const seed = numberOption(args, 'seed', 1, 0, 2 ** 31);
  const loss = args.options.get('loss') ?? 'asymmetric-unified-focal';
  if (loss === true || !(LOSS_NAMES as readonly string[]).includes(loss)) {
    throw new CliUsageError(`--loss must be one of ${LOSS_NAMES.join(', ')}, got ${JSON.stringify(loss)}`);
  }
  const activate = args.options.get('activate') ?? 'if-better';
  if (activate !== 'if-better' && activate !== 'always' && activate !== 'never') {
    throw new CliUsageError(`--activate must be if-better, always or never, got ${JSON.stringify(activate)}`);
  }
  const replan = args.options.get('replan') ?? 'auto';
  if (replan !== 'auto' && replan !== 'never' && replan !== 'keep-weights') throw new CliUsageError(`--replan must be auto, never or keep-weights, got ${JSON.stringify(replan)}`);
  const preferred = backendOption(args);
  await checkOutputPaths({
    inputs: pairs.flatMap((p) => [
      { role: 'the image', path: p.imagePath },
      { role: 'the mask', path: p.maskPath },
    ]),
    outputs: [{ role: '--out', path: out, kind: 'model-store' }],
  });
  // Before the backend and the base model load: an image passed as a mask is refused at once.
  for (const p of pairs) checkLabelMask((await readNifti(p.maskPath)).data, shownPath(p.maskPath));
  for (const p of pairs) io.stdout(firstFrameNote(shownPath(p.imagePath), (await readNiftiHeader(p.imagePath)).frameCount));
  // Without --base: the shipped starter that suits the first image and the cases' lesion size (src/ml/starterChoice).
  const baseArg = args.options.get('base') as string | undefined;
  const casesLesionMm3 = await typicalLesionVolumeOfFiles(pairs.map((p) => p.maskPath));
  let starter: { dir: string; task: string; reason: string } | null = null;
  let baseDir: string;
  if (baseArg === undefined) {
    starter = await chooseStarter(pairs, casesLesionMm3);
    baseDir = starter.dir;
  } else baseDir = await resolveModelDir(baseArg);
  // The base, unless its grid or modality does not suit the cases (src/ml/training/recipe.ts).
  const begin = await fineTuneStart({ dir: baseDir, card: await readCard(baseDir) }, pairs, { replan: replan !== 'never', keepWeights: replan === 'keep-weights', loss, casesLesionMm3 });
  // Sizes from the headers, before the base network loads or any volume is resampled.
  for (const p of pairs) {
    const header = await readNiftiHeader(p.imagePath);
    checkWorkingGrid({ ...header, ...worldAxisGrid(header) }, begin.targetSpacingMm);
  }
  const store = new ModelStore(out);
  const pointer = await store.activeOrProblem();
  const hadActiveModel = pointer.active !== null || pointer.starter !== null;

  const backend = await initBackend({ preferred });
  io.stdout(`backend: ${backend.name} (${backend.reason})\n`);
  io.stdout(`base model: ${baseDir}${starter ? ` (starter for ${starter.task}: ${starter.reason})` : ''}\n`);
  if (begin.replanned) io.stdout(`${begin.replanned.join('; ')}\n`);
  if (begin.newLesionType) {
    io.stdout(`${begin.newLesionType}: ${learningRate === undefined ? `learning rate ${begin.options.learningRate} instead of 1e-4` : `learning rate ${learningRate} (--lr)`}\n`);
  }
  const cancellation = cancelOnSignals();
  let lastReport = 0;
  let lastPhase = '';
  try {
    const r = await fineTune({
      ...begin.start,
      ...begin.options,
      replanned: begin.replanned,
      pairs,
      store,
      networks: unetNetworks,
      minutes,
      steps,
      loss,
      learningRate: learningRate ?? begin.options.learningRate,
      seed,
      activate,
      backend: `${backend.name} (${backend.threads} thread${backend.threads > 1 ? 's' : ''})`,
      signal: cancellation.signal,
      onProgress: (p) => {
        const now = Date.now();
        // Every phase change (so the first training step shows at once), then every 10 s.
        if (p.phase !== lastPhase || now - lastReport > 10_000) {
          lastReport = now;
          lastPhase = p.phase;
          io.stderr(
            `  ${p.phase} step ${p.step} epoch ${p.epoch}` +
              `${Number.isFinite(p.loss) ? ` loss ${p.loss.toFixed(4)}` : ''}` +
              `${p.valDice === null ? '' : ` validation patch Dice ${p.valDice.toFixed(3)}`} (${p.elapsedS.toFixed(0)} s)\n`,
          );
        }
      },
    });
    const fmt = (d: number | null): string => (d === null ? '-' : d.toFixed(3));
    io.stdout(
      `validation Dice ${fmt(r.validationDiceBefore)} → ${fmt(r.validationDiceAfter)} on ${r.validationImages.map((p) => relative(process.cwd(), p)).join(', ')}` +
        `${pairs.length === 1 ? ' (the only case, so not held out)' : ' (held out)'}\n`,
    );
    if (r.postprocessing) io.stdout(`${describePostprocessingChoice(r.postprocessing)}\n`);
    io.stdout(`${r.steps} steps in ${r.durationS.toFixed(0)} s, stopped by ${r.stoppedBecause}\n`);
    io.stdout(`wrote ${r.version.dir} (${r.activated ? 'now active' : activate === 'never' ? 'not activated (--activate never)' : 'not activated: validation Dice dropped; the previous version stays active'})\n`);
    if (!r.activated && activate === 'if-better' && starter && !hadActiveModel) {
      // A new store would be left without an active model, and `segment --model STORE` without one:
      // the starter it started from validated better, so it becomes the store's active model.
      await store.setActiveStarter(basename(starter.dir));
      io.stdout(`${shownPath(out)} had no active model: the starter ${basename(starter.dir)}, which validated better, is now its active model\n`);
    }
    const late = cancellation.received();
    if (late !== null) {
      // The signal came after the last cancellation check: the version is complete and kept.
      io.stderr(`lesion-lab fine-tune: ${late} arrived after ${r.version.version} was complete; it was kept\n`);
      return cancellation.exitCode();
    }
    return EXIT_OK;
  } catch (e) {
    if (e instanceof TrainingCancelledError) {
      io.stderr(`lesion-lab fine-tune: ${e.message}\n`);
      return cancellation.exitCode();
    }
    throw e;
  } finally {
    cancellation.dispose();
  }
}

/** `lesion-lab fine-tune`: Fine-tune on Corrected Masks from the command line. */
export const fineTuneCommand: CliCommand = {
  name: 'fine-tune',
  summary: 'fine-tune a model on IMAGE:MASK pairs into a new version of a model store',
  usage: USAGE,
  run(args, io) {
    return reportInputErrors('fine-tune', io, () => runFineTune(args, io));
  },
};
