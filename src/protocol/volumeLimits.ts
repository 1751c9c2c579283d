// What the webview can show: its texture limits, known to the host so that a volume the webview
// cannot display is refused with a clear message before it is posted (a 2-GB copy for nothing).
// The webview imports these same constants (webview/volumeLoader.ts, webview/textures.ts), so
// host and webview cannot disagree.

import type { VoxelType } from './messages';

/** Longest side of a 3-D texture we count on (WebGL2 MAX_3D_TEXTURE_SIZE in Chromium/ANGLE). */
export const WEBVIEW_MAX_3D_TEXTURE_SIDE = 2048;
/** GPU memory one texture may take before WebGL loses the context (measured ~1 GiB). */
export const WEBVIEW_MAX_TEXTURE_BYTES = 1000 * 1024 * 1024;
/** Float volumes above this go to the GPU as half floats (2 bytes a voxel). */
export const WEBVIEW_HALF_FLOAT_ABOVE_BYTES = 512 * 1024 * 1024;

/** Bytes a voxel takes on the GPU for a voxel type and voxel count. */
export function textureBytesPerVoxel(voxelType: VoxelType, voxelCount: number): number {
  switch (voxelType) {
    case 'uint8':
    case 'int8':
      return 1;
    case 'uint16':
    case 'int16':
      return 2;
    case 'float32':
      return voxelCount * 4 > WEBVIEW_HALF_FLOAT_ABOVE_BYTES ? 2 : 4;
  }
}

/**
 * Why the webview cannot show a volume of `dims` and `voxelType`, as one sentence naming the
 * file, or null when it can.
 */
export function volumeDisplayProblem(fileName: string, dims: readonly [number, number, number], voxelType: VoxelType): string | null {
  const longest = Math.max(dims[0], dims[1], dims[2]);
  if (longest > WEBVIEW_MAX_3D_TEXTURE_SIDE) {
    return (
      `${fileName} is ${dims.join('×')} voxels, but the viewer's WebGL allows at most ${WEBVIEW_MAX_3D_TEXTURE_SIDE} voxels ` +
      `along each side of a 3-D texture, so it cannot be shown (crop or downsample it first)`
    );
  }
  const voxelCount = dims[0] * dims[1] * dims[2];
  const bytes = voxelCount * textureBytesPerVoxel(voxelType, voxelCount);
  if (bytes > WEBVIEW_MAX_TEXTURE_BYTES) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    return (
      `${fileName} needs ${mib(bytes)} as one texture (${dims.join('×')} ${voxelType} voxels); the viewer's limit is ` +
      `${mib(WEBVIEW_MAX_TEXTURE_BYTES)}, so it cannot be shown (crop or downsample it first)`
    );
  }
  return null;
}
