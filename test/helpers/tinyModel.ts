// A model folder holding a tiny untrained 2-level U-Net and its card: enough for tests of
// geometry, file handling and CLI errors, never of segmentation quality.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createUNet3d } from '../../src/ml/network';
import { writeCard } from '../../src/ml/modelStore';
import { defaultPreprocessing, type Modality } from '../../src/ml/preprocess';
import type { Vec3 } from '../../src/volume/vec3';

export interface TinyModelOptions {
  /** Folder name under the parent folder (default 'tiny-model'). */
  name?: string;
  /** Window size written in the card (default 16³). */
  patchSizeVoxels?: Vec3;
  modality?: Modality;
  seed?: number;
}

/** Writes the model into `<parent>/<name>` and returns that folder. */
export async function tinyModel(parent: string, o: TinyModelOptions = {}): Promise<string> {
  const modelDir = join(parent, o.name ?? 'tiny-model');
  mkdirSync(modelDir);
  const net = createUNet3d({ levels: 2, baseFilters: 2, seed: o.seed ?? 3 });
  await net.save(modelDir);
  net.dispose();
  await writeCard(modelDir, {
    format: 'lesion-lab-model',
    formatVersion: 1,
    version: 'tiny',
    parentVersion: null,
    createdAt: new Date().toISOString(),
    patchSizeVoxels: o.patchSizeVoxels ?? [16, 16, 16],
    preprocessing: defaultPreprocessing(o.modality ?? 'MR', [1, 1, 1]),
    network: { levels: 2, baseFilters: 2 },
    training: null,
  });
  return modelDir;
}
