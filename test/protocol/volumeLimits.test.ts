// The webview's texture limits as the host checks them before posting a volume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { volumeDisplayProblem } from '../../src/protocol/volumeLimits';

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
