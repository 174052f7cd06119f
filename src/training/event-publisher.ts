/**
 * A job's live events on Redis (src/queue/job-events.ts), as one worker publishes them: in order, a batch per
 * pipeline (one round trip, not one per event), and the events of committed records only while someone watches.
 *
 * Watched: after the commit of a batch of records, PUBSUB NUMSUB tells whether any stream subscribes to the job's
 * channel (and PUBSUB NUMPAT whether any pattern subscription exists on the server: it might match, so it counts);
 * with neither, the batch's `metrics`, `warning` and `decision` events are not published at all. That loses
 * nothing a stream would receive: a stream subscribes *before* it reads the stored records (src/streams/job-stream.ts),
 * so one that subscribes after the count was taken reads this batch from Postgres (the commit came before the count),
 * and one subscribed before it is counted. (Warnings stored by then are in GET /v1/jobs/:id; decision grids are a live
 * view only.) Status and checkpoint events are always published.
 *
 * Order: batches go to Redis in the order they were given, the always-published ones included (a job's terminal status
 * never overtakes its last metrics); each waits only for the previous one's subscriber count, not for its delivery.
 * While publishing fails (Redis away), batches are sent without counting first, so an outage does not queue counts.
 * A failure is logged once per outage: it costs live events only.
 */
import type { Logger } from 'pino';
import { encodeJobEvent, jobEventsChannel, type JobEventInput } from '../queue/job-events.js';
import type { Redis } from '../queue/redis.js';

export class JobEventPublisher {
  private readonly channel: string;
  /** The previous batch has been handed to Redis (or dropped). */
  private queue: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(private readonly redis: Redis, queuePrefix: string, private readonly jobId: string, private readonly logger: Logger) {
    this.channel = jobEventsChannel(queuePrefix, jobId);
  }

  /** Publishes `events` after every batch given before; `whenWatched`: only if a stream subscribes to the job now. */
  publish(events: readonly JobEventInput[], options: { whenWatched: boolean }): void {
    if (events.length === 0) return;
    this.queue = this.queue.then(async () => {
      if (options.whenWatched && !this.failing && (await this.subscribers()) === 0) return;
      const pipeline = this.redis.pipeline();
      for (const event of events) pipeline.publish(this.channel, encodeJobEvent(event));
      void pipeline.exec().then(
        (results) => {
          const error = results?.find(([e]) => e)?.[0];
          if (error) this.failed(error, events[0]!.type);
          else this.succeeded();
        },
        (error: unknown) => this.failed(error, events[0]!.type),
      );
    }).catch((error: unknown) => this.failed(error, events[0]!.type));
  }

  /** Resolves once everything given so far has been handed to Redis (or dropped). */
  settled(): Promise<void> {
    return this.queue;
  }

  /**
   * Subscribers of the job's channel on this Redis, plus the server's pattern subscriptions (any may match); on an
   * error, 1 (publish, and let that fail or not).
   */
  private async subscribers(): Promise<number> {
    try {
      const results = await this.redis.pipeline().pubsub('NUMSUB', this.channel).pubsub('NUMPAT').exec();
      const [numsub, numpat] = results ?? [];
      if (!numsub || !numpat || numsub[0] || numpat[0]) return 1;
      const count = Number((numsub[1] as unknown[])[1]) + Number(numpat[1]);
      return Number.isFinite(count) ? count : 1;
    } catch {
      return 1;
    }
  }

  private succeeded(): void {
    if (this.failing) this.logger.info({ jobId: this.jobId }, 'publishing job events works again');
    this.failing = false;
  }

  private failed(error: unknown, event: string): void {
    if (!this.failing) this.logger.warn({ err: error, jobId: this.jobId, event }, 'could not publish a job event (Redis unavailable?); live events are lost until it is back');
    this.failing = true;
  }
}
