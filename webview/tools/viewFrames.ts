// The slice views as the 2-D drawings over them (prompt markers, rulers) see them, and the
// clipping of those drawings to each view.
import { transformPoint, type Vec3, type VolumeGeometry } from '../geometry';
import type { SliceView } from '../sliceView';

/** One visible slice view. */
export interface ViewFrame {
  /** CSS px, relative to the views' canvas. */
  rect: { x: number; y: number; width: number; height: number };
  /** Voxel axis across the view, and the slice index shown along it. */
  normalAxis: number;
  slice: number;
  /** Canvas CSS position of a (possibly fractional) voxel position. */
  voxelToCanvas(voxel: readonly number[]): [number, number];
  /** Canvas CSS position of a display-world point. */
  worldToCanvas(world: readonly number[]): [number, number];
}

/** The frames of the visible slice views, at the crosshair voxel `centre`. */
export function viewFrames(g: VolumeGeometry, sliceViews: readonly SliceView[], centre: Vec3): ViewFrame[] {
  return sliceViews
    .filter((v) => v.rect.width > 0)
    .map((v) => {
      const normalAxis = g.voxelAxisOfWorldAxis[v.plane.normalAxis];
      return {
        rect: v.rect,
        normalAxis,
        slice: centre[normalAxis],
        voxelToCanvas: (voxel) => v.canvasOfWorld(g, transformPoint(g.displayAffine, voxel)),
        worldToCanvas: (world) => v.canvasOfWorld(g, world),
      };
    });
}

/** Runs `draw` for each view with an area, clipped to the view's rectangle. */
export function drawInEachView(ctx: CanvasRenderingContext2D, views: readonly ViewFrame[], draw: (view: ViewFrame) => void): void {
  for (const view of views) {
    const r = view.rect;
    if (r.width <= 0 || r.height <= 0) continue;
    ctx.save();
    ctx.beginPath();
    ctx.rect(r.x, r.y, r.width, r.height);
    ctx.clip();
    draw(view);
    ctx.restore();
  }
}

/**
 * Clears the 2-D `layer` over the views and lets each drawer draw on it (prompt markers, rulers),
 * clipped per view at the crosshair voxel `centre`.
 */
export function redrawLayer(layer: HTMLCanvasElement, g: VolumeGeometry | null, sliceViews: readonly SliceView[], centre: Vec3 | null, drawers: readonly { draw(ctx: CanvasRenderingContext2D, views: readonly ViewFrame[]): void }[]): void {
  const ctx = layer.getContext('2d');
  if (!ctx) return;
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, layer.width / dpr, layer.height / dpr);
  if (!g || !centre) return;
  const frames = viewFrames(g, sliceViews, centre);
  for (const d of drawers) d.draw(ctx, frames);
}
