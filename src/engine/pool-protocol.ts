/**
 * What the calling thread and the pool threads share to run one job together: a small control block of Int32 slots
 * (plus a text area for an error message) in its own SharedArrayBuffer, and the chunk loop every participant runs.
 *
 * A job is one gemm — C(M,N) cut into a grid of chunks (rowChunks × colChunks, see gemm-plan.ts) — or one chunked
 * element-wise pass (an update, an activation forward or backward; see runChunk in kernels/assembly/ops.ts), whose
 * arguments sit in an f64 block in the shared memory. The caller retires the previous job (its ticket's index set past
 * any chunk: retiredTicketOf), writes the job's slots, then publishes it by storing a new ticket =
 * (generation << 12) | 0. Every participant claims chunks by compare-exchanging the ticket from (generation, q) to
 * (generation, q + 1) and computes chunk q. The generation in the ticket makes a late thread's claim on a finished job
 * fail instead of stealing a chunk of the next one; the retirement covers a late thread that read the finished job's
 * ticket but the next job's slots (its chunk count could otherwise let it claim "chunk q" of the old generation, run it
 * with the new job's arguments and count it in the new job's Done — which then never equals the chunk count). Each
 * chunk is computed entirely by the thread that claimed it, with arithmetic that does not depend on which thread that is.
 */
import type { GemmKernel } from './kernels/gemm-wasm.js';

/** Slots of the control block. */
export const Slot = {
  /** (generation << 12) | next unclaimed chunk. */
  Ticket: 0,
  /** Chunks of the current job finished (computed or failed). */
  Done: 1,
  /** Pool threads blocked in Atomics.wait on Ticket. */
  Sleepers: 2,
  /** 1 once the pool is closing. */
  Stop: 3,
  /** 0, or 1 + index of the first thread whose chunk failed in the current job. */
  Error: 4,
  /** Bytes of the error message in the text area. */
  ErrorLength: 5,
  /** 1 while a caller that may sleep waits for Done. */
  CallerWaiting: 6,
  // The job:
  /** JobKind.Gemm or JobKind.Ops. */
  Kind: 7,
  Form: 8, M: 9, K: 10, N: 11, A: 12, B: 13, C: 14, Accumulate: 15,
  ChunkRows: 16, ChunkCols: 17, ColChunks: 18, Chunks: 19,
  /** Ops jobs: the job code of runChunk, and the byte address of its argument block. */
  OpsJob: 20, OpsArgs: 21,
  /** Gemm jobs: the epilogue code and the bias address (see gemmBlock). */
  Epilogue: 22, Bias: 23,
} as const;

/** What a job computes. */
export const JobKind = {
  Gemm: 0,
  /** Chunks of kernel.ops.runChunk(OpsJob, OpsArgs, q). */
  Ops: 1,
} as const;

const SLOTS = 32;
const ERROR_TEXT_BYTES = 2048;
const INDEX_BITS = 12;
const INDEX_MASK = (1 << INDEX_BITS) - 1;
const GENERATION_MASK = (1 << (32 - INDEX_BITS)) - 1;

/** The most chunks one job may have. */
export const MAX_CHUNKS = INDEX_MASK;

export interface Control {
  readonly ints: Int32Array;
  readonly text: Uint8Array;
}

export function createControl(): Control {
  const sab = new SharedArrayBuffer(SLOTS * 4 + ERROR_TEXT_BYTES);
  return controlOver(sab);
}

export function controlOver(sab: SharedArrayBuffer): Control {
  return { ints: new Int32Array(sab, 0, SLOTS), text: new Uint8Array(sab, SLOTS * 4, ERROR_TEXT_BYTES) };
}

export const generationOf = (ticket: number): number => ticket >>> INDEX_BITS;
export const nextGeneration = (generation: number): number => (generation + 1) & GENERATION_MASK || 1;
export const ticketOf = (generation: number, chunk: number): number => (generation << INDEX_BITS) | chunk;
/** The ticket of a finished job of this generation: its index is past every chunk, so no claim on it succeeds. */
export const retiredTicketOf = (generation: number): number => ticketOf(generation, INDEX_MASK);

/** Records the first failure of the current job (later ones are dropped). */
export function recordError(control: Control, thread: number, error: unknown): void {
  if (Atomics.compareExchange(control.ints, Slot.Error, 0, thread + 1) !== 0) return;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const { written } = new TextEncoder().encodeInto(message, control.text);
  Atomics.store(control.ints, Slot.ErrorLength, written);
}

/** The message of the current job's failure, or undefined; clears it. Call only after the job is done. */
export function takeError(control: Control): { thread: number; message: string } | undefined {
  const who = Atomics.load(control.ints, Slot.Error);
  if (who === 0) return undefined;
  const length = Atomics.load(control.ints, Slot.ErrorLength);
  const message = new TextDecoder().decode(control.text.slice(0, length));
  Atomics.store(control.ints, Slot.Error, 0);
  return { thread: who - 1, message };
}

/** The next unclaimed chunk of job `generation`, claimed; −1 when none is left (or a newer job replaced this one). */
function claim(ints: Int32Array, generation: number, chunks: number): number {
  for (;;) {
    const ticket = Atomics.load(ints, Slot.Ticket);
    const q = ticket & INDEX_MASK;
    if (generationOf(ticket) !== generation || q >= chunks) return -1;
    if (Atomics.compareExchange(ints, Slot.Ticket, ticket, ticket + 1) === ticket) return q;
  }
}

/** Counts a finished chunk, waking a caller that sleeps on the last one. */
function chunkDone(ints: Int32Array, chunks: number): void {
  if (Atomics.add(ints, Slot.Done, 1) + 1 === chunks && Atomics.load(ints, Slot.CallerWaiting) !== 0) {
    Atomics.notify(ints, Slot.Done);
  }
}

/**
 * Claims and computes chunks of job `generation` until none is left (or a newer job replaced it).
 * `thread` is 0 for the caller, 1.. for pool threads; `scratch` is that thread's own.
 */
export function runChunks(control: Control, kernel: GemmKernel, scratch: number, thread: number, generation: number): void {
  const ints = control.ints;
  if (ints[Slot.Kind] === JobKind.Ops) {
    runOpsChunks(control, kernel, thread, generation);
    return;
  }
  const form = ints[Slot.Form]!, M = ints[Slot.M]!, K = ints[Slot.K]!, N = ints[Slot.N]!;
  const a = ints[Slot.A]! >>> 0, b = ints[Slot.B]! >>> 0, c = ints[Slot.C]! >>> 0, accumulate = ints[Slot.Accumulate]!;
  const chunkRows = ints[Slot.ChunkRows]!, chunkCols = ints[Slot.ChunkCols]!, colChunks = ints[Slot.ColChunks]!;
  const chunks = ints[Slot.Chunks]!;
  const epilogue = ints[Slot.Epilogue]!, bias = ints[Slot.Bias]! >>> 0;
  for (let q = claim(ints, generation, chunks); q >= 0; q = claim(ints, generation, chunks)) {
    const row0 = Math.floor(q / colChunks) * chunkRows;
    const col0 = (q % colChunks) * chunkCols;
    try {
      kernel.gemmBlock(
        form, M, K, N, a, b, c, accumulate, row0, Math.min(M, row0 + chunkRows), col0, Math.min(N, col0 + chunkCols), scratch, epilogue, bias,
      );
    } catch (error) {
      recordError(control, thread, error);
    }
    chunkDone(ints, chunks);
  }
}

/** runChunks for an element-wise job: chunk q is kernel.ops.runChunk(job, args, q). */
function runOpsChunks(control: Control, kernel: GemmKernel, thread: number, generation: number): void {
  const ints = control.ints;
  const job = ints[Slot.OpsJob]!, args = ints[Slot.OpsArgs]! >>> 0, chunks = ints[Slot.Chunks]!;
  for (let q = claim(ints, generation, chunks); q >= 0; q = claim(ints, generation, chunks)) {
    try {
      kernel.ops.runChunk(job, args, q);
    } catch (error) {
      recordError(control, thread, error);
    }
    chunkDone(ints, chunks);
  }
}
