import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median } from '../../src/interactive/median';

test('median: equals the sorted middle (mean of the two middles for an even count) on random lists with ties', () => {
  let seed = 3;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(random() * 60);
    const values = Array.from({ length: n }, () => Math.floor(random() * 10) - 3);
    const s = [...values].sort((a, b) => a - b);
    const expected = n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
    assert.equal(median(values), expected, `values ${values.join(',')}`);
  }
  assert.equal(median(new Float32Array([5, 1, 3])), 3);
  assert.ok(Number.isNaN(median([])));
});
