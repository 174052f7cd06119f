/**
 * The API process's one Redis subscriber connection. Channels are subscribed on demand, one handler per channel;
 * `listen` resolves once Redis has acknowledged the SUBSCRIBE, so whatever is published after that reaches the handler.
 * (Reference counting of many local listeners per channel lives a level up, e.g. ./job-event-hub.ts.)
 *
 * Reconnects are ioredis's: it re-subscribes every channel by itself. Messages published while the connection was down
 * are lost, so `onReconnect` callbacks run after every reconnect, for consumers to catch up from Postgres.
 *
 * The connection is opened by the first `listen` (an API process that never streams holds no subscriber).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis } from './redis.js';

export type MessageHandler = (message: string) => void;

export class RedisSubscriber {
  private redis: Redis | null = null;
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly reconnectListeners = new Set<() => void>();
  private closed = false;
  /** The connection's name in CLIENT LIST (trainyard:<name>), unique per subscriber. */
  readonly name = `api-subscriber:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(
    private readonly url: string,
    private readonly onError: (error: Error) => void,
  ) {}

  private connection(): Redis {
    if (this.closed) throw new Error('the Redis subscriber is closed');
    if (this.redis) return this.redis;
    const redis = createRedis(this.url, { name: this.name, blocking: true });
    let readyBefore = false;
    redis.on('ready', () => {
      if (readyBefore) for (const listener of this.reconnectListeners) listener();
      readyBefore = true;
    });
    redis.on('message', (channel: string, message: string) => this.handlers.get(channel)?.(message));
    redis.on('error', this.onError);
    this.redis = redis;
    return redis;
  }

  /** Subscribes `channel` (one handler per channel); resolves when Redis confirmed the subscription. */
  async listen(channel: string, handler: MessageHandler): Promise<void> {
    if (this.handlers.has(channel)) throw new Error(`channel ${channel} already has a handler`);
    const redis = this.connection();
    this.handlers.set(channel, handler);
    try {
      await redis.subscribe(channel);
    } catch (error) {
      if (this.handlers.get(channel) === handler) this.handlers.delete(channel);
      throw error;
    }
  }

  /** Unsubscribes `channel`; its handler gets nothing more. Commands are ordered, so a later `listen` of it is safe. */
  async unlisten(channel: string): Promise<void> {
    if (!this.handlers.delete(channel) || !this.redis || this.closed) return;
    // If this fails (connection down), the channel may stay subscribed; its messages then find no handler: harmless.
    await this.redis.unsubscribe(channel).catch(() => undefined);
  }

  /** Runs `listener` after every reconnect (not the first connect); returns the function that removes it. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Channels subscribed now. */
  get channels(): number {
    return this.handlers.size;
  }

  /** Names of the channels subscribed now. */
  listening(): string[] {
    return [...this.handlers.keys()];
  }

  close(): void {
    this.closed = true;
    this.handlers.clear();
    this.reconnectListeners.clear();
    this.redis?.disconnect();
  }
}
