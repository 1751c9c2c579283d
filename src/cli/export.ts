// `lesion-lab export --format nnunet|msd --out DIR [--dataset-id 501] [--name Lesions]
// [--reviewed-only] [--channel-name image] [--mask-pattern P] FOLDER…`: the labelled cases of one
// or more folders in the nnU-Net v2 or Medical Segmentation Decathlon raw layout.
import { existsSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { EXPORT_FORMATS, exportDataset, type ExportFormat } from '../dataset/export';
import { DEFAULT_MASK_PATTERN } from '../labels/maskPath';
import { CliUsageError, EXIT_BAD_INPUT, EXIT_OK, type CliCommand, type CliIo } from './command';
import { parseArgs, reportInputErrors } from './segment';

/** Errors of src/dataset caused by the user's files or options. */
const DATASET_INPUT_ERRORS = ['ExportError', 'CaseScanError', 'MaskPathError', 'SidecarFieldError'];

const USAGE =
  'lesion-lab export --format nnunet|msd --out DIR [--dataset-id 501] [--name Lesions] [--reviewed-only] ' +
  '[--channel-name image] [--mask-pattern "${name}_seg.nii.gz"] FOLDER [FOLDER …]';

async function runExport(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['format', 'out', 'dataset-id', 'name', 'channel-name', 'mask-pattern'], ['reviewed-only']);
  const format = args.options.get('format');
  if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new CliUsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got ${format === undefined ? 'nothing' : JSON.stringify(format)}`);
  }
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new CliUsageError('--out DIR is required (the folder that receives the dataset folder, e.g. nnUNet_raw)');
  if (args.positional.length === 0) throw new CliUsageError('give at least one FOLDER holding the images and their masks');
  for (const folder of args.positional) {
    if (!existsSync(folder)) throw new CliUsageError(`${folder}: folder not found`);
    if (!statSync(folder).isDirectory()) throw new CliUsageError(`${folder} is a file; give the folder that holds the images`);
  }
  const idRaw = args.options.get('dataset-id') ?? '501';
  const datasetId = Number(idRaw);
  if (idRaw === true || !Number.isInteger(datasetId) || datasetId < 1 || datasetId > 999) throw new CliUsageError(`--dataset-id must be a whole number from 1 to 999, got ${JSON.stringify(idRaw)}`);
  const name = args.options.get('name') ?? 'Lesions';
  const channelName = args.options.get('channel-name') ?? 'image';
  const maskPattern = args.options.get('mask-pattern') ?? DEFAULT_MASK_PATTERN;
  if (name === true || channelName === true || maskPattern === true) throw new CliUsageError('--name, --channel-name and --mask-pattern need a value');
  const result = await exportDataset(args.positional, {
    format: format as ExportFormat,
    outDir: out,
    datasetId,
    name,
    channelName,
    maskPattern,
    reviewedOnly: args.options.get('reviewed-only') === true,
    onProgress: (done, total, caseId) => io.stderr(`  ${done}/${total} ${caseId}\n`),
  });
  const links = result.cases.filter((c) => c.imageBy === 'hard link').length;
  const copies = result.cases.filter((c) => c.imageBy === 'copy' || c.imageBy === 'gzip').length;
  const converted = result.cases.filter((c) => c.imageBy === 'converted').length;
  const unchanged = result.cases.filter((c) => c.imageBy === 'unchanged').length;
  io.stdout(
    `exported ${result.cases.length} case(s) to ${result.datasetDir} (${result.format}): images ${links} hard-linked, ${copies} copied, ${converted > 0 ? `${converted} converted to NIfTI, ` : ''}${unchanged} already there; ` +
      `labels ${Object.entries(result.labels).map(([k, v]) => `${v}=${k}`).join(', ')}\n`,
  );
  const remapped = Object.entries(result.remapped);
  if (remapped.length > 0) io.stdout(`label values renumbered to be consecutive: ${remapped.map(([a, b]) => `${a}→${b}`).join(', ')}\n`);
  if (result.skipped > 0) io.stdout(`${result.skipped} image(s) without a ${args.options.get('reviewed-only') ? 'reviewed ' : ''}mask were not exported\n`);
  if (result.removed.length > 0) io.stdout(`removed ${result.removed.length} file(s) of the previous export that are no longer part of it: ${result.removed.map((f) => relative(result.datasetDir, f)).join(', ')}\n`);
  io.stdout('validated: every label file is on its image\'s grid\n');
  return EXIT_OK;
}

/** `lesion-lab export`: labelled cases in the nnU-Net v2 or MSD raw layout. */
export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'export the cases with masks of FOLDER for nnU-Net v2 or as an MSD task',
  usage: USAGE,
  run(args, io) {
    return reportInputErrors('export', io, async () => {
      try {
        return await runExport(args, io);
      } catch (e) {
        // The dataset layer's own input errors: one sentence, exit status 2.
        if (e instanceof Error && DATASET_INPUT_ERRORS.includes(e.name)) {
          io.stderr(`lesion-lab export: ${e.message.split('\n')[0]}\n`);
          return EXIT_BAD_INPUT;
        }
        throw e;
      }
    });
  },
};
