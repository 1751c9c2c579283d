// JPEG 2000 and HTJ2K DICOM (src/nifti/wasmCodecs.ts through the DICOM reader). References:
// GDCM's gdcmconv (Debian libgdcm-tools) compresses a CT, a signed MR and a multi-frame file
// losslessly (transfer syntax .90) and with loss (.91), and decodes its lossy files back to raw;
// OpenJPH's ojph_compress / ojph_expand (Debian openjph-tools) write and decode HTJ2K (.201, .203);
// pydicom decodes two of its own JPEG 2000 samples through Pillow's OpenJPEG. Lossless must read
// to exactly the uncompressed voxels, lossy to the reference decoder's; lossy series say so in
// `info`; an 8-bit codestream in 16-bit pixels is widened; a truncated or damaged stream and signed
// HTJ2K (which the codec clamps) are refused naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli';
import { readNifti } from '../../src/nifti';
import { parseDicom, TAG } from '../../src/nifti/dicomParse';
import { decodeWasmFrame, WasmCodecError } from '../../src/nifti/wasmCodecs';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from './nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const WRITER = join(__dirname, '..', 'helpers', 'write_dicom_series.py');
const HTJ2K_WRITER = join(__dirname, '..', 'helpers', 'write_htj2k_series.py');
const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const has = (tool: string): boolean => spawnSync(tool, ['--version']).error === undefined;
const skipTools = (...tools: string[]): string | false => {
  const shared = skipWithoutSharedData(...CT);
  if (shared) return shared;
  const missing = tools.filter((t) => !has(t));
  return missing.length === 0 || process.env.CI === 'true' ? false : `${missing.join(', ')} (Debian) not installed`;
};

function writeSeries(dir: string, ...extra: string[]): void {
  const run = spawnSync(NIBABEL_PYTHON, [WRITER, sharedDataPath(...CT), dir, '--crop', '67,131,77,125,25,35', ...extra], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
}

/** Each file of `from` passed through gdcmconv with `flags` into `to`. */
function gdcmconv(from: string, to: string, ...flags: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const run = spawnSync('gdcmconv', [...flags, join(from, name), join(to, name)], { encoding: 'utf8' });
    assert.equal(run.status, 0, `gdcmconv ${flags.join(' ')} ${name}: ${run.stderr}`);
  }
}

/** How many voxels of `b` differ from `a`, and by how much at most (same grid asserted). */
async function difference(a: string, b: string): Promise<{ differ: number; max: number }> {
  const x = await readNifti(a);
  const y = await readNifti(b);
  assert.deepEqual(y.dims, x.dims, b);
  assert.equal(y.data.constructor, x.data.constructor, b);
  let differ = 0;
  let max = 0;
  for (let i = 0; i < x.data.length; i++) {
    const d = Math.abs(x.data[i] - y.data[i]);
    if (d > 0) differ++;
    if (d > max) max = d;
  }
  return { differ, max };
}

async function info(path: string): Promise<string> {
  const io = { out: '', err: '', stdout(t: string) { this.out += t; }, stderr(t: string) { this.err += t; } };
  assert.equal(await runCli(['info', path], io), 0, io.err);
  return io.out;
}

test('JPEG 2000 by gdcmconv: lossless reads to the uncompressed voxels, lossy to GDCM\'s own decoding, and says it is lossy', { skip: skipTools('gdcmconv') }, async () => {
  const root = tempDir('ll-j2k-');
  writeSeries(join(root, 'ct'));
  writeSeries(join(root, 'mr'), '--modality', 'MR');
  writeSeries(join(root, 'multiframe'), '--multiframe');
  for (const series of ['ct', 'mr', 'multiframe']) {
    gdcmconv(join(root, series), join(root, `${series}-j2k`), '--j2k');
    assert.deepEqual(await difference(join(root, series), join(root, `${series}-j2k`)), { differ: 0, max: 0 }, `${series} lossless`);
  }
  // The MR holds negative values: signed samples come back signed.
  assert.ok(Array.from((await readNifti(join(root, 'mr-j2k'))).data).some((v) => v < 0));
  assert.doesNotMatch(await info(join(root, 'ct-j2k')), /lossy/);

  for (const series of ['ct', 'mr']) {
    gdcmconv(join(root, series), join(root, `${series}-lossy`), '--j2k', '--lossy', '-q', '60');
    gdcmconv(join(root, `${series}-lossy`), join(root, `${series}-lossy-raw`), '--raw');
    assert.deepEqual(await difference(join(root, `${series}-lossy-raw`), join(root, `${series}-lossy`)), { differ: 0, max: 0 }, `${series} lossy`);
    assert.ok((await difference(join(root, series), join(root, `${series}-lossy`))).differ > 0, 'the lossy files did lose something');
  }
  assert.match(await info(join(root, 'mr-lossy')), /DICOM series 1 "test series" \(MR, 10 files; lossy: JPEG 2000, ratio up to \d+\.\d:1\)/);
  // Decoded without loss, GDCM's raw copy still records the earlier loss.
  assert.match(await info(join(root, 'mr-lossy-raw')), /lossy: earlier lossy compression, ratio up to/);

  // A frame cut short is refused naming the file (the codec itself would decode what is there).
  const cut = join(root, 'cut');
  mkdirSync(cut);
  for (const name of readdirSync(join(root, 'ct-j2k'))) copyFileSync(join(root, 'ct-j2k', name), join(cut, name));
  const script = 'import sys, pydicom\nfrom pydicom.encaps import encapsulate, generate_pixel_data_frame\nd = pydicom.dcmread(sys.argv[1])\nf = next(generate_pixel_data_frame(d.PixelData))\nd.PixelData = encapsulate([f[:len(f) * 6 // 10]])\nd.save_as(sys.argv[1])';
  const rewrite = spawnSync(NIBABEL_PYTHON, ['-c', script, join(cut, 'IM0004.dcm')], { encoding: 'utf8' });
  assert.equal(rewrite.status, 0, rewrite.stderr);
  await assert.rejects(readNifti(cut), (e: unknown) => /IM0004\.dcm: its JPEG 2000 frame is truncated \(no end marker\) \(frame 1\)/.test(String(e)));
  // The same stream ended with its marker is damaged data, and said so.
  const frame = parseDicom(readFileSync(join(root, 'ct-j2k', 'IM0004.dcm'))).elements.get(TAG.pixelData)!.fragments![1];
  assert.throws(() => decodeWasmFrame('JPEG 2000', Uint8Array.from([...frame.subarray(0, (frame.length * 6) / 10), 0xff, 0xd9]), 64 * 48, 2), (e: unknown) => e instanceof WasmCodecError && /could not be decoded: the data are damaged/.test(e.message));
  assert.throws(() => decodeWasmFrame('JPEG 2000', frame, 64 * 47, 2), /its JPEG 2000 frame is 64×48 pixels, but the data set's rows and columns make 3008/);
});

test('pydicom\'s JPEG 2000 samples read as pydicom (Pillow\'s OpenJPEG) decodes them', async () => {
  for (const name of ['693_J2KI.dcm', 'J2K_pixelrep_mismatch.dcm']) {
    const dir = tempDir('ll-j2k-pydicom-');
    copyFileSync(join(PYDICOM_FILES, name), join(dir, name));
    const script = 'import sys, pydicom, numpy as np\nd = pydicom.dcmread(sys.argv[1])\nsys.stdout.buffer.write((d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept)).astype("<i4").tobytes())';
    const run = spawnSync(NIBABEL_PYTHON, ['-W', 'ignore', '-c', script, join(dir, name)], { maxBuffer: 1 << 24 });
    assert.equal(run.status, 0, String(run.stderr));
    const want = new Int32Array(run.stdout.buffer, run.stdout.byteOffset, run.stdout.length / 4);
    const image = await readNifti(join(dir, name));
    assert.equal(image.data.length, want.length, name);
    let differ = 0;
    for (let i = 0; i < want.length; i++) if (image.data[i] !== want[i]) differ++;
    assert.equal(differ, 0, `${name}: ${differ} voxels differ`);
  }
});

test('HTJ2K by OpenJPH\'s tools: lossless reads exactly, lossy within 1 of ojph_expand, signed samples are refused', { skip: skipTools('ojph_compress') }, async () => {
  const root = tempDir('ll-htj2k-');
  writeSeries(join(root, 'ct'));
  writeSeries(join(root, 'mr'), '--modality', 'MR');
  const htj2k = (from: string, to: string, ...extra: string[]): void => {
    const run = spawnSync(NIBABEL_PYTHON, [HTJ2K_WRITER, join(root, from), join(root, to), ...extra], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  };
  htj2k('ct', 'ct-htj2k');
  assert.deepEqual(await difference(join(root, 'ct'), join(root, 'ct-htj2k')), { differ: 0, max: 0 });
  htj2k('ct', 'ct-htj2k-lossy', '--lossy', '0.002', '--reference', join(root, 'ct-htj2k-lossy-ref'));
  const lossy = await difference(join(root, 'ct-htj2k-lossy-ref'), join(root, 'ct-htj2k-lossy'));
  assert.ok(lossy.max <= 1, `${lossy.differ} voxels differ from ojph_expand, by up to ${lossy.max}`);
  assert.ok((await difference(join(root, 'ct'), join(root, 'ct-htj2k-lossy'))).differ > 0, 'the lossy files did lose something');
  assert.match(await info(join(root, 'ct-htj2k-lossy')), /lossy: HTJ2K/);

  htj2k('mr', 'mr-htj2k');
  await assert.rejects(readNifti(join(root, 'mr-htj2k')), (e: unknown) => /IM0001\.dcm: .*HTJ2K frame holds signed samples, which the HTJ2K decoder cannot return intact/.test(String(e)));
});

test('an 8-bit JPEG 2000 codestream (Pillow\'s) in 16-bit pixels is widened to them', { skip: skipWithoutSharedData(...CT) }, async () => {
  const root = tempDir('ll-j2k-8bit-');
  writeSeries(join(root, 'ct'));
  const script = `
import io, sys, numpy as np, pydicom
from PIL import Image
from pydicom.encaps import encapsulate
d = pydicom.dcmread(sys.argv[1])
a = (np.arange(d.Rows * d.Columns) * 7 % 256).astype(np.uint8).reshape(d.Rows, d.Columns)
buf = io.BytesIO(); Image.fromarray(a).save(buf, 'JPEG2000', irreversible=False, no_jp2=True)
assert buf.getvalue()[42] == 7, 'an 8-bit codestream'
d.file_meta.TransferSyntaxUID = '1.2.840.10008.1.2.4.90'
d.BitsStored, d.HighBit, d.PixelRepresentation = 8, 7, 0
d.PixelData = encapsulate([buf.getvalue()]); d['PixelData'].VR = 'OB'; d['PixelData'].is_undefined_length = True
d.save_as(sys.argv[2], write_like_original=False)`;
  mkdirSync(join(root, 'w8'));
  const run = spawnSync(NIBABEL_PYTHON, ['-c', script, join(root, 'ct', 'IM0001.dcm'), join(root, 'w8', 'IM0001.dcm')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const image = await readNifti(join(root, 'w8', 'IM0001.dcm'));
  // The written values 7·n mod 256, in the CT's rescaling (intercept −1024), in some voxel order.
  const values = Array.from(image.data, (v) => v + 1024).sort((a, b) => a - b);
  const want = Array.from({ length: image.data.length }, (_, n) => (7 * n) % 256).sort((a, b) => a - b);
  assert.deepEqual(values, want);
});
