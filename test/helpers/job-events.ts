/**
 * Every live job event of an installation, recorded from a Redis pattern subscription that is established before the
 * jobs it watches start: a test waits on events (past ones included) instead of sampling a job's row, so a state that
 * passes quickly — a step, a status — cannot be missed. `next` resolves from inside the message handler's microtasks,
 * so code that runs right after `await next(...)` (a kill, say) acts within microseconds of the event's arrival.
 */
import { createRedis, type Redis } from '../../src/queue/redis.js';
import { parseJobEvent, type JobEvent } from '../../src/queue/job-events.js';
import { WAIT_MS } from './wait.js';

export interface JobEventLog {
  /** Every event received so far, in arrival order. */
  readonly events: JobEvent[];
  /** The job's events so far. */
  of(jobId: string): JobEvent[];
  /** The first event (already received or still to come) that matches; rejects after timeoutMs. */
  next(match: (event: JobEvent) => boolean, what: string, timeoutMs?: number): Promise<JobEvent>;
  close(): void;
}

export async function recordJobEvents(redisUrl: string, queuePrefix: string): Promise<JobEventLog> {
  const subscriber: Redis = createRedis(redisUrl, { name: 'test-job-events', blocking: true });
  const events: JobEvent[] = [];
  const listeners = new Set<(event: JobEvent) => void>();
  subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => {
    const event = parseJobEvent(message);
    if (!event) return;
    events.push(event);
    for (const listener of [...listeners]) listener(event);
  });
  await subscriber.psubscribe(`${queuePrefix}:job:*:events`);
  return {
    events,
    of: (jobId) => events.filter((e) => e.jobId === jobId),
    next(match, what, timeoutMs = WAIT_MS) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const listener = (event: JobEvent) => {
          if (!match(event)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(event);
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for the event: ${what}`));
        }, timeoutMs);
        listeners.add(listener);
      });
    },
    close: () => subscriber.disconnect(),
  };
}
