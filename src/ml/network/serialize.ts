// U-Net files: model.json (format tag, config, tfjs-like weights manifest) + weights.bin
// (float32 little-endian, in manifest order; or half precision, marked in the manifest as the
// tfjs converter marks it, for shipped models). Both written atomically; loading checks
// everything and names the file and the problem.
import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomicWrite';
import { fromFloat16, toFloat16 } from './float16';
import { resolveUNet3dConfig, type UNet3dConfig } from './config';
import { isUNet3dInternal, unet3dFromValues, unet3dWeightSpecs, type UNet3d } from './unet3d';

export const UNET3D_FORMAT = 'lesion-lab-unet3d';
export const UNET3D_FORMAT_VERSION = 1;
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** One weight in model.json's manifest (the tfjs weights-manifest entry shape). */
export interface WeightManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  /** Stored in half precision (decoded to float32 on loading). */
  quantization?: { dtype: 'float16' };
}

/** How weights.bin stores the values: float32, or half precision (half the bytes; training stays float32). */
export type WeightPrecision = 'float32' | 'float16';

/** Content of model.json. */
export interface UNet3dModelJson {
  format: typeof UNET3D_FORMAT;
  formatVersion: number;
  config: UNet3dConfig;
  weightsManifest: { paths: string[]; weights: WeightManifestEntry[] }[];
}

/**
 * Writes `net` to `dir`/model.json and `dir`/weights.bin (weights first, so model.json never points at missing data).
 * @throws for `float16` when a weight is beyond half precision's range (±65504).
 */
export async function saveUNet3d(net: UNet3d, dir: string, precision: WeightPrecision = 'float32'): Promise<void> {
  if (!isUNet3dInternal(net)) throw new Error('saveUNet3d: the network was not made by createUNet3d/loadUNet3d');
  await fsp.mkdir(dir, { recursive: true });
  const entries = net.weightEntries();
  const total = entries.reduce((n, e) => n + e.variable.size, 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const e of entries) {
    const values = (await e.variable.data()) as Float32Array;
    data.set(values, offset);
    offset += values.length;
  }
  let stored: Float32Array | Uint16Array = data;
  if (precision === 'float16') {
    try {
      stored = toFloat16(data);
    } catch (e) {
      throw new Error(`saveUNet3d: ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }
  const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('saveUNet3d: big-endian hosts are not supported');
  const modelJson: UNet3dModelJson = {
    format: UNET3D_FORMAT,
    formatVersion: UNET3D_FORMAT_VERSION,
    config: { ...net.config },
    weightsManifest: [
      {
        paths: [WEIGHTS_BIN],
        weights: entries.map((e) => ({
          name: e.spec.name,
          shape: [...e.spec.shape],
          dtype: 'float32' as const,
          ...(precision === 'float16' ? { quantization: { dtype: 'float16' as const } } : {}),
        })),
      },
    ],
  };
  await writeFileAtomic(join(dir, WEIGHTS_BIN), bytes);
  await writeFileAtomic(join(dir, MODEL_JSON), `${JSON.stringify(modelJson, null, 2)}\n`);
}

async function readOrExplain(path: string, what: string): Promise<Buffer> {
  try {
    return await fsp.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read the ${what} (${code === 'ENOENT' ? 'file not found' : code ?? String(e)})`, { cause: e });
  }
}

/**
 * Loads a network saved by {@link UNet3d.save}.
 *
 * @param dir - folder with model.json and weights.bin.
 * @throws naming the file and the problem: missing file, invalid JSON, wrong format tag or
 *   version, invalid config, a manifest that does not match the config, or a weights.bin of the
 *   wrong size or with non-finite values.
 */
export async function loadUNet3d(dir: string): Promise<UNet3d> {
  const jsonPath = join(dir, MODEL_JSON);
  const binPath = join(dir, WEIGHTS_BIN);
  const text = (await readOrExplain(jsonPath, 'model description')).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${jsonPath}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${jsonPath}: expected a JSON object`);
  const model = parsed as Partial<UNet3dModelJson>;
  if (model.format !== UNET3D_FORMAT) {
    throw new Error(`${jsonPath}: format is ${JSON.stringify(model.format)}; expected "${UNET3D_FORMAT}"`);
  }
  if (model.formatVersion !== UNET3D_FORMAT_VERSION) {
    throw new Error(`${jsonPath}: formatVersion is ${JSON.stringify(model.formatVersion)}; this version reads ${UNET3D_FORMAT_VERSION}`);
  }
  let config: UNet3dConfig;
  try {
    config = resolveUNet3dConfig(model.config as Partial<UNet3dConfig>);
  } catch (e) {
    throw new Error(`${jsonPath}: ${(e as Error).message}`, { cause: e });
  }
  const manifest = model.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length !== 1 || !Array.isArray(manifest[0]?.weights)) {
    throw new Error(`${jsonPath}: weightsManifest must hold one group listing the weights`);
  }
  if (JSON.stringify(manifest[0].paths) !== JSON.stringify([WEIGHTS_BIN])) {
    throw new Error(`${jsonPath}: weightsManifest paths are ${JSON.stringify(manifest[0].paths)}; expected ["${WEIGHTS_BIN}"]`);
  }
  const specs = unet3dWeightSpecs(config);
  const listed = manifest[0].weights;
  if (listed.length !== specs.length) {
    throw new Error(`${jsonPath}: the manifest lists ${listed.length} weights; this configuration has ${specs.length}`);
  }
  // The first weight says how all are stored; every other must say the same.
  const precision: WeightPrecision = listed[0]?.quantization ? 'float16' : 'float32';
  const quantization = precision === 'float16' ? '{"dtype":"float16"}' : 'null';
  specs.forEach((s, i) => {
    const w = listed[i];
    if (w?.name !== s.name || JSON.stringify(w.shape) !== JSON.stringify(s.shape) || w.dtype !== 'float32' || JSON.stringify(w.quantization ?? null) !== quantization) {
      const expectedQuantization = precision === 'float16' ? `,"quantization":${quantization}` : '';
      throw new Error(
        `${jsonPath}: weight ${i} is ${JSON.stringify(w)}; expected {"name":"${s.name}","shape":[${s.shape.join(',')}],"dtype":"float32"${expectedQuantization}} (every weight stored alike)`,
      );
    }
  });
  const bin = await readOrExplain(binPath, 'weights');
  const expectedFloats = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const bytesPerValue = precision === 'float16' ? 2 : 4;
  if (bin.byteLength !== expectedFloats * bytesPerValue) {
    throw new Error(`${binPath}: ${bin.byteLength} bytes; ${MODEL_JSON} describes ${expectedFloats} ${precision} values (${expectedFloats * bytesPerValue} bytes)`);
  }
  let floats: Float32Array;
  if (precision === 'float16') {
    const halves = new Uint16Array(expectedFloats);
    new Uint8Array(halves.buffer).set(bin);
    floats = fromFloat16(halves);
  } else {
    floats = new Float32Array(expectedFloats);
    new Uint8Array(floats.buffer).set(bin);
  }
  const bad = floats.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${binPath}: value ${bad} is ${floats[bad]}; weights must be finite`);
  const values = new Map<string, tf.Tensor>();
  let offset = 0;
  try {
    for (const s of specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      values.set(s.name, tf.tensor(floats.subarray(offset, offset + size), s.shape, 'float32'));
      offset += size;
    }
    return unet3dFromValues(config, values);
  } finally {
    for (const t of values.values()) t.dispose();
  }
}
