// Ill options: every error names the loss, the option and the value, and says what was expected.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AsymmetricFocalTverskyLoss,
  AsymmetricUnifiedFocalLoss,
  ComboLoss,
  DiceLoss,
  FocalLoss,
  FocalTverskyLoss,
  LossError,
  SymmetricFocalLoss,
  SymmetricFocalTverskyLoss,
  TverskyLoss,
} from '../../../src/ml/losses';

function throwsLossError(make: () => unknown, message: RegExp): void {
  assert.throws(make, (err: unknown) => {
    assert.ok(err instanceof LossError, `expected a LossError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

// Casts let the tests pass the wrong types that untyped settings could carry.
const anyOptions = (o: Record<string, unknown>) => o as never;

describe('ill options', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'unknown key with a guess',
      () => new AsymmetricUnifiedFocalLoss(anyOptions({ wieght: 0.5 })),
      /^AsymmetricUnifiedFocalLoss: unknown option 'wieght'; did you mean 'weight'\? \(known options: input, target, reduction, weight, delta, gamma, rareClasses, regionPooling\)\.$/,
    ],
    [
      'MONAI-style key is not silently accepted',
      () => new AsymmetricUnifiedFocalLoss(anyOptions({ to_onehot_y: true })),
      /unknown option 'to_onehot_y'/,
    ],
    ['options not an object', () => new DiceLoss(anyOptions([] as unknown as Record<string, unknown>)), /^DiceLoss: options must be an object, got \[\]\.$/],
    [
      'reduction',
      () => new DiceLoss(anyOptions({ reduction: 'sum' })),
      /^DiceLoss: option 'reduction' is 'sum'; expected one of 'mean', 'none'\.$/,
    ],
    [
      'reduction with a guess',
      () => new DiceLoss(anyOptions({ reduction: 'nonе' })),
      /option 'reduction' is 'nonе'; expected one of 'mean', 'none'; did you mean 'none'\?/,
    ],
    [
      'target',
      () => new AsymmetricUnifiedFocalLoss(anyOptions({ target: 'onehot' })),
      /^AsymmetricUnifiedFocalLoss: option 'target' is 'onehot'; expected one of 'one-hot', 'index'; did you mean 'one-hot'\?$/,
    ],
    [
      'input',
      () => new AsymmetricUnifiedFocalLoss(anyOptions({ input: 'sigmoid' })),
      /option 'input' is 'sigmoid'; expected one of 'probabilities', 'logits'/,
    ],
    [
      'regionPooling',
      () => new AsymmetricUnifiedFocalLoss(anyOptions({ regionPooling: 'pooled' })),
      /option 'regionPooling' is 'pooled'; expected one of 'per-image', 'batch'/,
    ],
    [
      'batch pooling with per-image reduction',
      () => new AsymmetricUnifiedFocalLoss({ regionPooling: 'batch', reduction: 'none' }),
      /^AsymmetricUnifiedFocalLoss: option 'regionPooling' is 'batch' but 'reduction' is 'none'; a batch-pooled region term has no per-image value\. Use reduction 'mean' or regionPooling 'per-image'\.$/,
    ],
    [
      'weight above 1',
      () => new AsymmetricUnifiedFocalLoss({ weight: 1.5 }),
      /^AsymmetricUnifiedFocalLoss: option 'weight' is 1\.5; expected a finite number in \[0, 1\]\.$/,
    ],
    ['delta negative', () => new AsymmetricUnifiedFocalLoss({ delta: -0.1 }), /option 'delta' is -0\.1; expected a finite number in \[0, 1\]/],
    ['delta NaN', () => new TverskyLoss({ delta: NaN }), /^TverskyLoss: option 'delta' is NaN; expected a finite number in \[0, 1\]\.$/],
    ['delta as a string', () => new TverskyLoss(anyOptions({ delta: '0.7' })), /option 'delta' is '0\.7'; expected a finite number/],
    [
      'unified gamma at 1',
      () => new AsymmetricUnifiedFocalLoss({ gamma: 1 }),
      /^AsymmetricUnifiedFocalLoss: option 'gamma' is 1; expected a finite number in \[0, 1\) \(the focal Tversky exponent 1 − gamma must stay positive\)\.$/,
    ],
    ['mFT gamma above 1', () => new SymmetricFocalTverskyLoss({ gamma: 2 }), /option 'gamma' is 2; expected a finite number in \[0, 1\)/],
    ['maFT gamma negative', () => new AsymmetricFocalTverskyLoss({ gamma: -1 }), /option 'gamma' is -1/],
    ['focal gamma negative', () => new FocalLoss({ gamma: -2 }), /^FocalLoss: option 'gamma' is -2; expected a finite number >= 0\.$/],
    ['mF gamma infinite', () => new SymmetricFocalLoss({ gamma: Infinity }), /option 'gamma' is Infinity; expected a finite number >= 0/],
    ['focal Tversky gamma 0', () => new FocalTverskyLoss({ gamma: 0 }), /^FocalTverskyLoss: option 'gamma' is 0; expected a finite number > 0\.$/],
    ['smooth 0', () => new DiceLoss({ smooth: 0 }), /^DiceLoss: option 'smooth' is 0; expected a finite number > 0\.$/],
    ['combo alpha', () => new ComboLoss({ alpha: 2 }), /^ComboLoss: option 'alpha' is 2; expected a finite number in \[0, 1\]\.$/],
    ['combo beta', () => new ComboLoss({ beta: -1 }), /^ComboLoss: option 'beta' is -1; expected a finite number in \[0, 1\]\.$/],
    [
      'focal alpha negative',
      () => new FocalLoss({ alpha: [0.5, -0.5] }),
      /^FocalLoss: option 'alpha' is \[0\.5,-0\.5\]; expected one finite weight >= 0 per class \(at least 2\)\.$/,
    ],
    ['focal alpha scalar', () => new FocalLoss(anyOptions({ alpha: 0.25 })), /option 'alpha' is 0\.25; expected one finite weight >= 0 per class/],
    [
      'rareClasses includes the background',
      () => new AsymmetricUnifiedFocalLoss({ rareClasses: [0, 1] }),
      /^AsymmetricUnifiedFocalLoss: option 'rareClasses' is \[0,1\]; expected a non-empty list of distinct class indices >= 1 \(class 0 is the background\)\.$/,
    ],
    ['rareClasses empty', () => new AsymmetricUnifiedFocalLoss({ rareClasses: [] }), /option 'rareClasses' is \[\]/],
    ['rareClasses repeated', () => new AsymmetricUnifiedFocalLoss({ rareClasses: [1, 1] }), /option 'rareClasses' is \[1,1\]/],
    ['rareClasses fractional', () => new AsymmetricUnifiedFocalLoss({ rareClasses: [1.5] }), /option 'rareClasses' is \[1\.5\]/],
    [
      'rareClasses on a loss without class roles',
      () => new SymmetricFocalTverskyLoss(anyOptions({ rareClasses: [1] })),
      /^SymmetricFocalTverskyLoss: unknown option 'rareClasses'/,
    ],
  ];
  for (const [name, make, message] of cases) {
    test(name, () => throwsLossError(make, message));
  }

  test('valid boundary values are accepted', () => {
    assert.doesNotThrow(() => new AsymmetricUnifiedFocalLoss({ weight: 0, delta: 1, gamma: 0 }));
    assert.doesNotThrow(() => new AsymmetricUnifiedFocalLoss({ weight: 1, delta: 0, gamma: 0.999 }));
    assert.doesNotThrow(() => new FocalLoss({ alpha: null, gamma: 0 }));
  });

  test('the authors\u2019 defaults are applied', () => {
    const unified = new AsymmetricUnifiedFocalLoss();
    assert.deepEqual([unified.weight, unified.delta, unified.gamma], [0.5, 0.6, 0.5]);
    assert.deepEqual([unified.input, unified.target, unified.reduction, unified.regionPooling], ['probabilities', 'one-hot', 'mean', 'per-image']);
    assert.equal(unified.rareClasses, undefined);
    const focalTversky = new AsymmetricFocalTverskyLoss();
    assert.deepEqual([focalTversky.delta, focalTversky.gamma], [0.7, 0.75]);
    const symmetricFocal = new SymmetricFocalLoss();
    assert.deepEqual([symmetricFocal.delta, symmetricFocal.gamma], [0.7, 2]);
    const focal = new FocalLoss();
    assert.deepEqual([focal.alpha, focal.gamma], [undefined, 2]);
    const tversky = new TverskyLoss();
    assert.deepEqual([tversky.delta, tversky.smooth], [0.7, 1e-6]);
    const ft = new FocalTverskyLoss();
    assert.deepEqual([ft.delta, ft.gamma, ft.smooth], [0.7, 0.75, 1e-6]);
    const combo = new ComboLoss();
    assert.deepEqual([combo.alpha, combo.beta], [0.5, 0.5]);
  });

  test('options objects are not mutated and rareClasses are copied', () => {
    const rareClasses = [2, 1];
    const options = Object.freeze({ rareClasses, delta: 0.6 });
    const loss = new AsymmetricUnifiedFocalLoss(options);
    rareClasses.push(3);
    assert.deepEqual(loss.rareClasses, [1, 2]);
  });
});
