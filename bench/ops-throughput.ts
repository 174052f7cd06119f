/**
 * The element-wise ops of a fast context against the TypeScript reference ops (src/engine/ops.ts), in microseconds per
 * call, on the shapes of the training benchmarks: a ReLU and a tanh layer of the MLP at batch 128 (128 × 256), the
 * spiral's hidden layer (300 × 100), the MLP's softmax loss at batch 128, and its SGD and Adam updates (268 800
 * parameters). Best of 5 timed batches, as everywhere in the engine benchmark (bench/gemm-throughput.ts).
 */
import type { FastContext } from '../src/engine/fast-context.js';
import { gemmReference } from '../src/engine/kernels/gemm-reference.js';
import { referenceOps, type Ops, type UpdateStep } from '../src/engine/ops.js';
import { bestSecondsPerCall } from './gemm-throughput.js';

export interface OpTiming {
  readonly name: string;
  readonly reference_us: number;
  readonly fast_1t_us: number;
  readonly fast_nt_us: number;
}

type Alloc = (length: number) => Float32Array;

/** One op on buffers from `alloc`, as a closure to time. */
type Case = (ops: Ops<Float32Array>, alloc: Alloc) => () => void;

function random(view: Float32Array, scale = 1): Float32Array {
  for (let i = 0; i < view.length; i++) view[i] = (Math.random() * 2 - 1) * scale;
  return view;
}

const PARAMETERS = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10;
const sgd: UpdateStep = { kind: 'momentum', learningRate: 1e-3, momentum: 0, nesterov: false };
const adam: UpdateStep = { kind: 'adaptive', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, gamma: 0.001, epsilon: 1e-8, c1: 0.1, c2: 0.01 };

const CASES: readonly (readonly [string, Case])[] = [
  ['ReLU forward 128×256', (ops, alloc) => {
    const z = random(alloc(128 * 256)), b = random(alloc(256)), a = alloc(128 * 256);
    return () => ops.activationForward('relu', z, b, a, 128, 256, 0, null);
  }],
  ['ReLU backward + db 128×256', (ops, alloc) => {
    const a = random(alloc(128 * 256)), da = random(alloc(128 * 256)), dz = alloc(128 * 256), db = alloc(256);
    return () => ops.activationBackward('relu', a, da, dz, db, 128, 256, 0, null, null);
  }],
  ['ReLU backward + db 300×100', (ops, alloc) => {
    const a = random(alloc(300 * 100)), da = random(alloc(300 * 100)), dz = alloc(300 * 100), db = alloc(100);
    return () => ops.activationBackward('relu', a, da, dz, db, 300, 100, 0, null, null);
  }],
  ['tanh forward 128×256', (ops, alloc) => {
    const z = random(alloc(128 * 256), 3), b = random(alloc(256)), a = alloc(128 * 256);
    return () => ops.activationForward('tanh', z, b, a, 128, 256, 0, null);
  }],
  ['softmax loss + gradient 128×10', (ops, alloc) => {
    const s = random(alloc(128 * 10), 5), g = alloc(128 * 10), y = Int32Array.from({ length: 128 }, (_, i) => i % 10);
    return () => ops.sumLoss('softmax', s, 10, y, 128, g, 1 / 128);
  }],
  [`SGD update ${PARAMETERS} parameters`, (ops, alloc) => {
    const w = random(alloc(PARAMETERS)), g = random(alloc(PARAMETERS), 1e-3);
    return () => ops.update(sgd, w, g, null, null, PARAMETERS, null);
  }],
  [`Adam update ${PARAMETERS} parameters`, (ops, alloc) => {
    const w = random(alloc(PARAMETERS)), g = random(alloc(PARAMETERS), 1e-3), m = alloc(PARAMETERS), v = alloc(PARAMETERS);
    return () => ops.update(adam, w, g, m, v, PARAMETERS, null);
  }],
];

export function benchOps(one: FastContext, all: FastContext, budgetMs: number): OpTiming[] {
  const reference = referenceOps<Float32Array>(gemmReference);
  const plain: Alloc = (length) => new Float32Array(length);
  const time = (run: () => void): number => bestSecondsPerCall(run, budgetMs) * 1e6;
  return CASES.map(([name, make]) => ({
    name,
    reference_us: time(make(reference, plain)),
    fast_1t_us: time(make(one.ops, (length) => one.alloc(length))),
    fast_nt_us: time(make(all.ops, (length) => all.alloc(length))),
  }));
}
