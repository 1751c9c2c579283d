// `lesion-lab import-dicom FOLDER --out DIR`: every DICOM image series under FOLDER written as
// NIfTI into DIR (src/dataset/dicomImport.ts); the DICOM files are only read.
import { relative } from 'node:path';
import { importDicom } from '../dataset/dicomImport';
import { CliUsageError, EXIT_BAD_INPUT, EXIT_OK, type CliCommand, type CliIo } from './command';
import { parseArgs, reportInputErrors } from './segment';

const USAGE = 'lesion-lab import-dicom FOLDER --out DIR';

async function runImport(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['out']);
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new CliUsageError('--out DIR is required (the folder that receives the NIfTI files)');
  if (args.positional.length !== 1) throw new CliUsageError('give one FOLDER holding the DICOM files');
  const root = args.positional[0];
  const result = await importDicom(root, out);
  for (const s of result.imported) {
    io.stdout(`wrote ${s.niftiPath}: series ${s.series.number || '?'} "${s.series.description}" (${s.series.modality}), ${s.dims.join('×')} voxels of ${s.spacingMm.map((v) => v.toFixed(2)).join(' × ')} mm${s.volumes ? ` × ${s.volumes.labels.length} volumes by ${s.volumes.by} (${s.volumes.labels.join('; ')})` : ''}${s.pet ? `; PET ${s.pet.note}` : ''}${s.lossy ? `; lossy: ${s.lossy}` : ''}\n`);
  }
  for (const s of result.skippedSeries) io.stdout(`skipped series ${s.series.number || '?'} "${s.series.description}" in ${relative(root, s.folder) || '.'}: ${s.why}\n`);
  for (const f of result.unreadableFiles) io.stdout(`could not read ${relative(root, f.file)}: ${f.why}\n`);
  io.stdout(`imported ${result.imported.length} series, skipped ${result.skippedSeries.length}; ${result.unreadableFiles.length} DICOM file(s) could not be read; ${result.otherFiles} other file(s) were not DICOM images\n`);
  if (result.imported.length === 0 && result.skippedSeries.length === 0) {
    io.stderr(`lesion-lab import-dicom: ${root} holds no DICOM image series\n`);
    return EXIT_BAD_INPUT;
  }
  return EXIT_OK;
}

/** `lesion-lab import-dicom`: DICOM series to NIfTI. */
export const importDicomCommand: CliCommand = {
  name: 'import-dicom',
  summary: 'write every DICOM image series under FOLDER as a NIfTI file in DIR',
  usage: USAGE,
  run(args, io) {
    return reportInputErrors('import-dicom', io, () => runImport(args, io));
  },
};
