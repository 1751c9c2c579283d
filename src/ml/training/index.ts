// Fine-tune on corrected masks (see ./loop): the public surface of the training modules.
export { fineTune, saveNetworkAtomically, scheduleFactor } from './loop';
export { splitCases } from './cases';
export { describePostprocessingChoice, type PostprocessingChoice } from './postprocessingChoice';
export { DEFAULT_RECIPE, STRONG_AUGMENTATION, fineTuneStart, recipeNetworkConfig, recipeTrainingOptions, type FineTuneStart, type Recipe } from './recipe';
export {
  TrainingCancelledError,
  TrainingError,
  type FineTuneOptions,
  type FineTuneResult,
  type NetworkFactory,
  type TrainableNetwork,
  type TrainingPair,
  type TrainingProgress,
  type TrainingStart,
} from './options';
