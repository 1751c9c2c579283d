// MetaImage volumes (src/nifti/metaImage.ts). The reference is ITK's own MetaImage reader and
// writer, through Debian's plastimatch: an oblique crop of a shared CT, written by nibabel as NIfTI,
// is converted to .mha and .mhd by plastimatch and must read back with nibabel's affine and values;
// files written here (zlib-compressed, big-endian, detached with skips, a 4-D series) must read as
// plastimatch reads them. Broken or unsupported files are refused with one sentence naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { readNifti, readNiftiHeader, writeMaskLike, NiftiReadError } from '../../src/nifti';
import { qformAffine } from '../../src/nifti/affine';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { metaImageHeaderFor } from '../helpers/metaImageFile';
import { NIBABEL_PYTHON } from './nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);

/** plastimatch (ITK) converts between MetaImage and NIfTI; in CI it must be there. */
function plastimatch(...args: string[]): void {
  const run = spawnSync('plastimatch', args, { encoding: 'utf8' });
  if (run.error && process.env.CI !== 'true') return;
  assert.equal(run.status, 0, `plastimatch ${args.join(' ')}: ${run.error?.message ?? ''}${run.stdout}${run.stderr}`);
}
const hasPlastimatch = spawnSync('plastimatch', ['--version']).status === 0;
const skipPlastimatch = skip || (hasPlastimatch || process.env.CI === 'true' ? false : 'plastimatch (Debian) is not installed');

/** Writes a 64 × 48 × 10 crop of the shared CT, turned 20° and 34° about two axes, as int16 NIfTI with nibabel. */
function writeObliqueCrop(path: string): void {
  const code = `
import sys, nibabel as nib, numpy as np
img = nib.load(sys.argv[1]).slicer[20:84, 30:78, 5:15]
def rx(t): c, s = np.cos(t), np.sin(t); return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
def rz(t): c, s = np.cos(t), np.sin(t); return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
R = rz(0.35) @ rx(0.6)
a = img.affine.copy(); a[:3, :3] = R @ a[:3, :3]; a[:3, 3] = R @ a[:3, 3] + [5, -7, 11]
out = nib.Nifti1Image(np.asarray(img.dataobj).astype(np.int16), a)
out.set_qform(a, 1); out.set_sform(a, 1)
nib.save(out, sys.argv[2])`;
  const run = spawnSync(NIBABEL_PYTHON, ['-c', code, sharedDataPath(...CT), path], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
}

function assertSameImage(actual: { affine: ArrayLike<number>; data: ArrayLike<number>; dims: number[] }, expected: typeof actual, what: string, tolerance = 1e-4): void {
  assert.deepEqual(actual.dims, expected.dims, what);
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(actual.affine[i] - expected.affine[i]) <= tolerance, `${what}: affine[${i}] ${actual.affine[i]} vs ${expected.affine[i]}`);
  assert.equal(actual.data.length, expected.data.length, what);
  for (let i = 0; i < actual.data.length; i++) if (actual.data[i] !== expected.data[i]) assert.fail(`${what}: voxel ${i} is ${actual.data[i]}, not ${expected.data[i]}`);
}

function int16Bytes(values: ArrayLike<number>, bigEndian = false): Buffer {
  const b = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    if (bigEndian) b.writeInt16BE(values[i], 2 * i);
    else b.writeInt16LE(values[i], 2 * i);
  }
  return b;
}

test('plastimatch\'s (ITK\'s) .mha and .mhd of an oblique CT read with nibabel\'s affine and values; a mask beside it is NIfTI on its grid', { skip: skipPlastimatch }, async () => {
  const dir = tempDir('ll-mha-');
  writeObliqueCrop(join(dir, 'oblique.nii.gz'));
  const nii = await readNifti(join(dir, 'oblique.nii.gz'));
  plastimatch('convert', '--input', join(dir, 'oblique.nii.gz'), '--output-img', join(dir, 'oblique.mha'));
  plastimatch('convert', '--input', join(dir, 'oblique.nii.gz'), '--output-img', join(dir, 'oblique.mhd'));
  assert.match(readFileSync(join(dir, 'oblique.mhd'), 'latin1'), /ElementDataFile = oblique\.raw/);
  for (const name of ['oblique.mha', 'oblique.mhd']) {
    const img = await readNifti(join(dir, name));
    assert.ok(img.data instanceof Int16Array, name);
    assertSameImage(img, nii, name);
    assert.deepEqual((await readNiftiHeader(join(dir, name))).dims, nii.dims);
  }
  const { infoReport } = await import('../../src/cli/info');
  assert.equal(infoReport(await readNifti(join(dir, 'oblique.mha'))).format, 'MetaImage');
  assert.equal(infoReport(await readNifti(join(dir, 'oblique.mhd'))).format, 'MetaImage, detached data (oblique.raw)');

  // A mask written for the .mha: NIfTI whose sform and qform are the image's affine.
  const img = await readNifti(join(dir, 'oblique.mha'));
  const labels = new Uint8Array(img.data.length);
  labels[1234] = 1;
  await writeMaskLike(img, labels, join(dir, 'oblique_seg.nii.gz'));
  const mask = await readNifti(join(dir, 'oblique_seg.nii.gz'));
  const q = qformAffine(mask.header);
  for (let i = 0; i < 12; i++) {
    assert.ok(Math.abs(mask.affine[i] - nii.affine[i]) < 1e-3, `mask sform[${i}]`);
    assert.ok(Math.abs(q[i] - nii.affine[i]) < 1e-3, `mask qform[${i}] ${q[i]} vs ${nii.affine[i]}`);
  }
});

test('MetaImage files written here (zlib, gzip, big-endian, detached with skips, synonyms) read as plastimatch reads them', { skip: skipPlastimatch }, async () => {
  const dir = tempDir('ll-mha-');
  writeObliqueCrop(join(dir, 'oblique.nii.gz'));
  const nii = await readNifti(join(dir, 'oblique.nii.gz'));
  const values = nii.data as Int16Array;
  const raw = int16Bytes(values);
  const zlib = deflateSync(raw);
  const files: [string, Buffer][] = [
    ['zlib.mha', Buffer.concat([Buffer.from(metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'BinaryDataByteOrderMSB = False', 'CompressedData = True', `CompressedDataSize = ${zlib.length}`, 'ElementType = MET_SHORT'])), zlib])],
    ['zlib-unsized.mha', Buffer.concat([Buffer.from(metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'CompressedData = True', 'ElementType = MET_SHORT'])), zlib])],
    ['big.mha', Buffer.concat([Buffer.from(metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'ElementByteOrderMSB = True', 'CompressedData = False', 'ElementType = MET_SHORT'])), int16Bytes(values, true)])],
  ];
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
  // Detached: compressed in a .zraw; raw after 100 bytes of another header (HeaderSize); raw found from the end (-1).
  writeFileSync(join(dir, 'z.mhd'), metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'CompressedData = True', 'ElementType = MET_SHORT'], 'z data.zraw'));
  writeFileSync(join(dir, 'z data.zraw'), zlib);
  writeFileSync(join(dir, 'skip.mhd'), metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'HeaderSize = 100', 'ElementType = MET_SHORT'], 'skip.raw'));
  writeFileSync(join(dir, 'skip.raw'), Buffer.concat([Buffer.alloc(100, 7), raw]));
  writeFileSync(join(dir, 'tail.mhd'), metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'HeaderSize = -1', 'ElementType = MET_SHORT'], 'tail.raw'));
  writeFileSync(join(dir, 'tail.raw'), Buffer.concat([Buffer.from('a header of another program\n'), raw]));
  for (const name of ['zlib.mha', 'zlib-unsized.mha', 'big.mha', 'z.mhd', 'skip.mhd', 'tail.mhd']) {
    const img = await readNifti(join(dir, name));
    assertSameImage(img, nii, name);
    // ITK reads the same file to the same voxels on the same grid (plastimatch's ITK 5.2 reads an
    // attached stream without CompressedDataSize as zeros, without a word; ITK writes the size).
    if (name === 'zlib-unsized.mha') continue;
    plastimatch('convert', '--input', join(dir, name), '--output-img', join(dir, `${name}.itk.nii.gz`));
    if (hasPlastimatch) assertSameImage(img, await readNifti(join(dir, `${name}.itk.nii.gz`)), `${name} vs ITK`);
  }
  // ITK's synonyms: Position for Offset, Orientation for TransformMatrix, ElementSize without ElementSpacing.
  const synonyms = metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'ElementType = MET_SHORT']).replace('Offset =', 'Position =').replace('TransformMatrix =', 'Orientation =').replace('ElementSpacing =', 'ElementSize =');
  writeFileSync(join(dir, 'synonyms.mha'), Buffer.concat([Buffer.from(synonyms), raw]));
  assertSameImage(await readNifti(join(dir, 'synonyms.mha')), nii, 'synonyms.mha');
  // A gzip stream where zlib is expected is read too (some writers gzip).
  writeFileSync(join(dir, 'gzip.mha'), Buffer.concat([Buffer.from(metaImageHeaderFor(nii.affine, nii.dims, ['BinaryData = True', 'CompressedData = True', 'ElementType = MET_SHORT'])), gzipSync(raw)]));
  assertSameImage(await readNifti(join(dir, 'gzip.mha')), nii, 'gzip.mha');
});

test('a 4-D MetaImage series gives the frame asked for; floats stay floats', async () => {
  const dir = tempDir('ll-mha-');
  const affine = [2, 0, 0, -10, 0, 2, 0, 20, 0, 0, 3, 30, 0, 0, 0, 1];
  const values = Float32Array.from({ length: 4 * 3 * 2 * 2 }, (_, i) => i + 0.5);
  writeFileSync(join(dir, 'series.mha'), Buffer.concat([Buffer.from(metaImageHeaderFor(affine, [4, 3, 2, 2], ['BinaryData = True', 'ElementType = MET_FLOAT'])), Buffer.from(values.buffer)]));
  const frame1 = await readNifti(join(dir, 'series.mha'), { frame: 1 });
  assert.deepEqual(frame1.shape, [4, 3, 2, 2]);
  assert.equal(frame1.frameCount, 2);
  assert.ok(frame1.data instanceof Float32Array);
  assert.deepEqual(Array.from(frame1.data), Array.from(values.subarray(24)));
  assert.deepEqual(Array.from(frame1.affine), affine);
  await assert.rejects(readNifti(join(dir, 'series.mha'), { frame: 2 }), /series\.mha: frame 2 does not exist \(it has 2 frames\)/);
});

test('a vector image (ElementNumberOfChannels 3, e.g. RGB) gives each component as a frame', async () => {
  const dir = tempDir('ll-mha-');
  const affine = [2, 0, 0, -10, 0, 2, 0, 20, 0, 0, 3, 30, 0, 0, 0, 1];
  const voxels = 4 * 3 * 2;
  const values = Uint8Array.from({ length: voxels * 3 }, (_, n) => Math.floor(n / 3) * 10 + (n % 3));
  writeFileSync(join(dir, 'rgb.mha'), Buffer.concat([Buffer.from(metaImageHeaderFor(affine, [4, 3, 2], ['BinaryData = True', 'ElementType = MET_UCHAR', 'ElementNumberOfChannels = 3'])), Buffer.from(values)]));
  for (let c = 0; c < 3; c++) {
    const image = await readNifti(join(dir, 'rgb.mha'), { frame: c });
    assert.deepEqual(image.shape, [4, 3, 2, 3]);
    assert.ok(image.data instanceof Uint8Array);
    assert.deepEqual(Array.from(image.data), Array.from({ length: voxels }, (_, v) => v * 10 + c), `component ${c}`);
    assert.deepEqual(Array.from(image.affine), affine);
  }
});

test('unsupported or broken MetaImage files are refused with one sentence naming the file', async () => {
  const dir = tempDir('ll-mha-');
  const affine = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const dims = [4, 3, 2];
  const ok = (fields: string[], data: Buffer = Buffer.alloc(48), file = 'LOCAL'): Buffer => Buffer.concat([Buffer.from(metaImageHeaderFor(affine, dims, ['BinaryData = True', ...fields], file)), data]);
  const cases: [string, Buffer | string, RegExp][] = [
    ['vector4d.mha', Buffer.concat([Buffer.from(metaImageHeaderFor(affine, [4, 3, 2, 2], ['BinaryData = True', 'ElementType = MET_SHORT', 'ElementNumberOfChannels = 3'])), Buffer.alloc(288)]), /vector4d\.mha: it is a 4-D series with 3 values per voxel; one of the two is read/],
    ['longlong.mha', ok(['ElementType = MET_LONG_LONG']), /longlong\.mha: ElementType MET_LONG_LONG is not read/],
    ['ascii.mha', Buffer.concat([Buffer.from(metaImageHeaderFor(affine, dims, ['BinaryData = False', 'ElementType = MET_SHORT'])), Buffer.from('0 0 0 0')]), /ascii\.mha: its voxels are stored as text/],
    ['flat.mha', Buffer.from('ObjectType = Image\nNDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\nElementDataFile = LOCAL\n'), /flat\.mha: it has 2 dimensions \(NDims\); Lesion Lab reads 3-D volumes and 4-D series/],
    ['list.mha', Buffer.from(metaImageHeaderFor(affine, dims, ['ElementType = MET_SHORT'], 'LIST')), /list\.mha: ElementDataFile = LIST names several files/],
    ['short.mha', ok(['ElementType = MET_SHORT'], Buffer.alloc(30)), /short\.mha: the data hold 30 bytes, but 4×3×2 int16 voxels need 48/],
    ['damaged.mha', ok(['ElementType = MET_SHORT', 'CompressedData = True'], Buffer.from('not compressed at all')), /damaged\.mha: the compressed data do not start like zlib data/],
    ['cut.mha', ok(['ElementType = MET_SHORT', 'CompressedData = True', 'CompressedDataSize = 500'], deflateSync(Buffer.alloc(48))), /cut\.mha: the compressed data hold \d+ bytes, fewer than the 500 of CompressedDataSize, so the file is truncated/],
    ['flatdir.mha', ok(['ElementType = MET_SHORT']).toString('latin1').replace(/TransformMatrix = .*/, 'TransformMatrix = 1 0 0 1 0 0 0 0 1'), /flatdir\.mha: its TransformMatrix and ElementSpacing .*degenerate/],
    ['nodata.mhd', Buffer.from(metaImageHeaderFor(affine, dims, ['ElementType = MET_SHORT'], 'missing.raw')), /missing\.raw: the file does not exist/],
    ['binary.mha', Buffer.from([0x00, 0x01, 0x02, 0xff, 0x0a, 0x41]), /binary\.mha: it has no "ElementDataFile = …" line ending a "Key = Value" header, so it is not a MetaImage file/],
    ['empty.mha', Buffer.alloc(0), /empty\.mha: the file is empty \(0 bytes\)/],
  ];
  for (const [name, content] of cases) writeFileSync(join(dir, name), content, typeof content === 'string' ? 'latin1' : undefined);
  for (const [name, , pattern] of cases) {
    await assert.rejects(readNifti(join(dir, name)), (e: unknown) => {
      assert.ok(e instanceof NiftiReadError, `${name}: ${String(e)}`);
      assert.match(e.message, pattern, name);
      assert.equal(e.message.split('\n').length, 1);
      return true;
    });
  }
  assert.ok(existsSync(join(dir, 'nodata.mhd')));
});
