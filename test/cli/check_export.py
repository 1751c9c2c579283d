"""Checks an nnU-Net v2 or MSD raw dataset folder the way nnU-Net's verify_dataset_integrity does
(dataset.json fields, one image per case, labels on the image grid, label values declared) using
nibabel. Prints one JSON object: {"ok": bool, "problems": [...], "cases": N, ...}."""
import json
import os
import sys

import nibabel as nib
import numpy as np


def main(folder: str, fmt: str) -> dict:
    problems = []
    with open(os.path.join(folder, "dataset.json")) as f:
        ds = json.load(f)
    labels_dir = os.path.join(folder, "labelsTr")
    images_dir = os.path.join(folder, "imagesTr")
    label_files = sorted(x for x in os.listdir(labels_dir) if x.endswith(".nii.gz"))
    if fmt == "nnunet":
        for key in ("channel_names", "labels", "numTraining", "file_ending"):
            if key not in ds:
                problems.append(f"dataset.json lacks {key}")
        labels = ds.get("labels", {})
        if labels.get("background") != 0:
            problems.append("labels must map background to 0")
        values = sorted(labels.values())
        if values != list(range(len(values))):
            problems.append(f"label values must be consecutive from 0, got {values}")
        declared = set(values)
        ending = ds.get("file_ending")
        ids = [x[: -len(ending)] for x in label_files]
        image_of = lambda case: [os.path.join(images_dir, f"{case}_{c:04d}{ending}") for c in range(len(ds["channel_names"]))]
    else:
        for key in ("name", "modality", "labels", "numTraining", "training"):
            if key not in ds:
                problems.append(f"dataset.json lacks {key}")
        declared = set(int(k) for k in ds.get("labels", {}))
        ids = [x[: -len(".nii.gz")] for x in label_files]
        listed = sorted(os.path.basename(t["label"])[: -len(".nii.gz")] for t in ds.get("training", []))
        if listed != ids:
            problems.append(f"training list {listed} differs from labelsTr {ids}")
        image_of = lambda case: [os.path.join(images_dir, f"{case}.nii.gz")]
    if ds.get("numTraining") != len(label_files):
        problems.append(f"numTraining {ds.get('numTraining')} but {len(label_files)} label files")
    expected_images = set()
    found_values = set()
    for case in ids:
        seg = nib.load(os.path.join(labels_dir, case + ".nii.gz"))
        seg_data = np.asanyarray(seg.dataobj)
        if not np.issubdtype(seg_data.dtype, np.integer):
            problems.append(f"{case}: label dtype {seg_data.dtype} is not integer")
        vals = set(int(v) for v in np.unique(seg_data))
        found_values |= vals
        if not vals <= declared:
            problems.append(f"{case}: label values {sorted(vals - declared)} not declared in dataset.json")
        for path in image_of(case):
            expected_images.add(os.path.basename(path))
            if not os.path.exists(path):
                problems.append(f"{case}: image {os.path.basename(path)} missing")
                continue
            img = nib.load(path)
            if img.shape[:3] != seg.shape[:3]:
                problems.append(f"{case}: shape {seg.shape} differs from image {img.shape}")
            if not np.allclose(img.affine, seg.affine, atol=1e-4):
                problems.append(f"{case}: affine differs from the image's")
    extra = sorted(set(os.listdir(images_dir)) - expected_images)
    if extra:
        problems.append(f"imagesTr holds files of no case: {extra}")
    return {"ok": not problems, "problems": problems, "cases": len(ids), "values": sorted(found_values)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
