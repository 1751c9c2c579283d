// Icons from VS Code's codicons font (@vscode/codicons, bundled as media/codicon.ttf and served
// from the extension under the webview's CSP): the code points of the glyphs used here.

export const CODICONS = {
  target: '\uebf8',
  edit: '\uea73',
  eraser: '\uec5d',
  paintcan: '\ueb2a',
  wand: '\uebcf',
  sparkle: '\uec10',
  layers: '\uebd2',
  filter: '\ueaf1',
  play: '\ueb2c',
  ruler: '\uea96',
  add: '\uea60',
  remove: '\ueb3b',
  circle: '\ueabc',
} as const;

export type CodiconName = keyof typeof CODICONS;

/** A glyph element; hidden from screen readers (the control carries the words). */
export function codicon(name: CodiconName): HTMLElement {
  const e = document.createElement('span');
  e.className = 'll-codicon';
  e.setAttribute('aria-hidden', 'true');
  e.textContent = CODICONS[name];
  return e;
}
