/**
 * How many engine threads one job gets in a worker that runs up to WORKER_CONCURRENCY jobs at once.
 *
 * The worker's ENGINE_THREADS are split evenly between its job slots (a slot never gets fewer than 1), and a job whose
 * steps are too small to split gets 1 thread whatever its share: below about MIN_WORK_PER_THREAD multiply-adds per
 * step, handing rows to another thread and waiting for it costs more than the work itself (a CS231n spiral net,
 * 2-100-3 on 300 rows, is about 0.2 M per step). So with concurrency 2 on 2 cores, two spiral jobs train side by side
 * on one core each, and a single MNIST job gets its 1 core slot; with concurrency 1 a large job gets every core.
 */

/** Multiply-adds of one training step below which a second thread does not pay. */
export const MIN_WORK_PER_THREAD = 2_000_000;

export interface ThreadShareInput {
  /** ENGINE_THREADS of the worker. */
  engineThreads: number;
  /** WORKER_CONCURRENCY of the worker. */
  concurrency: number;
  /** Weights of the network (about the multiply-adds per row of a forward pass). */
  parameterCount: number;
  /** Rows per step. */
  batchRows: number;
}

export function threadsForJob({ engineThreads, concurrency, parameterCount, batchRows }: ThreadShareInput): number {
  const share = Math.max(1, Math.floor(engineThreads / Math.max(1, concurrency)));
  // Forward and backward passes: about 3 multiply-adds per weight and row.
  const work = 3 * parameterCount * batchRows;
  const useful = Math.max(1, Math.floor(work / MIN_WORK_PER_THREAD));
  return Math.min(share, useful);
}
