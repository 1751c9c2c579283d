// DICOM series (src/nifti/dicom.ts, dicomParse.ts, src/dataset/dicomImport.ts). References that
// are not ours: pydicom's own test files and decoder (Debian python3-pydicom), dcm2niix (Debian),
// and a shared CT written as DICOM by pydicom (test/helpers/write_dicom_series.py) in every
// encoding read here; each must give the NIfTI crop's voxels on its affine. Series that cannot be
// stacked and files that cannot be decoded are refused with one sentence naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti, writeMaskLike, NiftiReadError, type NiftiImage } from '../../src/nifti';
import { importDicom } from '../../src/dataset/dicomImport';
import { runCli } from '../../src/cli';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { writeUndecodableDicom } from '../helpers/undecodableDicom';
import { dumpWithNibabel, NIBABEL_PYTHON } from './nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);
const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const WRITER = join(__dirname, '..', 'helpers', 'write_dicom_series.py');
/** A 64 × 48 × 10 crop of the CT around its centre (i0, i1, j0, j1, k0, k1; end exclusive). */
const CROP = [67, 131, 77, 125, 25, 35];

/** Writes the CT crop as a DICOM series into a new folder with the writer's extra arguments. */
function writeSeries(...extra: string[]): string {
  const dir = join(tempDir('ll-dicom-'), 'series');
  const run = spawnSync(NIBABEL_PYTHON, [WRITER, sharedDataPath(...CT), dir, '--crop', CROP.join(','), ...extra], { encoding: 'utf8' });
  assert.equal(run.status, 0, `write_dicom_series.py ${extra.join(' ')}: ${run.stderr}`);
  return dir;
}

/** The crop of the shared CT as the writer takes it: values and the affine of voxel (i0, j0, k0). */
async function ctCrop(): Promise<{ values: Float64Array; affine: Float64Array; dims: [number, number, number] }> {
  const nii = await readNifti(sharedDataPath(...CT));
  const [i0, i1, j0, j1, k0, k1] = CROP;
  const dims: [number, number, number] = [i1 - i0, j1 - j0, k1 - k0];
  const values = new Float64Array(dims[0] * dims[1] * dims[2]);
  const [nx, ny] = nii.dims;
  let at = 0;
  for (let k = k0; k < k1; k++) for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) values[at++] = nii.data[i + nx * (j + ny * k)];
  const affine = Float64Array.from(nii.affine);
  for (let r = 0; r < 3; r++) affine[4 * r + 3] += nii.affine[4 * r] * i0 + nii.affine[4 * r + 1] * j0 + nii.affine[4 * r + 2] * k0;
  return { values, affine, dims };
}

function assertAffine(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tolerance = 1e-6): void {
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}: affine[${i}] ${actual[i]} vs ${expected[i]}`);
}

/** Largest |a − b| over the voxels. */
function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** 4×4 inverse (Gauss–Jordan), row-major. */
function invert(m: ArrayLike<number>): number[] {
  const a = [0, 1, 2, 3].map((r) => [...Array.from({ length: 4 }, (_, c) => m[4 * r + c]), ...[0, 1, 2, 3].map((c) => (r === c ? 1 : 0))]);
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    const d = a[c][c];
    for (let k = 0; k < 8; k++) a[c][k] /= d;
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = a[r][c];
      for (let k = 0; k < 8; k++) a[r][k] -= f * a[c][k];
    }
  }
  return a.flatMap((row) => row.slice(4));
}

/** Maps every voxel centre of `a` into `b` by the two affines: the largest distance from a voxel centre, and value difference. */
function worldComparison(a: NiftiImage, b: NiftiImage): { indexError: number; valueError: number } {
  const inv = invert(b.affine);
  const [nx, ny, nz] = a.dims;
  const [mx, my, mz] = b.dims;
  let indexError = 0;
  let valueError = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const w = [0, 1, 2].map((r) => a.affine[4 * r] * i + a.affine[4 * r + 1] * j + a.affine[4 * r + 2] * k + a.affine[4 * r + 3]);
        const v = [0, 1, 2].map((r) => inv[4 * r] * w[0] + inv[4 * r + 1] * w[1] + inv[4 * r + 2] * w[2] + inv[4 * r + 3]);
        const n = v.map(Math.round);
        indexError = Math.max(indexError, ...v.map((x, q) => Math.abs(x - n[q])));
        assert.ok(n[0] >= 0 && n[0] < mx && n[1] >= 0 && n[1] < my && n[2] >= 0 && n[2] < mz, `voxel ${i},${j},${k} falls outside the other image`);
        valueError = Math.max(valueError, Math.abs(a.data[i + nx * (j + ny * k)] - b.data[n[0] + mx * (n[1] + my * n[2])]));
      }
  return { indexError, valueError };
}

/** dcm2niix's NIfTI of a DICOM folder. */
async function viaDcm2niix(dir: string): Promise<NiftiImage> {
  const out = tempDir('ll-dcm2niix-');
  const run = spawnSync('dcm2niix', ['-o', out, '-f', 'out', '-z', 'n', dir], { encoding: 'utf8' });
  assert.ok(existsSync(join(out, 'out.nii')), `dcm2niix wrote nothing: ${run.stdout}${run.stderr}`);
  return readNifti(join(out, 'out.nii'));
}

/** A folder holding copies of pydicom test files. */
function folderOf(...names: string[]): string {
  const dir = tempDir('ll-pydicom-');
  for (const name of names) copyFileSync(join(PYDICOM_FILES, name), join(dir, name));
  return dir;
}

test('pydicom\'s MR_small in six encodings (explicit, implicit, big-endian, RLE, padded) reads as pydicom decodes it', async () => {
  const names = ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_expb.dcm', 'MR_small_RLE.dcm', 'MR_small_padded.dcm'];
  const script = [
    'import sys, pydicom, numpy as np',
    'for f in sys.argv[1:]:',
    '    d = pydicom.dcmread(f)',
    '    v = d.pixel_array.astype(np.float64) * float(getattr(d, "RescaleSlope", 1)) + float(getattr(d, "RescaleIntercept", 0))',
    '    print(",".join(repr(x) for x in v.ravel()))',
  ].join('\n');
  const files = [...names, 'CT_small.dcm'].map((n) => join(PYDICOM_FILES, n));
  const run = spawnSync(NIBABEL_PYTHON, ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, run.stderr);
  const reference = run.stdout.trim().split('\n').map((line) => line.split(',').map(Number));
  const first = await readNifti(join(folderOf(names[0]), names[0]));
  for (const [n, name] of names.entries()) {
    const image = await readNifti(folderOf(name)); // the folder, as the import and the CLI give it
    assert.deepEqual(image.dims, [64, 64, 1], name);
    assert.equal(maxDifference(image.data, reference[n]), 0, `${name}: pydicom's values`);
    assertAffine(image.affine, first.affine, name, 0);
    assert.equal(image.dicom?.modality, 'MR');
  }
  const ct = await readNifti(join(folderOf('CT_small.dcm'), 'CT_small.dcm'));
  assert.equal(maxDifference(ct.data, reference[names.length]), 0, 'CT_small: Hounsfield units as pydicom rescales them');
  assert.ok(ct.data instanceof Int16Array, 'a CT with a whole-number intercept stays integer');
});

test('a CT written as DICOM by pydicom reads back voxel for voxel on the NIfTI affine, in every encoding and file order', { skip }, async () => {
  const crop = await ctCrop();
  const variants: string[][] = [
    [],
    ['--names', 'shuffled', '--seed', '7'],
    ['--transfer', 'implicit', '--names', 'noext'],
    ['--transfer', 'bigendian', '--stored', 'int16', '--intercept', '0'],
    ['--transfer', 'rle'],
    ['--transfer', 'deflate'],
  ];
  for (const extra of variants) {
    const image = await readNifti(writeSeries(...extra));
    const what = extra.join(' ') || 'explicit';
    assert.deepEqual(image.dims, crop.dims, what);
    assert.equal(maxDifference(image.data, crop.values), 0, `${what}: voxels`);
    assertAffine(image.affine, crop.affine, what);
    assert.ok(image.data instanceof Int16Array, `${what}: HU as int16`);
  }
  // Slopes that differ between slices give float values within half a slope of the original.
  const perSlice = await readNifti(writeSeries('--slope', '0.5', '--slope-per-slice'));
  assert.ok(perSlice.data instanceof Float32Array);
  assert.ok(maxDifference(perSlice.data, crop.values) <= 0.3 + 1e-6, 'per-slice slopes');
});

test('an oblique series (also as one multi-frame file) and a tilted gantry: the affine is the rotated one and the sheared one, and dcm2niix agrees voxel for voxel', { skip }, async () => {
  const crop = await ctCrop();
  const obliqueDir = writeSeries('--rotate-deg', '20', '--names', 'shuffled');
  const oblique = await readNifti(obliqueDir);
  const t = (20 * Math.PI) / 180;
  const [c, s] = [Math.cos(t), Math.sin(t)];
  const rx = [1, 0, 0, 0, 0, c, -s, 0, 0, s, c, 0, 0, 0, 0, 1];
  const rz = [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const mul = (a: ArrayLike<number>, b: ArrayLike<number>): number[] =>
    Array.from({ length: 16 }, (_, q) => [0, 1, 2, 3].reduce((sum, k) => sum + a[4 * Math.floor(q / 4) + k] * b[4 * k + (q % 4)], 0));
  assertAffine(oblique.affine, mul(rz, mul(rx, crop.affine)), 'oblique', 1e-5);
  assert.equal(maxDifference(oblique.data, crop.values), 0);
  const byDcm2niix = worldComparison(oblique, await viaDcm2niix(obliqueDir));
  assert.ok(byDcm2niix.indexError < 1e-3 && byDcm2niix.valueError === 0, `dcm2niix: ${JSON.stringify(byDcm2niix)}`);

  // The same as one enhanced multi-frame file: positions in the per-frame functional groups.
  const multiFrameDir = writeSeries('--rotate-deg', '20', '--multiframe');
  const multiFrame = await readNifti(multiFrameDir);
  assertAffine(multiFrame.affine, oblique.affine, 'multi-frame', 1e-9);
  assert.equal(maxDifference(multiFrame.data, oblique.data), 0);
  assert.equal(multiFrame.dicom?.files, 1);
  const multiFrameByDcm2niix = worldComparison(multiFrame, await viaDcm2niix(multiFrameDir));
  assert.ok(multiFrameByDcm2niix.indexError < 1e-3 && multiFrameByDcm2niix.valueError === 0, `dcm2niix (multi-frame): ${JSON.stringify(multiFrameByDcm2niix)}`);

  const tiltDir = writeSeries('--tilt-mm', '1');
  const tilt = await readNifti(tiltDir);
  // Each slice moves 1 mm along the column direction: the third column gains it (in RAS).
  const colDir = [0, 1, 2].map((r) => crop.affine[4 * r + 1] / Math.hypot(crop.affine[1], crop.affine[5], crop.affine[9]));
  const sheared = Float64Array.from(crop.affine);
  for (let r = 0; r < 3; r++) sheared[4 * r + 2] += colDir[r];
  assertAffine(tilt.affine, sheared, 'gantry tilt', 1e-5);
  assert.equal(tilt.header.qformCode, 0, 'a sheared grid has no qform');
  const tiltByDcm2niix = worldComparison(tilt, await viaDcm2niix(tiltDir));
  assert.ok(tiltByDcm2niix.indexError < 1e-3 && tiltByDcm2niix.valueError === 0, `dcm2niix (tilt): ${JSON.stringify(tiltByDcm2niix)}`);
});

test('a real scanner series (pydicom\'s 98892001/CT5N) matches dcm2niix voxel for voxel', async () => {
  const dir = join(PYDICOM_FILES, 'dicomdirtests', '98892001', 'CT5N');
  const image = await readNifti(dir);
  assert.deepEqual(image.dims, [16, 16, 5]);
  const result = worldComparison(image, await viaDcm2niix(dir));
  assert.ok(result.indexError < 1e-3 && result.valueError === 0, JSON.stringify(result));
});

test('series that cannot be stacked and files that cannot be decoded are refused with one sentence naming them', { skip }, async () => {
  const refused = async (path: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(readNifti(path), (e: unknown) => {
      assert.ok(e instanceof NiftiReadError, String(e));
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  };
  await refused(writeSeries('--drop-slice', '4'), /^series: series 1 "test series" \(CT, 9 files\) is not evenly spaced: .*a slice seems to be missing between IM0004\.dcm and IM0006\.dcm/);
  await refused(join(PYDICOM_FILES, 'dicomdirtests', '77654033', 'CT2'), /not evenly spaced: slice gaps from 1\.25 to 202\.50 mm/);
  await refused(join(PYDICOM_FILES, 'dicomdirtests', '98892001', 'CT2N'), /is oriented differently from .* \(a localizer or a multi-plane series\)/);
  await refused(join(PYDICOM_FILES, 'dicomdirtests', '98892003', 'MR1'), /^MR1: holds 3 image series: 1 "FAST LOCALIZER" \(MR, 1 file\).*; give one file of the series you want, or import the folder/);
  const part2 = join(tempDir('ll-dicom-part2-'), 'JPEG2000.dcm');
  writeUndecodableDicom(part2);
  await refused(part2, /^JPEG2000\.dcm: .*JPEG 2000 Part 2 \(multi-component\) compressed \(transfer syntax 1\.2\.840\.10008\.1\.2\.4\.92\), which Lesion Lab does not decode \(it decodes RLE, JPEG Lossless, JPEG-LS, JPEG 2000, HTJ2K and lossy JPEG\); convert/);
  await refused(join(folderOf('MR_truncated.dcm'), 'MR_truncated.dcm'), /^MR_truncated\.dcm: .*truncated/);
  await refused(folderOf('SC_rgb_rle.dcm'), /colour image \(3 samples per pixel, RGB\)/);
  await refused(folderOf('rtplan.dcm'), /holds no DICOM image series \(1 DICOM file\(s\) skipped; e\.g\. rtplan\.dcm: DICOM without pixel data\)/);
  await refused(join(PYDICOM_FILES, 'dicomdirtests', 'DICOMDIR'), /^DICOMDIR: cannot be read as a DICOM image: DICOM without pixel data/);
  const twice = writeSeries();
  copyFileSync(join(twice, 'IM0003.dcm'), join(twice, 'copy.dcm'));
  await refused(twice, /two images at one slice position \(IM0003\.dcm and copy\.dcm\), but 1 of its 10 positions have 2 images and the others fewer \(a duplicate file, or an incomplete series of volumes\)/);
});

test('a mask written for a DICOM series is a NIfTI file that nibabel reads on the series\' own grid', { skip }, async () => {
  const image = await readNifti(writeSeries('--rotate-deg', '20'));
  const out = join(tempDir('ll-dicom-mask-'), 'series_seg.nii.gz');
  const labels = new Uint8Array(image.data.length);
  labels[5] = 1;
  await writeMaskLike(image, labels, out);
  const dump = dumpWithNibabel([out]);
  try {
    const entry = dump.entries.get(out)!;
    assert.ok(entry.ok, entry.error);
    assert.deepEqual(entry.shape, [...image.dims]);
    assertAffine(entry.affine.flat(), image.affine, 'nibabel', 1e-4);
  } finally {
    dump.dispose();
  }
});

test('import-dicom writes each series of a study as NIfTI, reports what it skipped and why, and never overwrites', { skip }, async () => {
  const root = join(tempDir('ll-dicom-study-'), 'study');
  mkdirSync(root);
  cpSync(writeSeries('--series-number', '3', '--series-description', 'CT abdomen'), join(root, 'ct'), { recursive: true });
  cpSync(writeSeries('--modality', 'PT', '--slope', '0.01', '--series-number', '4', '--series-description', 'PET AC'), join(root, 'pet'), { recursive: true });
  cpSync(join(PYDICOM_FILES, 'dicomdirtests', '98892003', 'MR2'), join(root, 'nested', 'MR2'), { recursive: true });
  writeUndecodableDicom(join(root, 'pet', 'JPEG2000.dcm'));
  const out = join(tempDir('ll-dicom-out-'), 'nifti');
  const result = await importDicom(root, out);
  // Each image has its DICOM source record (what a DICOM SEG of its mask references).
  assert.deepEqual(readdirSync(out).sort(), ['ct_s3_CT_abdomen.dicom.json', 'ct_s3_CT_abdomen.nii.gz', 'nested_MR2_s2_FAST_LOCALIZER.dicom.json', 'nested_MR2_s2_FAST_LOCALIZER.nii.gz', 'pet_s4_PET_AC.dicom.json', 'pet_s4_PET_AC.nii.gz']);
  assert.equal(result.skippedSeries.length, 2, 'the two multi-plane pilots');
  for (const s of result.skippedSeries) assert.match(s.why, /oriented differently/);
  assert.equal(result.unreadableFiles.length, 1);
  assert.match(result.unreadableFiles[0].why, /JPEG 2000 Part 2 \(multi-component\) compressed/);
  const ct = await readNifti(join(out, 'ct_s3_CT_abdomen.nii.gz'));
  const series = await readNifti(join(root, 'ct'));
  assert.ok(ct.data instanceof Int16Array);
  assert.equal(maxDifference(ct.data, series.data), 0);
  assertAffine(ct.affine, series.affine, 'imported CT', 1e-4);
  assert.match(ct.header.description, /^lesion-lab DICOM series 3 CT abdomen/);
  const pet = await readNifti(join(out, 'pet_s4_PET_AC.nii.gz'));
  assert.ok(pet.data instanceof Float32Array, 'a slope of 0.01 gives float values');
  // A second run keeps what is there.
  const before = readFileSync(join(out, 'ct_s3_CT_abdomen.nii.gz'));
  const again = await importDicom(root, out);
  assert.equal(again.imported.length, 0);
  assert.ok(again.skippedSeries.some((s) => /already in/.test(s.why)));
  assert.deepEqual(readFileSync(join(out, 'ct_s3_CT_abdomen.nii.gz')), before);
  // The CLI: the same import, and its refusals with exit status 2.
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; } };
  assert.equal(await runCli(['import-dicom', root, '--out', join(root, 'inside')], io), 2);
  assert.match(io.err, /lies inside .*choose a folder outside the DICOM files/);
  assert.equal(await runCli(['import-dicom', root, '--out', out], io), 0);
  assert.match(io.out, /imported 0 series, skipped 5; 1 DICOM file\(s\) could not be read; 0 other file\(s\) were not DICOM images/);
  assert.equal(await runCli(['info', join(root, 'ct')], io), 0);
  assert.match(io.out, /format: +DICOM series 3 "CT abdomen" \(CT, 10 files\)/);
});

test('a PET series in Bq/mL reads as SUVbw (dose decayed from the injection to the scan start, per gram); what SUV lacks keeps Bq/mL and says why', { skip }, async () => {
  const pet = (...extra: string[]): string => writeSeries('--modality', 'PT', '--slope', '0.1', ...extra);
  // F-18 (half-life 6,586.2 s), 370 MBq at 10:00:00, 70 kg, series at 11:00:00: 3,600 s of decay.
  const tags = ['--pet-weight', '70', '--pet-dose', '370000000', '--pet-half-life', '6586.2', '--pet-injection', '100000'];
  const bqml = await readNifti(pet(...tags, '--decay-correction', 'NONE', '--series-time', '110000'));
  assert.deepEqual(bqml.dicom?.pet, { unit: 'Bq/mL', note: 'kept in Bq/mL: DecayCorrection is "NONE"; SUV is computed for START and ADMIN' });
  const suvOf = (decayS: number): number => 70000 / (370e6 * 2 ** (-decayS / 6586.2));
  const cases: [string, string[], number, RegExp][] = [
    ['START', [...tags, '--decay-correction', 'START', '--series-time', '110000', '--acquisition-time', '110000'], suvOf(3600), /^SUVbw from 70 kg and 370\.0 MBq injected at 10:00:00, decayed 3600 s \(half-life 6586\.2 s\) to the scan at 11:00:00$/],
    // A series time after the acquisitions (re-processed): the earliest acquisition is the scan start.
    ['late series time', [...tags, '--decay-correction', 'START', '--series-time', '130000', '--acquisition-time', '105000'], suvOf(3000), /decayed 3000 s .* to the scan at 10:50:00$/],
    // Injected before midnight, scanned after it.
    ['over midnight', [...tags.slice(0, 6), '--pet-injection', '233000', '--decay-correction', 'START', '--series-time', '001000'], suvOf(2400), /injected at 23:30:00, decayed 2400 s/],
    ['ADMIN', [...tags, '--decay-correction', 'ADMIN'], suvOf(0), /^SUVbw from 70 kg and 370\.0 MBq \(values decay-corrected to the injection\)$/],
  ];
  for (const [what, extra, factor, note] of cases) {
    const suv = await readNifti(pet(...extra));
    assert.equal(suv.dicom?.pet?.unit, 'SUVbw', what);
    assert.match(suv.dicom?.pet?.note ?? '', note, what);
    assert.ok(suv.data instanceof Float32Array, what);
    for (let i = 0; i < suv.data.length; i += 97) {
      assert.ok(Math.abs(suv.data[i] - bqml.data[i] * factor) <= 1e-6 * Math.abs(bqml.data[i] * factor) + 1e-9, `${what}: voxel ${i}: ${suv.data[i]} vs ${bqml.data[i]} × ${factor}`);
    }
  }
  const kept: [string[], RegExp][] = [
    [[...tags.slice(2), '--decay-correction', 'START', '--series-time', '110000'], /^kept in Bq\/mL: no usable PatientWeight \(0010,1030\)$/],
    [['--pet-weight', '70', '--decay-correction', 'START', '--series-time', '110000'], /^kept in Bq\/mL: no RadiopharmaceuticalInformationSequence \(0054,0016\): the injected dose is unknown$/],
    [[...tags, '--decay-correction', 'START'], /^kept in Bq\/mL: no usable SeriesDate\/SeriesTime or AcquisitionTime: the time of the scan is unknown$/],
    [[...tags, '--units', 'CNTS', '--decay-correction', 'START', '--series-time', '110000'], /^kept in CNTS: Units "CNTS"; only Bq\/mL \(BQML\) is turned into SUV$/],
  ];
  for (const [extra, why] of kept) {
    const image = await readNifti(pet(...extra));
    assert.match(image.dicom?.pet?.note ?? '', why);
    assert.equal(maxDifference(image.data, bqml.data), 0, 'the values as stored');
  }
  const gml = await readNifti(pet('--units', 'GML'));
  assert.deepEqual(gml.dicom?.pet, { unit: 'SUVbw', note: 'stored as SUVbw (Units GML)' });
  // The import names the unit in the NIfTI description and reports how it was reached.
  const root = join(tempDir('ll-dicom-pet-'), 'pet');
  cpSync(pet(...cases[0][1]), root, { recursive: true });
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; } };
  assert.equal(await runCli(['import-dicom', root, '--out', join(root, '..', 'nifti')], io), 0, io.err);
  assert.match(io.out, /; PET SUVbw from 70 kg and 370\.0 MBq injected at 10:00:00/);
  const imported = await readNifti(join(root, '..', 'nifti', 'pet_s1_test_series.nii.gz'));
  assert.match(imported.header.description, /^lesion-lab DICOM series 1 test series SUVbw/);
});

test('a series of several volumes at each position (echoes, diffusion weightings, time points) reads as 4-D frames; untagged twins are refused', { skip }, async () => {
  const single = await readNifti(writeSeries('--modality', 'MR'));
  const kinds: [string, number, string, string[]][] = [
    ['echo', 3, 'EchoNumbers', ['1', '2', '3']],
    ['temporal', 2, 'TemporalPositionIdentifier', ['1', '2']],
    // Ordered by b-value, then as acquired (the writer's directions come z, y, x).
    ['diffusion', 4, 'diffusion b-value and direction', ['b=0', 'b=1000 (0, 0, 1)', 'b=1000 (0, 1, 0)', 'b=1000 (1, 0, 0)']],
    ['siemens-diffusion', 2, 'diffusion b-value and direction', ['b=0', 'b=800 (0.6, 0.8, 0)']],
  ];
  let diffusionDir = '';
  for (const [kind, count, by, labels] of kinds) {
    const dir = writeSeries('--modality', 'MR', '--volumes', `${kind}:${count}`, '--names', 'shuffled');
    if (kind === 'diffusion') diffusionDir = dir;
    for (let t = 0; t < count; t++) {
      const image = await readNifti(dir, { frame: t });
      assert.deepEqual(image.shape, [64, 48, 10, count], kind);
      assert.equal(image.frameCount, count);
      assert.deepEqual(image.dicom?.volumes, { by, labels }, kind);
      assertAffine(image.affine, single.affine, `${kind} frame ${t}`);
      assert.equal(maxDifference(image.data, Float64Array.from(single.data, (v) => v + 100 * t)), 0, `${kind} frame ${t}: volume ${t}'s voxels`);
    }
  }
  await assert.rejects(readNifti(diffusionDir, { frame: 4 }), /frame 4 does not exist \(series 1 "test series" \(MR, 40 files\) holds 4 volumes, by diffusion b-value and direction\)/);
  await assert.rejects(readNifti(writeSeries('--modality', 'MR', '--volumes', 'untagged:2')), /has two images at one slice position \(v0_IM0001\.dcm and v1_IM0001\.dcm\), and no tag \(temporal position, echo, diffusion weighting, trigger time, acquisition number\) tells its volumes apart/);
  // Imported as one 4-D NIfTI, which nibabel reads frame by frame.
  const root = join(tempDir('ll-dicom-dwi-'), 'dwi');
  cpSync(diffusionDir, root, { recursive: true });
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; } };
  assert.equal(await runCli(['import-dicom', root, '--out', join(root, '..', 'nifti')], io), 0, io.err);
  assert.match(io.out, /64×48×10 voxels of .* mm × 4 volumes by diffusion b-value and direction \(b=0; b=1000 \(0, 0, 1\); b=1000 \(0, 1, 0\); b=1000 \(1, 0, 0\)\)/);
  const written = join(root, '..', 'nifti', 'dwi_s1_test_series.nii.gz');
  const dump = dumpWithNibabel([written]);
  try {
    const entry = dump.entries.get(written)!;
    assert.deepEqual(entry.shape, [64, 48, 10, 4]);
    assertAffine(entry.affine.flat(), single.affine, 'nibabel', 1e-4);
    const last = await readNifti(written, { frame: 3 });
    assert.equal(maxDifference(last.data, Float64Array.from(single.data, (v) => v + 300)), 0);
    assert.equal(maxDifference(dump.values(entry, 0), single.data), 0, 'nibabel: frame 0');
  } finally {
    dump.dispose();
  }
});
