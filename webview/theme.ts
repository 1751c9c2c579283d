// Colours from the VS Code theme (its --vscode-* CSS variables) for what WebGL draws.

/** Parses "#rgb", "#rrggbb", "#rrggbbaa" or "rgb(a)(r, g, b…)" into bytes; null otherwise. */
export function parseCssColor(raw: string): [number, number, number] | null {
  const s = raw.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [0, 1, 2].map((n) => parseInt(m![1][n] + m![1][n], 16)) as [number, number, number];
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(s);
  if (m) return [0, 2, 4].map((n) => parseInt(m![1].slice(n, n + 2), 16)) as [number, number, number];
  m = /^rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)/i.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return null;
}

/** The theme colour `name` (a CSS variable on <html>), or `fallback` outside VS Code. */
export function themeColor(name: string, fallback: [number, number, number]): [number, number, number] {
  const raw = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return parseCssColor(raw) ?? fallback;
}

export function rgbToHex(c: [number, number, number]): number {
  return (c[0] << 16) | (c[1] << 8) | c[2];
}
