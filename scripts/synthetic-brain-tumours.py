# Synthetic whole brain tumours as FLAIR shows them, put into the three real MS FLAIR brains of
# ../shared/data (we have no brain-tumour data): 4 per brain, each an irregular body (a sphere of
# radius 15–32 mm warped by smoothed noise), oedema 1.3–1.7× brighter than white matter with
# texture, a core 1.05–1.45× and a necrotic centre 0.6–1.2×, blurred by σ 0.8 mm (partial volume).
# The mask is the whole tumour. Used for the robot user's "brain tumour" figures in
# docs/interactive-segmentation.md; it is a proxy, not data: the method's figures on real tumours
# may differ.
# Usage: /usr/bin/python3 scripts/synthetic-brain-tumours.py OUT_DIR   (needs nibabel and scipy)
#
# `--white-matter-oedema --patients patient19,patient26 --per-brain N --seed S --radius LO,HI`
# makes the other kind (the brain-tumour starter's training cases, docs/training-recipe.md):
# oedema that follows white matter (niivue's MNI152 partial-volume segmentation, resampled by the
# affines; vasogenic oedema spreads along white matter and spares the cortex) and replaces the
# tissue's value at 1.4–1.9× white matter, a core 1.1–1.5× and necrosis 0.6–1.2× in any tissue,
# partial volume σ 0.8 mm. `--scanner-variety` widens that to what real (BraTS) FLAIRs show: oedema
# 1.4–2.6×, a core 1.1–2.0×, necrosis or a fluid cavity 0.2–1.2×, and a smooth multiplicative bias
# field over the whole brain, exp(b · a unit-SD noise field smoothed by σ 30 voxels), b 0.05–0.3 (one SD
# of up to ±30 %: BraTS ships FLAIR without bias correction). `--infiltrating P`: that share of the
# tumours takes every tissue in its reach, cortex included (an infiltrating glioma: BRATS pat0006 is
# a fifth of the brain); `--cavities P`: that share gets a fluid-dark cavity (0.1–0.5× white matter,
# 0.3–0.6 of the radius) centred 20–80 % of the way to the nearest brain surface (a resection
# cavity or cyst: BRATS pat0005).
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage as nd

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../shared/data/lesion/ms-flair-mni')
FLAIR = 'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz'
MASK = 'GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz'
PVESEG = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../shared/data/normal/niivue_images/mni152_pveseg.nii.gz')


def save_case(out, n, im, image, whole, description):
    """OUT/caseNN/image.nii.gz and mask.nii.gz (uint8) on the source image's grid."""
    case = os.path.join(out, f'case{n:02d}')
    os.makedirs(case, exist_ok=True)
    nib.save(nib.Nifti1Image(image, im.affine, im.header), os.path.join(case, 'image.nii.gz'))
    header = im.header.copy()
    header.set_data_dtype(np.uint8)
    nib.save(nib.Nifti1Image(whole.astype(np.uint8), im.affine, header), os.path.join(case, 'mask.nii.gz'))
    print(case, description, flush=True)


def main(out):
    rng = np.random.default_rng(7)
    n = 0
    for patient in ['patient07', 'patient19', 'patient26']:
        im = nib.load(os.path.join(DATA, patient, FLAIR))
        a = im.get_fdata().astype(np.float32)
        lesions = nib.load(os.path.join(DATA, patient, MASK)).get_fdata() > 0
        brain = nd.binary_fill_holes(a > 0)
        depth = nd.distance_transform_edt(brain)
        white = np.median(a[(depth > 15) & ~lesions])
        csf = a < np.percentile(a[brain], 8)
        allowed = nd.binary_erosion(brain, iterations=2) & ~csf
        grid = np.indices(a.shape).astype(np.float32)

        def field(sigma):
            f = nd.gaussian_filter(rng.standard_normal(a.shape).astype(np.float32), sigma)
            return f / f.std()

        for _ in range(4):
            candidates = np.argwhere((depth > 28) & ~lesions)
            c = candidates[rng.integers(len(candidates))]
            radius = rng.uniform(15, 32)
            d = np.sqrt(sum((grid[i] - c[i]) ** 2 for i in range(3)))
            f1, f2 = field(5), field(3)
            whole = (d / radius + 0.3 * f1 < 1) & allowed
            labels, _ = nd.label(whole)
            keep = labels[tuple(c)] if labels[tuple(c)] else np.argmax(np.bincount(labels.ravel())[1:]) + 1
            whole = nd.binary_fill_holes(labels == keep)
            core = (d / (0.5 * radius) + 0.3 * f2 < 1) & whole
            necrosis = (d / (0.25 * radius) + 0.3 * f2 < 1) & whole
            oedema_gain, core_gain, necrosis_gain = rng.uniform(1.3, 1.7), rng.uniform(1.05, 1.45), rng.uniform(0.6, 1.2)
            gain = np.ones_like(a)
            gain[whole] = oedema_gain * (1 + 0.07 * field(1.5)[whole])
            gain[core] = core_gain * (1 + 0.12 * field(1.0)[core])
            gain[necrosis] = necrosis_gain
            gain = nd.gaussian_filter(gain, 0.8)
            # Fluid inside the tumour becomes tissue first (the tumour displaces it).
            base = np.where(whole & (a < 0.7 * white), white * 0.95, a)
            image = np.where(brain, base * gain, a).astype(np.float32)
            n += 1
            save_case(out, n, im, image, whole, f'{patient} centre {c.tolist()} radius {round(radius, 1)} voxels {int(whole.sum())}')


def white_matter_oedema(out, patients, per_brain, seed, radius_mm, variety=False, infiltrating=0.0, cavities=0.0):
    rng = np.random.default_rng(seed)
    seg = nib.load(PVESEG)
    white_matter_label = (np.asanyarray(seg.dataobj) == 3).astype(np.float32)
    n = 0
    for patient in patients:
        im = nib.load(os.path.join(DATA, patient, FLAIR))
        a = im.get_fdata().astype(np.float32)
        # The segmentation's white-matter probability at every voxel, through world coordinates.
        ijk = np.indices(a.shape).reshape(3, -1)
        world = im.affine[:3, :3] @ ijk + im.affine[:3, 3:4]
        inverse = np.linalg.inv(seg.affine)
        wm_prob = nd.map_coordinates(white_matter_label, inverse[:3, :3] @ world + inverse[:3, 3:4], order=1).reshape(a.shape)
        lesions = nib.load(os.path.join(DATA, patient, MASK)).get_fdata() > 0
        brain = nd.binary_fill_holes(a > 0)
        depth = nd.distance_transform_edt(brain)
        wm = (wm_prob > 0.5) & brain
        white = np.median(a[wm & (depth > 15) & ~lesions])
        grid = np.indices(a.shape).astype(np.float32)

        def field(sigma):
            f = nd.gaussian_filter(rng.standard_normal(a.shape).astype(np.float32), sigma)
            return f / f.std()

        candidates = np.argwhere((depth > 25) & wm & ~lesions)
        for _ in range(per_brain):
            c = candidates[rng.integers(len(candidates))]
            radius = rng.uniform(*radius_mm)
            d = np.sqrt(sum((grid[i] - c[i]) ** 2 for i in range(3)))
            f1, f2 = field(5), field(3)
            reach = (d / radius + 0.3 * f1 < 1) & brain
            core = (d / (0.45 * radius) + 0.3 * f2 < 1) & brain
            necrosis = (d / (0.22 * radius) + 0.3 * f2 < 1) & brain
            # An infiltrating glioma takes the cortex too (BraTS pat0006: a fifth of the brain).
            spreads = rng.uniform() < infiltrating
            whole = reach | core if spreads else (reach & nd.binary_dilation(wm, iterations=1)) | core
            cavity = rng.uniform() < cavities
            if cavity:
                # A fluid-dark cavity (resection or cyst) off the centre, towards and often through
                # the brain's surface, inside the tumour (BraTS pat0005).
                towards = np.argwhere(brain & (depth < 3))
                edge_point = towards[np.argmin(((towards - c) ** 2).sum(1))]
                centre = c + rng.uniform(0.2, 0.8) * (edge_point - c)
                dc = np.sqrt(sum((grid[i] - centre[i]) ** 2 for i in range(3)))
                necrosis = (dc / (rng.uniform(0.3, 0.6) * radius) + 0.25 * f2 < 1) & brain
                whole = whole | necrosis
            labels, _ = nd.label(whole)
            keep = labels[tuple(c)] if labels[tuple(c)] else np.argmax(np.bincount(labels.ravel())[1:]) + 1
            whole = nd.binary_fill_holes(labels == keep)
            if variety:
                oedema_gain, core_gain, necrosis_gain = rng.uniform(1.4, 2.6), rng.uniform(1.1, 2.0), rng.uniform(0.2, 1.2)
            else:
                oedema_gain, core_gain, necrosis_gain = rng.uniform(1.4, 1.9), rng.uniform(1.1, 1.5), rng.uniform(0.6, 1.2)
            if cavity:
                necrosis_gain = rng.uniform(0.1, 0.5)
            target = np.array(a)
            target[whole] = white * oedema_gain * (1 + 0.08 * field(1.5)[whole])
            target[core & whole] = white * core_gain * (1 + 0.12 * field(1.0)[core & whole])
            target[necrosis & whole] = white * necrosis_gain
            edge = nd.gaussian_filter(whole.astype(np.float32), 0.8)
            image = np.where(brain, (1 - edge) * a + edge * nd.gaussian_filter(target, 0.5), a).astype(np.float32)
            if variety:
                bias = np.exp(rng.uniform(0.05, 0.3) * field(30))
                image = np.where(brain, image * bias, image).astype(np.float32)
            n += 1
            save_case(out, n, im, image, whole, f'{patient} centre {c.tolist()} radius {round(radius, 1)} voxels {int(whole.sum())}' + (' infiltrating' if spreads else '') + (' cavity' if cavity else ''))


if __name__ == '__main__':
    args = sys.argv[1:]

    def option(name, default):
        if name not in args:
            return default
        i = args.index(name)
        value = args[i + 1]
        del args[i:i + 2]
        return value

    white_matter = '--white-matter-oedema' in args
    if white_matter:
        args.remove('--white-matter-oedema')
        patients = option('--patients', 'patient07,patient19,patient26').split(',')
        per_brain = int(option('--per-brain', '4'))
        seed = int(option('--seed', '5'))
        radius_mm = tuple(float(r) for r in option('--radius', '20,40').split(','))
        variety = '--scanner-variety' in args
        if variety:
            args.remove('--scanner-variety')
        infiltrating = float(option('--infiltrating', '0'))
        cavities = float(option('--cavities', '0'))
    if len(args) != 1:
        sys.exit('usage: synthetic-brain-tumours.py OUT_DIR  |  synthetic-brain-tumours.py --white-matter-oedema [--patients P,…] [--per-brain N] [--seed S] [--radius LO,HI] [--scanner-variety] [--infiltrating P] [--cavities P] OUT_DIR')
    if white_matter:
        white_matter_oedema(args[0], patients, per_brain, seed, radius_mm, variety, infiltrating, cavities)
    else:
        main(args[0])
