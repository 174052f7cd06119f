/**
 * The fast context's element-wise ops: the WASM SIMD kernels of ./kernels/assembly/ops.ts on the shared memory, with
 * the large passes split between the pool threads — an update by chunks of its elements, an activation forward by rows,
 * a backward by columns. Shapes, arithmetic and the determinism argument are at the top of that file; every op is tested
 * against the TypeScript reference (./ops.ts) in test/engine/ops.test.ts. Results are bit-identical for any thread
 * count: element results do not depend on the split, column sums run down whole columns, and the update's sums are
 * per fixed chunk, added here in chunk order.
 *
 * Losses other than softmax cross-entropy run the TypeScript reference on the shared buffers.
 */
import type { GemmForm } from './compute.js';
import { EPILOGUE, type OpsKernel } from './kernels/gemm-wasm.js';
import { referenceOps, type Ops, type Penalty, type PointActivation, type UpdateStep, type UpdateSums } from './ops.js';
import type { ThreadPool } from './pool.js';
import { MAX_CHUNKS } from './pool-protocol.js';
import type { SharedMemory } from './shared-memory.js';

/** Activation codes of assembly/ops.ts. */
const ACTIVATION: Readonly<Record<PointActivation, number>> = { identity: 0, relu: 1, 'leaky-relu': 2, prelu: 3, sigmoid: 4, tanh: 5 };
/** Job codes of runChunk in assembly/ops.ts. */
const Job = { Update: 0, Forward: 1, Backward: 2 } as const;
/** Update kinds of assembly/ops.ts. */
const Kind = { None: 0, Sgd: 1, Momentum: 2, Nesterov: 3, Adaptive: 4, AdaptiveMoment: 5 } as const;
/** f64 slots of an update's argument block (A_* in assembly/ops.ts). */
const A = {
  Kind: 0, W: 1, G: 2, M: 3, V: 4, Length: 5, Segments: 6, SegmentCount: 7, Partials: 8,
  Lr: 9, Mu: 10, Beta1: 11, Beta2: 12, Gamma: 13, Epsilon: 14, C1: 15, C2: 16, L2: 17, L1: 18,
} as const;
/** f64 slots of a forward/backward job's argument block (B_* in assembly/ops.ts). */
const B = { F: 0, Slope: 1, N: 2, U: 3, Step: 4, Z: 5, B: 6, A: 7, Alpha: 8, Da: 9, Dz: 10, Db: 11, Dalpha: 12 } as const;
/** f64 slots per chunk in the partial sums (Σg², Σw², Σ|w|, unused). */
const PARTIAL_SLOTS = 4;
const ARG_SLOTS = 32;

export interface WasmOpsOptions {
  /** The calling thread's instance of the kernels. */
  readonly kernel: OpsKernel;
  /** The context's gemm, with an epilogue (EPILOGUE) applied to C once K is reduced (see fast-context.ts). */
  readonly gemm: (
    form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
    epilogue: number, bias: Float32Array | null,
  ) => void;
  /** The pool that shares large passes, if the context has more than one thread. */
  readonly pool: ThreadPool | undefined;
  readonly shared: SharedMemory;
  readonly threads: number;
  /** Activation passes over fewer elements than this (n·u) run on the calling thread alone. */
  readonly minParallelElements: number;
  /** Throws unless the context is open. */
  readonly checkOpen: () => void;
}

/** The ops and a way to drop their lazily allocated tables (before the context's memory is rewound). */
export interface WasmOps {
  readonly ops: Ops<Float32Array>;
  /** Forgets the partial-sum, label and penalty tables (allocated on first use); the next use allocates them again. */
  forgetTables(): void;
}

export function createWasmOps(options: WasmOpsOptions): WasmOps {
  const { kernel, gemm, pool, shared, threads, minParallelElements, checkOpen } = options;
  const reference = referenceOps<Float32Array>((...args) => gemm(...args, EPILOGUE.None, null));
  const chunkSize = kernel.updateChunkSize;
  const argsView = shared.allocFloat32(2 * ARG_SLOTS, 'ops argument block');
  const args = new Float64Array(argsView.buffer, argsView.byteOffset, ARG_SLOTS);
  const argsAt = argsView.byteOffset;
  let partials: Float64Array<ArrayBufferLike> = new Float64Array(0);
  let labels: Int32Array<ArrayBufferLike> = new Int32Array(0);
  let segmentTables = new WeakMap<Penalty['ranges'], { at: number; count: number; end: number }>();

  function address(name: string, view: Float32Array, need: number): number {
    shared.locate(view, `ops: ${name}`);
    if (view.length < need) throw new RangeError(`ops: ${name} has ${view.length} elements, ${need} needed`);
    return view.byteOffset;
  }
  const optional = (name: string, view: Float32Array | null, need: number): number => (view ? address(name, view, need) : 0);

  function dims(n: number, u: number): void {
    if (!Number.isInteger(n) || n < 0 || !Number.isInteger(u) || u < 0) throw new RangeError(`ops: bad shape (${n}, ${u})`);
    checkOpen();
  }

  function partialSums(chunks: number): Float64Array<ArrayBufferLike> {
    if (partials.length < chunks * PARTIAL_SLOTS) {
      const view = shared.allocFloat32(2 * PARTIAL_SLOTS * Math.max(chunks, 2 * (partials.length / PARTIAL_SLOTS)), 'update partial sums');
      partials = new Float64Array(view.buffer, view.byteOffset, view.length / 2);
    }
    return partials;
  }

  function labelBuffer(n: number): Int32Array<ArrayBufferLike> {
    if (labels.length < n) {
      const view = shared.allocFloat32(Math.max(n, 2 * labels.length), 'softmax labels');
      labels = new Int32Array(view.buffer, view.byteOffset, view.length);
    }
    return labels;
  }

  /** The penalized ranges as an i32 table in the shared memory (built once per ranges array, which must not change). */
  function segmentTable(ranges: Penalty['ranges'], length: number): { at: number; count: number } {
    let table = segmentTables.get(ranges);
    if (!table) {
      const view = shared.allocFloat32(2 * ranges.length, 'penalty segment table');
      const ints = new Int32Array(view.buffer, view.byteOffset, 2 * ranges.length);
      let end = 0;
      ranges.forEach(([s, e], i) => {
        if (!(Number.isInteger(s) && Number.isInteger(e) && s >= end && e >= s)) throw new RangeError('ops: penalty ranges must be sorted, disjoint [start, end) pairs');
        ints[2 * i] = s;
        ints[2 * i + 1] = e;
        end = e;
      });
      table = { at: view.byteOffset, count: ranges.length, end };
      segmentTables.set(ranges, table);
    }
    if (table.end > length) throw new RangeError(`ops: a penalty range ends at ${table.end}, past the ${length} elements updated`);
    return table;
  }

  /** Runs chunks 0 … chunks − 1 of `job` with the argument block: on the pool if there is one and several chunks. */
  function run(job: number, chunks: number): void {
    if (pool && chunks > 1) pool.runOps(job, argsAt, chunks);
    else for (let q = 0; q < chunks; q++) kernel.runChunk(job, argsAt, q);
  }

  function update(
    step: UpdateStep, w: Float32Array, g: Float32Array | null, m: Float32Array | null, v: Float32Array | null, length: number,
    penalty: Penalty | null,
  ): UpdateSums {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`ops: update length must be a non-negative integer, got ${length}`);
    checkOpen();
    args.fill(0);
    args[A.W] = address('w', w, length);
    args[A.G] = optional('g', g, length);
    args[A.Length] = length;
    if (step.kind === 'momentum') {
      if (!g) throw new TypeError('ops: an update needs a gradient');
      const keepsVelocity = step.momentum !== 0 && v !== null;
      args[A.Kind] = !keepsVelocity ? Kind.Sgd : step.nesterov ? Kind.Nesterov : Kind.Momentum;
      if (keepsVelocity) args[A.V] = address('v', v, length);
      args[A.Lr] = step.learningRate;
      args[A.Mu] = step.momentum;
    } else if (step.kind === 'adaptive') {
      if (!g) throw new TypeError('ops: an update needs a gradient');
      const keepsMoment = step.beta1 !== 0 && m !== null;
      args[A.Kind] = keepsMoment ? Kind.AdaptiveMoment : Kind.Adaptive;
      if (keepsMoment) args[A.M] = address('m', m, length);
      args[A.V] = address('v', v!, length);
      args[A.Lr] = step.learningRate;
      args[A.Beta1] = step.beta1;
      args[A.Beta2] = step.beta2;
      args[A.Gamma] = step.gamma;
      args[A.Epsilon] = step.epsilon;
      args[A.C1] = step.c1;
      args[A.C2] = step.c2;
    } else {
      args[A.Kind] = Kind.None;
    }
    const penalized = penalty !== null && (penalty.l2 !== 0 || penalty.l1 !== 0);
    if (penalized) {
      const table = segmentTable(penalty.ranges, length);
      args[A.Segments] = table.at;
      args[A.SegmentCount] = table.count;
      args[A.L2] = penalty.l2;
      args[A.L1] = penalty.l1;
    }
    if (length === 0) return { gradSquares: 0, penalty: 0 };
    const chunks = Math.ceil(length / chunkSize);
    if (chunks > MAX_CHUNKS) throw new RangeError(`ops: ${length} elements are too many for one update`);
    const sums = partialSums(chunks);
    args[A.Partials] = sums.byteOffset;
    run(Job.Update, chunks);
    let gradSquares = 0, squares = 0, absolutes = 0;
    for (let q = 0, o = 0; q < chunks; q++, o += PARTIAL_SLOTS) {
      gradSquares += sums[o];
      squares += sums[o + 1];
      absolutes += sums[o + 2];
    }
    return { gradSquares, penalty: penalized ? 0.5 * penalty.l2 * squares + penalty.l1 * absolutes : 0 };
  }

  const ops: Ops<Float32Array> = {
    denseForward(f, x, W, b, z, y, n, I, O, slope, alpha) {
      // Identity and ReLU ride on the gemm's epilogue (the same f32 operations as activationForward).
      if ((f === 'identity' || f === 'relu') && (z === null || z === y)) {
        gemm('nn', n, I, O, x, W, y, false, f === 'relu' ? EPILOGUE.BiasRelu : EPILOGUE.Bias, b);
        return;
      }
      const out = z ?? y;
      gemm('nn', n, I, O, x, W, out, false, EPILOGUE.None, null);
      ops.activationForward(f, out, b, y, n, O, slope, alpha);
    },

    activationForward(f, z, b, a, n, u, slope, alpha) {
      dims(n, u);
      const code = ACTIVATION[f];
      if (code === undefined) throw new TypeError(`ops: unknown activation ${String(f)}`);
      if (f === 'prelu' && z === a) throw new RangeError('ops: PReLU needs z and a to be different buffers');
      const zp = address('z', z, n * u), bp = address('b', b, u), ap = address('a', a, n * u);
      const alphap = f === 'prelu' ? address('alpha', alpha!, u) : 0;
      if (n === 0 || u === 0) return;
      if (!pool || n < 2 || n * u < minParallelElements) {
        kernel.activationForward(code, zp, bp, ap, alphap, slope, u, 0, n);
        return;
      }
      const step = Math.ceil(n / (2 * threads));
      args[B.F] = code; args[B.Slope] = slope; args[B.N] = n; args[B.U] = u; args[B.Step] = step;
      args[B.Z] = zp; args[B.B] = bp; args[B.A] = ap; args[B.Alpha] = alphap;
      run(Job.Forward, Math.ceil(n / step));
    },

    activationBackward(f, a, da, dz, db, n, u, slope, alpha, dalpha) {
      dims(n, u);
      const code = ACTIVATION[f];
      if (code === undefined) throw new TypeError(`ops: unknown activation ${String(f)}`);
      const ap = address('a', a, n * u), dap = address('da', da, n * u), dzp = address('dz', dz, n * u), dbp = address('db', db, u);
      const alphap = f === 'prelu' ? address('alpha', alpha!, u) : 0;
      const dalphap = f === 'prelu' ? address('dalpha', dalpha!, u) : 0;
      if (u === 0) return;
      if (!pool || u < 16 || n * u < minParallelElements) {
        kernel.activationBackward(code, ap, dap, dzp, dbp, alphap, dalphap, slope, n, u, 0, u);
        return;
      }
      const step = Math.ceil(u / (2 * threads) / 8) * 8;
      args[B.F] = code; args[B.Slope] = slope; args[B.N] = n; args[B.U] = u; args[B.Step] = step;
      args[B.A] = ap; args[B.Da] = dap; args[B.Dz] = dzp; args[B.Db] = dbp; args[B.Alpha] = alphap; args[B.Dalpha] = dalphap;
      run(Job.Backward, Math.ceil(u / step));
    },

    sumLoss(kind, scores, k, targets, n, grad, scale) {
      if (kind !== 'softmax' || !(targets instanceof Int32Array)) return reference.sumLoss(kind, scores, k, targets, n, grad, scale);
      dims(n, k);
      const sp = address('scores', scores, n * k), gp = optional('grad', grad, n * k);
      if (targets.length < n) throw new RangeError(`ops: ${targets.length} labels for ${n} rows`);
      const y = labelBuffer(n);
      for (let i = 0; i < n; i++) {
        const label = targets[i];
        if (!(label >= 0 && label < k)) throw new RangeError(`label ${label} at row ${i} is outside [0, ${k})`);
        y[i] = label;
      }
      if (n === 0) return 0;
      return kernel.softmaxCrossEntropy(sp, k, y.byteOffset, n, gp, scale);
    },

    update,

    sumSquares(a, offset = 0, length = a.length - offset) {
      if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 0 || offset + length > a.length) {
        throw new RangeError(`ops: sumSquares range [${offset}, ${offset + length}) outside ${a.length} elements`);
      }
      const view = a.subarray(offset, offset + length);
      return update({ kind: 'none' }, view, view, null, null, length, null).gradSquares;
    },
  };
  return {
    ops: shared.checks ? withMemoryChecks(ops, shared) : ops,
    forgetTables() {
      partials = new Float64Array(0);
      labels = new Int32Array(0);
      segmentTables = new WeakMap();
    },
  };
}

/** `ops` with the memory's guards verified after every call (checking mode), naming the op in a guard hit. */
function withMemoryChecks(ops: Ops<Float32Array>, shared: SharedMemory): Ops<Float32Array> {
  const checked = <A extends unknown[], R>(name: string, f: (...args: A) => R) => (...args: A): R => {
    const result = f(...args);
    shared.verify(`ops.${name}`);
    return result;
  };
  return {
    denseForward: checked('denseForward', ops.denseForward),
    activationForward: checked('activationForward', ops.activationForward),
    activationBackward: checked('activationBackward', ops.activationBackward),
    sumLoss: checked('sumLoss', ops.sumLoss),
    update: checked('update', ops.update),
    sumSquares: checked('sumSquares', ops.sumSquares),
  };
}
