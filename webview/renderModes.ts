// The 3-D view's rendering and label modes, declared once in TS and injected into the shader
// through `defines` (shaders/volume.ts). Pure, so Node code (persisted state) can check them.

/** 3-D rendering modes. */
export const RenderMode3D = { mip: 0, dvr: 1 } as const;
export type RenderMode3D = (typeof RenderMode3D)[keyof typeof RenderMode3D];

/** How labels appear in 3-D. */
export const LabelMode3D = { none: 0, tint: 1, surface: 2 } as const;
export type LabelMode3D = (typeof LabelMode3D)[keyof typeof LabelMode3D];
