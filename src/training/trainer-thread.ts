/**
 * Entry point of a trainer thread (started by ./trainer-host.ts through src/engine/thread-entry.ts): runs the jobs it
 * is sent, one after another, and reports to its parent. It keeps its engine contexts between jobs
 * (./engine-contexts.ts) and prepares one at start when told which. Any error is sent to the parent as an `error`
 * message, never lost; the parent then stops this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KeptContexts } from './engine-contexts.js';
import { runTrainer, type Post } from './run-trainer.js';
import type { RunMessage, TrainerThreadData } from './trainer-host.js';

const post: Post = (message, transfer = []) => parentPort!.postMessage(message, transfer);
const contexts = new KeptContexts();
const { warm } = workerData as TrainerThreadData;
let queue: Promise<void> = warm ? contexts.prepare(warm).catch(() => undefined) : Promise.resolve();

parentPort!.on('message', (message: RunMessage) => {
  queue = queue.then(async () => {
    try {
      await runTrainer(message.input, post, contexts.acquire);
    } catch (error) {
      post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? (error.stack ?? null) : null });
    }
  });
});
