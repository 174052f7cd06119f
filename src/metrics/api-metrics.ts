/**
 * The API process's metrics (GET /metrics, ./plugin.ts), in one registry per app:
 *   trainyard_http_request_duration_seconds{method,route,status_code}  histogram; `route` is the route pattern
 *       (`/v1/jobs/:id`), never the raw URL, and `(unmatched)` for requests no route matched
 *   trainyard_jobs{status}                     jobs stored in Postgres per status (all tenants), counted at scrape time
 *   trainyard_queue_jobs{state}                training queue depth in BullMQ: waiting (prioritized included), active, delayed
 *   trainyard_websocket_connections            job streams open on this process now
 *   trainyard_db_pool_connections{state}       Prisma's Postgres pool: total, idle, in_use; trainyard_db_pool_max, trainyard_db_pool_waiting
 *   trainyard_metrics_source_up{source}        1 when the last scrape could read postgres / redis (the gauges above from
 *                                              it are then current), 0 when it failed or timed out (those gauges are absent)
 * plus inference latency (./inference-metrics.ts) and the standard process metrics (./process-metrics.ts).
 *
 * The Postgres and Redis reads run at scrape time, once per scrape, bounded by SOURCE_TIMEOUT_MS so that a scrape
 * answers while either is away. jobs and queue gauges describe the whole installation: every API replica reports the
 * same values (aggregate them with max(), not sum()).
 */
import { Gauge, Histogram, Registry } from 'prom-client';
import { poolStats } from '../db/pool-stats.js';
import { JobStatus } from '../generated/prisma/enums.js';
import type { Services } from '../services.js';
import { inferenceRegistry } from './inference-metrics.js';
import { processRegistry } from './process-metrics.js';

/** Longest a scrape waits for Postgres or Redis. */
export const SOURCE_TIMEOUT_MS = 3000;

/** The route label of a request no route matched (404, 405 and malformed requests). */
export const UNMATCHED_ROUTE = '(unmatched)';

export interface ApiMetrics {
  /** Every metric of the process: this app's, inference and the process's. */
  readonly registry: Registry;
  observeRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void;
}

export function createApiMetrics(services: Pick<Services, 'db' | 'trainingQueue' | 'jobStreams'>): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];

  const http = new Histogram({
    name: 'trainyard_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status code, from the request\'s arrival to its last byte',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const httpSeries = new Map<string, ReturnType<typeof http.labels>>();

  // Whether this scrape's read of each source succeeded: set by the collect of the gauge that reads it, which runs
  // before trainyard_metrics_source_up's (a registry collects its metrics in registration order, concurrently).
  const reads: Record<'postgres' | 'redis', Promise<boolean>> = { postgres: Promise.resolve(false), redis: Promise.resolve(false) };

  new Gauge({
    name: 'trainyard_jobs',
    help: 'Jobs stored in Postgres by status (all tenants), counted at scrape time',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      this.reset();
      reads.postgres = withTimeout(services.db.job.groupBy({ by: ['status'], _count: { _all: true } }), 'postgres').then((rows) => {
        const counts = new Map<string, number>(rows.map((r) => [r.status, r._count._all]));
        for (const status of Object.values(JobStatus)) this.set({ status }, counts.get(status) ?? 0);
        return true;
      }, () => false);
      await reads.postgres;
    },
  });

  new Gauge({
    name: 'trainyard_queue_jobs',
    help: 'Training jobs in the BullMQ queue by state: waiting for a worker (prioritized included), active, delayed',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      this.reset();
      reads.redis = withTimeout(services.trainingQueue.getJobCounts('waiting', 'prioritized', 'active', 'delayed'), 'redis').then((c) => {
        this.set({ state: 'waiting' }, (c.waiting ?? 0) + (c.prioritized ?? 0));
        this.set({ state: 'active' }, c.active ?? 0);
        this.set({ state: 'delayed' }, c.delayed ?? 0);
        return true;
      }, () => false);
      await reads.redis;
    },
  });

  new Gauge({
    name: 'trainyard_metrics_source_up',
    help: 'Whether this scrape read the source (postgres: trainyard_jobs; redis: trainyard_queue_jobs); 0: those gauges are absent',
    labelNames: ['source'] as const,
    registers,
    async collect() {
      const [postgres, redis] = await Promise.all([reads.postgres, reads.redis]);
      this.set({ source: 'postgres' }, postgres ? 1 : 0);
      this.set({ source: 'redis' }, redis ? 1 : 0);
    },
  });

  new Gauge({
    name: 'trainyard_websocket_connections',
    help: 'Job streams (WebSockets of GET /v1/jobs/:id/stream) open on this process',
    registers,
    collect() {
      this.set(services.jobStreams.openCount);
    },
  });

  const pool = () => poolStats(services.db);
  new Gauge({
    name: 'trainyard_db_pool_connections',
    help: 'Postgres connections of the API\'s pool (Prisma) by state: total open, idle, in_use',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const s = pool();
      if (!s) return;
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'in_use' }, s.total - s.idle);
    },
  });
  new Gauge({
    name: 'trainyard_db_pool_max',
    help: 'Most connections the API\'s Postgres pool opens (DATABASE_POOL_SIZE)',
    registers,
    collect() {
      this.set(pool()?.max ?? 0);
    },
  });
  new Gauge({
    name: 'trainyard_db_pool_waiting',
    help: 'Queries waiting for a connection of the API\'s Postgres pool',
    registers,
    collect() {
      this.set(pool()?.waiting ?? 0);
    },
  });

  return {
    registry: Registry.merge([registry, inferenceRegistry, processRegistry()]),
    observeRequest(method, route, statusCode, seconds) {
      // The labelled series of each method, route pattern and status, looked up once (prom-client hashes the labels
      // of every observe otherwise): a bounded set, as routes are patterns.
      const key = `${method} ${statusCode} ${route ?? UNMATCHED_ROUTE}`;
      let series = httpSeries.get(key);
      if (!series) httpSeries.set(key, (series = http.labels({ method, route: route ?? UNMATCHED_ROUTE, status_code: String(statusCode) })));
      series.observe(seconds);
    },
  };
}

async function withTimeout<T>(work: Promise<T>, source: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${source} did not answer within ${SOURCE_TIMEOUT_MS} ms`)), SOURCE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
