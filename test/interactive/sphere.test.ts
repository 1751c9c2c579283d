import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fibonacciDirections, radiusInDirection, sphereRays } from '../../src/interactive/sphere';

test('sphere: Fibonacci directions are unit vectors spread over both hemispheres', () => {
  const d = fibonacciDirections(100);
  let zSum = 0;
  for (let n = 0; n < 100; n++) {
    assert.ok(Math.abs(Math.hypot(d[3 * n], d[3 * n + 1], d[3 * n + 2]) - 1) < 1e-9);
    zSum += d[3 * n + 2];
  }
  assert.ok(Math.abs(zSum) < 1e-9);
  assert.throws(() => fibonacciDirections(5), /count must be an integer ≥ 12/);
});

test('sphere: neighbours are close rays, and the radius lookup interpolates', () => {
  const rays = sphereRays(200);
  assert.equal(sphereRays(200), rays, 'cached');
  for (let n = 0; n < rays.count; n++) {
    for (let q = 0; q < rays.neighbourCount; q++) {
      const m = rays.neighbours[n * rays.neighbourCount + q];
      assert.notEqual(m, n);
      const dot = rays.directions[3 * n] * rays.directions[3 * m] + rays.directions[3 * n + 1] * rays.directions[3 * m + 1] + rays.directions[3 * n + 2] * rays.directions[3 * m + 2];
      assert.ok(dot > Math.cos((35 * Math.PI) / 180), `ray ${n}'s neighbour ${m} is ${Math.acos(dot)} rad away`);
    }
  }
  const constant = new Float64Array(rays.count).fill(7);
  for (const [x, y, z] of [[1, 0, 0], [0, -2, 0], [0.3, 0.3, -5], [-1, 1, 1]]) assert.ok(Math.abs(radiusInDirection(rays, constant, x, y, z) - 7) < 1e-5);
  // Radii growing with z: the lookup follows (up is larger than down).
  const byZ = Float64Array.from({ length: rays.count }, (_, n) => 10 + 5 * rays.directions[3 * n + 2]);
  assert.ok(radiusInDirection(rays, byZ, 0, 0, 1) > 14);
  assert.ok(radiusInDirection(rays, byZ, 0, 0, -1) < 6);
});
