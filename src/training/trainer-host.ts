/**
 * The main thread's handle on trainer threads. A worker keeps its trainer threads between jobs (TrainerThreads): a
 * thread, with its engine contexts (./engine-contexts.ts), is started once — at worker start for the first job — and
 * runs job after job, so a job does not wait for a thread to start and compile its modules.
 *
 * Per job (TrainerHost): the dataset's arrays are transferred, not copied (or shared, when they come from the worker's
 * dataset cache); messages are delivered in order; stop commands go through the job's control block; a thread that
 * dies without a final message (an uncaught error, out of memory, a non-zero exit) becomes an `error` message, so the
 * caller always gets exactly one final message. A thread whose job ended in an `error` is not reused.
 */
import type { Worker } from 'node:worker_threads';
import { startThread } from '../engine/thread-entry.js';
import type { ContextRequest } from './engine-contexts.js';
import {
  acknowledge, createControlBlock, requestStop, type ControlBlock, type StopCommand, type TrainerInput, type TrainerMessage,
} from './trainer-protocol.js';

const THREAD_ENTRY = new URL('./trainer-thread.ts', import.meta.url);

const FINAL: ReadonlySet<TrainerMessage['type']> = new Set(['finished', 'stopped', 'diverged', 'error']);

/** What a trainer thread is started with: a context to prepare before its first job (null: none). */
export interface TrainerThreadData {
  warm: ContextRequest | null;
}

/** What the main thread sends a trainer thread: one job. */
export interface RunMessage {
  type: 'run';
  input: TrainerInput;
}

export interface TrainerHost {
  readonly control: ControlBlock;
  stop(command: Exclude<StopCommand, 0>): void;
  /** One write message is committed (or dropped): lets the trainer run further ahead. */
  acknowledge(checkpoint: boolean): void;
  /** Resolves once the job is over on its thread (final message delivered, or the thread gone). */
  readonly exited: Promise<void>;
  /** Stops the thread at once (after a failure on the main thread); it is not reused. */
  terminate(): Promise<void>;
}

interface TrainerThread {
  readonly worker: Worker;
  /** The job it runs now. */
  job: ((message: TrainerMessage) => void) | null;
  gone: boolean;
  readonly exited: Promise<void>;
}

export class TrainerThreads {
  private readonly idle: TrainerThread[] = [];
  private readonly all = new Set<TrainerThread>();
  private closed = false;
  private started = 0;

  /** `warm`: the engine context each new thread prepares at start (the common job's threads and kernel). */
  constructor(private readonly warm: ContextRequest | null = null) {}

  /** Starts `count` idle threads now, so that the first jobs find them ready. */
  prestart(count: number): void {
    while (this.idle.length < count) this.idle.push(this.spawn());
  }

  start(input: Omit<TrainerInput, 'control'>, onMessage: (message: TrainerMessage) => void): TrainerHost {
    if (this.closed) throw new Error('trainer threads: closed');
    const thread = this.idle.pop() ?? this.spawn();
    const control = createControlBlock();
    let final = false;
    let finish!: () => void;
    const exited = new Promise<void>((resolve) => (finish = resolve));
    const done = (reuse: boolean) => {
      thread.job = null;
      thread.worker.unref();
      if (reuse && !thread.gone && !this.closed) this.idle.push(thread);
      else void this.discard(thread);
      finish();
    };
    thread.job = (message) => {
      if (final) return;
      if (FINAL.has(message.type)) final = true;
      onMessage(message);
      if (final) done(message.type !== 'error');
    };
    const transferList = [input.dataset.x.buffer, input.dataset.y.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    const run: RunMessage = { type: 'run', input: { ...input, control } };
    thread.worker.ref(); // a running job keeps the process alive; an idle thread does not
    thread.worker.postMessage(run, transferList);
    return {
      control,
      stop: (command) => requestStop(control, command),
      acknowledge: (checkpoint) => acknowledge(control, checkpoint),
      exited,
      terminate: async () => {
        final = true;
        await this.discard(thread);
        finish();
      },
    };
  }

  /** Threads started so far, and those idle now. */
  stats(): { started: number; idle: number } {
    return { started: this.started, idle: this.idle.length };
  }

  /** Stops every thread (a running job's thread too: its job gets an `error` message). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((t) => this.discard(t)));
  }

  private spawn(): TrainerThread {
    const workerData: TrainerThreadData = { warm: this.warm };
    const worker = startThread(THREAD_ENTRY, { workerData, name: 'trainer' });
    this.started++;
    let markExited!: () => void;
    const thread: TrainerThread = { worker, job: null, gone: false, exited: new Promise<void>((resolve) => (markExited = resolve)) };
    this.all.add(thread);
    worker.on('message', (message: TrainerMessage) => thread.job?.(message));
    worker.on('error', (error) => {
      thread.gone = true;
      thread.job?.({ type: 'error', message: `trainer thread failed: ${error.message}`, stack: error.stack ?? null });
    });
    worker.on('exit', (code) => {
      thread.gone = true;
      this.all.delete(thread);
      const at = this.idle.indexOf(thread);
      if (at >= 0) this.idle.splice(at, 1);
      thread.job?.({ type: 'error', message: `trainer thread exited without a result (code ${code})`, stack: null });
      markExited();
    });
    // An idle thread must not keep the process alive.
    worker.unref();
    return thread;
  }

  private async discard(thread: TrainerThread): Promise<void> {
    const at = this.idle.indexOf(thread);
    if (at >= 0) this.idle.splice(at, 1);
    if (!thread.gone) {
      thread.gone = true;
      await thread.worker.terminate();
    }
    await thread.exited;
  }
}

/** One job on a thread of its own, stopped after the job (tests, tools). */
export function startTrainer(input: Omit<TrainerInput, 'control'>, onMessage: (message: TrainerMessage) => void): TrainerHost {
  const threads = new TrainerThreads();
  const host = threads.start(input, onMessage);
  void host.exited.then(() => threads.close());
  return host;
}
