#!/usr/bin/python3
"""Checks masks written by writeMaskLike with nibabel, for the round-trip test.

Usage: /usr/bin/python3 nibabel_compare_masks.py CASES.json
CASES.json: [{"image": ..., "source_mask": ..., "written": ...}, ...]
Prints a JSON list, one entry per case:
  {voxels_identical, affine_identical_to_image, affine_identical_to_source_mask, header_matches,
   mismatches: [...], written_dtype, written_unscaled}
"""
import json
import sys
import warnings

import numpy as np
import nibabel as nib

warnings.simplefilter('ignore')


def check(case):
    image = nib.load(case['image'])
    source = nib.load(case['source_mask'])
    written = nib.load(case['written'])
    mismatches = []
    src_values = np.asanyarray(source.dataobj)
    out_values = np.asanyarray(written.dataobj)
    voxels_identical = src_values.shape == out_values.shape and bool(np.array_equal(src_values, out_values))
    if not voxels_identical:
        mismatches.append('voxels')
    ih, wh = image.header, written.header
    for field in ('qform_code', 'sform_code', 'xyzt_units', 'quatern_b', 'quatern_c', 'quatern_d',
                  'qoffset_x', 'qoffset_y', 'qoffset_z', 'srow_x', 'srow_y', 'srow_z'):
        if not np.array_equal(ih[field], wh[field]):
            mismatches.append(field)
    if not np.array_equal(ih['pixdim'][:4], wh['pixdim'][:4]):
        mismatches.append('pixdim')
    if tuple(ih['dim'][1:4]) != tuple(wh['dim'][1:4]):
        mismatches.append('dim')
    slope, inter = written.dataobj.slope, written.dataobj.inter
    return {
        'voxels_identical': voxels_identical,
        'affine_identical_to_image': bool(np.array_equal(image.affine, written.affine)),
        'affine_identical_to_source_mask': bool(np.array_equal(source.affine, written.affine)),
        'header_matches': not [m for m in mismatches if m != 'voxels'],
        'mismatches': mismatches,
        'written_dtype': written.get_data_dtype().name,
        'written_unscaled': bool(slope == 1 and inter == 0),
    }


def main():
    with open(sys.argv[1]) as fh:
        cases = json.load(fh)
    print(json.dumps([check(c) for c in cases]))


if __name__ == '__main__':
    main()
