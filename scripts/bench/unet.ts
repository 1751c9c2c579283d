// `npm run bench -- unet [--quick] [--json] [--stock|--no-stock] [--cpu] [--cpu-train]`: the reference 3-D U-Net (4 levels, base 8,
// batch norm, ReLU, max-pool, nearest upsampling, skip concatenation, softmax over 2 classes,
// 332 k parameters, batch 1) at 64³ (and 96³ unless --quick): inference and one Adam training
// step, on each backend, our ops against the stock tf.conv3d network, and PyTorch (2 threads) when
// Debian's python3-torch is installed. Every figure comes from a fresh child process so that the
// peak RSS belongs to that measurement alone. The CPU is shared: compare ratios within one run.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../../src/ml/backend';
import { createUNet3d, unet3dWeightSpecs, NORM_EPSILON, type UNet3d } from '../../src/ml/network';

type Mode = 'infer' | 'train';
type Variant = 'ours' | 'stock';

interface ChildSpec {
  backend: 'tensorflow' | 'wasm' | 'cpu';
  threads: number;
  variant: Variant;
  size: number;
  mode: Mode;
  reps: number;
}

interface ChildResult {
  ok: boolean;
  error?: string;
  backendInfo?: BackendInfo;
  medianMs?: number;
  peakRssMB?: number;
}

// ---------------------------------------------------------------------------------------------
// The stock network: the same weights through tfjs' own ops (tf.conv3d, moments, concat, tile).
function stockApply(net: UNet3d, x: tf.Tensor5D, training: boolean): tf.Tensor5D {
  const specs = unet3dWeightSpecs(net.config);
  const byName = new Map<string, tf.Variable>();
  let t = 0;
  let n = 0;
  for (const s of specs) byName.set(s.name, s.trainable ? net.trainableVariables[t++] : net.nonTrainableVariables[n++]);
  const v = (name: string): tf.Tensor => byName.get(name) as tf.Tensor;
  const block = (h: tf.Tensor5D, p: string): tf.Tensor5D => {
    const c5 = tf.conv3d(h, v(`${p}/kernel`) as tf.Tensor5D, 1, 'same');
    // tf.batchNorm's gradient fails on rank 5 ("rank of input 4 must match length of reps"): use rank 4.
    const [b, d, hh, w, ch] = c5.shape;
    const c = c5.reshape([b * d, hh, w, ch]);
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (training) ({ mean, variance } = tf.moments(c, [0, 1, 2]));
    else [mean, variance] = [v(`${p}/norm/running_mean`), v(`${p}/norm/running_variance`)];
    return tf.relu(tf.batchNorm(c, mean, variance, v(`${p}/norm/beta`), v(`${p}/norm/gamma`), NORM_EPSILON)).reshape([b, d, hh, w, ch]) as tf.Tensor5D;
  };
  const pw = (h: tf.Tensor5D, p: string): tf.Tensor5D => {
    const [b, d, hh, w, c] = h.shape;
    const k = v(`${p}/kernel`) as tf.Tensor2D;
    return tf.add(tf.matMul(h.reshape([b * d * hh * w, c]), k), v(`${p}/bias`)).reshape([b, d, hh, w, k.shape[1]]) as tf.Tensor5D;
  };
  const up = (h: tf.Tensor5D): tf.Tensor5D => {
    const [b, d, hh, w, c] = h.shape;
    const r = tf.image.resizeNearestNeighbor(h.reshape([b * d, hh, w, c]) as tf.Tensor4D, [2 * hh, 2 * w]);
    return tf.tile(r.reshape([b * d, 1, 4 * hh * w * c]), [1, 2, 1]).reshape([b, 2 * d, 2 * hh, 2 * w, c]) as tf.Tensor5D;
  };
  const levels = net.config.levels;
  const skips: tf.Tensor5D[] = [];
  let h = x;
  for (let l = 0; l < levels; l++) {
    h = block(block(h, `enc${l}/conv0`), `enc${l}/conv1`);
    if (l < levels - 1) {
      skips.push(h);
      h = tf.maxPool3d(h, 2, 2, 'valid');
    }
  }
  for (let l = levels - 2; l >= 0; l--) {
    h = block(tf.concat([up(pw(h, `dec${l}/up`)), skips[l]], 4) as tf.Tensor5D, `dec${l}/conv0`);
    h = block(h, `dec${l}/conv1`);
  }
  return tf.softmax(pw(h, 'head')) as tf.Tensor5D;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs one measurement in this process (child mode). */
async function runChild(spec: ChildSpec): Promise<ChildResult> {
  const info = await initBackend({ preferred: spec.backend, wasmThreads: spec.threads });
  if (info.name !== spec.backend) return { ok: false, error: info.reason, backendInfo: info };
  const net = createUNet3d({ levels: 4, baseFilters: 8, normalization: 'batch', seed: 7 });
  const n = spec.size;
  const x = tf.randomNormal([1, n, n, n, 1], 0, 1, 'float32', 1) as tf.Tensor5D;
  const labels = tf.tidy(() => tf.oneHot(tf.cast(tf.greater(tf.randomUniform([1, n, n, n], 0, 1, 'float32', 2), 0.7), 'int32') as tf.Tensor4D, 2));
  const forward = (training: boolean): tf.Tensor5D => {
    if (spec.variant === 'stock') return tf.tidy(() => stockApply(net, x, training));
    return (training ? net.apply(x, { training: true }) : net.predict(x)) as tf.Tensor5D;
  };
  const optimizer = tf.train.adam(1e-3);
  const step = async (): Promise<void> => {
    if (spec.mode === 'infer') {
      const p = forward(false);
      await p.data();
      p.dispose();
      return;
    }
    const loss = optimizer.minimize(
      () => tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.add(forward(true), 1e-7))), -1))) as tf.Scalar,
      true,
      net.trainableVariables,
    );
    await loss?.data();
    loss?.dispose();
  };
  await step(); // warm-up: XNNPACK operators, heap growth
  const times: number[] = [];
  for (let i = 0; i < spec.reps; i++) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  return { ok: true, backendInfo: info, medianMs: Math.round(median(times)), peakRssMB };
}

function spawnChild(spec: ChildSpec): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', JSON.stringify(spec)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: 20 * 60 * 1000,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{"ok"'));
  if (line) return JSON.parse(line) as ChildResult;
  const err = (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
  return { ok: false, error: `child exited ${String(r.status)}${r.signal ? ` (${r.signal})` : ''}: ${err}` };
}

// ---------------------------------------------------------------------------------------------
// PyTorch reference (same architecture, 2 threads), when Debian's python3-torch is installed.
const TORCH_SCRIPT = String.raw`
import json, sys, time, resource, statistics
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
size, mode, reps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def block(ci, co):
    return nn.Sequential(nn.Conv3d(ci, co, 3, padding=1, bias=False), nn.BatchNorm3d(co), nn.ReLU(inplace=True))
class UNet(nn.Module):
    def __init__(s, levels=4, base=8, cin=1, ncls=2):
        super().__init__()
        f = [base * 2 ** l for l in range(levels)]
        s.enc = nn.ModuleList([nn.Sequential(block(cin if l == 0 else f[l-1], f[l]), block(f[l], f[l])) for l in range(levels)])
        s.up = nn.ModuleList([nn.Conv3d(f[l+1], f[l], 1) for l in range(levels-1)])
        s.dec = nn.ModuleList([nn.Sequential(block(2*f[l], f[l]), block(f[l], f[l])) for l in range(levels-1)])
        s.head = nn.Conv3d(f[0], ncls, 1)
    def forward(s, x):
        skips = []
        for l, e in enumerate(s.enc):
            x = e(x)
            if l < len(s.enc) - 1:
                skips.append(x); x = F.max_pool3d(x, 2)
        for l in range(len(s.dec) - 1, -1, -1):
            x = F.interpolate(s.up[l](x), scale_factor=2, mode='nearest')
            x = s.dec[l](torch.cat([x, skips[l]], 1))
        return torch.softmax(s.head(x), 1)
net = UNet()
params = sum(p.numel() for p in net.parameters())
x = torch.randn(1, 1, size, size, size)
y = (torch.rand(1, size, size, size) > 0.7).long()
opt = torch.optim.Adam(net.parameters(), 1e-3)
def step():
    if mode == 'infer':
        net.eval()
        with torch.no_grad(): net(x)
    else:
        net.train(); opt.zero_grad()
        p = net(x)
        loss = F.nll_loss(torch.log(p + 1e-7), y)
        loss.backward(); opt.step()
step()
ts = []
for _ in range(reps):
    t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"ok": True, "medianMs": round(statistics.median(ts)), "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "params": params, "torch": torch.__version__}))
`;

function torchAvailable(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0;
}

function runTorch(size: number, mode: Mode, reps: number): ChildResult & { params?: number } {
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH_SCRIPT, String(size), mode, String(reps)], { encoding: 'utf8', timeout: 20 * 60 * 1000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{"ok"'));
  if (line) return JSON.parse(line) as ChildResult & { params?: number };
  return { ok: false, error: `python exited ${String(r.status)}: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}` };
}

// ---------------------------------------------------------------------------------------------
interface Row {
  name: string;
  backend: string;
  medianMs?: number;
  peakRssMB?: number;
  error?: string;
}

export default async function unetBench(o: { json: boolean; args: string[] }): Promise<void> {
  const quick = o.args.includes('--quick');
  const withStock = o.args.includes('--stock') || (!quick && !o.args.includes('--no-stock'));
  const withCpu = o.args.includes('--cpu') || (!quick && !o.args.includes('--no-cpu'));
  const withTorch = torchAvailable();
  const sizes = quick ? [64] : [64, 96];
  const cores = cpus().length;
  const defaultThreads = cores > 1 ? Math.min(cores, 8) : 1;
  const rows: Row[] = [];
  const log = (row: Row): void => {
    rows.push(row);
    if (o.json) {
      if (row.medianMs !== undefined) console.log(JSON.stringify({ name: row.name, backend: row.backend, medianMs: row.medianMs, peakRssMB: row.peakRssMB }));
      else console.log(JSON.stringify({ name: row.name, backend: row.backend, error: row.error }));
    } else {
      console.log(`  ${row.name.padEnd(13)} ${row.backend.padEnd(26)} ${row.medianMs !== undefined ? `${String(row.medianMs).padStart(7)} ms ${String(row.peakRssMB).padStart(6)} MB` : `skipped: ${row.error}`}`);
    }
  };

  // Backend status first (SIMD, threads, why tfjs-node is not used).
  const probe = spawnChild({ backend: 'tensorflow', threads: 1, variant: 'ours', size: 8, mode: 'infer', reps: 0 });
  const tensorflowOk = probe.ok;
  const wasmProbe = spawnChild({ backend: 'wasm', threads: defaultThreads, variant: 'ours', size: 8, mode: 'infer', reps: 0 });
  const status = {
    tensorflow: tensorflowOk ? 'available' : `unavailable (${(probe.error ?? probe.backendInfo?.reason ?? 'unknown').replace(/^.*tensorflow failed: /, '').replace(/; (wasm|cpu) failed.*$/, '')})`,
    wasm: wasmProbe.backendInfo ? `SIMD ${wasmProbe.backendInfo.simd ? 'on' : 'off'}, ${wasmProbe.backendInfo.threads} thread(s); ${wasmProbe.backendInfo.reason}` : `unavailable (${wasmProbe.error})`,
    cores,
  };
  if (o.json) console.log(JSON.stringify({ name: 'unet.backends', ...status }));
  else console.log(`tensorflow: ${status.tensorflow}\nwasm: ${status.wasm}\nlogical cores: ${cores}`);

  const configs: { label: string; spec: Omit<ChildSpec, 'size' | 'mode' | 'reps'>; sizes: number[]; modes: Mode[] }[] = [];
  if (tensorflowOk) configs.push({ label: 'tensorflow', spec: { backend: 'tensorflow', threads: 1, variant: 'ours' }, sizes, modes: ['infer', 'train'] });
  configs.push({ label: `wasm-${defaultThreads}t`, spec: { backend: 'wasm', threads: defaultThreads, variant: 'ours' }, sizes, modes: ['infer', 'train'] });
  if (defaultThreads > 1) configs.push({ label: 'wasm-1t', spec: { backend: 'wasm', threads: 1, variant: 'ours' }, sizes: [64], modes: ['infer', 'train'] });
  if (withStock) configs.push({ label: 'wasm-1t-stock', spec: { backend: 'wasm', threads: 1, variant: 'stock' }, sizes: [64], modes: ['infer', 'train'] });
  // The pure-JS cpu backend takes minutes per 64³ training step: only with --cpu-train.
  if (withCpu) configs.push({ label: 'cpu', spec: { backend: 'cpu', threads: 1, variant: 'ours' }, sizes: [64], modes: o.args.includes('--cpu-train') ? ['infer', 'train'] : ['infer'] });
  if (withCpu && withStock) configs.push({ label: 'cpu-stock', spec: { backend: 'cpu', threads: 1, variant: 'stock' }, sizes: [64], modes: ['infer'] });

  // PyTorch runs right after the first (fastest) configuration's run of the same size and mode, so
  // that each pair sees about the same load on a shared machine.
  const torchRows = new Map<string, number>();
  for (const [index, c] of configs.entries()) {
    for (const size of c.sizes) {
      for (const mode of c.modes) {
        const slow = c.spec.variant === 'stock' || c.spec.backend === 'cpu';
        const reps = slow ? 1 : mode === 'infer' ? 5 : 3;
        const r = spawnChild({ ...c.spec, size, mode, reps });
        const name = `unet${size}.${mode}`;
        log({ name, backend: c.label, medianMs: r.medianMs, peakRssMB: r.peakRssMB, error: r.error });
        if (index === 0 && withTorch) {
          const t = runTorch(size, mode, reps);
          log({ name, backend: 'pytorch-2t', medianMs: t.medianMs, peakRssMB: t.peakRssMB, error: t.error });
          if (t.medianMs !== undefined) torchRows.set(name, t.medianMs);
        }
      }
    }
  }

  if (!withTorch) {
    if (!o.json) console.log('PyTorch: /usr/bin/python3 cannot import torch (apt-get install python3-torch to compare)');
    return;
  }
  // Ratios against PyTorch, same run.
  for (const row of rows) {
    const ref = torchRows.get(row.name);
    if (row.backend === 'pytorch-2t' || ref === undefined || row.medianMs === undefined) continue;
    const ratio = Math.round((row.medianMs / ref) * 100) / 100;
    if (o.json) console.log(JSON.stringify({ name: `${row.name}.ratioVsPytorch`, backend: row.backend, ratio }));
    else console.log(`  ratio ${row.name.padEnd(13)} ${row.backend.padEnd(16)} ${ratio.toFixed(2)}× PyTorch`);
  }
}

if (process.argv.includes('--child')) {
  const spec = JSON.parse(process.argv[process.argv.indexOf('--child') + 1]) as ChildSpec;
  runChild(spec)
    .then((r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    })
    .catch((e: unknown) => {
      console.log(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }));
      process.exit(0);
    });
}
