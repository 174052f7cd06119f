/** The long-lived connections a process holds, created from the config and closed together. */
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { createDb, type Db } from './db/client.js';
import { createRedis, type Redis } from './queue/redis.js';
import { createTrainingQueue, type TrainingQueue } from './queue/training-queue.js';
import { loggerOptions } from './logger.js';

export interface Services {
  config: Config;
  db: Db;
  /** Request-path commands (and publishing). */
  redis: Redis;
  trainingQueue: TrainingQueue;
  close(): Promise<void>;
}

export function createServices(config: Config, logger: Logger = pino(loggerOptions(config.logLevel, 'api'))): Services {
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl, { name: 'api' });
  const trainingQueue = createTrainingQueue(redis, config.queuePrefix);
  // Connection errors are retried by ioredis and reported by GET /ready; log them rather than crash.
  const logRedisError = throttledErrorLog(logger, 'redis connection error');
  redis.on('error', logRedisError);
  trainingQueue.on('error', logRedisError);
  let closed: Promise<void> | undefined;
  return {
    config,
    db,
    redis,
    trainingQueue,
    close() {
      closed ??= (async () => {
        await trainingQueue.close();
        redis.disconnect();
        await db.$disconnect();
      })();
      return closed;
    },
  };
}

/** At most one log line per distinct message per minute: a down Redis would otherwise log every retry. */
function throttledErrorLog(logger: Logger, msg: string): (error: Error) => void {
  const last = new Map<string, number>();
  return (error) => {
    const now = Date.now();
    if ((last.get(error.message) ?? 0) > now - 60_000) return;
    last.set(error.message, now);
    logger.warn({ err: error }, msg);
  };
}
