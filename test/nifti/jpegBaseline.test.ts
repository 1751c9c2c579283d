// Lossy JPEG (src/nifti/jpegBaseline.ts: T.81 sequential DCT, Huffman coding, grey scale). The
// reference is dcmtk (Debian): crops of a CT slice (8 bits, 12 bits) and a 512×512 12-bit image
// compressed by dcmcjpeg (baseline and extended, several qualities, optimized and standard Huffman
// tables), and pydicom's 12-bit JPEG-lossy.dcm and JPGExtended.dcm, must decode to what dcmdjpeg
// decodes, within 1 per sample (libjpeg's integer inverse DCT gives exactly that). Restart
// intervals, sampling factors, 16-bit quantization tables, several tables in a segment, APPn, COM
// and fill bytes, which dcmcjpeg does not write, are checked on streams encoded here by the
// standard's rules (T.81 Annex F), against dcmdjpeg too. Refused: progressive, lossless,
// arithmetic-coded and hierarchical frames, colour, 16-bit samples, truncated and damaged streams.
// Whole DICOM series compressed by dcmcjpeg read as dcmdjpeg's decoding of them reads, and say they are lossy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti } from '../../src/nifti';
import { decodeJpegBaseline } from '../../src/nifti/jpegBaseline';
import { JpegError } from '../../src/nifti/jpegLossless';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { jpegBitWriter } from '../helpers/jpegBits';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from './nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);
const REFERENCE = join(__dirname, '..', 'helpers', 'jpeg_lossy_reference.py');
const hasDcmtk = spawnSync('dcmcjpeg', ['--version']).error === undefined;
const noDcmtk = hasDcmtk || process.env.CI === 'true' ? false : 'dcmtk (Debian) is not installed';

function reference(...args: string[]): void {
  const run = spawnSync(NIBABEL_PYTHON, [REFERENCE, ...args], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
}

/** Decoded samples (either sample size) as numbers. */
function values(bytes: Uint8Array, bytesPerSample: number): number[] {
  return bytesPerSample === 2 ? Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)) : Array.from(bytes);
}

/** How many samples differ from dcmdjpeg's decoding (`.ref` next to the `.jpg`), and by how much at most. */
function compare(decoded: number[], refFile: string): { differ: number; largest: number } {
  const ref = readFileSync(refFile);
  assert.equal(ref.length, 2 * decoded.length, refFile);
  let differ = 0;
  let largest = 0;
  for (let i = 0; i < decoded.length; i++) {
    const d = Math.abs(decoded[i] - ref.readUInt16LE(2 * i));
    if (d > 0) differ++;
    largest = Math.max(largest, d);
  }
  return { differ, largest };
}

const refusal = (pattern: RegExp) => (e: unknown) => e instanceof JpegError && pattern.test(e.message);

interface ReferenceCase {
  name: string;
  width: number;
  height: number;
  bits: number;
  reference: boolean;
}

test('dcmcjpeg\'s baseline and extended JPEG (8 and 12 bits) and pydicom\'s 12-bit files decode as dcmdjpeg decodes them', { skip: skip || noDcmtk }, (t) => {
  const dir = tempDir('jpeg-lossy-');
  reference('cases', sharedDataPath(...CT), dir);
  const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as ReferenceCase[];
  const stream = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, `${name}.jpg`)));
  for (const c of cases.filter((c) => c.reference)) {
    const data = stream(c.name);
    // 8-bit samples read into one byte and into two the same.
    for (const bytesPerSample of c.bits === 8 ? [1, 2] : [2]) {
      const { differ, largest } = compare(values(decodeJpegBaseline(data, c.width * c.height, bytesPerSample), bytesPerSample), join(dir, `${c.name}.ref`));
      t.diagnostic(`${c.name} (${c.width}×${c.height}, ${c.bits} bits, ${bytesPerSample} byte(s) a sample): ${differ} samples differ from dcmdjpeg's, by at most ${largest}`);
      assert.ok(largest <= 1, `${c.name}: a sample differs from dcmdjpeg's by ${largest}`);
    }
  }
  assert.equal(cases.filter((c) => c.reference).length, 10);

  // The time a 512×512 12-bit frame takes, after a first decoding (the JIT's).
  const big = stream('ct12-512-extended-q90');
  decodeJpegBaseline(big, 512 * 512, 2);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    decodeJpegBaseline(big, 512 * 512, 2);
    times.push(performance.now() - start);
  }
  t.diagnostic(`a 512×512 12-bit frame decodes in ${Math.min(...times).toFixed(1)} ms`);

  assert.throws(() => decodeJpegBaseline(stream('ct8-progressive'), 61 * 45, 1), refusal(/is progressive \(SOF2\); only sequential DCT frames with Huffman coding/));
  assert.throws(() => decodeJpegBaseline(stream('ct12-lossless'), 61 * 45, 2), refusal(/is lossless \(SOF3\)/));
  assert.throws(() => decodeJpegBaseline(stream('pydicom-SC_jpeg_no_color_transform'), 256 * 256, 1), refusal(/has 3 components \(colour\); grey-scale images \(1\) are read/));
  assert.throws(() => decodeJpegBaseline(stream('ct12-extended-q90'), 61 * 45, 1), refusal(/has 12-bit samples, but the DICOM header stores 8 bits per sample/));
  assert.throws(() => decodeJpegBaseline(stream('ct12-extended-q90'), 61 * 46, 2), refusal(/is 61×45 of 12 bits, but the DICOM header asks for 2806 samples/));
});

interface EncodeOptions {
  precision: 8 | 12;
  /** The frame's SOF marker: 0xC0 (baseline), 0xC1 (extended). */
  sof: number;
  /** The component's sampling factors, (H << 4) | V. */
  sampling: number;
  /** MCUs (blocks) in a restart interval; 0: none. */
  restart: number;
  /** 16-bit quantization values (Pq 1), several tables in the DQT and DHT segments, APPn and COM segments, and fill bytes (0xFF) before markers. */
  extras: boolean;
}

/** T.81 Table K.1, the example luminance quantization table, in zig-zag order. */
const QUANTIZATION = [
  16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80,
  109, 81, 87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
];
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
  58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
// Huffman tables: DC categories 0..15, each a 5-bit code; AC: end of block and the 7 commonest
// run/size pairs 4-bit codes, the other 218 (ZRL, runs 0..15 of sizes 1..14) 9-bit codes.
const DC_VALUES = Array.from({ length: 16 }, (_, i) => i);
const AC_SHORT = [0x00, 0x01, 0x02, 0x11, 0x03, 0x21, 0x12, 0x04];
const AC_VALUES = [...AC_SHORT, 0xf0, ...Array.from({ length: 16 * 14 }, (_, i) => (Math.floor(i / 14) << 4) | ((i % 14) + 1)).filter((v) => !AC_SHORT.includes(v))];

/** Canonical codes (T.81 C.2) of `values` with `counts[length − 1]` codes of each length. */
function codes(counts: number[], valueList: number[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < counts[length - 1]; i++) out.set(valueList[k++], [code++, length]);
    code <<= 1;
  }
  return out;
}
const DC_COUNTS = [0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_COUNTS = [0, 0, 0, 8, 0, 0, 0, 0, AC_VALUES.length - 8, 0, 0, 0, 0, 0, 0, 0];
const DC_CODES = codes(DC_COUNTS, DC_VALUES);
const AC_CODES = codes(AC_COUNTS, AC_VALUES);

/** A sequential DCT JPEG stream of `samples` (width × height, row by row) by T.81 Annex F: forward DCT in doubles, Table K.1 quantization, the tables above. */
function encodeSequential(samples: ArrayLike<number>, width: number, height: number, o: EncodeOptions): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]): void => {
    if (o.extras) out.push(0xff, 0xff); // fill bytes
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  };
  const text = (s: string): number[] => Array.from(Buffer.from(s));
  const scale = o.precision === 12 ? 2 : 1; // 8-bit values still
  const quantization = QUANTIZATION.map((q) => q * scale);
  if (o.extras) {
    segment(0xe0, [...text('JFIF'), 0, 1, 2, 0, 0, 1, 0, 1, 0, 0]);
    segment(0xfe, text('a comment'));
  }
  segment(o.sof, [o.precision, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 7, o.sampling, o.extras ? 2 : 0]);
  if (o.extras) {
    // Tables 0 (unused, 8-bit) and 2 (the one used, 16-bit values) in one segment.
    segment(0xdb, [0x00, ...new Array(64).fill(1), 0x12, ...quantization.flatMap((q) => [q >> 8, q & 0xff])]);
    // DC table 1, AC table 3 and an unused AC table 0 in one segment.
    segment(0xc4, [0x01, ...DC_COUNTS, ...DC_VALUES, 0x10, 0, 1, ...new Array(14).fill(0), 0x00, 0x13, ...AC_COUNTS, ...AC_VALUES]);
  } else {
    segment(0xdb, [0x00, ...quantization]);
    segment(0xc4, [0x00, ...DC_COUNTS, ...DC_VALUES]);
    segment(0xc4, [0x10, ...AC_COUNTS, ...AC_VALUES]);
  }
  if (o.restart > 0) segment(0xdd, [o.restart >> 8, o.restart & 0xff]);
  segment(0xda, [1, 7, o.extras ? 0x13 : 0x00, 0, 63, 0]);

  const { put, flush } = jpegBitWriter(out);
  const putCoded = (table: Map<number, [number, number]>, symbol: number): void => {
    const code = table.get(symbol);
    assert.ok(code, `no code for ${symbol.toString(16)}`);
    put(...code);
  };
  const category = (v: number): number => (v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1);
  const bits = (v: number, size: number): number => (v > 0 ? v : v + (1 << size) - 1);
  const center = 1 << (o.precision - 1);
  const [blocksWide, blocksHigh] = [Math.ceil(width / 8), Math.ceil(height / 8)];
  let predictor = 0;
  let marker = 0;
  for (let b = 0; b < blocksWide * blocksHigh; b++) {
    if (o.restart > 0 && b > 0 && b % o.restart === 0) {
      flush();
      if (o.extras) out.push(0xff);
      out.push(0xff, 0xd0 + (marker++ % 8));
      predictor = 0;
    }
    const [bx, by] = [(b % blocksWide) * 8, Math.floor(b / blocksWide) * 8];
    // Samples past the image's edges repeat its last column and row.
    const s = (x: number, y: number): number => samples[Math.min(height - 1, by + y) * width + Math.min(width - 1, bx + x)] - center;
    const quantized = new Array<number>(64);
    for (let k = 0; k < 64; k++) {
      const [v, u] = [ZIGZAG[k] >> 3, ZIGZAG[k] & 7];
      let sum = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) sum += s(x, y) * Math.cos(((2 * x + 1) * u * Math.PI) / 16) * Math.cos(((2 * y + 1) * v * Math.PI) / 16);
      const coefficient = (sum * (u === 0 ? Math.SQRT1_2 : 1) * (v === 0 ? Math.SQRT1_2 : 1)) / 4;
      quantized[k] = Math.round(coefficient / quantization[k]);
    }
    const difference = quantized[0] - predictor;
    predictor = quantized[0];
    putCoded(DC_CODES, category(difference));
    put(bits(difference, category(difference)), category(difference));
    let run = 0;
    for (let k = 1; k < 64; k++) {
      if (quantized[k] === 0) {
        run++;
        continue;
      }
      for (; run > 15; run -= 16) putCoded(AC_CODES, 0xf0);
      const size = category(quantized[k]);
      putCoded(AC_CODES, (run << 4) | size);
      put(bits(quantized[k], size), size);
      run = 0;
    }
    if (run > 0) putCoded(AC_CODES, 0x00);
  }
  flush();
  if (o.extras) out.push(0xff);
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

/** A `width` × `height` image of `precision` bits: waves, a bright disc and noise, clipped at both ends. */
function testImage(width: number, height: number, precision: number): number[] {
  const max = (1 << precision) - 1;
  return Array.from({ length: width * height }, (_, i) => {
    const [x, y] = [i % width, Math.floor(i / width)];
    const wave = 0.5 + 0.7 * Math.sin(x / 3) * Math.cos(y / 5);
    const disc = (x - 20) ** 2 + (y - 9) ** 2 < 40 ? 0.4 : 0;
    const noise = (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.2;
    return Math.round(Math.min(1, Math.max(0, wave + disc + noise)) * max);
  });
}

const [WIDTH, HEIGHT] = [37, 21]; // 5×3 blocks, the last column and row cropped
const VARIANTS: [string, EncodeOptions][] = [
  ['8-bit baseline', { precision: 8, sof: 0xc0, sampling: 0x11, restart: 0, extras: false }],
  ['8-bit, a restart every block', { precision: 8, sof: 0xc0, sampling: 0x11, restart: 1, extras: false }],
  ['8-bit, a restart every 5 blocks, sampling 2×2, extras', { precision: 8, sof: 0xc0, sampling: 0x22, restart: 5, extras: true }],
  ['8-bit extended', { precision: 8, sof: 0xc1, sampling: 0x11, restart: 0, extras: false }],
  ['12-bit extended', { precision: 12, sof: 0xc1, sampling: 0x11, restart: 0, extras: false }],
  ['12-bit, a restart every 7 blocks, sampling 1×2, extras', { precision: 12, sof: 0xc1, sampling: 0x12, restart: 7, extras: true }],
  ['12-bit, a restart every 4 blocks', { precision: 12, sof: 0xc1, sampling: 0x11, restart: 4, extras: false }],
];

test('restart intervals, sampling factors, 16-bit and shared tables, APPn, COM and fill bytes decode as dcmdjpeg decodes them, and as without them', { skip: noDcmtk }, (t) => {
  const dir = tempDir('jpeg-lossy-encoded-');
  const files = VARIANTS.map(([, o], i) => {
    const file = join(dir, `variant${i}.jpg`);
    writeFileSync(file, encodeSequential(testImage(WIDTH, HEIGHT, o.precision), WIDTH, HEIGHT, o));
    return file;
  });
  reference('decode', ...files);
  const plain = new Map<number, number[]>();
  VARIANTS.forEach(([label, o], i) => {
    const decoded = values(decodeJpegBaseline(new Uint8Array(readFileSync(files[i])), WIDTH * HEIGHT, 2), 2);
    const { differ, largest } = compare(decoded, files[i].replace(/\.jpg$/, '.ref'));
    t.diagnostic(`${label}: ${differ} samples differ from dcmdjpeg's, by at most ${largest}`);
    assert.ok(largest <= 1, `${label}: a sample differs from dcmdjpeg's by ${largest}`);
    // The same coefficients, so the same samples as the plain stream of that precision.
    if (!plain.has(o.precision)) plain.set(o.precision, decoded);
    else assert.deepEqual(decoded, plain.get(o.precision), label);
  });
  // The clamping is used: both ends of the range are reached.
  for (const [precision, decoded] of plain) assert.deepEqual([Math.min(...decoded), Math.max(...decoded)], [0, (1 << precision) - 1]);
});

test('streams this decoder does not read, truncated and damaged streams are refused, saying why', () => {
  const samples = WIDTH * HEIGHT;
  const image8 = testImage(WIDTH, HEIGHT, 8);
  const good = encodeSequential(image8, WIDTH, HEIGHT, VARIANTS[1][1]); // 8-bit, a restart every block
  const decoded = decodeJpegBaseline(good, samples, 1);
  // Lossy, but close: within a few grey values of the image on average.
  assert.ok(image8.reduce((sum, v, i) => sum + Math.abs(v - decoded[i]), 0) / samples < 8);
  assert.deepEqual(values(decodeJpegBaseline(good, samples, 2), 2), Array.from(decoded));

  const sofAt = good.findIndex((b, i) => b === 0xff && good[i + 1] === 0xc0);
  const sosAt = good.findIndex((b, i) => b === 0xff && good[i + 1] === 0xda);
  const patched = (at: number, ...bytes: number[]): Uint8Array => {
    const copy = good.slice();
    copy.set(bytes, at);
    return copy;
  };
  const refuses = (data: Uint8Array, pattern: RegExp, count = samples, bytesPerSample = 1): void => {
    assert.throws(() => decodeJpegBaseline(data, count, bytesPerSample), refusal(pattern));
  };
  refuses(good.subarray(2), /does not start with an SOI marker/);
  refuses(patched(sofAt + 1, 0xc2), /is progressive \(SOF2\)/);
  refuses(patched(sofAt + 1, 0xc3), /is lossless \(SOF3\)/);
  refuses(patched(sofAt + 1, 0xc5), /is hierarchical \(differential\) extended sequential \(SOF5\)/);
  refuses(patched(sofAt + 1, 0xc9), /is arithmetic-coded extended sequential \(SOF9\)/);
  refuses(patched(sofAt + 1, 0xca), /is arithmetic-coded progressive \(SOF10\)/);
  refuses(patched(sofAt + 9, 3), /has 3 components \(colour\)/);
  refuses(patched(sofAt + 4, 16), /has 16-bit samples; sequential DCT JPEG has 8 or 12/);
  refuses(good, /is 37×21 of 8 bits, but the DICOM header asks for 778 samples/, samples + 1);
  refuses(patched(sofAt + 12, 1), /uses a quantization table it does not define/);
  refuses(patched(sosAt + 6, 0x11), /uses a Huffman table the frame does not define/);
  refuses(patched(sosAt + 4, 2), /its JPEG scan has 2 components; 1 is read/);
  refuses(patched(sosAt + 5, 9), /its JPEG scan codes component 9, which the frame does not have/);
  const withoutScan = Uint8Array.from([...good.subarray(0, sosAt), 0xff, 0xd9, 0, 0]); // padded, as in a DICOM fragment
  refuses(withoutScan, /ends \(EOI\) before a scan/);
  refuses(good.subarray(0, sosAt), /ends before the scan/);

  // Truncated: cut inside the entropy-coded data (the last restart intervals missing), or only the EOI missing.
  const cut = good.subarray(0, good.length - 40);
  refuses(cut, /its JPEG data end before the image does \(truncated or damaged\)/);
  refuses(good.subarray(0, good.length - 2), /its JPEG data end without an EOI marker \(truncated\)/);
  // Damaged: the entropy-coded data of the first block replaced by 1-bits (all codes of the DC table are 5 bits, and 11111 is none).
  const scanData = sosAt + 2 + ((good[sosAt + 2] << 8) | good[sosAt + 3]);
  refuses(patched(scanData, 0xff, 0x00), /a Huffman code the table does not define \(damaged data\)/);
  // The 12-bit stream into one byte a sample.
  const twelve = encodeSequential(testImage(WIDTH, HEIGHT, 12), WIDTH, HEIGHT, VARIANTS[4][1]);
  refuses(twelve, /has 12-bit samples, but the DICOM header stores 8 bits per sample/);
  assert.equal(decodeJpegBaseline(twelve, samples, 2).length, 2 * samples);
});

test('lossy JPEG DICOM series (dcmcjpeg baseline and extended) read as dcmdjpeg decodes them, and say they are lossy', { skip: skip || noDcmtk }, async () => {
  const root = tempDir('ll-jpeg-series-');
  const series = (name: string, ...extra: string[]): string => {
    const dir = join(root, name);
    const run = spawnSync(NIBABEL_PYTHON, [join(__dirname, '..', 'helpers', 'write_dicom_series.py'), sharedDataPath(...CT), dir, '--crop', '67,131,77,125,25,35', ...extra], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return dir;
  };
  /** Each file of `from` through `tool` with `flags` into a new folder `to`. */
  const convert = (tool: string, from: string, to: string, ...flags: string[]): string => {
    mkdirSync(to);
    for (const name of readdirSync(from)) {
      const run = spawnSync(tool, [...flags, join(from, name), join(to, name)], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${tool} ${name}: ${run.stderr}`);
    }
    return to;
  };
  const ct = series('ct');
  const mr = series('mr', '--modality', 'MR');
  for (const [from, flag] of [[ct, '+eb'], [ct, '+ee'], [mr, '+ee']] as const) {
    const lossy = convert('dcmcjpeg', from, `${from}${flag}`, flag);
    const reference = await readNifti(convert('dcmdjpeg', lossy, `${lossy}-decoded`));
    const image = await readNifti(lossy);
    assert.deepEqual(image.dims, reference.dims);
    let differ = 0;
    for (let i = 0; i < image.data.length; i++) if (image.data[i] !== reference.data[i]) differ++;
    assert.equal(differ, 0, `${flag}: ${differ} voxels differ from dcmdjpeg's`);
    assert.match(image.dicom?.lossy ?? '', flag === '+eb' ? /^JPEG baseline, ratio up to \d/ : /^JPEG extended/);
  }
});
