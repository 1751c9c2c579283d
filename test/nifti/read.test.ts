// Unit tests of readNifti on small synthetic files: every datatype in both byte orders, scaling,
// the three orientation methods, NIfTI-2, pairs, extensions, frames, and the error messages.
// Also: every file in ../shared/data/odd/generated_corrupt is refused with one sentence.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNifti, readNiftiHeader, NiftiReadError } from '../../src/nifti';
import { buildNifti, bytesOf, gzip, type BuildOptions } from './buildNifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesion-lab-read-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes a built single file (gzipped when name ends in .gz) and returns its path. */
function writeSingle(name: string, options: BuildOptions): string {
  const { file } = buildNifti(options);
  const path = join(dir, `${counter++}_${name}`);
  writeFileSync(path, name.endsWith('.gz') ? gzip(file) : file);
  return path;
}

/** Writes a pair stem.hdr/stem.img (optionally .gz) and returns the .hdr path. */
function writePair(stem: string, options: BuildOptions, gz = false): string {
  const { header, data } = buildNifti({ ...options, layout: 'pair' });
  const base = join(dir, `${counter++}_${stem}`);
  const ext = gz ? '.gz' : '';
  writeFileSync(`${base}.hdr${ext}`, gz ? gzip(header) : header);
  writeFileSync(`${base}.img${ext}`, gz ? gzip(data) : data);
  return `${base}.hdr${ext}`;
}

async function refusal(path: string, pattern: RegExp, options?: { frame?: number }): Promise<void> {
  await assert.rejects(readNifti(path, options), (err: unknown) => {
    assert.ok(err instanceof NiftiReadError, String(err));
    const name = path.slice(path.lastIndexOf('/') + 1);
    assert.ok(err.message.startsWith(`${name}: `), err.message);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

const SRGB = [2, 0, 0, -10, 0, 3, 0, -20, 0, 0, 4, -30];
const base = { dim: [2, 3, 2], sformCode: 1, srow: SRGB, pixdim: [1, 2, 3, 4, 1, 1, 1, 1] };

describe('datatypes', () => {
  const integerCases: [string, number, number, ArrayBufferView & { BYTES_PER_ELEMENT: number; length: number }, string][] = [
    ['uint8', 2, 8, Uint8Array.from([0, 1, 2, 100, 200, 255, 7, 8, 9, 10, 11, 12]), 'Uint8Array'],
    ['int8', 256, 8, Int8Array.from([-128, -1, 0, 1, 127, 5, 6, 7, 8, 9, 10, 11]), 'Int8Array'],
    ['int16', 4, 16, Int16Array.from([-32768, -1024, 0, 1, 32767, 5, 6, 7, 8, 9, 10, 11]), 'Int16Array'],
    ['uint16', 512, 16, Uint16Array.from([0, 1, 65535, 1024, 5, 6, 7, 8, 9, 10, 11, 12]), 'Uint16Array'],
    ['int32', 8, 32, Int32Array.from([-(2 ** 31), -1, 0, 2 ** 31 - 1, 5, 6, 7, 8, 9, 10, 11, 12]), 'Int32Array'],
    ['uint32', 768, 32, Uint32Array.from([0, 2 ** 32 - 1, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), 'Uint32Array'],
    ['float32', 16, 32, Float32Array.from([-1.5, 0, 1e-30, 3.25, NaN, Infinity, 6, 7, 8, 9, 10, 11]), 'Float32Array'],
    ['float64', 64, 64, Float64Array.from([-1.5, 0, 1e-300, Math.PI, NaN, -Infinity, 6, 7, 8, 9, 10, 11]), 'Float64Array'],
  ];
  for (const [name, code, bitpix, values, ctor] of integerCases) {
    for (const littleEndian of [true, false]) {
      it(`${name} ${littleEndian ? 'little' : 'big'}-endian`, async () => {
        const path = writeSingle(`${name}.nii`, { ...base, datatype: code, bitpix, littleEndian, data: bytesOf(values, littleEndian) });
        const image = await readNifti(path);
        assert.equal(image.header.datatype, name);
        assert.equal(image.header.littleEndian, littleEndian);
        assert.equal(image.data.constructor.name, ctor);
        assert.deepEqual(Array.from(image.data), Array.from(values as unknown as ArrayLike<number>));
      });
    }
  }

  it('int64 and uint64 become Float64Array', async () => {
    const signed = BigInt64Array.from([-5n, 0n, 2n ** 40n, 7n, 8n, 9n, 10n, 11n, 12n, 13n, 14n, 15n]);
    const path = writeSingle('int64.nii', { ...base, datatype: 1024, bitpix: 64, littleEndian: false, data: bytesOf(signed, false) });
    const image = await readNifti(path);
    assert.ok(image.data instanceof Float64Array);
    assert.deepEqual(Array.from(image.data).slice(0, 3), [-5, 0, 2 ** 40]);
    const unsigned = BigUint64Array.from([2n ** 63n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n]);
    const path2 = writeSingle('uint64.nii', { ...base, datatype: 1280, bitpix: 64, data: bytesOf(unsigned) });
    assert.equal((await readNifti(path2)).data[0], 2 ** 63);
  });

  it('complex64 and complex128 give the magnitude', async () => {
    const parts = Float32Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? 3 : 4) * (i < 2 ? 1 : 0));
    for (const littleEndian of [true, false]) {
      const path = writeSingle('c64.nii', { ...base, datatype: 32, bitpix: 64, littleEndian, data: bytesOf(parts, littleEndian) });
      const image = await readNifti(path);
      assert.ok(image.data instanceof Float32Array);
      assert.equal(image.data[0], 5);
      assert.equal(image.data[1], 0);
    }
    const wide = Float64Array.from({ length: 24 }, (_, i) => (i === 0 ? -6 : i === 1 ? 8 : 0));
    const path = writeSingle('c128.nii.gz', { ...base, datatype: 1792, bitpix: 128, data: bytesOf(wide) });
    const image = await readNifti(path);
    assert.ok(image.data instanceof Float64Array);
    assert.equal(image.data[0], 10);
  });

  it('rgb24 and rgba32 keep the colours and give luminance', async () => {
    const rgb = Uint8Array.from({ length: 36 }, (_, i) => (i < 3 ? [255, 0, 0][i] : i));
    const image = await readNifti(writeSingle('rgb.nii', { ...base, datatype: 128, bitpix: 24, data: rgb }));
    assert.equal(image.rgb?.channels, 3);
    assert.deepEqual(Array.from(image.rgb!.bytes), Array.from(rgb));
    assert.equal(image.data[0], Math.round(0.299 * 255));
    const rgba = Uint8Array.from({ length: 48 }, (_, i) => i);
    const image4 = await readNifti(writeSingle('rgba.nii', { ...base, datatype: 2304, bitpix: 32, data: rgba }));
    assert.equal(image4.rgb?.channels, 4);
    assert.equal(image4.data[1], Math.round(0.299 * 4 + 0.587 * 5 + 0.114 * 6));
  });

  it('binary (1 bit per voxel, most significant bit first)', async () => {
    const bits = Uint8Array.from([0b10110000, 0b01000000]);
    const image = await readNifti(writeSingle('bin.nii', { ...base, datatype: 1, bitpix: 1, data: bits }));
    assert.deepEqual(Array.from(image.data), [1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it('float128 (x87 extended) and complex256', async () => {
    const ext = (value: number): Uint8Array => {
      // 80-bit extended: 64-bit mantissa with explicit integer bit, 15-bit exponent, sign.
      const out = new Uint8Array(16);
      if (value === 0) return out;
      const sign = value < 0 ? 0x8000 : 0;
      const e = Math.floor(Math.log2(Math.abs(value)));
      const mantissa = BigInt(Math.abs(value) / 2 ** e * 2 ** 52) << 11n;
      new DataView(out.buffer).setBigUint64(0, mantissa, true);
      new DataView(out.buffer).setUint16(8, sign | (e + 16383), true);
      return out;
    };
    const values = [1.5, -2, 0, 1024.25, 3, 4, 5, 6, 7, 8, 9, 10];
    const data = new Uint8Array(16 * 12);
    values.forEach((x, i) => data.set(ext(x), 16 * i));
    const image = await readNifti(writeSingle('f128.nii', { ...base, datatype: 1536, bitpix: 128, data }));
    assert.deepEqual(Array.from(image.data), values);
    const complex = new Uint8Array(32 * 12);
    complex.set(ext(3), 0);
    complex.set(ext(-4), 16);
    const c = await readNifti(writeSingle('c256.nii', { ...base, datatype: 2048, bitpix: 256, data: complex }));
    assert.equal(c.data[0], 5);
  });
});

describe('scaling', () => {
  const raw = bytesOf(Int16Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -10]));
  const header = { ...base, datatype: 4, bitpix: 16, data: raw };

  it('applies slope and intercept into a Float32Array', async () => {
    const image = await readNifti(writeSingle('s.nii', { ...header, sclSlope: 0.5, sclInter: -1024 }));
    assert.ok(image.data instanceof Float32Array);
    assert.deepEqual(Array.from(image.data).slice(0, 3), [-1024, -1023.5, -1023]);
    assert.equal(image.data[11], -1029);
  });

  for (const [label, slope, inter] of [
    ['slope 0', 0, 5],
    ['slope NaN', NaN, NaN],
    ['slope 1 intercept 0', 1, 0],
  ] as const) {
    it(`${label} means no scaling (raw integer type kept)`, async () => {
      const image = await readNifti(writeSingle('ns.nii', { ...header, sclSlope: slope, sclInter: inter }));
      assert.ok(image.data instanceof Int16Array);
      assert.equal(image.data[11], -10);
    });
  }

  it('float64 data stays Float64Array when scaled', async () => {
    const f = bytesOf(Float64Array.from({ length: 12 }, (_, i) => i));
    const image = await readNifti(writeSingle('f.nii', { ...base, datatype: 64, bitpix: 64, data: f, sclSlope: 2, sclInter: 1 }));
    assert.ok(image.data instanceof Float64Array);
    assert.equal(image.data[3], 7);
  });

  it('refuses a valid slope with an infinite intercept', async () => {
    await refusal(writeSingle('inf.nii', { ...header, sclSlope: 2, sclInter: Infinity }), /scl_slope is 2 but scl_inter is Infinity/);
  });
});

describe('orientation methods (bestAffine)', () => {
  const data = new Uint8Array(12);
  const common = { dim: [2, 3, 2], datatype: 2, bitpix: 8, data };

  it('sform when sform_code > 0, even when qform_code is larger', async () => {
    const image = await readNifti(
      writeSingle('sq.nii', {
        ...common,
        pixdim: [1, 7, 7, 7, 1, 1, 1, 1],
        sformCode: 1,
        srow: SRGB,
        qformCode: 2,
        quatern: [0, 0, 1],
        qoffset: [100, 100, 100],
      }),
    );
    assert.equal(image.affineSource, 'sform');
    assert.deepEqual(Array.from(image.affine), [...SRGB, 0, 0, 0, 1]);
  });

  it('qform when only qform_code > 0 (quaternion, qfac and offsets)', async () => {
    // b=c=0, d=1: 180° about z, so x and y flip; qfac -1 flips k.
    const image = await readNifti(
      writeSingle('q.nii', { ...common, pixdim: [-1, 2, 3, 4, 1, 1, 1, 1], qformCode: 1, quatern: [0, 0, 1], qoffset: [5, 6, 7] }),
    );
    assert.equal(image.affineSource, 'qform');
    const expected = [-2, 0, 0, 5, 0, -3, 0, 6, 0, 0, -4, 7, 0, 0, 0, 1];
    Array.from(image.affine).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `affine[${i}] ${v}`));
  });

  it('pixdim when neither code is set: nibabel base affine (x flipped, centred)', async () => {
    const image = await readNifti(writeSingle('p.nii', { ...common, dim: [3, 2, 5], pixdim: [1, 2, 3, 4, 1, 1, 1, 1], data: new Uint8Array(30) }));
    assert.equal(image.affineSource, 'pixdim');
    assert.deepEqual(Array.from(image.affine), [-2, 0, 0, 2, 0, 3, 0, -1.5, 0, 0, 4, -8, 0, 0, 0, 1]);
    assert.deepEqual(image.spacingMm, [2, 3, 4]);
  });

  it('Analyze 7.5 pair: SPM origin when set, else the centre', async () => {
    const hdr = writePair('analyze', { ...common, version: 'analyze', dim: [3, 5, 7], pixdim: [0, 3, 2, 1, 0, 0, 0, 0], data: new Uint8Array(105), analyzeOrigin: [3, 4, 5] });
    const image = await readNifti(hdr);
    assert.equal(image.header.format, 'analyze75');
    assert.deepEqual(Array.from(image.affine), [-3, 0, 0, 6, 0, 2, 0, -6, 0, 0, 1, -4, 0, 0, 0, 1]);
  });

  it('refuses a non-finite sform and a zero voxel size', async () => {
    await refusal(writeSingle('nan.nii', { ...common, sformCode: 1, srow: [1, 0, 0, 0, 0, NaN, 0, 0, 0, 0, 1, 0] }), /sform \(sform_code 1\) holds NaN in srow_y\[1\]/);
    await refusal(writeSingle('zero.nii', { ...common, qformCode: 1, pixdim: [1, 1, 0, 1, 1, 1, 1, 1] }), /voxel size of 0 along j/);
  });
});

describe('file layouts', () => {
  const values = Int16Array.from({ length: 24 }, (_, i) => i * 10 - 50);
  const common = { dim: [2, 3, 2, 2], datatype: 4, bitpix: 16, sformCode: 1, srow: SRGB };

  it('NIfTI-2 single file, both byte orders, plain and gzipped', async () => {
    for (const littleEndian of [true, false]) {
      for (const name of ['v2.nii', 'v2.nii.gz']) {
        const image = await readNifti(writeSingle(name, { ...common, version: 2, littleEndian, data: bytesOf(values, littleEndian) }));
        assert.equal(image.header.niftiVersion, 2);
        assert.deepEqual(image.shape, [2, 3, 2, 2]);
        assert.deepEqual(Array.from(image.affine), [...SRGB, 0, 0, 0, 1]);
        assert.deepEqual(Array.from(image.data), Array.from(values.subarray(0, 12)));
      }
    }
  });

  it('pairs: .hdr/.img, .hdr.gz/.img.gz, NIfTI-2 pairs, opened through either file', async () => {
    for (const [version, gz] of [[1, false], [1, true], [2, false], [2, true]] as const) {
      const hdr = writePair(`pair${version}`, { ...common, version, data: bytesOf(values) }, gz);
      for (const path of [hdr, hdr.replace('.hdr', '.img')]) {
        const image = await readNifti(path, { frame: 1 });
        assert.equal(image.filePath, hdr);
        assert.equal(image.header.format, 'nifti-pair');
        assert.deepEqual(Array.from(image.data), Array.from(values.subarray(12)));
      }
    }
  });

  it('refuses a pair whose image file is missing', async () => {
    const { header } = buildNifti({ ...common, layout: 'pair', data: bytesOf(values) });
    const path = join(dir, 'lonely.hdr');
    writeFileSync(path, header);
    await refusal(path, /this header belongs to a pair but its image file lonely\.img is missing/);
  });

  it('frames of a 4-D image, and a frame out of range', async () => {
    const path = writeSingle('4d.nii.gz', { ...common, data: bytesOf(values) });
    const image = await readNifti(path, { frame: 1 });
    assert.equal(image.frameCount, 2);
    assert.equal(image.frame, 1);
    assert.deepEqual(image.dims, [2, 3, 2]);
    assert.equal(image.data[0], 70);
    await refusal(path, /option frame is 2 but the image has 2 frames \(0 to 1\)/, { frame: 2 });
    await refusal(path, /option frame is -1 but must be a whole number of at least 0/, { frame: -1 });
  });

  it('extensions are read and vox_offset is honoured', async () => {
    const payload = new TextEncoder().encode('hello extension');
    const image = await readNifti(writeSingle('ext.nii', { ...common, extensions: [[6, payload]], data: bytesOf(values) }));
    assert.equal(image.header.extensions.length, 1);
    assert.equal(image.header.extensions[0].code, 6);
    assert.equal(new TextDecoder().decode(image.header.extensions[0].data).replace(/\0+$/, ''), 'hello extension');
    assert.equal(image.header.voxOffset, 352 + 32);
    const padded = await readNifti(writeSingle('pad.nii', { ...common, voxOffset: 1000, data: bytesOf(values) }));
    assert.deepEqual(Array.from(padded.data), Array.from(values.subarray(0, 12)));
  });

  it('multi-member gzip is read in full', async () => {
    const { file } = buildNifti({ ...common, data: bytesOf(values) });
    const path = join(dir, 'multi.nii.gz');
    const half = 360;
    const first = gzip(file.subarray(0, half));
    const second = gzip(file.subarray(half));
    const both = new Uint8Array(first.length + second.length);
    both.set(first);
    both.set(second, first.length);
    writeFileSync(path, both);
    const image = await readNifti(path, { frame: 1 });
    assert.deepEqual(Array.from(image.data), Array.from(values.subarray(12)));
  });

  it('large uncompressed 4-D files: each frame read from disk, both byte orders, unaligned offset', async () => {
    // 40x40x10 float32 = 64 000 bytes a frame, 4 frames: well past the 64 KiB header prefix.
    const frameVoxels = 40 * 40 * 10;
    const all = Float32Array.from({ length: frameVoxels * 4 }, (_, i) => i * 0.5 - 7);
    for (const littleEndian of [true, false]) {
      for (const voxOffset of [352, 355]) {
        const path = writeSingle('big4d.nii', {
          dim: [40, 40, 10, 4],
          datatype: 16,
          bitpix: 32,
          sformCode: 1,
          srow: SRGB,
          littleEndian,
          voxOffset,
          data: bytesOf(all, littleEndian),
        });
        for (const frame of [0, 3]) {
          const image = await readNifti(path, { frame });
          assert.ok(image.data instanceof Float32Array);
          assert.equal(image.data.length, frameVoxels);
          assert.equal(image.data[0], all[frame * frameVoxels]);
          assert.equal(image.data[frameVoxels - 1], all[(frame + 1) * frameVoxels - 1]);
        }
        const gz = writeSingle('big4d.nii.gz', { dim: [40, 40, 10, 4], datatype: 16, bitpix: 32, littleEndian, voxOffset, data: bytesOf(all, littleEndian) });
        assert.equal((await readNifti(gz, { frame: 2 })).data[5], all[2 * frameVoxels + 5]);
      }
    }
  });

  it('readNiftiHeader gives geometry without reading the data', async () => {
    const path = writeSingle('h.nii.gz', { ...common, data: bytesOf(values) });
    const info = await readNiftiHeader(path);
    assert.deepEqual(info.shape, [2, 3, 2, 2]);
    assert.equal(info.frameCount, 2);
    assert.deepEqual(Array.from(info.affine), [...SRGB, 0, 0, 0, 1]);
  });
});

describe('header errors name the file and the problem', () => {
  const ok = { dim: [2, 2, 2], datatype: 4, bitpix: 16, sformCode: 1, srow: SRGB, data: new Uint8Array(16) };
  const cases: [string, Partial<BuildOptions>, RegExp][] = [
    ['dim0', { dim: [] }, /dim\[0\] \(the number of dimensions\) is 0 but must be 1 to 7/],
    ['dimzero', { dim: [2, 0, 2] }, /dim\[2\] is 0 but every size must be at least 1/],
    ['dtype', { datatype: 3 }, /datatype code 3 is not a NIfTI datatype/],
    ['bitpix', { bitpix: 8 }, /bitpix is 8 but datatype int16 needs 16/],
    ['voxoff', { voxOffset: 200 }, /vox_offset is 200, inside the header; a single-file NIfTI-1 needs at least 352/],
    ['short', { dim: [2, 2, 3] }, /image data is 16 bytes but the header needs 24/],
    ['cifti', { intentCode: 3006 }, /this is a CIFTI file \(intent code 3006\)/],
  ];
  for (const [name, change, pattern] of cases) {
    it(name, async () => {
      await refusal(writeSingle(`${name}.nii`, { ...ok, ...change } as BuildOptions), pattern);
    });
  }

  it('missing file, folder, empty file, bad options', async () => {
    await refusal(join(dir, 'nope.nii'), /^nope\.nii: the file does not exist$/);
    await refusal(dir, /this is a folder, not a file/);
    const empty = join(dir, 'empty.nii');
    writeFileSync(empty, new Uint8Array(0));
    await refusal(empty, /the file is empty \(0 bytes\)/);
    await refusal(writeSingle('fr.nii', ok), /option frame is 1\.5 but must be a whole number/, { frame: 1.5 });
  });
});

// Every file in ../shared/data/odd/generated_corrupt is refused with one sentence that names the
// file and says what is wrong (the expected wording is checked, not just that it throws).
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
