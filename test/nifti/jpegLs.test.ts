// JPEG-LS DICOM (src/nifti/jpegLs.ts through the DICOM reader). The references are dcmtk's
// dcmcjpls and dcmdjpls (Debian): a CT series, a signed MR series and an enhanced multi-frame file
// compressed losslessly (with the default coding parameters, and with thresholds and reset of its
// own, which the stream then carries) must read to exactly the uncompressed voxels; near-lossless
// streams (NEAR 2 and 5) must read to exactly what dcmdjpls decodes, within NEAR of the original.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti } from '../../src/nifti';
import { decodeJpegLs, JpegLsError } from '../../src/nifti/jpegLs';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from './nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);
const WRITER = join(__dirname, '..', 'helpers', 'write_dicom_series.py');
const hasDcmtk = spawnSync('dcmcjpls', ['--version']).error === undefined;
const skipDcmtk = skip || (hasDcmtk || process.env.CI === 'true' ? false : 'dcmtk (Debian) is not installed');

/** Each file of `from` passed through dcmtk's `tool` with `flags` into `to`. */
function convert(tool: string, from: string, to: string, ...flags: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const run = spawnSync(tool, [...flags, join(from, name), join(to, name)], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${tool} ${flags.join(' ')} ${name}: ${run.stderr}`);
  }
}

async function largestDifference(a: string, b: string): Promise<{ differ: number; largest: number }> {
  const [x, y] = [await readNifti(a), await readNifti(b)];
  assert.deepEqual(x.dims, y.dims);
  let differ = 0;
  let largest = 0;
  for (let i = 0; i < x.data.length; i++) {
    const d = Math.abs(x.data[i] - y.data[i]);
    if (d > 0) differ++;
    largest = Math.max(largest, d);
  }
  return { differ, largest };
}

test('dcmcjpls\'s JPEG-LS reads exactly: lossless to the uncompressed voxels, near-lossless to what dcmdjpls decodes', { skip: skipDcmtk }, async () => {
  const root = tempDir('ll-jpegls-');
  for (const [name, extra] of [['ct', []], ['mr', ['--modality', 'MR']], ['multiframe', ['--multiframe']]] as const) {
    const run = spawnSync(NIBABEL_PYTHON, [WRITER, sharedDataPath(...CT), join(root, name), '--crop', '67,131,77,125,25,35', ...extra], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  }
  const lossless: [string, string, string[]][] = [
    ['ct', 'ct-ls', ['+el']],
    ['ct', 'ct-ls-params', ['+el', '+t1', '5', '+t2', '40', '+t3', '300', '+rs', '32']],
    ['mr', 'mr-ls', ['+el']],
    ['multiframe', 'multiframe-ls', ['+el']],
  ];
  for (const [from, to, flags] of lossless) {
    convert('dcmcjpls', join(root, from), join(root, to), ...flags);
    assert.deepEqual(await largestDifference(join(root, from), join(root, to)), { differ: 0, largest: 0 }, to);
  }
  for (const near of [2, 5]) {
    const coded = join(root, `ct-near${near}`);
    convert('dcmcjpls', join(root, 'ct'), coded, '+en', '+md', String(near));
    convert('dcmdjpls', coded, `${coded}-dcmtk`);
    assert.deepEqual(await largestDifference(coded, `${coded}-dcmtk`), { differ: 0, largest: 0 }, `NEAR ${near}: as dcmdjpls decodes`);
    const fromOriginal = await largestDifference(coded, join(root, 'ct'));
    assert.ok(fromOriginal.differ > 0 && fromOriginal.largest <= near, `NEAR ${near}: ${JSON.stringify(fromOriginal)}`);
  }
});

test('JPEG-LS streams that are not single-component JPEG-LS, or end early, are refused', () => {
  assert.throws(() => decodeJpegLs(Uint8Array.from([0x00, 0x01]), 4, 2), (e: unknown) => e instanceof JpegLsError && /does not start with an SOI marker/.test(e.message));
  // SOI, then a JPEG (not JPEG-LS) SOF0.
  assert.throws(() => decodeJpegLs(Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 8, 0, 2, 0, 2, 1, 1, 0x11, 0]), 4, 1), /its frame is JPEG \(SOF marker FFC0\), not JPEG-LS/);
  // SOF55 of 3 components.
  assert.throws(() => decodeJpegLs(Uint8Array.from([0xff, 0xd8, 0xff, 0xf7, 0x00, 0x11, 8, 0, 2, 0, 2, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]), 4, 1), /has 3 components; grey-scale images \(1\) are read/);
  // SOF55 of 2×2, 8 bits, and a scan whose data stop at once.
  const header = [0xff, 0xd8, 0xff, 0xf7, 0x00, 0x0b, 8, 0, 2, 0, 2, 1, 1, 0x11, 0, 0xff, 0xda, 0x00, 0x08, 1, 1, 0, 0, 0, 0];
  assert.throws(() => decodeJpegLs(Uint8Array.from([...header, 0xff, 0xd9]), 4, 1), /end before the image does/);
  assert.throws(() => decodeJpegLs(Uint8Array.from([...header, 0xff, 0xd9]), 5, 1), /is 2×2 of 8 bits, but the DICOM header asks for 5 samples/);
});
