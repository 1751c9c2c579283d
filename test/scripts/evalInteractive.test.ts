// The robot user's objects: the whole mask, each component, or each label value of a multi-label
// mask (--labels: organs of a TotalSegmentator mask as objects never tuned on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectsOf, parse } from '../../scripts/eval-interactive';

const dims: [number, number, number] = [4, 3, 2];
const data = Uint8Array.from({ length: 24 }, (_, v) => (v < 3 ? 1 : v >= 20 ? 7 : 0));

test('eval-interactive objectsOf: --labels takes each label value as one object; otherwise the mask > 0 is one', () => {
  const byLabel = objectsOf({ data, dims }, false, 20, Infinity, [7, 1]);
  assert.deepEqual(byLabel.map((o) => o.name), ['label 7 (4 vx)', 'label 1 (3 vx)']);
  assert.deepEqual([...byLabel[0].reference].map((v, i) => (v ? i : -1)).filter((i) => i >= 0), [20, 21, 22, 23]);
  const whole = objectsOf({ data, dims }, false, 20, Infinity, null);
  assert.equal(whole.length, 1);
  assert.equal(whole[0].reference.reduce((a, b) => a + b, 0), 7);
});

test('eval-interactive parse: --labels needs positive whole values and excludes --per-lesion', () => {
  assert.deepEqual(parse(['--labels', '1,4', 'a.nii.gz:b.nii.gz']).labels, [1, 4]);
  assert.throws(() => parse(['--labels', '1,x', 'a.nii.gz:b.nii.gz']), /--labels takes positive whole label values separated by commas, got 1,x/);
  assert.throws(() => parse(['--labels', '1', '--per-lesion', 'a.nii.gz:b.nii.gz']), /--labels and --per-lesion exclude each other/);
});

test('eval-interactive parse: --cli replays the shipped method, so it refuses --box-first and --opt', () => {
  assert.equal(parse(['--cli', '2', '--box', '2d', 'a.nii.gz:b.nii.gz']).cli, 2);
  assert.throws(() => parse(['--cli', '2', '--box', '2d', '--box-first', 'a.nii.gz:b.nii.gz']), /--cli replays the shipped method: leave out --box-first and --opt/);
  assert.throws(() => parse(['--cli', '1', '--opt', 'regionReachMm=0', 'a.nii.gz:b.nii.gz']), /--cli replays the shipped method/);
});

test('eval-interactive parse: --lasso takes 3 or 2v or nothing (the first click\'s axial section); --box-first accepts lassos alone', () => {
  assert.equal(parse(['--lasso', 'a.nii.gz:b.nii.gz']).lasso, '1');
  assert.equal(parse(['--lasso', '3', 'a.nii.gz:b.nii.gz']).lasso, '3');
  assert.equal(parse(['--lasso', '2v', '--box-first', 'a.nii.gz:b.nii.gz']).lasso, '2v');
  assert.equal(parse(['a.nii.gz:b.nii.gz']).lasso, 'none');
  assert.throws(() => parse(['--box-first', 'a.nii.gz:b.nii.gz']), /--box-first needs --box 3d or 2d, --lasso or --scribble/);
});

test('eval-interactive parse: --scribble draws corrections as strokes; it sends every stroke, so not with --new-clicks-only', () => {
  assert.equal(parse(['--scribble', '--cli', '1', 'a.nii.gz:b.nii.gz']).scribble, true);
  assert.equal(parse(['a.nii.gz:b.nii.gz']).scribble, false);
  assert.equal(parse(['--negative-outline', 'a.nii.gz:b.nii.gz']).negativeOutline, true);
  assert.equal(parse(['--scribble', '--box-first', 'a.nii.gz:b.nii.gz']).boxFirst, true, 'a stroke alone first');
  assert.throws(() => parse(['--negative-outline', '--new-clicks-only', 'a.nii.gz:b.nii.gz']), /leave out --new-clicks-only/);
  assert.throws(() => parse(['--scribble', '--new-clicks-only', 'a.nii.gz:b.nii.gz']), /--scribble and --negative-outline send every stroke and outline so far; leave out --new-clicks-only/);
});
