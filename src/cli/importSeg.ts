// `lesion-lab import-seg FILE.dcm IMAGE [--roi NAME …] [--out MASK] [--replace]`: a DICOM
// Segmentation or RT Structure Set written as a mask (and its sidecar, naming the segments or
// structures) on the grid of IMAGE (src/dataset/dicomLabels.ts).
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { labelsFromDicomFile } from '../dataset/dicomLabels';
import { maskPathFor, sidecarPathFor } from '../labels/maskPath';
import { sha256OfFile, sidecarOverwriteProblem } from '../labels/maskFiles';
import { buildSidecar, sidecarToText } from '../labels/sidecar';
import { encodeMaskLike, readNifti, voxelVolumeMm3 } from '../nifti';
import { readFileBytes } from '../nifti/fileBytes';
import { writeFilesAtomically } from '../util/writeFilesAtomically';
import { CliUsageError, EXIT_OK, type CliCommand, type CliIo } from './command';
import { parseArgs, reportInputErrors } from './segment';

const USAGE = 'lesion-lab import-seg SEG_OR_RTSTRUCT.dcm IMAGE [--roi NAME[,NAME…]] [--out MASK.nii.gz] [--replace]';

async function runImportSeg(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['out', 'roi'], ['replace']);
  if (args.positional.length !== 2) throw new CliUsageError('give the SEG or RTSTRUCT file and the IMAGE whose grid it is on');
  const [segPath, imagePath] = args.positional.map((p) => resolve(p));
  for (const [role, path] of [['SEG', segPath], ['IMAGE', imagePath]] as const) if (!existsSync(path)) throw new CliUsageError(`${role} ${path}: file not found`);
  const outOption = args.options.get('out');
  const out = resolve(typeof outOption === 'string' ? outOption : maskPathFor(imagePath));
  if (!/\.nii\.gz$/i.test(out)) throw new CliUsageError(`--out ${out} must end in .nii.gz`);
  // A mask there may hold someone's corrections: it is replaced only when asked.
  if (existsSync(out) && args.options.get('replace') !== true) throw new CliUsageError(`${out} exists; give --replace to replace it, or another --out`);
  const sidecarProblem = await sidecarOverwriteProblem(sidecarPathFor(out));
  if (sidecarProblem) throw new CliUsageError(`${sidecarProblem}; nothing was written`);
  const image = await readNifti(imagePath);
  const roi = args.options.get('roi');
  const seg = labelsFromDicomFile(await readFileBytes(segPath), basename(segPath), image, typeof roi === 'string' ? roi.split(',').map((n) => n.trim()).filter((n) => n) : []);
  const sidecar = buildSidecar({
    imageFile: basename(imagePath),
    imageSha256: await sha256OfFile(imagePath),
    maskFile: basename(out),
    dims: image.dims,
    bits: seg.table.some((e) => e.value > 255) ? 16 : 8,
    voxelVolumeMm3: voxelVolumeMm3(image.affine),
    labelTable: seg.table,
    voxelCounts: seg.voxels,
    modelVersion: null,
    handEditedVoxels: 0,
    reviewed: false,
    savedAt: new Date(),
  });
  await writeFilesAtomically([
    { path: out, bytes: encodeMaskLike(image, seg.labels, out) },
    { path: sidecarPathFor(out), bytes: sidecarToText(sidecar) },
  ]);
  io.stdout(`wrote ${out}: ${seg.table.length} label(s) from ${seg.read} of ${basename(segPath)}${seg.overlapping > 0 ? `; ${seg.overlapping} voxel(s) lay in several of them (${seg.read.includes('contour') ? 'the smallest structure keeps them' : 'the highest segment number keeps them'})` : ''}\n`);
  for (const e of seg.table) io.stdout(`  label ${e.value} "${e.name}": ${seg.voxels.get(e.value) ?? 0} voxel(s)\n`);
  return EXIT_OK;
}

/** `lesion-lab import-seg`: a DICOM SEG as a mask. */
export const importSegCommand: CliCommand = {
  name: 'import-seg',
  summary: 'write a DICOM SEG or RT Structure Set as a mask on the grid of IMAGE (labels named in its sidecar)',
  usage: USAGE,
  run(args, io) {
    return reportInputErrors('import-seg', io, () => runImportSeg(args, io));
  },
};
