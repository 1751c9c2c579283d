// Pure voxel algorithms of the label tools, in Node: brush (anisotropic), region growing,
// island removal, interpolation, paint rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { strokeVoxels } from '../../webview/tools/brush';
import { interpolatedVoxels, signedDistance } from '../../webview/tools/interpolate';
import { smallIslandVoxels } from '../../webview/tools/islands';
import { mayPaint, validatePaintRule, type PaintRule } from '../../webview/tools/paintRule';
import { growRegion } from '../../webview/tools/regionGrow';

const lin = (dims: readonly number[], i: number, j: number, k: number): number => i + dims[0] * (j + dims[1] * k);

test('brush disc: radius in mm true to anisotropic spacing', () => {
  const dims = [21, 21, 5] as const;
  const got = strokeVoxels({ dims, spacingMm: [0.5, 2, 3], radiusMm: 2, shape: 'disc', normalAxis: 2 }, [10, 10, 2], [10, 10, 2]);
  // ±4 voxels along i (0.5 mm), ±1 along j (2 mm), none along k.
  const inI = [...got].filter((idx) => Math.floor(idx / 21) % 21 === 10).map((idx) => idx % 21);
  assert.deepEqual(inI, [6, 7, 8, 9, 10, 11, 12, 13, 14]);
  const js = new Set([...got].map((idx) => Math.floor(idx / 21) % 21));
  assert.deepEqual([...js].sort((a, b) => a - b), [9, 10, 11]);
  assert.ok([...got].every((idx) => Math.floor(idx / (21 * 21)) === 2));
  // The exact count: voxels with (0.5 di)² + (2 dj)² ≤ 4.
  let n = 0;
  for (let di = -10; di <= 10; di++) for (let dj = -10; dj <= 10; dj++) if ((0.5 * di) ** 2 + (2 * dj) ** 2 <= 4) n++;
  assert.equal(got.length, n);
});

test('brush sphere and strokes: a capsule, clipped at the volume edge', () => {
  const dims = [10, 10, 10] as const;
  const sphere = strokeVoxels({ dims, spacingMm: [1, 1, 1], radiusMm: 1, shape: 'sphere', normalAxis: 0 }, [0, 0, 0], [0, 0, 0]);
  assert.deepEqual([...sphere], [lin(dims, 0, 0, 0), lin(dims, 1, 0, 0), lin(dims, 0, 1, 0), lin(dims, 0, 0, 1)]);
  const stroke = strokeVoxels({ dims, spacingMm: [1, 1, 1], radiusMm: 0.5, shape: 'disc', normalAxis: 2 }, [1, 1, 5], [8, 1, 5]);
  assert.deepEqual([...stroke], [1, 2, 3, 4, 5, 6, 7, 8].map((i) => lin(dims, i, 1, 5)));
  assert.throws(() => strokeVoxels({ dims, spacingMm: [1, 1, 1], radiusMm: -1, shape: 'disc', normalAxis: 2 }, [1, 1, 1], [1, 1, 1]), /radiusMm must be a positive number, got -1/);
  assert.throws(() => strokeVoxels({ dims, spacingMm: [1, 1, 1], radiusMm: 1, shape: 'disc', normalAxis: 2 }, [1, 1, 1], [1, 1, 2]), /one slice/);
});

test('region grow: 2-D fill stays in its slice, 3-D grows through slices, tolerance and accept apply', () => {
  const dims = [8, 8, 3] as const;
  const image = new Float32Array(8 * 8 * 3);
  // A bright 4×4×3 block with one darker voxel and a wall splitting x = 6..7 off.
  for (let k = 0; k < 3; k++) for (let j = 2; j < 6; j++) for (let i = 2; i < 8; i++) image[lin(dims, i, j, k)] = 100;
  for (let k = 0; k < 3; k++) for (let j = 0; j < 8; j++) image[lin(dims, 6, j, k)] = 0;
  image[lin(dims, 3, 3, 1)] = 90;
  const seed = lin(dims, 2, 2, 1);
  const fill2d = growRegion({ dims, seed, image, tolerance: 5, sliceAxis: 2 });
  assert.equal(fill2d.length, 4 * 4 - 1);
  assert.ok([...fill2d].every((idx) => Math.floor(idx / 64) === 1));
  const fill2dWide = growRegion({ dims, seed, image, tolerance: 10, sliceAxis: 2 });
  assert.equal(fill2dWide.length, 16);
  const grow3d = growRegion({ dims, seed, image, tolerance: 10, sliceAxis: null });
  assert.equal(grow3d.length, 48);
  const blocked = growRegion({ dims, seed, image, tolerance: 10, sliceAxis: null, accept: (idx) => Math.floor(idx / 64) !== 2 });
  assert.equal(blocked.length, 32);
  assert.equal(growRegion({ dims, seed, image, tolerance: 10, sliceAxis: null, accept: () => false }).length, 0);
  assert.throws(() => growRegion({ dims, seed: 999, image, tolerance: 1, sliceAxis: null }), /seed 999 is outside the volume of 192 voxels/);
});

test('islands: components smaller than N of each label value go; bigger ones and other labels stay', () => {
  const dims = [10, 10, 2] as const;
  const labels = new Uint8Array(200);
  for (let i = 0; i < 5; i++) labels[lin(dims, i, 0, 0)] = 1; // 5 voxels
  labels[lin(dims, 8, 8, 1)] = 1; // 1 voxel
  labels[lin(dims, 8, 8, 0)] = 1; // joins the one above (6-connected): 2 voxels
  labels[lin(dims, 0, 9, 0)] = 2; // 1 voxel of label 2
  labels[lin(dims, 5, 0, 0)] = 2; // touches label 1's run but is another value
  const all = smallIslandVoxels(labels, { dims, minVoxels: 3, label: null });
  assert.deepEqual([...all], [lin(dims, 5, 0, 0), lin(dims, 0, 9, 0), lin(dims, 8, 8, 0), lin(dims, 8, 8, 1)].sort((a, b) => a - b));
  const only1 = smallIslandVoxels(labels, { dims, minVoxels: 3, label: 1 });
  assert.deepEqual([...only1], [lin(dims, 8, 8, 0), lin(dims, 8, 8, 1)]);
  assert.equal(smallIslandVoxels(labels, { dims, minVoxels: 6, label: 1 }).length, 7);
  assert.throws(() => smallIslandVoxels(labels, { dims, minVoxels: 0, label: 1 }), /minVoxels must be a positive integer, got 0/);
});

test('signed distance is in mm and negative inside', () => {
  const mask = new Uint8Array(7 * 3);
  mask[3 + 7] = 1;
  const d = signedDistance(mask, 7, 3, 2, 1);
  // Inside: the nearest outside voxel is one voxel along b (1 mm), not along a (2 mm).
  assert.equal(d[3 + 7], -1);
  // Outside: three voxels along a at 2 mm each.
  assert.equal(d[0 + 7], 6);
  assert.ok(Math.abs(d[0] - Math.hypot(6, 1)) < 1e-12);
});

test('interpolation fills the gap between two drawn slices with a blended shape', () => {
  const dims = [20, 20, 9] as const;
  const labels = new Uint8Array(20 * 20 * 9);
  // Square of half-size 2 on slice 0, half-size 6 on slice 8 (same centre).
  for (let j = 8; j <= 12; j++) for (let i = 8; i <= 12; i++) labels[lin(dims, i, j, 0)] = 1;
  for (let j = 4; j <= 16; j++) for (let i = 4; i <= 16; i++) labels[lin(dims, i, j, 8)] = 1;
  const got = interpolatedVoxels(labels, { dims, spacingMm: [1, 1, 1], label: 1, axis: 2 });
  const perSlice = new Array(9).fill(0);
  for (const idx of got) perSlice[Math.floor(idx / 400)]++;
  assert.equal(perSlice[0], 0);
  assert.equal(perSlice[8], 0);
  // Areas grow monotonically from 25 to 169.
  for (let s = 1; s < 8; s++) {
    assert.ok(perSlice[s] >= 25 && perSlice[s] <= 169, `slice ${s}: ${perSlice[s]}`);
    if (s > 1) assert.ok(perSlice[s] >= perSlice[s - 1]);
  }
  // The middle slice is close to the square of half-size 4 (81 voxels).
  assert.ok(Math.abs(perSlice[4] - 81) <= 16, `middle slice area ${perSlice[4]}`);
  // Every interpolated voxel lies inside the bigger square.
  for (const idx of got) {
    const i = idx % 20;
    const j = Math.floor(idx / 20) % 20;
    assert.ok(i >= 4 && i <= 16 && j >= 4 && j <= 16);
  }
  // Along another axis there is nothing to interpolate for a contiguous block.
  assert.equal(interpolatedVoxels(labels, { dims, spacingMm: [1, 1, 1], label: 3, axis: 2 }).length, 0);
});

test('paint rule: overwrite policies, locks and the intensity range', () => {
  const base: PaintRule = { value: 2, overwrite: 'all', onlyLabel: 1, locked: new Set(), intensityRange: null, image: null };
  assert.ok(mayPaint(base, 0, 0));
  assert.ok(mayPaint(base, 0, 1));
  assert.ok(!mayPaint(base, 0, 2), 'already that value');
  assert.ok(!mayPaint({ ...base, overwrite: 'empty' }, 0, 1));
  assert.ok(mayPaint({ ...base, overwrite: 'empty' }, 0, 0));
  assert.ok(mayPaint({ ...base, overwrite: 'label' }, 0, 1));
  assert.ok(!mayPaint({ ...base, overwrite: 'label' }, 0, 3));
  assert.ok(!mayPaint({ ...base, locked: new Set([1]) }, 0, 1));
  const image = Float32Array.from([5, 50, 500]);
  const thr = { ...base, intensityRange: { min: 10, max: 100 }, image };
  assert.deepEqual([0, 1, 2].map((i) => mayPaint(thr, i, 0)), [false, true, false]);
  assert.throws(() => validatePaintRule({ ...base, intensityRange: { min: 3, max: 1 }, image }), /intensityRange.min \(3\) must not exceed max \(1\)/);
  assert.throws(() => validatePaintRule({ ...base, overwrite: 'some' as never }), /overwrite must be 'all', 'empty' or 'label', got some/);
});
