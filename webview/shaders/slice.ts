// Slice view shader: one full-viewport quad; each fragment maps its plane position (mm) to a voxel
// through u_planeToVoxel and reads the image, label, probability, uncertainty and fused-image
// volumes with texelFetch (nearest voxel, exact integer values). Enums come from TS via `defines`.
// Compositing order, bottom to top: image, fused image, uncertainty map, probability map, brain
// outline, proposal outline, labels, crosshair, brush cursor.
import { Matrix4, Vector2, Vector3, Vector4, type Texture } from 'three';

/** Image texture kinds: decides the sampler type and how a texel becomes a value. */
export const ImageSamplerKind = { int: 0, float: 1, unorm8: 2 } as const;
export type ImageSamplerKind = (typeof ImageSamplerKind)[keyof typeof ImageSamplerKind];

/** Label drawing modes. */
export const LabelMode = { fill: 0, outline: 1 } as const;
export type LabelMode = (typeof LabelMode)[keyof typeof LabelMode];

/** Uniform values of the slice shader (each view clones them). */
export function sliceUniforms(): Record<string, { value: unknown }> {
  return {
    u_volume: { value: null as Texture | null },
    u_labels: { value: null as Texture | null },
    u_prob: { value: null as Texture | null },
    u_unc: { value: null as Texture | null },
    u_brain: { value: null as Texture | null },
    u_fus: { value: null as Texture | null },
    u_fusColormap: { value: null as Texture | null },
    u_colormap: { value: null as Texture | null },
    u_labelColors: { value: null as Texture | null },
    u_heatmap: { value: null as Texture | null },
    u_uncColormap: { value: null as Texture | null },
    u_planeToVoxel: { value: new Matrix4() },
    u_tieBreakVox: { value: new Vector3() },
    u_dims: { value: new Vector3(1, 1, 1) },
    u_viewCenterMm: { value: new Vector2() },
    u_viewportPx: { value: new Vector2(1, 1) },
    u_mmPerPixel: { value: 1 },
    u_window: { value: new Vector2(0, 1) },
    u_showLabels: { value: false },
    u_labelOpacity: { value: 0.5 },
    u_labelMode: { value: LabelMode.fill as number },
    u_showProb: { value: false },
    u_probOpacity: { value: 0.6 },
    u_probThreshold: { value: 0.5 },
    u_probRange: { value: new Vector2(0, 1) },
    u_probOutline: { value: false },
    u_probOutlineThreshold: { value: 0.5 },
    // Magenta: apart from the heat scale (red → yellow) and 'ice' (blue → cyan), since the outline
    // runs where uncertainty is highest.
    u_probOutlineColor: { value: new Vector4(1, 0.2, 1, 1) },
    u_showUnc: { value: false },
    u_uncOpacity: { value: 0.5 },
    u_uncThreshold: { value: 0 },
    u_uncRange: { value: new Vector2(0, 1) },
    u_showFus: { value: false },
    u_fusOpacity: { value: 0.5 },
    u_fusThreshold: { value: 0 },
    u_fusRange: { value: new Vector2(0, 1) },
    u_showBrain: { value: false },
    u_brainThreshold: { value: 0.5 },
    u_brainOpacity: { value: 0.8 },
    u_crosshairMm: { value: new Vector2() },
    u_crosshairColor: { value: new Vector4(0.2, 0.8, 1, 0.8) },
    u_showCrosshair: { value: true },
    u_cursorMm: { value: new Vector2() },
    u_cursorRadiusMm: { value: 0 },
    u_cursorColor: { value: new Vector4(1, 1, 0, 0.9) },
    u_background: { value: new Vector4(0, 0, 0, 1) },
  };
}

export const sliceVertexShader = /* glsl */ `
out vec2 v_uv;
void main() {
  v_uv = uv;
  gl_Position = vec4(position.xy, 0.0, 1.0);
}
`;

export const sliceFragmentShader = /* glsl */ `
#if IMAGE_SAMPLER == ${ImageSamplerKind.int}
uniform highp isampler3D u_volume;
#else
uniform highp sampler3D u_volume;
#endif
uniform highp usampler3D u_labels;
uniform highp sampler3D u_prob;
uniform highp sampler3D u_unc;
uniform highp sampler3D u_brain;
uniform highp sampler3D u_fus;
uniform sampler2D u_colormap;
uniform sampler2D u_labelColors;
uniform sampler2D u_heatmap;
uniform sampler2D u_uncColormap;
uniform sampler2D u_fusColormap;
uniform mat4 u_planeToVoxel;
// A tiny display-world step (+x, +y, +z) in voxel units: a sample exactly on a voxel boundary
// goes to the voxel on the +world side whatever the file's axis order and flips.
uniform vec3 u_tieBreakVox;
uniform vec3 u_dims;
uniform vec2 u_viewCenterMm;
uniform vec2 u_viewportPx;
uniform float u_mmPerPixel;
uniform vec2 u_window;
uniform bool u_showLabels;
uniform float u_labelOpacity;
uniform int u_labelMode;
uniform bool u_showProb;
uniform float u_probOpacity;
uniform float u_probThreshold;
uniform vec2 u_probRange;
uniform bool u_probOutline;
uniform float u_probOutlineThreshold;
uniform vec4 u_probOutlineColor;
uniform bool u_showUnc;
uniform float u_uncOpacity;
uniform float u_uncThreshold;
uniform vec2 u_uncRange;
uniform bool u_showFus;
uniform float u_fusOpacity;
uniform float u_fusThreshold;
uniform vec2 u_fusRange;
uniform bool u_showBrain;
uniform float u_brainThreshold;
uniform float u_brainOpacity;
uniform vec2 u_crosshairMm;
uniform vec4 u_crosshairColor;
uniform bool u_showCrosshair;
uniform vec2 u_cursorMm;
uniform float u_cursorRadiusMm;
uniform vec4 u_cursorColor;
uniform vec4 u_background;

in vec2 v_uv;
out highp vec4 outColor;

bool voxelAt(vec2 planeMm, out ivec3 idx);
float imageValue(ivec3 idx);
uint labelAt(vec2 planeMm);
bool inProposal(vec2 planeMm);
bool inBrain(vec2 planeMm);
vec3 overlayColor(sampler2D lut, float value, vec2 range);

bool voxelAt(vec2 planeMm, out ivec3 idx) {
  vec3 vox = (u_planeToVoxel * vec4(planeMm, 0.0, 1.0)).xyz + u_tieBreakVox;
  vec3 r = floor(vox + 0.5);
  idx = ivec3(r);
  return all(greaterThanEqual(r, vec3(0.0))) && all(lessThan(r, u_dims));
}

float imageValue(ivec3 idx) {
#if IMAGE_SAMPLER == ${ImageSamplerKind.int}
  return float(texelFetch(u_volume, idx, 0).r);
#elif IMAGE_SAMPLER == ${ImageSamplerKind.unorm8}
  return floor(texelFetch(u_volume, idx, 0).r * 255.0 + 0.5);
#else
  return texelFetch(u_volume, idx, 0).r;
#endif
}

uint labelAt(vec2 planeMm) {
  ivec3 idx;
  if (!voxelAt(planeMm, idx)) return 0u;
  return texelFetch(u_labels, idx, 0).r;
}

// Inside the proposal outline's region: probability at or above the outline threshold (and above
// the map's minimum, so a zero threshold does not outline the whole volume).
bool inProposal(vec2 planeMm) {
  ivec3 idx;
  if (!voxelAt(planeMm, idx)) return false;
  float p = texelFetch(u_prob, idx, 0).r;
  return p >= u_probOutlineThreshold && p > u_probRange.x;
}

bool inBrain(vec2 planeMm) {
  ivec3 idx;
  if (!voxelAt(planeMm, idx)) return false;
  return texelFetch(u_brain, idx, 0).r >= u_brainThreshold;
}

vec3 overlayColor(sampler2D lut, float value, vec2 range) {
  float t = clamp((value - range.x) / max(range.y - range.x, 1e-20), 0.0, 1.0);
  return texture(lut, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb;
}

void main() {
  vec2 px = v_uv * u_viewportPx;
  vec2 planeMm = u_viewCenterMm + (px - 0.5 * u_viewportPx) * u_mmPerPixel;
  ivec3 idx;
  vec4 color = u_background;
  if (voxelAt(planeMm, idx)) {
    float value = imageValue(idx);
    float t = clamp((value - u_window.x) / max(u_window.y - u_window.x, 1e-20), 0.0, 1.0);
    color = vec4(texture(u_colormap, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb, 1.0);
    // A fused image where it reaches (NaN elsewhere fails the comparison) and at or above its threshold.
    if (u_showFus) {
      float f = texelFetch(u_fus, idx, 0).r;
      if (f >= u_fusThreshold) color.rgb = mix(color.rgb, overlayColor(u_fusColormap, f, vec2(u_fusThreshold, u_fusRange.y)), u_fusOpacity);
    }
    // Each map is drawn only at or above its own threshold and above its minimum (zero
    // uncertainty, zero probability: nothing to show).
    if (u_showUnc) {
      float q = texelFetch(u_unc, idx, 0).r;
      if (q >= u_uncThreshold && q > u_uncRange.x) color.rgb = mix(color.rgb, overlayColor(u_uncColormap, q, u_uncRange), u_uncOpacity);
    }
    if (u_showProb) {
      float p = texelFetch(u_prob, idx, 0).r;
      if (p >= u_probThreshold && p > u_probRange.x) color.rgb = mix(color.rgb, overlayColor(u_heatmap, p, u_probRange), u_probOpacity);
    }
    if (u_showBrain && inBrain(planeMm)) {
      // One-pixel dashed outline just inside the brain's edge (dashes of 4 device pixels).
      float d = u_mmPerPixel;
      bool edge = !inBrain(planeMm + vec2(d, 0.0)) || !inBrain(planeMm - vec2(d, 0.0)) ||
                  !inBrain(planeMm + vec2(0.0, d)) || !inBrain(planeMm - vec2(0.0, d));
      // White: the brain's edge is where labels and the proposal outline end, so it must not look like either.
      if (edge && mod(floor((px.x + px.y) / 4.0), 2.0) < 1.0) color.rgb = mix(color.rgb, vec3(1.0), u_brainOpacity);
    }
    if (u_probOutline && inProposal(planeMm)) {
      // One-pixel outline of the proposal whatever the zoom, drawn just inside its boundary.
      float d = u_mmPerPixel;
      if (!inProposal(planeMm + vec2(d, 0.0)) || !inProposal(planeMm - vec2(d, 0.0)) ||
          !inProposal(planeMm + vec2(0.0, d)) || !inProposal(planeMm - vec2(0.0, d))) {
        color.rgb = mix(color.rgb, u_probOutlineColor.rgb, u_probOutlineColor.a);
      }
    }
    if (u_showLabels) {
      uint label = texelFetch(u_labels, idx, 0).r;
      if (label != 0u) {
        vec4 lc = texelFetch(u_labelColors, ivec2(int(label & 255u), int(label >> 8u)), 0);
        bool draw = true;
        if (u_labelMode == ${LabelMode.outline}) {
          // One-pixel outline whatever the zoom: compare with the label one screen pixel away.
          float d = u_mmPerPixel;
          draw = labelAt(planeMm + vec2(d, 0.0)) != label || labelAt(planeMm - vec2(d, 0.0)) != label ||
                 labelAt(planeMm + vec2(0.0, d)) != label || labelAt(planeMm - vec2(0.0, d)) != label;
        }
        if (draw) color.rgb = mix(color.rgb, lc.rgb, lc.a * u_labelOpacity);
      }
    }
  }
  if (u_showCrosshair) {
    // Signed pixel offset, shifted a little so that a pixel centre exactly half a pixel away
    // (a tie) is decided the same way whatever float noise the crosshair carries.
    vec2 d = (planeMm - u_crosshairMm) / u_mmPerPixel + 1e-3;
    vec2 dpx = abs(d);
    bool onX = d.x >= -0.5 && d.x < 0.5;
    bool onY = d.y >= -0.5 && d.y < 0.5;
    // Lines through the crosshair with a small gap around the point itself.
    bool onLine = (onX || onY) && max(dpx.x, dpx.y) > 6.0;
    if (onLine) color.rgb = mix(color.rgb, u_crosshairColor.rgb, u_crosshairColor.a);
  }
  if (u_cursorRadiusMm > 0.0) {
    float dr = abs(length(planeMm - u_cursorMm) - u_cursorRadiusMm) / u_mmPerPixel;
    if (dr < 0.75) color.rgb = mix(color.rgb, u_cursorColor.rgb, u_cursorColor.a);
  }
  outColor = color;
}
`;
