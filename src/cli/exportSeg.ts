// `lesion-lab export-seg IMAGE [--mask MASK] --out SEG.dcm`: a mask of an image imported from
// DICOM written as a DICOM Segmentation that references the source series (src/dataset/dicomSeg.ts).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportDicomSeg } from '../dataset/dicomSeg';
import { maskPathFor } from '../labels/maskPath';
import { CliUsageError, EXIT_OK, type CliCommand, type CliIo } from './command';
import { parseArgs, reportInputErrors } from './segment';

const USAGE = 'lesion-lab export-seg IMAGE [--mask MASK] --out SEG.dcm [--description TEXT]';

async function runExportSeg(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['mask', 'out', 'description']);
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new CliUsageError('--out SEG.dcm is required');
  if (args.positional.length !== 1) throw new CliUsageError('give one IMAGE (a NIfTI file imported from DICOM by import-dicom)');
  const image = resolve(args.positional[0]);
  const maskOption = args.options.get('mask');
  const mask = resolve(typeof maskOption === 'string' ? maskOption : maskPathFor(image));
  for (const [role, path] of [['IMAGE', image], ['MASK', mask]] as const) {
    if (!existsSync(path)) throw new CliUsageError(`${role} ${path}: file not found`);
  }
  const description = args.options.get('description');
  const result = await exportDicomSeg(image, mask, resolve(out), typeof description === 'string' ? { seriesDescription: description } : {});
  io.stdout(`wrote ${result.outPath}: DICOM SEG of ${result.segments.length} segment(s) in ${result.frames} frame(s), series ${result.seriesInstanceUid}\n`);
  for (const s of result.segments) io.stdout(`  segment ${s.number} "${s.name}" (label ${s.value}): ${s.frames} slice(s)\n`);
  return EXIT_OK;
}

/** `lesion-lab export-seg`: a mask as DICOM SEG. */
export const exportSegCommand: CliCommand = {
  name: 'export-seg',
  summary: 'write the mask of an image imported from DICOM as a DICOM SEG referencing its series',
  usage: USAGE,
  run(args, io) {
    return reportInputErrors('export-seg', io, () => runExportSeg(args, io));
  },
};
