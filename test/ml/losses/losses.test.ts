// Values of every loss on hand-computed cases, the options (targets, activations, reductions,
// pooling, rare classes), the hierarchy identities of the Unified Focal family, and float32 safety.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  AsymmetricFocalLoss,
  AsymmetricFocalTverskyLoss,
  AsymmetricUnifiedFocalLoss,
  ComboLoss,
  CrossEntropyLoss,
  DiceLoss,
  FocalLoss,
  FocalTverskyLoss,
  LOSS_NAMES,
  SymmetricFocalLoss,
  SymmetricFocalTverskyLoss,
  SymmetricUnifiedFocalLoss,
  TverskyLoss,
  createLoss,
  type SegmentationLoss,
} from '../../../src/ml/losses';
import { randomCase, scalarValue, values } from './fixtures';

before(async () => {
  await tf.setBackend('cpu');
});

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: got ${actual}, expected ${expected} (|diff| ${Math.abs(actual - expected)} > ${tolerance})`,
  );
}

// Two voxels of a [1,1,2,2] image: voxel 0 is background, voxel 1 is lesion.
const handTrue = () => tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]);
const handPred = () => tf.tensor4d([0.8, 0.2, 0.4, 0.6], [1, 1, 2, 2]);

describe('hand-computed two-voxel case', () => {
  // Class 0: TP 0.8, FN 0.2, FP 0.4. Class 1: TP 0.6, FN 0.4, FP 0.2.
  const cases: Array<[string, SegmentationLoss, number]> = [
    ['cross entropy', new CrossEntropyLoss(), (-Math.log(0.8) - Math.log(0.6)) / 2],
    [
      'focal (gamma 2)',
      new FocalLoss(),
      (0.2 ** 2 * -Math.log(0.8) + 0.4 ** 2 * -Math.log(0.6)) / 2,
    ],
    [
      'focal alpha [0.25, 0.75]',
      new FocalLoss({ alpha: [0.25, 0.75] }),
      (0.25 * 0.2 ** 2 * -Math.log(0.8) + 0.75 * 0.4 ** 2 * -Math.log(0.6)) / 2,
    ],
    ['dice', new DiceLoss(), 1 - (0.8 / 1.1 + 0.6 / 0.9) / 2],
    ['tversky 0.7', new TverskyLoss(), 1 - (0.8 / (0.8 + 0.14 + 0.12) + 0.6 / (0.6 + 0.28 + 0.06)) / 2],
    [
      'focal tversky 0.7 / 0.75',
      new FocalTverskyLoss(),
      ((1 - 0.8 / 1.06) ** 0.75 + (1 - 0.6 / 0.94) ** 0.75) / 2,
    ],
    [
      'combo 0.5 / 0.5',
      new ComboLoss(),
      0.5 * ((0.5 * -Math.log(0.8) + 0.5 * -Math.log(0.6)) / 2) - 0.5 * ((0.8 / 1.1 + 0.6 / 0.9) / 2),
    ],
    [
      'symmetric focal 0.7 / 2',
      new SymmetricFocalLoss(),
      (0.3 * 0.2 ** 2 * -Math.log(0.8) + 0.7 * 0.4 ** 2 * -Math.log(0.6)) / 2,
    ],
    [
      'asymmetric focal 0.7 / 2',
      new AsymmetricFocalLoss(),
      (0.3 * 0.2 ** 2 * -Math.log(0.8) + 0.7 * -Math.log(0.6)) / 2,
    ],
    [
      'symmetric focal tversky 0.7 / 0.75',
      new SymmetricFocalTverskyLoss(),
      ((1 - 0.8 / 1.06) ** 0.25 + (1 - 0.6 / 0.94) ** 0.25) / 2,
    ],
    [
      'asymmetric focal tversky 0.7 / 0.75',
      new AsymmetricFocalTverskyLoss(),
      (1 - 0.8 / 1.06 + (1 - 0.6 / 0.94) ** 0.25) / 2,
    ],
    [
      'asymmetric unified focal (defaults 0.5 / 0.6 / 0.5)',
      new AsymmetricUnifiedFocalLoss(),
      // mTI0 = 0.8/(0.8+0.12+0.16), mTI1 = 0.6/(0.6+0.24+0.08)
      0.5 * ((1 - 0.8 / 1.08 + (1 - 0.6 / 0.92) ** 0.5) / 2) +
        0.5 * ((0.4 * 0.2 ** 0.5 * -Math.log(0.8) + 0.6 * -Math.log(0.6)) / 2),
    ],
    [
      'symmetric unified focal (defaults 0.5 / 0.6 / 0.5)',
      new SymmetricUnifiedFocalLoss(),
      0.5 * (((1 - 0.8 / 1.08) ** 0.5 + (1 - 0.6 / 0.92) ** 0.5) / 2) +
        0.5 * ((0.4 * 0.2 ** 0.5 * -Math.log(0.8) + 0.6 * 0.4 ** 0.5 * -Math.log(0.6)) / 2),
    ],
  ];
  for (const [name, loss, expected] of cases) {
    test(name, () => {
      const yTrue = handTrue();
      const yPred = handPred();
      close(scalarValue(loss.compute(yTrue, yPred)), expected, 2e-6, name);
      tf.dispose([yTrue, yPred]);
    });
  }

  test('perfect prediction gives 0 for cross entropy-free region losses and -0.5 for Combo', () => {
    const yTrue = handTrue();
    close(scalarValue(new DiceLoss().compute(yTrue, yTrue)), 0, 0, 'dice');
    close(scalarValue(new TverskyLoss().compute(yTrue, yTrue)), 0, 0, 'tversky');
    // CE on clipped p̂ = 1 − 1e-7 is ~1e-7; the Dice coefficient is 1.
    close(scalarValue(new ComboLoss().compute(yTrue, yTrue)), -0.5, 1e-6, 'combo');
    yTrue.dispose();
  });
});

describe('2-D and 3-D layouts', () => {
  test('a 3-D volume [B,D,H,W,C] gives the value of the same voxels laid out as 2-D [B,D·H,W,C]', () => {
    // Guards against the authors' trap of slicing axis 3 (the width on 5-D tensors) instead of the channel.
    const { yTrue, yPred } = randomCase([2, 3, 4, 2], 2, 7);
    const yTrue2d = yTrue.reshape([2, 12, 2, 2]);
    const yPred2d = yPred.reshape([2, 12, 2, 2]);
    for (const name of LOSS_NAMES) {
      const loss = createLoss(name);
      close(
        scalarValue(loss.compute(yTrue, yPred)),
        scalarValue(loss.compute(yTrue2d, yPred2d)),
        1e-6,
        name,
      );
    }
    tf.dispose([yTrue, yPred, yTrue2d, yPred2d]);
  });

  test('the channel is the last axis even when the width is 2 (W = C)', () => {
    // Swap the roles of the width and channel axes: the value must change.
    const { yTrue, yPred } = randomCase([1, 2, 3, 2], 2, 8);
    const swappedTrue = yTrue.transpose([0, 1, 2, 4, 3]);
    const swappedPred = yPred.transpose([0, 1, 2, 4, 3]);
    const loss = new AsymmetricUnifiedFocalLoss();
    const straight = scalarValue(loss.compute(yTrue, yPred));
    const swapped = scalarValue(loss.compute(swappedTrue, swappedPred));
    assert.ok(Math.abs(straight - swapped) > 1e-3, `${straight} vs ${swapped}`);
    tf.dispose([yTrue, yPred, swappedTrue, swappedPred]);
  });
});

describe('options', () => {
  test("target 'index' with [B,…spatial] and [B,…spatial,1] labels (int32 or float) equals one-hot", () => {
    const spatial = [2, 3, 4, 4];
    const { labels, yTrue, yPred } = randomCase(spatial, 3, 11);
    for (const name of LOSS_NAMES) {
      const reference = scalarValue(createLoss(name).compute(yTrue, yPred));
      const indexLoss = createLoss(name, { target: 'index' });
      const asInt = tf.tensor(labels, spatial, 'int32');
      const withChannel = tf.tensor(labels, [...spatial, 1], 'int32');
      const asFloat = tf.tensor(Float32Array.from(labels), spatial, 'float32');
      close(scalarValue(indexLoss.compute(asInt, yPred)), reference, 0, `${name} int labels`);
      close(scalarValue(indexLoss.compute(withChannel, yPred)), reference, 0, `${name} [...,1] labels`);
      close(scalarValue(indexLoss.compute(asFloat, yPred)), reference, 0, `${name} float labels`);
      tf.dispose([asInt, withChannel, asFloat]);
    }
    tf.dispose([yTrue, yPred]);
  });

  test("target 'index' rejects labels out of range, fractional labels and mismatched shapes", () => {
    const loss = new AsymmetricUnifiedFocalLoss({ target: 'index' });
    const yPred = tf.fill([1, 2, 2, 2], 0.5);
    const outOfRange = tf.tensor3d([0, 1, 2, 0], [1, 2, 2], 'int32');
    assert.throws(
      () => loss.compute(outOfRange, yPred),
      /AsymmetricUnifiedFocalLoss: yTrue labels span \[0, 2\]; expected integer class indices in \[0, 1\] for 2 channels\./,
    );
    const negative = tf.tensor3d([0, -1, 1, 0], [1, 2, 2], 'int32');
    assert.throws(() => loss.compute(negative, yPred), /labels span \[-1, 1\]/);
    const fractional = tf.tensor3d([0, 0.5, 1, 0], [1, 2, 2]);
    assert.throws(() => loss.compute(fractional, yPred), /include non-integers/);
    const wrongShape = tf.tensor3d([0, 1, 1, 0, 0, 1], [1, 3, 2], 'int32');
    assert.throws(
      () => loss.compute(wrongShape, yPred),
      /yTrue has shape \[1,3,2\]; with target 'index' expected \[1,2,2\] or \[1,2,2,1\] to match yPred \[1,2,2,2\]\./,
    );
    tf.dispose([yPred, outOfRange, negative, fractional, wrongShape]);
  });

  test("input 'logits' applies softmax over the channel axis first", () => {
    const { yTrue } = randomCase([2, 4, 4], 3, 12);
    const logits = tf.randomNormal([2, 4, 4, 3], 0, 2, 'float32', 5);
    const probabilities = tf.softmax(logits, -1);
    for (const name of LOSS_NAMES) {
      close(
        scalarValue(createLoss(name, { input: 'logits' }).compute(yTrue, logits)),
        scalarValue(createLoss(name).compute(yTrue, probabilities)),
        1e-7,
        name,
      );
    }
    tf.dispose([yTrue, logits, probabilities]);
  });

  test("reduction 'none' gives per-image values [B] whose mean is the 'mean' value and each equals that image alone", () => {
    const { yTrue, yPred } = randomCase([3, 2, 4, 4], 2, 13);
    for (const name of LOSS_NAMES) {
      const perImage = createLoss(name, { reduction: 'none' }).compute(yTrue, yPred);
      assert.deepEqual(perImage.shape, [3], name);
      const perImageValues = values(perImage);
      const mean = scalarValue(createLoss(name).compute(yTrue, yPred));
      close(perImageValues.reduce((a, b) => a + b, 0) / 3, mean, 1e-6, `${name} mean`);
      for (let b = 0; b < 3; b++) {
        const oneTrue = yTrue.slice([b], [1]);
        const onePred = yPred.slice([b], [1]);
        close(perImageValues[b]!, scalarValue(createLoss(name).compute(oneTrue, onePred)), 1e-6, `${name} image ${b}`);
        tf.dispose([oneTrue, onePred]);
      }
    }
    tf.dispose([yTrue, yPred]);
  });

  test('the default reduction returns a scalar', () => {
    const { yTrue, yPred } = randomCase([2, 4, 4], 2, 14);
    const value = new AsymmetricUnifiedFocalLoss().compute(yTrue, yPred);
    assert.equal(value.rank, 0);
    tf.dispose([yTrue, yPred, value]);
  });

  test("regionPooling 'batch' equals 'per-image' for a batch of one", () => {
    const { yTrue, yPred } = randomCase([1, 4, 4, 4], 2, 15);
    for (const name of ['dice', 'tversky', 'focal-tversky', 'combo', 'symmetric-focal-tversky', 'asymmetric-focal-tversky', 'symmetric-unified-focal', 'asymmetric-unified-focal'] as const) {
      close(
        scalarValue(createLoss(name, { regionPooling: 'batch' }).compute(yTrue, yPred)),
        scalarValue(createLoss(name).compute(yTrue, yPred)),
        1e-6,
        name,
      );
    }
    tf.dispose([yTrue, yPred]);
  });

  test("regionPooling 'batch' removes the ~0.25 floor of a lesion-free image predicted perfectly", () => {
    // Image 0 has a lesion, image 1 has none; the prediction is the (hard) truth.
    const labels = new Int32Array(2 * 4 * 4 * 4);
    labels.set([1, 1, 1], 5);
    const yTrue = tf.oneHot(tf.tensor(labels, [2, 4, 4, 4], 'int32'), 2).toFloat();
    const perImageLoss = new AsymmetricUnifiedFocalLoss({ reduction: 'none' });
    const [withLesion, lesionFree] = values(perImageLoss.compute(yTrue, yTrue));
    close(withLesion!, 0, 1e-3, 'image with a lesion');
    // The doc's trap 5: the empty image's foreground index collapses to s/((1−δ)·N·1e-7 + s)
    // = 1/(0.4·64 + 1) (N = 64 voxels of clipped p̂ = 1e-7), so aUF → λ·sqrt(1 − mTI)/2 ≈ 0.25.
    const collapsedFloor = (0.5 * Math.sqrt(1 - 1 / (0.4 * 64 + 1))) / 2;
    close(lesionFree!, collapsedFloor, 1e-5, 'lesion-free image, per-image term');
    // Dice (unclipped) on a good soft prediction (lesion p = 1e-3) of the empty image: ~0.5.
    const soft = yTrue.mul(1 - 2e-3).add(1e-3);
    close(values(new DiceLoss({ reduction: 'none' }).compute(yTrue, soft))[1]!, 0.5, 1e-3, 'Dice on the empty image');
    soft.dispose();
    const pooled = scalarValue(new AsymmetricUnifiedFocalLoss({ regionPooling: 'batch' }).compute(yTrue, yTrue));
    assert.ok(pooled < 1e-3, `batch-pooled aUF ${pooled} should be ~0`);
    const perImageMean = scalarValue(new AsymmetricUnifiedFocalLoss().compute(yTrue, yTrue));
    close(perImageMean, (withLesion! + lesionFree!) / 2, 1e-7, 'per-image mean over the two images');
    tf.dispose([yTrue]);
  });

  test('rareClasses: the default enhances every non-background class; a shorter list suppresses the rest', () => {
    const { yTrue, yPred } = randomCase([1, 4, 4, 4], 3, 16, [0.6, 0.2, 0.2]);
    const byDefault = scalarValue(new AsymmetricUnifiedFocalLoss().compute(yTrue, yPred));
    const explicit = scalarValue(new AsymmetricUnifiedFocalLoss({ rareClasses: [2, 1] }).compute(yTrue, yPred));
    close(byDefault, explicit, 0, 'default vs [1,2]');
    // With only class 2 rare, class 1 is treated like the background: check against the terms.
    const onlyTwo = new AsymmetricUnifiedFocalLoss({ rareClasses: [2] });
    const terms = onlyTwo.computeTerms(yTrue, yPred);
    const focalTversky = scalarValue(terms.focalTversky);
    const focal = scalarValue(terms.focal);
    close(scalarValue(onlyTwo.compute(yTrue, yPred)), 0.5 * focalTversky + 0.5 * focal, 1e-7, 'terms');
    // Hand formula of both terms from the per-class sums.
    const [t, p] = [yTrue.arraySync() as number[][][][][], yPred.arraySync() as number[][][][][]];
    const eps = 1e-7;
    const tp = [0, 0, 0];
    const fn = [0, 0, 0];
    const fp = [0, 0, 0];
    let focalSum = 0;
    let count = 0;
    for (const [d, plane] of t[0]!.entries()) {
      for (const [h, row] of plane.entries()) {
        for (const [w, voxel] of row.entries()) {
          count++;
          for (let c = 0; c < 3; c++) {
            const y = voxel[c]!;
            const q = Math.min(Math.max(p[0]![d]![h]![w]![c]!, eps), 1 - eps);
            tp[c]! += y * q;
            fn[c]! += y * (1 - q);
            fp[c]! += (1 - y) * q;
            const ce = -y * Math.log(q);
            focalSum += c === 2 ? 0.6 * ce : 0.4 * (1 - q) ** 0.5 * ce;
          }
        }
      }
    }
    const complement = (c: number) => 1 - (tp[c]! + eps) / (tp[c]! + 0.6 * fn[c]! + 0.4 * fp[c]! + eps);
    close(focalTversky, (complement(0) + complement(1) + complement(2) ** 0.5) / 3, 2e-6, 'maFT with rareClasses [2]');
    close(focal, focalSum / count, 2e-6, 'maF with rareClasses [2]');
    assert.ok(Math.abs(byDefault - scalarValue(onlyTwo.compute(yTrue, yPred))) > 1e-4);
    tf.dispose([yTrue, yPred]);
  });

  test('rareClasses naming a class the prediction does not have is an error at compute time', () => {
    const { yTrue, yPred } = randomCase([1, 4, 4], 2, 17);
    assert.throws(
      () => new AsymmetricUnifiedFocalLoss({ rareClasses: [1, 2] }).compute(yTrue, yPred),
      /AsymmetricUnifiedFocalLoss: option 'rareClasses' lists class 2 but yPred has only 2 channels \(classes 0\.\.1\)\./,
    );
    tf.dispose([yTrue, yPred]);
  });

  test('focal alpha with the wrong number of weights is an error at compute time', () => {
    const { yTrue, yPred } = randomCase([1, 4, 4], 3, 18);
    assert.throws(
      () => new FocalLoss({ alpha: [0.25, 0.75] }).compute(yTrue, yPred),
      /FocalLoss: option 'alpha' has 2 weights but yPred has 3 channels\./,
    );
    tf.dispose([yTrue, yPred]);
  });
});

describe('hierarchy identities of the Unified Focal family', () => {
  const { yTrue, yPred } = randomCase([2, 4, 6, 6], 2, 21);
  const value = (loss: SegmentationLoss) => scalarValue(loss.compute(yTrue, yPred));

  test('lambda = 0 gives the focal term alone, lambda = 1 the focal Tversky term alone', () => {
    for (const [delta, gamma] of [
      [0.6, 0.5],
      [0.7, 0.2],
    ] as const) {
      close(value(new AsymmetricUnifiedFocalLoss({ weight: 0, delta, gamma })), value(new AsymmetricFocalLoss({ delta, gamma })), 1e-7, 'aUF λ=0');
      close(value(new AsymmetricUnifiedFocalLoss({ weight: 1, delta, gamma })), value(new AsymmetricFocalTverskyLoss({ delta, gamma })), 1e-7, 'aUF λ=1');
      close(value(new SymmetricUnifiedFocalLoss({ weight: 0, delta, gamma })), value(new SymmetricFocalLoss({ delta, gamma })), 1e-7, 'sUF λ=0');
      close(value(new SymmetricUnifiedFocalLoss({ weight: 1, delta, gamma })), value(new SymmetricFocalTverskyLoss({ delta, gamma })), 1e-7, 'sUF λ=1');
    }
  });

  test('with gamma = 0 the symmetric and asymmetric losses agree', () => {
    close(value(new SymmetricUnifiedFocalLoss({ gamma: 0 })), value(new AsymmetricUnifiedFocalLoss({ gamma: 0 })), 1e-7, 'UF');
    close(value(new SymmetricFocalLoss({ gamma: 0 })), value(new AsymmetricFocalLoss({ gamma: 0 })), 1e-7, 'F');
    close(value(new SymmetricFocalTverskyLoss({ gamma: 0 })), value(new AsymmetricFocalTverskyLoss({ gamma: 0 })), 1e-7, 'FT');
    // And γ ≠ 0 makes them differ, so the identity is not vacuous.
    assert.ok(Math.abs(value(new SymmetricUnifiedFocalLoss()) - value(new AsymmetricUnifiedFocalLoss())) > 1e-3);
  });

  test('sUF(lambda 0.5, delta 0.5, gamma 0) equals Combo(0.5, 0.5) + 0.5 within ~1e-7', () => {
    const unified = value(new SymmetricUnifiedFocalLoss({ weight: 0.5, delta: 0.5, gamma: 0 }));
    const combo = value(new ComboLoss({ alpha: 0.5, beta: 0.5 }));
    close(unified, combo + 0.5, 1e-7, 'sUF vs Combo + 0.5');
  });

  test('Dice is Tversky at delta 0.5; focal with gamma 0 is cross entropy', () => {
    close(value(new DiceLoss()), value(new TverskyLoss({ delta: 0.5 })), 0, 'dice');
    close(value(new FocalLoss({ gamma: 0 })), value(new CrossEntropyLoss()), 1e-7, 'focal γ=0');
  });
});

describe('float32 safety: finite values and gradients', () => {
  const spatial = [2, 3, 4, 4];
  const labels = new Int32Array(2 * 3 * 4 * 4);
  labels.set([1, 1, 1, 1], 10);
  const withLesion = () => tf.oneHot(tf.tensor(labels, spatial, 'int32'), 2).toFloat();
  const empty = () => tf.oneHot(tf.zeros(spatial, 'int32'), 2).toFloat();
  const scenarios: Array<[string, () => tf.Tensor, (yTrue: tf.Tensor) => tf.Tensor]> = [
    ['hard perfect prediction', withLesion, (y) => y.clone()],
    ['hard all-wrong prediction', withLesion, (y) => tf.scalar(1).sub(y)],
    ['empty ground truth, perfect prediction', empty, (y) => y.clone()],
    ['empty ground truth, all-lesion prediction', empty, (y) => tf.scalar(1).sub(y)],
    ['p at 1e-9 / 1 - 1e-9 (right)', withLesion, (y) => y.mul(1 - 2e-9).add(1e-9)],
    ['p at 1e-9 / 1 - 1e-9 (wrong)', withLesion, (y) => tf.scalar(1).sub(y).mul(1 - 2e-9).add(1e-9)],
    ['empty ground truth, p at 1e-9 / 1 - 1e-9', empty, (y) => y.mul(1 - 2e-9).add(1e-9)],
    ['all-lesion ground truth and prediction', () => tf.scalar(1).sub(empty()), (y) => y.clone()],
  ];
  for (const [scenario, makeTrue, makePred] of scenarios) {
    test(scenario, () => {
      const yTrue = makeTrue();
      const yPred = makePred(yTrue);
      for (const name of LOSS_NAMES) {
        for (const options of [{}, { regionPooling: 'batch' as const }]) {
          if ('regionPooling' in options && ['cross-entropy', 'focal', 'symmetric-focal', 'asymmetric-focal'].includes(name)) continue;
          const loss = createLoss(name, options);
          const v = scalarValue(loss.compute(yTrue, yPred));
          assert.ok(Number.isFinite(v), `${name} ${JSON.stringify(options)} value ${v}`);
          const gradient = tf.grad((p: tf.Tensor) => loss.compute(yTrue, p))(yPred);
          const g = values(gradient);
          assert.ok(g.every(Number.isFinite), `${name} ${JSON.stringify(options)} gradient not finite`);
        }
      }
      // Logits at ±40 saturate the softmax to exact 0/1 in float32.
      const logits = yPred.sub(0.5).mul(80);
      const fromLogits = new AsymmetricUnifiedFocalLoss({ input: 'logits' });
      assert.ok(Number.isFinite(scalarValue(fromLogits.compute(yTrue, logits))));
      assert.ok(values(tf.grad((x: tf.Tensor) => fromLogits.compute(yTrue, x))(logits)).every(Number.isFinite));
      tf.dispose([yTrue, yPred, logits]);
    });
  }

  test('the focal Tversky exponent uses the floored power: aUF with gamma 0.9 at a perfect prediction has finite gradients', () => {
    const yTrue = withLesion();
    const loss = new AsymmetricUnifiedFocalLoss({ gamma: 0.9 });
    const g = values(tf.grad((p: tf.Tensor) => loss.compute(yTrue, p))(yTrue));
    assert.ok(g.every(Number.isFinite));
    yTrue.dispose();
  });

  test('compute leaves no tensors behind', () => {
    const { yTrue, yPred } = randomCase([2, 3, 4, 4], 2, 22);
    const labels = yTrue.argMax(-1);
    const before = tf.memory().numTensors;
    for (const name of LOSS_NAMES) {
      createLoss(name, { reduction: 'none' }).compute(yTrue, yPred).dispose();
      createLoss(name, { target: 'index', input: 'logits' }).compute(labels, yPred).dispose();
      tf.grad((p: tf.Tensor) => createLoss(name).compute(yTrue, p))(yPred).dispose();
    }
    assert.equal(tf.memory().numTensors - before, 0, 'tensors leaked');
    tf.dispose([yTrue, yPred, labels]);
  });
});

describe('ill inputs', () => {
  const loss = new AsymmetricUnifiedFocalLoss();
  test('rank other than 4 or 5', () => {
    const t = tf.zeros([2, 4, 2]);
    assert.throws(
      () => loss.compute(t, t),
      /AsymmetricUnifiedFocalLoss: yPred has shape \[2,4,2\]; expected channels-last \[B,H,W,C\] \(2-D\) or \[B,D,H,W,C\] \(3-D\)\./,
    );
    t.dispose();
  });
  test('a single channel', () => {
    const t = tf.zeros([1, 2, 2, 1]);
    assert.throws(() => loss.compute(t, t), /yPred has 1 channel\(s\); expected at least 2 \(channel 0 = background, 1 = lesion\)\./);
    t.dispose();
  });
  test('one-hot target of another shape', () => {
    const a = tf.zeros([1, 2, 2, 2]);
    const b = tf.zeros([1, 2, 3, 2]);
    assert.throws(
      () => loss.compute(a, b),
      /yTrue has shape \[1,2,2,2\] but yPred has \[1,2,3,2\]; with target 'one-hot' they must match \(use target 'index' for label maps\)\./,
    );
    tf.dispose([a, b]);
  });
  test('integer predictions', () => {
    const a = tf.zeros([1, 2, 2, 2], 'int32');
    assert.throws(() => loss.compute(a, a), /yPred has dtype int32; expected float32\./);
    a.dispose();
  });
});
