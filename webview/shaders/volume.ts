// 3-D view shader: ray-marches the volume inside its display-world box (drawn as a back-faced
// box), with MIP or direct volume rendering, the label map as a tinted volume or a shaded surface,
// and a fused image's maximum along the ray in its colormap. Enums come from TS through `defines`.
import { Matrix4, Vector2, Vector3, type Texture } from 'three';
import { LabelMode3D, RenderMode3D } from '../renderModes';
import { ImageSamplerKind } from './slice';

export { LabelMode3D, RenderMode3D };

export function volumeUniforms(): Record<string, { value: unknown }> {
  return {
    u_volume: { value: null as Texture | null },
    u_labels: { value: null as Texture | null },
    u_colormap: { value: null as Texture | null },
    u_labelColors: { value: null as Texture | null },
    u_worldToVoxel: { value: new Matrix4() },
    u_boxMin: { value: new Vector3() },
    u_boxMax: { value: new Vector3() },
    u_dims: { value: new Vector3(1, 1, 1) },
    u_window: { value: new Vector2(0, 1) },
    u_stepMm: { value: 1 },
    u_steps: { value: 128 },
    u_renderMode: { value: RenderMode3D.mip as number },
    u_labelMode: { value: LabelMode3D.tint as number },
    u_labelOpacity: { value: 0.5 },
    u_density: { value: 0.05 },
    u_fus: { value: null as Texture | null },
    u_fusColormap: { value: null as Texture | null },
    u_showFus: { value: false },
    u_fusOpacity: { value: 0.5 },
    u_fusThreshold: { value: 0 },
    u_fusRange: { value: new Vector2(0, 1) },
  };
}

export const volumeVertexShader = /* glsl */ `
out vec3 v_world;
void main() {
  vec4 w = modelMatrix * vec4(position, 1.0);
  v_world = w.xyz;
  gl_Position = projectionMatrix * viewMatrix * w;
}
`;

export const volumeFragmentShader = /* glsl */ `
#if IMAGE_SAMPLER == ${ImageSamplerKind.int}
uniform highp isampler3D u_volume;
#else
uniform highp sampler3D u_volume;
#endif
uniform highp usampler3D u_labels;
uniform sampler2D u_colormap;
uniform sampler2D u_labelColors;
uniform mat4 u_worldToVoxel;
uniform vec3 u_boxMin;
uniform vec3 u_boxMax;
uniform vec3 u_dims;
uniform vec2 u_window;
uniform float u_stepMm;
uniform int u_steps;
uniform int u_renderMode;
uniform int u_labelMode;
uniform float u_labelOpacity;
uniform float u_density;
// The fused image (NaN where it does not reach): its maximum along the ray, coloured over the
// volume as PET/CT viewers show a PET's MIP.
uniform highp sampler3D u_fus;
uniform sampler2D u_fusColormap;
uniform bool u_showFus;
uniform float u_fusOpacity;
uniform float u_fusThreshold;
uniform vec2 u_fusRange;

in vec3 v_world;
out highp vec4 outColor;

float sampleValue(ivec3 idx) {
#if IMAGE_SAMPLER == ${ImageSamplerKind.int}
  return float(texelFetch(u_volume, idx, 0).r);
#elif IMAGE_SAMPLER == ${ImageSamplerKind.unorm8}
  return texelFetch(u_volume, idx, 0).r * 255.0;
#else
  return texelFetch(u_volume, idx, 0).r;
#endif
}

bool inside(vec3 r) {
  return all(greaterThanEqual(r, vec3(0.0))) && all(lessThan(r, u_dims));
}

uint labelAtWorld(vec3 p) {
  vec3 r = floor((u_worldToVoxel * vec4(p, 1.0)).xyz + 0.5);
  if (!inside(r)) return 0u;
  return texelFetch(u_labels, ivec3(r), 0).r;
}

vec4 labelColor(uint label) {
  return texelFetch(u_labelColors, ivec2(int(label & 255u), int(label >> 8u)), 0);
}

void main() {
  vec3 dir = normalize(v_world - cameraPosition);
  // Ray/box intersection (slab method).
  vec3 inv = 1.0 / dir;
  vec3 t0 = (u_boxMin - cameraPosition) * inv;
  vec3 t1 = (u_boxMax - cameraPosition) * inv;
  float tNear = max(max(min(t0.x, t1.x), min(t0.y, t1.y)), min(t0.z, t1.z));
  float tFar = min(min(max(t0.x, t1.x), max(t0.y, t1.y)), max(t0.z, t1.z));
  tNear = max(tNear, 0.0);
  if (tFar <= tNear) discard;
  float span = tFar - tNear;
  int n = min(u_steps, int(ceil(span / u_stepMm)));
  float dt = span / float(max(n, 1));
  float maxT = 0.0;
  vec4 acc = vec4(0.0);
  vec4 labelTint = vec4(0.0);
  bool hitSurface = false;
  vec3 surfaceColor = vec3(0.0);
  bool fusHit = false;
  float fusMax = 0.0;
  for (int s = 0; s < 2048; s++) {
    if (s >= n) break;
    vec3 p = cameraPosition + dir * (tNear + (float(s) + 0.5) * dt);
    vec3 r = floor((u_worldToVoxel * vec4(p, 1.0)).xyz + 0.5);
    if (!inside(r)) continue;
    ivec3 idx = ivec3(r);
    if (u_showFus) {
      // NaN fails the comparison.
      float f = texelFetch(u_fus, idx, 0).r;
      if (f >= u_fusThreshold && (!fusHit || f > fusMax)) {
        fusMax = f;
        fusHit = true;
      }
    }
    float t = clamp((sampleValue(idx) - u_window.x) / max(u_window.y - u_window.x, 1e-20), 0.0, 1.0);
    if (u_labelMode != ${LabelMode3D.none}) {
      uint label = texelFetch(u_labels, idx, 0).r;
      vec4 lc = label != 0u ? labelColor(label) : vec4(0.0);
      if (label != 0u && lc.a > 0.0) {
        if (u_labelMode == ${LabelMode3D.surface}) {
          // Normal from the label occupancy gradient (central differences, one voxel apart in mm).
          vec3 e = vec3(u_stepMm, 0.0, 0.0);
          vec3 grad = vec3(
            float(labelAtWorld(p + e.xyy) != 0u) - float(labelAtWorld(p - e.xyy) != 0u),
            float(labelAtWorld(p + e.yxy) != 0u) - float(labelAtWorld(p - e.yxy) != 0u),
            float(labelAtWorld(p + e.yyx) != 0u) - float(labelAtWorld(p - e.yyx) != 0u));
          vec3 nrm = length(grad) > 0.0 ? -normalize(grad) : -dir;
          float shade = 0.3 + 0.7 * abs(dot(nrm, -dir));
          surfaceColor = lc.rgb * shade;
          hitSurface = true;
          break;
        }
        float a = u_labelOpacity * 0.25;
        labelTint.rgb += (1.0 - labelTint.a) * a * lc.rgb;
        labelTint.a += (1.0 - labelTint.a) * a;
      }
    }
    if (u_renderMode == ${RenderMode3D.mip}) {
      maxT = max(maxT, t);
    } else {
      // With label surfaces the volume is drawn fainter ("glass"), so that deep surfaces show.
      float density = u_labelMode == ${LabelMode3D.surface} ? u_density * 0.25 : u_density;
      float a = 1.0 - exp(-t * t * density * dt);
      vec3 c = texture(u_colormap, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb;
      acc.rgb += (1.0 - acc.a) * a * c;
      acc.a += (1.0 - acc.a) * a;
      // Early termination, except while the fused image's maximum still needs the whole ray.
      if (acc.a > 0.98 && !u_showFus) break;
    }
  }
  vec3 color;
  if (u_renderMode == ${RenderMode3D.mip}) {
    color = texture(u_colormap, vec2((maxT * 255.0 + 0.5) / 256.0, 0.5)).rgb;
  } else {
    color = acc.rgb;
  }
  if (hitSurface) {
    // The surface is opaque behind what the ray crossed before it (front-to-back compositing).
    color = u_renderMode == ${RenderMode3D.mip} ? mix(color, surfaceColor, 0.8) : acc.rgb + (1.0 - acc.a) * surfaceColor;
  }
  if (fusHit) {
    float ft = clamp((fusMax - u_fusThreshold) / max(u_fusRange.y - u_fusThreshold, 1e-20), 0.0, 1.0);
    color = mix(color, texture(u_fusColormap, vec2((ft * 255.0 + 0.5) / 256.0, 0.5)).rgb, u_fusOpacity);
  }
  color = color * (1.0 - labelTint.a) + labelTint.rgb;
  outColor = vec4(color, 1.0);
}
`;
