/**
 * Streamed uploads write through node-postgres directly, on a small pool of their own, not through Prisma: Prisma
 * encodes Bytes as base64 inside its JSON protocol, which costs several MB of transient memory and ~2× the time per
 * MiB written (measured: 20 MiB of chunks raised RSS by ~60 MB through Prisma, ~20 MB through pg). node-postgres sends
 * a Buffer parameter as binary. Everything else (reads, small writes) stays on Prisma.
 */
import pg from 'pg';
import type { Config } from '../../config.js';
import { sessionSettings } from '../../db/client.js';
import { apiError } from '../../errors.js';

export type UploadPool = pg.Pool;
export type UploadConnection = pg.PoolClient;

/** Uploads writing at the same time; more wait for a connection (their bodies wait with them). */
export const UPLOAD_CONNECTIONS = 5;
/** How long an upload may wait for a connection before it is refused (503). */
export const UPLOAD_CONNECTION_WAIT_MS = 60_000;
/**
 * Postgres ends an upload's transaction when its client sends nothing for this long (a stalled upload). Longer than
 * PG_IDLE_IN_TX_TIMEOUT_MS on purpose: an upload's transaction waits for the request body between chunks, and it
 * locks only the rows it is creating.
 */
export const UPLOAD_IDLE_MS = 5 * 60_000;

/** The pool, with the session settings of every connection (lock and statement timeouts, src/db/client.ts). */
export function createUploadPool(config: Pick<Config, 'databaseUrl' | 'postgres'>): UploadPool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: UPLOAD_CONNECTIONS,
    connectionTimeoutMillis: UPLOAD_CONNECTION_WAIT_MS,
    application_name: `trainyard-upload:${process.pid}`,
    ...sessionSettings(config.postgres),
    idle_in_transaction_session_timeout: Math.max(UPLOAD_IDLE_MS, config.postgres.idleInTxTimeoutMs),
  });
  // An idle connection that breaks is removed by the pool; without a listener the error would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `work` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(pool: UploadPool, work: (connection: UploadConnection) => Promise<T>): Promise<T> {
  let connection: UploadConnection;
  try {
    connection = await pool.connect();
  } catch (error) {
    throw apiError('NOT_READY', `No database connection for the upload: ${(error as Error).message}`);
  }
  let broken = false;
  try {
    await connection.query('BEGIN');
    const result = await work(connection);
    await connection.query('COMMIT');
    return result;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => (broken = true));
    throw error;
  } finally {
    connection.release(broken);
  }
}
