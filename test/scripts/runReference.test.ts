// The PyTorch reference's output names each case by its image's folder (MR_T1 for every sarcoma
// case): its figures are matched to the test cases by order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReferenceOutput } from '../../scripts/run-reference';

test('parseReferenceOutput: Dice lines in test order, whatever their names; steps; a short output is an error', () => {
  const out = 'MR_T1 Dice 0.410\nMR_T1 Dice 0.507\nmean Dice 0.459 over 2 cases after 63 steps in 1379 s\n';
  const r = parseReferenceOutput(out, ['STS_031', 'STS_032']);
  assert.deepEqual([...r.dice], [['STS_031', 0.41], ['STS_032', 0.507]]);
  assert.equal(r.steps, 63);
  assert.throws(() => parseReferenceOutput(out, ['STS_031', 'STS_032', 'STS_033']), /2 Dice lines for 3 cases/);
  assert.throws(() => parseReferenceOutput('MR_T1 Dice 0.4\n', ['STS_031']), /unexpected output/);
});
