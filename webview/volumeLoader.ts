// Turns the host's `init` into a Volume on the GPU, after checking what this WebGL can hold,
// and label buffers from the wire into label arrays.
import type { WebGLRenderer } from 'three';
import type { LabelArray } from '../src/protocol/labelDelta';
import { labelArrayOf, voxelArrayOf, type InitMessage, type WebviewToHostMessage } from '../src/protocol/messages';
import { volumeGeometry, type VolumeGeometry } from './geometry';
import { WEBVIEW_HALF_FLOAT_ABOVE_BYTES as HALF_FLOAT_ABOVE_BYTES, WEBVIEW_MAX_TEXTURE_BYTES as MAX_TEXTURE_BYTES } from '../src/protocol/volumeLimits';
import { LabelTexture, createImageTexture, uploadVolumeInChunks } from './textures';
import type { Volume } from './types';


/** Why a volume cannot be shown: `message` for the user, `log` (when set) for the host. */
export interface LoadRefusal {
  message: string;
  log: string | null;
}

/** The label array of a wire buffer; a wrong-sized one is logged and replaced by an empty volume. */
export function labelsFromWire(wire: InitMessage['labels'], dims: readonly number[], post: (m: WebviewToHostMessage) => void): LabelArray {
  const n = dims[0] * dims[1] * dims[2];
  // An all-background volume arrives as an empty buffer: the count and bits make the array.
  const arr = labelArrayOf(wire, n);
  if (arr.length !== n) {
    post({ type: 'log', level: 'warn', message: `label volume has ${arr.length} voxels, expected ${n}; starting empty` });
    return wire.bits === 16 ? new Uint16Array(n) : new Uint8Array(n);
  }
  return arr;
}

/** Checks `init` against this WebGL's limits and uploads image and labels; or says why not. */
export function loadVolume(renderer: WebGLRenderer, init: InitMessage, post: (m: WebviewToHostMessage) => void): Volume | LoadRefusal {
  const dims = init.dims;
  let geometry: VolumeGeometry;
  try {
    geometry = volumeGeometry(dims, init.affine);
  } catch (e) {
    return { message: `${init.fileName}: ${(e as Error).message}`, log: null };
  }
  const gl = renderer.getContext() as WebGL2RenderingContext;
  const max3d = gl.getParameter(gl.MAX_3D_TEXTURE_SIZE) as number;
  const image = voxelArrayOf(init.voxelType, init.voxels);
  const voxelCount = dims[0] * dims[1] * dims[2];
  // Float volumes above HALF_FLOAT_ABOVE_BYTES go to the GPU as R16F (2 bytes a voxel).
  const bytesPerVoxel = image instanceof Float32Array ? (voxelCount * 4 > HALF_FLOAT_ABOVE_BYTES ? 2 : 4) : image instanceof Uint8Array ? 1 : 2;
  const bytes = voxelCount * bytesPerVoxel;
  if (dims.some((d) => d > max3d)) {
    return {
      message: `${init.fileName} is ${dims.join('×')} voxels, but this WebGL allows at most ${max3d} voxels along each side of a 3-D texture, so it cannot be shown.`,
      log: `volume ${dims.join('×')} exceeds MAX_3D_TEXTURE_SIZE ${max3d}`,
    };
  }
  if (bytes > MAX_TEXTURE_BYTES) {
    return {
      message: `${init.fileName} needs ${(bytes / 2 ** 20).toFixed(0)} MiB as one texture (${dims.join('×')} voxels); the limit here is ${(MAX_TEXTURE_BYTES / 2 ** 20).toFixed(0)} MiB, so it cannot be shown.`,
      log: `volume needs ${bytes} bytes, above the ${MAX_TEXTURE_BYTES}-byte texture limit`,
    };
  }
  if (image.length !== voxelCount) {
    return { message: `${init.fileName}: the voxel buffer holds ${image.length} values but the dims ${dims.join('×')} need ${voxelCount}.`, log: null };
  }
  const imageTexture = createImageTexture(image, dims);
  const labels = new LabelTexture(labelsFromWire(init.labels, dims, post), dims);
  uploadVolumeInChunks(renderer, imageTexture.texture);
  uploadVolumeInChunks(renderer, labels.texture);
  return { init, geometry, image, imageTexture, labels, stats: init.stats, frame: init.frame };
}

export function isRefusal(r: Volume | LoadRefusal): r is LoadRefusal {
  return 'message' in r;
}

/** What the warning line says about a loaded document: obliquity, the mask, read-only. */
export function loadWarnings(vol: Volume): string {
  const init = vol.init;
  const warnings: string[] = [];
  if (vol.geometry.obliqueDeg > 0) {
    warnings.push(
      `Oblique image (${vol.geometry.obliqueDeg.toFixed(1)}° from the scanner axes): shown in voxel space, not resliced; orientation letters are approximate. The readout gives true world positions.`,
    );
  }
  if (init.maskMessage) warnings.push(init.maskMessage);
  if (init.readOnly && init.readOnlyReason) warnings.push(`Read-only: ${init.readOnlyReason}`);
  return warnings.join(' ');
}
