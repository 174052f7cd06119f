/** The long-lived connections a process holds, created from the config and closed together. */
import type { Logger } from 'pino';
import { ApiKeyCache } from './auth/key-cache.js';
import type { Config } from './config.js';
import { createDb, type Db } from './db/client.js';
import { throttledErrorLog } from './infra/log.js';
import { Redis } from 'ioredis';
import { createTrainingQueue, type TrainingQueue } from './queue/training-queue.js';
import { createLogger } from './logger.js';
import { ModelCache } from './inference/model-cache.js';
import { JobEventHub } from './streams/job-event-hub.js';
import { JobStreams } from './streams/job-streams.js';
import { RedisSubscriber } from './queue/redis-subscriber.js';

/**
 * The API's command connection (requests, publishing, the queue's producer side, the rate limit) fails fast while
 * Redis is away, so that requests answer 503 QUEUE_UNAVAILABLE (or go on without Redis) within about a second instead
 * of waiting for reconnects: a command is given up after one reconnect attempt or REDIS_COMMAND_TIMEOUT_MS.
 * (Workers' and subscribers' connections wait instead: src/queue/redis.ts.)
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

export function createApiRedis(url: string): Redis {
  return new Redis(url, {
    connectionName: 'trainyard:api',
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}

export interface Services {
  config: Config;
  db: Db;
  /** Request-path commands (and publishing); fails fast while Redis is away (createApiRedis). */
  redis: Redis;
  trainingQueue: TrainingQueue;
  /** The process's one Redis subscriber (job events, model invalidations); connects on first use. */
  subscriber: RedisSubscriber;
  /** Live job streams (GET /v1/jobs/:id/stream) of this process, fanned out from the subscriber. */
  jobStreams: JobStreams;
  /** Loaded models for inference (LRU). */
  models: ModelCache;
  /** Resolved API keys (revocations apply at once through Redis). */
  apiKeys: ApiKeyCache;
  close(): Promise<void>;
}

export function createServices(config: Config, logger: Logger = createLogger(config.logLevel, 'api')): Services {
  const db = createDb(config, { poolSize: config.databasePoolSize, applicationName: `trainyard-api:${process.pid}` });
  const redis = createApiRedis(config.redisUrl);
  const trainingQueue = createTrainingQueue(redis, config.queuePrefix);
  // Connection errors are retried by ioredis and reported by GET /ready; log them rather than crash.
  const logRedisError = throttledErrorLog(logger, 'redis connection error');
  redis.on('error', logRedisError);
  trainingQueue.on('error', logRedisError);
  const subscriber = new RedisSubscriber(config.redisUrl, logRedisError);
  const hub = new JobEventHub(subscriber, config.queuePrefix);
  const jobStreams = new JobStreams({
    db, hub, heartbeatMs: config.stream.heartbeatMs, maxBufferedBytes: config.stream.maxBufferedBytes, dbConcurrency: config.stream.dbConcurrency,
  });
  const models = new ModelCache({
    db, subscriber, publisher: redis, queuePrefix: config.queuePrefix,
    maxModels: config.inference.modelCacheSize, maxBytes: config.inference.modelCacheBytes,
  });
  const apiKeys = new ApiKeyCache({ db, subscriber, queuePrefix: config.queuePrefix, ttlMs: config.authCacheMs });
  let closed: Promise<void> | undefined;
  return {
    config,
    db,
    redis,
    trainingQueue,
    subscriber,
    jobStreams,
    models,
    apiKeys,
    close() {
      closed ??= (async () => {
        jobStreams.close();
        subscriber.close();
        models.clear();
        await trainingQueue.close();
        redis.disconnect();
        await db.$disconnect();
      })();
      return closed;
    },
  };
}
