/**
 * The only reader of process.env. Every setting is declared here once, with its variable, default and meaning;
 * `loadConfig` validates them all at start and fails with a message naming the variable. The result is frozen.
 */
import os from 'node:os';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ConfigError(`${name} must be a number, got "${raw}"`);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const raw = read(env, name) ?? fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}" in "${raw}"`);
  }
  return raw;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function text(env: Env, name: string, fallback: string, pattern: RegExp, rule: string): string {
  const raw = read(env, name) ?? fallback;
  if (!pattern.test(raw)) throw new ConfigError(`${name} ${rule}, got "${raw}"`);
  return raw;
}

/** An optional secret (never echoed in the error): at least `minLength` printable ASCII characters without spaces. */
function secret(env: Env, name: string, minLength: number): string | null {
  const raw = read(env, name);
  if (raw === undefined) return null;
  if (!/^[\x21-\x7e]+$/.test(raw) || raw.length < minLength || raw.length > 1024) {
    throw new ConfigError(`${name} must be ${minLength} to 1024 printable characters without spaces (value not shown)`);
  }
  return raw;
}

/** A comma-separated list of browser origins (scheme://host[:port]), or `*`. */
function origins(env: Env, name: string): string[] {
  const raw = read(env, name);
  if (raw === undefined) return [];
  const list = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of list) {
    if (origin === '*') continue;
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || parsed.origin !== origin) throw new ConfigError(`${name} must list origins such as https://app.example.com (no path, no trailing slash), or *; got "${origin}"`);
  }
  return list;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const ENGINE_KERNELS = ['auto', 'native', 'relaxed-simd', 'simd'] as const;
export type EngineKernel = (typeof ENGINE_KERNELS)[number];

export interface Config {
  /** DATABASE_URL: Postgres, the source of truth. Default postgresql://postgres@127.0.0.1:5432/trainyard */
  readonly databaseUrl: string;
  /** REDIS_URL: BullMQ queue and live events. Default redis://127.0.0.1:6379 */
  readonly redisUrl: string;
  /** QUEUE_PREFIX: namespace of every Redis key and channel, so several installations (or tests) share one Redis. Default trainyard */
  readonly queuePrefix: string;
  /** HOST (default 127.0.0.1) and PORT (default 3000) the API listens on. */
  readonly host: string;
  readonly port: number;
  /** LOG_LEVEL: pino level. Default info */
  readonly logLevel: LogLevel;
  /** TRUST_PROXY: honour X-Forwarded-* (behind a reverse proxy). 0 or 1, default 0 */
  readonly trustProxy: boolean;
  /** AUTH_CACHE_MS: how long an API replica trusts a resolved key without asking Postgres (revocations still apply at once through Redis; this bounds them if Redis is down). 0 disables. Default 60,000 */
  readonly authCacheMs: number;
  /** DATABASE_POOL_SIZE: Postgres connections an API process holds at most. Default 10 */
  readonly databasePoolSize: number;
  /** Abuse and overload protection of the HTTP API (src/http/protection.ts). */
  readonly http: {
    /** RATE_LIMIT_PER_MINUTE: requests per minute per API key (unauthenticated ones: per client IP), counted in Redis across replicas; /health and /ready are exempt. 0 disables. Default 1,200 */
    readonly rateLimitPerMinute: number;
    /** RATE_LIMIT_SYNC_MS: how old a replica's last count from Redis may be for a request to be answered without waiting for Redis (src/http/coalescing-rate-store.ts); other replicas' requests of that span may be missing from its count. 0: every request waits for its count from Redis. Default 100 */
    readonly rateLimitSyncMs: number;
    /** CORS_ORIGINS: comma-separated origins (https://app.example.com) allowed to call the API from a browser, or *. Default none */
    readonly corsOrigins: readonly string[];
    /** MAX_EVENT_LOOP_DELAY_MS: mean event-loop delay over a second above which requests answer 503 OVERLOADED. 0 disables. Default 1,000 */
    readonly maxEventLoopDelayMs: number;
    /** MAX_EVENT_LOOP_UTILIZATION: event-loop utilization (0–1) over a second above which requests answer 503 OVERLOADED. 0 disables. Default 0 */
    readonly maxEventLoopUtilization: number;
  };
  readonly limits: {
    /** MAX_UPLOAD_BYTES: largest dataset upload. Default 256 MiB */
    readonly uploadBytes: number;
    /** MAX_DATASET_ROWS: default 2,000,000 */
    readonly datasetRows: number;
    /** MAX_DATASET_FEATURES: default 4,096 */
    readonly datasetFeatures: number;
    /** MAX_CLASSES: default 1,000 */
    readonly classes: number;
    /** MAX_JSON_BODY_BYTES: largest JSON request body outside uploads (specs, predictions, imports). Default 64 MiB */
    readonly jsonBodyBytes: number;
    /** MAX_PARAMETERS: largest network a job may train. Default 50,000,000 */
    readonly parameters: number;
    /** MAX_EPOCH_ROWS: epochs × training rows per job. Default 2,000,000,000 */
    readonly epochRows: number;
    /** MAX_PREDICT_ROWS: rows per prediction request. Default 10,000 */
    readonly predictRows: number;
    /** MAX_RUNNING_JOBS_PER_TENANT: a tenant's jobs training at once; more wait in the queue (not refused). Default 4 */
    readonly tenantRunningJobs: number;
    /** MAX_QUEUED_JOBS_PER_TENANT: a tenant's jobs waiting to start; one more is refused (429 TENANT_QUEUE_FULL). Default 100 */
    readonly tenantQueuedJobs: number;
    /** MAX_DATASET_BYTES_PER_TENANT: stored bytes of all of a tenant's datasets, uploaded, synthetic and example (403 TENANT_STORAGE_FULL). Default 4 GiB */
    readonly tenantDatasetBytes: number;
  };
  readonly worker: {
    /** ENGINE_THREADS: compute threads per worker process. Default: every core */
    readonly engineThreads: number;
    /**
     * ENGINE_KERNEL: the engine's kernel build: 'native' (the C++ GEMM addon built at install, bit-identical to
     * 'relaxed-simd'), 'relaxed-simd', 'simd', or 'auto' (native when the addon is built and the CPU has FMA and
     * AVX2/NEON, else relaxed SIMD when the runtime accepts it, else plain SIMD). Results are bit-identical only
     * within one build (and CPU family): pin it when workers of one installation differ. Default auto
     */
    readonly engineKernel: EngineKernel;
    /**
     * ENGINE_CHECKS: 1 puts guard words between the engine's buffers and checks them after every kernel call (a write
     * past a buffer fails the job naming the operation and the buffer; see src/engine/shared-memory.ts). The engine
     * reads this variable itself (src/engine/fast-context.ts); it is declared and validated here. Costs a few % of
     * speed. 0 or 1, default 0 (the tests run with 1)
     */
    readonly engineChecks: boolean;
    /**
     * WORKER_DATASET_CACHE_MB: decoded datasets a worker keeps between jobs, least recently used first out, keyed by
     * content hash (src/datasets/dataset-cache.ts); 0 turns the cache off. Default 512
     */
    readonly datasetCacheBytes: number;
    /**
     * WORKER_CONCURRENCY: jobs one worker process trains at once. Its ENGINE_THREADS are split between them, and a job
     * too small to gain from a second thread gets one (src/training/thread-share.ts). Default 1
     */
    readonly concurrency: number;
    /** JOB_LOCK_MS: BullMQ lock duration; a dead worker's job is picked up after about this long. Default 4,000 */
    readonly lockMs: number;
    /** JOB_STALLED_INTERVAL_MS: how often workers look for stalled jobs. Default 2,000 */
    readonly stalledIntervalMs: number;
    /** JOB_MAX_STALLS: crashes a job survives before it fails. Default 10 */
    readonly maxStalls: number;
    /** RECONCILE_INTERVAL_MS: how often Postgres' queued/running jobs are re-enqueued when Redis lost them. Default 30,000 */
    readonly reconcileIntervalMs: number;
    /** SHUTDOWN_GRACE_MS: how long SIGTERM waits for the current job to checkpoint and hand back. Default 20,000 */
    readonly shutdownGraceMs: number;
    /**
     * INFRA_FAILURE_BUDGET_MS: how long a worker waits out a Postgres outage (pausing the job, retrying) before it gives
     * up the job's attempt; the job is then requeued while attempts remain. Default 900,000 (15 min)
     */
    readonly infraBudgetMs: number;
    /** INFRA_RETRY_MAX_MS: longest pause between two retries while waiting out an outage (exponential backoff with jitter). Default 5,000 */
    readonly infraRetryMaxMs: number;
  };
  /** Settings of every Postgres session the API and the workers open (src/db/client.ts), so that no lock outlives its owner. */
  readonly postgres: {
    /** PG_LOCK_TIMEOUT_MS: longest a statement waits for a lock; then it fails and is retried. 0 waits forever. Default 5,000 */
    readonly lockTimeoutMs: number;
    /**
     * PG_IDLE_IN_TX_TIMEOUT_MS: Postgres ends a session that sits this long inside a transaction without sending anything
     * (a frozen or cut-off process), releasing its locks. 0 never. Default 10,000
     */
    readonly idleInTxTimeoutMs: number;
    /** PG_STATEMENT_TIMEOUT_MS: longest one statement may run. 0 no limit. Default 60,000 */
    readonly statementTimeoutMs: number;
  };
  readonly stream: {
    /** WS_HEARTBEAT_MS: ping interval; a client that misses a pong is dropped. Default 15,000 */
    readonly heartbeatMs: number;
    /** WS_MAX_BUFFERED_BYTES: per-client send buffer before events are coalesced/dropped. Default 1 MiB */
    readonly maxBufferedBytes: number;
    /** STREAM_DB_CONCURRENCY: Postgres reads the job streams of one API process run at once (replays share reads). Default 2 */
    readonly dbConcurrency: number;
  };
  /** Training-health warnings (src/training/health/), computed by the worker that trains the job. */
  readonly health: {
    /** WARN_DEAD_RELU_FRACTION: dead-unit share of a ReLU layer that raises a warning. Default 0.4 */
    readonly deadReluFraction: number;
    /**
     * WARN_DEAD_RELU_MIN_ROWS: a record's dead-unit share counts only when the training rows since the previous record
     * are at least this many (on a single row about half of a healthy ReLU layer is inactive). Default 16
     */
    readonly deadReluMinRows: number;
    /** WARN_SATURATED_FRACTION: saturated-unit share of a sigmoid/tanh layer that raises a warning. Default 0.4 */
    readonly saturatedFraction: number;
    /** WARN_UPDATE_RATIO_LOW / WARN_UPDATE_RATIO_HIGH: healthy band of update/weight ratio (CS231n: ~1e-3). Defaults 1e-5 and 1e-1 */
    readonly updateRatioLow: number;
    readonly updateRatioHigh: number;
    /** WARN_SUSTAIN_RECORDS: metrics records in a row a per-layer condition (dead, saturated, update ratio) must hold. Default 3 */
    readonly sustainRecords: number;
    /** WARN_LOSS_FLAT_EPOCHS: epochs over which the training loss must decrease. Default 5 */
    readonly lossFlatEpochs: number;
    /** WARN_LOSS_FLAT_MIN_DECREASE: relative decrease of the best training loss over those epochs that counts as progress. Default 0.01 */
    readonly lossFlatMinDecrease: number;
    /** WARN_LOSS_FLAT_ABOVE: a flat loss is only a problem above this share of the first record's loss (a converged loss is flat too). Default 0.5 */
    readonly lossFlatAbove: number;
    /** WARN_OVERFITTING_EPOCHS: the window: mean losses of the last this many epochs are compared with the as many before. Default 5 */
    readonly overfittingEpochs: number;
    /** WARN_OVERFITTING_MIN_RISE: relative rise of the mean validation loss (while the training loss falls) that is overfitting. Default 0.1 */
    readonly overfittingMinRise: number;
  };
  /** Live decision-region grids of 2-input classification jobs (`decision` events), computed by the worker. */
  readonly decisionGrid: {
    /** DECISION_GRID_RESOLUTION: points per axis (resolution² predictions per grid). Default 40 */
    readonly resolution: number;
    /** DECISION_GRID_EVERY_EPOCHS: a grid every this many epochs, and after the last one; 0 turns grids off. Default 5 */
    readonly everyEpochs: number;
  };
  readonly inference: {
    /** MODEL_CACHE_SIZE: models kept in memory for prediction (LRU). Default 32 */
    readonly modelCacheSize: number;
    /** MODEL_CACHE_BYTES: engine memory the cached models may hold together (LRU; the newest model always stays). Default 512 MiB */
    readonly modelCacheBytes: number;
  };
  /** Prometheus metrics (src/metrics/): the API's GET /metrics and each worker's own metrics port. */
  readonly metrics: {
    /** METRICS_TOKEN: when set, GET /metrics (API and workers) needs `Authorization: Bearer <token>`. Default none: open */
    readonly token: string | null;
    /** WORKER_METRICS_PORT: port each worker process serves GET /metrics on; 0 turns it off. Default 0 */
    readonly workerPort: number;
    /** WORKER_METRICS_HOST: address the worker's metrics port listens on. Default 127.0.0.1 */
    readonly workerHost: string;
  };
}

export function loadConfig(env: Env = process.env): Config {
  const config: Config = {
    databaseUrl: url(env, 'DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/trainyard', ['postgresql:', 'postgres:']),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    queuePrefix: text(env, 'QUEUE_PREFIX', 'trainyard', /^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -'),
    host: text(env, 'HOST', '127.0.0.1', /^[A-Za-z0-9_.:-]+$/, 'must be a host name or address'),
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    trustProxy: integer(env, 'TRUST_PROXY', 0, 0, 1) === 1,
    authCacheMs: integer(env, 'AUTH_CACHE_MS', 60_000, 0, 3_600_000),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    http: {
      rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 1200, 0),
      rateLimitSyncMs: integer(env, 'RATE_LIMIT_SYNC_MS', 100, 0, 60_000),
      corsOrigins: origins(env, 'CORS_ORIGINS'),
      maxEventLoopDelayMs: integer(env, 'MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
      maxEventLoopUtilization: number(env, 'MAX_EVENT_LOOP_UTILIZATION', 0, 0, 1),
    },
    limits: {
      uploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 256 * 1024 * 1024, 1),
      datasetRows: integer(env, 'MAX_DATASET_ROWS', 2_000_000, 1),
      datasetFeatures: integer(env, 'MAX_DATASET_FEATURES', 4096, 1),
      classes: integer(env, 'MAX_CLASSES', 1000, 2),
      jsonBodyBytes: integer(env, 'MAX_JSON_BODY_BYTES', 64 * 1024 * 1024, 1024),
      parameters: integer(env, 'MAX_PARAMETERS', 50_000_000, 1),
      epochRows: integer(env, 'MAX_EPOCH_ROWS', 2_000_000_000, 1),
      predictRows: integer(env, 'MAX_PREDICT_ROWS', 10_000, 1),
      tenantRunningJobs: integer(env, 'MAX_RUNNING_JOBS_PER_TENANT', 4, 1, 100_000),
      tenantQueuedJobs: integer(env, 'MAX_QUEUED_JOBS_PER_TENANT', 100, 1, 1_000_000),
      tenantDatasetBytes: integer(env, 'MAX_DATASET_BYTES_PER_TENANT', 4 * 1024 ** 3, 1),
    },
    worker: {
      engineThreads: integer(env, 'ENGINE_THREADS', os.availableParallelism(), 1, 256),
      engineKernel: oneOf(env, 'ENGINE_KERNEL', 'auto', ENGINE_KERNELS),
      engineChecks: integer(env, 'ENGINE_CHECKS', 0, 0, 1) === 1,
      datasetCacheBytes: integer(env, 'WORKER_DATASET_CACHE_MB', 512, 0, 1_048_576) * 1024 * 1024,
      concurrency: integer(env, 'WORKER_CONCURRENCY', 1, 1, 64),
      lockMs: integer(env, 'JOB_LOCK_MS', 4000, 500),
      stalledIntervalMs: integer(env, 'JOB_STALLED_INTERVAL_MS', 2000, 100),
      maxStalls: integer(env, 'JOB_MAX_STALLS', 10, 1),
      reconcileIntervalMs: integer(env, 'RECONCILE_INTERVAL_MS', 30_000, 100),
      shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 20_000, 0),
      infraBudgetMs: integer(env, 'INFRA_FAILURE_BUDGET_MS', 15 * 60_000, 0),
      infraRetryMaxMs: integer(env, 'INFRA_RETRY_MAX_MS', 5000, 10, 600_000),
    },
    postgres: {
      lockTimeoutMs: integer(env, 'PG_LOCK_TIMEOUT_MS', 5000, 0, 2_147_483_647),
      idleInTxTimeoutMs: integer(env, 'PG_IDLE_IN_TX_TIMEOUT_MS', 10_000, 0, 2_147_483_647),
      statementTimeoutMs: integer(env, 'PG_STATEMENT_TIMEOUT_MS', 60_000, 0, 2_147_483_647),
    },
    stream: {
      heartbeatMs: integer(env, 'WS_HEARTBEAT_MS', 15_000, 100),
      maxBufferedBytes: integer(env, 'WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1024),
      dbConcurrency: integer(env, 'STREAM_DB_CONCURRENCY', 2, 1, 100),
    },
    health: {
      deadReluFraction: number(env, 'WARN_DEAD_RELU_FRACTION', 0.4, 0, 1),
      saturatedFraction: number(env, 'WARN_SATURATED_FRACTION', 0.4, 0, 1),
      updateRatioLow: number(env, 'WARN_UPDATE_RATIO_LOW', 1e-5, 0, 1),
      updateRatioHigh: number(env, 'WARN_UPDATE_RATIO_HIGH', 1e-1, 0, 100),
      deadReluMinRows: integer(env, 'WARN_DEAD_RELU_MIN_ROWS', 16, 1),
      sustainRecords: integer(env, 'WARN_SUSTAIN_RECORDS', 3, 1, 1000),
      lossFlatEpochs: integer(env, 'WARN_LOSS_FLAT_EPOCHS', 5, 1, 1000),
      lossFlatMinDecrease: number(env, 'WARN_LOSS_FLAT_MIN_DECREASE', 0.01, 0, 1),
      lossFlatAbove: number(env, 'WARN_LOSS_FLAT_ABOVE', 0.5, 0, 1),
      overfittingEpochs: integer(env, 'WARN_OVERFITTING_EPOCHS', 5, 1, 1000),
      overfittingMinRise: number(env, 'WARN_OVERFITTING_MIN_RISE', 0.1, 0, 100),
    },
    decisionGrid: {
      resolution: integer(env, 'DECISION_GRID_RESOLUTION', 40, 2, 200),
      everyEpochs: integer(env, 'DECISION_GRID_EVERY_EPOCHS', 5, 0, 1_000_000),
    },
    inference: {
      modelCacheSize: integer(env, 'MODEL_CACHE_SIZE', 32, 1, 100_000),
      modelCacheBytes: integer(env, 'MODEL_CACHE_BYTES', 512 * 1024 * 1024, 1024 * 1024),
    },
    metrics: {
      token: secret(env, 'METRICS_TOKEN', 16),
      workerPort: integer(env, 'WORKER_METRICS_PORT', 0, 0, 65535),
      workerHost: text(env, 'WORKER_METRICS_HOST', '127.0.0.1', /^[A-Za-z0-9_.:-]+$/, 'must be a host name or address'),
    },
  };
  if (config.health.updateRatioLow >= config.health.updateRatioHigh) {
    throw new ConfigError(`WARN_UPDATE_RATIO_LOW (${config.health.updateRatioLow}) must be below WARN_UPDATE_RATIO_HIGH (${config.health.updateRatioHigh})`);
  }
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
