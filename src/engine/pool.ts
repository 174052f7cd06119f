/**
 * A pool of worker_threads that compute the chunks of a job together with the calling thread, all over one shared
 * WebAssembly.Memory: a GEMM (gemm-plan.ts cuts C into chunks) or an element-wise pass (ops-wasm.ts). See
 * pool-protocol.ts for the job protocol.
 *
 * Synchronization costs microseconds, not milliseconds: idle pool threads spin on the ticket for `spinMicros` before
 * sleeping in Atomics.wait, and the caller spins on Atomics.load while the others finish their last chunks. A caller
 * that is a process's main thread never calls Atomics.wait (it would block the event loop); a caller that is itself a
 * worker thread spins for `spinMicros`, then sleeps.
 *
 * Errors: a chunk that throws is recorded in the control block and rethrown by the gemm that ran it, in its caller.
 * A thread that dies (a 'fatal' message, an 'error' or an unexpected 'exit' event) makes every later gemm throw that
 * failure. (A thread dying in the middle of a chunk it claimed would leave that gemm waiting: the chunk loop catches
 * everything a kernel can throw, so only the runtime killing the thread could do that.)
 * Once started, the threads are unref'd: they never keep the process alive. close() stops them and resolves once they
 * have exited.
 */
import { isMainThread, type Worker } from 'node:worker_threads';
import { startThread } from './thread-entry.js';
import type { ChunkPlan } from './gemm-plan.js';
import type { GemmKernel, GemmModule } from './kernels/gemm-wasm.js';
import type { NativeGemmSpec } from './kernels/native-gemm.js';
import {
  createControl, generationOf, JobKind, MAX_CHUNKS, nextGeneration, retiredTicketOf, runChunks, Slot, takeError, ticketOf,
  type Control,
} from './pool-protocol.js';
import type { PoolThreadData, ThreadMessage } from './pool-thread-loop.js';

export interface PoolOptions {
  /** Threads to start besides the caller (≥ 1). */
  readonly helpers: number;
  /** The compiled kernel every thread instantiates. */
  readonly kernel: GemmModule;
  /** The native GEMM every thread runs instead of the kernel's (its element-wise kernels stay), if any. */
  readonly native?: NativeGemmSpec | undefined;
  /** The shared memory the kernels run on. */
  readonly memory: WebAssembly.Memory;
  /** Scratch address of each thread, index 0 for the caller (length helpers + 1). */
  readonly scratch: readonly number[];
  /** Microseconds an idle thread (or a worker-thread caller) spins before sleeping; 0 = sleep at once. */
  readonly spinMicros: number;
}

/** One gemm in kernel terms: form code, sizes, byte addresses of A, B and C in the shared memory. */
export interface GemmJob {
  readonly form: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly accumulate: boolean;
  /** What happens to C once K is reduced (EPILOGUE in kernels/gemm-wasm.ts); default none. */
  readonly epilogue?: number;
  /** Byte address of the epilogue's bias (N f32). */
  readonly bias?: number;
}

const THREAD_ENTRY = new URL('./pool-thread.ts', import.meta.url);

export class ThreadPool {
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private generation = 0;

  private constructor(
    private readonly control: Control,
    private readonly workers: readonly Worker[],
    private readonly exited: Promise<void>,
    private readonly callerKernel: GemmKernel,
    private readonly callerScratch: number,
    private readonly spinMicros: number,
  ) {
    workers.forEach((worker, i) => {
      worker.on('message', (message: ThreadMessage) => {
        if (message.type === 'fatal') this.fail(new Error(`engine thread ${i + 1} failed: ${message.message}`));
      });
      worker.on('error', (error) => this.fail(new Error(`engine thread ${i + 1} failed: ${error.message}`, { cause: error })));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`engine thread ${i + 1} exited unexpectedly (code ${code})`));
      });
    });
  }

  /** Starts the threads and resolves once each has instantiated its kernel; rejects (stopping them all) if one fails. */
  static async start(options: PoolOptions, callerKernel: GemmKernel): Promise<ThreadPool> {
    const control = createControl();
    const workers: Worker[] = [];
    const exits: Promise<void>[] = [];
    const readies: Promise<void>[] = [];
    for (let index = 1; index <= options.helpers; index++) {
      const workerData: PoolThreadData = {
        kernel: options.kernel,
        native: options.native ?? null,
        memory: options.memory,
        control: control.ints.buffer as SharedArrayBuffer,
        index,
        scratch: options.scratch[index]!,
        spinMicros: options.spinMicros,
      };
      const worker = startThread(THREAD_ENTRY, { workerData, name: `trainyard-engine-${index}` });
      workers.push(worker);
      exits.push(new Promise((resolve) => worker.once('exit', () => resolve())));
      readies.push(new Promise((resolve, reject) => {
        worker.on('message', (message: ThreadMessage) => {
          if (message.type === 'ready') resolve();
          else reject(new Error(`engine thread ${index} failed to start: ${message.message}`));
        });
        worker.once('error', (error) => reject(new Error(`engine thread ${index} failed to start: ${error.message}`, { cause: error })));
        worker.once('exit', (code) => reject(new Error(`engine thread ${index} exited while starting (code ${code})`)));
      }));
    }
    const exited = Promise.all(exits).then(() => undefined);
    const pool = new ThreadPool(control, workers, exited, callerKernel, options.scratch[0]!, options.spinMicros);
    try {
      await Promise.all(readies);
      for (const worker of workers) worker.unref();
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Threads in a job: the caller and every pool thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Computes `job` cut as `plan`, on the caller and the pool threads; returns when all of C is written. */
  run(job: GemmJob, plan: ChunkPlan): void {
    this.checkUsable();
    this.retire();
    const ints = this.control.ints;
    ints[Slot.Kind] = JobKind.Gemm;
    ints[Slot.Form] = job.form;
    ints[Slot.M] = job.M;
    ints[Slot.K] = job.K;
    ints[Slot.N] = job.N;
    ints[Slot.A] = job.a;
    ints[Slot.B] = job.b;
    ints[Slot.C] = job.c;
    ints[Slot.Accumulate] = job.accumulate ? 1 : 0;
    ints[Slot.Epilogue] = job.epilogue ?? 0;
    ints[Slot.Bias] = job.bias ?? 0;
    ints[Slot.ChunkRows] = plan.chunkRows;
    ints[Slot.ChunkCols] = plan.chunkCols;
    ints[Slot.ColChunks] = plan.colChunks;
    ints[Slot.Chunks] = plan.chunks;
    this.runJob(plan.chunks, 'gemm');
  }

  /**
   * Runs chunks 0 … chunks − 1 of the element-wise job `job` (kernel.ops.runChunk) whose argument block is at `args`,
   * on the caller and the pool threads; returns when all are done.
   */
  runOps(job: number, args: number, chunks: number): void {
    this.checkUsable();
    if (!Number.isInteger(chunks) || chunks < 1 || chunks > MAX_CHUNKS) throw new RangeError(`engine: ${chunks} chunks (1 to ${MAX_CHUNKS})`);
    this.retire();
    const ints = this.control.ints;
    ints[Slot.Kind] = JobKind.Ops;
    ints[Slot.OpsJob] = job;
    ints[Slot.OpsArgs] = args;
    ints[Slot.Chunks] = chunks;
    this.runJob(chunks, 'element-wise');
  }

  /** Makes every claim on the previous job fail from now on, before its slots are overwritten (see pool-protocol.ts). */
  private retire(): void {
    Atomics.store(this.control.ints, Slot.Ticket, retiredTicketOf(this.generation));
  }

  private checkUsable(): void {
    if (this.closing) throw new Error('engine: the compute context is closed');
    if (this.failure) throw this.failure;
  }

  /** Publishes the job written in the slots, computes chunks with the others, waits for all, rethrows a failure. */
  private runJob(chunks: number, what: string): void {
    Atomics.store(this.control.ints, Slot.Done, 0);
    this.publish(chunks);
    runChunks(this.control, this.callerKernel, this.callerScratch, 0, this.generation);
    this.awaitDone(chunks);
    const error = takeError(this.control);
    if (error) throw new Error(`engine: ${what} chunk failed in thread ${error.thread}: ${error.message}`);
  }

  /** Stops the threads; resolves once all have exited. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      Atomics.store(this.control.ints, Slot.Stop, 1);
      this.publish(0);
      for (const worker of this.workers) worker.ref(); // so that awaiting close() keeps the process alive until they exit
      this.closing = this.exited;
    }
    return this.closing;
  }

  private publish(chunks: number): void {
    const ints = this.control.ints;
    this.generation = nextGeneration(generationOf(Atomics.load(ints, Slot.Ticket)));
    Atomics.store(ints, Slot.Ticket, ticketOf(this.generation, 0));
    if (chunks === 0 || Atomics.load(ints, Slot.Sleepers) > 0) Atomics.notify(ints, Slot.Ticket);
  }

  /** Waits until `chunks` chunks are done: spinning only on a main thread, spinning then sleeping on a worker thread. */
  private awaitDone(chunks: number): void {
    const ints = this.control.ints;
    if (Atomics.load(ints, Slot.Done) === chunks) return;
    if (isMainThread) {
      while (Atomics.load(ints, Slot.Done) !== chunks);
      return;
    }
    const deadline = performance.now() + this.spinMicros / 1000;
    for (let i = 1; Atomics.load(ints, Slot.Done) !== chunks; i++) {
      if ((i & 127) === 0 && performance.now() > deadline) {
        Atomics.store(ints, Slot.CallerWaiting, 1);
        for (let done = Atomics.load(ints, Slot.Done); done !== chunks; done = Atomics.load(ints, Slot.Done)) {
          Atomics.wait(ints, Slot.Done, done);
        }
        Atomics.store(ints, Slot.CallerWaiting, 0);
        return;
      }
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
  }
}
