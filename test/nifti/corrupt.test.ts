// Every file in ../shared/data/odd/generated_corrupt is refused with one sentence that names the
// file and says what is wrong (the expected wording is checked, not just that it throws).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti, readNiftiHeader, NiftiReadError } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const skip = skipWithoutSharedData('odd', 'generated_corrupt');
const DIR = sharedDataPath('odd', 'generated_corrupt');

/** What each message must say (after "<file name>: "). */
const EXPECTED: Record<string, RegExp> = {
  'bad_magic.nii': /magic is 'XXX\\x00', expected 'n\+1' or 'ni1'/,
  'bad_sizeof_hdr.nii': /not a NIfTI or Analyze file: the header size field is 123, expected 348/,
  'bitpix_mismatch.nii': /bitpix is 32 but datatype int16 needs 16/,
  'datatype_unknown.nii': /datatype code 9999 is not a NIfTI datatype/,
  'dim0_nine.nii': /dim\[0\] \(the number of dimensions\) is 9 but must be 1 to 7/,
  'dim0_zero.nii': /dim\[0\] \(the number of dimensions\) is 0 but must be 1 to 7/,
  'dim_negative.nii': /dim\[1\] is -87 but every size must be at least 1/,
  'dims_exceed_data.nii': /image data is 264132 bytes but the header needs 2641320/,
  'empty.nii': /the file is empty \(0 bytes\)/,
  'empty.nii.gz': /the file is empty \(0 bytes\)/,
  'gzip_bad_crc.nii.gz': /gzip checksum \(CRC-32\) does not match/,
  'gzip_but_nii_ext.nii': /content is gzip-compressed but the name does not end in \.gz/,
  'gzip_trailing_garbage.nii.gz': /followed by bytes that are not gzip/,
  'header_only.nii': /vox_offset is 352 but the file has a size of only 348 bytes, so the header's 264132 bytes of image data are missing/,
  'huge_dims_no_data.nii.gz': /one frame has 8589934592 voxels \(2048x2048x2048\), more than this reader can hold/,
  'not_gzip_but_gz_ext.nii.gz': /name ends in \.gz but the content is an uncompressed NIfTI file \(rename it without \.gz\)/,
  'pixdim_zero_qform_only.nii': /qform affine gives a voxel size of 0 along i \(check pixdim\[1\]\)/,
  'random_bytes.nii.gz': /name ends in \.gz but the content is neither gzip data nor a NIfTI header/,
  'sform_nan.nii': /the sform \(sform_code 1\) holds NaN in srow_x\[0\]/,
  'text_file.nii': /not a NIfTI or Analyze file: the header size field is \d+/,
  'truncated_data.nii': /image data is 254132 bytes but the header needs 264132/,
  'truncated_gzip_half.nii.gz': /gzip data ends early, so the file is truncated or incomplete/,
  'truncated_gzip_headeronly.nii.gz': /gzip data ends early, so the file is truncated or incomplete/,
  'vox_offset_beyond_eof.nii': /vox_offset is 265484 but the file has a size of only 264484 bytes/,
  'vox_offset_inside_header.nii': /vox_offset is 100, inside the header; a single-file NIfTI-1 needs at least 352/,
};

function assertRefusal(err: unknown, name: string): true {
  assert.ok(err instanceof NiftiReadError, `${name}: expected NiftiReadError, got ${String(err)}`);
  assert.ok(err.message.startsWith(`${name}: `), `${name}: message must start with the file name: ${err.message}`);
  assert.ok(!/\n/.test(err.message), `${name}: one line`);
  assert.ok(!/\.\s+[A-Z]/.test(err.message), `${name}: one sentence: ${err.message}`);
  return true;
}

describe('corrupt files are refused with a clear message', { skip }, () => {
  const files = existsSync(DIR) ? readdirSync(DIR).sort() : [];
  let refused = 0;

  it('has an expectation for every file in the folder (and no stale ones)', () => {
    assert.deepEqual(files, Object.keys(EXPECTED).sort());
  });

  for (const name of Object.keys(EXPECTED).sort()) {
    it(name, async () => {
      await assert.rejects(readNifti(join(DIR, name)), (err: unknown) => {
        assertRefusal(err, name);
        assert.match((err as Error).message, EXPECTED[name]);
        return true;
      });
      refused++;
    });
  }

  it('summary', () => {
    console.log(`# corrupt files refused: ${refused}/${files.length}`);
    assert.equal(refused, files.length);
  });

  it('readNiftiHeader refuses the header-level problems too', async () => {
    for (const name of ['bad_magic.nii', 'dim0_nine.nii', 'datatype_unknown.nii', 'sform_nan.nii', 'empty.nii.gz']) {
      await assert.rejects(readNiftiHeader(join(DIR, name)), (err: unknown) => assertRefusal(err, name));
    }
  });
});
