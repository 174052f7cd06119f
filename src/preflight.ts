/** Fail-fast checks at start: are Postgres and Redis reachable? The error names the URL and how to start them. */
import { Redis } from 'ioredis';
import pg from 'pg';
import { maintenanceUrl, redactUrl } from './db/postgres-url.js';

const HOW_TO_START = 'Start them (e.g. `docker compose up -d postgres redis`, then DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5433/trainyard REDIS_URL=redis://127.0.0.1:6380), or point DATABASE_URL / REDIS_URL at running servers.';

export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';
}

/** Checks the server answers; with `serverOnly`, the database itself may not exist yet (it is created later). */
export async function checkPostgres(databaseUrl: string, options: { serverOnly?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const target = options.serverOnly ? maintenanceUrl(databaseUrl) : databaseUrl;
  const client = new pg.Client({ connectionString: target, connectionTimeoutMillis: options.timeoutMs ?? 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') {
      throw new DependencyUnavailableError(`The database of ${redactUrl(databaseUrl)} does not exist. Create and migrate it with \`npm run db:migrate\` (npm start does this itself).`);
    }
    throw new DependencyUnavailableError(`Cannot reach Postgres at ${redactUrl(databaseUrl)}: ${describe(error)}. ${HOW_TO_START}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function checkRedis(redisUrl: string, timeoutMs = 5000): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new DependencyUnavailableError(`Cannot reach Redis at ${redactUrl(redisUrl)}: ${describe(error)}. ${HOW_TO_START}`);
  } finally {
    redis.disconnect();
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return describe(error.errors[0]);
  const e = error as { code?: string; message?: string };
  return e.code ?? e.message ?? String(error);
}
