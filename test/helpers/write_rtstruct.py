#!/usr/bin/python3
"""Write an RT Structure Set on a DICOM series (test helper).

    write_rtstruct.py SERIES_DIR OUT.dcm

Structures, in pixel units of the series' slices (slice k = k-th along the slice normal; oblique
series too): "GTV", an ellipse growing with
k on slices 2-6; "BODY", a quadrilateral on slices 1-8; "Ring", a disc with a hole (an outer and an
inner contour) on slices 3-5; "Hole", the inner disc alone on the same slices. Needs pydicom.
"""
import sys, glob, os, numpy as np, pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
ct = [pydicom.dcmread(f) for f in glob.glob(os.path.join(sys.argv[1], '*.dcm'))]
_o = [float(v) for v in ct[0].ImageOrientationPatient]
_normal = np.cross(_o[:3], _o[3:])
ct.sort(key=lambda d: float(np.dot(_normal, [float(v) for v in d.ImagePositionPatient])))
out = sys.argv[2]
meta = FileMetaDataset(); meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.481.3'
meta.MediaStorageSOPInstanceUID = generate_uid(); meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = FileDataset(out, {}, file_meta=meta, preamble=b'\0' * 128)
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, 'RTSTRUCT'
ds.PatientName, ds.PatientID = ct[0].PatientName, ct[0].PatientID
ds.StudyInstanceUID, ds.SeriesInstanceUID = ct[0].StudyInstanceUID, generate_uid()
ds.FrameOfReferenceUID = ct[0].FrameOfReferenceUID
rfor = Dataset(); rfor.FrameOfReferenceUID = ct[0].FrameOfReferenceUID
study = Dataset(); study.ReferencedSOPClassUID = '1.2.840.10008.3.1.2.3.1'; study.ReferencedSOPInstanceUID = ct[0].StudyInstanceUID
ser = Dataset(); ser.SeriesInstanceUID = ct[0].SeriesInstanceUID
imgs = []
for d in ct:
    c = Dataset(); c.ReferencedSOPClassUID = d.SOPClassUID; c.ReferencedSOPInstanceUID = d.SOPInstanceUID; imgs.append(c)
ser.ContourImageSequence = imgs; study.RTReferencedSeriesSequence = [ser]; rfor.RTReferencedStudySequence = [study]
ds.ReferencedFrameOfReferenceSequence = [rfor]
# Contours are drawn in the slices' own pixel units (i along a row, j down a column) and placed by
# each slice's ImagePositionPatient and ImageOrientationPatient, so oblique series work too.
iop = np.array([float(v) for v in ct[0].ImageOrientationPatient])
sp = float(ct[0].PixelSpacing[0])
def world(d, i, j):
    return np.array([float(v) for v in d.ImagePositionPatient]) + i * sp * iop[:3] + j * sp * iop[3:]
rois, contours, obs = [], [], []
def poly(cx, cy, r, n=40, rx=1.0):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return [(cx + r * rx * np.cos(a), cy + r * np.sin(a)) for a in t]
shapes = {1: ('GTV', [255, 0, 0]), 2: ('BODY', [0, 255, 0]), 3: ('Ring', [0, 0, 255]), 4: ('Hole', [255, 255, 0])}
for num, (name, color) in shapes.items():
    r = Dataset(); r.ROINumber = num; r.ReferencedFrameOfReferenceUID = ct[0].FrameOfReferenceUID; r.ROIName = name; r.ROIGenerationAlgorithm = 'MANUAL'; rois.append(r)
    rc = Dataset(); rc.ReferencedROINumber = num; rc.ROIDisplayColor = color
    cs = []
    for k, d in enumerate(ct):
        polys = []
        if num == 1 and 2 <= k <= 6: polys = [poly(30, 20, 6 + k, rx=1.3)]
        if num == 2 and 1 <= k <= 8: polys = [[(3.3, 2.7), (60.2, 4.1), (55.5, 44.6), (8.4, 40.0)]]
        if num == 3 and 3 <= k <= 5: polys = [poly(45, 30, 9), poly(45, 30, 4.5)]
        if num == 4 and 3 <= k <= 5: polys = [poly(45, 30, 4.5)]
        for p in polys:
            c = Dataset(); c.ContourGeometricType = 'CLOSED_PLANAR'; c.NumberOfContourPoints = len(p)
            c.ContourData = [round(float(v), 4) for (i, j) in p for v in world(d, i, j)]
            ci = Dataset(); ci.ReferencedSOPClassUID = d.SOPClassUID; ci.ReferencedSOPInstanceUID = d.SOPInstanceUID
            c.ContourImageSequence = [ci]; cs.append(c)
    rc.ContourSequence = cs; contours.append(rc)
    o = Dataset(); o.ObservationNumber = num; o.ReferencedROINumber = num; o.RTROIInterpretedType = 'GTV' if num == 1 else 'EXTERNAL' if num == 2 else 'ORGAN'; o.ROIInterpreter = ''; obs.append(o)
ds.StructureSetROISequence = rois; ds.ROIContourSequence = contours; ds.RTROIObservationsSequence = obs
ds.StructureSetLabel = 'test'; ds.StructureSetDate = '20261207'; ds.StructureSetTime = '120000'
ds.save_as(out, write_like_original=False)
