// Window/level from the data (pure): percentiles and the MR auto window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autoWindow, percentiles } from '../../webview/windowing';

test('windowing: percentiles and the MR auto window ignore the zero background', () => {
  const data = new Float32Array(1000);
  for (let i = 500; i < 1000; i++) data[i] = i - 499;
  assert.deepEqual(percentiles(data, [0, 100]), [0, 500]);
  assert.deepEqual(percentiles(data, [0, 100], true), [1, 500]);
  const w = autoWindow(data);
  assert.ok(w.level > 200 && w.level < 300 && w.width > 450, JSON.stringify(w));
});
