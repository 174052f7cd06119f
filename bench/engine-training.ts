/**
 * Training throughput for bench/engine.ts, on a fast context with 1 thread and with all threads:
 * - the MLP 784-256-256-10 (ReLU, softmax cross-entropy, SGD) at each batch size, in samples/s;
 * - the CS231n spiral net 2-100-3 (ReLU, softmax, L2 1e-3, SGD) at full batch (300 points), in steps/s.
 * Each figure is the best of 5 timed batches of training steps on one fixed batch (bench/gemm-throughput.ts).
 *
 * The network library (src/engine/network.ts) is imported lazily: if it does not load, this section reports itself
 * skipped with the reason, and the GEMM part of the benchmark still runs.
 */
import type { NetworkSpec } from '../src/engine/spec.js';
import { createFastContext } from '../src/engine/fast-context.js';
import type { KernelChoice } from '../src/engine/kernels/native-choice.js';
import { bestSecondsPerCall } from './gemm-throughput.js';

export interface TrainingBench {
  readonly mlp: readonly { readonly batch: number; readonly samples_per_s_1t: number; readonly samples_per_s_nt: number }[];
  readonly spiral: { readonly steps_per_s_1t: number; readonly steps_per_s_nt: number };
}

export interface TrainingBenchOptions {
  /** Threads of the "all threads" runs. */
  readonly threads: number;
  /** Milliseconds per measurement. */
  readonly budgetMs: number;
  /** MLP batch sizes. */
  readonly batches: readonly number[];
  /** The engine's kernels. Default auto. */
  readonly kernel?: KernelChoice;
}

const MLP: NetworkSpec = {
  inputs: 784,
  layers: [{ units: 256, activation: 'relu' }, { units: 256, activation: 'relu' }],
  outputs: 10,
  loss: 'softmax',
};
const SPIRAL: NetworkSpec = { inputs: 2, layers: [{ units: 100, activation: 'relu' }], outputs: 3, loss: 'softmax', regularization: { l2: 1e-3 } };

/** The CS231n spiral: 3 arms of 100 points, radius 0..1, angle spread with noise 0.2 (a fixed pseudo-random sequence). */
function spiralData(): { x: Float32Array; y: Int32Array } {
  const perClass = 100, classes = 3;
  const x = new Float32Array(perClass * classes * 2), y = new Int32Array(perClass * classes);
  let seed = 1;
  const uniform = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) + 0.5) / 4294967296;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  for (let j = 0; j < classes; j++) {
    for (let i = 0; i < perClass; i++) {
      const r = i / (perClass - 1), t = j * 4 + (4 * i) / (perClass - 1) + normal() * 0.2, row = j * perClass + i;
      x[2 * row] = r * Math.sin(t);
      x[2 * row + 1] = r * Math.cos(t);
      y[row] = j;
    }
  }
  return { x, y };
}

export async function benchTraining(options: TrainingBenchOptions): Promise<TrainingBench | { readonly skipped: string }> {
  let createNetwork: typeof import('../src/engine/network.js').createNetwork;
  try {
    ({ createNetwork } = await import('../src/engine/network.js'));
  } catch (error) {
    return { skipped: `src/engine/network.ts does not load: ${error instanceof Error ? error.message : String(error)}` };
  }

  /** Seconds per training step of `spec` on one fixed batch, with a fast context of `threads` threads. */
  async function secondsPerStep(spec: NetworkSpec, threads: number, x: Float32Array, y: Int32Array, n: number, learningRate: number): Promise<number> {
    const ctx = await createFastContext({ threads, kernel: options.kernel ?? 'auto' });
    try {
      const net = createNetwork(spec, { ctx, maxBatch: n, seed: 1, optimizer: { type: 'sgd', learningRate } });
      return bestSecondsPerCall(() => net.trainStep(x, y, n), options.budgetMs);
    } finally {
      await ctx.close();
    }
  }

  const mlp = [];
  for (const batch of options.batches) {
    const x = Float32Array.from({ length: batch * MLP.inputs }, () => Math.random());
    const y = Int32Array.from({ length: batch }, (_, i) => i % MLP.outputs);
    const one = await secondsPerStep(MLP, 1, x, y, batch, 0.01);
    const all = await secondsPerStep(MLP, options.threads, x, y, batch, 0.01);
    mlp.push({ batch, samples_per_s_1t: batch / one, samples_per_s_nt: batch / all });
  }
  const { x, y } = spiralData();
  const one = await secondsPerStep(SPIRAL, 1, x, y, y.length, 1);
  const all = await secondsPerStep(SPIRAL, options.threads, x, y, y.length, 1);
  return { mlp, spiral: { steps_per_s_1t: 1 / one, steps_per_s_nt: 1 / all } };
}
