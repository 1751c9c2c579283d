#!/usr/bin/python3
"""Reference data for the lossy JPEG decoder's tests (test/nifti/jpegBaseline.test.ts): streams
written by dcmtk's dcmcjpeg, and dcmtk's dcmdjpeg's decoding of them.

    jpeg_lossy_reference.py cases CT.nii.gz OUTDIR
        From slice 30 of the CT: a 61x45 crop windowed to 8 bits, the same crop as 12 bits
        (HU + 1024), and the slice padded by reflection to a 512x512 12-bit image, each written as
        an uncompressed DICOM file, compressed by dcmcjpeg (baseline and extended, several
        qualities, optimized and standard Huffman tables; progressive and lossless for the
        refusals) and decompressed by dcmdjpeg. Also pydicom's JPEG-lossy.dcm and JPGExtended.dcm
        (12-bit extended) and SC_jpeg_no_color_transform.dcm (colour). For each case NAME it writes
        OUTDIR/NAME.jpg (the JPEG stream of the first frame) and, where dcmdjpeg decodes it,
        OUTDIR/NAME.ref (its samples, uint16 little-endian, row by row), and lists the cases in
        OUTDIR/cases.json: name, width, height, bits (of the JPEG samples), reference (true/false).
    jpeg_lossy_reference.py decode FILE.jpg...
        Wraps each grey-scale JPEG stream in a DICOM file (transfer syntax .50 for SOF0, .51 for
        SOF1) and writes dcmdjpeg's decoding of it to FILE.ref, as above.

Needs pydicom, numpy, nibabel and dcmtk.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_pixel_data_frame
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

PYDICOM_FILES = os.path.join(os.path.dirname(pydicom.__file__), 'data', 'test_files')
BASELINE, EXTENDED = '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51'


def write_dicom(path, pixels, bits, transfer=ExplicitVRLittleEndian, frame=None):
    """A grey-scale Secondary Capture file of `pixels` (uint8 or uint16, `bits` stored), or of the
    encapsulated JPEG stream `frame` (then `pixels` gives only the shape)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = 'OT', 'Test^JPEG', 'jpeg'
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, 0
    if frame is None:
        ds.PixelData = pixels.astype('<u1' if bits <= 8 else '<u2').tobytes()
    else:
        ds.PixelData = encapsulate([frame])
        ds['PixelData'].VR = 'OB'
        ds['PixelData'].is_undefined_length = True
    ds.save_as(path, write_like_original=False)


def run(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('%s: %s' % (' '.join(args), r.stderr))


def first_frame(path):
    return next(generate_pixel_data_frame(pydicom.dcmread(path).PixelData))


def write_reference(compressed, ref):
    """dcmdjpeg's decoding of the compressed DICOM file, as uint16 LE samples; its shape."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'decoded.dcm')
        run('dcmdjpeg', compressed, out)
        pixels = pydicom.dcmread(out).pixel_array
    open(ref, 'wb').write(pixels.astype('<u2').tobytes())
    return pixels.shape


def frame_header(stream):
    """SOF marker, precision, height and width of a JPEG stream."""
    at = 2
    while True:
        while stream[at + 1] == 0xff:  # fill bytes
            at += 1
        marker, length = stream[at + 1], int.from_bytes(stream[at + 2:at + 4], 'big')
        if 0xc0 <= marker <= 0xcf and marker not in (0xc4, 0xc8, 0xcc):
            return marker, stream[at + 4], int.from_bytes(stream[at + 5:at + 7], 'big'), int.from_bytes(stream[at + 7:at + 9], 'big')
        at += 2 + length


def cases(ct_path, outdir):
    import nibabel as nib
    os.makedirs(outdir, exist_ok=True)
    hu = np.asarray(nib.load(ct_path).dataobj[:, :, 30], dtype=np.float64).T  # rows: j, columns: i
    crop = hu[80:125, 70:131]
    # dcmcjpeg maps the smallest to the largest value to 0 upwards (it has no rescale for a
    # Secondary Capture image); these span all values of their bits, so the decoder's clamping is used.
    stretch = lambda a, top: np.round((a - a.min()) / (a.max() - a.min()) * top)
    inputs = {
        'ct8': (stretch(np.clip(crop, -160, 240), 255).astype(np.uint8), 8),
        'ct12': (stretch(crop, 4095).astype(np.uint16), 12),
        'ct12-512': (stretch(np.pad(hu, ((0, 512 - hu.shape[0]), (0, 512 - hu.shape[1])), mode='symmetric'), 4095).astype(np.uint16), 12),
    }
    for name, (pixels, bits) in inputs.items():
        write_dicom(os.path.join(outdir, name + '.dcm'), pixels, bits)
    # name, input, dcmcjpeg options, whether dcmdjpeg's decoding is the reference
    plan = [
        ('ct8-baseline-q90', 'ct8', ['+eb'], True),
        ('ct8-baseline-q50-standard-tables', 'ct8', ['+eb', '+q', '50', '-ho'], True),
        ('ct8-baseline-q100', 'ct8', ['+eb', '+q', '100'], True),
        ('ct8-extended-q75', 'ct8', ['+ee', '+q', '75'], True),
        ('ct12-extended-q90', 'ct12', ['+ee'], True),
        ('ct12-extended-q40', 'ct12', ['+ee', '+q', '40'], True),
        ('ct12-extended-q100', 'ct12', ['+ee', '+q', '100'], True),
        ('ct12-512-extended-q90', 'ct12-512', ['+ee'], True),
        ('ct8-progressive', 'ct8', ['+ep'], False),
        ('ct12-lossless', 'ct12', ['+e1'], False),
    ]
    listed = []
    for name, source, flags, decoded in plan:
        compressed = os.path.join(outdir, name + '.dcm')
        run('dcmcjpeg', *flags, os.path.join(outdir, source + '.dcm'), compressed)
        stream = first_frame(compressed)
        open(os.path.join(outdir, name + '.jpg'), 'wb').write(stream)
        if decoded:
            write_reference(compressed, os.path.join(outdir, name + '.ref'))
        _, bits, height, width = frame_header(stream)
        listed.append({'name': name, 'width': width, 'height': height, 'bits': bits, 'reference': decoded})
    for name, decoded in [('JPEG-lossy', True), ('JPGExtended', True), ('SC_jpeg_no_color_transform', False)]:
        path = os.path.join(PYDICOM_FILES, name + '.dcm')
        stream = first_frame(path)
        open(os.path.join(outdir, 'pydicom-' + name + '.jpg'), 'wb').write(stream)
        if decoded:
            write_reference(path, os.path.join(outdir, 'pydicom-' + name + '.ref'))
        _, bits, height, width = frame_header(stream)
        listed.append({'name': 'pydicom-' + name, 'width': width, 'height': height, 'bits': bits, 'reference': decoded})
    json.dump(listed, open(os.path.join(outdir, 'cases.json'), 'w'), indent=1)


def decode(paths):
    for path in paths:
        stream = open(path, 'rb').read()
        marker, bits, height, width = frame_header(stream)
        with tempfile.TemporaryDirectory() as tmp:
            wrapped = os.path.join(tmp, 'wrapped.dcm')
            write_dicom(wrapped, np.zeros((height, width)), bits, BASELINE if marker == 0xc0 else EXTENDED, stream)
            shape = write_reference(wrapped, path[:-len('.jpg')] + '.ref')
        assert shape == (height, width), (path, shape)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'cases':
        cases(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == 'decode':
        decode(sys.argv[2:])
    else:
        sys.exit(__doc__)
