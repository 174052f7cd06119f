/**
 * The worker's live-event publisher (src/training/event-publisher.ts): records' events only while the job's channel
 * (or any pattern) has subscribers, counted after the commit; everything in the order given, a status never ahead of
 * the records before it; a batch per pipeline. Against a scripted Redis (the real one is shared with other test runs,
 * whose pattern subscriptions would make "no subscriber" impossible to arrange), plus one round trip through the real
 * Redis with a subscriber on the channel.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { jobEventsChannel, parseJobEvent, type JobEventInput } from '../../src/queue/job-events.js';
import { createRedis, type Redis } from '../../src/queue/redis.js';
import { JobEventPublisher } from '../../src/training/event-publisher.js';

const logger = pino({ level: 'silent' });
const JOB = '00000000-0000-4000-8000-0000000000e1';

function metrics(step: number): JobEventInput {
  return {
    type: 'metrics', jobId: JOB, attempt: 1, step, epoch: step,
    record: {
      step, epoch: step, trainLoss: 1, dataLoss: 1, regLoss: 0, trainAccuracy: null, valLoss: null, valAccuracy: null, valRmse: null,
      valR2: null, learningRate: 1, samplesPerSec: 0, layers: [],
    },
  };
}
const status = (step: number): JobEventInput => ({ type: 'status', jobId: JOB, attempt: 1, step, epoch: step, status: 'succeeded', code: null, reason: null, modelId: null });

/** A Redis whose subscriber counts are scripted and slow to answer; records what reaches it, in order. */
function scriptedRedis(counts: number[]): { redis: Redis; sent: string[]; pipelines: number } {
  const sent: string[] = [];
  const state = { redis: null as unknown as Redis, sent, pipelines: 0 };
  const pipeline = () => {
    const commands: (() => unknown)[] = [];
    let publishes = false;
    const p = {
      pubsub(kind: string) {
        commands.push(() => (kind === 'NUMSUB' ? ['channel', counts.shift() ?? 0] : 0));
        return p;
      },
      publish(channel: string, message: string) {
        publishes = true;
        commands.push(() => {
          sent.push(`${channel} ${parseJobEvent(message)!.type}:${parseJobEvent(message)!.step}`);
          return 0;
        });
        return p;
      },
      async exec() {
        if (publishes) state.pipelines++;
        await new Promise((resolve) => setTimeout(resolve, 5)); // a round trip
        return commands.map((c) => [null, c()]);
      },
    };
    return p;
  };
  state.redis = { pipeline } as unknown as Redis;
  return state;
}

describe('job event publisher', () => {
  it('publishes records only while watched, in order, a status never ahead of the records given before it', async () => {
    const fake = scriptedRedis([0, 2, 0]);
    const publisher = new JobEventPublisher(fake.redis, 'q', JOB, logger);
    publisher.publish([metrics(10), metrics(20)], { whenWatched: true }); // nobody watches: dropped
    publisher.publish([metrics(30), metrics(40)], { whenWatched: true }); // watched
    publisher.publish([status(40)], { whenWatched: false });
    publisher.publish([metrics(50)], { whenWatched: true }); // nobody again
    publisher.publish([status(50)], { whenWatched: false });
    await publisher.settled();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const channel = jobEventsChannel('q', JOB);
    assert.deepEqual(fake.sent, [`${channel} metrics:30`, `${channel} metrics:40`, `${channel} status:40`, `${channel} status:50`]);
    assert.equal(fake.pipelines, 3, 'one pipeline per batch sent');
  });

  it('through the real Redis: a subscriber of the job channel receives every batch, in order', async () => {
    const config = loadConfig();
    const prefix = `ty-test-publisher-${process.pid}`;
    const redis = createRedis(config.redisUrl, { name: 'test-publisher' });
    const subscriber = createRedis(config.redisUrl, { name: 'test-publisher-sub', blocking: true });
    try {
      const received: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => {
        const event = parseJobEvent(message)!;
        received.push(`${event.type}:${event.step}`);
      });
      await subscriber.subscribe(jobEventsChannel(prefix, JOB));
      const publisher = new JobEventPublisher(redis, prefix, JOB, logger);
      for (let step = 1; step <= 50; step++) publisher.publish([metrics(step)], { whenWatched: true });
      publisher.publish([status(50)], { whenWatched: false });
      const expected = [...Array.from({ length: 50 }, (_, i) => `metrics:${i + 1}`), 'status:50'];
      await new Promise<void>((resolve) => {
        const check = () => (received.length >= expected.length ? resolve() : setTimeout(check, 10));
        check();
      });
      assert.deepEqual(received, expected);
    } finally {
      subscriber.disconnect();
      redis.disconnect();
    }
  });
});
