// A correction click edits the object so far near the click only. Recomputing the object from all
// prompts moves its surface everywhere (a star's rays follow their neighbours), and on large
// tumours a negative click then cut away as much tumour as excess; here the change is kept only
// where the click asked for it: the part of (new XOR previous) connected to the click within a
// ball whose radius scales with the click's depth in its error region.
import type { Vec3 } from '../volume/vec3';
import { boxSize, cropMask, growBoxMm, pasteMask, type VoxelBox } from './box';
import { labelAtOrNearest, labelComponents } from './components';
import type { PointPrompt } from './prompts';

/** Distance (mm) from voxel `p` to the nearest voxel whose label in `mask` differs from p's, searched up to `limitMm` (returned when none is nearer). */
export function distanceToOtherLabelMm(mask: Uint8Array, dims: Vec3, spacingMm: Vec3, p: Vec3, limitMm: number): number {
  const own = mask[(p[2] * dims[1] + p[1]) * dims[0] + p[0]];
  let best = limitMm;
  // Slices and rows nearest first, so that the search stops as soon as none can be nearer.
  for (let dk = 0; dk * spacingMm[2] < best; dk++) {
    for (const k of dk === 0 ? [p[2]] : [p[2] - dk, p[2] + dk]) {
      if (k < 0 || k >= dims[2]) continue;
      const dz = dk * spacingMm[2];
      for (let dj = 0; dz * dz + (dj * spacingMm[1]) ** 2 < best * best; dj++) {
        for (const j of dj === 0 ? [p[1]] : [p[1] - dj, p[1] + dj]) {
          if (j < 0 || j >= dims[1]) continue;
          const dyz2 = dz * dz + (dj * spacingMm[1]) ** 2;
          const reach = Math.ceil(Math.sqrt(Math.max(0, best * best - dyz2)) / spacingMm[0]);
          const row = (k * dims[1] + j) * dims[0];
          for (let i = Math.max(0, p[0] - reach); i <= Math.min(dims[0] - 1, p[0] + reach); i++) {
            if (mask[row + i] === own) continue;
            const d = Math.sqrt(dyz2 + ((i - p[0]) * spacingMm[0]) ** 2);
            if (d < best) best = d;
          }
        }
      }
    }
  }
  return best;
}

export interface LocalEditOptions {
  /** The edit reaches this multiple of the click's distance to the previous object's surface. */
  reachFactor: number;
  /** … and at least this many mm. */
  minReachMm: number;
}

/**
 * The object so far (`previous`) with only the change near `click` taken from `next`: the voxels
 * where they differ, within the edit's reach of the click, 26-connected to the click (or, when the
 * click itself did not change, to the changed voxel nearest to it). Returns the mask and the box
 * outside which it equals `previous`.
 */
export function applyLocalEdit(previous: Uint8Array, next: Uint8Array, dims: Vec3, spacingMm: Vec3, click: PointPrompt, o: LocalEditOptions): { mask: Uint8Array; roi: VoxelBox } {
  const depthMm = distanceToOtherLabelMm(previous, dims, spacingMm, click.voxel, 200);
  const reachMm = Math.max(o.minReachMm, o.reachFactor * depthMm);
  const box = growBoxMm({ min: click.voxel, max: click.voxel }, reachMm, spacingMm, dims);
  const [bx, by, bz] = boxSize(box);
  const before = cropMask(previous, dims, box);
  const after = cropMask(next, dims, box);
  const changed = new Uint8Array(before.length);
  let v = 0;
  for (let k = 0; k < bz; k++) {
    const z = (box.min[2] + k - click.voxel[2]) * spacingMm[2];
    for (let j = 0; j < by; j++) {
      const y = (box.min[1] + j - click.voxel[1]) * spacingMm[1];
      for (let i = 0; i < bx; i++, v++) {
        const x = (box.min[0] + i - click.voxel[0]) * spacingMm[0];
        if (before[v] !== after[v] && x * x + y * y + z * z <= reachMm * reachMm) changed[v] = 1;
      }
    }
  }
  const { labels } = labelComponents(changed, [bx, by, bz], 26);
  const keep = labelAtOrNearest(labels, [bx, by, bz], spacingMm, click.voxel.map((x, a) => x - box.min[a]) as Vec3);
  const edited = before.slice();
  if (keep > 0) for (let w = 0; w < edited.length; w++) if (labels[w] === keep) edited[w] = after[w];
  const mask = previous.slice();
  pasteMask(mask, dims, box, edited);
  return { mask, roi: box };
}

/**
 * {@link applyLocalEdit} for several prompts at once (the voxels of a stroke or an outline): the
 * voxels where `previous` and `next` differ within any click's reach, in the 26-connected parts
 * that hold a click (or, when none does, the part nearest the first click). One labelling of the
 * reaches' union, so a long stroke or a large outline costs about what one click costs.
 */
export function applyLocalEdits(previous: Uint8Array, next: Uint8Array, dims: Vec3, spacingMm: Vec3, clicks: readonly PointPrompt[], o: LocalEditOptions): { mask: Uint8Array; roi: VoxelBox } {
  if (clicks.length === 1) return applyLocalEdit(previous, next, dims, spacingMm, clicks[0], o);
  const balls = clicks.map((c) => {
    const reachMm = Math.max(o.minReachMm, o.reachFactor * distanceToOtherLabelMm(previous, dims, spacingMm, c.voxel, 200));
    return { c: c.voxel, reachMm, box: growBoxMm({ min: c.voxel, max: c.voxel }, reachMm, spacingMm, dims) };
  });
  const box = balls.reduce<VoxelBox>((a, b) => ({ min: [0, 1, 2].map((x) => Math.min(a.min[x], b.box.min[x])) as Vec3, max: [0, 1, 2].map((x) => Math.max(a.max[x], b.box.max[x])) as Vec3 }), balls[0].box);
  const [bx, by, bz] = boxSize(box);
  const before = cropMask(previous, dims, box);
  const after = cropMask(next, dims, box);
  const changed = new Uint8Array(before.length);
  for (const b of balls) {
    for (let k = b.box.min[2]; k <= b.box.max[2]; k++) {
      const z = (k - b.c[2]) * spacingMm[2];
      for (let j = b.box.min[1]; j <= b.box.max[1]; j++) {
        const y = (j - b.c[1]) * spacingMm[1];
        let v = ((k - box.min[2]) * by + j - box.min[1]) * bx + b.box.min[0] - box.min[0];
        for (let i = b.box.min[0]; i <= b.box.max[0]; i++, v++) {
          const x = (i - b.c[0]) * spacingMm[0];
          if (before[v] !== after[v] && x * x + y * y + z * z <= b.reachMm * b.reachMm) changed[v] = 1;
        }
      }
    }
  }
  const { labels } = labelComponents(changed, [bx, by, bz], 26);
  // Each click keeps the part that holds it or, when its voxel did not change, the changed voxel
  // nearest to it within its reach's box.
  const keep = new Set<number>();
  for (const b of balls) {
    let label = labels[((b.c[2] - box.min[2]) * by + b.c[1] - box.min[1]) * bx + b.c[0] - box.min[0]];
    let nearest = Infinity;
    for (let k = b.box.min[2]; label === 0 && k <= b.box.max[2]; k++) {
      for (let j = b.box.min[1]; j <= b.box.max[1]; j++) {
        let v = ((k - box.min[2]) * by + j - box.min[1]) * bx + b.box.min[0] - box.min[0];
        for (let i = b.box.min[0]; i <= b.box.max[0]; i++, v++) {
          if (!labels[v]) continue;
          const d = ((i - b.c[0]) * spacingMm[0]) ** 2 + ((j - b.c[1]) * spacingMm[1]) ** 2 + ((k - b.c[2]) * spacingMm[2]) ** 2;
          if (d < nearest) [nearest, label] = [d, labels[v]];
        }
      }
    }
    if (label > 0) keep.add(label);
  }
  const edited = before.slice();
  for (let w = 0; w < edited.length; w++) if (keep.has(labels[w])) edited[w] = after[w];
  const mask = previous.slice();
  pasteMask(mask, dims, box, edited);
  return { mask, roi: box };
}
