// The host's copy of the webview's texture limits: decisions, messages, and that the numbers
// still match the webview's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  volumeDisplayProblem,
  WEBVIEW_HALF_FLOAT_ABOVE_BYTES,
  WEBVIEW_MAX_TEXTURE_BYTES,
} from '../../src/protocol/volumeLimits';

const repo = resolve(__dirname, '../..');

test('volumeDisplayProblem: sides above 2048 and textures above 1000 MiB are refused, naming the file', () => {
  assert.equal(volumeDisplayProblem('ok.nii.gz', [512, 512, 300], 'int16'), null);
  assert.equal(volumeDisplayProblem('edge.nii.gz', [2048, 16, 16], 'uint8'), null);
  assert.match(volumeDisplayProblem('long.nii.gz', [2049, 4, 4], 'uint8') ?? '', /^long\.nii\.gz is 2049×4×4 voxels.*at most 2048/);
  // 1024×1024×600 int16 = 1200 MiB.
  assert.match(volumeDisplayProblem('big.nii.gz', [1024, 1024, 600], 'int16') ?? '', /^big\.nii\.gz needs 1200 MiB .*limit is 1000 MiB/);
  // Float32 above 512 MiB goes as half floats: 1024×1024×200 float32 = 800 MiB → 400 MiB on the GPU.
  assert.equal(volumeDisplayProblem('f.nii.gz', [1024, 1024, 200], 'float32'), null);
  assert.match(volumeDisplayProblem('f.nii.gz', [1024, 1024, 600], 'float32') ?? '', /needs 1200 MiB/);
});

test('the limits are the webview’s own numbers', () => {
  const viewer = readFileSync(join(repo, 'webview/viewer.ts'), 'utf8');
  const textures = readFileSync(join(repo, 'webview/textures.ts'), 'utf8');
  const evalBytes = (src: string, name: string): number => {
    const m = new RegExp(`export const ${name} = ([0-9 *]+);`).exec(src);
    assert.ok(m, `${name} not found`);
    return m[1].split('*').reduce((p, f) => p * Number(f.trim()), 1);
  };
  assert.equal(evalBytes(viewer, 'MAX_TEXTURE_BYTES'), WEBVIEW_MAX_TEXTURE_BYTES);
  assert.equal(evalBytes(textures, 'HALF_FLOAT_ABOVE_BYTES'), WEBVIEW_HALF_FLOAT_ABOVE_BYTES);
});
