import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { brainTumourVerdict, starterForImageContent } from '../../src/ml/brainTumourCheck';
import { initBackend } from '../../src/ml/backend';
import { readNifti } from '../../src/nifti';
import { runCli } from '../../src/cli';
import { writeVolumeLike } from '../../src/nifti';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';
import { tempDir } from '../helpers/tempDir';
import type { Vec3 } from '../../src/volume/vec3';

const MS = ['lesion', 'ms-flair-mni', 'patient19'];
const FLAIR = 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz';
const skip = skipWithoutSharedData(...MS, FLAIR);
const REPO = join(__dirname, '..', '..');

before(async () => {
  await initBackend({ preferred: 'wasm' });
});

/** A 30³ grid whose voxels inside box [lo, hi) (per axis) are lesion with probability `p(v)`. */
function lesionBox(lo: Vec3, hi: Vec3, p: (x: number) => number): { labels: Uint8Array; probability: Float32Array; dims: Vec3 } {
  const dims: Vec3 = [30, 30, 30];
  const labels = new Uint8Array(27_000);
  const probability = new Float32Array(27_000);
  let n = 0;
  for (let z = 0, v = 0; z < 30; z++) for (let y = 0; y < 30; y++) for (let x = 0; x < 30; x++, v++) {
    if (x >= lo[0] && x < hi[0] && y >= lo[1] && y < hi[1] && z >= lo[2] && z < hi[2]) {
      labels[v] = 1;
      probability[v] = p(n++);
    } else probability[v] = 0.1;
  }
  return { labels, probability, dims };
}

test('brainTumourVerdict: a large region the network is sure of is a tumour; a small, a wide unsure or a brain-sized one is not', () => {
  // 20³ voxels of 1 mm³ = 8 cm³, half of them at p 0.99.
  const sure = lesionBox([0, 0, 0], [20, 20, 20], (i) => (i % 2 ? 0.99 : 0.7));
  const a = brainTumourVerdict(sure.labels, sure.probability, sure.dims, 1);
  assert.equal(a.tumour, true, a.reason);
  assert.equal(a.lesionMm3, 8000);
  assert.equal(a.confidentMm3, 4000);
  assert.match(a.reason, /most confident lesion is 8\.0 cm³, 4\.0 cm³ \(50 %\) of it at p ≥ 0\.98: a brain tumour$/);
  // The same share, but 2 cm³ sure: MS lesions (the three MS brains: 1.1–2.2 cm³).
  const small = brainTumourVerdict(sure.labels, sure.probability, sure.dims, 0.5);
  assert.equal(small.tumour, false);
  assert.match(small.reason, /not a brain tumour \(a tumour needs ≥ 3\.0 cm³ and ≥ 25 % at that level, in a lesion of at most 400\.0 cm³\)$/);
  // 8 cm³ sure, but 10 % of a wide region (a thick-slice MS brain: 6–14 %).
  const wide = lesionBox([0, 0, 0], [30, 30, 30], (i) => (i % 10 === 0 ? 0.99 : 0.6));
  const w = brainTumourVerdict(wide.labels, wide.probability, wide.dims, 3);
  assert.equal(w.tumour, false, w.reason);
  assert.ok(w.confidentMm3 >= 3000);
  // Sure, but most of a brain (a T1 head: 750–800 cm³).
  const brain = brainTumourVerdict(sure.labels, sure.probability, sure.dims, 60);
  assert.equal(brain.lesionMm3, 480_000);
  assert.equal(brain.tumour, false);
  // Nothing found.
  const none = brainTumourVerdict(new Uint8Array(27_000), new Float32Array(27_000), [30, 30, 30], 1);
  assert.deepEqual([none.tumour, none.lesionMm3], [false, 0]);
  assert.match(none.reason, /finds no lesion: not a brain tumour/);
});

test('brainTumourVerdict judges the most confident lesion, not the largest', () => {
  // A wide unsure lesion (x < 20) and a smaller sure one (x ≥ 24), 4 mm³ voxels.
  const dims: Vec3 = [30, 30, 30];
  const labels = new Uint8Array(27_000);
  const probability = new Float32Array(27_000);
  for (let z = 0, v = 0; z < 30; z++) for (let y = 0; y < 30; y++) for (let x = 0; x < 30; x++, v++) {
    labels[v] = x < 20 || x >= 24 ? 1 : 0;
    probability[v] = x < 20 ? (x === 0 ? 0.99 : 0.6) : x >= 24 ? 0.99 : 0;
  }
  const f = brainTumourVerdict(labels, probability, dims, 4);
  assert.equal(f.lesionMm3, 6 * 900 * 4);
  assert.equal(f.tumour, true, f.reason);
});

test('starterForImageContent and segment without --model: an MS FLAIR gets ms-flair, the same brain with a tumour brain-tumour-flair', { skip }, async () => {
  const image = await readNifti(sharedDataPath(...MS, FLAIR));
  const ms = await starterForImageContent(image, { from: REPO });
  assert.equal(ms.task, 'ms-flair', ms.reason);
  assert.match(ms.reason, /^MR on a brain-sized near-isotropic grid .*; brain-tumour-flair's most confident lesion is .*: not a brain tumour/);
  // A 20 mm oedema-like sphere in the right hemisphere's white matter, 1.8× the brain's median, with a soft edge.
  const values = image.data as unknown as ArrayLike<number>;
  const brain = Float64Array.from(Array.prototype.filter.call(values, (x: number) => x > 0) as number[]).sort();
  const level = 1.8 * brain[brain.length >> 1];
  const [nx, ny, nz] = image.dims;
  const withTumour = new Float32Array(values.length);
  for (let z = 0, v = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, v++) {
    const w = 1 / (1 + Math.exp((Math.hypot(x - 60, y - 110, z - 100) - 20) / 1.5));
    withTumour[v] = values[v] > 0 ? values[v] * (1 - w) + w * level * (1 + 0.05 * Math.sin(v * 12.9898)) : values[v];
  }
  const tumour = await starterForImageContent({ ...image, data: withTumour }, { from: REPO });
  assert.equal(tumour.task, 'brain-tumour-flair', tumour.reason);
  assert.equal(tumour.dir, join(REPO, 'media', 'models', 'brain-tumour-flair'));
  assert.match(tumour.reason, /: a brain tumour$/);
  // The CLI says which and why, and segments with it.
  const dir = tempDir('ll-tumour-check-');
  const path = join(dir, 'tumour_flair.nii.gz');
  await writeVolumeLike(image, withTumour, path);
  let out = '';
  let err = '';
  const code = await runCli(['segment', path, '--out', join(dir, 'mask.nii.gz'), '--tta', 'none', '--backend', 'wasm'], { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  assert.equal(code, 0, err);
  assert.match(out, /^starter: brain-tumour-flair, chosen for the image: MR on a brain-sized .*: a brain tumour$/m);
  assert.match(out, /^model: brain-tumour-flair /m);
  const mask = await readNifti(join(dir, 'mask.nii.gz'));
  let inside = 0;
  let total = 0;
  for (let z = 0, v = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, v++) {
    if (!mask.data[v]) continue;
    total++;
    if (Math.hypot(x - 60, y - 110, z - 100) <= 24) inside++;
  }
  // The sphere holds 33.5 cm³; the proposal is the tumour, not the MS lesions.
  assert.ok(total > 20_000 && inside / total > 0.9, `${total} voxels, ${inside} near the sphere`);
});
