import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLabelMask, labelMaskProblem, LabelMaskError, MAX_MASK_LABELS, MAX_MASK_LABEL_VALUE } from '../../src/volume/labelMask';

const RULE = `a label mask holds at most ${MAX_MASK_LABELS} distinct whole numbers from 0 to ${MAX_MASK_LABEL_VALUE.toLocaleString('en-US')}`;

test('checkLabelMask accepts integer label maps and returns their labels', () => {
  assert.deepEqual(checkLabelMask(new Uint8Array([0, 0, 1, 1, 0]), 'm.nii.gz'), [0, 1]);
  assert.deepEqual(checkLabelMask(Float32Array.from([0, 3, 3, 2, 0]), 'm.nii.gz'), [0, 2, 3]);
  assert.deepEqual(checkLabelMask(Uint16Array.from([0, 65535, 1000]), 'm.nii.gz'), [0, 1000, 65535]);
  assert.deepEqual(checkLabelMask(new Int16Array(10), 'empty.nii.gz'), [0]);
  const many = new Uint16Array(MAX_MASK_LABELS);
  for (let i = 0; i < many.length; i++) many[i] = i * 3;
  assert.equal(checkLabelMask(many, 'atlas.nii.gz').length, MAX_MASK_LABELS);
  assert.equal(labelMaskProblem(new Uint8Array(256).map((_, i) => i), 'u8.nii.gz'), null);
});

test('checkLabelMask refuses an image given as a mask, naming the file, the count and offending values', () => {
  // A CT: air at -1000 HU, a smooth field of fractional values, 2,731 distinct values in all.
  const ct = new Float32Array(5000);
  ct.fill(-1000, 0, 1000);
  for (let i = 1000; i < ct.length; i++) ct[i] = ((i - 1000) % 2730) * 0.5;
  assert.throws(() => checkLabelMask(ct, 'ct.nii.gz'), (e: unknown) => {
    assert.ok(e instanceof LabelMaskError);
    assert.equal(e.message, `ct.nii.gz is not a label mask: it has 2,731 distinct values including -1000 and 0.5; ${RULE}`);
    return true;
  });
  assert.equal(
    labelMaskProblem(Int32Array.from({ length: 300 }, (_, i) => i), 'many.nii.gz'),
    `many.nii.gz is not a label mask: it has 300 distinct values (0 to 299); ${RULE}`,
  );
  assert.equal(labelMaskProblem(Float32Array.from([0, 1, 70000]), 'big.nii.gz'), `big.nii.gz is not a label mask: it has 3 distinct values including 70000; ${RULE}`);
  assert.equal(labelMaskProblem(Float32Array.from([0, NaN, 1]), 'nan.nii.gz'), `nan.nii.gz is not a label mask: it has 3 distinct values including NaN; ${RULE}`);
  assert.equal(labelMaskProblem(Int16Array.from([0, -1, 1]), 'neg.nii.gz'), `neg.nii.gz is not a label mask: it has 3 distinct values including -1; ${RULE}`);
  // A noisy float image: counting stops at 100,000 distinct values.
  const noise = Float32Array.from({ length: 200_000 }, (_, i) => i + 0.25);
  assert.match(labelMaskProblem(noise, 'noise.nii.gz')!, /^noise\.nii\.gz is not a label mask: it has more than 100,000 distinct values including 0\.25 and 199999\.25;/);
});
