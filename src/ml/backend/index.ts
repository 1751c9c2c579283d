// Backend selection at start-up: tfjs-node (native TensorFlow) if it loads, else the wasm backend
// (XNNPACK, SIMD, threads where we can start them), else the pure-JS cpu backend. The reason for
// every fallback is kept so the UI and the CLI can tell the user why they got a slower backend.
import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { instantiateThreadedWasm, THREADED_SIMD_WASM, trimWasmWorkers } from './wasmThreads';
import { installWasmKernelFixes } from './wasmKernels';

export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backend to use; 'auto' (default) tries tensorflow, then wasm, then cpu. */
  preferred?: BackendPreference;
  /**
   * Wasm threads (>= 1). Default: min(logical cores, 8) where the machine has more than one
   * core, else 1. More than one needs the threaded-SIMD binary (see ./wasmThreads.ts).
   */
  wasmThreads?: number;
}

/** What {@link initBackend} chose. */
export interface BackendInfo {
  name: BackendName;
  /** Why this one, including why any faster one failed. */
  reason: string;
  /** Wasm SIMD in use (false for other backends). */
  simd: boolean;
  /** Threads the backend computes with (1 for cpu; the wasm thread pool size). */
  threads: number;
}

/** Largest pthread pool the threaded wasm factory pre-spawns (its `pthreadPoolSize`). */
const MAX_WASM_THREADS = 8;

/** Throws unless `options` is a valid {@link InitBackendOptions}. */
export function validateInitBackendOptions(options: InitBackendOptions): Required<InitBackendOptions> {
  const preferred = options.preferred ?? 'auto';
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(preferred)) {
    throw new Error(`initBackend: option preferred is ${JSON.stringify(preferred)}; expected one of ${BACKEND_PREFERENCES.join(', ')}`);
  }
  const cores = cpus().length;
  const wasmThreads = options.wasmThreads ?? (cores > 1 ? Math.min(cores, MAX_WASM_THREADS) : 1);
  if (!Number.isInteger(wasmThreads) || wasmThreads < 1 || wasmThreads > MAX_WASM_THREADS) {
    throw new Error(`initBackend: option wasmThreads is ${String(wasmThreads)}; expected an integer from 1 to ${MAX_WASM_THREADS}`);
  }
  return { preferred, wasmThreads };
}

/**
 * Folder holding the tfjs wasm binaries: next to the bundle (dist/, copied by scripts/build.mjs)
 * or, when running from source, the package's own dist/ folder.
 */
export function findWasmBinaryDir(): string {
  const candidates: string[] = [];
  if (typeof __dirname === 'string') candidates.push(__dirname);
  try {
    candidates.push(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // Bundled without node_modules: only the bundle's folder can hold the binaries.
  }
  for (const dir of candidates) {
    if (existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'))) return dir;
  }
  throw new Error(`tfjs wasm binaries (tfjs-backend-wasm-simd.wasm) not found in ${candidates.join(' or ')}; run npm run build`);
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0];
  if (typeof e === 'object' && e !== null && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** The backend chosen by the last successful {@link initBackend}, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

async function tryTensorflow(): Promise<void> {
  // A runtime require, never bundled: tfjs-node is an optional native package.
  const moduleName = '@tensorflow/tfjs-node';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(moduleName);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not initialise');
}

let wasmRegistration: 'stock' | 'threaded' | undefined;

/** Registers the wasm backend factory (threaded or stock) once; returns the note to report. */
async function registerWasm(threads: number): Promise<{ note: string; simd: boolean }> {
  const dir = findWasmBinaryDir();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  if (wasmRegistration !== undefined) {
    // The wasm module and its thread pool are created once per process.
    const active = Math.max(1, tfwasm.getThreadsCount());
    const fixed = tf.findBackend('wasm') !== null && active !== threads ? `; ${threads} thread(s) requested but the pool was sized at first start` : '';
    return { note: fixed, simd: simd === true };
  }
  tfwasm.setWasmPaths(dir.endsWith('/') || dir.endsWith('\\') ? dir : `${dir}/`);
  installWasmKernelFixes();
  let note = '';
  if (threads > 1 && simd === true && existsSync(join(dir, THREADED_SIMD_WASM))) {
    try {
      const module = await instantiateThreadedWasm(dir, threads);
      tfwasm.setThreadsCount(threads);
      tf.removeBackend('wasm');
      tf.registerBackend(
        'wasm',
        () => {
          const backend = new tfwasm.BackendWasm(module); // sizes the thread pool
          trimWasmWorkers(module);
          return backend;
        },
        2,
      );
      wasmRegistration = 'threaded';
      return { note, simd: true };
    } catch (e) {
      note = `; wasm threads unavailable (${messageOf(e)}), using 1`;
    }
  } else if (threads > 1) {
    note = simd === true ? '; threaded wasm binary missing, using 1 thread' : '; wasm threads need SIMD, using 1 thread';
  }
  wasmRegistration = 'stock';
  return { note, simd: simd === true };
}

async function tryWasm(threads: number): Promise<{ simd: boolean; threads: number; note: string }> {
  const { note, simd } = await registerWasm(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  return { simd, threads: Math.max(1, tfwasm.getThreadsCount()), note };
}

/**
 * Chooses and initialises the TensorFlow.js backend: tfjs-node if it loads, else wasm, else cpu
 * (or only the preferred one, falling back in the same order when it fails). Safe to call again:
 * a later call with the same options returns the same answer.
 *
 * @param options - see {@link InitBackendOptions}; `preferred` 'auto' by default.
 * @returns the backend in use, why it was chosen, and its SIMD and thread status.
 * @throws when the options are invalid, or when no backend at all initialises.
 * @example const info = await initBackend(); console.log(`${info.name}: ${info.reason}`);
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const opts = validateInitBackendOptions(options);
  const run = async (): Promise<BackendInfo> => {
    const order: BackendName[] =
      opts.preferred === 'auto' || opts.preferred === 'tensorflow'
        ? ['tensorflow', 'wasm', 'cpu']
        : opts.preferred === 'wasm'
          ? ['wasm', 'cpu']
          : ['cpu'];
    const failures: string[] = [];
    const why = (name: string): string =>
      failures.length === 0
        ? opts.preferred === 'auto'
          ? `${name} is the fastest available backend`
          : `${name} was requested`
        : `${name}, because ${failures.join('; ')}`;
    for (const name of order) {
      try {
        if (name === 'tensorflow') {
          await tryTensorflow();
          current = { name, reason: why('tensorflow (native TensorFlow via tfjs-node)'), simd: false, threads: cpus().length };
        } else if (name === 'wasm') {
          const w = await tryWasm(opts.wasmThreads);
          current = {
            name,
            reason: why(`wasm (XNNPACK, SIMD ${w.simd ? 'on' : 'off'}, ${w.threads} thread${w.threads > 1 ? 's' : ''})`) + w.note,
            simd: w.simd,
            threads: w.threads,
          };
        } else {
          if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
          current = { name, reason: why('cpu (pure JavaScript)'), simd: false, threads: 1 };
        }
        await tf.ready();
        return current;
      } catch (e) {
        failures.push(`${name} failed: ${messageOf(e)}`);
      }
    }
    throw new Error(`initBackend: no TensorFlow.js backend initialised (${failures.join('; ')})`);
  };
  // Serialise concurrent callers: backend switching is global state.
  const next = (pending ?? Promise.resolve(undefined as unknown as BackendInfo)).catch(() => undefined).then(run);
  pending = next;
  return next;
}
