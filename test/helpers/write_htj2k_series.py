"""Compress an uncompressed DICOM series to High-Throughput JPEG 2000 with OpenJPH's own tools.

    write_htj2k_series.py IN_DIR OUT_DIR [--lossy QSTEP] [--reference REF_DIR]

Each file of IN_DIR (single-frame, grey) is written to OUT_DIR with its pixels compressed by
ojph_compress (Debian openjph-tools): reversible (transfer syntax 1.2.840.10008.1.2.4.201) or, with
--lossy, irreversible with that quantisation step (.203). --reference writes the same series with
ojph_expand's decoding of each lossy stream as uncompressed pixels (the reference decoder).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument('indir')
    p.add_argument('outdir')
    p.add_argument('--lossy', type=float)
    p.add_argument('--reference')
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    if a.reference:
        os.makedirs(a.reference, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(a.indir)):
            ds = pydicom.dcmread(os.path.join(a.indir, name))
            pixels = ds.pixel_array
            signed = ds.PixelRepresentation == 1
            raw, j2c, back = (os.path.join(tmp, n) for n in ('in.yuv', 'out.j2c', 'back.yuv'))
            pixels.astype('<i2' if signed else '<u2').tofile(raw)
            args = ['ojph_compress', '-i', raw, '-o', j2c, '-dims', f'{{{ds.Columns},{ds.Rows}}}', '-num_comps', '1',
                    '-signed', 'true' if signed else 'false', '-bit_depth', str(ds.BitsStored), '-downsamp', '{1,1}']
            args += ['-reversible', 'false', '-qstep', str(a.lossy)] if a.lossy else ['-reversible', 'true']
            subprocess.run(args, check=True, capture_output=True)
            stream = open(j2c, 'rb').read()
            if a.reference:
                subprocess.run(['ojph_expand', '-i', j2c, '-o', back], check=True, capture_output=True)
                decoded = np.fromfile(back, dtype='<i2' if signed else '<u2').reshape(pixels.shape)
                ref = pydicom.dcmread(os.path.join(a.indir, name))
                ref.PixelData = decoded.astype(pixels.dtype).tobytes()
                ref.save_as(os.path.join(a.reference, name), write_like_original=False)
            ds.file_meta.TransferSyntaxUID = '1.2.840.10008.1.2.4.203' if a.lossy else '1.2.840.10008.1.2.4.201'
            ds.PixelData = encapsulate([stream])
            ds['PixelData'].VR = 'OB'
            ds['PixelData'].is_undefined_length = True
            # This pydicom does not know the HTJ2K syntaxes, so dcmwrite refuses them: write by hand.
            fp = DicomBytesIO()
            fp.is_little_endian, fp.is_implicit_VR = True, False
            fp.write(b'\0' * 128 + b'DICM')
            write_file_meta_info(fp, ds.file_meta, enforce_standard=True)
            write_dataset(fp, ds)
            with open(os.path.join(a.outdir, name), 'wb') as out:
                out.write(fp.getvalue())
    return 0


if __name__ == '__main__':
    sys.exit(main())
