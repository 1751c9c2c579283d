// Reorientation to the closest canonical frame that keeps every voxel at its world position
// (src/volume/orientation.ts; the axis-code maths is tested in test/protocol/orientation.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aff2axcodes } from '../../src/protocol/orientation';
import { fromWorldAxisOrder, reorientToCanonical, toWorldAxisOrder, worldAxisGrid } from '../../src/volume/orientation';

function affineFrom(m3: number[], offset: number[] = [0, 0, 0]): Float64Array {
  return Float64Array.from([m3[0], m3[1], m3[2], offset[0], m3[3], m3[4], m3[5], offset[1], m3[6], m3[7], m3[8], offset[2], 0, 0, 0, 1]);
}

describe('reorientToCanonical', () => {
  const dims: [number, number, number] = [4, 3, 2];
  const data = Int16Array.from({ length: 24 }, (_, i) => i);

  function world(affine: ArrayLike<number>, i: number, j: number, k: number): number[] {
    return [0, 1, 2].map((r) => affine[r * 4] * i + affine[r * 4 + 1] * j + affine[r * 4 + 2] * k + affine[r * 4 + 3]);
  }

  const orientations: [string, number[]][] = [
    ['LPS', [-1, 0, 0, 0, -2, 0, 0, 0, 3]],
    ['SAL', [0, 0, -1, 0, 2, 0, 3, 0, 0]],
    ['IRP', [0, 1, 0, 0, 0, -2, -3, 0, 0]],
    ['RAS', [1, 0, 0, 0, 2, 0, 0, 0, 3]],
  ];
  for (const [code, m] of orientations) {
    it(`${code}: every voxel keeps its world position and value`, () => {
      const affine = affineFrom(m, [10, -20, 30]);
      assert.equal(aff2axcodes(affine), code);
      const norms = [0, 1, 2].map((c) => Math.hypot(m[c], m[3 + c], m[6 + c])) as [number, number, number];
      const out = reorientToCanonical({ data, dims, affine, spacingMm: norms });
      assert.equal(aff2axcodes(out.affine), 'RAS');
      assert.ok(out.data instanceof Int16Array);
      const worldToValue = new Map<string, number>();
      for (let k = 0; k < dims[2]; k++)
        for (let j = 0; j < dims[1]; j++)
          for (let i = 0; i < dims[0]; i++) worldToValue.set(world(affine, i, j, k).join(','), data[i + 4 * j + 12 * k]);
      const [nx, ny, nz] = out.dims;
      assert.equal(nx * ny * nz, 24);
      for (let k = 0; k < nz; k++)
        for (let j = 0; j < ny; j++)
          for (let i = 0; i < nx; i++) {
            const key = world(out.affine, i, j, k).join(',');
            assert.equal(out.data[i + nx * j + nx * ny * k], worldToValue.get(key), `voxel ${i},${j},${k}`);
          }
      // Spacing follows the axes: the new affine's diagonal is positive and equals the spacing.
      assert.deepEqual([out.affine[0], out.affine[5], out.affine[10]], out.spacingMm);
    });
  }

  it('moves RGB colours with their voxels', () => {
    const rgb = { channels: 3 as const, bytes: Uint8Array.from({ length: 72 }, (_, i) => i) };
    const out = reorientToCanonical({ data: Uint8Array.from(data), dims, affine: affineFrom([-1, 0, 0, 0, 1, 0, 0, 0, 1]), spacingMm: [1, 1, 1], rgb });
    // Voxel 0 of the output is input voxel (3, 0, 0).
    assert.deepEqual(Array.from(out.rgb!.bytes.subarray(0, 3)), [9, 10, 11]);
    assert.equal(out.data[0], 3);
  });

  it('refuses data of the wrong length', () => {
    assert.throws(
      () => reorientToCanonical({ data: new Uint8Array(5), dims, affine: affineFrom([1, 0, 0, 0, 1, 0, 0, 0, 1]), spacingMm: [1, 1, 1] }),
      /the data has 5 voxels but dims 4x3x2 need 24/,
    );
  });
});

describe('toWorldAxisOrder / fromWorldAxisOrder (axes reordered, directions kept: what networks see)', () => {
  const dims: [number, number, number] = [4, 3, 2];
  const data = Float32Array.from({ length: 24 }, (_, i) => i * 1.5);
  const world = (a: ArrayLike<number>, i: number, j: number, k: number): string =>
    [0, 1, 2].map((r) => a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3]).join(',');

  it('leaves axes already in x, y, z order alone, whatever their directions', () => {
    for (const m of [[-1, 0, 0, 0, -2, 0, 0, 0, 3], [1, 0, 0, 0, 2, 0, 0, 0, 3], [1, 0, 0, 0, -1, 0, 0, 0, -1]]) {
      assert.equal(toWorldAxisOrder({ data, dims, affine: affineFrom(m), spacingMm: [1, 2, 3] }), null);
    }
  });

  for (const [code, m, ordered] of [
    ['SAL', [0, 0, -1, 0, 2, 0, 3, 0, 0], 'LAS'],
    ['IRP', [0, 1, 0, 0, 0, -2, -3, 0, 0], 'RPI'],
  ] as [string, number[], string][]) {
    it(`${code} → ${ordered}: each voxel keeps its world position and value, and comes back`, () => {
      const affine = affineFrom(m, [10, -20, 30]);
      const spacingMm = [0, 1, 2].map((c) => Math.hypot(m[c], m[3 + c], m[6 + c])) as [number, number, number];
      const out = toWorldAxisOrder({ data, dims, affine, spacingMm })!;
      assert.equal(aff2axcodes(out.affine), ordered);
      const byWorld = new Map<string, number>();
      for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 4; i++) byWorld.set(world(affine, i, j, k), data[i + 4 * j + 12 * k]);
      const [nx, ny, nz] = out.dims;
      for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) assert.equal(out.data[i + nx * j + nx * ny * k], byWorld.get(world(out.affine, i, j, k)));
      assert.ok(out.data instanceof Float32Array);
      assert.deepEqual(fromWorldAxisOrder(out.data, dims, out.orientation), data);
      assert.throws(() => fromWorldAxisOrder(new Float32Array(5), dims, out.orientation), /the data has 5 voxels but dims 4x3x2 need 24/);
      assert.deepEqual(worldAxisGrid({ dims, spacingMm, affine }), { dims: out.dims, spacingMm: out.spacingMm });
    });
  }
});
