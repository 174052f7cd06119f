/**
 * The loop a pool thread runs: wait for a new job (spin briefly on the ticket, then sleep in Atomics.wait, which is
 * allowed here because this is never a process's main thread), help compute its chunks, repeat until Stop.
 */
import type { GemmKernel, GemmModule } from './kernels/gemm-wasm.js';
import type { NativeGemmSpec } from './kernels/native-gemm.js';
import { generationOf, runChunks, Slot, type Control } from './pool-protocol.js';

/** What pool.ts hands each thread (structured-cloned; the memory and control block are shared, not copied). */
export interface PoolThreadData {
  readonly kernel: GemmModule;
  /** The native GEMM to run instead of the kernel's, if any (see kernels/native-gemm.ts). */
  readonly native: NativeGemmSpec | null;
  readonly memory: WebAssembly.Memory;
  readonly control: SharedArrayBuffer;
  /** 1.. (0 is the caller). */
  readonly index: number;
  /** Address of this thread's kernel scratch in the shared memory. */
  readonly scratch: number;
  /** How long to spin on the ticket before sleeping, in microseconds. */
  readonly spinMicros: number;
}

/** Messages from a pool thread to its parent. */
export type ThreadMessage =
  /** The kernel is instantiated; the thread is serving jobs. */
  | { readonly type: 'ready' }
  /** The thread itself failed and is ending. */
  | { readonly type: 'fatal'; readonly message: string };

/** Returns once the ticket differs from `ticket`: spins for `spinMicros`, then sleeps until notified. */
function awaitTicketChange(ints: Int32Array, ticket: number, spinMicros: number): void {
  if (spinMicros > 0) {
    const deadline = performance.now() + spinMicros / 1000;
    for (let i = 1; ; i++) {
      if (Atomics.load(ints, Slot.Ticket) !== ticket) return;
      if ((i & 127) === 0 && performance.now() > deadline) break;
    }
  }
  Atomics.add(ints, Slot.Sleepers, 1);
  Atomics.wait(ints, Slot.Ticket, ticket);
  Atomics.sub(ints, Slot.Sleepers, 1);
}

export function serveJobs(control: Control, kernel: GemmKernel, data: PoolThreadData): void {
  const ints = control.ints;
  let served = 0;
  for (;;) {
    const ticket = Atomics.load(ints, Slot.Ticket);
    if (generationOf(ticket) === served) {
      awaitTicketChange(ints, ticket, data.spinMicros);
      continue;
    }
    if (Atomics.load(ints, Slot.Stop) !== 0) return;
    served = generationOf(ticket);
    // A failing chunk is recorded in the control block; the gemm that published the job throws it in its caller.
    runChunks(control, kernel, data.scratch, data.index, served);
  }
}
