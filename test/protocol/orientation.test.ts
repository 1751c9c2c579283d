// Orientation maths of src/protocol/orientation.ts: axis codes as nibabel's aff2axcodes,
// io_orientation, and obliquity.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aff2axcodes, ioOrientation, obliquityDeg, OrientationError } from '../../src/protocol/orientation';

function affineFrom(m3: number[], offset: number[] = [0, 0, 0]): Float64Array {
  return Float64Array.from([m3[0], m3[1], m3[2], offset[0], m3[3], m3[4], m3[5], offset[1], m3[6], m3[7], m3[8], offset[2], 0, 0, 0, 1]);
}

function rotationX(deg: number): number[] {
  const r = (deg * Math.PI) / 180;
  return [1, 0, 0, 0, Math.cos(r), -Math.sin(r), 0, Math.sin(r), Math.cos(r)];
}

function times(a: number[], b: number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return out;
}

describe('aff2axcodes', () => {
  const cases: [number[], string][] = [
    [[1, 0, 0, 0, 1, 0, 0, 0, 1], 'RAS'],
    [[-1, 0, 0, 0, -1, 0, 0, 0, 1], 'LPS'],
    [[-0.98, 0, 0, 0, 0.98, 0, 0, 0, 3.27], 'LAS'],
    [[0, 0, 2, -1, 0, 0, 0, -3, 0], 'PIR'],
    [[0, 0, -1, 0, 1, 0, 1, 0, 0], 'SAL'],
    [[0, 1, 0, 0, 0, -1, -1, 0, 0], 'IRP'],
  ];
  for (const [m, code] of cases) {
    it(`${JSON.stringify(m)} → ${code}`, () => {
      assert.equal(aff2axcodes(affineFrom(m)), code);
    });
  }

  it('ignores shear and scaling, and handles strong obliquity as nibabel does', () => {
    assert.equal(aff2axcodes(affineFrom(times(rotationX(30), [2, 0, 0, 0, 3, 0, 0, 0, 4]))), 'RAS');
    assert.equal(aff2axcodes(affineFrom(times(rotationX(60), [1, 0, 0, 0, 1, 0, 0, 0, 1]))), 'RSP');
    assert.equal(aff2axcodes(affineFrom([1, 0.3, 0, 0, 1, 0, 0, 0, 1])), 'RAS');
  });

  it('io_orientation gives world axis and direction per voxel axis', () => {
    assert.deepEqual(ioOrientation(affineFrom([0, 0, -1, 0, 1, 0, 1, 0, 0])), [
      { worldAxis: 2, flip: 1 },
      { worldAxis: 1, flip: 1 },
      { worldAxis: 0, flip: -1 },
    ]);
  });

  it('refuses degenerate or malformed affines', () => {
    assert.throws(() => aff2axcodes(affineFrom([1, 0, 0, 1, 0, 0, 0, 0, 1])), OrientationError);
    assert.throws(() => aff2axcodes(new Float64Array(9)), /an affine must have 16 numbers/);
    assert.throws(() => aff2axcodes(affineFrom([NaN, 0, 0, 0, 1, 0, 0, 0, 1])), /non-finite number \(NaN\) at index 0/);
  });
});

describe('obliquityDeg', () => {
  it('is 0 for axis-aligned grids (any permutation or flip) and the tilt otherwise', () => {
    assert.equal(obliquityDeg(affineFrom([0, 0, -2, 3, 0, 0, 0, 1, 0])), 0);
    assert.ok(Math.abs(obliquityDeg(affineFrom(times(rotationX(20), [1, 0, 0, 0, 1, 0, 0, 0, 3]))) - 20) < 1e-9);
  });
});
