// GPU textures of the volumes: the image (texture format from its datatype), the label map
// (R8UI, nearest, updated by dirty box only) and small lookup textures.
import {
  ClampToEdgeWrapping,
  Data3DTexture,
  DataTexture,
  DataUtils,
  FloatType,
  HalfFloatType,
  NearestFilter,
  RGBAFormat,
  RedFormat,
  RedIntegerFormat,
  ShortType,
  UnsignedByteType,
  UnsignedShortType,
  type WebGLRenderer,
} from 'three';
import type { LabelArray } from '../src/protocol/labelDelta';
import type { VoxelTypedArray } from '../src/protocol/messages';
// Float volumes above this many bytes as R32F go to R16F (half the memory, ~3 significant digits).
import { WEBVIEW_HALF_FLOAT_ABOVE_BYTES as HALF_FLOAT_ABOVE_BYTES } from '../src/protocol/volumeLimits';
import { ImageSamplerKind } from './shaders/slice';

/** Voxel arrays the webview accepts for the image. */
export type ImageVoxels = VoxelTypedArray;


/** An image texture and how the shader must read it. */
export interface ImageTexture {
  texture: Data3DTexture;
  sampler: ImageSamplerKind;
  /** Internal format name, for messages and tests. */
  format: 'R16I' | 'R8' | 'R32F' | 'R16F';
}

/** Slices per texSubImage3D call when uploading a whole volume (measured faster than one call). */
export const UPLOAD_SLICES_PER_CHUNK = 64;

/**
 * Uploads a whole 3-D texture in chunks of slices: three allocates the storage (texStorage3D),
 * then each chunk goes up with texSubImage3D. Chunks of 64 slices were about 4× faster than one
 * call for large volumes in Chromium's software GL.
 */
export function uploadVolumeInChunks(renderer: WebGLRenderer, texture: Data3DTexture): void {
  const image = texture.image as { data: ArrayBufferView | null; width: number; height: number; depth: number };
  const data = image.data;
  if (!data) return;
  const gl = renderer.getContext() as WebGL2RenderingContext;
  // Let three create and allocate the texture without copying the data...
  texture.source.dataReady = false;
  renderer.initTexture(texture);
  texture.source.dataReady = true;
  const props = renderer.properties.get(texture) as { __webglTexture?: WebGLTexture };
  if (!props.__webglTexture) {
    texture.needsUpdate = true;
    return;
  }
  const [format, type] = glFormatOf(gl, texture);
  renderer.state.activeTexture(gl.TEXTURE0);
  renderer.state.bindTexture(gl.TEXTURE_3D, props.__webglTexture);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.pixelStorei(gl.UNPACK_ROW_LENGTH, 0);
  gl.pixelStorei(gl.UNPACK_IMAGE_HEIGHT, 0);
  gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, 0);
  gl.pixelStorei(gl.UNPACK_SKIP_ROWS, 0);
  gl.pixelStorei(gl.UNPACK_SKIP_IMAGES, 0);
  const perSlice = image.width * image.height;
  const bytesPer = (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  for (let z = 0; z < image.depth; z += UPLOAD_SLICES_PER_CHUNK) {
    const depth = Math.min(UPLOAD_SLICES_PER_CHUNK, image.depth - z);
    const chunk = new (data.constructor as { new (b: ArrayBufferLike, o: number, n: number): ArrayBufferView })(
      data.buffer,
      data.byteOffset + z * perSlice * bytesPer,
      depth * perSlice,
    );
    gl.texSubImage3D(gl.TEXTURE_3D, 0, 0, 0, z, image.width, image.height, depth, format, type, chunk);
  }
}

function glFormatOf(gl: WebGL2RenderingContext, t: Data3DTexture): [number, number] {
  const integer = t.format === RedIntegerFormat;
  const format = integer ? gl.RED_INTEGER : gl.RED;
  switch (t.type) {
    case ShortType:
      return [format, gl.SHORT];
    case UnsignedShortType:
      return [format, gl.UNSIGNED_SHORT];
    case UnsignedByteType:
      return [format, gl.UNSIGNED_BYTE];
    case FloatType:
      return [format, gl.FLOAT];
    case HalfFloatType:
      return [format, gl.HALF_FLOAT];
    default:
      throw new Error(`uploadVolumeInChunks: unsupported texture type ${t.type}`);
  }
}

/**
 * Creates the image texture: int16 → R16I (exact), uint8 → R8 (exact via ×255), other integer
 * types and float → R32F (R16F when the volume is big). Values the shader sees equal the voxels.
 */
export function createImageTexture(data: ImageVoxels, dims: readonly number[]): ImageTexture {
  const [nx, ny, nz] = dims;
  let tex: Data3DTexture;
  let sampler: ImageSamplerKind;
  let format: ImageTexture['format'];
  const asInt16 = toInt16IfExact(data);
  if (asInt16) {
    tex = new Data3DTexture(asInt16, nx, ny, nz);
    tex.format = RedIntegerFormat;
    tex.type = ShortType;
    tex.internalFormat = 'R16I';
    sampler = ImageSamplerKind.int;
    format = 'R16I';
  } else if (data instanceof Uint8Array) {
    tex = new Data3DTexture(data, nx, ny, nz);
    tex.format = RedFormat;
    tex.type = UnsignedByteType;
    sampler = ImageSamplerKind.unorm8;
    format = 'R8';
  } else {
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    if (f32.byteLength > HALF_FLOAT_ABOVE_BYTES) {
      const half = new Uint16Array(f32.length);
      for (let i = 0; i < f32.length; i++) half[i] = DataUtils.toHalfFloat(f32[i]);
      tex = new Data3DTexture(half, nx, ny, nz);
      tex.type = HalfFloatType;
      format = 'R16F';
    } else {
      tex = new Data3DTexture(f32, nx, ny, nz);
      tex.type = FloatType;
      format = 'R32F';
    }
    tex.format = RedFormat;
    sampler = ImageSamplerKind.float;
  }
  configure3D(tex);
  tex.needsUpdate = true;
  return { texture: tex, sampler, format };
}

/** int8, and uint16 within int16 range, become Int16Array so they stay exact integers (R16I). */
function toInt16IfExact(data: ImageVoxels): Int16Array | null {
  if (data instanceof Int16Array) return data;
  if (data instanceof Int8Array) return Int16Array.from(data);
  if (data instanceof Uint16Array) {
    for (let i = 0; i < data.length; i++) if (data[i] > 32767) return null;
    return Int16Array.from(data);
  }
  return null;
}

function configure3D(tex: Data3DTexture): void {
  tex.minFilter = NearestFilter;
  tex.magFilter = NearestFilter;
  tex.wrapS = tex.wrapT = tex.wrapR = ClampToEdgeWrapping;
  tex.generateMipmaps = false;
  tex.unpackAlignment = 1;
}

/** Label map texture (R8UI, or R16UI for 16-bit labels) kept in step with a CPU-side array. */
export class LabelTexture {
  readonly texture: Data3DTexture;
  constructor(
    readonly data: LabelArray,
    readonly dims: readonly [number, number, number],
  ) {
    this.texture = new Data3DTexture(data, dims[0], dims[1], dims[2]);
    this.texture.format = RedIntegerFormat;
    this.texture.type = data instanceof Uint16Array ? UnsignedShortType : UnsignedByteType;
    this.texture.internalFormat = data instanceof Uint16Array ? 'R16UI' : 'R8UI';
    configure3D(this.texture);
    this.texture.needsUpdate = true;
  }

  /**
   * Uploads only the box [lo, hi] (inclusive voxel indices) from `data` to the GPU, reading the
   * sub-box in place through UNPACK_ROW_LENGTH / IMAGE_HEIGHT / SKIP_* (no copy).
   */
  uploadBox(renderer: WebGLRenderer, lo: readonly number[], hi: readonly number[]): void {
    const props = renderer.properties.get(this.texture) as { __webglTexture?: WebGLTexture };
    if (!props.__webglTexture || this.texture.needsUpdate) {
      // Not on the GPU yet: the first render uploads everything anyway.
      this.texture.needsUpdate = true;
      return;
    }
    const gl = renderer.getContext() as WebGL2RenderingContext;
    const [nx, ny] = this.dims;
    renderer.state.activeTexture(gl.TEXTURE0);
    renderer.state.bindTexture(gl.TEXTURE_3D, props.__webglTexture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.pixelStorei(gl.UNPACK_ROW_LENGTH, nx);
    gl.pixelStorei(gl.UNPACK_IMAGE_HEIGHT, ny);
    gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, lo[0]);
    gl.pixelStorei(gl.UNPACK_SKIP_ROWS, lo[1]);
    gl.pixelStorei(gl.UNPACK_SKIP_IMAGES, lo[2]);
    gl.texSubImage3D(
      gl.TEXTURE_3D,
      0,
      lo[0],
      lo[1],
      lo[2],
      hi[0] - lo[0] + 1,
      hi[1] - lo[1] + 1,
      hi[2] - lo[2] + 1,
      gl.RED_INTEGER,
      this.data instanceof Uint16Array ? gl.UNSIGNED_SHORT : gl.UNSIGNED_BYTE,
      this.data,
    );
    gl.pixelStorei(gl.UNPACK_ROW_LENGTH, 0);
    gl.pixelStorei(gl.UNPACK_IMAGE_HEIGHT, 0);
    gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, 0);
    gl.pixelStorei(gl.UNPACK_SKIP_ROWS, 0);
    gl.pixelStorei(gl.UNPACK_SKIP_IMAGES, 0);
  }

  dispose(): void {
    this.texture.dispose();
  }
}

/**
 * A 256×rows RGBA lookup texture, nearest-sampled: colormaps (1 row) and label colours
 * (256 rows: label value v is at (v & 255, v >> 8), so 16-bit labels fit).
 */
export function createLutTexture(rgba: Uint8Array, rows = 1): DataTexture {
  if (rgba.length !== 256 * rows * 4) throw new Error(`createLutTexture: need ${256 * rows * 4} bytes (256×${rows} RGBA), got ${rgba.length}`);
  const tex = new DataTexture(rgba, 256, rows, RGBAFormat, UnsignedByteType);
  tex.minFilter = NearestFilter;
  tex.magFilter = NearestFilter;
  tex.generateMipmaps = false;
  tex.needsUpdate = true;
  return tex;
}

/** A 1×1×1 float volume used when no probability map is loaded (samplers must be bound). */
export function createEmptyFloatVolume(): Data3DTexture {
  const t = new Data3DTexture(new Float32Array(1), 1, 1, 1);
  t.format = RedFormat;
  t.type = FloatType;
  configure3D(t);
  t.needsUpdate = true;
  return t;
}

/** Probability / uncertainty map as R32F (values as given, typically 0..1). */
export function createFloatVolume(data: Float32Array, dims: readonly number[]): Data3DTexture {
  const t = new Data3DTexture(data, dims[0], dims[1], dims[2]);
  t.format = RedFormat;
  t.type = FloatType;
  configure3D(t);
  t.needsUpdate = true;
  return t;
}
