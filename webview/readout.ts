// The status-line readout under the cursor (voxel, world mm, value, label, maps, frame, axis
// codes) and the view titles ("Axial 21/40", "3-D MIP").
import type { LabelTableEntry } from '../src/protocol/messages';
import { axisCodes, transformPoint, voxelIndexAt, type Vec3 } from './geometry';
import type { OverlayMaps } from './overlayMaps';
import { RenderMode3D } from './renderModes';
import type { SliceView } from './sliceView';
import type { ViewSlot, Volume } from './types';

export function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

/** The readout of the display-world point `world`. */
export function readoutText(vol: Volume, world: Vec3, labelTable: readonly LabelTableEntry[], maps: OverlayMaps): string {
  const vox = voxelIndexAt(vol.geometry, world);
  if (!vox) return 'outside the volume';
  const [nx, ny] = vol.geometry.dims;
  const idx = vox[0] + nx * (vox[1] + ny * vox[2]);
  // World position from the true affine (differs from the display for oblique images).
  const mm = transformPoint(vol.geometry.affine, vox);
  const label = vol.labels.data[idx];
  const name = labelTable.find((e) => e.value === label)?.name;
  const frame = vol.init.frameCount > 1 ? `  frame ${vol.frame + 1}/${vol.init.frameCount}` : '';
  return (
    `voxel [${vox.join(', ')}]  world (${mm.map((c) => c.toFixed(1)).join(', ')}) mm  value ${formatValue(vol.image[idx])}` +
    `  label ${label}${name ? ` (${name})` : ''}${maps.readout(idx, formatValue)}${frame}  ${axisCodes(vol.geometry)}`
  );
}

function setText(parent: HTMLElement, selector: string, text: string): void {
  const e = parent.querySelector(selector);
  if (e && e.textContent !== text) e.textContent = text;
}

/** Writes each visible view's title (slice number) and orientation letters. */
export function updateViewTitles(overlays: ReadonlyMap<ViewSlot, HTMLElement>, vol: Volume, sliceViews: readonly SliceView[], crosshair: Vec3, mode3d: RenderMode3D): void {
  const vox = voxelIndexAt(vol.geometry, crosshair);
  for (const v of sliceViews) {
    const o = overlays.get(v.kind);
    if (!o || v.rect.width === 0) continue;
    const n = vol.geometry.voxelAxisOfWorldAxis[v.plane.normalAxis];
    setText(o, '.ll-title', `${v.kind[0].toUpperCase()}${v.kind.slice(1)} ${vox ? vox[n] + 1 : '–'}/${vol.geometry.dims[n]}`);
    setText(o, '.ll-left', v.plane.letters.left);
    setText(o, '.ll-right', v.plane.letters.right);
    setText(o, '.ll-top', v.plane.letters.top);
    setText(o, '.ll-bottom', v.plane.letters.bottom);
  }
  const o3 = overlays.get('3d');
  if (o3) setText(o3, '.ll-title', `3-D ${mode3d === RenderMode3D.mip ? 'MIP' : 'DVR'}`);
}
