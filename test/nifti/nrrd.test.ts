// NRRD volumes (src/nifti/nrrd.ts): a shared CT written here as NRRD in LPS, attached raw and
// gzip, big-endian, detached with skips, and as a series, reads back with the NIfTI file's values
// and RAS affine; a mask written beside it is NIfTI on exactly its grid (sform and qform);
// unsupported or broken files are refused with one sentence naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readNifti, readNiftiHeader, writeMaskLike, NiftiReadError } from '../../src/nifti';
import { qformAffine } from '../../src/nifti/affine';
import { quaternionOf } from '../../src/nifti/syntheticHeader';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { nrrdBytesOf, nrrdHeaderFor } from '../helpers/nrrdFile';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);

test('a CT written as NRRD (LPS; raw, gzip, big-endian, detached with skips) reads back with the NIfTI values and RAS affine', { skip }, async () => {
  const nii = await readNifti(sharedDataPath(...CT));
  const dir = tempDir('ll-nrrd-');
  const values = Int16Array.from(nii.data as ArrayLike<number>);
  const sizes = [...nii.dims];
  const files: [string, Buffer][] = [
    ['raw.nrrd', Buffer.concat([Buffer.from(nrrdHeaderFor('short', sizes, nii.affine, ['endian: little', 'encoding: raw', 'space units: "mm" "mm" "mm"']) + '\n'), nrrdBytesOf(values)])],
    ['gz.nrrd', Buffer.concat([Buffer.from(nrrdHeaderFor('int16', sizes, nii.affine, ['endian: little', 'encoding: gzip']) + '\n'), gzipSync(nrrdBytesOf(values))])],
    ['big.nrrd', Buffer.concat([Buffer.from(nrrdHeaderFor('signed short', sizes, nii.affine, ['endian: big', 'encoding: raw']) + '\n'), nrrdBytesOf(values, true)])],
  ];
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
  // Detached (a data file whose name has a space): text before the data, found from the end (byte skip −1).
  writeFileSync(join(dir, 'detached.nhdr'), nrrdHeaderFor('short', sizes, nii.affine, ['endian: little', 'encoding: raw', 'data file: detached data.raw', 'byte skip: -1']));
  writeFileSync(join(dir, 'detached data.raw'), Buffer.concat([Buffer.from('line one\nline two\nxyz'), nrrdBytesOf(values)]));
  for (const name of ['raw.nrrd', 'gz.nrrd', 'big.nrrd', 'detached.nhdr']) {
    const img = await readNifti(join(dir, name));
    assert.deepEqual(img.dims, nii.dims, name);
    assert.ok(img.data instanceof Int16Array, name);
    assert.deepEqual(Buffer.from((img.data as Int16Array).buffer), Buffer.from(values.buffer), `${name}: the same voxels`);
    for (let i = 0; i < 16; i++) assert.ok(Math.abs(img.affine[i] - nii.affine[i]) < 1e-5, `${name}: affine[${i}] ${img.affine[i]} vs ${nii.affine[i]}`);
    assert.deepEqual(img.spacingMm.map((s) => +s.toFixed(5)), nii.spacingMm.map((s) => +s.toFixed(5)));
    const header = await readNiftiHeader(join(dir, name));
    assert.deepEqual(header.dims, nii.dims);
  }
  const { infoReport } = await import('../../src/cli/info');
  assert.equal(infoReport(await readNifti(join(dir, 'gz.nrrd'))).format, 'NRRD');
  assert.equal(infoReport(await readNifti(join(dir, 'detached.nhdr'))).format, 'NRRD, detached data (detached data.raw)');
  // A mask written beside it is NIfTI on its grid: sform and qform both give the affine.
  const img = await readNifti(join(dir, 'gz.nrrd'));
  const labels = new Uint8Array(values.length);
  labels[12345] = 1;
  await writeMaskLike(img, labels, join(dir, 'gz_seg.nii.gz'));
  const mask = await readNifti(join(dir, 'gz_seg.nii.gz'));
  assert.deepEqual(mask.dims, nii.dims);
  assert.equal(mask.header.sformCode, 1);
  assert.equal(mask.header.qformCode, 1);
  const q = qformAffine(mask.header);
  for (let i = 0; i < 12; i++) {
    assert.ok(Math.abs(mask.affine[i] - nii.affine[i]) < 1e-3, `mask sform[${i}]`);
    assert.ok(Math.abs(q[i] - nii.affine[i]) < 1e-3, `mask qform[${i}] ${q[i]} vs ${nii.affine[i]}`);
  }
  assert.equal(mask.data[12345], 1);
});

test('a series (last axis not spatial) gives the frame asked for; floats stay floats', async () => {
  const dir = tempDir('ll-nrrd-series-');
  const ras = [2, 0, 0, -10, 0, 3, 0, 5, 0, 0, 4, 7, 0, 0, 0, 1];
  const frames = Float32Array.from({ length: 2 * 3 * 4 * 3 }, (_, v) => v + 0.5);
  writeFileSync(join(dir, 's.nrrd'), Buffer.concat([Buffer.from(nrrdHeaderFor('float', [2, 3, 4, 3], ras, ['endian: little', 'encoding: raw', 'kinds: domain domain domain list']) + '\n'), nrrdBytesOf(frames)]));
  const f2 = await readNifti(join(dir, 's.nrrd'), { frame: 2 });
  assert.equal(f2.frameCount, 3);
  assert.ok(f2.data instanceof Float32Array);
  assert.deepEqual(Array.from(f2.data), Array.from(frames.subarray(48, 72)));
  assert.deepEqual(Array.from(f2.affine), ras);
  await assert.rejects(readNifti(join(dir, 's.nrrd'), { frame: 3 }), /s\.nrrd: frame 3 does not exist \(it has 3 frames\)/);
});

test('a vector volume (first axis not spatial, as Slicer writes DWI and RGB) gives each component as a frame', async () => {
  const dir = tempDir('ll-nrrd-vector-');
  const ras = [2, 0, 0, -10, 0, 3, 0, 5, 0, 0, 4, 7, 0, 0, 0, 1];
  // Three components per voxel, stored interleaved: voxel v's component c is v * 10 + c.
  const voxels = 2 * 3 * 4;
  const values = Int16Array.from({ length: voxels * 3 }, (_, n) => Math.floor(n / 3) * 10 + (n % 3));
  const header = nrrdHeaderFor('short', [3, 2, 3, 4], ras, ['endian: little', 'encoding: gzip', 'kinds: list domain domain domain']).replace(/space directions: (.*)none\n/, 'space directions: none $1\n');
  writeFileSync(join(dir, 'dwi.nrrd'), Buffer.concat([Buffer.from(header + '\n'), gzipSync(nrrdBytesOf(values))]));
  for (let c = 0; c < 3; c++) {
    const image = await readNifti(join(dir, 'dwi.nrrd'), { frame: c });
    assert.deepEqual(image.dims, [2, 3, 4]);
    assert.deepEqual(image.shape, [2, 3, 4, 3]);
    assert.equal(image.frameCount, 3);
    assert.deepEqual(Array.from(image.data), Array.from({ length: voxels }, (_, v) => v * 10 + c), `component ${c}`);
    assert.deepEqual(Array.from(image.affine), ras);
  }
});

test('quaternionOf gives the qform of rotated and left-handed grids; a sheared one has none', () => {
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  // Rotation about z, voxel sizes 0.8 / 1.2 / 3, and the same with the k axis flipped (qfac −1).
  for (const flip of [1, -1]) {
    const a = [0.8 * c, -1.2 * s, 0, 4, 0.8 * s, 1.2 * c, 0, -2, 0, 0, 3 * flip, 9, 0, 0, 0, 1];
    const q = quaternionOf(a, [0.8, 1.2, 3])!;
    assert.equal(q.qfac, flip);
    const back = qformAffine({ quaternB: q.b, quaternC: q.c, quaternD: q.d, qoffsetX: 4, qoffsetY: -2, qoffsetZ: 9, pixdim: [q.qfac, 0.8, 1.2, 3, 0, 0, 0, 0] } as never);
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(back[i] - a[i]) < 1e-9, `flip ${flip}, [${i}] ${back[i]} vs ${a[i]}`);
  }
  assert.equal(quaternionOf([1, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [1, Math.hypot(1, 0.5), 1]), null);
});

test('unsupported or broken NRRD files are refused with one sentence naming the file', async () => {
  const dir = tempDir('ll-nrrd-bad-');
  const ras = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const good = (extra: string[], type = 'uchar', sizes = [2, 2, 2]): string => nrrdHeaderFor(type, sizes, ras, extra) + '\n';
  const cases: [string, string | Buffer, RegExp][] = [
    ['magic.nrrd', 'P3\n2 2\n', /magic\.nrrd: it does not start with a NRRD magic line/],
    ['bzip.nrrd', good(['encoding: bzip2']), /bzip\.nrrd: encoding "bzip2" is not read \(raw and gzip are\)/],
    ['short.nrrd', Buffer.concat([Buffer.from(good(['encoding: raw'])), Buffer.alloc(7)]), /short\.nrrd: the data hold 7 bytes, but 2×2×2 uint8 voxels need 8/],
    ['long.nrrd', Buffer.concat([Buffer.from(good(['encoding: raw'])), Buffer.alloc(9)]), /the data hold 9 bytes/],
    ['type.nrrd', good(['encoding: raw'], 'block'), /type\.nrrd: type "block" is not read/],
    ['middle.nrrd', good(['encoding: raw']).replace(/space directions: (\S+) /, 'space directions: $1 none ').replace('dimension: 3', 'dimension: 4').replace('sizes: 2 2 2', 'sizes: 2 3 2 2'), /middle\.nrrd: its axes are not three spatial ones with a series or vector axis before or after them/],
    ['space.nrrd', good(['encoding: raw']).replace('left-posterior-superior', 'scanner-xyz'), /space\.nrrd: space "scanner-xyz" is not read \(RAS, LAS and LPS are\)/],
    ['units.nrrd', good(['encoding: raw', 'space units: "cm" "cm" "cm"']), /units\.nrrd: space units "cm" "cm" "cm" are not millimetres/],
    ['flat.nrrd', good(['encoding: raw']).replace('(-1,0,0)', '(0,0,0)'), /flat\.nrrd: .*voxel size of 0/],
    ['nodata.nhdr', nrrdHeaderFor('uchar', [2, 2, 2], ras, ['encoding: raw']), /nodata\.nhdr: a \.nhdr header must name its "data file"/],
    ['gone.nhdr', nrrdHeaderFor('uchar', [2, 2, 2], ras, ['encoding: raw', 'data file: gone.raw']), /gone\.raw: the file does not exist/],
    ['slices.nhdr', nrrdHeaderFor('uchar', [2, 2, 2], ras, ['encoding: raw', 'data file: slice%03d.raw 1 2 1']), /slices\.nhdr: "data file: slice%03d\.raw 1 2 1" names several files; one data file is read/],
  ];
  for (const [name, content] of cases) {
    writeFileSync(join(dir, name), content);
    await assert.rejects(readNifti(join(dir, name)), (e: unknown) => e instanceof NiftiReadError && new RegExp(cases.find((c) => c[0] === name)![2].source).test((e as Error).message), name);
  }
});
