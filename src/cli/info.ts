// `lesion-lab info FILE [--json] [--frame N]`: what a NIfTI, NRRD, MetaImage, MGH or DICOM image holds, as our reader sees it.
import { basename } from 'node:path';
import { convertedFormatOf, readNifti, NiftiReadError, type NiftiImage } from '../nifti';
import { aff2axcodes, obliquityDeg } from '../protocol/orientation';
import { CliUsageError, EXIT_BAD_INPUT, EXIT_OK, type CliCommand, type CliIo } from './command';

/** The `--json` output of `lesion-lab info`. */
export interface InfoReport {
  file: string;
  format: string;
  niftiVersion: 1 | 2;
  shape: number[];
  datatype: string;
  /** Voxel size in mm along i, j, k. */
  spacing: [number, number, number];
  /** nibabel-style axis codes, e.g. 'LPS'. */
  orientation: string;
  affineSource: string;
  obliquityDeg: number;
  /** Row-major 4×4. */
  affine: number[][];
  frame: number;
  frameCount: number;
  sclSlope: number;
  sclInter: number;
  /** Statistics of the finite scaled values of the loaded frame (null when there are none). */
  min: number | null;
  max: number | null;
  mean: number | null;
  finiteCount: number;
  nonFiniteCount: number;
  description: string;
}

interface InfoArgs {
  file: string;
  json: boolean;
  frame: number;
}

function parseInfoArgs(args: string[]): InfoArgs {
  let file: string | undefined;
  let json = false;
  let frame = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--json') json = true;
    else if (arg === '--frame' || arg.startsWith('--frame=')) {
      const text = arg === '--frame' ? args[++i] : arg.slice('--frame='.length);
      if (text === undefined || !/^\d+$/.test(text)) {
        throw new CliUsageError(`--frame needs a whole number of at least 0, got ${text === undefined ? 'nothing' : `'${text}'`}`);
      }
      frame = Number(text);
    } else if (arg.startsWith('-')) throw new CliUsageError(`unknown option '${arg}'`);
    else if (file === undefined) file = arg;
    else throw new CliUsageError(`only one FILE is allowed, got '${file}' and '${arg}'`);
  }
  if (file === undefined) throw new CliUsageError('FILE is missing');
  return { file, json, frame };
}

function describeFormat(image: NiftiImage): string {
  if (image.dicom) {
    const { seriesNumber, description, modality, files } = image.dicom;
    const pet = image.dicom.pet ? `; PET ${image.dicom.pet.note}` : '';
    const volumes = image.dicom.volumes ? `; ${image.dicom.volumes.labels.length} volumes by ${image.dicom.volumes.by}: ${image.dicom.volumes.labels.join('; ')}` : '';
    const lossy = image.dicom.lossy ? `; lossy: ${image.dicom.lossy}` : '';
    return `DICOM series ${seriesNumber || '(no number)'}${description ? ` "${description}"` : ''} (${modality || 'no modality'}, ${files} file${files === 1 ? '' : 's'}${volumes}${pet}${lossy})`;
  }
  const converted = convertedFormatOf(image.filePath);
  if (converted === 'MGH') return /\.mgz$/i.test(image.filePath) ? 'FreeSurfer MGH, gzip (.mgz)' : 'FreeSurfer MGH';
  if (converted !== null) return image.dataFilePath ? `${converted}, detached data (${basename(image.dataFilePath)})` : converted;
  const gz = /\.gz$/i.test(image.filePath) ? ', gzip' : '';
  switch (image.header.format) {
    case 'analyze75':
      return `Analyze 7.5 pair${gz}`;
    case 'nifti-pair':
      return `NIfTI-${image.header.niftiVersion} pair (.hdr/.img${gz})`;
    default:
      return `NIfTI-${image.header.niftiVersion} single file${gz}`;
  }
}

/** Builds the report for an image already read. */
export function infoReport(image: NiftiImage): InfoReport {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finiteCount = 0;
  const data = image.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    finiteCount++;
  }
  const a = image.affine;
  return {
    file: image.filePath,
    format: describeFormat(image),
    niftiVersion: image.header.niftiVersion,
    shape: image.shape,
    datatype: image.header.datatype,
    spacing: image.spacingMm,
    orientation: aff2axcodes(a),
    affineSource: image.affineSource,
    obliquityDeg: obliquityDeg(a),
    affine: [0, 1, 2, 3].map((r) => [a[r * 4], a[r * 4 + 1], a[r * 4 + 2], a[r * 4 + 3]]),
    frame: image.frame,
    frameCount: image.frameCount,
    sclSlope: image.header.sclSlope,
    sclInter: image.header.sclInter,
    min: finiteCount > 0 ? min : null,
    max: finiteCount > 0 ? max : null,
    mean: finiteCount > 0 ? sum / finiteCount : null,
    finiteCount,
    nonFiniteCount: data.length - finiteCount,
    description: image.header.description,
  };
}

function formatNumber(value: number | null): string {
  if (value === null) return 'none';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

function scalingText(report: InfoReport): string {
  const slope = report.sclSlope;
  const inter = Number.isFinite(report.sclInter) ? report.sclInter : 0;
  if (!Number.isFinite(slope) || slope === 0 || (slope === 1 && inter === 0)) return 'none';
  return `slope ${formatNumber(slope)}, intercept ${formatNumber(inter)}`;
}

/** Human-readable form of the report. */
export function formatInfoReport(report: InfoReport): string {
  const width = Math.max(...report.affine.flat().map((v) => formatNumber(v).length));
  const affineRows = report.affine.map((row) => `  [ ${row.map((v) => formatNumber(v).padStart(width)).join('  ')} ]`);
  const stats =
    report.finiteCount === 0
      ? 'no finite values'
      : `min ${formatNumber(report.min)}  max ${formatNumber(report.max)}  mean ${formatNumber(report.mean)}`;
  const nonFinite = report.nonFiniteCount > 0 ? ` (${report.nonFiniteCount} non-finite voxels ignored)` : '';
  const lines = [
    `file:         ${basename(report.file)}`,
    `format:       ${report.format}`,
    `shape:        ${report.shape.join(' x ')}`,
    `datatype:     ${report.datatype}`,
    `spacing:      ${report.spacing.map(formatNumber).join(' x ')} mm`,
    `orientation:  ${report.orientation} (affine from ${report.affineSource}, obliquity ${report.obliquityDeg.toFixed(1)} deg)`,
    `frame:        ${report.frame} of ${report.frameCount} (0-based)`,
    `scaling:      ${scalingText(report)}`,
    'affine (voxel to world RAS+ mm):',
    ...affineRows,
    `values:       ${stats}${nonFinite}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The `info` command. */
export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'print shape, datatype, spacing, orientation, affine and value range of a NIfTI file',
  usage: 'lesion-lab info FILE [--json] [--frame N]',
  async run(args: string[], io: CliIo): Promise<number> {
    const { file, json, frame } = parseInfoArgs(args);
    let image: NiftiImage;
    try {
      image = await readNifti(file, { frame });
    } catch (err) {
      if (err instanceof NiftiReadError) {
        io.stderr(`${err.message}\n`);
        return EXIT_BAD_INPUT;
      }
      throw err;
    }
    const report = infoReport(image);
    io.stdout(json ? `${JSON.stringify(report)}\n` : formatInfoReport(report));
    return EXIT_OK;
  },
};
