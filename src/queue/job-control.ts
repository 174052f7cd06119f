/**
 * Commands to whichever worker runs a job, across processes, through Redis pub/sub.
 *
 * One channel per installation, {@link jobControlChannel} = `${QUEUE_PREFIX}:jobs:control`; every worker process
 * subscribes once at start (so no per-job subscription can race a command) and ignores commands for jobs it does not
 * run. Pub/sub is the fast path only: the API first records the request in Postgres (`Job.cancelRequested`), and the
 * worker also reads that flag when it takes the lease and at every lease heartbeat, so a lost message only delays the
 * cancel by one heartbeat.
 */
import type { Redis } from './redis.js';
import type { Publisher } from './job-events.js';

export type JobCommand = { type: 'cancel'; jobId: string };

export function jobControlChannel(queuePrefix: string): string {
  return `${queuePrefix}:jobs:control`;
}

export function publishJobCommand(redis: Publisher, queuePrefix: string, command: JobCommand): Promise<number> {
  return redis.publish(jobControlChannel(queuePrefix), JSON.stringify(command));
}

export function parseJobCommand(message: string): JobCommand | null {
  try {
    const value = JSON.parse(message) as Partial<JobCommand> | null;
    if (value && value.type === 'cancel' && typeof value.jobId === 'string') return { type: 'cancel', jobId: value.jobId };
  } catch {
    // not ours
  }
  return null;
}

export interface JobCommandSubscription {
  close(): Promise<void>;
}

/**
 * Subscribes `subscriber` (a connection dedicated to pub/sub: it can do nothing else afterwards) to the control
 * channel; resolves once Redis confirmed the subscription.
 */
export async function subscribeJobCommands(
  subscriber: Redis, queuePrefix: string, onCommand: (command: JobCommand) => void,
): Promise<JobCommandSubscription> {
  const channel = jobControlChannel(queuePrefix);
  const listener = (from: string, message: string) => {
    if (from !== channel) return;
    const command = parseJobCommand(message);
    if (command) onCommand(command);
  };
  subscriber.on('message', listener);
  await subscriber.subscribe(channel);
  return {
    async close() {
      subscriber.off('message', listener);
      await subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
