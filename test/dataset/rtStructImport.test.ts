// RT Structure Set import (src/dataset/rtStructImport.ts, `lesion-lab import-seg` on an RTSTRUCT).
// The reference is plastimatch (Debian), which rasterises each structure of a structure set that
// test/helpers/write_rtstruct.py writes on a CT series: ours must give the same voxels for every
// structure; for a contour inside another of the same structure (a hole), which plastimatch fills
// in, ours must be plastimatch's outer disc minus its inner one. On a series tilted 20° too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { readNifti } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from '../nifti/nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);
const HELPERS = join(__dirname, '..', 'helpers');
const hasPlastimatch = spawnSync('plastimatch', ['--version']).status === 0;
const skipPlastimatch = skip || (hasPlastimatch || process.env.CI === 'true' ? false : 'plastimatch (Debian) is not installed');

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; } };
  const code = await runCli(args, io);
  return { code, out: io.out, err: io.err };
}

test('the structures of an RT Structure Set are the voxels plastimatch rasterises; a contour inside another is a hole; overlaps go to the smaller structure', { skip: skipPlastimatch }, async () => {
  const root = tempDir('ll-rt-');
  const series = join(root, 'dicom', 'ct');
  for (const [script, args] of [['write_dicom_series.py', [sharedDataPath(...CT), series, '--crop', '67,131,77,125,25,35']], ['write_rtstruct.py', [series, join(root, 'rtss.dcm')]]] as const) {
    const run = spawnSync(NIBABEL_PYTHON, [join(HELPERS, script), ...args], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  }
  assert.equal((await cli('import-dicom', join(root, 'dicom'), '--out', join(root, 'nifti'))).code, 0);
  const imagePath = join(root, 'nifti', 'ct_s1_test_series.nii.gz');
  const plastimatch = spawnSync('plastimatch', ['convert', '--input', join(root, 'rtss.dcm'), '--referenced-ct', series, '--output-prefix', join(root, 'pm'), '--prefix-format', 'nii.gz'], { encoding: 'utf8' });
  assert.equal(plastimatch.status, 0, `${plastimatch.stdout}${plastimatch.stderr}`);
  const reference = async (name: string): Promise<ArrayLike<number>> => {
    const image = await readNifti(join(root, 'pm', `${name}.nii.gz`));
    assert.deepEqual(image.dims, [64, 48, 10]);
    return image.data;
  };

  const ours = async (roi: string): Promise<ArrayLike<number>> => {
    const r = await cli('import-seg', join(root, 'rtss.dcm'), imagePath, '--roi', roi, '--out', join(root, `${roi}.nii.gz`));
    assert.equal(r.code, 0, r.err);
    return (await readNifti(join(root, `${roi}.nii.gz`))).data;
  };
  for (const name of ['GTV', 'BODY', 'Hole']) {
    const [a, b] = [await ours(name), await reference(name)];
    let differ = 0;
    let count = 0;
    for (let i = 0; i < a.length; i++) {
      if ((a[i] !== 0) !== (b[i] !== 0)) differ++;
      count += a[i] !== 0 ? 1 : 0;
    }
    assert.ok(count > 100, `${name}: ${count} voxels`);
    assert.equal(differ, 0, `${name}: ${differ} voxels differ from plastimatch's`);
  }
  const [ring, outer, hole] = [await ours('Ring'), await reference('Ring'), await reference('Hole')];
  for (let i = 0; i < ring.length; i++) assert.equal(ring[i] !== 0, outer[i] !== 0 && hole[i] === 0, `Ring voxel ${i}`);

  // All at once: labels follow the file's order; a voxel of several structures goes to the smallest
  // (Hole, then Ring, which overlaps the GTV, then GTV, then BODY).
  const all = await cli('import-seg', join(root, 'rtss.dcm'), imagePath, '--out', join(root, 'all.nii.gz'));
  assert.equal(all.code, 0, all.err);
  assert.match(all.out, /4 label\(s\) from 22 contour\(s\) of rtss\.dcm; \d+ voxel\(s\) lay in several of them \(the smallest structure keeps them\)/);
  assert.match(all.out, /label 1 "GTV": \d+ voxel\(s\)\n {2}label 2 "BODY": \d+ voxel\(s\)\n {2}label 3 "Ring": \d+ voxel\(s\)\n {2}label 4 "Hole": \d+ voxel\(s\)/);
  const labels = (await readNifti(join(root, 'all.nii.gz'))).data;
  const [gtv, body] = [await reference('GTV'), await reference('BODY')];
  for (let i = 0; i < labels.length; i++) {
    const want = hole[i] ? 4 : outer[i] ? 3 : gtv[i] ? 1 : body[i] ? 2 : 0;
    assert.equal(labels[i], want, `voxel ${i}`);
  }
  const missing = await cli('import-seg', join(root, 'rtss.dcm'), imagePath, '--roi', 'PTV', '--out', join(root, 'x.nii.gz'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /rtss\.dcm: it has no structure named "PTV" \(it has "GTV", "BODY", "Ring", "Hole"\)/);
  // An image of another patient: the contours lie outside its slices.
  const elsewhere = await cli('import-seg', join(root, 'rtss.dcm'), sharedDataPath('lesion', 'ms-flair-mni', 'patient07', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'), '--out', join(root, 'y.nii.gz'));
  assert.equal(elsewhere.code, 2);
  assert.match(elsewhere.err, /rtss\.dcm: contour 1 of "GTV" does not lie in a slice of the image/);
});

test('on an oblique series (slices tilted 20°) the structures are plastimatch\'s voxels too, but for voxel centres on a contour', { skip: skipPlastimatch }, async () => {
  const root = tempDir('ll-rt-oblique-');
  const series = join(root, 'dicom', 'ct');
  for (const [script, args] of [['write_dicom_series.py', [sharedDataPath(...CT), series, '--crop', '67,131,77,125,25,35', '--rotate-deg', '20']], ['write_rtstruct.py', [series, join(root, 'rtss.dcm')]]] as const) {
    const run = spawnSync(NIBABEL_PYTHON, [join(HELPERS, script), ...args], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  }
  assert.equal((await cli('import-dicom', join(root, 'dicom'), '--out', join(root, 'nifti'))).code, 0);
  const plastimatch = spawnSync('plastimatch', ['convert', '--input', join(root, 'rtss.dcm'), '--referenced-ct', series, '--output-prefix', join(root, 'pm'), '--prefix-format', 'nii.gz'], { encoding: 'utf8' });
  assert.equal(plastimatch.status, 0, `${plastimatch.stdout}${plastimatch.stderr}`);
  for (const name of ['GTV', 'BODY', 'Hole']) {
    const r = await cli('import-seg', join(root, 'rtss.dcm'), join(root, 'nifti', 'ct_s1_test_series.nii.gz'), '--roi', name, '--out', join(root, `${name}.nii.gz`));
    assert.equal(r.code, 0, r.err);
    const [a, b] = [(await readNifti(join(root, `${name}.nii.gz`))).data, (await readNifti(join(root, 'pm', `${name}.nii.gz`))).data];
    let differ = 0;
    for (let i = 0; i < a.length; i++) if ((a[i] !== 0) !== (b[i] !== 0)) differ++;
    // The GTV's top vertex falls exactly on a voxel centre of slice 3: which side it goes is a tie
    // that the rounding of the tilted contour's coordinates decides (ours: inside).
    assert.ok(differ <= 1, `${name}: ${differ} voxels differ from plastimatch's`);
  }
});
