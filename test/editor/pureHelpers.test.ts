import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageStem, itkSnapLabelPathFor, maskPathFor, sidecarPathFor } from '../../src/editor/maskPath';
import { buildSidecar, itkSnapLabelFile, parseItkSnapLabelFile, parseSidecar, sidecarToText } from '../../src/editor/sidecar';
import { guessModality, intensityStats, isAllZero, obliquityDeg, toWireVoxels, voxelVolumeMm3 } from '../../src/editor/imageInfo';
import { labelsFromMaskData, resampleLabelsToGrid } from '../../src/editor/maskGrid';
import { DEFAULT_SETTINGS, readEditorSettings } from '../../src/editor/settings';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../src/editor/webviewHtml';
import { readNifti } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

test('mask paths from the pattern', () => {
  assert.equal(imageStem('/d/case01.nii.gz'), 'case01');
  assert.equal(imageStem('/d/CT.NII'), 'CT');
  assert.equal(imageStem('/d/pair.hdr'), 'pair');
  assert.equal(maskPathFor('/d/case01.nii.gz'), '/d/case01_seg.nii.gz');
  assert.equal(maskPathFor('/d/case01.nii', '${name}_mask.nii.gz'), '/d/case01_mask.nii.gz');
  assert.equal(maskPathFor('/d/img/case01.nii.gz', '../masks/${name}.nii.gz'), '/d/masks/case01.nii.gz');
  assert.equal(maskPathFor('/d/case01.nii.gz', '/abs/${name}-${name}.nii.gz'), '/abs/case01-case01.nii.gz');
  assert.throws(() => maskPathFor('/d/case01.nii.gz', '${name}.nii.gz'), /gives the image's own path \(case01\.nii\.gz\)/);
  assert.throws(() => maskPathFor('/d/a.nii.gz', '${name}_seg.nii'), /must end in \.nii\.gz/);
  assert.throws(() => maskPathFor('/d/a.nii.gz', ''), /lesionLab\.maskPattern must be a file name pattern/);
  assert.equal(sidecarPathFor('/d/case01_seg.nii.gz'), '/d/case01_seg.json');
  assert.equal(itkSnapLabelPathFor('/d/case01_seg.nii.gz'), '/d/case01_seg_labels.txt');
});

test('sidecar: built with counts and volumes, parsed back; bad sidecars named', () => {
  const sc = buildSidecar({
    imageFile: 'case.nii.gz',
    imageSha256: 'ab'.repeat(32),
    maskFile: 'case_seg.nii.gz',
    dims: [10, 10, 4],
    bits: 8,
    voxelVolumeMm3: 0.5,
    labelTable: [{ value: 1, name: 'Lesion', color: [255, 0, 0], visible: true, locked: false }, { value: 4, name: 'Unused', color: [1, 2, 3], visible: false, locked: true }],
    voxelCounts: new Map([[0, 380], [1, 15], [9, 5]]),
    modelVersion: 'unet-v2',
    handEditedVoxels: 12,
    reviewed: true,
    savedAt: new Date('2026-01-02T03:04:05Z'),
  });
  assert.deepEqual(sc.labels.map((l) => [l.value, l.name, l.voxelCount, l.volumeMm3]), [[1, 'Lesion', 15, 7.5], [4, 'Unused', 0, 0], [9, 'Label 9', 5, 2.5]]);
  assert.equal(sc.savedAt, '2026-01-02T03:04:05.000Z');
  const parsed = parseSidecar(sidecarToText(sc), 'case_seg.json');
  assert.equal(parsed.modelVersion, 'unet-v2');
  assert.equal(parsed.handEditedVoxels, 12);
  assert.equal(parsed.reviewed, true);
  assert.equal(parsed.imageSha256, 'ab'.repeat(32));
  assert.deepEqual(parsed.labelTable.map((e) => e.value), [1, 4, 9]);
  assert.equal(parsed.labelTable[1].locked, true);
  assert.throws(() => parseSidecar('{', 'x_seg.json'), /^Error: x_seg\.json: not valid JSON|x_seg\.json: not valid JSON/);
  assert.throws(() => parseSidecar('{"format":"other"}', 'x_seg.json'), /x_seg\.json: not a Lesion Lab sidecar/);
  assert.throws(() => parseSidecar(JSON.stringify({ ...sc, labels: [{ value: 1, name: 'a', color: [0, 0], visible: true, locked: false }] }), 'x_seg.json'), /x_seg\.json: labels: row 0 \(value 1\) color/);
});

test('ITK-SNAP label description export parses back and keeps the clear label first', () => {
  const table = [
    { value: 2, name: 'Edema "peritumoral"', color: [0, 0, 255] as [number, number, number], visible: false, locked: false },
    { value: 1, name: 'Lesion', color: [255, 0, 0] as [number, number, number], visible: true, locked: false },
  ];
  const text = itkSnapLabelFile(table);
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.match(rows[0], /^\s+0\s+0\s+0\s+0\s+0 0 0\s+"Clear Label"$/);
  assert.match(rows[1], /^\s+1\s+255\s+0\s+0\s+1 1 1\s+"Lesion"$/);
  assert.match(rows[2], /^\s+2\s+0\s+0\s+255\s+1 0 0\s+"Edema {2}peritumoral "$/);
  const back = parseItkSnapLabelFile(text, 'labels.txt');
  assert.deepEqual(back.map((e) => [e.value, e.color, e.visible]), [[1, [255, 0, 0], true], [2, [0, 0, 255], false]]);
  assert.throws(() => parseItkSnapLabelFile('1 2 3\n', 'bad.txt'), /bad\.txt: line 1 is not/);
});

test('intensity statistics: exact min/max/mean, percentiles close, NaN ignored', () => {
  const n = 100_001;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i / 100; // 0…1000 uniform
  data[5] = NaN;
  data[6] = Infinity;
  const s = intensityStats(data, { min: 0, max: 0 });
  assert.equal(s.min, 0);
  assert.equal(s.max, 1000);
  assert.equal(s.nonFiniteCount, 2);
  assert.ok(Math.abs(s.p50 - 500) < 0.5, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p1 - 10) < 0.5, `p1 ${s.p1}`);
  assert.ok(Math.abs(s.p99_5 - 995) < 0.5, `p99.5 ${s.p99_5}`);
  assert.equal(s.headerWindow, null, 'cal_min = cal_max = 0 means unset');
  const flat = intensityStats(new Int16Array([7, 7, 7]), { min: -100, max: 200 });
  assert.equal(flat.p99, 7);
  assert.deepEqual(flat.headerWindow, { min: -100, max: 200 });
  const none = intensityStats(new Float32Array([NaN]));
  assert.equal(none.nonFiniteCount, 1);
});

test('integer statistics are exact (nearest-rank percentiles over every voxel)', () => {
  const data = new Int16Array(1000);
  for (let i = 0; i < 1000; i++) data[i] = i - 500; // −500 … 499
  const s = intensityStats(data);
  assert.equal(s.min, -500);
  assert.equal(s.max, 499);
  assert.equal(s.mean, -0.5);
  assert.equal(s.p1, -491); // 10th smallest value
  assert.equal(s.p50, -1); // 500th
  assert.equal(s.p99_5, 494); // 995th
  const u8 = intensityStats(new Uint8Array([0, 0, 0, 255]));
  assert.deepEqual([u8.min, u8.max, u8.p50, u8.p99], [0, 255, 0, 255]);
  const i8 = intensityStats(new Int8Array([-128, 127]));
  assert.deepEqual([i8.min, i8.max], [-128, 127]);
});

test('obliquity, voxel volume, modality guess, wire voxel types', () => {
  assert.equal(obliquityDeg([-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]), 0);
  // Axes permuted (SLP-like) are not oblique.
  assert.equal(obliquityDeg([0, 0, -2, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), 0);
  const c = Math.cos((20 * Math.PI) / 180), s = Math.sin((20 * Math.PI) / 180);
  assert.ok(Math.abs(obliquityDeg([1, 0, 0, 0, 0, c, -s, 0, 0, s, c, 0, 0, 0, 0, 1]) - 20) < 1e-9);
  assert.ok(Math.abs(voxelVolumeMm3([-0.5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]) - 3) < 1e-12);
  const ctLike = intensityStats(new Int16Array([-1024, -1000, -990, 0, 40, 60, 400, 1200]));
  assert.equal(guessModality('/x/scan.nii.gz', '', ctLike), 'CT');
  assert.equal(guessModality('/data/STS_001/PET/image.nii.gz', '', ctLike), 'PET');
  assert.equal(guessModality('/data/patient07/FLAIR_N4.nii.gz', '', ctLike), 'MR');
  assert.equal(guessModality('/data/STS_001/MR_T1/image.nii.gz', '', ctLike), 'MR');
  assert.equal(guessModality('/data/abc.nii.gz', '', intensityStats(new Float32Array([0, 1, 2]))), 'unknown');
  assert.equal(toWireVoxels(new Int16Array([1, -2])).voxelType, 'int16');
  const f = toWireVoxels(new Float64Array([1.5, -2]));
  assert.equal(f.voxelType, 'float32');
  assert.deepEqual([...new Float32Array(f.voxels)], [1.5, -2]);
  const i32 = toWireVoxels(new Int32Array([3382, -1207]));
  assert.deepEqual([...new Float32Array(i32.voxels)], [3382, -1207]);
  // A view into a larger buffer is copied, not posted whole.
  const big = new Uint8Array(100);
  assert.equal(toWireVoxels(big.subarray(10, 20)).voxels.byteLength, 10);
  assert.equal(toWireVoxels(big.subarray(10, 20), { shareWholeBuffer: true }).voxels.byteLength, 10);
  // An array owning its whole buffer is shared only when asked.
  const whole = new Int16Array(4);
  assert.equal(toWireVoxels(whole, { shareWholeBuffer: true }).voxels, whole.buffer);
  assert.notEqual(toWireVoxels(whole).voxels, whole.buffer);
});

test('obliquity of the 20° oblique file', { skip: skipWithoutSharedData('odd', 'generated_valid') }, async () => {
  const img = await readNifti(sharedDataPath('odd', 'generated_valid', 'ct_oblique20deg.nii.gz'));
  assert.ok(Math.abs(obliquityDeg(img.affine) - 20) < 0.01, `got ${obliquityDeg(img.affine)}`);
  const straight = await readNifti(sharedDataPath('odd', 'generated_valid', 'ct_axes_permuted_SLP.nii.gz'));
  assert.ok(obliquityDeg(straight.affine) < 0.001);
});

test('isAllZero at every alignment and length', () => {
  const buf = new Uint8Array(37);
  for (let off = 0; off < 5; off++) {
    for (let len = 0; len + off <= 37; len += 3) {
      const view = buf.subarray(off, off + len);
      assert.equal(isAllZero(view), true);
      for (let p = 0; p < len; p++) {
        view[p] = 1;
        assert.equal(isAllZero(view), false, `off ${off} len ${len} pos ${p}`);
        view[p] = 0;
      }
    }
  }
  assert.equal(isAllZero(new Uint16Array([0, 256])), false);
});

test('mask data to labels: integers kept, non-labels refused with the voxel named', () => {
  const a = labelsFromMaskData(new Float32Array([0, 1, 7]));
  assert.ok('labels' in a && a.labels instanceof Uint8Array);
  const b = labelsFromMaskData(new Int16Array([0, 300]));
  assert.ok('labels' in b && b.labels instanceof Uint16Array && b.labels[1] === 300);
  const c = labelsFromMaskData(new Float32Array([0, 0.5]));
  assert.ok('problem' in c && /voxel 1 holds 0\.5, which is not a label/.test(c.problem));
  const d = labelsFromMaskData(new Int16Array([-1]));
  assert.ok('problem' in d && /voxel 0 holds -1/.test(d.problem));
});

test('resampling labels by world position: a one-voxel shift and a flipped axis', () => {
  const dims: [number, number, number] = [4, 1, 1];
  const labels = new Uint8Array([1, 2, 3, 4]);
  // Source origin 1 mm further along x: target voxel i sits at source voxel i − 1.
  const shifted = resampleLabelsToGrid({ labels, dims, affine: [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, dims, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...shifted], [0, 1, 2, 3]);
  // Source stored with x flipped (x = 3 − i): same world positions, reversed array.
  const flipped = resampleLabelsToGrid({ labels, dims, affine: [-1, 0, 0, 3, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, dims, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...flipped], [4, 3, 2, 1]);
  // Coarser target (2 mm): centres at 0 and 2 mm.
  const coarse = resampleLabelsToGrid({ labels, dims, affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, [2, 1, 1], [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...coarse], [1, 3]);
  assert.throws(() => resampleLabelsToGrid({ labels, dims, affine: new Array(16).fill(0) }, dims, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), /singular/);
});

test('settings: defaults, valid values, and invalid ones named with their value', () => {
  assert.deepEqual(readEditorSettings(() => undefined).settings, DEFAULT_SETTINGS);
  const values: Record<string, unknown> = { radiological: false, layout: '1x3', labelOpacity: 0.8, maskPattern: '../m/${name}.nii.gz', gridMismatchAction: 'resample' };
  const ok = readEditorSettings((k) => values[k]);
  assert.equal(ok.problems.length, 0);
  assert.equal(ok.settings.viewer.radiological, false);
  assert.equal(ok.settings.viewer.layout, '1x3');
  assert.equal(ok.settings.gridMismatchAction, 'resample');
  const bad = readEditorSettings((k) => ({ labelOpacity: 3, layout: '3x3', maskPattern: 'x.nii' } as Record<string, unknown>)[k]);
  assert.equal(bad.settings.viewer.labelOpacity, 0.5);
  assert.equal(bad.problems.length, 3);
  assert.match(bad.problems.join('\n'), /lesionLab\.labelOpacity must be a number from 0 to 1, got 3/);
  assert.match(bad.problems.join('\n'), /lesionLab\.layout must be one of 2x2, 1x3, single, got "3x3"/);
});

test('webview HTML: strict CSP with a fresh nonce, no eval, scripts only by nonce', () => {
  const n1 = makeNonce();
  const n2 = makeNonce();
  assert.notEqual(n1, n2);
  assert.ok(Buffer.from(n1, 'base64').length === 16);
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', n1);
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, new RegExp(`script-src 'nonce-${n1.replace(/[+/]/g, (c) => `\\${c}`)}'$`));
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline/);
  assert.match(csp, /style-src https:\/\/x\.vscode-cdn\.net 'nonce-/);
  const html = webviewHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: n1, scriptUri: 'https://x/dist/webview.js', styleUri: 'https://x/media/webview.css' });
  assert.match(html, new RegExp(`<script nonce="${n1.replace(/[+/]/g, (c) => `\\${c}`)}" src="https://x/dist/webview.js"></script>`));
  assert.match(html, /<div id="lesion-lab"><\/div>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  const err = webviewHtml({ cspSource: 'c', nonce: n1, scriptUri: 's', styleUri: 't', errorMessage: 'bad.nii.gz: image data is <short>' });
  assert.doesNotMatch(err, /<script/);
  assert.match(err, /bad\.nii\.gz: image data is &lt;short&gt;/);
});
