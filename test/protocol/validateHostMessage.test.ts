// Host → webview messages: one valid example of each type passes; a wrong field is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostMessageProblem } from '../../src/protocol/validateHostMessage';
import type { HostToWebviewMessage } from '../../src/protocol/messages';

const buf = () => new ArrayBuffer(8);
const valid: HostToWebviewMessage[] = [
  { type: 'applyDelta', delta: { runs: buf(), before: buf(), after: buf(), bits: 8 }, cause: 'host', label: 'Accept' },
  { type: 'replaceLabels', labels: { voxels: buf(), bits: 16 }, labelTable: [], cause: 'resync' },
  { type: 'overlay', kind: 'probability', voxels: buf(), range: [0, 1], proposal: null },
  { type: 'clearOverlay', kind: 'uncertainty' },
  { type: 'labelTable', labelTable: [] },
  { type: 'readOnly', readOnly: true, reason: null },
  { type: 'status', text: 'Saved', level: 'info' },
  { type: 'promptsCleared', cause: 'accepted' },
  { type: 'error', message: 'x.nii: broken', fatal: false },
];

test('valid host messages pass', () => {
  for (const m of valid) assert.equal(hostMessageProblem(m), null, m.type);
});

test('a bad host message is named with its type and field', () => {
  const cases: [unknown, RegExp][] = [
    [null, /expected an object, got null/],
    [{ type: 'nope' }, /unknown type "nope"/],
    [{ type: 'status', text: 'x', level: 'loud' }, /^host message 'status': level is "loud"/],
    [{ type: 'overlay', kind: 'probability', voxels: [1, 2], range: [0, 1], proposal: null }, /'overlay': voxels is/],
    [{ type: 'applyDelta', delta: { runs: buf(), before: buf(), after: buf(), bits: 12 }, cause: 'host', label: 'x' }, /'applyDelta': delta is/],
    [{ type: 'error', message: 'x' }, /'error': fatal is undefined/],
  ];
  for (const [m, re] of cases) assert.match(hostMessageProblem(m) ?? '', re);
});
