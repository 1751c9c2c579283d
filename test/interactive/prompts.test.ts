import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePromptsJson, validatePrompts, PromptError } from '../../src/interactive';
import type { Vec3 } from '../../src/volume/vec3';

const DIMS: Vec3 = [10, 20, 5];

test('prompts: a valid file keeps points and boxes and drops nothing else', () => {
  const p = parsePromptsJson(
    JSON.stringify({ points: [{ voxel: [1, 2, 3], positive: true }, { voxel: [9, 19, 4], positive: false }], boxes: [{ min: [0, 0, 2], max: [5, 6, 2] }] }),
    DIMS,
  );
  assert.deepEqual(p.points, [{ voxel: [1, 2, 3], positive: true }, { voxel: [9, 19, 4], positive: false }]);
  assert.deepEqual(p.boxes, [{ min: [0, 0, 2], max: [5, 6, 2] }]);
});

test('prompts: a box alone is enough; boxes may be omitted', () => {
  assert.equal(validatePrompts({ boxes: [{ min: [0, 0, 0], max: [3, 3, 3] }] }, DIMS).points.length, 0);
  assert.equal(validatePrompts({ points: [{ voxel: [0, 0, 0], positive: true }] }, DIMS).boxes.length, 0);
});

test('prompts: a lasso, as {"points": [...]} or as its points alone, is enough on its own; in-plane it may be fractional', () => {
  const square = [[1, 1, 2], [6.5, 1, 2], [6.5, 7.25, 2], [1, 7.25, 2]];
  const a = parsePromptsJson(JSON.stringify({ lassos: [{ points: square }] }), DIMS);
  const b = parsePromptsJson(JSON.stringify({ lassos: [square] }), DIMS);
  assert.deepEqual(a, { points: [], boxes: [], lassos: [{ points: square }] });
  assert.deepEqual(b, a);
  // Without lassos the prompts have none (the field is left out).
  assert.equal(validatePrompts({ points: [{ voxel: [0, 0, 0], positive: true }] }, DIMS).lassos, undefined);
});

test('prompts: a box given as two corners, in either order, is the same box', () => {
  const expected = [{ min: [1, 2, 3], max: [5, 6, 3] }];
  assert.deepEqual(parsePromptsJson('{"boxes": [[[1, 2, 3], [5, 6, 3]]]}', DIMS).boxes, expected);
  assert.deepEqual(parsePromptsJson('{"boxes": [[[5, 2, 3], [1, 6, 3]]]}', DIMS).boxes, expected);
  assert.deepEqual(parsePromptsJson('{"boxes": [[5, 6, 3, 1, 2, 3]]}', DIMS).boxes, expected);
});

const BAD: [string, string, RegExp][] = [
  ['malformed JSON', '{"points": [', /is not valid JSON/],
  ['empty lists', '{"points": [], "boxes": []}', /no point, box, lasso or scribble/],
  ['only negative points', '{"points": [{"voxel": [1,1,1], "positive": false}]}', /no positive point/],
  ['outside the image', '{"points": [{"voxel": [10, 0, 0], "positive": true}]}', /points\[0\]\.voxel \[10, 0, 0\] lies outside the image \(indices 0\.\.9, 0\.\.19, 0\.\.4\)/],
  ['negative index', '{"points": [{"voxel": [0, -1, 0], "positive": true}]}', /lies outside the image/],
  ['fractional index', '{"points": [{"voxel": [0.5, 1, 0], "positive": true}]}', /points\[0\]\.voxel must be three integer voxel indices/],
  ['two indices', '{"points": [{"voxel": [0, 1], "positive": true}]}', /three integer voxel indices/],
  ['string flag', '{"points": [{"voxel": [0, 1, 1], "positive": "yes"}]}', /points\[0\]\.positive must be true or false, got "yes"/],
  ['points not a list', '{"points": {"voxel": [0, 1, 1]}}', /"points" must be a list/],
  ['top level list', '[1, 2]', /prompts must be an object/],
  ['unknown field', '{"points": [], "clicks": []}', /unknown field "clicks"/],
  ['box min above max', '{"boxes": [{"min": [5, 0, 0], "max": [4, 3, 3]}]}', /boxes\[0\] has min i 5 > max i 4/],
  ['box corner outside', '{"boxes": [{"min": [0, 0, 0], "max": [4, 3, 5]}]}', /boxes\[0\]\.max \[4, 3, 5\] lies outside/],
  ['box of corners outside', '{"boxes": [[0, 0, 0, 4, 3, 5]]}', /boxes\[0\]\[1\] \[4, 3, 5\] lies outside/],
  ['box of five numbers', '{"boxes": [[0, 0, 0, 4, 3]]}', /boxes\[0\] must be .* or two corners/],
  ['negative box', '{"boxes": [{"min": [0, 0, 0], "max": [4, 3, 3], "positive": false}]}', /boxes\[0\] is negative/],
  ['lasso of two points', '{"lassos": [{"points": [[1, 1, 2], [4, 4, 2]]}]}', /lassos\[0\] needs at least 3 points/],
  ['lasso across slices', '{"lassos": [[[1, 1, 1], [4, 1, 2], [4, 4, 3]]]}', /lassos\[0\] does not lie in one slice/],
  ['lasso off the slice grid', '{"lassos": [[[1, 1, 1.5], [4, 1, 1.5], [4, 4, 1.5]]]}', /lassos\[0\] does not lie in one slice/],
  ['lasso vertex outside', '{"lassos": [[[1, 1, 1], [9.6, 1, 1], [4, 4, 1]]]}', /lassos\[0\]\.points\[1\] \[9\.6, 1, 1\] lies outside the image/],
  ['lasso vertex not numbers', '{"lassos": [[[1, 1, 1], [2, "a", 1], [4, 4, 1]]]}', /lassos\[0\]\.points\[1\] must be three voxel coordinates/],
  ['negative lasso alone', '{"lassos": [{"points": [[1, 1, 1], [4, 1, 1], [4, 4, 1]], "positive": false}]}', /no positive point, box, lasso or scribble/],
  ['lasso of no sign', '{"lassos": [{"points": [[1, 1, 1], [4, 1, 1], [4, 4, 1]], "positive": "no"}]}', /lassos\[0\]\.positive must be true or false when given, got "no"/],
  ['lassos not a list', '{"lassos": {"points": []}}', /"lassos" must be a list/],
];
for (const [name, text, message] of BAD) {
  test(`prompts: ${name} is refused with a message naming the entry`, () => {
    assert.throws(() => parsePromptsJson(text, DIMS), (e: unknown) => e instanceof PromptError && message.test(e.message));
  });
}
