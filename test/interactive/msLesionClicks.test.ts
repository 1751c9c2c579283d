// Click-guided segmentation on real MS lesions (patient19 FLAIR): a faint lesion whose region is
// refused for low contrast gets a small region, not a star spread far into the brain around it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNifti } from '../../src/nifti';
import { segmentPromptedObject } from '../../src/ml/promptModel';
import { labelComponents } from '../../src/interactive/components';
import { diceCoefficient, nextRobotClick } from '../../src/interactive/robotUser';
import { sharedDataPath, skipWithoutSharedData } from '../helpers/sharedData';

const CASE = ['lesion', 'ms-flair-mni', 'patient19'];
const skip = skipWithoutSharedData(...CASE);

test('MS FLAIR: one click on a faint 31-voxel lesion gives a small object on it, not a star across the brain', { skip }, async () => {
  const image = await readNifti(sharedDataPath(...CASE, 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'));
  const mask = await readNifti(sharedDataPath(...CASE, 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz'));
  const { labels } = labelComponents(Uint8Array.from(mask.data, (v) => (v > 0 ? 1 : 0)), mask.dims, 26);
  // The lesion of 31 voxels at voxel (137, 112, 72) (contrast 2.3 against its shell, under the
  // 2.5 a region needs; before, its star took 59,693 voxels).
  const lesion = labels[137 + mask.dims[0] * (112 + mask.dims[1] * 72)];
  assert.ok(lesion > 0, 'the lesion is where the test expects it');
  const reference = Uint8Array.from(labels, (l) => (l === lesion ? 1 : 0));
  assert.equal(reference.reduce((a, b) => a + b, 0), 31);
  const click = nextRobotClick(null, reference, image.dims, image.spacingMm)!;
  const volume = { values: image.data, dims: image.dims, spacingMm: image.spacingMm };
  const r = await segmentPromptedObject(volume, { points: [click], boxes: [] }, {});
  const size = r.mask.reduce((a, b) => a + b, 0);
  assert.ok(size >= 4 && size <= 100, `${size} voxels for a 31-voxel lesion`);
  assert.ok(diceCoefficient(r.mask, reference) > 0.2, `Dice ${diceCoefficient(r.mask, reference)}`);
});
