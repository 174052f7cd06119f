/** Redis connections. BullMQ workers and subscribers need `maxRetriesPerRequest: null` (commands wait for a reconnect). */
import { Redis } from 'ioredis';

export type { Redis };

export interface RedisOptions {
  /** A name shown in CLIENT LIST, e.g. "api" or "worker". */
  name: string;
  /** Blocking connections (BullMQ workers, pub/sub) retry forever; request-path connections fail fast. Default false */
  blocking?: boolean;
}

export function createRedis(url: string, options: RedisOptions): Redis {
  return new Redis(url, {
    connectionName: `trainyard:${options.name}`,
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}
