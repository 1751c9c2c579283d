// The one error class of the interactive (click-guided) segmentation module.

/** Invalid prompts, volume or options given to click-guided segmentation; the message names the value and what was expected. */
export class PromptError extends Error {
  override name = 'PromptError';
}
