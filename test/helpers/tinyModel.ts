// A model folder holding a tiny untrained 2-level U-Net and its card: enough for tests of
// geometry, file handling and CLI errors, never of segmentation quality.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUNet3d } from '../../src/ml/network';
import { writeCard } from '../../src/ml/modelStore';
import { PROMPT_MODEL_FORMAT } from '../../src/ml/promptModel';
import { PROMPT_CHANNEL_COUNT } from '../../src/interactive/promptPatch';
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

export interface TinyPromptModelOptions {
  /** Input channels of the network (default: the prompt model's). */
  inChannels?: number;
  /** card.json format (default: the prompt model's). */
  format?: string;
  /** Side of the cubic patch (default 16). */
  patchSizeVoxels?: number;
}

/** A tiny untrained prompt model (src/ml/promptModel.ts) in `<parent>/prompt`; returns that folder. */
export async function tinyPromptModel(parent: string, o: TinyPromptModelOptions = {}): Promise<string> {
  const dir = join(parent, 'prompt');
  mkdirSync(dir);
  const net = createUNet3d({ levels: 2, baseFilters: 2, inChannels: o.inChannels ?? PROMPT_CHANNEL_COUNT, normalization: 'instance', seed: 4 });
  await net.save(dir);
  net.dispose();
  const card = { format: o.format ?? PROMPT_MODEL_FORMAT, formatVersion: 1, patchSizeVoxels: o.patchSizeVoxels ?? 16, minSpacingMm: 1, maxSpacingMm: 4 };
  writeFileSync(join(dir, 'card.json'), JSON.stringify(card));
  return dir;
}
