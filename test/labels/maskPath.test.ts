import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageStem, itkSnapLabelPathFor, maskPathFor, sidecarPathFor } from '../../src/labels/maskPath';

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
