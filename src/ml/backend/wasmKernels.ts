// Two wasm kernels of tfjs-backend-wasm 4.22 replaced by equivalent, cheaper ones (registered
// once, before the wasm backend is used; node_modules is untouched):
//  - Identity (tf.clone, and every tensor a gradient saves for the backward pass) copied the whole
//    tensor; tensors are immutable, so like the cpu backend's Identity and the wasm Reshape we now
//    share the data and count a reference. At 96³ this saved ~30 MB per saved activation.
//  - Slice first copied the WHOLE input out of the wasm heap (readSync) and then the slice; we copy
//    only the slice, straight from heap views, as runs of contiguous elements.
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendLike {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function identityShared({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = inputs.x as tf.TensorInfo;
  (backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Copies x[begin : begin+size] into out, as runs along the innermost partially-covered axis. */
export function copySliceRuns(
  xVals: Float32Array | Int32Array | Uint8Array,
  xShape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  outVals: Float32Array | Int32Array | Uint8Array,
): void {
  const rank = xShape.length;
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= xShape[i];
  }
  // Trailing axes taken whole merge into one run.
  let k = rank - 1;
  let inner = 1;
  while (k >= 0 && begin[k] === 0 && size[k] === xShape[k]) {
    inner *= xShape[k];
    k--;
  }
  if (k < 0) {
    outVals.set(xVals.subarray(0, inner));
    return;
  }
  const runLength = size[k] * inner;
  const index = new Array<number>(k).fill(0);
  let outOffset = 0;
  for (;;) {
    let src = begin[k] * strides[k];
    for (let i = 0; i < k; i++) src += (begin[i] + index[i]) * strides[i];
    outVals.set(xVals.subarray(src, src + runLength), outOffset);
    outOffset += runLength;
    let i = k - 1;
    while (i >= 0) {
      if (++index[i] < size[i]) break;
      index[i] = 0;
      i--;
    }
    if (i < 0) break;
  }
}

let installed = false;

/**
 * Replaces the wasm Identity and Slice kernels (see the file comment). Idempotent; call before
 * the wasm backend runs any op. Other backends are not affected.
 */
export function installWasmKernelFixes(): void {
  if (installed) return;
  installed = true;
  if (tf.getKernel('Identity', 'wasm')) tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: identityShared as unknown as tf.KernelFunc });

  const originalSlice = tf.getKernel('Slice', 'wasm');
  if (!originalSlice) return;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc: ((args: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: unknown }) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return originalSlice.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      const backend = args.backend as WasmBackendLike;
      const [begin, size] = tf.slice_util.parseSliceParams(
        { shape: x.shape } as unknown as tf.Tensor,
        args.attrs.begin as number[],
        args.attrs.size as number[],
      );
      const out = backend.makeOutput(size, x.dtype);
      if (tf.util.sizeFromShape(size) === 0) return out;
      // Views after makeOutput: an allocation can grow (and so replace) the heap buffer.
      copySliceRuns(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
      return out;
    }) as unknown as tf.KernelFunc,
  });
}
