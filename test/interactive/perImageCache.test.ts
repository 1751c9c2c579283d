import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerImageCache } from '../../src/interactive/perImageCache';

test('PerImageCache: computes once per image and key, keeps the latest `limit` per image, images apart', () => {
  const cache = new PerImageCache<number>(2);
  const a = new Float32Array(1);
  const b = new Float32Array(1);
  let computed = 0;
  const value = (image: object, key: string, v: number): number =>
    cache.get(image, key, () => {
      computed++;
      return v;
    });
  assert.equal(value(a, 'x', 1), 1);
  assert.equal(value(a, 'x', 99), 1, 'kept: not computed again');
  assert.equal(value(b, 'x', 2), 2, 'another image has its own entries');
  assert.equal(computed, 2);
  value(a, 'y', 3);
  value(a, 'z', 4);
  assert.equal(value(a, 'x', 5), 5, 'the oldest of three was dropped');
  assert.equal(value(a, 'z', 99), 4, 'the latest is kept');
  assert.equal(computed, 5);
});
