// writeMaskLike / writeVolumeLike on synthetic sources (every orientation method, NIfTI-2 and
// Analyze sources), their errors, and checkSameGrid on synthetic and real mismatched masks.
// Also the round trip on the real lesion cases, confirmed by nibabel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { checkSameGrid, readNifti, writeMaskLike, writeVolumeLike, NiftiWriteError, type NiftiImage } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { buildNifti, bytesOf, gzip, type BuildOptions } from './buildNifti';
import { NIBABEL_PYTHON } from './nibabelReference';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesion-lab-write-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const DIMS = [4, 3, 2];
const N = 24;

async function source(name: string, options: Partial<BuildOptions>, pair = false): Promise<NiftiImage> {
  const built = buildNifti({
    dim: DIMS,
    datatype: 16,
    bitpix: 32,
    data: bytesOf(Float32Array.from({ length: N }, (_, i) => i * 1.5)),
    ...options,
    layout: pair ? 'pair' : 'single',
  } as BuildOptions);
  if (pair) {
    writeFileSync(join(dir, `${name}.hdr`), built.header);
    writeFileSync(join(dir, `${name}.img`), built.data);
    return readNifti(join(dir, `${name}.hdr`));
  }
  const path = join(dir, `${name}.nii.gz`);
  writeFileSync(path, gzip(built.file));
  return readNifti(path);
}

function rawHeader(path: string): DataView {
  const bytes = new Uint8Array(gunzipSync(new Uint8Array(readFileSync(path))));
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const GEOMETRIES: [string, Partial<BuildOptions>][] = [
  ['sform', { sformCode: 2, srow: [0, 0, 2, -5, -1, 0, 0, 7, 0, 3, 0, -9], pixdim: [1, 1, 3, 2, 1, 1, 1, 1] }],
  ['qform with qfac -1', { qformCode: 1, quatern: [0.1, 0.2, 0.3], qoffset: [-90.5, 12.25, 3], pixdim: [-1, 0.9, 1.1, 3.3, 1, 1, 1, 1] }],
  ['sform and qform differing', { sformCode: 1, qformCode: 2, srow: [1, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3], quatern: [0, 0, 1], qoffset: [9, 9, 9], pixdim: [1, 1, 1, 1, 1, 1, 1, 1] }],
  ['no transform', { pixdim: [1, 2, 3, 4, 1, 1, 1, 1] }],
  ['NIfTI-2 source', { version: 2, sformCode: 1, srow: [1.5, 0, 0, -3, 0, 1.5, 0, -4, 0, 0, 2, -5], pixdim: [1, 1.5, 1.5, 2, 1, 1, 1, 1] }],
];

describe('writeMaskLike', () => {
  for (const [label, options] of GEOMETRIES) {
    it(`keeps the exact grid: ${label}`, async () => {
      const image = await source(label.replace(/\W+/g, '_'), options);
      const labels = Uint8Array.from({ length: N }, (_, i) => (i * 7) % 3);
      const out = join(dir, `mask_${label.replace(/\W+/g, '_')}.nii.gz`);
      await writeMaskLike(image, labels, out);
      const mask = await readNifti(out);
      assert.deepEqual(checkSameGrid(image, mask), { same: true });
      assert.deepEqual(Array.from(mask.affine), Array.from(image.affine));
      assert.equal(mask.affineSource, image.affineSource);
      assert.equal(mask.header.qformCode, image.header.qformCode);
      assert.equal(mask.header.sformCode, image.header.sformCode);
      assert.equal(mask.header.pixdim[0], image.header.pixdim[0] < 0 ? -1 : 1);
      assert.equal(mask.header.xyztUnits, image.header.xyztUnits);
      assert.ok(mask.data instanceof Uint8Array);
      assert.deepEqual(Array.from(mask.data), Array.from(labels));
      const h = rawHeader(out);
      assert.equal(h.getFloat32(112, true), 1, 'scl_slope 1');
      assert.equal(h.getFloat32(116, true), 0, 'scl_inter 0');
      assert.equal(h.getFloat32(108, true), 352, 'vox_offset');
    });
  }

  it('keeps an Analyze source geometry (as an sform)', async () => {
    const image = await source('analyze_src', { version: 'analyze', pixdim: [0, 2, 2, 2, 0, 0, 0, 0], analyzeOrigin: [2, 2, 1] }, true);
    const out = join(dir, 'mask_analyze.nii.gz');
    await writeMaskLike(image, new Uint8Array(N), out);
    const mask = await readNifti(out);
    assert.deepEqual(Array.from(mask.affine), Array.from(image.affine));
  });

  it('uses uint16 when a label exceeds 255, uint8 otherwise', async () => {
    const image = await source('u16', GEOMETRIES[0][1]);
    const big = Uint16Array.from({ length: N }, (_, i) => (i === 5 ? 300 : i));
    await writeMaskLike(image, big, join(dir, 'big.nii.gz'));
    const read = await readNifti(join(dir, 'big.nii.gz'));
    assert.equal(read.header.datatype, 'uint16');
    assert.equal(read.data[5], 300);
    await writeMaskLike(image, Uint16Array.from({ length: N }, (_, i) => i), join(dir, 'small.nii.gz'));
    assert.equal((await readNifti(join(dir, 'small.nii.gz'))).header.datatype, 'uint8');
  });

  it('replaces an existing file atomically and leaves no temporary file', async () => {
    const image = await source('atomic', GEOMETRIES[0][1]);
    const out = join(dir, 'atomic', 'mask.nii.gz');
    rmSync(join(dir, 'atomic'), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'atomic'));
    await writeMaskLike(image, new Uint8Array(N).fill(1), out);
    await writeMaskLike(image, new Uint8Array(N).fill(2), out);
    assert.deepEqual(readdirSync(join(dir, 'atomic')), ['mask.nii.gz']);
    assert.equal((await readNifti(out)).data[0], 2);
  });

  it('errors name the file and the problem', async () => {
    const image = await source('err', GEOMETRIES[0][1]);
    await assert.rejects(writeMaskLike(image, new Uint8Array(23), join(dir, 'short.nii.gz')), (err: unknown) => {
      assert.ok(err instanceof NiftiWriteError);
      assert.equal(err.message, 'short.nii.gz: labels has 23 values but the source grid 4x3x2 needs 24');
      return true;
    });
    await assert.rejects(writeMaskLike(image, new Uint8Array(N), join(dir, 'mask.nii')), /mask\.nii: the output name must end in \.nii\.gz/);
    await assert.rejects(
      writeMaskLike(image, new Int16Array(N) as unknown as Uint8Array, join(dir, 'i16.nii.gz')),
      /i16\.nii\.gz: labels must be a Uint8Array or Uint16Array/,
    );
    await assert.rejects(
      writeMaskLike(image, new Uint8Array(N), join(dir, 'no-such-folder', 'm.nii.gz')),
      /^NiftiWriteError: m\.nii\.gz: the file could not be written \(ENOENT/,
    );
    assert.ok(!existsSync(join(dir, 'short.nii.gz')));
  });
});

describe('writeVolumeLike', () => {
  it('writes float32 on the source grid with a description', async () => {
    const image = await source('vol', GEOMETRIES[1][1]);
    const values = Float32Array.from({ length: N }, (_, i) => i / 24);
    const out = join(dir, 'prob.nii.gz');
    await writeVolumeLike(image, values, out, { description: 'lesion probability' });
    const read = await readNifti(out);
    assert.equal(read.header.datatype, 'float32');
    assert.equal(read.header.description, 'lesion probability');
    assert.deepEqual(Array.from(read.data), Array.from(values));
    assert.deepEqual(checkSameGrid(image, read), { same: true });
  });

  it('refuses a bad description', async () => {
    const image = await source('vol2', GEOMETRIES[0][1]);
    await assert.rejects(
      writeVolumeLike(image, new Float32Array(N), join(dir, 'd.nii.gz'), { description: 'x'.repeat(80) }),
      /d\.nii\.gz: option description must be printable ASCII of at most 79 characters/,
    );
  });
});

describe('checkSameGrid', () => {
  const srow = [1, 0, 0, -10, 0, 1, 0, -20, 0, 0, 2, -30];
  it('describes shifts, missing slices, spacing and rotation', async () => {
    const image = await source('g0', { sformCode: 1, srow });
    const shifted = await source('g1', { sformCode: 1, srow: [1, 0, 0, -8.5, 0, 1, 0, -20, 0, 0, 2, -30] });
    assert.deepEqual(checkSameGrid(image, shifted), { same: false, differences: ['shifted 1.5 mm along x'] });
    const short = await source('g2', { sformCode: 1, srow, dim: [4, 3, 1], data: new Uint8Array(48) });
    assert.deepEqual(checkSameGrid(image, short), { same: false, differences: ['one slice short along k (1 vs 2)'] });
    const spacing = await source('g3', { sformCode: 1, srow: [1, 0, 0, -10, 0, 1, 0, -20, 0, 0, 2.5, -30] });
    assert.deepEqual(checkSameGrid(image, spacing), { same: false, differences: ['spacing differs along k (2.5 vs 2 mm)'] });
    const c = Math.cos(0.1);
    const s = Math.sin(0.1);
    const rotated = await source('g4', { sformCode: 1, srow: [c, -s, 0, -10, s, c, 0, -20, 0, 0, 2, -30] });
    const result = checkSameGrid(image, rotated);
    assert.equal(result.same, false);
    assert.ok(!result.same && result.differences.some((d) => d.startsWith('rotated by 5.73')), JSON.stringify(result));
  });

  it('flags the real mismatched masks', { skip: skipWithoutSharedData('odd', 'generated_valid') }, async () => {
    const folder = sharedDataPath('odd', 'generated_valid');
    const image = await readNifti(join(folder, 'ct_int16.nii.gz'));
    assert.deepEqual(checkSameGrid(image, await readNifti(join(folder, 'mask_uint8.nii.gz'))), { same: true });
    assert.deepEqual(checkSameGrid(image, await readNifti(join(folder, 'mask_shifted_1.5mm.nii.gz'))), {
      same: false,
      differences: ['shifted 1.5 mm along x'],
    });
    assert.deepEqual(checkSameGrid(image, await readNifti(join(folder, 'mask_one_slice_short.nii.gz'))), {
      same: false,
      differences: ['one slice short along k (21 vs 22)'],
    });
  });
});

// Round trip on the real lesion cases: read each mask, write it again with writeMaskLike from its
// image, and let nibabel confirm that voxels, affine and geometry fields are identical.
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
 * The round trip is slow (gzip + nibabel) and the lesion folder holds 109 pairs of six kinds:
 * MS FLAIR (float32, all on one MNI grid), the three original sarcoma modalities (CT, MR T1 and
 * PET stored as float32) and the later sarcoma pairs (CT and MR T1 as int16, PET as float32).
 * Check the first pair of each kind: the first MS case, the first original sarcoma patient, and
 * the first later pair of each modality.
 */
function sampledCases(all: LesionCase[]): LesionCase[] {
  const original = /^sarcoma\/STS_00[123]\//;
  const later = all.filter((c) => c.name.startsWith('sarcoma/') && !original.test(c.name));
  const firstOriginal = all.find((c) => original.test(c.name))?.name.split('/')[1];
  return [
    ...all.filter((c) => c.name.startsWith('ms/')).slice(0, 1),
    ...all.filter((c) => firstOriginal !== undefined && c.name.startsWith(`sarcoma/${firstOriginal}/`)),
    ...['CT', 'MR_T1', 'PET'].flatMap((modality) => later.filter((c) => c.name.endsWith(`/${modality}`)).slice(0, 1)),
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
    const storedTypes = new Set<string>();
    for (const c of cases) {
      const before = [sha256(c.image), sha256(c.mask)];
      const image = await readNifti(c.image);
      const mask = await readNifti(c.mask);
      storedTypes.add(image.header.datatype);
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
    assert.deepEqual([...storedTypes].sort(), ['float32', 'int16'], 'the sample covers images stored as int16 and as float32');
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
