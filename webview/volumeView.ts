// The 3-D view: a ray-marched volume (MIP or direct volume rendering) with the labels as a
// tinted volume or a surface, and a fused image's maximum along each ray. Orbit by drag, zoom by wheel. Rendered only when something it
// shows changed, because software GL takes up to a second per frame.
import {
  BackSide,
  BoxGeometry,
  GLSL3,
  Matrix4,
  Mesh,
  PerspectiveCamera,
  Scene,
  ShaderMaterial,
  Vector3,
  type Texture,
  type Vector2,
  type WebGLRenderer,
} from 'three';
import { displayBounds, type VolumeGeometry } from './geometry';
import type { ImageSamplerKind } from './shaders/slice';
import { LabelMode3D, RenderMode3D, volumeFragmentShader, volumeUniforms, volumeVertexShader } from './shaders/volume';
import type { Rect } from './sliceView';

export interface VolumeDrawState {
  geometry: VolumeGeometry;
  image: Texture;
  labels: Texture;
  colormap: Texture;
  labelColors: Texture;
  windowLow: number;
  windowHigh: number;
  mode: RenderMode3D;
  labelMode: LabelMode3D;
  labelOpacity: number;
  /** The fused image: its texture (NaN beyond its reach), colormap and display. */
  fusion: Texture;
  fusionColormap: Texture;
  showFusion: boolean;
  fusionOpacity: number;
  fusionThreshold: number;
  fusionRange: [number, number];
}

/** Most ray steps: enough for one step per voxel along the longest axis of a 512³ volume. */
const MAX_STEPS = 512;

export class VolumeView {
  readonly scene = new Scene();
  readonly camera = new PerspectiveCamera(30, 1, 1, 10000);
  private readonly material: ShaderMaterial;
  private mesh: Mesh | null = null;
  rect: Rect = { x: 0, y: 0, width: 0, height: 0 };
  /** Orbit angles in radians (azimuth about S, elevation) and zoom. */
  azimuth = Math.PI;
  elevation = 0.25;
  zoom = 1.5;

  constructor(sampler: ImageSamplerKind) {
    this.material = new ShaderMaterial({
      glslVersion: GLSL3,
      uniforms: volumeUniforms(),
      vertexShader: volumeVertexShader,
      fragmentShader: volumeFragmentShader,
      defines: { IMAGE_SAMPLER: sampler },
      side: BackSide,
      depthTest: false,
      depthWrite: false,
    });
  }

  setSampler(sampler: ImageSamplerKind): void {
    if (this.material.defines.IMAGE_SAMPLER !== sampler) {
      this.material.defines.IMAGE_SAMPLER = sampler;
      this.material.needsUpdate = true;
    }
  }

  /** Orbits by a drag of (dx, dy) CSS pixels. */
  orbitBy(dxPx: number, dyPx: number): void {
    this.azimuth -= dxPx * 0.01;
    this.elevation = Math.max(-1.5, Math.min(1.5, this.elevation + dyPx * 0.01));
  }

  zoomBy(factor: number): void {
    this.zoom = Math.min(8, Math.max(0.25, this.zoom * factor));
  }

  render(renderer: WebGLRenderer, s: VolumeDrawState, canvasHeight: number): void {
    if (this.rect.width <= 0 || this.rect.height <= 0) return;
    const g = s.geometry;
    const b = displayBounds(g);
    const size = new Vector3(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
    const centre = new Vector3((b.max[0] + b.min[0]) / 2, (b.max[1] + b.min[1]) / 2, (b.max[2] + b.min[2]) / 2);
    if (!this.mesh) {
      this.mesh = new Mesh(new BoxGeometry(1, 1, 1), this.material);
      this.mesh.frustumCulled = false;
      this.scene.add(this.mesh);
    }
    this.mesh.scale.copy(size);
    this.mesh.position.copy(centre);
    const radius = size.length() / 2;
    const dist = radius / Math.sin((this.camera.fov * Math.PI) / 360) / this.zoom;
    // Azimuth π looks from the front (anterior, +A) at the face; S is up.
    this.camera.up.set(0, 0, 1);
    this.camera.position.set(
      centre.x + dist * Math.cos(this.elevation) * Math.sin(this.azimuth),
      centre.y - dist * Math.cos(this.elevation) * Math.cos(this.azimuth),
      centre.z + dist * Math.sin(this.elevation),
    );
    this.camera.lookAt(centre);
    this.camera.aspect = this.rect.width / this.rect.height;
    this.camera.near = Math.max(0.1, dist - radius * 1.5);
    this.camera.far = dist + radius * 1.5;
    this.camera.updateProjectionMatrix();
    const u = this.material.uniforms;
    u.u_volume.value = s.image;
    u.u_labels.value = s.labels;
    u.u_colormap.value = s.colormap;
    u.u_labelColors.value = s.labelColors;
    (u.u_worldToVoxel.value as Matrix4).set(...(Array.from(g.displayInverse) as Parameters<Matrix4['set']>));
    (u.u_boxMin.value as Vector3).set(b.min[0], b.min[1], b.min[2]);
    (u.u_boxMax.value as Vector3).set(b.max[0], b.max[1], b.max[2]);
    (u.u_dims.value as Vector3).set(g.dims[0], g.dims[1], g.dims[2]);
    (u.u_window.value as Vector2).set(s.windowLow, s.windowHigh);
    // Step of about one voxel along the smallest spacing, capped to MAX_STEPS through the box.
    const minSpacing = Math.min(...g.spacingMm);
    u.u_stepMm.value = Math.max(minSpacing, size.length() / MAX_STEPS);
    u.u_steps.value = MAX_STEPS;
    u.u_renderMode.value = s.mode;
    u.u_labelMode.value = s.labelMode;
    u.u_labelOpacity.value = s.labelOpacity;
    u.u_fus.value = s.fusion;
    u.u_fusColormap.value = s.fusionColormap;
    u.u_showFus.value = s.showFusion;
    u.u_fusOpacity.value = s.fusionOpacity;
    u.u_fusThreshold.value = s.fusionThreshold;
    (u.u_fusRange.value as Vector2).set(s.fusionRange[0], s.fusionRange[1]);
    // Opacity per mm: a ray through the whole volume at full intensity is nearly opaque.
    u.u_density.value = 25 / Math.max(...g.dims.map((d, n) => d * g.spacingMm[n]));
    const y = canvasHeight - this.rect.y - this.rect.height;
    renderer.setViewport(this.rect.x, y, this.rect.width, this.rect.height);
    renderer.setScissor(this.rect.x, y, this.rect.width, this.rect.height);
    renderer.render(this.scene, this.camera);
  }

  dispose(): void {
    this.mesh?.geometry.dispose();
    this.material.dispose();
  }
}

export { LabelMode3D, RenderMode3D };
