// Choosing a loss by name from settings.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  AsymmetricUnifiedFocalLoss,
  DEFAULT_LOSS_NAME,
  LOSS_NAMES,
  LossError,
  createLoss,
  parseLossName,
} from '../../../src/ml/losses';
import { randomCase, scalarValue } from './fixtures';

before(async () => {
  await tf.setBackend('cpu');
});

describe('createLoss', () => {
  test('every registry name builds a loss of that name with its defaults', () => {
    assert.equal(LOSS_NAMES.length, 12);
    for (const name of LOSS_NAMES) {
      const loss = createLoss(name);
      assert.equal(loss.name, name);
      assert.equal(loss.reduction, 'mean');
    }
  });

  test('the default training loss is the asymmetric Unified Focal loss with the authors\u2019 defaults', () => {
    assert.equal(DEFAULT_LOSS_NAME, 'asymmetric-unified-focal');
    const loss = createLoss(DEFAULT_LOSS_NAME);
    assert.ok(loss instanceof AsymmetricUnifiedFocalLoss);
    assert.deepEqual([loss.weight, loss.delta, loss.gamma], [0.5, 0.6, 0.5]);
  });

  test('options from untyped settings reach the loss and give the same value as the class', () => {
    const { yTrue, yPred } = randomCase([2, 4, 4], 2, 31);
    const settings: unknown = JSON.parse('{"name":"asymmetric-unified-focal","options":{"gamma":0.3,"reduction":"mean"}}');
    const { name, options } = settings as { name: string; options: unknown };
    const fromSettings = createLoss(name, options);
    assert.equal(
      scalarValue(fromSettings.compute(yTrue, yPred)),
      scalarValue(new AsymmetricUnifiedFocalLoss({ gamma: 0.3 }).compute(yTrue, yPred)),
    );
    tf.dispose([yTrue, yPred]);
  });

  test('an unknown name lists the names with a guess', () => {
    assert.throws(
      () => createLoss('asymetric-unified-focal'),
      (err: unknown) =>
        err instanceof LossError &&
        /^createLoss: option 'name' is 'asymetric-unified-focal'; expected one of 'cross-entropy', .*'asymmetric-unified-focal'; did you mean 'asymmetric-unified-focal'\?$/.test(
          err.message,
        ),
    );
    assert.throws(() => parseLossName(undefined), /^LossError: createLoss: the loss name is undefined; expected one of cross-entropy, focal,/);
    assert.throws(() => parseLossName(3), /option 'name' is 3; expected one of/);
    assert.equal(parseLossName('dice'), 'dice');
  });

  test('options that are not an object, or carry another loss\u2019s keys, are rejected', () => {
    assert.throws(() => createLoss('dice', 'fast'), /^LossError: createLoss\('dice'\): options must be an object, got 'fast'\./);
    assert.throws(() => createLoss('dice', { gamma: 2 }), /DiceLoss: unknown option 'gamma'/);
  });

  test("reduction 'none' through the registry gives [B]", () => {
    const { yTrue, yPred } = randomCase([3, 4, 4], 2, 32);
    const perImage = createLoss('combo', { reduction: 'none' }).compute(yTrue, yPred);
    assert.deepEqual(perImage.shape, [3]);
    tf.dispose([yTrue, yPred, perImage]);
  });
});

describe('the trainingLoss setting', () => {
  test("package.json's lesionLab.trainingLoss enum and default are the registry's names and default", async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { enum?: string[]; default?: unknown }> } };
    };
    const setting = pkg.contributes.configuration.properties['lesionLab.trainingLoss'];
    assert.deepEqual(setting.enum, [...LOSS_NAMES]);
    assert.equal(setting.default, DEFAULT_LOSS_NAME);
  });
});
