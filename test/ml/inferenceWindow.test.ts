// The inference window: the card's for an instance-norm network (its statistics span the window);
// for a batch-norm or unnormalised network the window that covers the foreground box with the
// fewest predicted voxels, sides multiples of 2^(levels−1), at most MAX_WINDOW_GROWTH × the card's
// voxels. loadSegmentationModel says which networks may grow, and segmentVolume reports the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inferenceWindow, MAX_WINDOW_GROWTH, predictedVoxels } from '../../src/ml/inferenceWindow';
import { loadSegmentationModel, segmentVolume } from '../../src/ml/inference';
import { createUNet3d } from '../../src/ml/network';
import { writeCard } from '../../src/ml/modelStore';
import { defaultPreprocessing } from '../../src/ml/preprocess';
import type { Vec3 } from '../../src/volume/vec3';
import { tempDir } from '../helpers/tempDir';

const CARD: Vec3 = [96, 96, 96];
const BENCH_BOX: Vec3 = [168, 208, 148]; // the foreground box of scripts/bench-segment.ts's volume

test('inferenceWindow: an instance-norm network keeps the card window', () => {
  assert.deepEqual(inferenceWindow(CARD, BENCH_BOX, { windowIndependent: false, multiple: 8, overlap: 0.25 }), CARD);
});

test('inferenceWindow: fewer predicted voxels within the memory cap, sides multiples of 8 and never below the card', () => {
  const w = inferenceWindow(CARD, BENCH_BOX, { windowIndependent: true, multiple: 8, overlap: 0.25 });
  assert.deepEqual(w, [96, 120, 152]);
  assert.equal(predictedVoxels(BENCH_BOX, CARD, 0.25), 12 * 96 ** 3);
  assert.equal(predictedVoxels(BENCH_BOX, w, 0.25), 4 * 96 * 120 * 152);
  for (const box of [BENCH_BOX, [182, 218, 182], [150, 185, 150], [40, 300, 90]] as Vec3[]) {
    const g = inferenceWindow(CARD, box, { windowIndependent: true, multiple: 8, overlap: 0.25 });
    assert.ok(g.every((n, a) => n % 8 === 0 && n >= CARD[a]), `${g}`);
    assert.ok(g[0] * g[1] * g[2] <= MAX_WINDOW_GROWTH * 96 ** 3, `${g} within the cap`);
    assert.ok(predictedVoxels(box, g, 0.25) <= predictedVoxels(box, CARD, 0.25), `${g} predicts no more than the card's window on ${box}`);
  }
  // A box inside one card window: the card window.
  assert.deepEqual(inferenceWindow(CARD, [80, 80, 48], { windowIndependent: true, multiple: 8, overlap: 0.25 }), CARD);
});

async function modelWith(parent: string, normalization: 'batch' | 'instance' | 'none'): Promise<string> {
  const dir = join(parent, normalization);
  mkdirSync(dir);
  const net = createUNet3d({ levels: 2, baseFilters: 2, normalization, seed: 5 });
  await net.save(dir);
  await writeCard(dir, {
    format: 'lesion-lab-model',
    formatVersion: 1,
    version: normalization,
    parentVersion: null,
    createdAt: '2026-12-01T00:00:00Z',
    patchSizeVoxels: [16, 16, 16],
    preprocessing: defaultPreprocessing('MR', [1, 1, 1]),
    network: { ...net.config },
    training: null,
  });
  net.dispose();
  return dir;
}

test('loadSegmentationModel lets batch-norm and unnormalised networks grow their window, not instance-norm ones; segmentVolume reports the window', async () => {
  await tf.setBackend('cpu');
  const root = tempDir('ll-window-');
  const dims: Vec3 = [40, 24, 20];
  const data = new Float32Array(dims[0] * dims[1] * dims[2]).map((_, i) => 100 + (i % 17));
  for (const normalization of ['batch', 'none', 'instance'] as const) {
    const model = await loadSegmentationModel(await modelWith(root, normalization));
    try {
      assert.deepEqual(model.windowGrowth, normalization === 'instance' ? undefined : { multiple: 2 });
      const grown = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: [[]] });
      const card = await segmentVolume({ data, dims, spacingMm: [1, 1, 1] }, model, { ttaFlips: [[]], growWindow: false });
      assert.deepEqual(card.windowSize, [16, 16, 16]);
      if (normalization === 'instance') {
        assert.deepEqual(grown.windowSize, [16, 16, 16]);
      } else {
        assert.ok(grown.windowsPredicted < card.windowsPredicted, `${grown.windowsPredicted} windows of ${grown.windowSize} vs ${card.windowsPredicted} of 16³`);
        assert.ok(grown.windowSize[0] * grown.windowSize[1] * grown.windowSize[2] <= MAX_WINDOW_GROWTH * 16 ** 3);
      }
      assert.equal(grown.probability.length, data.length);
    } finally {
      model.network.dispose();
    }
  }
});
