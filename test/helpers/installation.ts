/**
 * A database and a queue namespace of a test file's own, migrated. Needed wherever a worker runs (its reconciler
 * takes every queued or running job of the database, so it must not see other test files' jobs) and wherever a test
 * leaves hand-made jobs queued or running (so that no other file's worker picks them up).
 */
import { dropDatabase, ensureDatabase } from '../../src/db/ensure-database.js';
import { migrate } from '../../src/db/migrations.js';
import { withDatabase } from '../../src/db/postgres-url.js';
import { testConfig, uniqueName } from './app.js';

export interface Installation {
  /** Pass to buildTestApp and to worker processes. */
  env: { DATABASE_URL: string; QUEUE_PREFIX: string };
  drop(): Promise<void>;
}

export async function ownInstallation(name: string): Promise<Installation> {
  const databaseUrl = withDatabase(testConfig().databaseUrl, uniqueName(`ty_${name}`).replaceAll('-', '_').toLowerCase());
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  return { env: { DATABASE_URL: databaseUrl, QUEUE_PREFIX: uniqueName(`ty-${name}`) }, drop: () => dropDatabase(databaseUrl) };
}
