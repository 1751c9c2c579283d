// The view state read back with vscode.getState: valid fields are kept, bad ones dropped, a
// state of another file ignored. Runs in Node (no browser).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePersistedState, type PersistedViewerState } from '../../webview/persistedState';
import { LabelMode3D, RenderMode3D } from '../../webview/renderModes';

const SAVED: PersistedViewerState = {
  fileName: 'case01.nii.gz',
  crosshair: [1.5, -2, 30],
  window: { level: 40, width: 400 },
  colormap: 'viridis',
  layout: '1x3',
  single: 'coronal',
  radiological: false,
  views: { axial: { zoom: 2, panMm: [3, -4] }, coronal: { zoom: 1, panMm: [0, 0] }, sagittal: { zoom: 0.5, panMm: [1, 1] } },
  tool: 'prompt',
  brushRadiusMm: 2.5,
  brushShape: 'sphere',
  promptDrag: 'scribble',
  activeLabel: 3,
  mode3d: RenderMode3D.mip,
  labelMode3d: LabelMode3D.surface,
  overlayLook: { probabilityOpacity: 0.4, uncertaintyOpacity: 1, proposalOutline: false, uncertaintyColormap: 'plasma' },
  frame: 2,
  measurements: [
    { a: [1, 2, 3], b: [4, 5, 3], normalAxis: 2, slice: 7 },
    { a: [0, 0, 0], b: [0, 10, 0], c: [5, 10, 0], normalAxis: 1, slice: 0 },
  ],
};

test('a state written by saveState comes back whole (through JSON, as vscode.setState stores it)', () => {
  const back = parsePersistedState(JSON.parse(JSON.stringify(SAVED)), 'case01.nii.gz', 4);
  const { fileName: _fileName, ...expected } = SAVED;
  assert.deepEqual(back, expected);
});

test('a state of another file, or no object at all, is ignored', () => {
  assert.equal(parsePersistedState(SAVED, 'case02.nii.gz', 4), null);
  for (const raw of [undefined, null, 42, 'case01.nii.gz', [SAVED]]) assert.equal(parsePersistedState(raw, 'case01.nii.gz', 4), null, String(raw));
});

test('each bad field is dropped on its own; the rest still apply', () => {
  const bad = {
    ...SAVED,
    crosshair: [1, 2],
    window: { level: 40, width: 0 },
    colormap: 'rainbow',
    layout: '3x3',
    single: 'oblique',
    radiological: 'yes',
    views: { axial: { zoom: -1, panMm: [0, 0] }, coronal: { zoom: 2, panMm: [0, Number.NaN] }, sagittal: { zoom: 3, panMm: [5, 6] } },
    tool: 'lasso',
    brushRadiusMm: 0,
    brushShape: 'cube',
    promptDrag: 'freehand',
    activeLabel: 1.5,
    mode3d: 7,
    labelMode3d: 'surface',
    overlayLook: { probabilityOpacity: 1.5, uncertaintyOpacity: 0.25, proposalOutline: 1, uncertaintyColormap: 'gray' },
    frame: 4,
    measurements: [{ a: [1, 2], b: [4, 5, 3], normalAxis: 2, slice: 7 }, { a: [1, 2, 3], b: [4, 5, 3], normalAxis: 3, slice: 7 }, { a: [1, 2, 3], b: [4, 5, 3], c: 'x', normalAxis: 0, slice: 1 }, { a: [1, 2, 3], b: [4, 5, 3], normalAxis: 0, slice: 1.5 }, SAVED.measurements![0]],
  };
  assert.deepEqual(parsePersistedState(bad, 'case01.nii.gz', 4), {
    views: { sagittal: { zoom: 3, panMm: [5, 6] } },
    overlayLook: { uncertaintyOpacity: 0.25 },
    measurements: [SAVED.measurements![0]],
  });
});

test('an older state without the newer fields still restores what it has', () => {
  const old = { fileName: 'case01.nii.gz', crosshair: [0, 0, 0], tool: 'brush', brushRadiusMm: 4 };
  assert.deepEqual(parsePersistedState(old, 'case01.nii.gz', 1), { crosshair: [0, 0, 0], tool: 'brush', brushRadiusMm: 4 });
});

test('the frame must exist in this document', () => {
  assert.equal(parsePersistedState({ ...SAVED, frame: 3 }, 'case01.nii.gz', 4)?.frame, 3);
  assert.equal(parsePersistedState({ ...SAVED, frame: 3 }, 'case01.nii.gz', 3)?.frame, undefined);
  assert.equal(parsePersistedState({ ...SAVED, frame: -1 }, 'case01.nii.gz', 3)?.frame, undefined);
});
