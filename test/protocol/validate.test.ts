import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDelta } from '../../src/protocol/labelDelta';
import { deltaToWire } from '../../src/protocol/labelDeltaWire';
import { parseWebviewMessage, ProtocolError, validateLabelTable } from '../../src/protocol/validate';
import { assertNever, labelArrayOf, voxelArrayOf, type WebviewToHostMessage } from '../../src/protocol/messages';

const ctx = { voxelCount: 8, frameCount: 3, dims: [2, 2, 2] as [number, number, number] };

test('valid messages of every type are accepted', () => {
  const delta = deltaToWire(encodeDelta(new Uint8Array(8), new Uint8Array([0, 1, 1, 0, 0, 0, 0, 0])));
  const msgs: WebviewToHostMessage[] = [
    { type: 'ready', protocolVersion: 1 },
    { type: 'edit', label: 'Brush', delta },
    { type: 'requestFrame', frame: 2 },
    { type: 'setLabelTable', label: 'Rename label', labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }] },
    { type: 'requestResync' },
    { type: 'runCommand', command: 'lesionLab.segmentLesion' },
    { type: 'log', level: 'info', message: 'hello' },
    { type: 'error', message: 'WebGL2 unavailable', stack: null },
    { type: 'rendered', what: 'first', ms: 412.5 },
    {
      type: 'prompt',
      objectId: 3,
      points: [{ voxel: [1, 0, 1], positive: true }, { voxel: [0, 1, 1], positive: false }],
      boxes: [{ min: [0, 0, 1], max: [1, 1, 1] }],
      // A negative outline (what is not the object on its slice) keeps positive: false.
      lassos: [{ points: [[0, 0, 1], [1, 0, 1], [1, 1, 1]] }, { points: [[0, 0, 0], [0, 1, 0], [0, 1, 1]], positive: false }],
      // A scribble may cross slices, and one vertex is a scribble.
      scribbles: [{ points: [[0, 0, 0], [1, 0, 0], [1, 1, 1]], positive: true }, { points: [[1, 1, 0]], positive: false }],
      target: { labelValue: 2, overwrite: 'empty', overwriteLabel: 1 },
    },
    { type: 'acceptPrompt', target: { labelValue: 300, overwrite: 'label', overwriteLabel: 1 } },
  ];
  for (const m of msgs) {
    const v = parseWebviewMessage(structuredClone(m), ctx);
    assert.equal(v.type, m.type);
    // Exhaustiveness is checked at compile time by this switch.
    switch (m.type) {
      case 'ready': case 'edit': case 'requestFrame': case 'setLabelTable': case 'requestResync':
      case 'runCommand': case 'log': case 'error': case 'rendered':
        break;
      case 'prompt': case 'acceptPrompt':
        assert.deepEqual(v, m);
        break;
      default:
        assertNever(m);
    }
  }
  // positive: true is the default and is dropped, so a positive outline reads as older webviews send it.
  const lassoPoints = [[0, 0, 0], [1, 0, 0], [1, 1, 0]];
  const target = { labelValue: 1, overwrite: 'all', overwriteLabel: 0 };
  const explicit = parseWebviewMessage({ type: 'prompt', objectId: 0, points: [], boxes: [], lassos: [{ points: lassoPoints, positive: true }], target }, ctx);
  assert.ok(explicit.type === 'prompt');
  assert.deepEqual(explicit.lassos, [{ points: lassoPoints }]);
  const e = parseWebviewMessage({ type: 'edit', label: 'Brush', delta }, ctx);
  assert.ok(e.type === 'edit' && [...e.decoded.runs].join() === '1,2');
});

test('invalid messages are refused with the type and field named', () => {
  const cases: [unknown, RegExp][] = [
    [null, /expected an object, got null/],
    [{ nope: 1 }, /missing string field "type"/],
    [{ type: 'explode' }, /unknown type "explode"/],
    [{ type: 'requestFrame', frame: 3 }, /'requestFrame': frame must be an integer in \[0, 2\], got 3/],
    [{ type: 'requestFrame', frame: 1.5 }, /frame must be an integer/],
    [{ type: 'edit', label: 'Brush', delta: { runs: new ArrayBuffer(8), before: new ArrayBuffer(1), after: new ArrayBuffer(1), bits: 8 } }, /'edit' \(Brush\): label delta: runs cover 0 voxels|length 0/],
    [{ type: 'edit', label: 'Brush', delta: deltaToWire({ runs: new Uint32Array([7, 2]), before: new Uint8Array(2), after: new Uint8Array([1, 1]) }) }, /beyond the volume's 8 voxels/],
    [{ type: 'edit', label: 5, delta: {} }, /'edit': label must be a string/],
    [{ type: 'runCommand', command: 'workbench.action.quit' }, /unknown command "workbench.action.quit"/],
    [{ type: 'log', level: 'loud', message: 'x' }, /level must be debug, info, warn or error/],
    [{ type: 'rendered', what: 'first', ms: NaN }, /ms must be a finite number/],
    [{ type: 'prompt', objectId: 0, points: [{ voxel: [2, 0, 0], positive: true }], boxes: [], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /points\[0\]\.voxel \[2, 0, 0\] lies outside the image \(2×2×2 voxels\)/],
    [{ type: 'prompt', objectId: 0, points: [{ voxel: [0, 0, 0], positive: 'yes' }], boxes: [], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /points\[0\] must be \{voxel: \[i, j, k\], positive: boolean\}/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [{ min: [0, 0, 0], max: [1, 1, 1] }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /boxes\[0\] spans slices along i, j and k; a box is drawn on one slice/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [{ min: [1, 0, 0], max: [0, 1, 0] }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /boxes\[0\] has min i 1 > max i 0/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], target: { labelValue: 0, overwrite: 'all', overwriteLabel: 0 } }, /'prompt': labelValue must be an integer in \[1, 65535\], got 0/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], lassos: [{ points: [[0, 0, 0], [1, 0, 0]] }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /lassos\[0\] must be \{points: \[\[i, j, k\], \.\.\.\]\} with 3 to 20000 points/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], lassos: [{ points: [[0, 0, 0], [1, 0, 1], [1, 1, 0]] }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /lassos\[0\] does not lie on one slice/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], lassos: [{ points: [[0, 0, 0], [2, 0, 0], [1, 1, 0]] }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /lassos\[0\]\.points\[1\] \[2, 0, 0\] lies outside the image/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], lassos: [{ points: [[0, 0, 0], [1, 0, 0], [1, 1, 0]], positive: 'no' }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /lassos\[0\]\.positive must be a boolean when present, got "no"/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], scribbles: [{ points: [[0, 0, 0], [0, 2, 0]], positive: true }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /scribbles\[0\]\.points\[1\] \[0, 2, 0\] lies outside the image \(2×2×2 voxels\)/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], scribbles: [{ points: [[0, 0, 0]] }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /scribbles\[0\] must be \{points: \[\[i, j, k\], \.\.\.\], positive: boolean\} with 1 to 20000 points/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], scribbles: [{ points: [], positive: true }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /scribbles\[0\] must be .* with 1 to 20000 points/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], scribbles: [{ points: Array.from({ length: 20001 }, () => [0, 0, 0]), positive: false }], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /scribbles\[0\] must be .* with 1 to 20000 points/],
    [{ type: 'prompt', objectId: 0, points: [], boxes: [], scribbles: Array.from({ length: 101 }, () => ({ points: [[0, 0, 0]], positive: true })), target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } }, /scribbles must be an array of at most 100, got 101/],
    [{ type: 'acceptPrompt', target: { labelValue: 1, overwrite: 'some', overwriteLabel: 0 } }, /'acceptPrompt': target.overwrite must be 'all', 'empty' or 'label', got some/],
  ];
  for (const [raw, re] of cases) {
    assert.throws(() => parseWebviewMessage(raw, ctx), (err: unknown) => err instanceof ProtocolError && re.test(err.message), `for ${JSON.stringify(raw)}`);
  }
  const prompt = { type: 'prompt', objectId: 0, points: [{ voxel: [0, 0, 0], positive: true }], boxes: [], target: { labelValue: 1, overwrite: 'all', overwriteLabel: 0 } };
  assert.throws(() => parseWebviewMessage(prompt, { voxelCount: 8, frameCount: 1 }), /'prompt': the image's dims are unknown here/);
});

test('label table validation', () => {
  const row = { value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false, extra: 'dropped' };
  assert.deepEqual(validateLabelTable([row]), [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }]);
  assert.throws(() => validateLabelTable([row, row]), /label value 1 appears twice/);
  assert.throws(() => validateLabelTable([{ ...row, color: [256, 0, 0] }]), /color must be \[r, g, b\] integers/);
  assert.throws(() => validateLabelTable([{ ...row, value: -1 }]), /value must be an integer in \[0, 65535\], got -1/);
  assert.throws(() => validateLabelTable([{ ...row, visible: 'yes' }]), /visible and locked must be booleans/);
  assert.throws(() => validateLabelTable({}), /must be an array/);
});

test('voxelArrayOf and labelArrayOf view buffers by tag', () => {
  const buf = new Int16Array([-1000, 5]).buffer;
  assert.deepEqual([...voxelArrayOf('int16', buf)], [-1000, 5]);
  assert.ok(voxelArrayOf('float32', new ArrayBuffer(8)) instanceof Float32Array);
  assert.ok(labelArrayOf({ voxels: new ArrayBuffer(4), bits: 16 }) instanceof Uint16Array);
});
