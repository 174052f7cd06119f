/**
 * The Prisma client factory: Prisma 7's Rust-free client over node-postgres (@prisma/adapter-pg).
 *
 * Every session it opens sets `lock_timeout`, `idle_in_transaction_session_timeout` and `statement_timeout` (config
 * `postgres`, sent as startup parameters): a statement waits for a lock at most PG_LOCK_TIMEOUT_MS (then fails with
 * 55P03, which callers treat as transient and retry), and a process that stops talking inside a transaction — frozen,
 * partitioned — loses its session and its locks after PG_IDLE_IN_TX_TIMEOUT_MS, so no lock outlives its owner.
 * Interactive transactions may run for twice the lock timeout (at least Prisma's 5 s), so that a lock wait ends with
 * Postgres' clear error rather than Prisma's expired-transaction one.
 */
import { observePool, ObservedPrismaPg } from './pool-stats.js';
import type { Config } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;
export { Prisma } from '../generated/prisma/client.js';
export type { Tenant, ApiKey, Dataset, DatasetChunk, Job, Metric, Checkpoint, Model, JobStatus, DatasetTask } from '../generated/prisma/client.js';

/** How long opening a connection may take. */
const CONNECT_TIMEOUT_MS = 10_000;

/** What a database connection needs from the configuration. */
export type DbConfig = Pick<Config, 'databaseUrl' | 'postgres'>;

export interface DbOptions {
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Shown as application_name in pg_stat_activity (at most 63 characters are kept). Default "trainyard" */
  applicationName?: string;
  /** An idle pooled connection broke (e.g. the server restarted); the pool replaces it. */
  onConnectionError?: (error: Error) => void;
}

/** The node-postgres settings of a session under `config.postgres` (also used by the upload pool). */
export function sessionSettings(postgres: Config['postgres']): {
  lock_timeout: number; idle_in_transaction_session_timeout: number; statement_timeout: number;
} {
  return {
    lock_timeout: postgres.lockTimeoutMs,
    idle_in_transaction_session_timeout: postgres.idleInTxTimeoutMs,
    statement_timeout: postgres.statementTimeoutMs,
  };
}

export function createDb(config: DbConfig, options: DbOptions = {}): Db {
  const onError = options.onConnectionError ?? (() => undefined);
  const adapter = new ObservedPrismaPg({
    connectionString: config.databaseUrl,
    max: options.poolSize ?? 10,
    application_name: (options.applicationName ?? 'trainyard').slice(0, 63),
    // A server that does not answer (a partition, not a refusal) must not hang a connect or a dead socket forever.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...sessionSettings(config.postgres),
  }, { onPoolError: onError, onConnectionError: onError });
  const lockTimeout = config.postgres.lockTimeoutMs;
  const client = new PrismaClient({ adapter, transactionOptions: { timeout: Math.max(5000, 2 * lockTimeout) } });
  observePool(client, adapter); // pool use for the metrics (src/metrics/)
  return client;
}
