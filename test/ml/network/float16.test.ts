// Half-precision encoding of stored weights: exact values, rounding (to nearest, ties to even),
// subnormals, range, and the relative error bound on random weights.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { float16Bits, float16Value, fromFloat16, toFloat16, FLOAT16_MAX } from '../../../src/ml/network/float16';

describe('float16', () => {
  it('encodes exactly representable values exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [FLOAT16_MAX, 0x7bff],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [-(2 ** -24) * 3, 0x8003],
    ];
    for (const [v, bits] of cases) {
      assert.equal(float16Bits(v), bits, `bits of ${v}`);
      assert.equal(float16Value(bits), v, `value of 0x${bits.toString(16)}`);
    }
  });

  it('rounds to nearest, ties to even, in normals and subnormals', () => {
    const ulp1 = 2 ** -10;
    assert.equal(float16Value(float16Bits(1 + ulp1 / 2)), 1); // tie: to the even 1.0
    assert.equal(float16Value(float16Bits(1 + (3 * ulp1) / 2)), 1 + 2 * ulp1); // tie: to the even 1 + 2 ulp
    assert.equal(float16Value(float16Bits(1 + ulp1 * 0.51)), 1 + ulp1);
    assert.equal(float16Value(float16Bits(2 ** -25)), 0); // half the smallest subnormal: tie to 0
    assert.equal(float16Value(float16Bits(2 ** -25 * 1.01)), 2 ** -24);
    assert.equal(float16Value(float16Bits(2 ** -24 * 1.5)), 2 ** -23); // tie between 1 and 2 units: to 2
    assert.equal(float16Value(float16Bits(2 ** -14 - 2 ** -26)), 2 ** -14); // rounds up out of the subnormals
    assert.equal(float16Value(float16Bits(65520)), Infinity); // past the largest finite half
  });

  it('decodes every half back to a value that encodes to the same bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = float16Value(bits);
      if (Number.isNaN(v)) continue;
      assert.equal(float16Bits(v), bits === 0x8000 ? 0x8000 : bits, `0x${bits.toString(16)}`);
    }
  });

  it('keeps weights within half a unit in the last place (relative 2^-11) and refuses what it cannot hold', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const values = Float32Array.from({ length: 10_000 }, () => random() * 3);
    const back = fromFloat16(toFloat16(values));
    for (let i = 0; i < values.length; i++) {
      const bound = Math.max(Math.abs(values[i]) * 2 ** -11, 2 ** -25);
      assert.ok(Math.abs(back[i] - values[i]) <= bound, `${values[i]} → ${back[i]}`);
    }
    assert.throws(() => toFloat16(Float32Array.of(1, 70_000)), /value 1 is 70000: half precision holds finite values up to ±65504/);
    assert.throws(() => toFloat16(Float32Array.of(Number.NaN)), /value 0 is NaN/);
  });
});
