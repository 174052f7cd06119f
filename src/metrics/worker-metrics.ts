/**
 * A worker process's metrics, served on its own port (./metrics-server.ts, WORKER_METRICS_PORT; 0: off):
 *   trainyard_worker_busy                          1 while this worker trains a job, else 0
 *   trainyard_training_steps_total                 optimizer steps trained by this worker (all jobs; rate() of it is steps/s)
 *   trainyard_training_steps_per_second            steps/s over the last metrics window of the running job (0 when idle)
 *   trainyard_training_samples_per_second          training rows/s over the last metrics window, as the trainer measured
 *                                                  it (the record's samplesPerSec; 0 when idle)
 *   trainyard_worker_write_duration_seconds{kind,outcome}
 *                                                  each attempt of a fenced Postgres write of the job: kind `metrics`
 *                                                  (a batch of records), `checkpoint` (with its records), `result`,
 *                                                  `failure`, `cancel`, `hand-back`, `load inputs`; outcome ok | error
 * plus the standard process metrics (./process-metrics.ts).
 *
 * The training code calls in with one line each (src/training/job-run.ts): {@link observeTrainerMessage} for every
 * message of the trainer thread, as it arrives on the main thread (before it is written: a slow write does not skew
 * the rates), and {@link timedWrite} around each write attempt. Process-wide: a worker process runs one job at a time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricRecord } from '../queue/job-events.js';
import { processRegistry } from './process-metrics.js';

const own = new Registry();
const registers = [own];

const busy = new Gauge({ name: 'trainyard_worker_busy', help: '1 while this worker trains a job, else 0', registers });
const steps = new Counter({ name: 'trainyard_training_steps_total', help: 'Optimizer steps trained by this worker process (all jobs)', registers });
const stepsPerSecond = new Gauge({
  name: 'trainyard_training_steps_per_second',
  help: 'Optimizer steps per second of the running job over its last metrics window (0 when idle)',
  registers,
});
const samplesPerSecond = new Gauge({
  name: 'trainyard_training_samples_per_second',
  help: 'Training rows per second of the running job over its last metrics window, as its trainer measured it (0 when idle)',
  registers,
});
const writes = new Histogram({
  name: 'trainyard_worker_write_duration_seconds',
  help: 'Duration of each attempt of a job\'s fenced Postgres writes, by kind (metrics, checkpoint, result, ...) and outcome',
  labelNames: ['kind', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});

/** Every metric of a worker process: its own and the process's. */
export const workerRegistry = Registry.merge([own, processRegistry()]);

/** What the metrics read of a trainer thread's message (src/training/trainer-protocol.ts TrainerMessage). */
export interface ObservedTrainerMessage {
  type: string;
  /** `started`: where the attempt starts; final messages: where it ended. */
  step?: number;
  /** `metrics`: the record. */
  record?: MetricRecord;
}

/** Where the running job was at its previous message: its step, and when (ms, monotonic). */
let last: { step: number; at: number } | null = null;

/** One message of the trainer thread, as it arrives on the worker's main thread. */
export function observeTrainerMessage(message: ObservedTrainerMessage, now: number = performance.now()): void {
  if (message.type === 'started' && message.step !== undefined) {
    busy.set(1);
    last = { step: message.step, at: now };
    return;
  }
  if (message.type === 'metrics' && message.record) {
    const { step, samplesPerSec } = message.record;
    const done = last ? step - last.step : 0;
    if (done > 0) steps.inc(done);
    const seconds = last ? (now - last.at) / 1000 : 0;
    if (done > 0 && seconds > 0) stepsPerSecond.set(done / seconds);
    samplesPerSecond.set(samplesPerSec);
    last = { step, at: now };
    return;
  }
  if (message.type === 'finished' || message.type === 'stopped' || message.type === 'diverged' || message.type === 'error') {
    // The steps after the last metrics record (a final message carries the step it ended at; an error does not).
    if (last && message.step !== undefined && message.step > last.step) steps.inc(message.step - last.step);
    busy.set(0);
    stepsPerSecond.set(0);
    samplesPerSecond.set(0);
    last = null;
  }
}

/** Runs one attempt of a job's write, timing it as `kind`. */
export async function timedWrite<T>(kind: string, write: () => Promise<T>): Promise<T> {
  const end = writes.startTimer({ kind });
  try {
    const result = await write();
    end({ outcome: 'ok' });
    return result;
  } catch (error) {
    end({ outcome: 'error' });
    throw error;
  }
}
