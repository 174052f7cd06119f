/**
 * The main thread's handle on a trainer thread: starts it with the job (the dataset's arrays are transferred, not
 * copied), delivers its messages in order, sends stop commands through the control block, and turns a thread that
 * dies without a final message (an uncaught error, out of memory, a non-zero exit) into an `error` message, so the
 * caller always gets exactly one final message.
 */
import { startThread } from '../engine/thread-entry.js';
import {
  acknowledge, createControlBlock, requestStop, type ControlBlock, type StopCommand, type TrainerInput, type TrainerMessage,
} from './trainer-protocol.js';

const THREAD_ENTRY = new URL('./trainer-thread.ts', import.meta.url);

const FINAL: ReadonlySet<TrainerMessage['type']> = new Set(['finished', 'stopped', 'diverged', 'error']);

export interface TrainerHost {
  readonly control: ControlBlock;
  stop(command: Exclude<StopCommand, 0>): void;
  /** One write message is committed (or dropped): lets the trainer run further ahead. */
  acknowledge(checkpoint: boolean): void;
  /** Resolves once the thread has exited. */
  readonly exited: Promise<void>;
  /** Stops the thread at once (after a failure on the main thread). */
  terminate(): Promise<void>;
}

export function startTrainer(input: Omit<TrainerInput, 'control'>, onMessage: (message: TrainerMessage) => void): TrainerHost {
  const control = createControlBlock();
  const workerData: TrainerInput = { ...input, control };
  const transferList = [input.dataset.x.buffer, input.dataset.y.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  const worker = startThread(THREAD_ENTRY, { workerData, transferList, name: `trainer ${input.jobId}` });
  let final = false;
  const deliver = (message: TrainerMessage) => {
    if (final) return;
    if (FINAL.has(message.type)) final = true;
    onMessage(message);
  };
  worker.on('message', (message: TrainerMessage) => deliver(message));
  worker.on('error', (error) => deliver({ type: 'error', message: `trainer thread failed: ${error.message}`, stack: error.stack ?? null }));
  const exited = new Promise<void>((resolve) => {
    worker.on('exit', (code) => {
      deliver({ type: 'error', message: `trainer thread exited without a result (code ${code})`, stack: null });
      resolve();
    });
  });
  return {
    control,
    stop: (command) => requestStop(control, command),
    acknowledge: (checkpoint) => acknowledge(control, checkpoint),
    exited,
    async terminate() {
      final = true;
      await worker.terminate();
      await exited;
    },
  };
}
