// JPEG Lossless DICOM (src/nifti/jpegLossless.ts through the DICOM reader). The reference encoder
// is dcmtk's dcmcjpeg (Debian): a CT series, a signed MR series and an enhanced multi-frame file,
// compressed with every predictor (selection values 1–7), one fragment per frame or 1 KB fragments
// with an offset table, must read to exactly the uncompressed series' voxels. Restart intervals and
// the point transform, which dcmcjpeg does not write, are checked on streams encoded here by the
// standard's rules (T.81 H.1). Truncated and damaged streams are refused naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti, scanDicomFolder } from '../../src/nifti';
import { decodeJpegLossless, JpegError } from '../../src/nifti/jpegLossless';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { jpegBitWriter } from '../helpers/jpegBits';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from './nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);
const WRITER = join(__dirname, '..', 'helpers', 'write_dicom_series.py');
const hasDcmtk = spawnSync('dcmcjpeg', ['--version']).error === undefined;
const skipDcmtk = skip || (hasDcmtk || process.env.CI === 'true' ? false : 'dcmtk (Debian) is not installed');

function writeSeries(dir: string, ...extra: string[]): void {
  const run = spawnSync(NIBABEL_PYTHON, [WRITER, sharedDataPath(...CT), dir, '--crop', '67,131,77,125,25,35', ...extra], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
}

/** Each file of `from` compressed by dcmcjpeg with `flags` into `to`. */
function compress(from: string, to: string, ...flags: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const run = spawnSync('dcmcjpeg', [...flags, join(from, name), join(to, name)], { encoding: 'utf8' });
    assert.equal(run.status, 0, `dcmcjpeg ${flags.join(' ')} ${name}: ${run.stderr}`);
  }
}

test('dcmcjpeg\'s JPEG Lossless (every predictor; frames in one fragment or in 1 KB fragments) reads to the uncompressed voxels', { skip: skipDcmtk }, async () => {
  const root = tempDir('ll-jpeg-');
  writeSeries(join(root, 'ct'));
  writeSeries(join(root, 'mr'), '--modality', 'MR');
  writeSeries(join(root, 'multiframe'), '--multiframe');
  const cases: [string, string, string[]][] = [
    ['ct', 'ct-sv1', ['+e1']],
    ...[2, 3, 4, 5, 6, 7].map((sv): [string, string, string[]] => ['ct', `ct-sv${sv}`, ['+el', '+sv', String(sv)]]),
    ['mr', 'mr-sv1', ['+e1']],
    ['multiframe', 'multiframe-sv5', ['+el', '+sv', '5']],
    ['multiframe', 'multiframe-fragments', ['+e1', '+fs', '1']],
  ];
  for (const [from, to, flags] of cases) {
    compress(join(root, from), join(root, to), ...flags);
    const raw = await readNifti(join(root, from));
    const decoded = await readNifti(join(root, to));
    assert.deepEqual(decoded.dims, raw.dims, to);
    assert.equal(decoded.data.constructor, raw.data.constructor, to);
    let differ = 0;
    for (let i = 0; i < raw.data.length; i++) if (raw.data[i] !== decoded.data[i]) differ++;
    assert.equal(differ, 0, `${to}: ${differ} voxels differ`);
  }
  // The MR holds negative values: signed samples come back signed.
  assert.ok(Array.from((await readNifti(join(root, 'mr-sv1'))).data).some((v) => v < 0));

  // Refused: a truncated stream.
  const cut = join(root, 'cut');
  compress(join(root, 'ct'), cut, '+e1');
  const file = join(cut, 'IM0004.dcm');
  const bytes = readFileSync(file);
  // Drop 200 bytes of the compressed data before the end of the pixel data (the tail: EOI and the sequence delimiter).
  writeFileSync(file, Buffer.concat([bytes.subarray(0, bytes.length - 220), bytes.subarray(bytes.length - 20)]));
  const scan = await scanDicomFolder(cut);
  assert.deepEqual(scan.skipped.map((f) => f.file), ['IM0004.dcm'], 'the damaged file is named, the others read');
});

/** A JPEG Lossless stream of `samples` (width × height, `precision` bits) by T.81 H.1: one Huffman table of 5-bit codes, selection value `sv`, point transform `pt`, a restart every `restart` samples (0: none). */
function encodeLossless(samples: Uint16Array, width: number, height: number, precision: number, sv: number, pt: number, restart: number): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]): void => {
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  };
  segment(0xc3, [precision, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  const counts = new Array(16).fill(0);
  counts[4] = 17; // categories 0..16, each a 5-bit code equal to the category
  segment(0xc4, [0x00, ...counts, ...Array.from({ length: 17 }, (_, i) => i)]);
  if (restart > 0) segment(0xdd, [restart >> 8, restart & 0xff]);
  segment(0xda, [1, 1, 0x00, sv, 0, pt]);
  const { put, flush } = jpegBitWriter(out);
  const shifted = Uint16Array.from(samples, (v) => v >> pt);
  const mask = (1 << precision) - 1;
  let restartLine = 0;
  let marker = 0;
  for (let i = 0; i < shifted.length; i++) {
    const [x, y] = [i % width, Math.floor(i / width)];
    if (restart > 0 && i > 0 && i % restart === 0) {
      flush();
      out.push(0xff, 0xd0 + (marker++ % 8));
      restartLine = y;
    }
    const [a, b, c] = [shifted[i - 1], shifted[i - width], shifted[i - width - 1]];
    const prediction = y === restartLine && x === 0 ? 1 << (precision - pt - 1) : y === restartLine ? a : x === 0 ? b : [a, b, c, a + b - c, a + ((b - c) >> 1), b + ((a - c) >> 1), (a + b) >> 1][sv - 1];
    let d = (shifted[i] - prediction) & mask;
    if (d >= 32768) d -= 65536;
    const size = d === 0 ? 0 : d === -32768 ? 16 : Math.floor(Math.log2(Math.abs(d))) + 1;
    put(size, 5);
    if (size > 0 && size < 16) put(d > 0 ? d : d + (1 << size) - 1, size);
  }
  flush();
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

test('restart intervals, the point transform and 8- to 16-bit precision decode as T.81 H.1 says; damaged streams are refused', () => {
  const [width, height] = [13, 7];
  for (const [precision, pt, restart, sv] of [[16, 0, 26, 1], [12, 2, 13, 6], [8, 0, 39, 7], [16, 3, 0, 4], [10, 1, 91, 5]]) {
    const samples = Uint16Array.from({ length: width * height }, (_, i) => ((i * 2654435761) >>> (32 - precision)) & ~((1 << pt) - 1));
    const decoded = decodeJpegLossless(encodeLossless(samples, width, height, precision, sv, pt, restart), width * height, precision > 8 ? 2 : 1);
    const values = precision > 8 ? new Uint16Array(decoded.buffer) : decoded;
    assert.deepEqual(Array.from(values), Array.from(samples), `precision ${precision}, point transform ${pt}, restart ${restart}, predictor ${sv}`);
  }
  const good = encodeLossless(new Uint16Array(width * height).fill(1234), width, height, 16, 1, 0, 0);
  assert.throws(() => decodeJpegLossless(good.subarray(0, good.length - 12), width * height, 2), (e: unknown) => e instanceof JpegError && /end before the image does/.test(e.message));
  assert.throws(() => decodeJpegLossless(good, width * height + 1, 2), /is 13×7 of 16 bits, but the DICOM header asks for 92 samples/);
  assert.throws(() => decodeJpegLossless(good.subarray(2), width * height, 2), /does not start with an SOI marker/);
});
