#!/usr/bin/python3
"""Write a NIfTI volume out as a classic single-frame DICOM series (one file per slice).

Test helper: the series lets a DICOM reader be checked against the NIfTI it came from,
so the geometry is exact: NIfTI axis i -> DICOM column, j -> DICOM row, k -> slice, and
the RAS affine is converted to DICOM's LPS patient coordinates.

    write_dicom_series.py IN.nii[.gz] OUTDIR [--modality CT|MR|PT] [--stored uint16|int16]
        [--slope S] [--intercept I] [--slope-per-slice]
        [--transfer explicit|implicit|bigendian|deflate|rle] [--names numbered|shuffled|noext]
        [--series-number N] [--series-description TEXT] [--series-uid UID]
        [--drop-slice K] [--tilt-mm T] [--crop i0,i1,j0,j1,k0,k1] [--rotate-deg D] [--seed N]
        [--multiframe]
        [--units BQML|GML|CNTS] [--pet-weight KG] [--pet-dose BQ] [--pet-half-life S]
        [--pet-injection HHMMSS] [--series-time HHMMSS] [--acquisition-time HHMMSS]
        [--decay-correction START|ADMIN|NONE]   (PT: the tags of an SUV computation)
        [--volumes echo|diffusion|siemens-diffusion|temporal|untagged:N]   (N volumes at every
        position, volume v holding the values + 100 v, told apart by those tags or by none)

Needs pydicom >= 2.2 (native RLE encoder and deflate writing), nibabel and numpy.
Prints one line: the number of files written and OUTDIR.
"""
import argparse
import os
import sys

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
                         ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless,
                         generate_uid)
from pydicom.valuerep import format_number_as_ds

SOP_CLASS = {'CT': '1.2.840.10008.5.1.4.1.1.2', 'MR': '1.2.840.10008.5.1.4.1.1.4',
             'PT': '1.2.840.10008.5.1.4.1.1.128'}
TRANSFER = {'explicit': ExplicitVRLittleEndian, 'implicit': ImplicitVRLittleEndian,
            'bigendian': ExplicitVRBigEndian, 'deflate': DeflatedExplicitVRLittleEndian,
            'rle': RLELossless}


def ds_str(values):
    # DS is limited to 16 characters; format explicitly so pydicom never truncates or warns.
    return [format_number_as_ds(float(v)) for v in values]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('input')
    p.add_argument('outdir')
    p.add_argument('--modality', choices=sorted(SOP_CLASS), default='CT')
    p.add_argument('--stored', choices=['uint16', 'int16'],
                   help='default uint16 for CT, int16 otherwise')
    p.add_argument('--slope', type=float, default=1.0)
    p.add_argument('--intercept', type=float, help='default -1024 for CT, 0 otherwise')
    p.add_argument('--slope-per-slice', action='store_true',
                   help='slice k uses slope S*(1+0.1*(k%%3))')
    p.add_argument('--transfer', choices=list(TRANSFER), default='explicit')
    p.add_argument('--names', choices=['numbered', 'shuffled', 'noext'], default='numbered')
    p.add_argument('--series-number', type=int, default=1)
    p.add_argument('--series-description', default='test series')
    p.add_argument('--series-uid')
    p.add_argument('--drop-slice', type=int, help='do not write slice K (0-based)')
    p.add_argument('--tilt-mm', type=float, default=0.0,
                   help='shift slice k by k*T along the column direction (gantry tilt)')
    p.add_argument('--crop', help='i0,i1,j0,j1,k0,k1 (0-based, end exclusive)')
    p.add_argument('--rotate-deg', type=float, default=0.0,
                   help='rotate the (cropped) affine by D degrees about world x, then D about z: an oblique series')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--multiframe', action='store_true',
                   help='one enhanced multi-frame file (explicit VR LE): geometry in the functional groups')
    p.add_argument('--units', default='BQML', help='PT: Units (0054,1001)')
    p.add_argument('--pet-weight', help='PT: PatientWeight in kg')
    p.add_argument('--pet-dose', help='PT: RadionuclideTotalDose in Bq')
    p.add_argument('--pet-half-life', help='PT: RadionuclideHalfLife in s')
    p.add_argument('--pet-injection', help='PT: RadiopharmaceuticalStartTime (HHMMSS)')
    p.add_argument('--series-time', help='SeriesDate 20261207 and this SeriesTime (HHMMSS)')
    p.add_argument('--acquisition-time', help='AcquisitionTime of slice k: this time (HHMMSS) + k s')
    p.add_argument('--decay-correction', help='PT: DecayCorrection (0054,1102)')
    p.add_argument('--volumes', help='KIND:N, N volumes at every position (values + 100 v)')
    a = p.parse_args(argv)
    if a.stored is None:
        a.stored = 'uint16' if a.modality == 'CT' else 'int16'
    if a.intercept is None:
        a.intercept = -1024.0 if a.modality == 'CT' else 0.0
    return a


def load_volume(path, crop):
    img = nib.load(path)
    data = img.get_fdata()  # scaled values (scl_slope/scl_inter applied)
    while data.ndim > 3:  # keep the first 3-D frame
        data = data[..., 0]
    while data.ndim < 3:
        data = data[..., np.newaxis]
    affine = img.affine.copy()
    if crop:
        i0, i1, j0, j1, k0, k1 = (int(v) for v in crop.split(','))
        data = data[i0:i1, j0:j1, k0:k1]
        shift = np.eye(4)
        shift[:3, 3] = [i0, j0, k0]
        affine = affine @ shift  # voxel (0,0,0) of the crop is voxel (i0,j0,k0) of the original
    if 0 in data.shape:
        sys.exit('empty volume after crop: %s' % (data.shape,))
    return data, affine


def file_names(n, how, rng):
    if how == 'numbered':
        return ['IM%04d.dcm' % (k + 1) for k in range(n)]
    if how == 'shuffled':
        # Same names, but file order != slice order (a reader must sort by geometry).
        perm = np.arange(n)
        while n > 1 and np.array_equal(perm, np.arange(n)):
            perm = rng.permutation(n)
        return ['IM%04d.dcm' % (p + 1) for p in perm]
    picks = rng.choice(900000, size=n, replace=False) + 100000  # unique, no extension
    return ['I%d' % v for v in picks]


def main(argv=None):
    a = parse_args(argv)
    data, A = load_volume(a.input, a.crop)
    if a.rotate_deg:
        t = np.radians(a.rotate_deg)
        c, s = np.cos(t), np.sin(t)
        rx = np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1]])
        rz = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        A = rz @ rx @ A
    ni, nj, nk = data.shape
    L = np.diag([-1.0, -1.0, 1.0, 1.0]) @ A  # RAS -> LPS (DICOM patient coordinates)
    col_sp, row_sp, slice_sp = (np.linalg.norm(L[:3, c]) for c in range(3))
    row_cos = L[:3, 0] / col_sp  # direction of increasing column index (NIfTI i)
    col_cos = L[:3, 1] / row_sp  # direction of increasing row index (NIfTI j)
    dtype = np.dtype(a.stored)
    info = np.iinfo(dtype)
    ts = TRANSFER[a.transfer]
    rng = np.random.default_rng(a.seed)
    names = file_names(nk, a.names, rng)
    study_uid, frame_uid = generate_uid(), generate_uid()
    series_uid = a.series_uid or generate_uid()
    os.makedirs(a.outdir, exist_ok=True)

    if a.multiframe:
        write_multiframe(a, data, L, row_cos, col_cos, (row_sp, col_sp, slice_sp), dtype, study_uid, frame_uid, series_uid)
        return

    kind, n_volumes = (a.volumes.split(':')[0], int(a.volumes.split(':')[1])) if a.volumes else ('', 1)
    written = clipped = 0
    for v, k in [(v, k) for v in range(n_volumes) for k in range(nk)]:
        if k == a.drop_slice:
            continue
        slope = a.slope * (1 + 0.1 * (k % 3)) if a.slope_per_slice else a.slope
        vals = np.round((data[:, :, k].T + 100 * v - a.intercept) / slope)  # rows = j, columns = i
        clipped += int(np.count_nonzero((vals < info.min) | (vals > info.max)))
        arr = np.clip(vals, info.min, info.max).astype(dtype)
        pos = (L @ [0, 0, k, 1])[:3] + k * a.tilt_mm * col_cos

        sop_uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SOP_CLASS[a.modality]
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ts
        path = os.path.join(a.outdir, ('v%d_' % v if n_volumes > 1 else '') + names[k])
        ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
        ds.is_little_endian = ts != ExplicitVRBigEndian
        ds.is_implicit_VR = ts == ImplicitVRLittleEndian
        ds.SOPClassUID = SOP_CLASS[a.modality]
        ds.SOPInstanceUID = sop_uid
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.Modality = a.modality
        ds.PatientName = 'Test^Series'
        ds.PatientID = 'TEST'
        ds.SeriesNumber = a.series_number
        ds.SeriesDescription = a.series_description
        ds.InstanceNumber = v * nk + k + 1
        if kind == 'echo':
            ds.EchoNumbers, ds.EchoTime = v + 1, ds_str([10.0 + 12.5 * v])[0]
        elif kind == 'temporal':
            ds.TemporalPositionIdentifier = v + 1
        elif kind == 'diffusion':
            # b=0, then b=1000 along x, y and z (in the order z, y, x, to check the ordering).
            ds.add_new(0x00189087, 'FD', 0.0 if v == 0 else 1000.0)
            ds.add_new(0x00189089, 'FD', [0.0, 0.0, 0.0] if v == 0 else [[0, 0, 1.0], [0, 1.0, 0], [1.0, 0, 0]][(v - 1) % 3])
        elif kind == 'siemens-diffusion':
            ds.add_new(0x0019100c, 'IS', 0 if v == 0 else 800)
            ds.add_new(0x0019100e, 'FD', [0.0, 0.0, 0.0] if v == 0 else [0.6, 0.8, 0.0])
        ds.ImagePositionPatient = ds_str(pos)
        ds.ImageOrientationPatient = ds_str(list(row_cos) + list(col_cos))
        ds.PixelSpacing = ds_str([row_sp, col_sp])  # spacing between rows first
        ds.SliceThickness = ds_str([slice_sp])[0]
        ds.SpacingBetweenSlices = ds_str([slice_sp])[0]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = 'MONOCHROME2'
        ds.Rows, ds.Columns = nj, ni
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 1 if dtype == np.int16 else 0
        ds.RescaleIntercept = ds_str([a.intercept])[0]
        ds.RescaleSlope = ds_str([slope])[0]
        if a.modality == 'CT':
            ds.RescaleType = 'HU'
        if a.modality == 'PT':
            ds.Units = a.units
            if a.decay_correction:
                ds.DecayCorrection = a.decay_correction
            if a.pet_weight:
                ds.PatientWeight = a.pet_weight
            if a.pet_dose or a.pet_half_life or a.pet_injection:
                drug = Dataset()
                if a.pet_dose:
                    drug.RadionuclideTotalDose = a.pet_dose
                if a.pet_half_life:
                    drug.RadionuclideHalfLife = a.pet_half_life
                if a.pet_injection:
                    drug.RadiopharmaceuticalStartTime = a.pet_injection
                ds.RadiopharmaceuticalInformationSequence = [drug]
        if a.series_time:
            ds.SeriesDate, ds.SeriesTime = '20261207', a.series_time
        if a.acquisition_time:
            t = int(a.acquisition_time[:2]) * 3600 + int(a.acquisition_time[2:4]) * 60 + int(a.acquisition_time[4:6]) + k
            ds.AcquisitionDate = '20261207'
            ds.AcquisitionTime = '%02d%02d%02d' % (t // 3600, t // 60 % 60, t % 60)
        if ts == RLELossless:
            ds.compress(RLELossless, arr)  # pydicom's native RLE encoder; sets PixelData
        else:
            # pydicom writes PixelData bytes as given, so they must already be in the
            # dataset's byte order.
            order = '>' if ts == ExplicitVRBigEndian else '<'
            ds.PixelData = arr.astype(dtype.newbyteorder(order)).tobytes()
            ds['PixelData'].VR = 'OW'
        ds.save_as(path, write_like_original=False)
        written += 1

    if clipped:
        print('warning: %d voxel values clipped to the %s range' % (clipped, a.stored),
              file=sys.stderr)
    print('%d files written to %s' % (written, a.outdir))


def write_multiframe(a, data, L, row_cos, col_cos, spacing, dtype, study_uid, frame_uid, series_uid):
    """Enhanced CT/MR Image Storage: one file, shared pixel measures, orientation and rescale;
    a PlanePositionSequence per frame (frames written in slice order)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    ni, nj, nk = data.shape
    row_sp, col_sp, slice_sp = spacing
    sop_class = {'CT': '1.2.840.10008.5.1.4.1.1.2.1', 'MR': '1.2.840.10008.5.1.4.1.1.4.1'}[a.modality]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = os.path.join(a.outdir, 'MF0001.dcm')
    ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
    ds.Modality, ds.PatientName, ds.PatientID = a.modality, 'Test^Series', 'TEST'
    ds.SeriesNumber, ds.SeriesDescription, ds.InstanceNumber = a.series_number, a.series_description, 1
    ds.NumberOfFrames = nk
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.Rows, ds.Columns = nj, ni
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1 if dtype == np.int16 else 0
    measures, orientation, rescale, shared = Dataset(), Dataset(), Dataset(), Dataset()
    measures.PixelSpacing = ds_str([row_sp, col_sp])
    measures.SliceThickness = ds_str([slice_sp])[0]
    orientation.ImageOrientationPatient = ds_str(list(row_cos) + list(col_cos))
    rescale.RescaleIntercept, rescale.RescaleSlope = ds_str([a.intercept])[0], ds_str([a.slope])[0]
    rescale.RescaleType = 'HU' if a.modality == 'CT' else 'US'
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orientation])
    shared.PixelValueTransformationSequence = Sequence([rescale])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames, planes = [], []
    info = np.iinfo(dtype)
    for k in range(nk):
        position, frame = Dataset(), Dataset()
        position.ImagePositionPatient = ds_str((L @ [0, 0, k, 1])[:3] + k * a.tilt_mm * col_cos)
        frame.PlanePositionSequence = Sequence([position])
        planes.append(frame)
        vals = np.round((data[:, :, k].T - a.intercept) / a.slope)
        frames.append(np.clip(vals, info.min, info.max).astype(dtype.newbyteorder('<')).tobytes())
    ds.PerFrameFunctionalGroupsSequence = Sequence(planes)
    ds.PixelData = b''.join(frames)
    ds['PixelData'].VR = 'OW'
    os.makedirs(a.outdir, exist_ok=True)
    ds.save_as(path, write_like_original=False)
    print('1 file (%d frames) written to %s' % (nk, a.outdir))


if __name__ == '__main__':
    main()
