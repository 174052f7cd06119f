/**
 * One claimed job on the worker's main thread: loads its inputs, starts the trainer thread, turns the trainer's
 * messages into fenced Postgres writes (in order, one at a time) and live events, renews the lease, and relays
 * cancel / hand-back / lease-lost to the trainer. Nothing here blocks: the numerics run in the trainer thread.
 *
 * Order guarantees: messages are handled strictly in the order the trainer sent them, so every metric record up to a
 * checkpoint's step is committed before or with that checkpoint (in its transaction), and everything before the final
 * status. The training-health warnings raised at a record are stored in the same transaction as the record. Events are
 * published after the commit they describe, per record in this order: `metrics`, its new `warning`s (those not stored
 * before: a resumed attempt raises again what the previous one raised after its checkpoint), its `decision` grid —
 * a batch per Redis round trip, and only while a stream watches the job (./event-publisher.ts).
 * A lost lease stops the trainer at once and nothing more is written.
 *
 * Outages are waited out: a write (or a read of the job's inputs) that fails because Postgres is away, or a lock wait
 * timed out, is retried with capped exponential backoff and jitter (src/infra/retry.ts). Meanwhile the trainer runs
 * ahead until MAX_PENDING_WRITES (128) records are pending, then blocks: training pauses. When Postgres is back the retried
 * write goes through the fence, which revalidates the lease: the run continues, or stops without writing if another
 * worker took the job meanwhile. Only an outage longer than INFRA_FAILURE_BUDGET_MS gives the attempt up (the
 * processor then lets BullMQ requeue the job). A Redis outage only loses live events (logged once per outage).
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db, Job } from '../db/client.js';
import type { DatasetMeta } from '../datasets/types.js';
import type { JobPlan } from '../jobs/plan.js';
import type { JobEventInput, JobWarning, MetricRecord } from '../queue/job-events.js';
import type { Redis } from '../queue/redis.js';
import { waitOut } from '../infra/retry.js';
import { observeTrainerMessage, timedWrite } from '../metrics/worker-metrics.js';
import { kernelChange } from './checkpoint-state.js';
import { JobEventPublisher } from './event-publisher.js';
import { loadJobInputs } from './job-inputs.js';
import {
  finishCancelled, finishFailed, finishPruned, finishSucceeded, handBackJob, heartbeat, LeaseLostError, writeCheckpoint, writeMetrics, type Lease,
} from './lease.js';
import { modelWrite } from './model-write.js';
import { startTrainer, type TrainerHost, type TrainerThreads } from './trainer-host.js';
import { threadsForJob } from './thread-share.js';
import type { DatasetCache } from '../datasets/dataset-cache.js';
import { MAX_PENDING_WRITES, StopCommand, type TrainerMessage } from './trainer-protocol.js';

export type RunResult =
  | { kind: 'succeeded'; modelId: string }
  | { kind: 'failed'; code: string; reason: string }
  | { kind: 'cancelled' }
  | { kind: 'pruned'; reason: string }
  | { kind: 'handed-back' }
  | { kind: 'lease-lost' };

export interface JobRunDeps {
  config: Config;
  db: Db;
  redis: Redis;
  logger: Logger;
  /** Sweep trials: at each committed epoch end, a prune reason (stop as pruned) or null (src/sweeps/worker-hooks.ts). */
  judgeEpochEnd?: (job: { id: string; sweepId: string | null }, record: MetricRecord) => Promise<string | null>;
  /** The worker's trainer threads, kept between jobs (default: a thread of its own for this job). */
  trainers?: TrainerThreads;
  /** The worker's decoded datasets, kept between jobs (WORKER_DATASET_CACHE_MB; none: read from Postgres every time). */
  datasets?: DatasetCache | null;
}

/**
 * Metric records written per transaction at most, and how long one may wait for others to join it. The batch is half
 * the trainer's write window (MAX_PENDING_WRITES): a full window must never wait for the timer, or a fast trainer
 * blocks for METRICS_FLUSH_MS every window (it did: 64 records per 100 ms was a full-batch job's speed limit).
 * A short job's records then go in one or two transactions.
 */
const METRICS_BATCH = MAX_PENDING_WRITES / 2;
const METRICS_FLUSH_MS = 100;
/** Retries of a write that failed for another reason than an outage (it is unlikely to succeed later). */
const OTHER_RETRIES = 3;
/** The first pause of a retried write; the pauses double up to INFRA_RETRY_MAX_MS. */
const FIRST_RETRY_MS = 200;

/** How long a finished run waits at most for its last live events to reach Redis. */
const EVENTS_SETTLE_MS = 2000;

function settledWithin(events: JobEventPublisher, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([events.settled(), late]).finally(() => clearTimeout(timer));
}

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
  /**
   * The job's stored checkpoints when this run knows them all (it started with none and counts the ones it writes);
   * null after a resume. While they are at most `keep`, a checkpoint write has nothing to prune.
   */
  private storedCheckpoints: number | null = null;
  /** Whether the last heartbeat failed: logged once per outage, not at every try. */
  private heartbeatFailing = false;
  /** A heartbeat is in flight (a slow one is not overlapped by the next). */
  private beating = false;
  private readonly events: JobEventPublisher;
  /** Set when the job's sweep pruned it: the cancel that follows ends it as pruned. */
  private pruneReason: string | null = null;
  private resolveResult!: (result: RunResult) => void;
  private rejectResult!: (error: Error) => void;
  /** The result is settled: no more heartbeats (the final write ended the lease). */
  private ended = false;
  private readonly result = new Promise<RunResult>((resolve, reject) => {
    this.resolveResult = (result) => {
      this.ended = true;
      resolve(result);
    };
    this.rejectResult = (error) => {
      this.ended = true;
      reject(error);
    };
  });

  constructor(private readonly deps: JobRunDeps, readonly lease: Lease, private readonly job: Job) {
    this.jobId = lease.jobId;
    this.progress = { step: job.step, epoch: job.epoch };
    this.events = new JobEventPublisher(deps.redis, deps.config.queuePrefix, this.jobId, deps.logger);
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
    const loadStarted = performance.now();
    const inputs = await this.write('load inputs', () => loadJobInputs(db, this.job, this.deps.datasets ?? undefined));
    logger.debug({ jobId: this.jobId, ms: Math.round(performance.now() - loadStarted), cache: this.deps.datasets?.stats() }, 'job inputs loaded');
    if (inputs.kind === 'failed') return this.fail(inputs.code, inputs.reason);
    if (this.pending === StopCommand.CANCEL) return this.finishCancelled();
    if (this.pending === StopCommand.HAND_BACK) return this.finishHandBack();
    this.plan = inputs.plan;
    this.meta = inputs.meta;
    this.storedCheckpoints = inputs.trainer.resume === null ? 0 : null;

    const heartbeatMs = Math.max(100, Math.floor(config.worker.lockMs / 2));
    const timer = setInterval(() => void this.beat(), heartbeatMs);
    try {
      const engineThreads = threadsForJob({
        engineThreads: config.worker.engineThreads, concurrency: config.worker.concurrency,
        parameterCount: inputs.plan.description.parameterCount, batchRows: Math.min(inputs.plan.spec.training.batchSize, inputs.plan.trainRows),
      });
      const settings = { engineThreads, engineKernel: config.worker.engineKernel, health: config.health, decisionGrid: config.decisionGrid };
      const start = this.deps.trainers ? this.deps.trainers.start.bind(this.deps.trainers) : startTrainer;
      this.host = start({ ...inputs.trainer, ...settings }, (message) => {
        observeTrainerMessage(message); // steps/s, samples/s (src/metrics/worker-metrics.ts)
        this.chain = this.chain.then(() => this.handle(message)).catch((error: unknown) => this.abort(error as Error));
      });
      if (this.pending) this.host.stop(this.pending);
      const result = await this.result;
      await this.host.exited;
      // Its last events (the final status among them) are handed to Redis before the run ends: a worker that stops
      // next (a hand-back at shutdown) disconnects from Redis right after. Bounded: with Redis away they are lost
      // anyway (live events only; Postgres holds the result).
      await settledWithin(this.events, EVENTS_SETTLE_MS);
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
      case 'started': {
        this.deps.logger.info({ jobId: this.jobId, attempt: this.lease.attempt, step: m.step, resumed: m.resumed, kernel: m.flavour, threads: m.threads }, 'training started');
        const kernelWarning = kernelChange(m.checkpointKernel, m.flavour);
        if (kernelWarning) this.deps.logger.warn({ jobId: this.jobId, step: m.step, checkpointKernel: m.checkpointKernel, kernel: m.flavour }, kernelWarning);
        return;
      }
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
        const keep = this.plan!.spec.checkpoints.keep;
        const prune = this.storedCheckpoints === null || this.storedCheckpoints + 1 > keep;
        const written = await this.write('checkpoint', () => writeCheckpoint(this.deps.db, this.lease, {
          step: m.step, epoch: m.epoch, state: m.state, metric: m.metric, isBest: m.isBest, bestStep: m.bestStep, best,
        }, keep, batch.map((b) => b.record), batch.flatMap((b) => b.warnings), { prune }));
        if (this.storedCheckpoints !== null) this.storedCheckpoints = prune ? null : this.storedCheckpoints + 1;
        this.progress = { step: m.step, epoch: m.epoch };
        this.committed(batch, written.warnings);
        host.acknowledge(true);
        await this.judgeEpochEnds(batch);
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
        if (m.reason === 'cancel') this.resolveResult(await (this.pruneReason ? this.finishPruned(this.pruneReason) : this.finishCancelled()));
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
    await this.judgeEpochEnds(batch);
  }

  /**
   * A sweep trial's epoch ends, once committed, go to its sweep's judge (ASHA): a prune reason stops the trainer like a
   * cancel, and the run ends as pruned. Awaited in the write chain, so the trainer runs at most MAX_PENDING_WRITES
   * records past a rung before the decision.
   */
  private async judgeEpochEnds(batch: readonly MetricsMessage[]): Promise<void> {
    const judge = this.deps.judgeEpochEnd;
    if (!judge || !this.job.sweepId || this.pruneReason) return;
    for (const { record } of batch) {
      const reason = await this.write('sweep rung', () => judge(this.job, record));
      if (reason) {
        this.pruneReason = reason;
        this.cancel();
        return;
      }
    }
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

  /**
   * After the commit: let the trainer run further ahead, and publish each record, its new warnings and its grid — when
   * a stream watches the job (./event-publisher.ts: one that subscribes later reads them from Postgres).
   */
  private committed(batch: readonly MetricsMessage[], added: readonly JobWarning[]): void {
    for (let i = 0; i < batch.length; i++) this.host!.acknowledge(false);
    const events: JobEventInput[] = [];
    for (const { record, warnings, decision } of batch) {
      events.push(this.event({ type: 'metrics', step: record.step, epoch: record.epoch, record }));
      for (const w of warnings) {
        if (!added.some((a) => a.code === w.code && a.layer === w.layer)) continue; // stored by an earlier attempt
        events.push(this.event({ type: 'warning', step: w.step, code: w.code, layer: w.layer, message: w.message, advice: w.advice }));
      }
      if (decision) {
        const { epoch, resolution, xRange, yRange, classes } = decision;
        events.push(this.event({ type: 'decision', step: record.step, epoch, resolution, xRange, yRange, classes }));
      }
    }
    this.events.publish(events, { whenWatched: true });
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

  private async finishPruned(reason: string): Promise<RunResult> {
    await this.write('pruned', () => finishPruned(this.deps.db, this.lease, reason));
    this.publish({ type: 'status', status: 'pruned', code: 'PRUNED', reason, modelId: null });
    return { kind: 'pruned', reason };
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
    if (this.leaseLost || this.ended) return;
    this.leaseLost = true;
    this.metrics = [];
    this.deps.logger.warn({ jobId: this.jobId, attempt: this.lease.attempt }, 'lease lost: another worker holds this job; stopping without writing');
    this.host?.stop(StopCommand.LEASE_LOST);
    this.resolveResult({ kind: 'lease-lost' });
  }

  /** Renews the lease (and reads a requested cancel). A failure is retried at the next beat. */
  private async beat(): Promise<void> {
    if (this.leaseLost || this.beating || this.ended) return;
    this.beating = true;
    try {
      const { cancelRequested } = await heartbeat(this.deps.db, this.lease);
      if (this.heartbeatFailing) this.deps.logger.info({ jobId: this.jobId }, 'lease heartbeat works again');
      this.heartbeatFailing = false;
      if (cancelRequested) this.cancel();
    } catch (error) {
      if (error instanceof LeaseLostError) return this.onLeaseLost();
      if (!this.heartbeatFailing) this.deps.logger.warn({ err: error, jobId: this.jobId }, 'lease heartbeat failed; retrying at every beat');
      this.heartbeatFailing = true;
    } finally {
      this.beating = false;
    }
  }

  /** Runs a fenced write (or the read of the inputs), waiting out outages (see the top of the file); LeaseLostError is final. */
  private write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const { config, logger } = this.deps;
    const context = { jobId: this.jobId, attempt: this.lease.attempt, what };
    return waitOut(() => timedWrite(what, fn), {
      what: `job ${this.jobId}: ${what}`,
      budgetMs: config.worker.infraBudgetMs,
      backoff: { initialMs: FIRST_RETRY_MS, maxMs: config.worker.infraRetryMaxMs },
      otherRetries: OTHER_RETRIES,
      isFinal: (error) => error instanceof LeaseLostError || this.leaseLost,
      onRetry: ({ error, retry, delayMs, elapsedMs, transient }) => {
        if (retry === 1 || !transient) {
          logger.warn({ ...context, err: error, retry, delayMs, transient },
            transient ? 'database unavailable or busy: retrying (training pauses meanwhile)' : 'write failed; retrying');
        } else logger.debug({ ...context, retry, delayMs, elapsedMs }, 'still waiting for the database');
      },
      onRecovered: ({ retries, elapsedMs }) => logger.info({ ...context, retries, waitedMs: elapsedMs }, 'database is back; continuing'),
    });
  }

  /** Publishes a status or checkpoint event (always, in order with the records' events). */
  private publish(event: PartialEvent): void {
    this.events.publish([this.event(event)], { whenWatched: false });
  }

  /** The event with this job's id, attempt and (unless given) current progress. */
  private event(event: PartialEvent): JobEventInput {
    return { jobId: this.jobId, attempt: this.lease.attempt, step: this.progress.step, epoch: this.progress.epoch, ...event } as JobEventInput;
  }
}

type MetricsMessage = Extract<TrainerMessage, { type: 'metrics' }>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type PartialEvent = DistributiveOmit<JobEventInput, 'jobId' | 'attempt' | 'step' | 'epoch'> & { step?: number; epoch?: number };
