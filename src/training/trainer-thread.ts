/**
 * Entry point of a trainer thread (started by ./trainer-host.ts through src/engine/thread-entry.ts): runs
 * the job it was given and reports to its parent. Any error is sent to the parent as an `error` message, never lost.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainer, type Post } from './run-trainer.js';
import type { TrainerInput } from './trainer-protocol.js';

const post: Post = (message, transfer = []) => parentPort!.postMessage(message, transfer);
try {
  await runTrainer(workerData as TrainerInput, post);
} catch (error) {
  post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? (error.stack ?? null) : null });
}
