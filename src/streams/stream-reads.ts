/**
 * The Postgres reads of every job stream of a process, shared and bounded, so that a thousand subscribers of one job
 * cost a handful of queries and leave the pool to the requests (cancel, GET /v1/jobs/:id):
 *   - at most `concurrency` (STREAM_DB_CONCURRENCY) stream reads run at once, whatever the number of streams;
 *   - reads of the same thing are single-flight: subscribers that need the same Job row or the same page of metrics
 *     ("the REPLAY_PAGE rows after step s") share one query, and its events are encoded once for all of them.
 *
 * Sharing must not break the catch-up contract (src/streams/job-stream.ts): a stream subscribes to the job's channel,
 * then reads Postgres, and everything committed before the subscription must be in what it reads. So each stream
 * takes a `mark()` once subscribed, and may only use a read that *started* after its mark — it joins a read that has
 * not started yet or started after the mark, and otherwise queues for the next one (which starts when the current one
 * ends: still one query per thing at a time). The one exception is a full page of metrics: steps only ever grow at
 * the end, so the REPLAY_PAGE rows after step s are the same whenever they were read, and full pages are kept a
 * while (bounded) for the streams that replay behind.
 */
import type { Db } from '../db/client.js';
import { getJob, type JobRow, type MetricRow } from '../db/repositories/jobs.js';
import type { LayerStats } from '../engine/stats.js';
import { encodeJobEvent, type MetricRecord } from '../queue/job-events.js';

/** Metrics rows read per query while replaying. */
export const REPLAY_PAGE = 500;
/** How long a finished read is kept for streams behind (full pages) or joining late. */
const KEEP_MS = 10_000;
/** Finished reads kept at most (full pages are the big ones: REPLAY_PAGE rows and their encodings). */
const MAX_KEPT = 32;

/** A FIFO semaphore. */
export class Semaphore {
  private active = 0;
  private maxActive = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly permits: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.permits) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.maxActive = Math.max(this.maxActive, ++this.active);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the permit passes on
      else this.active--;
    }
  }

  /** Tasks running and waiting now, and the most ever run at once. */
  get stats(): { active: number; waiting: number; maxActive: number } {
    return { active: this.active, waiting: this.waiting.length, maxActive: this.maxActive };
  }
}

interface Flight<T> {
  /** The clock when the query was issued; null while it waits for its turn. */
  started: number | null;
  done: boolean;
  value: T | undefined;
  promise: Promise<T>;
  evict: NodeJS.Timeout | undefined;
}

/** Stored metrics rows after a step, as the replay sends them. */
export class MetricsPage {
  private readonly encoded = new Map<number, { text: string; bytes: Buffer }[]>();

  constructor(
    readonly rows: readonly MetricRow[],
    /** A full page: more rows may follow. */
    readonly full: boolean,
  ) {}

  /** The rows as replayed `metrics` events of `attempt` (`"replayed": true`), encoded once per attempt for every stream. */
  eventsFor(attempt: number): readonly { text: string; bytes: Buffer }[] {
    let events = this.encoded.get(attempt);
    if (!events) {
      events = this.rows.map((row) => {
        const event = encodeJobEvent({ type: 'metrics', jobId: row.jobId, attempt, step: row.step, epoch: row.epoch, record: recordOf(row) }, row.createdAt);
        const text = `${event.slice(0, -1)},"replayed":true}`;
        return { text, bytes: Buffer.from(text, 'utf8') };
      });
      this.encoded.set(attempt, events);
    }
    return events;
  }
}

function recordOf(row: MetricRow): MetricRecord {
  return {
    step: row.step,
    epoch: row.epoch,
    trainLoss: row.trainLoss,
    dataLoss: row.dataLoss,
    regLoss: row.regLoss,
    trainAccuracy: row.trainAccuracy,
    valLoss: row.valLoss,
    valAccuracy: row.valAccuracy,
    valRmse: row.valRmse,
    valR2: row.valR2,
    learningRate: row.learningRate,
    samplesPerSec: row.samplesPerSec,
    layers: row.layers as unknown as LayerStats[],
  };
}

export interface StreamReadsStats {
  /** Queries issued, and reads served (shared ones included). */
  queries: number;
  reads: number;
  active: number;
  waiting: number;
  /** The most queries ever run at once (at most the concurrency). */
  maxActive: number;
}

export class StreamReads {
  private clock = 0;
  private readonly semaphore: Semaphore;
  /** The newest read of each thing (in flight or kept), and the read queued behind an in-flight one. */
  private readonly current = new Map<string, Flight<unknown>>();
  private readonly queued = new Map<string, Flight<unknown>>();
  private queries = 0;
  private reads = 0;

  constructor(
    private readonly db: Db,
    concurrency: number,
  ) {
    this.semaphore = new Semaphore(concurrency);
  }

  /** Taken by a stream once subscribed: the reads it uses start after this. */
  mark(): number {
    return ++this.clock;
  }

  /** Whether the tenant has the job (the upgrade's check); any read of it that started after `mark`. */
  jobExists(tenantId: string, jobId: string, mark: number): Promise<boolean> {
    return this.read(`exists:${tenantId}:${jobId}`, mark, async () => (await this.db.job.count({ where: { id: jobId, tenantId } })) > 0, (exists) => exists);
  }

  /** The job's row, read after `mark`; null when the tenant has no such job. */
  job(tenantId: string, jobId: string, mark: number): Promise<JobRow | null> {
    return this.read(`job:${tenantId}:${jobId}`, mark, () => getJob(this.db, tenantId, jobId), () => false);
  }

  /** The stored metrics with step > `afterStep` (at most REPLAY_PAGE), read after `mark` unless the page is full. */
  metricsPage(jobId: string, afterStep: number, mark: number): Promise<MetricsPage> {
    return this.read(
      `metrics:${jobId}:${afterStep}`,
      mark,
      async () => {
        const rows = await this.db.metric.findMany({ where: { jobId, step: { gt: afterStep } }, orderBy: { step: 'asc' }, take: REPLAY_PAGE });
        return new MetricsPage(rows, rows.length === REPLAY_PAGE);
      },
      (page) => page.full,
    );
  }

  private read<T>(key: string, mark: number, query: () => Promise<T>, timeless: (value: T) => boolean): Promise<T> {
    this.reads++;
    const current = this.current.get(key) as Flight<T> | undefined;
    if (current) {
      if (current.started === null || current.started > mark) return current.promise;
      if (current.done && timeless(current.value as T)) return current.promise;
      if (!current.done) {
        const queued = (this.queued.get(key) as Flight<T> | undefined) ?? this.start(key, query, current.promise);
        return queued.promise;
      }
    }
    return this.start(key, query, null).promise;
  }

  /** A new read of `key`, issued after `after` settles (queued meanwhile) and a permit is free. */
  private start<T>(key: string, query: () => Promise<T>, after: Promise<T> | null): Flight<T> {
    const flight: Flight<T> = { started: null, done: false, value: undefined, promise: undefined as unknown as Promise<T>, evict: undefined };
    if (after) this.queued.set(key, flight as Flight<unknown>);
    else this.replace(key, flight);
    const run = () =>
      this.semaphore.run(async () => {
        if (after) {
          this.queued.delete(key);
          this.replace(key, flight);
        }
        flight.started = ++this.clock;
        this.queries++;
        return query();
      });
    flight.promise = (after ? after.then(run, run) : run()).then(
      (value) => {
        flight.done = true;
        flight.value = value;
        flight.evict = setTimeout(() => this.forget(key, flight), KEEP_MS);
        flight.evict.unref();
        this.bound();
        return value;
      },
      (error: unknown) => {
        this.forget(key, flight); // errors are never shared with later readers
        throw error;
      },
    );
    return flight;
  }

  private replace(key: string, flight: Flight<unknown>): void {
    const old = this.current.get(key);
    if (old?.evict) clearTimeout(old.evict);
    this.current.delete(key); // re-inserted last: the map's order is then oldest first
    this.current.set(key, flight);
  }

  private forget(key: string, flight: Flight<unknown>): void {
    if (flight.evict) clearTimeout(flight.evict);
    if (this.current.get(key) === flight) this.current.delete(key);
  }

  /** Drops the oldest finished reads past MAX_KEPT. */
  private bound(): void {
    if (this.current.size <= MAX_KEPT) return;
    for (const [key, flight] of this.current) {
      if (this.current.size <= MAX_KEPT) break;
      if (flight.done) this.forget(key, flight);
    }
  }

  get stats(): StreamReadsStats {
    return { queries: this.queries, reads: this.reads, ...this.semaphore.stats };
  }
}
