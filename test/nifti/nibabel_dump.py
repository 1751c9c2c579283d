#!/usr/bin/python3
"""Reference reader for the NIfTI tests: loads every file given with nibabel, ONCE per test run.

Usage: /usr/bin/python3 nibabel_dump.py OUT_DIR FILE...

Writes OUT_DIR/index.json, a list with one entry per FILE:
  {file, ok, error?, shape, affine (4x4), axcodes, canonical_affine, canonical_shape, header{...},
   slope, inter, raw_dtype, frames: [{frame, values_file}], rgb_channels?}
and for each compared frame a raw little-endian array OUT_DIR/<n>_<frame>.bin holding the
UNSCALED stored values (numpy dtype raw_dtype, i fastest); complex data is stored as its float64
magnitude. The test scales them with nibabel's own (slope, inter). Only the first and the last
frame are dumped, which keeps large 4-D/5-D files cheap.
"""
import json
import os
import sys
import warnings

import numpy as np
import nibabel as nib
from nibabel.orientations import aff2axcodes

warnings.simplefilter('ignore')


def json_safe(value):
    """JSON has no NaN/Infinity: non-finite floats become the strings 'NaN', 'Infinity', '-Infinity'."""
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return 'NaN' if np.isnan(value) else ('Infinity' if value > 0 else '-Infinity')
    return value


def header_fields(hdr):
    out = {}
    for name in ('dim', 'pixdim', 'datatype', 'bitpix', 'vox_offset', 'scl_slope', 'scl_inter',
                 'qform_code', 'sform_code', 'xyzt_units', 'intent_code',
                 'quatern_b', 'quatern_c', 'quatern_d', 'qoffset_x', 'qoffset_y', 'qoffset_z'):
        try:
            value = hdr[name]
        except (KeyError, ValueError):
            continue
        out[name] = json_safe(np.asarray(value).tolist())
    try:
        out['srow'] = json_safe(np.concatenate([hdr['srow_x'], hdr['srow_y'], hdr['srow_z']]).tolist())
    except (KeyError, ValueError):
        pass
    try:
        out['extension_codes'] = [int(e.get_code()) for e in hdr.extensions]
    except AttributeError:
        out['extension_codes'] = []
    return out


def finite_or_none(x):
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def dump(index, path, out_dir):
    entry = {'file': path, 'ok': False}
    try:
        img = nib.load(path)
        entry['class'] = type(img).__name__
        shape = [int(s) for s in img.shape]
        affine = np.asarray(img.affine, dtype=np.float64)
        hdr = img.header
        entry['header'] = header_fields(hdr)
        # nibabel zeroes the in-memory vox_offset after loading; the array proxy keeps the real one.
        entry['header']['vox_offset'] = int(img.dataobj.offset)
        slope, inter = img.dataobj.slope, img.dataobj.inter
        raw = np.asanyarray(img.dataobj.get_unscaled())
        if raw.size == 0:
            raise ValueError('zero-size image')
        entry['shape'] = shape
        entry['affine'] = affine.tolist()
        entry['axcodes'] = ''.join(aff2axcodes(affine))
        canonical = nib.as_closest_canonical(img) if len(shape) >= 3 else img
        entry['canonical_affine'] = np.asarray(canonical.affine, dtype=np.float64).tolist()
        entry['canonical_shape'] = [int(s) for s in canonical.shape]
        entry['slope'] = finite_or_none(slope)
        entry['inter'] = finite_or_none(inter)
        if raw.dtype.names:  # RGB24 / RGBA32: structured uint8 fields
            entry['rgb_channels'] = len(raw.dtype.names)
            raw = np.stack([raw[name].astype(np.uint8) for name in raw.dtype.names], axis=-1)
            raw_dtype = 'uint8'
        elif np.iscomplexobj(raw):
            raw = np.abs(raw.astype(np.complex128))
            raw_dtype = 'float64'
        else:
            raw = raw.astype(raw.dtype.newbyteorder('<'))
            raw_dtype = raw.dtype.name
        entry['raw_dtype'] = raw_dtype
        spatial = int(np.prod(shape[:3]))
        frame_count = int(np.prod(shape[3:])) if len(shape) > 3 else 1
        channels = entry.get('rgb_channels', 1)
        # Fortran order == NIfTI order (i fastest, then j, k, then the frame dims).
        flat = raw.reshape(-1, order='F') if channels == 1 else \
            np.moveaxis(raw, -1, 0).reshape(channels, -1, order='F').T.reshape(-1)
        frames = sorted({0, frame_count - 1})
        entry['frames'] = []
        for f in frames:
            chunk = flat[f * spatial * channels:(f + 1) * spatial * channels]
            name = f'{index}_{f}.bin'
            chunk.tofile(os.path.join(out_dir, name))
            entry['frames'].append({'frame': f, 'values_file': name})
        entry['ok'] = True
    except Exception as exc:  # nibabel refusing a file is a result, not a failure of this script
        entry['error'] = f'{type(exc).__name__}: {exc}'
    return entry


def main():
    out_dir = sys.argv[1]
    files = sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    entries = [dump(i, f, out_dir) for i, f in enumerate(files)]
    with open(os.path.join(out_dir, 'index.json'), 'w') as fh:
        json.dump(entries, fh, allow_nan=False)


if __name__ == '__main__':
    main()
