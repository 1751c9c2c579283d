// FreeSurfer MGH volumes (src/nifti/mgh.ts). The reference is nibabel's MGH reader and writer: an
// oblique crop of a shared CT is written by nibabel as .mgz and .mgh (int16, uint8, int32, and a
// float32 series), together with a NIfTI of the same voxels on nibabel's affine of the MGH file;
// each must read as that NIfTI. Broken or unsupported files are refused with one sentence naming
// the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readNifti, NiftiReadError } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import { NIBABEL_PYTHON } from './nibabelReference';

const CT = ['lesion', 'sarcoma-ct-mr-pet', 'STS_001', 'CT', 'image.nii.gz'] as const;
const skip = skipWithoutSharedData(...CT);

/** nibabel writes NAME.mgz / NAME.mgh and NAME.ref.nii.gz (the MGH's voxels on nibabel's affine of it). */
function writeWithNibabel(dir: string): void {
  const code = `
import sys, os, nibabel as nib, numpy as np
img = nib.load(sys.argv[1]).slicer[20:84, 30:78, 5:15]
def rx(t): c, s = np.cos(t), np.sin(t); return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
def rz(t): c, s = np.cos(t), np.sin(t); return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
R = rz(-0.4) @ rx(0.25)
a = img.affine.copy(); a[:3, :3] = R @ a[:3, :3]; a[:3, 3] = R @ a[:3, 3]
d = np.asarray(img.dataobj)
volumes = {
  'int16.mgz': d.astype(np.int16),
  'int16.mgh': d.astype(np.int16),
  'uint8.mgz': np.clip(d + 1024, 0, 2550).astype(np.int32) // 10,
  'int32.mgz': (d.astype(np.int32) * 1000),
  'series.mgz': np.stack([d.astype(np.float32) * 0.5, d.astype(np.float32) + 0.25], axis=-1),
}
for name, v in volumes.items():
  if name.startswith('uint8'): v = v.astype(np.uint8)
  path = os.path.join(sys.argv[2], name)
  nib.save(nib.MGHImage(v, a), path)
  back = nib.load(path)
  nib.save(nib.Nifti1Image(np.asarray(back.dataobj), back.affine), path + '.ref.nii.gz')`;
  const run = spawnSync(NIBABEL_PYTHON, ['-c', code, sharedDataPath(...CT), dir], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
}

test('nibabel\'s .mgz and .mgh (oblique; int16, uint8, int32, a float series) read with nibabel\'s affine and values', { skip }, async () => {
  const dir = tempDir('ll-mgh-');
  writeWithNibabel(dir);
  const types: Record<string, string> = { 'int16.mgz': 'Int16Array', 'int16.mgh': 'Int16Array', 'uint8.mgz': 'Uint8Array', 'int32.mgz': 'Int32Array', 'series.mgz': 'Float32Array' };
  for (const name of Object.keys(types)) {
    const frames = name === 'series.mgz' ? [0, 1] : [0];
    for (const frame of frames) {
      const img = await readNifti(join(dir, name), { frame });
      const ref = await readNifti(join(dir, `${name}.ref.nii.gz`), { frame });
      assert.equal(img.data.constructor.name, types[name], name);
      assert.deepEqual(img.dims, ref.dims, name);
      assert.equal(img.frameCount, frames.length, name);
      // nibabel's affine is computed in float32 from the same fields: 1e-4 mm.
      for (let i = 0; i < 16; i++) assert.ok(Math.abs(img.affine[i] - ref.affine[i]) < 1e-4, `${name}: affine[${i}] ${img.affine[i]} vs ${ref.affine[i]}`);
      for (let i = 0; i < img.data.length; i++) if (img.data[i] !== ref.data[i]) assert.fail(`${name} frame ${frame}: voxel ${i} is ${img.data[i]}, not ${ref.data[i]}`);
    }
  }
  const { infoReport } = await import('../../src/cli/info');
  assert.equal(infoReport(await readNifti(join(dir, 'int16.mgz'))).format, 'FreeSurfer MGH, gzip (.mgz)');
  assert.equal(infoReport(await readNifti(join(dir, 'int16.mgh'))).format, 'FreeSurfer MGH');
});

/** An MGH header (big-endian) followed by `data`; `good` false leaves the geometry to FreeSurfer's default. */
function mghBytes(sizes: number[], type: number, data: Buffer, good = true, version = 1): Buffer {
  const h = Buffer.alloc(284);
  h.writeInt32BE(version, 0);
  sizes.forEach((n, i) => h.writeInt32BE(n, 4 + 4 * i));
  h.writeInt32BE(type, 20);
  h.writeInt16BE(good ? 1 : 0, 28);
  if (good) {
    [2, 2, 3].forEach((s, i) => h.writeFloatBE(s, 30 + 4 * i));
    [1, 0, 0, 0, 1, 0, 0, 0, 1].forEach((v, i) => h.writeFloatBE(v, 42 + 4 * i));
    [10, 20, 30].forEach((v, i) => h.writeFloatBE(v, 78 + 4 * i));
  }
  return Buffer.concat([h, data]);
}

test('an MGH without good RAS gets FreeSurfer\'s default geometry (coronal LIA, 1 mm, centred); tags after the data are ignored', async () => {
  const dir = tempDir('ll-mgh-');
  const data = Buffer.alloc(4 * 2 * 2);
  for (let i = 0; i < 16; i++) data[i] = i;
  writeFileSync(join(dir, 'default.mgh'), Buffer.concat([mghBytes([4, 2, 2, 1], 0, data, false), Buffer.from('tags: TR and more')]));
  const img = await readNifti(join(dir, 'default.mgh'));
  // Columns (-1,0,0), (0,0,-1), (0,1,0); voxel (2, 1, 1) at RAS 0.
  assert.deepEqual(Array.from(img.affine), [-1, 0, 0, 2, 0, 0, 1, -1, 0, -1, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(img.data), Array.from(data));
  writeFileSync(join(dir, 'good.mgz'), gzipSync(mghBytes([4, 2, 2, 1], 0, data)));
  const good = await readNifti(join(dir, 'good.mgz'));
  // Voxel sizes 2, 2, 3; the centre voxel (2, 1, 1) at RAS (10, 20, 30).
  assert.deepEqual(Array.from(good.affine), [2, 0, 0, 6, 0, 2, 0, 18, 0, 0, 3, 27, 0, 0, 0, 1]);
  assert.deepEqual(good.spacingMm, [2, 2, 3]);
});

test('unsupported or broken MGH files are refused with one sentence naming the file', async () => {
  const dir = tempDir('ll-mgh-');
  const full = mghBytes([4, 3, 2, 1], 4, Buffer.alloc(48));
  const cases: [string, Buffer, RegExp][] = [
    ['version.mgh', mghBytes([4, 3, 2, 1], 4, Buffer.alloc(48), true, 2), /version\.mgh: its version field is 2, not 1, so it is not an MGH volume/],
    ['type.mgh', mghBytes([4, 3, 2, 1], 2, Buffer.alloc(48)), /type\.mgh: its voxel type 2 is not read \(0 uchar, 1 int, 3 float and 4 short are\)/],
    ['short.mgh', full.subarray(0, full.length - 10), /short\.mgh: the data hold 38 bytes, but 4×3×2×1 int16 voxels need 48, so the file is truncated/],
    ['header.mgh', full.subarray(0, 100), /header\.mgh: it holds 100 bytes, fewer than the 284 of an MGH header/],
    ['cut.mgz', gzipSync(full).subarray(0, 40), /cut\.mgz: the gzip data ends early/],
    ['plain.mgz', Buffer.from('this is text, not an MGH volume'.padEnd(300, '.')), /plain\.mgz: its version field is \d+, not 1, so it is not an MGH volume \(or its gzip layer is missing\)/],
    ['zero.mgh', mghBytes([4, 0, 2, 1], 4, Buffer.alloc(48)), /zero\.mgh: its width, height, depth and frames \(4, 0, 2, 1\) are not all positive/],
  ];
  for (const [name, content] of cases) writeFileSync(join(dir, name), content);
  for (const [name, , pattern] of cases) {
    await assert.rejects(readNifti(join(dir, name)), (e: unknown) => {
      assert.ok(e instanceof NiftiReadError, `${name}: ${String(e)}`);
      assert.match(e.message, pattern, name);
      return true;
    });
  }
  writeFileSync(join(dir, 'one.mgh'), full);
  await assert.rejects(readNifti(join(dir, 'one.mgh'), { frame: 1 }), /one\.mgh: frame 1 does not exist \(it has 1 frame\)/);
});
