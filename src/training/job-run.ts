/**
 * One claimed job on the worker's main thread: loads its inputs, starts the trainer thread, turns the trainer's
 * messages into fenced Postgres writes (in order, one at a time) and live events, renews the lease, and relays
 * cancel / hand-back / lease-lost to the trainer. Nothing here blocks: the numerics run in the trainer thread.
 *
 * Order guarantees: messages are handled strictly in the order the trainer sent them, so every metric record up to a
 * checkpoint's step is committed before or with that checkpoint (in its transaction), and everything before the final
 * status. The training-health warnings raised at a record are stored in the same transaction as the record. Events are
 * published after the commit they describe, per record in this order: `metrics`, its new `warning`s (those not stored
 * before: a resumed attempt raises again what the previous one raised after its checkpoint), its `decision` grid.
 * Transient write errors are retried; a lost lease stops the trainer at once and nothing more is written.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db, Job } from '../db/client.js';
import type { DatasetMeta } from '../datasets/types.js';
import type { JobPlan } from '../jobs/plan.js';
import { publishJobEvent, type JobEventInput, type JobWarning } from '../queue/job-events.js';
import type { Redis } from '../queue/redis.js';
import { loadJobInputs } from './job-inputs.js';
import {
  finishCancelled, finishFailed, finishSucceeded, handBackJob, heartbeat, LeaseLostError, writeCheckpoint, writeMetrics, type Lease,
} from './lease.js';
import { modelWrite } from './model-write.js';
import { startTrainer, type TrainerHost } from './trainer-host.js';
import { StopCommand, type TrainerMessage } from './trainer-protocol.js';

export type RunResult =
  | { kind: 'succeeded'; modelId: string }
  | { kind: 'failed'; code: string; reason: string }
  | { kind: 'cancelled' }
  | { kind: 'handed-back' }
  | { kind: 'lease-lost' };

export interface JobRunDeps {
  config: Config;
  db: Db;
  redis: Redis;
  logger: Logger;
}

/** Metric records written per transaction at most, and how long one may wait for others to join it. */
const METRICS_BATCH = 100;
const METRICS_FLUSH_MS = 100;
const WRITE_RETRIES = 3;

export class JobRun {
  readonly jobId: string;
  private host: TrainerHost | null = null;
  /** A stop asked for before the trainer started. */
  private pending: Exclude<StopCommand, 0> | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Metrics messages not written yet (their records, warnings and grids). */
  private metrics: MetricsMessage[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private leaseLost = false;
  private plan: JobPlan | null = null;
  private meta: DatasetMeta | null = null;
  private progress = { step: 0, epoch: 0 };
  private resolveResult!: (result: RunResult) => void;
  private rejectResult!: (error: Error) => void;
  private readonly result = new Promise<RunResult>((resolve, reject) => {
    this.resolveResult = resolve;
    this.rejectResult = reject;
  });

  constructor(private readonly deps: JobRunDeps, readonly lease: Lease, private readonly job: Job) {
    this.jobId = lease.jobId;
    this.progress = { step: job.step, epoch: job.epoch };
  }

  /** Stops the job as cancelled (after the current step). */
  cancel(): void {
    this.command(StopCommand.CANCEL);
  }

  /** Checkpoints at the next metrics record and gives the job back to the queue. */
  handBack(): void {
    this.command(StopCommand.HAND_BACK);
  }

  private command(command: Exclude<StopCommand, 0>): void {
    if (this.host) this.host.stop(command);
    else this.pending ??= command;
  }

  async execute(): Promise<RunResult> {
    const { db, config, logger } = this.deps;
    this.publish({ type: 'status', status: 'running', code: null, reason: null, modelId: null });
    const inputs = await loadJobInputs(db, this.job);
    if (inputs.kind === 'failed') return this.fail(inputs.code, inputs.reason);
    if (this.pending === StopCommand.CANCEL) return this.finishCancelled();
    if (this.pending === StopCommand.HAND_BACK) return this.finishHandBack();
    this.plan = inputs.plan;
    this.meta = inputs.meta;

    const heartbeatMs = Math.max(100, Math.floor(config.worker.lockMs / 2));
    const timer = setInterval(() => void this.beat(), heartbeatMs);
    try {
      const settings = { engineThreads: config.worker.engineThreads, health: config.health, decisionGrid: config.decisionGrid };
      this.host = startTrainer({ ...inputs.trainer, ...settings }, (message) => {
        this.chain = this.chain.then(() => this.handle(message)).catch((error: unknown) => this.abort(error as Error));
      });
      if (this.pending) this.host.stop(this.pending);
      const result = await this.result;
      await this.host.exited;
      return result;
    } catch (error) {
      await this.host?.terminate();
      logger.error({ err: error, jobId: this.jobId }, 'training run aborted');
      throw error;
    } finally {
      clearInterval(timer);
      if (this.flushTimer) clearTimeout(this.flushTimer);
    }
  }

  // ---- messages --------------------------------------------------------------------------------------------------

  private async handle(m: TrainerMessage): Promise<void> {
    const host = this.host!;
    if (this.leaseLost) {
      if (m.type === 'metrics' || m.type === 'checkpoint') host.acknowledge(m.type === 'checkpoint');
      if (m.type !== 'metrics' && m.type !== 'checkpoint' && m.type !== 'started') this.resolveResult({ kind: 'lease-lost' });
      return;
    }
    switch (m.type) {
      case 'started':
        this.deps.logger.info({ jobId: this.jobId, attempt: this.lease.attempt, step: m.step, resumed: m.resumed, kernel: m.flavour, threads: m.threads }, 'training started');
        return;
      case 'metrics':
        this.metrics.push(m);
        if (this.metrics.length >= METRICS_BATCH) await this.flushMetrics();
        else this.flushTimer ??= setTimeout(() => {
          this.chain = this.chain.then(() => this.flushMetrics()).catch((error: unknown) => this.abort(error as Error));
        }, METRICS_FLUSH_MS);
        return;
      case 'checkpoint': {
        // The metric records up to the checkpoint (and their warnings) go in its transaction.
        const batch = this.takeMetrics();
        const best = m.best ? { metric: m.best.metric, metrics: { ...m.best.metrics } } : null;
        const written = await this.write('checkpoint', () => writeCheckpoint(this.deps.db, this.lease, {
          step: m.step, epoch: m.epoch, state: m.state, metric: m.metric, isBest: m.isBest, best,
        }, this.plan!.spec.checkpoints.keep, batch.map((b) => b.record), batch.flatMap((b) => b.warnings)));
        this.progress = { step: m.step, epoch: m.epoch };
        this.committed(batch, written.warnings);
        host.acknowledge(true);
        this.publish({
          type: 'checkpoint', step: m.step, epoch: m.epoch, checkpointId: written.checkpointId, trigger: m.trigger, metric: m.metric, isBest: m.isBest,
          bytes: m.state.byteLength,
        });
        return;
      }
      case 'finished': {
        await this.flushMetrics();
        const modelId = await this.write('result', () => finishSucceeded(this.deps.db, this.lease, modelWrite(m, this.plan!.spec, this.meta!), {
          finalMetrics: { ...m.finalMetrics, outcome: m.outcome }, finalStep: m.step, epoch: m.epoch,
        }));
        this.progress = { step: m.step, epoch: m.epoch };
        this.publish({ type: 'status', status: 'succeeded', code: null, reason: m.outcome === 'early-stopped' ? 'stopped early' : null, modelId });
        this.resolveResult({ kind: 'succeeded', modelId });
        return;
      }
      case 'stopped':
        await this.flushMetrics();
        this.progress = { step: m.step, epoch: m.epoch };
        if (m.reason === 'cancel') this.resolveResult(await this.finishCancelled());
        else if (m.reason === 'hand-back') this.resolveResult(await this.finishHandBack());
        else this.resolveResult({ kind: 'lease-lost' });
        return;
      case 'diverged':
        await this.flushMetrics();
        this.progress = { step: m.step, epoch: m.epoch };
        this.resolveResult(await this.fail('DIVERGED', m.message));
        return;
      case 'error':
        this.deps.logger.error({ jobId: this.jobId, err: { message: m.message, stack: m.stack } }, 'trainer failed');
        await this.flushMetrics();
        this.resolveResult(await this.fail('TRAINING_ERROR', `Training failed: ${m.message}`));
        return;
    }
  }

  private async flushMetrics(): Promise<void> {
    const batch = this.takeMetrics();
    if (batch.length === 0) return;
    const last = batch[batch.length - 1]!.record;
    const records = batch.map((b) => b.record), warnings = batch.flatMap((b) => b.warnings);
    const added = await this.write('metrics', () => writeMetrics(this.deps.db, this.lease, records, { step: last.step, epoch: last.epoch }, warnings));
    this.progress = { step: last.step, epoch: last.epoch };
    this.committed(batch, added);
  }

  /** The buffered metrics messages, now owned by the caller's write. */
  private takeMetrics(): MetricsMessage[] {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const batch = this.leaseLost ? [] : this.metrics;
    this.metrics = [];
    return batch;
  }

  /** After the commit: let the trainer run further ahead, and publish each record, its new warnings and its grid. */
  private committed(batch: readonly MetricsMessage[], added: readonly JobWarning[]): void {
    for (let i = 0; i < batch.length; i++) this.host!.acknowledge(false);
    for (const { record, warnings, decision } of batch) {
      this.publish({ type: 'metrics', step: record.step, epoch: record.epoch, record });
      for (const w of warnings) {
        if (!added.some((a) => a.code === w.code && a.layer === w.layer)) continue; // stored by an earlier attempt
        this.publish({ type: 'warning', step: w.step, code: w.code, layer: w.layer, message: w.message, advice: w.advice });
      }
      if (decision) {
        const { epoch, resolution, xRange, yRange, classes } = decision;
        this.publish({ type: 'decision', step: record.step, epoch, resolution, xRange, yRange, classes });
      }
    }
  }

  // ---- outcomes --------------------------------------------------------------------------------------------------

  private async fail(code: string, reason: string): Promise<RunResult> {
    await this.write('failure', () => finishFailed(this.deps.db, this.lease, code, reason));
    this.publish({ type: 'status', status: 'failed', code, reason, modelId: null });
    return { kind: 'failed', code, reason };
  }

  private async finishCancelled(): Promise<RunResult> {
    const reason = 'cancelled on request';
    await this.write('cancel', () => finishCancelled(this.deps.db, this.lease, reason));
    this.publish({ type: 'status', status: 'cancelled', code: null, reason, modelId: null });
    return { kind: 'cancelled' };
  }

  private async finishHandBack(): Promise<RunResult> {
    await this.write('hand-back', () => handBackJob(this.deps.db, this.lease));
    this.publish({ type: 'status', status: 'queued', code: null, reason: 'handed back by a stopping worker', modelId: null });
    return { kind: 'handed-back' };
  }

  /** A write that could not be done: stop the trainer now. A lost lease ends the run quietly; anything else fails it. */
  private abort(error: Error): void {
    if (error instanceof LeaseLostError) return this.onLeaseLost();
    this.host?.stop(StopCommand.LEASE_LOST);
    this.rejectResult(error);
  }

  private onLeaseLost(): void {
    if (this.leaseLost) return;
    this.leaseLost = true;
    this.metrics = [];
    this.deps.logger.warn({ jobId: this.jobId, attempt: this.lease.attempt }, 'lease lost: another worker holds this job; stopping without writing');
    this.host?.stop(StopCommand.LEASE_LOST);
    this.resolveResult({ kind: 'lease-lost' });
  }

  private async beat(): Promise<void> {
    if (this.leaseLost) return;
    try {
      const { cancelRequested } = await heartbeat(this.deps.db, this.lease);
      if (cancelRequested) this.cancel();
    } catch (error) {
      if (error instanceof LeaseLostError) this.onLeaseLost();
      else this.deps.logger.warn({ err: error, jobId: this.jobId }, 'lease heartbeat failed; retrying');
    }
  }

  /** Runs a fenced write, retrying transient errors; LeaseLostError is final. */
  private async write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (error instanceof LeaseLostError || attempt >= WRITE_RETRIES) throw error;
        this.deps.logger.warn({ err: error, jobId: this.jobId, what, attempt: attempt + 1 }, 'write failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200 * 4 ** attempt));
      }
    }
  }

  private publish(event: DistributiveOmit<JobEventInput, 'jobId' | 'attempt' | 'step' | 'epoch'> & { step?: number; epoch?: number }): void {
    const full = { jobId: this.jobId, attempt: this.lease.attempt, step: this.progress.step, epoch: this.progress.epoch, ...event } as JobEventInput;
    publishJobEvent(this.deps.redis, this.deps.config.queuePrefix, full).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, jobId: this.jobId, event: event.type }, 'could not publish a job event'));
  }
}

type MetricsMessage = Extract<TrainerMessage, { type: 'metrics' }>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
