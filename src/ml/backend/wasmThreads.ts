// Multi-threaded wasm backend in Node. tfjs-backend-wasm 4.22 refuses threads in Node by design
// (`WASM_HAS_MULTITHREAD_SUPPORT` is false there, tfjs issue #3830), and its own init hands
// Emscripten Blob URLs that Node's `worker_threads` cannot load. The package also ships the
// threaded-SIMD Emscripten factory and its pthread worker script; here we run that factory with
// both scripts written to real files, then wrap the module in the package's own `BackendWasm`,
// so every registered wasm kernel works unchanged. node_modules is never modified.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendWasmModule } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm';

/** Emscripten module of the threaded build: the plain module plus its pthread pool. */
interface NodeWorkerLike {
  unref?: () => void;
  terminate?: () => unknown;
}

export interface ThreadedWasmModule extends BackendWasmModule {
  PThread: { terminateAllThreads(): void; runningWorkers?: NodeWorkerLike[]; unusedWorkers?: NodeWorkerLike[] };
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number | void;
}

interface ThreadedFactoryConfig {
  mainScriptUrlOrBlob?: string;
  locateFile?(path: string, prefix: string): string;
  onAbort?: (msg: string) => void;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

type ThreadedFactory = (config: ThreadedFactoryConfig) => Promise<ThreadedWasmModule>;

/** File name of the threaded-SIMD binary shipped by the package (and copied to dist/). */
export const THREADED_SIMD_WASM = 'tfjs-backend-wasm-threaded-simd.wasm';

// Static requires so that esbuild bundles both scripts into dist/*.js (they are plain CommonJS).
function loadThreadedScripts(): { factory: ThreadedFactory; workerSource: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factoryModule = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as
    | ThreadedFactory
    | { default: ThreadedFactory };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const workerModule = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  const factory = typeof factoryModule === 'function' ? factoryModule : factoryModule.default;
  // The worker source sits in a template literal, which turned its "\n" escapes into real line
  // breaks inside string literals; restore them (tfjs does the same before making its Blob).
  return { factory, workerSource: workerModule.wasmWorkerContents.replace(/\n/g, '\\n') };
}

/** Writes `text` to `path` unless an identical file is there (temp file + rename: atomic). */
function writeIfChanged(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/**
 * Writes the pthread main script and worker script to a per-content folder under the OS temp
 * folder and returns their paths. Node workers need real files: Blob URLs do not load there.
 */
function materialiseScripts(factory: ThreadedFactory, workerSource: string): { mainPath: string; workerPath: string } {
  // The factory's text refers to `_scriptDir` from its wrapper: declare it, as the original file does.
  const mainSource =
    'var WasmBackendModuleThreadedSimd = (() => {\n' +
    "  var _scriptDir = typeof __filename !== 'undefined' ? __filename : undefined;\n" +
    `  return (${factory.toString()});\n})();\n` +
    "if (typeof module === 'object' && module.exports) module.exports = WasmBackendModuleThreadedSimd;\n";
  const hash = createHash('sha256').update(mainSource).update(workerSource).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `lesion-lab-wasm-threads-${hash}`);
  mkdirSync(dir, { recursive: true });
  const mainPath = join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const workerPath = join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  writeIfChanged(mainPath, mainSource);
  writeIfChanged(workerPath, workerSource);
  return { mainPath, workerPath };
}

/**
 * Runs `start` while `os.cpus()` reports at least `cores` entries. The backend's C++ caps its
 * XNNPACK pool at `emscripten_num_logical_cores() / 2`, a global computed once while the module
 * instantiates, and Emscripten answers it in Node with `require('os').cpus().length`: on a
 * 2-core machine that would leave 1 thread whatever `setThreadsCount` asks for.
 */
async function withReportedCores<T>(cores: number, start: () => Promise<T>): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const os = require('node:os') as { cpus: () => unknown[] };
  const realCpus = os.cpus;
  const real = realCpus();
  if (real.length >= cores) return start();
  os.cpus = () => Array.from({ length: cores }, (_, i) => real[i % real.length]);
  try {
    return await start();
  } finally {
    os.cpus = realCpus;
  }
}

/**
 * Runs `start` while `worker_threads.Worker` starts workers without the parent's execArgv: the
 * pthread workers are plain CommonJS and need no loader hooks (under tsx each of the 8 pre-spawned
 * workers would otherwise load the TypeScript loader, seconds of start-up and ~20 MB each).
 */
async function withPlainWorkers<T>(start: () => Promise<T>): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wt = require('node:worker_threads') as { Worker: new (file: string, options?: Record<string, unknown>) => unknown };
  const RealWorker = wt.Worker;
  class PlainWorker extends (RealWorker as new (file: string, options?: Record<string, unknown>) => object) {
    constructor(file: string, options?: Record<string, unknown>) {
      super(file, { execArgv: [], ...options });
    }
  }
  wt.Worker = PlainWorker as unknown as typeof wt.Worker;
  try {
    return await start();
  } finally {
    wt.Worker = RealWorker;
  }
}

/**
 * Instantiates the threaded-SIMD wasm module in Node.
 *
 * @param threads - thread pool size wanted (1 to 8); the module is started so that it allows it.
 * @param wasmDir - folder holding `tfjs-backend-wasm-threaded-simd.wasm` (with trailing separator or not).
 * @returns the Emscripten module, with the `tfjs` bridge the package's `BackendWasm` expects.
 * @throws when the scripts cannot be written, the binary is missing, or Emscripten aborts.
 */
export async function instantiateThreadedWasm(wasmDir: string, threads: number): Promise<ThreadedWasmModule> {
  const wasmPath = join(wasmDir, THREADED_SIMD_WASM);
  if (!existsSync(wasmPath)) throw new Error(`threaded wasm binary not found at ${wasmPath}`);
  const { factory, workerSource } = loadThreadedScripts();
  const { mainPath, workerPath } = materialiseScripts(factory, workerSource);
  let abortMessage: string | undefined;
  const module = await withReportedCores(2 * threads, () => withPlainWorkers(() => new Promise<ThreadedWasmModule>((resolve, reject) => {
    const config: ThreadedFactoryConfig = {
      mainScriptUrlOrBlob: mainPath,
      locateFile: (path: string) => {
        if (path.endsWith('.worker.js')) return workerPath;
        if (path.endsWith('.wasm')) return wasmPath;
        return join(wasmDir, path);
      },
      onAbort: (msg: string) => {
        abortMessage = String(msg);
        reject(new Error(`threaded wasm aborted: ${abortMessage}`));
      },
    };
    factory(config).then(resolve, (e: unknown) =>
      reject(e instanceof Error ? e : new Error(`threaded wasm failed: ${abortMessage ?? String(e)}`)),
    );
  })));
  // The same bridge tfjs-backend-wasm's own init() installs (backend_wasm.js).
  module.tfjs = {
    init: module.cwrap('init', null, []) as () => void,
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']) as (n: number) => void,
    getThreadsCount: module.cwrap('get_threads_count', 'number', []) as () => number,
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']) as (
      id: number,
      size: number,
      memoryOffset: number,
    ) => void,
    disposeData: module.cwrap('dispose_data', null, ['number']) as (id: number) => void,
    dispose: module.cwrap('dispose', null, []) as () => void,
  };
  return module;
}

/**
 * Call once the XNNPACK pool exists. Lets the process exit while the pool threads wait for work
 * (Emscripten refs a Node worker while its pthread runs, and pool threads run forever), and ends
 * the workers Emscripten pre-spawned (8) beyond those the pool uses (Emscripten spawns anew if a
 * thread is ever wanted again): each idle worker costs a V8 isolate.
 */
export function trimWasmWorkers(module: ThreadedWasmModule): void {
  for (const w of module.PThread.runningWorkers ?? []) w.unref?.();
  const idle = module.PThread.unusedWorkers ?? [];
  for (const w of idle.splice(0, idle.length)) {
    w.unref?.();
    void w.terminate?.();
  }
}
