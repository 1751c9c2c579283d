// Every odd-but-valid file in ../shared/data/odd gives the same shape, affine, values, axis codes
// and canonical affine as nibabel (dumped once per run); files nibabel cannot read are refused
// with a one-sentence message naming the file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readNifti, NiftiReadError, type NiftiImage } from '../../src/nifti';
import { aff2axcodes } from '../../src/protocol/orientation';
import { reorientToCanonical } from '../../src/volume/orientation';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { dumpWithNibabel, type NibabelDump, type NibabelEntry } from './nibabelReference';

/** Folders under ../shared/data compared with nibabel; `true` = include sub-folders. */
const FOLDERS: [string, boolean][] = [
  ['odd/generated_valid', false],
  ['odd/nibabel_testdata', false],
  ['odd/nifti_reader_js', false],
  ['odd/niivue', false],
  ['odd/niivue/nifti_space', false],
  ['odd/mirp_misc_masks', true],
  ['odd/niivue_flair_drawing', false],
  ['normal', true],
];
const skip = skipWithoutSharedData('odd');

/** Image files of a folder; .img companions are reached through their .hdr. */
function imageFiles(folder: string, recursive = false): string[] {
  const dir = sharedDataPath(...folder.split('/'));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .flatMap((p) => (statSync(p).isDirectory() ? (recursive ? imageFiles(p.slice(sharedDataPath().length + 1), true) : []) : [p]))
    .filter((p) => /\.(nii|hdr)(\.gz)?$/i.test(p))
    .sort();
}

const FILES = FOLDERS.flatMap(([folder, recursive]) => imageFiles(folder, recursive));
const AFFINE_TOLERANCE_MM = 1e-4;

function bytesEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function flatAffine(rows: number[][]): number[] {
  return rows.flat();
}

function assertAffineClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  for (let i = 0; i < 16; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    assert.ok(
      diff <= AFFINE_TOLERANCE_MM * Math.max(1, Math.abs(expected[i]) / 100),
      `${what}: affine[${i}] is ${actual[i]}, nibabel has ${expected[i]}`,
    );
  }
}

/** Header fields as decoded (via nifti-reader-js plus our own reads) against nibabel's header. */
function assertHeaderFieldsMatch(image: NiftiImage, entry: NibabelEntry, what: string): void {
  const h = entry.header;
  const same = (ours: number, theirs: number | string | undefined, field: string) => {
    if (theirs === undefined) return;
    const want = typeof theirs === 'string' ? Number(theirs) : theirs;
    assert.ok(Object.is(ours, want) || ours === want, `${what}: ${field} is ${ours}, nibabel has ${want}`);
  };
  const dim = h.dim as number[];
  assert.deepEqual(image.header.dim.slice(0, dim[0] + 1), dim.slice(0, dim[0] + 1), `${what}: dim`);
  // nibabel rewrites a stored qfac (pixdim[0]) of 0 to 1 on load; we keep the stored value, so
  // compare what it means (the sign) there, and pixdim[1..3] exactly.
  same(image.header.pixdim[0] < 0 ? -1 : 1, (h.pixdim as number[])[0] < 0 ? -1 : 1, 'qfac');
  (h.pixdim as number[]).slice(1, 4).forEach((p, i) => same(image.header.pixdim[i + 1], p, `pixdim[${i + 1}]`));
  same(image.header.bitpix, h.bitpix as number, 'bitpix');
  if (image.header.format !== 'analyze75') {
    same(image.header.voxOffset, h.vox_offset as number, 'vox_offset');
    same(image.header.xyztUnits, h.xyzt_units as number, 'xyzt_units');
    same(image.header.intentCode, h.intent_code as number, 'intent_code');
    for (const [ours, field] of [
      [image.header.quaternB, 'quatern_b'],
      [image.header.quaternC, 'quatern_c'],
      [image.header.quaternD, 'quatern_d'],
      [image.header.qoffsetX, 'qoffset_x'],
      [image.header.qoffsetY, 'qoffset_y'],
      [image.header.qoffsetZ, 'qoffset_z'],
    ] as const) {
      same(ours, h[field] as number, field);
    }
    (h.srow as (number | string)[]).forEach((v, i) => same(image.header.srow[i], v, `srow[${i}]`));
  }
  assert.deepEqual(
    image.header.extensions.map((e) => e.code),
    (h.extension_codes as number[]) ?? [],
    `${what}: extension codes`,
  );
}

/** Compares our values with nibabel's scaled values, exactly for unscaled integers, else to float32 precision. */
function assertValuesMatch(image: NiftiImage, entry: NibabelEntry, raw: Float64Array, what: string): void {
  const slope = entry.slope ?? 1;
  const inter = entry.inter ?? 0;
  const scaled = !(slope === 1 && inter === 0);
  const ours = image.data;
  assert.equal(ours.length, raw.length, `${what}: voxel count`);
  const exact = !scaled && !(ours instanceof Float32Array) && !(ours instanceof Float64Array);
  let worst = 0;
  for (let i = 0; i < raw.length; i++) {
    const want = scaled ? raw[i] * slope + inter : raw[i];
    const got = ours[i];
    if (Number.isNaN(want)) {
      assert.ok(Number.isNaN(got), `${what}: voxel ${i} is ${got}, nibabel has NaN`);
      continue;
    }
    if (exact || !Number.isFinite(want)) {
      if (got !== want) assert.fail(`${what}: voxel ${i} is ${got}, nibabel has ${want}`);
      continue;
    }
    const tolerance = 1e-6 * (Math.abs(want) + Math.abs(inter)) + 1e-12;
    const diff = Math.abs(got - want);
    if (diff > tolerance) assert.fail(`${what}: voxel ${i} is ${got}, nibabel has ${want}`);
    worst = Math.max(worst, diff);
  }
}

describe('odd files agree with nibabel', { skip }, () => {
  let dump: NibabelDump;
  const counts = { identical: 0, readable: 0, refusedAsNibabel: 0, unreadable: 0 };

  before(() => {
    dump = dumpWithNibabel(FILES);
  });
  after(() => {
    dump?.dispose();
    console.log(
      `# nibabel comparison: ${counts.identical}/${counts.readable} readable files identical; ` +
        `${counts.refusedAsNibabel}/${counts.unreadable} files nibabel cannot read were refused`,
    );
  });

  it('covers every folder the issue names', () => {
    for (const [folder, recursive] of FOLDERS) {
      assert.ok(imageFiles(folder, recursive).length > 0, `no image files found in ${folder}`);
    }
    assert.equal(imageFiles('odd/niivue/nifti_space').length, 48);
  });

  for (const file of FILES) {
    const name = file.slice(sharedDataPath().length + 1);
    it(name, async () => {
      const entry = dump.entries.get(file);
      assert.ok(entry, `nibabel dump has no entry for ${file}`);
      if (!entry.ok) {
        counts.unreadable++;
        await assert.rejects(readNifti(file), (err: unknown) => {
          assert.ok(err instanceof NiftiReadError, `expected NiftiReadError, got ${String(err)}`);
          assert.ok(err.message.startsWith(`${basename(file)}: `), err.message);
          assert.ok(!err.message.includes('\n'), 'one sentence, one line');
          return true;
        });
        counts.refusedAsNibabel++;
        return;
      }
      counts.readable++;
      for (const { frame } of entry.frames) {
        const image = await readNifti(file, { frame });
        const what = `${name} frame ${frame}`;
        assert.deepEqual(image.shape, entry.shape, `${what}: shape`);
        assertAffineClose(image.affine, flatAffine(entry.affine), what);
        assert.equal(image.header.datatypeCode, entry.header.datatype, `${what}: datatype`);
        assert.equal(image.header.sformCode, entry.header.sform_code ?? 0, `${what}: sform_code`);
        assert.equal(image.header.qformCode, entry.header.qform_code ?? 0, `${what}: qform_code`);
        assertHeaderFieldsMatch(image, entry, what);
        const raw = dump.values(entry, frame);
        if (entry.rgb_channels) {
          assert.ok(image.rgb, `${what}: rgb bytes present`);
          assert.equal(image.rgb.channels, entry.rgb_channels);
          assert.deepEqual(Buffer.from(image.rgb.bytes), Buffer.from(Uint8Array.from(raw)), `${what}: rgb bytes`);
        } else {
          assertValuesMatch(image, entry, raw, what);
        }
        if (frame === 0) {
          assert.equal(aff2axcodes(image.affine), entry.axcodes, `${what}: axis codes`);
          if (entry.shape.length >= 3) {
            const canonical = reorientToCanonical(image);
            assertAffineClose(canonical.affine, flatAffine(entry.canonical_affine), `${what} canonical`);
            assert.deepEqual(canonical.dims, entry.canonical_shape.slice(0, 3), `${what}: canonical shape`);
          }
        }
      }
      counts.identical++;
    });
  }
});

describe('the 48 nifti_space files', { skip }, () => {
  const files = imageFiles('odd/niivue/nifti_space');

  it('are named by their axis codes', async () => {
    for (const file of files) {
      const image = await readNifti(file);
      assert.equal(aff2axcodes(image.affine), basename(file).replace(/\.nii(\.gz)?$/, ''), basename(file));
    }
  });

  it('give the identical voxel array and affine after reorientation to canonical', async () => {
    assert.equal(files.length, 48);
    let reference: ReturnType<typeof reorientToCanonical> | undefined;
    for (const file of files) {
      const canonical = reorientToCanonical(await readNifti(file));
      assert.equal(aff2axcodes(canonical.affine), 'RAS', basename(file));
      if (!reference) {
        reference = canonical;
        continue;
      }
      assert.deepEqual(canonical.dims, reference.dims, `${basename(file)}: dims`);
      assert.ok(
        bytesEqual(canonical.data, reference.data),
        `${basename(file)}: voxels differ from ${basename(files[0])} after reorientation`,
      );
      assertAffineClose(canonical.affine, Array.from(reference.affine), `${basename(file)} canonical affine`);
    }
  });
});
