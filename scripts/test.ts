/**
 * `npm test` (after the type-check): creates a fresh, uniquely named Postgres database, applies the migrations, runs
 * every test file with node's test runner against it and the local Redis (under a unique key prefix), then drops it.
 * `npm test -- test/some.test.ts` runs a subset.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.js';
import { migrate } from '../src/db/migrations.js';
import { databaseName, withDatabase } from '../src/db/postgres-url.js';
import { checkPostgres, checkRedis } from '../src/preflight.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f))
    .sort();
}

const base = loadConfig();
await Promise.all([checkPostgres(base.databaseUrl, { serverOnly: true }), checkRedis(base.redisUrl)]);
const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const databaseUrl = withDatabase(base.databaseUrl, `${databaseName(base.databaseUrl)}_test_${suffix}`);
await ensureDatabase(databaseUrl);
await migrate(databaseUrl);

const requested = process.argv.slice(2);
const files = requested.length ? requested : testFiles('test');
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
  // ENGINE_CHECKS=1: every engine context checks its guard words after every kernel call (src/engine/shared-memory.ts).
  env: { ...process.env, DATABASE_URL: databaseUrl, QUEUE_PREFIX: `ty-test-${suffix}`, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ENGINE_CHECKS: process.env.ENGINE_CHECKS ?? '1' },
});
// Ctrl-C or a CI timeout: stop the tests, then still drop the database below.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await dropDatabase(databaseUrl).catch((error: unknown) => console.error(`could not drop ${databaseUrl}: ${(error as Error).message}`));
process.exit(code);
