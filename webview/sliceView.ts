// One slice view (axial, coronal or sagittal): a full-viewport quad whose shader samples the
// volumes, plus its own zoom and pan. Drawn into a scissor rectangle of the shared canvas, so
// all views share one WebGL context and one copy of each texture.
import {
  GLSL3,
  Matrix4,
  Mesh,
  OrthographicCamera,
  PlaneGeometry,
  Scene,
  ShaderMaterial,
  type Texture,
  type WebGLRenderer,
  type Vector2,
  type Vector3,
  type Vector4,
} from 'three';
import {
  displayBounds,
  planeToVoxelMatrix,
  planeToWorld,
  viewPlane,
  worldToPlane,
  type LeftRightConvention,
  type SliceViewKind,
  type Vec3,
  type ViewPlane,
  type VolumeGeometry,
} from './geometry';
import { ImageSamplerKind, LabelMode, sliceFragmentShader, sliceUniforms, sliceVertexShader } from './shaders/slice';

/** A rectangle of the canvas in CSS pixels, origin top-left. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Everything a slice view draws that is shared between views. */
export interface SliceDrawState {
  geometry: VolumeGeometry;
  crosshair: Vec3;
  image: Texture;
  labels: Texture;
  /** Probability map (R32F; a 1-voxel placeholder when there is none). */
  prob: Texture;
  /** Uncertainty map (R32F; a 1-voxel placeholder when there is none). */
  unc: Texture;
  /** The brain a model was given (R32F, 1 inside; a 1-voxel placeholder when there is none). */
  brain: Texture;
  /** Another image on this grid (R32F, NaN where it does not reach; a 1-voxel placeholder when there is none). */
  fusion: Texture;
  fusionColormap: Texture;
  colormap: Texture;
  labelColors: Texture;
  /** Colour lookup of the probability map (`heatTable`: dark red → yellow). */
  heatmap: Texture;
  /** Colour lookup of the uncertainty map. */
  uncColormap: Texture;
  windowLow: number;
  windowHigh: number;
  showLabels: boolean;
  labelOpacity: number;
  labelOutline: boolean;
  showProb: boolean;
  probOpacity: number;
  probThreshold: number;
  probRange: [number, number];
  /** Outline the proposal region (probability ≥ probOutlineThreshold). */
  probOutline: boolean;
  probOutlineThreshold: number;
  showUnc: boolean;
  uncOpacity: number;
  uncThreshold: number;
  uncRange: [number, number];
  /** The fused image, coloured from its threshold to the top of its range. */
  showFusion: boolean;
  fusionOpacity: number;
  fusionThreshold: number;
  fusionRange: [number, number];
  /** Outline the brain (values ≥ brainThreshold), white at brainOpacity. */
  showBrain: boolean;
  brainThreshold: number;
  brainOpacity: number;
  showCrosshair: boolean;
  crosshairRgba: [number, number, number, number];
  /** Brush preview circle in this view, or null. */
  cursor: { world: Vec3; radiusMm: number } | null;
}

/** Display-world tie-break step in mm: far above float32 noise at 1000 mm, far below a pixel. */
const TIE_BREAK_MM = 1e-3;

/** TIE_BREAK_MM along +x, +y and +z of the display world, in voxel units. */
export function tieBreakVoxels(g: VolumeGeometry): Vec3 {
  const out: Vec3 = [0, 0, 0];
  for (let n = 0; n < 3; n++) {
    const w = g.worldAxisOfVoxelAxis[n];
    out[n] = g.displayInverse[n * 4 + w] * TIE_BREAK_MM;
  }
  return out;
}

/** Zoom 1 fits the volume's extent in the view with this margin (fraction of the view). */
const FIT_MARGIN = 0.04;

export class SliceView {
  readonly scene = new Scene();
  readonly camera = new OrthographicCamera(-1, 1, 1, -1, 0, 1);
  private readonly material: ShaderMaterial;
  private readonly mesh: Mesh;
  plane: ViewPlane;
  /** Canvas rectangle (CSS px); empty when the view is hidden. */
  rect: Rect = { x: 0, y: 0, width: 0, height: 0 };
  /** Magnification relative to fit. */
  zoom = 1;
  /** Pan of the view centre, in plane mm, from the centre of the volume. */
  panMm: [number, number] = [0, 0];

  constructor(
    readonly kind: SliceViewKind,
    convention: LeftRightConvention,
    sampler: ImageSamplerKind,
  ) {
    this.plane = viewPlane(kind, convention);
    this.material = new ShaderMaterial({
      glslVersion: GLSL3,
      uniforms: sliceUniforms(),
      vertexShader: sliceVertexShader,
      fragmentShader: sliceFragmentShader,
      defines: { IMAGE_SAMPLER: sampler },
      depthTest: false,
      depthWrite: false,
    });
    this.mesh = new Mesh(new PlaneGeometry(2, 2), this.material);
    this.mesh.frustumCulled = false;
    this.scene.add(this.mesh);
  }

  /** Switches the image sampler kind (a new image of another type); recompiles the shader. */
  setSampler(sampler: ImageSamplerKind): void {
    if (this.material.defines.IMAGE_SAMPLER !== sampler) {
      this.material.defines.IMAGE_SAMPLER = sampler;
      this.material.needsUpdate = true;
    }
  }

  setConvention(convention: LeftRightConvention): void {
    this.plane = viewPlane(this.kind, convention);
  }

  /** Volume extent in plane mm: centre and size. */
  private extent(g: VolumeGeometry): { centre: [number, number]; size: [number, number] } {
    const b = displayBounds(g);
    const u0 = this.plane.uSign * b.min[this.plane.uAxis];
    const u1 = this.plane.uSign * b.max[this.plane.uAxis];
    const v0 = b.min[this.plane.vAxis];
    const v1 = b.max[this.plane.vAxis];
    return { centre: [(u0 + u1) / 2, (v0 + v1) / 2], size: [Math.abs(u1 - u0), Math.abs(v1 - v0)] };
  }

  /** Millimetres per CSS pixel at the current zoom (same in u and v: true aspect). */
  mmPerPixel(g: VolumeGeometry): number {
    const { size } = this.extent(g);
    const w = Math.max(1, this.rect.width);
    const h = Math.max(1, this.rect.height);
    const fit = Math.max(size[0] / w, size[1] / h) / (1 - 2 * FIT_MARGIN);
    return fit / this.zoom;
  }

  /** Plane mm at the centre of the view. */
  viewCentreMm(g: VolumeGeometry): [number, number] {
    const { centre } = this.extent(g);
    return [centre[0] + this.panMm[0], centre[1] + this.panMm[1]];
  }

  /** Display-world point under a canvas CSS pixel position (on the slice through `slicePoint`). */
  worldAtCanvas(g: VolumeGeometry, xPx: number, yPx: number, slicePoint: Vec3): Vec3 {
    const mm = this.mmPerPixel(g);
    const c = this.viewCentreMm(g);
    const u = c[0] + (xPx - this.rect.x - this.rect.width / 2) * mm;
    const v = c[1] - (yPx - this.rect.y - this.rect.height / 2) * mm;
    return planeToWorld(this.plane, u, v, slicePoint);
  }

  /** Canvas CSS pixel position of a display-world point (its projection onto this view). */
  canvasOfWorld(g: VolumeGeometry, world: readonly number[]): [number, number] {
    const mm = this.mmPerPixel(g);
    const c = this.viewCentreMm(g);
    const [u, v] = worldToPlane(this.plane, world);
    return [this.rect.x + this.rect.width / 2 + (u - c[0]) / mm, this.rect.y + this.rect.height / 2 - (v - c[1]) / mm];
  }

  /** Zooms by `factor` keeping the world point under canvas pixel (xPx, yPx) fixed. */
  zoomAt(g: VolumeGeometry, factor: number, xPx: number, yPx: number): void {
    const mmBefore = this.mmPerPixel(g);
    this.zoom = Math.min(64, Math.max(0.25, this.zoom * factor));
    const mmAfter = this.mmPerPixel(g);
    const dx = xPx - this.rect.x - this.rect.width / 2;
    const dy = yPx - this.rect.y - this.rect.height / 2;
    this.panMm[0] += dx * (mmBefore - mmAfter);
    this.panMm[1] -= dy * (mmBefore - mmAfter);
  }

  /** Pans by a drag of (dx, dy) CSS pixels. */
  panBy(g: VolumeGeometry, dxPx: number, dyPx: number): void {
    const mm = this.mmPerPixel(g);
    this.panMm[0] -= dxPx * mm;
    this.panMm[1] += dyPx * mm;
  }

  /** Draws the view into its rectangle. `canvasHeight` is in CSS px (GL's y axis is flipped). */
  render(renderer: WebGLRenderer, s: SliceDrawState, canvasHeight: number): void {
    if (this.rect.width <= 0 || this.rect.height <= 0) return;
    const u = this.material.uniforms;
    const g = s.geometry;
    u.u_volume.value = s.image;
    u.u_labels.value = s.labels;
    u.u_prob.value = s.prob;
    u.u_unc.value = s.unc;
    u.u_brain.value = s.brain;
    u.u_fus.value = s.fusion;
    u.u_fusColormap.value = s.fusionColormap;
    u.u_colormap.value = s.colormap;
    u.u_labelColors.value = s.labelColors;
    u.u_heatmap.value = s.heatmap;
    u.u_uncColormap.value = s.uncColormap;
    (u.u_planeToVoxel.value as Matrix4).set(...(Array.from(planeToVoxelMatrix(g, this.plane, s.crosshair)) as Parameters<Matrix4['set']>));
    (u.u_dims.value as Vector3).set(g.dims[0], g.dims[1], g.dims[2]);
    const tie = tieBreakVoxels(g);
    (u.u_tieBreakVox.value as Vector3).set(tie[0], tie[1], tie[2]);
    const c = this.viewCentreMm(g);
    (u.u_viewCenterMm.value as Vector2).set(c[0], c[1]);
    // The shader works in device pixels; mm per device pixel follows.
    const ratio = renderer.getPixelRatio();
    (u.u_viewportPx.value as Vector2).set(this.rect.width * ratio, this.rect.height * ratio);
    u.u_mmPerPixel.value = this.mmPerPixel(g) / ratio;
    (u.u_window.value as Vector2).set(s.windowLow, s.windowHigh);
    u.u_showLabels.value = s.showLabels;
    u.u_labelOpacity.value = s.labelOpacity;
    u.u_labelMode.value = s.labelOutline ? LabelMode.outline : LabelMode.fill;
    u.u_showProb.value = s.showProb;
    u.u_probOpacity.value = s.probOpacity;
    u.u_probThreshold.value = s.probThreshold;
    (u.u_probRange.value as Vector2).set(s.probRange[0], s.probRange[1]);
    u.u_probOutline.value = s.probOutline;
    u.u_probOutlineThreshold.value = s.probOutlineThreshold;
    u.u_showUnc.value = s.showUnc;
    u.u_uncOpacity.value = s.uncOpacity;
    u.u_uncThreshold.value = s.uncThreshold;
    (u.u_uncRange.value as Vector2).set(s.uncRange[0], s.uncRange[1]);
    u.u_showFus.value = s.showFusion;
    u.u_fusOpacity.value = s.fusionOpacity;
    u.u_fusThreshold.value = s.fusionThreshold;
    (u.u_fusRange.value as Vector2).set(s.fusionRange[0], s.fusionRange[1]);
    u.u_showBrain.value = s.showBrain;
    u.u_brainThreshold.value = s.brainThreshold;
    u.u_brainOpacity.value = s.brainOpacity;
    const ch = worldToPlane(this.plane, s.crosshair);
    (u.u_crosshairMm.value as Vector2).set(ch[0], ch[1]);
    (u.u_crosshairColor.value as Vector4).set(...s.crosshairRgba);
    u.u_showCrosshair.value = s.showCrosshair;
    if (s.cursor) {
      const cm = worldToPlane(this.plane, s.cursor.world);
      (u.u_cursorMm.value as Vector2).set(cm[0], cm[1]);
      u.u_cursorRadiusMm.value = s.cursor.radiusMm;
    } else {
      u.u_cursorRadiusMm.value = 0;
    }
    const y = canvasHeight - this.rect.y - this.rect.height;
    renderer.setViewport(this.rect.x, y, this.rect.width, this.rect.height);
    renderer.setScissor(this.rect.x, y, this.rect.width, this.rect.height);
    renderer.render(this.scene, this.camera);
  }

  dispose(): void {
    this.mesh.geometry.dispose();
    this.material.dispose();
  }
}
