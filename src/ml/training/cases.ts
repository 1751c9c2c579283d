// The cases of a fine-tune run: reading, checking, normalising, resampling and cropping each
// image/mask pair, splitting them into training and validation, and cutting training batches.
import * as tf from '@tensorflow/tfjs';
import { basename } from 'node:path';
import { checkSameGrid, readNifti } from '../../nifti';
import type { NiftiImage } from '../../nifti';
import { cropVolume } from '../../volume/boxes';
import { reorientToCanonical, toWorldAxisOrder } from '../../volume/orientation';
import { labelMaskProblem } from '../../volume/labelMask';
import { dimsForSpacing, resampleLinear, resampleNearest } from '../../volume/resample';
import { voxelCount, type Vec3 } from '../../volume/vec3';
import { foregroundIndices, samplePatch, type Augmentation } from '../patchSampler';
import { modalityMismatch } from '../autoConfig';
import { defaultPreprocessing, normalizeIntensity, type Preprocessing } from '../preprocess';
import { TrainingError, type TrainingPair } from './options';
import { brainImageKind, type BrainImageKind } from '../starterChoice';
import { BrainExtractionError, extractBrain, maskedToBrain } from '../brainExtraction';

/** A pair ready for patch sampling: normalised, on the training spacing, cropped to the anatomy. */
export interface PreparedCase {
  pair: TrainingPair;
  values: Float32Array;
  labels: Uint8Array;
  dims: Vec3;
  /** Voxel size of `values` and `labels` (the training grid), mm. */
  spacingMm: Vec3;
  padValue: number;
  lesionIndices: Int32Array;
  /** A skull-stripped brain, a head with its skull, or neither (src/ml/starterChoice.ts brainImageKind), as read. */
  brainImage: BrainImageKind | null;
  /** Source image and mask (kept for whole-volume validation cases only). */
  image?: NiftiImage;
  sourceMask?: Uint8Array;
}

/**
 * Reads a pair, checks the grids match, normalises, resamples and crops to the foreground box.
 * @param keepSource - keep the source image and mask (for whole-volume validation).
 * @param opts.stripSkull - give a head with its skull as its brain alone (src/ml/brainExtraction.ts);
 *   it then counts as a skull-stripped brain. A head whose brain cannot be told stays as it is.
 * @throws TrainingError for a mask that is not a label mask or not on the image's grid.
 */
export async function prepareCase(pair: TrainingPair, p: Preprocessing, keepSource: boolean, opts: { stripSkull?: boolean } = {}): Promise<PreparedCase> {
  let image = await readNifti(pair.imagePath);
  const mask = await readNifti(pair.maskPath);
  const maskProblem = labelMaskProblem(mask.data, basename(pair.maskPath));
  if (maskProblem) throw new TrainingError(maskProblem);
  const grid = checkSameGrid(image, mask);
  if (!grid.same) {
    throw new TrainingError(`${basename(pair.maskPath)} is not on the grid of ${basename(pair.imagePath)}: ${grid.differences.join(', ')}`);
  }
  let brainImage = brainImageKind(image);
  // A base trained on skull-stripped brains is given a head's brain alone, as segmentVolume gives it.
  if (opts.stripSkull && brainImage === 'with skull') {
    try {
      image = { ...image, data: maskedToBrain(image.data, extractBrain(image).mask) };
      brainImage = 'skull-stripped';
    } catch (e) {
      if (!(e instanceof BrainExtractionError)) throw e;
    }
  }
  let sourceMask = new Uint8Array(mask.data.length);
  for (let i = 0; i < sourceMask.length; i++) sourceMask[i] = mask.data[i] > 0 ? 1 : 0;
  // Trained with the axes in world order, as segmentVolume shows them to the network.
  const reordered = toWorldAxisOrder(image);
  if (reordered) {
    sourceMask = reorientToCanonical({ ...image, data: sourceMask }, { keepDirections: true }).data;
    image = { ...image, data: reordered.data, dims: reordered.dims, spacingMm: reordered.spacingMm, affine: reordered.affine };
  }
  // A pair pooled from another modality is normalised as that modality, on the model's grid.
  const own = pair.pooledModality && pair.pooledModality !== p.modality ? defaultPreprocessing(pair.pooledModality, p.targetSpacingMm) : p;
  // A CT normalised as MR, or an MR clipped to a CT window, would teach the model nothing true.
  // (A pooled pair's modality is the caller's word: scripts pool other modalities on purpose.)
  const mismatch = pair.pooledModality ? null : modalityMismatch(image.data, image.spacingMm, p);
  if (mismatch) throw new TrainingError(`${pair.imagePath}: ${mismatch}; fine-tune on cases of the model's modality only`);
  const norm = normalizeIntensity(image.data, own);
  let dims = image.dims;
  let values = norm.values;
  let labels = sourceMask;
  let fg = norm.foreground;
  let spacingMm = image.spacingMm;
  const t = p.targetSpacingMm;
  if (t && !t.every((s, a) => Math.abs(s - image.spacingMm[a]) <= 1e-3 * s)) {
    spacingMm = t;
    const out = dimsForSpacing(dims, image.spacingMm, t);
    values = resampleLinear(values, dims, out);
    labels = resampleNearest(labels, dims, out);
    fg = resampleNearest(fg, dims, out);
    dims = out;
  }
  // Crop to the box of foreground ∪ lesion: random patches then land on anatomy, not air.
  const lo: Vec3 = [dims[0], dims[1], dims[2]];
  const hi: Vec3 = [-1, -1, -1];
  for (let z = 0, v = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, v++) {
        if (!fg[v] && !labels[v]) continue;
        const c = [x, y, z];
        for (let a = 0; a < 3; a++) {
          if (c[a] < lo[a]) lo[a] = c[a];
          if (c[a] > hi[a]) hi[a] = c[a];
        }
      }
  if (hi[0] >= 0) {
    const size: Vec3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
    values = cropVolume(values, dims, lo, size);
    labels = cropVolume(labels, dims, lo, size);
    dims = size;
  }
  return {
    pair,
    values,
    labels,
    dims,
    spacingMm,
    padValue: norm.backgroundValue,
    lesionIndices: foregroundIndices(labels),
    brainImage,
    image: keepSource ? image : undefined,
    sourceMask: keepSource ? sourceMask : undefined,
  };
}

/** Splits case indices into training and validation (leave one out for 2–4 cases, 20 % from 5). */
export function splitCases(count: number, random: () => number, holdOut = true): { train: number[]; validation: number[]; heldOut: boolean } {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (count === 1 || !holdOut) return { train: order, validation: order, heldOut: false };
  const nVal = count < 5 ? 1 : Math.round(count * 0.2);
  return { train: order.slice(nVal), validation: order.slice(0, nVal), heldOut: true };
}

/** Two-channel one-hot labels [batch, z, y, x, 2] of flat {0, 1} label patches. */
export function oneHot(labels: Uint8Array[], shape: [number, number, number, number]): tf.Tensor5D {
  const [b, d, h, w] = shape;
  const n = d * h * w;
  const buf = new Float32Array(b * n * 2);
  for (let i = 0; i < b; i++)
    for (let v = 0; v < n; v++) {
      const l = labels[i][v];
      buf[(i * n + v) * 2 + l] = 1;
    }
  return tf.tensor5d(buf, [b, d, h, w, 2]);
}

/** How training patches are cut (see samplePatch). */
export interface BatchSampling {
  patchSize: Vec3;
  batchSize: number;
  augmentation?: Augmentation | null;
  foregroundFraction?: number;
}

/**
 * One training batch: `batchSize` augmented patches, each from a case drawn at random, as an
 * image tensor [batch, z, y, x, 1] and one-hot labels [batch, z, y, x, 2] (the caller disposes both).
 */
export function trainingBatch(cases: readonly PreparedCase[], random: () => number, sampling: BatchSampling): { x: tf.Tensor5D; y: tf.Tensor5D } {
  const { patchSize, batchSize } = sampling;
  const images: Float32Array[] = [];
  const labels: Uint8Array[] = [];
  for (let b = 0; b < batchSize; b++) {
    const c = cases[Math.floor(random() * cases.length)];
    const p = samplePatch(c.values, c.labels, c.dims, random, {
      patchSize,
      augmentation: sampling.augmentation,
      foregroundFraction: sampling.foregroundFraction,
      lesionIndices: c.lesionIndices,
      padValue: c.padValue,
    });
    images.push(p.image);
    labels.push(p.labels);
  }
  const n = voxelCount(patchSize);
  const xBuf = new Float32Array(batchSize * n);
  images.forEach((im, b) => xBuf.set(im, b * n));
  const x = tf.tensor5d(xBuf, [batchSize, patchSize[2], patchSize[1], patchSize[0], 1]);
  const y = oneHot(labels, [batchSize, patchSize[2], patchSize[1], patchSize[0]]);
  return { x, y };
}
