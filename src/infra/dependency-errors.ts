/**
 * Recognizes the errors of an unreachable Postgres or Redis, wherever they surface (Prisma, its pg adapter, pg itself,
 * ioredis, BullMQ), so that the API answers 503 DATABASE_UNAVAILABLE / QUEUE_UNAVAILABLE with Retry-After during an
 * outage instead of 500, and recovers by itself when the connection does (nothing here holds state).
 *
 * Postgres:
 *   - Prisma codes P1001 (cannot reach), P1002 / P1008 (timed out), P1017 (server closed the connection), P2024 (no
 *     pool connection in time), P2028 (transaction API: "Unable to start a transaction in the given time", ...);
 *   - the pg adapter's DriverAdapterError kinds (in `meta.driverAdapterError.cause` or `cause`): DatabaseNotReachable,
 *     ConnectionClosed, SocketTimeout, TooManyConnections, and `postgres` errors whose SQLSTATE is a connection or
 *     availability one (below);
 *   - pg's own errors: those SQLSTATEs, and its messages for a dead connection ("Connection terminated unexpectedly",
 *     "timeout exceeded when trying to connect", ...).
 * Redis: ioredis's MaxRetriesPerRequestError, "Connection is closed.", "Stream isn't writeable ...", "Command timed
 * out", and BullMQ's failures to add (the same errors, or the connection's own error event).
 * A bare socket error (ECONNREFUSED, ECONNRESET, ...) with no wrapper is told apart by its port when it has one, and
 * is otherwise taken as the database's.
 */

export type Dependency = 'database' | 'queue';

const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/**
 * SQLSTATEs of a connection that failed or a server that cannot serve now: class 08 (connection exception), 57P01
 * admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 53300 too many connections, 25P03 idle-in-transaction
 * timeout, 55P03 lock not available (lock_timeout), 57014 statement cancelled (statement_timeout).
 */
const SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '08007', '57P01', '57P02', '57P03', '53300', '25P03', '55P03', '57014']);
const PG_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  "Can't reach database server",
];
const REDIS_MESSAGES = ['Connection is closed.', "Stream isn't writeable", 'Command timed out', 'Reached the max retries per request limit'];
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export interface DependencyPorts {
  database: number | null;
  queue: number | null;
}

/** The ports of DATABASE_URL and REDIS_URL, to tell bare socket errors apart. */
export function dependencyPorts(databaseUrl: string, redisUrl: string): DependencyPorts {
  const port = (url: string, fallback: number) => {
    try {
      const parsed = new URL(url);
      return parsed.port ? Number(parsed.port) : fallback;
    } catch {
      return null;
    }
  };
  return { database: port(databaseUrl, 5432), queue: port(redisUrl, 6379) };
}

type Loose = Record<string, unknown>;

function fieldOf(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Loose)[key] : undefined;
}

/** The dependency whose outage `error` reports, or null for any other error. */
export function unavailableDependency(error: unknown, ports: DependencyPorts = { database: null, queue: null }): Dependency | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  let socketGuess: Dependency | null = null;
  while (queue.length > 0 && seen.size < 16) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const name = String(fieldOf(e, 'name') ?? '');
    const code = fieldOf(e, 'code');
    const message = String(fieldOf(e, 'message') ?? '');
    const kind = fieldOf(e, 'kind');

    if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.startsWith(m))) return 'queue';
    if (name === 'PrismaClientInitializationError') return 'database';
    if (typeof code === 'string' && PRISMA_CODES.has(code)) return 'database';
    if (typeof kind === 'string') {
      if (ADAPTER_KINDS.has(kind)) return 'database';
      if (kind === 'postgres' && SQLSTATES.has(String(fieldOf(e, 'code')))) return 'database';
    }
    if (typeof fieldOf(e, 'originalCode') === 'string' && SQLSTATES.has(fieldOf(e, 'originalCode') as string)) return 'database';
    // pg's DatabaseError carries the SQLSTATE in `code` and a `severity`
    if (typeof code === 'string' && SQLSTATES.has(code) && typeof fieldOf(e, 'severity') === 'string') return 'database';
    if (PG_MESSAGES.some((m) => message.includes(m))) return 'database';
    if (typeof code === 'string' && SOCKET_CODES.has(code)) {
      const port = fieldOf(e, 'port');
      if (typeof port === 'number' && port === ports.queue) return 'queue';
      if (typeof port === 'number' && port === ports.database) return 'database';
      socketGuess ??= 'database';
    }

    queue.push(fieldOf(e, 'cause'), fieldOf(fieldOf(e, 'meta'), 'driverAdapterError'));
    const errors = fieldOf(e, 'errors');
    if (Array.isArray(errors)) queue.push(...errors.slice(0, 4));
  }
  return socketGuess;
}
