/**
 * The loaded models of an API process: least recently used first out, bounded by a count (MODEL_CACHE_SIZE) and by
 * the engine memory they hold (MODEL_CACHE_BYTES; the newest model always stays, even alone above the budget). A hit
 * costs no Postgres query. Concurrent misses on one model share one load.
 *
 * Invalidation across replicas: deleting a model publishes its id on `${QUEUE_PREFIX}:models:invalidated`; every API
 * process (this one included) evicts it. The cache subscribes before its first Postgres read, so no deletion can fall
 * between a read and the subscription; a load that an invalidation overtakes is answered but not kept. After a Redis
 * reconnect (invalidations may have been missed) the cache empties itself. Model ids are never reused, so a cached
 * model is otherwise never stale: a model's content does not change after it is written.
 *
 * Eviction only drops the reference: a request still predicting with an evicted model finishes with it, then the
 * garbage collector frees its memory (its compute context has no threads to stop).
 */
import type { Db } from '../db/client.js';
import { getModel } from '../db/repositories/models.js';
import type { Publisher } from '../queue/job-events.js';
import type { RedisSubscriber } from '../queue/redis-subscriber.js';
import { loadModel, type LoadedModel } from './loaded-model.js';

export interface ModelCacheOptions {
  db: Db;
  subscriber: RedisSubscriber;
  publisher: Publisher;
  queuePrefix: string;
  /** Most models kept. */
  maxModels: number;
  /** Most engine memory kept, in bytes. */
  maxBytes: number;
}

export interface ModelCacheStats {
  models: number;
  bytes: number;
  hits: number;
  misses: number;
}

export function modelInvalidationChannel(queuePrefix: string): string {
  return `${queuePrefix}:models:invalidated`;
}

export class ModelCache {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, LoadedModel>();
  /** In-flight loads by `${tenantId}:${modelId}`. */
  private readonly loading = new Map<string, Promise<LoadedModel | null>>();
  private subscribed: Promise<void> | null = null;
  private clearsOnReconnect = false;
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: ModelCacheOptions) {}

  /**
   * The tenant's model when it is loaded here: the model, null when it is another tenant's (absent for this one), or
   * undefined when it is not in the cache (then {@link get} loads it). Synchronous: a hit costs no promise.
   */
  peek(tenantId: string, id: string): LoadedModel | null | undefined {
    const hit = this.entries.get(id);
    if (hit === undefined) return undefined;
    if (hit.tenantId !== tenantId) return null; // ids are unique: another tenant's model is absent for this one
    this.entries.delete(id);
    this.entries.set(id, hit);
    this.hits++;
    return hit;
  }

  /** The tenant's model, loaded; null when the tenant has no such model. */
  async get(tenantId: string, id: string): Promise<LoadedModel | null> {
    const hit = this.peek(tenantId, id);
    if (hit !== undefined) return hit;
    this.misses++;
    await this.subscribe();
    const key = `${tenantId}:${id}`;
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const load: Promise<LoadedModel | null> = this.read(tenantId, id)
      .then((model) => {
        if (model && this.loading.get(key) === load) this.insert(model); // not when invalidated meanwhile
        return model;
      })
      .finally(() => {
        if (this.loading.get(key) === load) this.loading.delete(key);
      });
    this.loading.set(key, load);
    return load;
  }

  private async read(tenantId: string, id: string): Promise<LoadedModel | null> {
    const row = await getModel(this.options.db, tenantId, id);
    return row && loadModel(row);
  }

  private insert(model: LoadedModel): void {
    this.entries.set(model.id, model);
    this.bytes += model.bytes;
    const { maxModels, maxBytes } = this.options;
    for (const [id, old] of this.entries) {
      if (this.entries.size <= 1 || (this.entries.size <= maxModels && this.bytes <= maxBytes)) break;
      this.entries.delete(id);
      this.bytes -= old.bytes;
    }
  }

  private subscribe(): Promise<void> {
    if (!this.subscribed) {
      const { subscriber, queuePrefix } = this.options;
      this.subscribed = subscriber.listen(modelInvalidationChannel(queuePrefix), (id) => this.evict(id));
      this.subscribed.catch(() => {
        this.subscribed = null;
      });
      if (!this.clearsOnReconnect) subscriber.onReconnect(() => this.clear());
      this.clearsOnReconnect = true;
    }
    return this.subscribed;
  }

  /** Drops the model here (and any load of it in flight). */
  evict(id: string): void {
    const model = this.entries.get(id);
    if (model) {
      this.entries.delete(id);
      this.bytes -= model.bytes;
    }
    for (const key of this.loading.keys()) if (key.endsWith(`:${id}`)) this.loading.delete(key);
  }

  /** Drops the model in every API process. */
  async invalidate(id: string): Promise<void> {
    this.evict(id);
    await this.options.publisher.publish(modelInvalidationChannel(this.options.queuePrefix), id);
  }

  clear(): void {
    this.entries.clear();
    this.loading.clear();
    this.bytes = 0;
  }

  get stats(): ModelCacheStats {
    return { models: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }
}
