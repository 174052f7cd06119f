/**
 * The thread pool: bit-identical results for 1, 2 and 3 threads, a context created inside a worker thread,
 * errors of a pool thread reaching the caller, and close() ending the threads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { describe, test } from 'node:test';
import type { GemmForm } from '../../src/engine/compute.js';
import { createFastContext, type FastContextOptions } from '../../src/engine/fast-context.js';
import { planChunks } from '../../src/engine/gemm-plan.js';
import { instantiateGemm, loadGemmModule, relaxedSimdAvailable, type WasmFlavour } from '../../src/engine/kernels/gemm-wasm.js';
import { ThreadPool } from '../../src/engine/pool.js';
import { MAX_CHUNKS } from '../../src/engine/pool-protocol.js';
import { SharedMemory } from '../../src/engine/shared-memory.js';

const FORMS: readonly GemmForm[] = ['nn', 'nt', 'tn'];
const flavours: WasmFlavour[] = relaxedSimdAvailable() ? ['simd', 'relaxed-simd'] : ['simd'];
/** Shapes small enough for the calling thread alone by default, and large enough to be shared. */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 3, 1], [7, 300, 13], [37, 129, 61], [64, 784, 256], [128, 256, 10], [130, 70, 300], [5, 1000, 9],
];

function inputs(M: number, K: number, N: number, seed: number): { a: Float32Array; b: Float32Array; c: Float32Array } {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
  const make = (n: number) => Float32Array.from({ length: n }, next);
  return { a: make(M * K), b: make(K * N), c: make(M * N) };
}

/** Every result (form × accumulate × shape) of one context configuration, as raw bytes. */
async function results(options: FastContextOptions): Promise<Uint8Array[]> {
  const ctx = await createFastContext(options);
  const out: Uint8Array[] = [];
  SHAPES.forEach(([M, K, N], s) => {
    for (const form of FORMS) {
      for (const accumulate of [false, true]) {
        const host = inputs(M, K, N, s * 7 + FORMS.indexOf(form) * 2 + Number(accumulate));
        const a = ctx.alloc(host.a.length), b = ctx.alloc(host.b.length), c = ctx.alloc(host.c.length);
        a.set(host.a);
        b.set(host.b);
        c.set(host.c);
        ctx.gemm(form, M, K, N, a, b, c, accumulate);
        ctx.gemm(form, M, K, N, a, b, c, true); // a second call on the same buffers: the pool is reused
        out.push(new Uint8Array(c.slice().buffer));
      }
    }
  });
  await ctx.close();
  return out;
}

describe('thread pool', () => {
  test('the chunk plan covers C exactly once, within the ticket range', () => {
    for (const [M, N, threads] of [[1, 1, 2], [64, 256, 2], [128, 10, 2], [1024, 1024, 3], [5, 100_000, 2], [100_000, 3, 4], [33, 77, 3]] as const) {
      const plan = planChunks(M, N, threads);
      assert.ok(plan.chunks <= MAX_CHUNKS && plan.chunks === plan.rowChunks * plan.colChunks);
      assert.equal(plan.chunkCols % 8, 0);
      assert.ok(plan.rowChunks * plan.chunkRows >= M && (plan.rowChunks - 1) * plan.chunkRows < M);
      assert.ok(plan.colChunks * plan.chunkCols >= N && (plan.colChunks - 1) * plan.chunkCols < N);
    }
  });

  for (const flavour of flavours) {
    test(`${flavour}: bit-identical results for 1, 2 and 3 threads`, async () => {
      const one = await results({ threads: 1, kernel: flavour });
      for (const options of [
        { threads: 2 }, { threads: 3 }, { threads: 2, minParallelFlops: 0 }, { threads: 3, minParallelFlops: 0, spinMicros: 0 },
      ]) {
        const many = await results({ ...options, kernel: flavour });
        many.forEach((bytes, i) => assert.deepEqual(bytes, one[i], `${JSON.stringify(options)}: result ${i} differs`));
      }
    });
  }

  test('thousands of back-to-back jobs of varying sizes, oversubscribed, complete with the same results', { timeout: 300_000 }, async () => {
    // Threads that are preempted between reading a ticket and reading a job's slots must never run (or count) a chunk
    // of the next job: gemms and element-wise jobs of 1 to 17 chunks alternate, on more threads than cores, sleeping at once.
    const run = async (options: FastContextOptions): Promise<Uint8Array> => {
      const ctx = await createFastContext({ ...options, minParallelFlops: 0, minParallelElements: 0 });
      const host = inputs(48, 40, 64, 11);
      const a = ctx.alloc(host.a.length), b = ctx.alloc(host.b.length), c = ctx.alloc(48 * 64);
      a.set(host.a);
      b.set(host.b);
      const w = ctx.alloc(5 * 16384 + 3).fill(1), g = ctx.alloc(w.length).fill(0.5), v = ctx.alloc(w.length);
      const y = ctx.alloc(48 * 64);
      for (let i = 0; i < 1500; i++) {
        ctx.gemm(i % 3 === 0 ? 'nn' : 'tn', 48, 40, i % 2 === 0 ? 64 : 8, a, b, c, i % 5 === 0);
        ctx.ops.update({ kind: 'momentum', learningRate: 1e-3, momentum: 0.9, nesterov: false }, w, g, null, v, i % 4 === 0 ? 16 : w.length, null);
        ctx.ops.activationForward('relu', c, b, y, 48, 64, 0, null);
      }
      const out = new Uint8Array([...new Uint8Array(c.slice().buffer), ...new Uint8Array(w.slice().buffer), ...new Uint8Array(y.slice().buffer)]);
      await ctx.close();
      return out;
    };
    const one = await run({ threads: 1 });
    assert.deepEqual(await run({ threads: 3, spinMicros: 0 }), one);
    assert.deepEqual(await run({ threads: 2, spinMicros: 20 }), one);
  });

  test('a context created inside a worker thread works (its caller may sleep) and matches the main thread', async () => {
    const [M, K, N] = [96, 200, 150];
    const host = inputs(M, K, N, 3);
    const ctx = await createFastContext({ threads: 1 });
    const a = ctx.alloc(M * K), b = ctx.alloc(K * N), c = ctx.alloc(M * N);
    a.set(host.a);
    b.set(host.b);
    ctx.gemm('nn', M, K, N, a, b, c, false);
    const expected = new Uint8Array(c.slice().buffer);
    await ctx.close();

    // The worker registers tsx itself (a worker does not inherit tsx's module hooks on Node 20), then imports the engine.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        (await import(workerData.tsx)).register();
        const { createFastContext } = await import(workerData.engine);
        const out = [];
        for (const spinMicros of [150, 0]) {
          const ctx = await createFastContext({ threads: 2, minParallelFlops: 0, spinMicros });
          const { M, K, N } = workerData;
          const a = ctx.alloc(M * K), b = ctx.alloc(K * N), c = ctx.alloc(M * N);
          a.set(workerData.a); b.set(workerData.b);
          ctx.gemm('nn', M, K, N, a, b, c, false);
          out.push({ threads: ctx.threads, bytes: new Uint8Array(c.slice().buffer) });
          await ctx.close();
        }
        parentPort.postMessage({ out });
      })().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));`;
    const worker = new Worker(source, {
      eval: true,
      workerData: {
        tsx: import.meta.resolve('tsx/esm/api'),
        engine: new URL('../../src/engine/fast-context.ts', import.meta.url).href,
        M, K, N, a: host.a, b: host.b,
      },
    });
    const reply = await new Promise<{ error?: string; out?: { threads: number; bytes: Uint8Array }[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(reply.error, undefined, reply.error);
    assert.equal(reply.out!.length, 2);
    for (const { threads, bytes } of reply.out!) {
      assert.equal(threads, 2);
      assert.deepEqual(bytes, expected);
    }
  });

  test("a pool thread's failure reaches the caller as an error; a failed job does not break the pool", async () => {
    const shared = new SharedMemory({ initialMiB: 4, maxMiB: 4 });
    const loaded = loadGemmModule('simd');
    const kernel = instantiateGemm(loaded, shared.memory);
    const end = 4 * 2 ** 20;
    const [M, K, N] = [64, 64, 512];
    const a = shared.allocFloat32(M * K, 'a').fill(1), b = shared.allocFloat32(K * N, 'b').fill(1), c = shared.allocFloat32(M * N, 'c');
    const job = { form: 0, M, K, N, a: a.byteOffset, b: b.byteOffset, c: c.byteOffset, accumulate: false };
    const plan = planChunks(M, N, 16); // many chunks, so a spinning pool thread surely claims some

    // Thread 1's scratch lies past the end of the memory, so every chunk it computes traps.
    const broken = await ThreadPool.start(
      { helpers: 1, kernel: loaded, memory: shared.memory, scratch: [shared.reserve(kernel.scratchBytes, 'scratch'), end], spinMicros: 1000 }, kernel);
    let failure: unknown;
    // Until thread 1 has claimed a chunk (a busy machine may keep it off the CPU for a while).
    for (const deadline = Date.now() + 60_000; !failure && Date.now() < deadline;) {
      try {
        broken.run(job, plan);
      } catch (error) {
        failure = error;
      }
    }
    await broken.close();
    assert.ok(failure instanceof Error, 'thread 1 never reported its failure');
    assert.match(failure.message, /thread 1.*out of bounds/s);

    const scratch = [shared.reserve(kernel.scratchBytes, 'scratch'), shared.reserve(kernel.scratchBytes, 'scratch')];
    const pool = await ThreadPool.start({ helpers: 1, kernel: loaded, memory: shared.memory, scratch, spinMicros: 1000 }, kernel);
    assert.throws(() => pool.run({ ...job, c: end - 64 }, plan), /out of bounds/);
    pool.run(job, plan);
    assert.ok(c.every((x) => x === K));
    await pool.close();
  });

  test('close() ends the threads: the context refuses work, and a process exits after closing', async () => {
    const ctx = await createFastContext({ threads: 2 });
    await ctx.close();
    await ctx.close(); // idempotent
    assert.throws(() => ctx.gemm('nn', 1, 1, 1, ctx.alloc(1), ctx.alloc(1), ctx.alloc(1), false), /closed/);

    const engine = new URL('../../src/engine/fast-context.ts', import.meta.url).href;
    const script = `
      import { createFastContext } from ${JSON.stringify(engine)};
      const ctx = await createFastContext({ threads: 2, minParallelFlops: 0 });
      const a = ctx.alloc(64 * 64).fill(1), c = ctx.alloc(64 * 64);
      ctx.gemm('nn', 64, 64, 64, a, a, c, false);
      await ctx.close();
      console.log('closed', c[0]);`;
    const run = promisify(execFile);
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));
    // Both ways the project runs TypeScript: `node --import tsx` (tests) and the tsx CLI (npm scripts).
    for (const launcher of [['--import', 'tsx'], [tsxCli]]) {
      const { stdout } = await run(process.execPath, [...launcher, '--input-type=module', '-e', script], { cwd, timeout: 120_000 }); // tsx compiles the engine first: seconds, more on a loaded machine
      assert.equal(stdout.trim(), 'closed 64', launcher.join(' '));
    }
  });
});
