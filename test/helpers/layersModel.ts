// A bring-your-own-model fixture: a 3-D conv model written in the layers format by TensorFlow.js
// itself, its lesion-lab-input.json, and a crop of MS patient 19's FLAIR (CC-BY, Lesjak et al.
// 2017). The model is a per-voxel logistic function of the normalised intensity, so the expected
// probability of every voxel is known exactly. Shared by the in-process import test
// (test/ml/importedModel.test.ts) and the command-line one (test/cli/importModel.test.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readNifti } from '../../src/nifti';
import { writeCropNifti } from '../../scripts/e2e/fixtures';
import { sharedDataPath } from './sharedData';

/** The FLAIR the fixture crops, as path parts under ../shared/data. */
export const FLAIR = ['lesion', 'ms-flair-mni', 'patient19', 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'] as const;
/** p(lesion) = sigmoid(2·A·z − 2·B) for normalised intensity z: softmax of [−A·z + B, A·z − B]. */
export const A = 3;
export const B = 6;

/** Writes a tfjs layers model the way tfjs's file handler does (model.json + weights.bin). */
export async function writeLayersModel(dir: string, activation: 'softmax' | 'linear'): Promise<void> {
  const model = tf.sequential();
  model.add(tf.layers.conv3d({ inputShape: [16, 16, 16, 1], filters: 2, kernelSize: 1, padding: 'same', activation }));
  model.layers[0].setWeights([tf.tensor5d([-A, A], [1, 1, 1, 1, 2]), tf.tensor1d([B, -B])]);
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      writeFileSync(join(dir, 'weights.bin'), weights);
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}

/** The lesion-lab-input.json of the layers model: 16³ MR windows, softmax over background and lesion. */
export const DESCRIPTION = {
  layout: 'channels-last',
  spacingMm: [1, 1, 1],
  normalization: { modality: 'MR' },
  patchSize: [16, 16, 16],
  classes: ['background', 'lesion'],
  output: 'softmax',
};

/** Writes `<dir>/model` (softmax layers model with its description) and `<dir>/flair.nii.gz` (a 48×48×32 crop). */
export async function writeImportFixture(dir: string): Promise<void> {
  await writeLayersModel(join(dir, 'model'), 'softmax');
  writeFileSync(join(dir, 'model', 'lesion-lab-input.json'), JSON.stringify(DESCRIPTION));
  const flair = await readNifti(sharedDataPath(...FLAIR));
  writeCropNifti(join(dir, 'flair.nii.gz'), flair, [48, 68, 68], [48, 48, 32], 'lesion-lab test: crop of MS patient19 FLAIR');
}
