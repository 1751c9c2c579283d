// Bring your own model: a TensorFlow.js model (layers or graph format: model.json + weight files)
// with a small JSON describing its input, checked by running one window and stored as a model
// version that Segment Lesion runs like the project's own U-Net. Files are read by this module
// (no tfjs-node needed); the network's output is turned into the [background, lesion]
// probabilities the inference engine expects.
import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import { basename, join, normalize, isAbsolute } from 'node:path';
import type { Vec3 } from '../volume/vec3';
import { validatePreprocessing, type Preprocessing } from './preprocess';
import { ModelStore, MAX_PATCH_SIDE_VOXELS, ModelStoreError, type ModelCard, type StoredVersion } from './modelStore';

/** The formats a model may come in. */
export const IMPORTED_NETWORK_KINDS = ['tfjs-layers', 'tfjs-graph'] as const;
export type ImportedNetworkKind = (typeof IMPORTED_NETWORK_KINDS)[number];
/** What the model's last layer gives per voxel. */
export const IMPORTED_OUTPUTS = ['softmax', 'sigmoid', 'logits'] as const;
export type ImportedOutput = (typeof IMPORTED_OUTPUTS)[number];

/** The input description's default file name in the model folder. */
export const INPUT_DESCRIPTION_FILE = 'lesion-lab-input.json';

/** Raised for a model folder or description that cannot be imported; one sentence naming the file. */
export class ImportModelError extends Error {
  override name = 'ImportModelError';
}

/**
 * The input description (`lesion-lab-input.json`):
 * `{"layout": "channels-last", "spacingMm": [1,1,1] | null, "normalization": {"modality": "MR"} |
 * {"modality": "CT", "ctWindowHu": [-100, 200]}, "patchSize": [x, y, z], "classes": ["background",
 * "lesion"], "lesionClass": 1, "output": "softmax" | "sigmoid" | "logits"}`.
 * The network takes `[batch, z, y, x, 1]` and returns `[batch, z, y, x, classes]` (one channel
 * for "sigmoid").
 */
export interface InputDescription {
  layout: 'channels-last';
  spacingMm: Vec3 | null;
  preprocessing: Preprocessing;
  patchSize: Vec3;
  classes: string[];
  lesionClass: number;
  output: ImportedOutput;
}

/** What card.json's `network` holds for an imported model. */
export interface ImportedNetworkSpec {
  kind: ImportedNetworkKind;
  /** One level: the window needs no multiple of a pooling factor beyond what the model checks. */
  levels: 1;
  modelFile: string;
  output: ImportedOutput;
  /** The output channel that is the lesion (sigmoid: 0). */
  lesionChannel: number;
  classes: string[];
}

/** A loaded imported network: the interface the inference engine uses. */
export interface ImportedNetwork {
  /** `[B, D, H, W, 1]` → `[B, D, H, W, 2]` (background, lesion probabilities). */
  predict(x: tf.Tensor5D): tf.Tensor5D;
  dispose(): void;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isVec3(v: unknown, positive: boolean): v is Vec3 {
  return Array.isArray(v) && v.length === 3 && v.every((n) => typeof n === 'number' && Number.isFinite(n) && (!positive || n > 0));
}

/**
 * Checks a parsed input description.
 * @throws ImportModelError naming `where` and the field.
 */
export function parseInputDescription(value: unknown, where: string): InputDescription {
  const fail = (what: string): never => {
    throw new ImportModelError(`${where}: ${what}`);
  };
  if (!isRecord(value)) return fail('is not a JSON object');
  const layout = value.layout ?? 'channels-last';
  if (layout !== 'channels-last') fail(`layout must be "channels-last" (input [batch, z, y, x, 1]), got ${JSON.stringify(layout)}; convert the model to channels-last first`);
  const spacing = value.spacingMm ?? null;
  if (spacing !== null && !isVec3(spacing, true)) fail(`spacingMm must be three voxel sizes in mm > 0, or null for the image's own grid, got ${JSON.stringify(spacing)}`);
  const patch = value.patchSize;
  if (!(Array.isArray(patch) && patch.length === 3 && patch.every((n) => Number.isInteger(n) && n > 0 && n <= MAX_PATCH_SIDE_VOXELS))) {
    fail(`patchSize must be three whole numbers from 1 to ${MAX_PATCH_SIDE_VOXELS} ([x, y, z] voxels), got ${JSON.stringify(patch)}`);
  }
  const classes = value.classes;
  if (!(Array.isArray(classes) && classes.length >= 1 && classes.every((c) => typeof c === 'string' && c.trim() !== ''))) {
    fail(`classes must be a list of class names such as ["background", "lesion"], got ${JSON.stringify(classes)}`);
  }
  const names = classes as string[];
  const output = value.output ?? (names.length === 1 ? 'sigmoid' : 'softmax');
  if (!(IMPORTED_OUTPUTS as readonly unknown[]).includes(output)) fail(`output must be one of ${IMPORTED_OUTPUTS.join(', ')}, got ${JSON.stringify(output)}`);
  if (output === 'sigmoid' && names.length !== 1) fail(`a "sigmoid" output has one channel, so classes must name one class (the lesion), got ${names.length}`);
  if (output !== 'sigmoid' && names.length < 2) fail(`a "${String(output)}" output needs at least two classes (background first), got ${names.length}`);
  const lesionClass = value.lesionClass ?? (output === 'sigmoid' ? 0 : names.length - 1);
  if (!(Number.isInteger(lesionClass) && (lesionClass as number) >= 0 && (lesionClass as number) < names.length)) {
    fail(`lesionClass must be the index of the lesion class in classes (0 to ${names.length - 1}), got ${JSON.stringify(lesionClass)}`);
  }
  const norm = value.normalization;
  if (!isRecord(norm)) return fail('normalization must be an object such as {"modality": "MR"} or {"modality": "CT", "ctWindowHu": [-100, 200]}');
  const preprocessing = { ...norm, targetSpacingMm: spacing } as unknown;
  try {
    validatePreprocessing(preprocessing);
  } catch (e) {
    fail(`normalization: ${(e as Error).message}`);
  }
  return {
    layout: 'channels-last',
    spacingMm: spacing as Vec3 | null,
    preprocessing: preprocessing as Preprocessing,
    patchSize: patch as Vec3,
    classes: names,
    lesionClass: lesionClass as number,
    output: output as ImportedOutput,
  };
}

/** Whether a card's `network` describes an imported model (else it is the project's U-Net). */
export function isImportedNetworkSpec(network: Record<string, unknown>): boolean {
  return typeof network.kind === 'string' && (IMPORTED_NETWORK_KINDS as readonly string[]).includes(network.kind);
}

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
}

/** A weight file path of model.json, checked to stay inside the model folder. */
function weightPath(dir: string, path: string, modelJsonPath: string): string {
  const rel = normalize(path);
  if (isAbsolute(rel) || rel.startsWith('..')) throw new ImportModelError(`${modelJsonPath}: weight file "${path}" lies outside the model folder`);
  return join(dir, rel);
}

/** Reads model.json and its weight files into tfjs model artifacts, with the weight files' names. */
async function readArtifacts(dir: string, modelFile: string): Promise<{ artifacts: tf.io.ModelArtifacts; weightFiles: string[]; json: ModelJson }> {
  const path = join(dir, modelFile);
  let json: ModelJson;
  try {
    json = JSON.parse(await fsp.readFile(path, 'utf8')) as ModelJson;
  } catch (e) {
    throw new ImportModelError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (a TensorFlow.js model folder holds model.json and its weight files)' : `not valid JSON (${(e as Error).message})`}`);
  }
  if (!isRecord(json) || !isRecord(json.modelTopology)) throw new ImportModelError(`${path}: not a TensorFlow.js model.json (no modelTopology)`);
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw new ImportModelError(`${path}: not a TensorFlow.js model.json (no weightsManifest)`);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  const weightFiles: string[] = [];
  for (const group of manifest) {
    for (const p of group.paths) {
      const file = weightPath(dir, p, path);
      try {
        buffers.push(await fsp.readFile(file));
      } catch {
        throw new ImportModelError(`${path}: the weight file ${p} is missing`);
      }
      weightFiles.push(p);
    }
    weightSpecs.push(...group.weights);
  }
  const total = Buffer.concat(buffers);
  const weightData = total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength) as ArrayBuffer;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: typeof json.format === 'string' ? json.format : undefined,
    weightSpecs,
    weightData,
    signature: json.signature as tf.io.ModelArtifacts['signature'],
    userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
    modelInitializer: json.modelInitializer as tf.io.ModelArtifacts['modelInitializer'],
  };
  return { artifacts, weightFiles, json };
}

/** The network's output as [background, lesion] probabilities. */
function toTwoChannels(out: tf.Tensor, spec: Pick<ImportedNetworkSpec, 'output' | 'lesionChannel'>): tf.Tensor5D {
  return tf.tidy(() => {
    const probs = spec.output === 'logits' ? tf.softmax(out, -1) : out;
    const channels = probs.shape[probs.shape.length - 1] as number;
    if (spec.lesionChannel >= channels) throw new ImportModelError(`the model gives ${channels} output channel(s), so class ${spec.lesionChannel} does not exist`);
    const p = tf.slice(probs, [0, 0, 0, 0, spec.lesionChannel], [-1, -1, -1, -1, 1]);
    return tf.concat([tf.sub(1, p), p], -1) as tf.Tensor5D;
  });
}

/**
 * Loads an imported model folder's network.
 * @throws ImportModelError naming the file when model.json or a weight file is missing or invalid.
 */
export async function loadImportedNetwork(dir: string, network: Record<string, unknown>): Promise<ImportedNetwork> {
  const spec = network as unknown as ImportedNetworkSpec;
  const { artifacts } = await readArtifacts(dir, typeof spec.modelFile === 'string' ? spec.modelFile : 'model.json');
  const where = join(dir, spec.modelFile ?? 'model.json');
  try {
    if (spec.kind === 'tfjs-layers') {
      const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      return {
        predict: (x) => tf.tidy(() => toTwoChannels(model.predict(x) as tf.Tensor, spec)),
        dispose: () => model.dispose(),
      };
    }
    const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    return {
      predict: (x) =>
        tf.tidy(() => {
          const out = model.execute(x);
          return toTwoChannels(Array.isArray(out) ? out[0] : (out as tf.Tensor), spec);
        }),
      dispose: () => model.dispose(),
    };
  } catch (e) {
    if (e instanceof ImportModelError) throw e;
    throw new ImportModelError(`${where}: the ${spec.kind === 'tfjs-layers' ? 'layers' : 'graph'} model could not be loaded (${(e as Error).message})`);
  }
}

/** What {@link importModel} did. */
export interface ImportResult {
  version: StoredVersion;
  kind: ImportedNetworkKind;
  /** The output shape of the check run. */
  checkedOutputShape: number[];
}

/**
 * Imports the TensorFlow.js model in `dir` (model.json + weights, and `lesion-lab-input.json` or
 * `descriptionPath`) into `store` as a new version: checks it by running one window of the
 * described size and that its output is [batch, z, y, x, classes] probabilities; copies the files
 * into the version folder; makes it active unless `activate` is false.
 * @throws ImportModelError (one sentence naming the file) for anything that does not fit.
 */
export async function importModel(dir: string, store: ModelStore, opts: { descriptionPath?: string; activate?: boolean; now?: Date } = {}): Promise<ImportResult> {
  const descriptionPath = opts.descriptionPath ?? join(dir, INPUT_DESCRIPTION_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(descriptionPath, 'utf8'));
  } catch (e) {
    throw new ImportModelError(
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${descriptionPath}: not found; describe the model's input there (layout, spacingMm, normalization, patchSize, classes, output)`
        : `${descriptionPath}: not valid JSON (${(e as Error).message})`,
    );
  }
  const description = parseInputDescription(raw, descriptionPath);
  const { json, weightFiles } = await readArtifacts(dir, 'model.json');
  // A graph model's topology is a list of nodes; a layers model's is a Keras config.
  const kind: ImportedNetworkKind = json.format === 'graph-model' || Array.isArray((json.modelTopology as Record<string, unknown>).node) ? 'tfjs-graph' : 'tfjs-layers';
  const spec: ImportedNetworkSpec = {
    kind,
    levels: 1,
    modelFile: 'model.json',
    output: description.output,
    lesionChannel: description.lesionClass,
    classes: description.classes,
  };
  // Check: one window of the described size through the network.
  const network = await loadImportedNetwork(dir, spec as unknown as Record<string, unknown>);
  const [px, py, pz] = description.patchSize;
  let shape: number[];
  try {
    const probe = tf.tidy(() => tf.randomNormal([1, pz, py, px, 1], 0, 1, 'float32', 7) as tf.Tensor5D);
    let raw: tf.Tensor | undefined;
    try {
      raw = network.predict(probe);
      shape = raw.shape;
      const expected = [1, pz, py, px, 2];
      if (shape.length !== 5 || shape.some((n, i) => n !== expected[i])) {
        throw new ImportModelError(`${join(dir, 'model.json')}: a window of ${px}×${py}×${pz} voxels gave an output of shape [${shape.join(',')}], expected [1,${pz},${py},${px},classes] (channels-last, same size as the input)`);
      }
      const values = await raw.data();
      let bad = 0;
      for (let i = 0; i < values.length; i++) if (!(values[i] >= -1e-4 && values[i] <= 1 + 1e-4)) bad++;
      if (bad > 0) {
        throw new ImportModelError(`${descriptionPath}: output "${description.output}" should give probabilities in [0, 1], but ${bad} of ${values.length} values of the check window are outside; is the output "logits"?`);
      }
    } catch (e) {
      if (e instanceof ImportModelError) throw new ImportModelError(e.message.startsWith(dir) ? e.message : `${join(dir, 'model.json')}: ${e.message}`);
      throw new ImportModelError(`${join(dir, 'model.json')}: running one window of ${px}×${py}×${pz} voxels ([1,${pz},${py},${px},1]) failed (${(e as Error).message})`);
    } finally {
      probe.dispose();
      raw?.dispose();
    }
  } finally {
    network.dispose();
  }

  const pending = await store.beginVersion();
  try {
    await fsp.copyFile(join(dir, 'model.json'), join(pending.dir, 'model.json'));
    for (const f of weightFiles) {
      const target = join(pending.dir, normalize(f));
      await fsp.mkdir(join(target, '..'), { recursive: true });
      await fsp.copyFile(join(dir, normalize(f)), target);
    }
    const card: Omit<ModelCard, 'version'> = {
      format: 'lesion-lab-model',
      formatVersion: 1,
      parentVersion: null,
      createdAt: (opts.now ?? new Date()).toISOString(),
      patchSizeVoxels: description.patchSize,
      preprocessing: description.preprocessing,
      network: { ...spec },
      training: null,
      notes: `imported from ${dir} (${kind === 'tfjs-layers' ? 'TensorFlow.js layers' : 'TensorFlow.js graph'} model; input described by ${basename(descriptionPath)})`,
    };
    const version = await pending.commit(card, { activate: opts.activate ?? true });
    return { version, kind, checkedOutputShape: shape };
  } catch (e) {
    await pending.abandon();
    if (e instanceof ModelStoreError || e instanceof ImportModelError) throw e;
    throw new ImportModelError(`the model could not be stored in ${store.root} (${(e as Error).message})`);
  }
}
