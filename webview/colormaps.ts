// Colormaps as 256-entry RGBA tables, and the default label palette. Pure.

/** Colormap names offered in the UI. */
export const COLORMAP_NAMES = ['gray', 'hot', 'viridis', 'inferno', 'plasma', 'cividis', 'ice'] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];

/** Colormaps the uncertainty map may use (the probability map always uses the heat scale, `heatTable`). */
export const UNCERTAINTY_COLORMAPS: readonly ColormapName[] = ['ice', 'viridis', 'cividis', 'plasma', 'inferno'];
/** Colormaps offered for a fused image (PET is read in hot). */
export const FUSION_COLORMAPS: readonly ColormapName[] = ['hot', 'inferno', 'viridis', 'gray', 'ice'];

// Perceptual maps from matplotlib's tables sampled at 9 evenly spaced points (0, 1/8, …, 1);
// linear interpolation between them stays within a few 1/255 of the full tables.
const STOPS: Record<Exclude<ColormapName, 'gray' | 'hot'>, number[][]> = {
  viridis: [
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
  ],
  inferno: [
    [0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85],
    [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164],
  ],
  plasma: [
    [13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137], [219, 92, 104],
    [244, 136, 73], [254, 188, 43], [240, 249, 33], [240, 249, 33],
  ],
  cividis: [
    [0, 34, 78], [18, 53, 112], [59, 73, 108], [87, 93, 109], [112, 113, 115],
    [138, 134, 120], [166, 157, 117], [197, 181, 104], [254, 232, 56],
  ],
  // Dark blue → cyan → white, brightening: the uncertainty map's default, chosen to share no
  // hue with the probability map's red → yellow heat scale, so the two stay apart where both show.
  ice: [[20, 30, 140], [30, 90, 220], [40, 170, 255], [120, 230, 255], [235, 255, 255]],
};

/** RGBA bytes (256 × 4) of a colormap; index 0 is the low end of the window. */
export function colormapTable(name: ColormapName): Uint8Array {
  const out = new Uint8Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let r: number;
    let g: number;
    let b: number;
    if (name === 'gray') {
      r = g = b = i;
    } else if (name === 'hot') {
      r = Math.min(1, t / 0.375) * 255;
      g = Math.min(1, Math.max(0, (t - 0.375) / 0.375)) * 255;
      b = Math.min(1, Math.max(0, (t - 0.75) / 0.25)) * 255;
    } else {
      const stops = STOPS[name];
      if (!stops) throw new Error(`colormapTable: unknown colormap "${String(name)}"; use one of ${COLORMAP_NAMES.join(', ')}`);
      const x = t * (stops.length - 1);
      const k = Math.min(stops.length - 2, Math.floor(x));
      const f = x - k;
      [r, g, b] = [0, 1, 2].map((c) => stops[k][c] * (1 - f) + stops[k + 1][c] * f);
    }
    out[i * 4] = Math.round(r);
    out[i * 4 + 1] = Math.round(g);
    out[i * 4 + 2] = Math.round(b);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Default colour of a label id (1 red, 2 green, 3 blue, … like ITK-SNAP), as [r, g, b] bytes. */
export function defaultLabelColor(id: number): [number, number, number] {
  const base: [number, number, number][] = [
    [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
    [255, 239, 213], [0, 0, 205], [205, 133, 63], [210, 180, 140], [102, 205, 170], [0, 0, 128],
  ];
  if (id < base.length) return base[id];
  // Golden-angle hues for the rest, so neighbouring ids differ.
  const h = (id * 137.508) % 360;
  const c = 0.8;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = 0.15;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255 / (c + m)), Math.round((g + m) * 255 / (c + m)), Math.round((b + m) * 255 / (c + m))];
}

/**
 * The probability map's heat scale: 'hot' from a quarter to three quarters of its range, i.e.
 * dark red → red → yellow (like FSL's red-yellow). Without 'hot''s white end, so high
 * probabilities stay visible on bright lesions (FLAIR hyperintensities are near white).
 */
export function heatTable(): Uint8Array {
  const hot = colormapTable('hot');
  const out = new Uint8Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    const src = Math.round(((0.25 + (0.5 * i) / 255) * 255));
    out.set(hot.subarray(src * 4, src * 4 + 4), i * 4);
  }
  return out;
}
