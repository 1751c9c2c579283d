#!/usr/bin/python3
"""Write an RT Structure Set on a DICOM series (test helper).

    write_rtstruct.py SERIES_DIR OUT.dcm

Structures, in voxel units of the series (slice k = k-th along z): "GTV", an ellipse growing with
k on slices 2-6; "BODY", a quadrilateral on slices 1-8; "Ring", a disc with a hole (an outer and an
inner contour) on slices 3-5; "Hole", the inner disc alone on the same slices. Needs pydicom.
"""
import sys, glob, os, numpy as np, pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
ct = sorted((pydicom.dcmread(f) for f in glob.glob(os.path.join(sys.argv[1], '*.dcm'))), key=lambda d: float(d.ImagePositionPatient[2]))
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
x0, y0 = float(ct[0].ImagePositionPatient[0]), float(ct[0].ImagePositionPatient[1])
sp = float(ct[0].PixelSpacing[0])
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
        z = float(d.ImagePositionPatient[2])
        polys = []
        if num == 1 and 2 <= k <= 6: polys = [poly(x0 + 30 * sp, y0 + 20 * sp, (6 + k) * sp, rx=1.3)]
        if num == 2 and 1 <= k <= 8: polys = [[(x0 + 3.3 * sp, y0 + 2.7 * sp), (x0 + 60.2 * sp, y0 + 4.1 * sp), (x0 + 55.5 * sp, y0 + 44.6 * sp), (x0 + 8.4 * sp, y0 + 40.0 * sp)]]
        if num == 3 and 3 <= k <= 5: polys = [poly(x0 + 45 * sp, y0 + 30 * sp, 9 * sp), poly(x0 + 45 * sp, y0 + 30 * sp, 4.5 * sp)]
        if num == 4 and 3 <= k <= 5: polys = [poly(x0 + 45 * sp, y0 + 30 * sp, 4.5 * sp)]
        for p in polys:
            c = Dataset(); c.ContourGeometricType = 'CLOSED_PLANAR'; c.NumberOfContourPoints = len(p)
            c.ContourData = [v for (x, y) in p for v in (round(x, 4), round(y, 4), round(z, 4))]
            ci = Dataset(); ci.ReferencedSOPClassUID = d.SOPClassUID; ci.ReferencedSOPInstanceUID = d.SOPInstanceUID
            c.ContourImageSequence = [ci]; cs.append(c)
    rc.ContourSequence = cs; contours.append(rc)
    o = Dataset(); o.ObservationNumber = num; o.ReferencedROINumber = num; o.RTROIInterpretedType = 'GTV' if num == 1 else 'EXTERNAL' if num == 2 else 'ORGAN'; o.ROIInterpreter = ''; obs.append(o)
ds.StructureSetROISequence = rois; ds.ROIContourSequence = contours; ds.RTROIObservationsSequence = obs
ds.StructureSetLabel = 'test'; ds.StructureSetDate = '20261207'; ds.StructureSetTime = '120000'
ds.save_as(out, write_like_original=False)
