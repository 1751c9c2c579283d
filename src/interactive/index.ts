// Public API of click-guided (interactive) segmentation.
export { segmentFromPrompts, resolvePromptOptions } from './segmentFromPrompts';
export type { PromptVolume, PromptSegmentationOptions, PromptSegmentation, PromptTimingsMs } from './segmentFromPrompts';
export { validatePrompts, parsePromptsJson } from './prompts';
export type { Prompts, PointPrompt, BoxPrompt } from './prompts';
export type { VoxelBox } from './box';
export { PromptError } from './errors';
