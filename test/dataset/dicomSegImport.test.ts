// DICOM SEG import (src/dataset/dicomSegImport.ts, `lesion-lab import-seg`): our own SEG comes
// back as the mask it was made from; a SEG that pydicom writes here another way (implicit VR,
// FRACTIONAL 8-bit, frames in slice order, positions only, overlapping segments numbered 2 and 5)
// is placed by position on the imported series' slices; SEGs on another grid are refused with the
// reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { dicomCieLab } from '../../src/dataset/dicomSeg';
import { rgbFromDicomCieLab } from '../../src/dataset/dicomSegImport';
import { sidecarPathFor } from '../../src/labels/maskPath';
import { readNifti, writeMaskLike } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from '../nifti/nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);
const WRITER = join(__dirname, '..', 'helpers', 'write_dicom_series.py');

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; } };
  const code = await runCli(args, io);
  return { code, out: io.out, err: io.err };
}

test('DICOM CIELab colours: sRGB primaries at their published L*a*b*, and back to the same RGB', () => {
  const lab = (rgb: number[]): number[] => {
    const [l, a, b] = dicomCieLab(rgb);
    return [(l * 100) / 65535, (a * 255) / 65535 - 128, (b * 255) / 65535 - 128];
  };
  for (const [rgb, want] of [[[255, 0, 0], [53.24, 80.09, 67.2]], [[0, 255, 0], [87.73, -86.18, 83.18]], [[0, 0, 255], [32.3, 79.19, -107.86]]]) {
    lab(rgb).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 0.05, `${rgb}: ${lab(rgb)} vs ${want}`));
  }
  for (const rgb of [[220, 40, 40], [40, 200, 60], [0, 0, 0], [255, 255, 255], [17, 130, 250]]) assert.deepEqual(rgbFromDicomCieLab(dicomCieLab(rgb)), rgb);
});

test('a SEG comes back onto the imported series: ours as the mask it was made from, pydicom\'s by the positions of its frames', { skip }, async () => {
  const root = tempDir('ll-segin-');
  const series = join(root, 'dicom', 'ct');
  const write = spawnSync(NIBABEL_PYTHON, [WRITER, sharedDataPath(...CT), series, '--crop', '67,131,77,125,25,35', '--rotate-deg', '20'], { encoding: 'utf8' });
  assert.equal(write.status, 0, write.stderr);
  assert.equal((await cli('import-dicom', join(root, 'dicom'), '--out', join(root, 'nifti'))).code, 0);
  const imagePath = join(root, 'nifti', 'ct_s1_test_series.nii.gz');
  const image = await readNifti(imagePath);
  const [nx, ny, nz] = image.dims;
  const at = (i: number, j: number, k: number): number => i + nx * (j + ny * k);

  // Ours: export, then import into another mask file.
  const labels = new Uint8Array(nx * ny * nz);
  for (let k = 1; k < 8; k++) for (let j = 5; j < 25 + k; j++) for (let i = 10; i < 30; i++) labels[at(i, j, k)] = 4;
  labels[at(63, 47, 9)] = 2;
  await writeMaskLike(image, labels, join(root, 'nifti', 'ct_s1_test_series_seg.nii.gz'));
  assert.equal((await cli('export-seg', imagePath, '--out', join(root, 'ours.dcm'))).code, 0);
  const back = await cli('import-seg', join(root, 'ours.dcm'), imagePath, '--out', join(root, 'back.nii.gz'));
  assert.equal(back.code, 0, back.err);
  assert.match(back.out, /2 label\(s\) from 8 frame\(s\) of ours\.dcm/);
  // Segment numbers follow the label values' order: label 2 → segment 1, label 4 → segment 2.
  const backMask = await readNifti(join(root, 'back.nii.gz'));
  for (let n = 0; n < labels.length; n++) assert.equal(backMask.data[n], labels[n] === 0 ? 0 : labels[n] === 2 ? 1 : 2, `voxel ${n}`);
  const sidecar = JSON.parse(readFileSync(sidecarPathFor(join(root, 'back.nii.gz')), 'utf8')) as { labels: { value: number; name: string; voxelCount: number }[]; reviewed: boolean };
  assert.deepEqual(sidecar.labels.map((l) => [l.value, l.name, l.voxelCount]), [[1, 'Label 2', 1], [2, 'Label 4', labels.filter((v) => v === 4).length]]);
  assert.equal(sidecar.reviewed, false);
  const again = await cli('import-seg', join(root, 'ours.dcm'), imagePath, '--out', join(root, 'back.nii.gz'));
  assert.equal(again.code, 2);
  assert.match(again.err, /back\.nii\.gz exists; give --replace to replace it, or another --out/);

  // pydicom's: implicit VR, FRACTIONAL, slice-major frames, positions only; segments 2 and 5 overlap.
  const code = `
import sys, numpy as np, nibabel as nib, pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian, generate_uid
img = nib.load(sys.argv[1]); A = np.diag([-1.0, -1.0, 1.0, 1.0]) @ img.affine
nx, ny, nz = img.shape[:3]; shift = float(sys.argv[3])
meta = FileMetaDataset(); meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.66.4'
meta.MediaStorageSOPInstanceUID = generate_uid(); meta.TransferSyntaxUID = ImplicitVRLittleEndian
ds = FileDataset(sys.argv[2], {}, file_meta=meta, preamble=b'\\0' * 128)
ds.is_little_endian, ds.is_implicit_VR = True, True
ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, 'SEG'
ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = ny, nx, 8, 8, 7
ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, 'MONOCHROME2', 0
ds.SegmentationType, ds.MaximumFractionalValue = 'FRACTIONAL', 255
segs = []
for n, name in [(2, 'Tumour'), (5, 'Oedema')]:
  s = Dataset(); s.SegmentNumber = n; s.SegmentLabel = name; s.RecommendedDisplayCIELabValue = [34886, 53484, 50172]; segs.append(s)
ds.SegmentSequence = segs
sh = Dataset(); o = Dataset(); m = Dataset()
o.ImageOrientationPatient = [float(v) for v in list(A[:3, 0] / np.linalg.norm(A[:3, 0])) + list(A[:3, 1] / np.linalg.norm(A[:3, 1]))]
m.PixelSpacing = [float(np.linalg.norm(A[:3, 1])), float(np.linalg.norm(A[:3, 0]))]
sh.PlaneOrientationSequence, sh.PixelMeasuresSequence = [o], [m]; ds.SharedFunctionalGroupsSequence = [sh]
frames, items = [], []
for k in range(2, 7):
  for n in (2, 5):
    if (n == 2 and k > 5) or (n == 5 and k < 4): continue
    f = np.zeros((ny, nx), np.uint8)
    if n == 2: f[10:20, 5:25] = 200; f[10:20, 25:30] = 100
    else: f[15:30, 20:40] = 255
    frames.append(f.tobytes())
    it = Dataset(); p = Dataset(); sid = Dataset()
    p.ImagePositionPatient = [float(v) for v in (A @ [0, 0, k + shift, 1])[:3]]
    sid.ReferencedSegmentNumber = n
    it.PlanePositionSequence, it.SegmentIdentificationSequence = [p], [sid]; items.append(it)
ds.PerFrameFunctionalGroupsSequence = items; ds.NumberOfFrames = len(frames)
ds.PixelData = b''.join(frames)
ds.save_as(sys.argv[2], write_like_original=False)`;
  const theirs = (name: string, shift = 0): string => {
    const run = spawnSync(NIBABEL_PYTHON, ['-c', code, imagePath, join(root, name), String(shift)], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return join(root, name);
  };
  const read = await cli('import-seg', theirs('theirs.dcm'), imagePath, '--out', join(root, 'theirs.nii.gz'));
  assert.equal(read.code, 0, read.err);
  assert.match(read.out, /2 label\(s\) from 7 frame\(s\) of theirs\.dcm; 50 voxel\(s\) lay in several of them \(the highest segment number keeps them\)/);
  const mask = await readNifti(join(root, 'theirs.nii.gz'));
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const tumour = k >= 2 && k <= 5 && j >= 10 && j < 20 && i >= 5 && i < 25;
        const oedema = k >= 4 && k <= 6 && j >= 15 && j < 30 && i >= 20 && i < 40;
        assert.equal(mask.data[at(i, j, k)], oedema ? 5 : tumour ? 2 : 0, `voxel (${i}, ${j}, ${k})`);
      }
    }
  }
  const names = JSON.parse(readFileSync(sidecarPathFor(join(root, 'theirs.nii.gz')), 'utf8')) as { labels: { value: number; name: string; color: number[] }[] };
  assert.deepEqual(names.labels.map((l) => [l.value, l.name, l.color]), [[2, 'Tumour', [255, 0, 0]], [5, 'Oedema', [255, 0, 0]]]);

  // Refused: frames between slices, another grid, not a SEG.
  const off = await cli('import-seg', theirs('off.dcm', 0.5), imagePath, '--out', join(root, 'off.nii.gz'));
  assert.equal(off.code, 2);
  assert.match(off.err, /off\.dcm: frame 1 at \[.*\] does not lie on a slice of ct_s1_test_series\.nii\.gz \(2\.50 slices along its axis\)/);
  const other = await cli('import-seg', join(root, 'ours.dcm'), sharedDataPath(...CT), '--out', join(root, 'other.nii.gz'));
  assert.equal(other.code, 2);
  assert.match(other.err, /ours\.dcm: its frames are 64×48 pixels, but the slices of image\.nii\.gz are 198×202/);
  const notSeg = await cli('import-seg', join(series, 'IM0001.dcm'), imagePath, '--out', join(root, 'x.nii.gz'));
  assert.equal(notSeg.code, 2);
  assert.match(notSeg.err, /IM0001\.dcm: not a DICOM Segmentation or RT Structure Set \(SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2, modality CT\)/);
});
