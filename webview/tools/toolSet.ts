// The editing tools: names, shortcut keys and what their tooltips say. Pure.

export const TOOL_NAMES = ['navigate', 'brush', 'eraser', 'fill2d', 'grow3d', 'prompt', 'measure'] as const;
/** Editing tools; each has a keyboard shortcut (see TOOL_KEYS). */
export type ToolName = (typeof TOOL_NAMES)[number];

/** KeyboardEvent.key → tool. */
export const TOOL_KEYS: Record<string, ToolName> = { n: 'navigate', b: 'brush', e: 'eraser', f: 'fill2d', g: 'grow3d', k: 'prompt', d: 'measure' };

export const TOOL_TITLES: Record<ToolName, string> = {
  navigate: 'Navigate (N)',
  brush: 'Brush (B)',
  eraser: 'Eraser (E)',
  fill2d: 'Fill in slice (F)',
  grow3d: 'Region grow 3-D (G)',
  prompt: 'Prompt (K): click on the object, Shift+click or right click off it, drag a box, Ctrl+drag its outline (Ctrl+Shift+drag: outline off it), Alt+drag a scribble through it (Alt+Shift+drag: off it); Backspace undoes a prompt, Esc clears them',
  measure: 'Measure (D): drag a ruler on a slice to measure a distance in mm, or an angle; Backspace removes the last measurement, Esc clears them',
};

export function isToolName(s: unknown): s is ToolName {
  return typeof s === 'string' && (TOOL_NAMES as readonly string[]).includes(s);
}
