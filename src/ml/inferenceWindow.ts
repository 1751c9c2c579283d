// The window Segment Lesion slides over the image. The card's patchSizeVoxels is the window the
// model was validated with; for a network whose output at a voxel depends only on the voxels
// around it (batch normalisation with its running statistics at inference, or no normalisation:
// no statistic over the window), a larger window only adds context and removes seams, so the
// window may grow to cover the foreground box in fewer windows. On a 240×240×155 brain at 1 mm
// (scripts/bench-segment.ts: foreground box 168×208×148) the MS FLAIR starter's 96³ windows at
// 25 % overlap predict 12 windows = 10.6 M voxels per flip for 5.2 M voxels of box; 96×120×152
// windows predict 4 = 7.0 M, a third less CPU time. With instance normalisation the window's own
// statistics normalise every feature, so its size changes the output: such a network keeps the
// card's window.
import { windowStarts } from '../volume/slidingWindow';
import type { Vec3 } from '../volume/vec3';

/**
 * Largest window, as a multiple of the card's window's voxel count: the network's activations
 * grow with the window. Measured on the bench volume with the MS FLAIR starter (two flips per
 * batch): ×2 (96×120×152, 4 windows) a third less CPU time for about 0.5 GiB more peak memory
 * (1.3 GiB instead of 0.8); ×4 (96×208×152, 2 windows) 40 % less for 1.1 GiB more.
 */
export const MAX_WINDOW_GROWTH = 2;

/** Voxels predicted by a sliding-window grid of `window` over `box` (windows × window voxels). */
export function predictedVoxels(box: Vec3, window: Vec3, overlap: number): number {
  let windows = 1;
  for (let a = 0; a < 3; a++) windows *= windowStarts(box[a], window[a], overlap).length;
  return windows * window[0] * window[1] * window[2];
}

/** Candidate lengths along one axis: the card's, then multiples of `multiple` up to the box length rounded up. */
function candidateLengths(cardLength: number, boxLength: number, multiple: number): number[] {
  const out = [cardLength];
  const top = Math.ceil(boxLength / multiple) * multiple;
  for (let n = cardLength + multiple; n <= top; n += multiple) out.push(n);
  return out;
}

/**
 * The window to slide over a foreground box of `box` voxels: the card's window unless the network
 * may take a larger one (`windowIndependent`), then the window no smaller than the card's on any
 * axis, a multiple of `multiple` (2^(levels−1)), at most {@link MAX_WINDOW_GROWTH} times the
 * card's voxels, that predicts the fewest voxels (ties: the smaller window, then the card's shape).
 */
export function inferenceWindow(card: Vec3, box: Vec3, opts: { windowIndependent: boolean; multiple: number; overlap: number }): Vec3 {
  if (!opts.windowIndependent) return card;
  const cap = MAX_WINDOW_GROWTH * card[0] * card[1] * card[2];
  let best: Vec3 = card;
  let bestVoxels = predictedVoxels(box, card, opts.overlap);
  const [xs, ys, zs] = [0, 1, 2].map((a) => candidateLengths(card[a], box[a], opts.multiple));
  for (const x of xs)
    for (const y of ys)
      for (const z of zs) {
        const size = x * y * z;
        if (size > cap) continue;
        const voxels = predictedVoxels(box, [x, y, z], opts.overlap);
        if (voxels < bestVoxels || (voxels === bestVoxels && size < best[0] * best[1] * best[2])) {
          best = [x, y, z];
          bestVoxels = voxels;
        }
      }
  return best;
}
