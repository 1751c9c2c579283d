// Round trip on the real lesion cases: read each mask, write it again with writeMaskLike from its
// image, and let nibabel confirm that voxels, affine and geometry fields are identical.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNifti, writeMaskLike, checkSameGrid } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { NIBABEL_PYTHON } from './nibabelReference';

const skip = skipWithoutSharedData('lesion');

interface LesionCase {
  name: string;
  image: string;
  mask: string;
}

/** Every MS case and sarcoma image + mask pair in ../shared/data/lesion. */
function lesionCases(): LesionCase[] {
  const cases: LesionCase[] = [];
  const ms = sharedDataPath('lesion', 'ms-flair-mni');
  if (existsSync(ms)) {
    for (const patient of readdirSync(ms).filter((p) => p.startsWith('patient')).sort()) {
      const files = readdirSync(join(ms, patient));
      const flair = files.find((f) => f.startsWith('FLAIR_'));
      const mask = files.find((f) => f.startsWith('GOLD_STANDARD_'));
      if (flair && mask) cases.push({ name: `ms/${patient}`, image: join(ms, patient, flair), mask: join(ms, patient, mask) });
    }
  }
  const sarcoma = sharedDataPath('lesion', 'sarcoma-ct-mr-pet');
  if (existsSync(sarcoma)) {
    for (const patient of readdirSync(sarcoma).filter((p) => p.startsWith('STS_')).sort()) {
      for (const modality of readdirSync(join(sarcoma, patient)).sort()) {
        const dir = join(sarcoma, patient, modality);
        cases.push({ name: `sarcoma/${patient}/${modality}`, image: join(dir, 'image.nii.gz'), mask: join(dir, 'mask.nii.gz') });
      }
    }
  }
  return cases;
}

function sha256(path: string): string {
  return createHash('sha256').update(new Uint8Array(readFileSync(path))).digest('hex');
}

/**
 * The round trip is slow (gzip + nibabel) and the sarcoma folder holds 106 pairs: check every MS
 * case, the three original sarcoma patients (float32 sources) and every seventh later pair, which
 * covers CT, MR T1 and PET stored as int16 and float32.
 */
function sampledCases(all: LesionCase[]): LesionCase[] {
  const original = /^sarcoma\/STS_00[123]\//;
  const later = all.filter((c) => c.name.startsWith('sarcoma/') && !original.test(c.name));
  return [
    ...all.filter((c) => c.name.startsWith('ms/') || original.test(c.name)),
    ...later.filter((_, i) => i % 7 === 0),
  ];
}

describe('writeMaskLike round trip on the lesion cases', { skip }, () => {
  const allCases = lesionCases();
  const cases = sampledCases(allCases);
  let outDir: string;
  const written: { image: string; source_mask: string; written: string }[] = [];

  before(() => {
    outDir = mkdtempSync(join(tmpdir(), 'lesion-lab-roundtrip-'));
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('finds every MS case and every sarcoma image + mask pair', () => {
    assert.equal(allCases.filter((c) => c.name.startsWith('ms/')).length, 3);
    const sarcoma = allCases.filter((c) => c.name.startsWith('sarcoma/'));
    // Count what is there rather than a fixed number (the folder grew from 3 to 40 patients);
    // the shared README states 106 pairs, and every pair must have both files.
    assert.ok(sarcoma.length >= 9, `only ${sarcoma.length} sarcoma pairs found`);
    for (const c of sarcoma) {
      assert.ok(existsSync(c.image) && existsSync(c.mask), `${c.name}: image or mask missing`);
    }
    for (const modality of ['CT', 'MR_T1', 'PET']) {
      assert.ok(cases.some((c) => c.name.endsWith(`/${modality}`)), `the sample has no ${modality} pair`);
    }
  });

  it('writes every mask from its image without touching the sources', async () => {
    for (const c of cases) {
      const before = [sha256(c.image), sha256(c.mask)];
      const image = await readNifti(c.image);
      const mask = await readNifti(c.mask);
      assert.deepEqual(checkSameGrid(image, mask), { same: true }, c.name);
      assert.ok(mask.data instanceof Uint8Array, `${c.name}: masks are uint8`);
      const outPath = join(outDir, `${c.name.replaceAll('/', '_')}.nii.gz`);
      await writeMaskLike(image, mask.data, outPath);
      written.push({ image: c.image, source_mask: c.mask, written: outPath });
      assert.deepEqual([sha256(c.image), sha256(c.mask)], before, `${c.name}: source files changed`);
      // Our own reader sees the same grid and labels.
      const reread = await readNifti(outPath);
      assert.deepEqual(checkSameGrid(image, reread), { same: true }, c.name);
      assert.deepEqual(Buffer.from(reread.data as Uint8Array), Buffer.from(mask.data), `${c.name}: labels`);
    }
    assert.ok(readdirSync(outDir).every((f) => f.endsWith('.nii.gz')), 'no temporary files left behind');
  });

  it('nibabel reads each written mask with identical voxels, affine and geometry fields', () => {
    assert.equal(written.length, cases.length, 'the write test must run first');
    const casesFile = join(outDir, 'cases.json');
    writeFileSync(casesFile, JSON.stringify(written));
    const run = spawnSync(NIBABEL_PYTHON, [join(__dirname, 'nibabel_compare_masks.py'), casesFile], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const results = JSON.parse(run.stdout) as {
      voxels_identical: boolean;
      affine_identical_to_image: boolean;
      affine_identical_to_source_mask: boolean;
      header_matches: boolean;
      mismatches: string[];
      written_dtype: string;
      written_unscaled: boolean;
    }[];
    results.forEach((r, i) => {
      const name = cases[i].name;
      assert.ok(r.voxels_identical, `${name}: voxels differ`);
      assert.ok(r.affine_identical_to_image, `${name}: affine differs from the image's`);
      assert.ok(r.affine_identical_to_source_mask, `${name}: affine differs from the source mask's`);
      assert.ok(r.header_matches, `${name}: header fields differ: ${r.mismatches.join(', ')}`);
      assert.equal(r.written_dtype, 'uint8', name);
      assert.ok(r.written_unscaled, `${name}: written with scaling`);
    });
  });
});
