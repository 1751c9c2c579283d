// DICOM SEG export (src/dataset/dicomSeg.ts, `lesion-lab export-seg`). References that are not
// ours: David Clunie's IOD validator dciodvfy (Debian dicom3tools) must find no error in the SEG,
// and pydicom must decode its 1-bit frames to the mask's slices, at the source slices' positions,
// each referencing the instance it was drawn on. What cannot be exported is refused with one
// sentence naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { dicomSourcePathFor } from '../../src/dataset/dicomSeg';
import { buildSidecar, sidecarToText } from '../../src/labels/sidecar';
import { sidecarPathFor } from '../../src/labels/maskPath';
import { readNifti, writeMaskLike } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from '../nifti/nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);
const WRITER = join(__dirname, '..', 'helpers', 'write_dicom_series.py');
const hasValidator = spawnSync('dciodvfy', [], { encoding: 'utf8' }).error === undefined;

function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; } };
  return runCli(args, io).then((code) => ({ code, out: io.out, err: io.err }));
}

/** An oblique 64 × 48 × 10 CT series, imported; returns the image path and the DICOM folder. */
async function importedSeries(root: string): Promise<{ image: string; series: string }> {
  const series = join(root, 'dicom', 'ct');
  const run = spawnSync(NIBABEL_PYTHON, [WRITER, sharedDataPath(...CT), series, '--crop', '67,131,77,125,25,35', '--rotate-deg', '20'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const imported = await cli('import-dicom', join(root, 'dicom'), '--out', join(root, 'nifti'));
  assert.equal(imported.code, 0, imported.err);
  return { image: join(root, 'nifti', 'ct_s1_test_series.nii.gz'), series };
}

test('a two-label mask of an imported oblique series is a DICOM SEG that dciodvfy passes and pydicom reads back onto the source slices', { skip }, async () => {
  const root = tempDir('ll-seg-');
  const { image: imagePath, series } = await importedSeries(root);
  const image = await readNifti(imagePath);
  const [nx, ny, nz] = image.dims;
  const labels = new Uint8Array(nx * ny * nz);
  for (let k = 2; k < 7; k++) for (let j = 10; j < 30; j++) for (let i = 20; i < 40 - k; i++) labels[i + nx * (j + ny * k)] = 1;
  for (let k = 4; k < 6; k++) for (let j = 35; j < 40; j++) for (let i = 5; i < 9; i++) labels[i + nx * (j + ny * k)] = 3;
  const maskPath = join(root, 'nifti', 'ct_s1_test_series_seg.nii.gz');
  await writeMaskLike(image, labels, maskPath);
  const table = [
    { value: 1, name: 'Tumour', color: [220, 40, 40] as [number, number, number], visible: true, locked: false },
    { value: 3, name: 'Lymph node', color: [40, 200, 60] as [number, number, number], visible: true, locked: false },
  ];
  const counts = new Map<number, number>([[1, 0], [3, 0]]);
  for (const v of labels) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  writeFileSync(sidecarPathFor(maskPath), sidecarToText(buildSidecar({ imageFile: 'ct_s1_test_series.nii.gz', imageSha256: '0'.repeat(64), maskFile: 'ct_s1_test_series_seg.nii.gz', dims: image.dims, bits: 8, voxelVolumeMm3: 1, labelTable: table, voxelCounts: counts, modelVersion: 'v2', handEditedVoxels: 10, reviewed: true, savedAt: new Date() })));

  const segPath = join(root, 'ct_seg.dcm');
  const exported = await cli('export-seg', imagePath, '--out', segPath);
  assert.equal(exported.code, 0, exported.err);
  assert.match(exported.out, /DICOM SEG of 2 segment\(s\) in 7 frame\(s\)/);
  assert.match(exported.out, /segment 1 "Tumour" \(label 1\): 5 slice\(s\)\n {2}segment 2 "Lymph node" \(label 3\): 2 slice\(s\)/);

  if (hasValidator || process.env.CI === 'true') {
    const check = spawnSync('dciodvfy', [segPath], { encoding: 'utf8' });
    const report = `${check.stdout}${check.stderr}`;
    assert.match(report, /^Segmentation$/m, report);
    assert.doesNotMatch(report, /^Error/m, report);
  }

  // pydicom: every frame's pixels, position and source reference against the mask and the series.
  const code = `
import sys, json, glob, os, pydicom, numpy as np
seg = pydicom.dcmread(sys.argv[1])
source = {d.SOPInstanceUID: d for d in (pydicom.dcmread(f) for f in glob.glob(os.path.join(sys.argv[2], '*.dcm')))}
frames = []
pixels = seg.pixel_array
for f, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
  ref = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
  pos = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
  frames.append({'segment': int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
    'slice': int(item.FrameContentSequence[0].DimensionIndexValues[1]) - 1,
    'sourcePosition': [float(v) for v in source[ref].ImagePositionPatient], 'position': pos,
    'sourceInstance': int(source[ref].InstanceNumber), 'pixels': np.argwhere(pixels[f]).tolist()})
first = next(iter(source.values()))
print(json.dumps({'frames': frames, 'labels': [s.SegmentLabel for s in seg.SegmentSequence],
  'algorithm': [s.SegmentAlgorithmType for s in seg.SegmentSequence],
  'patient': str(seg.PatientName) == str(first.PatientName), 'study': seg.StudyInstanceUID == first.StudyInstanceUID,
  'frameOfReference': seg.FrameOfReferenceUID == first.FrameOfReferenceUID,
  'referencedSeries': seg.ReferencedSeriesSequence[0].SeriesInstanceUID == first.SeriesInstanceUID,
  'orientation': [float(v) for v in seg.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient],
  'sourceOrientation': [float(v) for v in first.ImageOrientationPatient]}))`;
  const run = spawnSync(NIBABEL_PYTHON, ['-c', code, segPath, series], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, run.stderr);
  const seg = JSON.parse(run.stdout) as {
    frames: { segment: number; slice: number; sourcePosition: number[]; position: number[]; sourceInstance: number; pixels: [number, number][] }[];
    labels: string[];
    algorithm: string[];
    patient: boolean;
    study: boolean;
    frameOfReference: boolean;
    referencedSeries: boolean;
    orientation: number[];
    sourceOrientation: number[];
  };
  assert.deepEqual(seg.labels, ['Tumour', 'Lymph node']);
  assert.deepEqual(seg.algorithm, ['SEMIAUTOMATIC', 'SEMIAUTOMATIC'], 'the sidecar names a proposing model');
  assert.ok(seg.patient && seg.study && seg.frameOfReference && seg.referencedSeries);
  seg.orientation.forEach((v, i) => assert.ok(Math.abs(v - seg.sourceOrientation[i]) < 1e-5, `orientation[${i}]`));
  assert.equal(seg.frames.length, 7);
  for (const f of seg.frames) {
    const value = f.segment === 1 ? 1 : 3;
    // The writer numbers slice k's file k + 1: each frame references the slice it was drawn on.
    assert.equal(f.sourceInstance, f.slice + 1);
    f.position.forEach((v, a) => assert.ok(Math.abs(v - f.sourcePosition[a]) < 1e-3, `frame of slice ${f.slice}: position ${f.position} vs ${f.sourcePosition}`));
    const expected: [number, number][] = [];
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (labels[i + nx * (j + ny * f.slice)] === value) expected.push([j, i]);
    assert.deepEqual(f.pixels, expected, `segment ${f.segment}, slice ${f.slice}`);
  }
});

test('what cannot become a DICOM SEG is refused with exit 2 and one sentence', { skip }, async () => {
  const root = tempDir('ll-seg-');
  const { image: imagePath, series } = await importedSeries(root);
  const image = await readNifti(imagePath);
  const maskPath = join(root, 'nifti', 'ct_s1_test_series_seg.nii.gz');
  const refused = async (args: string[], pattern: RegExp): Promise<void> => {
    const r = await cli('export-seg', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, pattern);
    assert.equal(r.err.trim().split('\n').length, 1);
  };
  await writeMaskLike(image, new Uint8Array(image.data.length), maskPath);
  await refused([imagePath, '--out', join(root, 'a.dcm')], /ct_s1_test_series_seg\.nii\.gz: the mask is empty, so there is no segment to write/);
  const labels = new Uint8Array(image.data.length);
  labels[100] = 1;
  await writeMaskLike(image, labels, maskPath);
  await refused([imagePath, '--out', join(root, 'a.nii.gz')], /a\.nii\.gz: a DICOM SEG is written to a \.dcm file/);
  writeFileSync(join(root, 'other.dcm'), 'not ours');
  await refused([imagePath, '--out', join(root, 'other.dcm')], /other\.dcm: it exists and is not a DICOM SEG written by Lesion Lab, so it is not replaced/);
  // A NIfTI that was not imported from DICOM.
  const plain = join(root, 'plain.nii.gz');
  await writeMaskLike(image, labels, plain);
  await writeMaskLike(image, labels, join(root, 'plain_seg.nii.gz'));
  await refused([plain, '--out', join(root, 'b.dcm')], /plain\.nii\.gz: no plain\.dicom\.json beside it, so the DICOM series it came from is unknown/);
  // The DICOM series moved away after the import.
  renameSync(series, `${series}-moved`);
  await refused([imagePath, '--out', join(root, 'c.dcm')], /ct_s1_test_series\.nii\.gz: the DICOM series it came from cannot be read at .*ct \(.*the file does not exist\)/);
  renameSync(`${series}-moved`, series);
  // A written SEG may be replaced by the next export; the record must match the image.
  assert.equal((await cli('export-seg', imagePath, '--out', join(root, 'd.dcm'))).code, 0);
  assert.equal((await cli('export-seg', imagePath, '--out', join(root, 'd.dcm'))).code, 0);
  writeFileSync(dicomSourcePathFor(imagePath), '{"format": "something else"}');
  await refused([imagePath, '--out', join(root, 'e.dcm')], /ct_s1_test_series\.dicom\.json: not a Lesion Lab DICOM source record/);
});
