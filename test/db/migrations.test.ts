import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { dropDatabase, ensureDatabase } from '../../src/db/ensure-database.js';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrations.js';
import { withDatabase } from '../../src/db/postgres-url.js';
import { testConfig, uniqueName } from '../helpers/app.js';

const created: string[] = [];
async function freshDatabase(): Promise<string> {
  const url = withDatabase(testConfig().databaseUrl, uniqueName('ty_mig').replaceAll('-', '_'));
  await ensureDatabase(url);
  created.push(url);
  return url;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('migration runner', () => {
  after(async () => {
    for (const url of created) await dropDatabase(url);
  });

  it('keeps Prisma\'s layout: timestamped folders with migration.sql, and migration_lock.toml', async () => {
    const lock = await readFile(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8');
    assert.match(lock, /provider = "postgresql"/);
    const files = await readMigrations();
    assert.ok(files.length >= 1);
    for (const f of files) assert.match(f.name, /^\d{14}_[a-z0-9_]+$/);
  });

  it('applies every migration once, recorded the way prisma migrate deploy records them', async () => {
    const url = await freshDatabase();
    const files = await readMigrations();
    assert.deepEqual(await migrate(url), files.map((f) => f.name));
    assert.deepEqual(await migrate(url), []);
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number; rolled_back_at: Date | null; logs: string | null }>(
      url,
      'SELECT * FROM "_prisma_migrations" ORDER BY migration_name',
    );
    assert.equal(rows.length, files.length);
    for (const [i, row] of rows.entries()) {
      const sql = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'), 'utf8');
      assert.equal(row.migration_name, files[i]!.name);
      assert.equal(row.checksum, createHash('sha256').update(sql).digest('hex'));
      assert.ok(row.finished_at instanceof Date);
      assert.equal(row.applied_steps_count, 1);
      assert.equal(row.rolled_back_at, null);
    }
    const columns = await query<{ column_name: string; data_type: string }>(
      url,
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    assert.deepEqual(columns.map((c) => `${c.column_name}:${c.data_type}`), [
      'id:character varying',
      'checksum:character varying',
      'finished_at:timestamp with time zone',
      'migration_name:character varying',
      'logs:text',
      'rolled_back_at:timestamp with time zone',
      'started_at:timestamp with time zone',
      'applied_steps_count:integer',
    ]);
  });

  it('is safe when two runners start at once', async () => {
    const url = await freshDatabase();
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    const total = results.reduce((n, r) => n + r.length, 0);
    assert.equal(total, (await readMigrations()).length);
    const rows = await query<{ n: string }>(url, 'SELECT count(*) AS n FROM "_prisma_migrations"');
    assert.equal(Number(rows[0]!.n), total);
  });

  it('rolls a failing migration back entirely and refuses a migration edited after it was applied', async () => {
    const url = await freshDatabase();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ty-mig-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      const bad = path.join(dir, '99990101000000_broken');
      await cp(path.join(dir, (await readMigrations())[0]!.name), bad, { recursive: true });
      await writeFile(path.join(bad, 'migration.sql'), 'CREATE TABLE "half" (id int);\nSELECT no_such_function();\n');
      await assert.rejects(migrate(url, dir), /99990101000000_broken failed/);
      const half = await query<{ n: string }>(url, `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'half'`);
      assert.equal(Number(half[0]!.n), 0);
      const recorded = await query<{ migration_name: string }>(url, 'SELECT migration_name FROM "_prisma_migrations"');
      assert.ok(!recorded.some((r) => r.migration_name.endsWith('_broken')));

      await rm(bad, { recursive: true });
      const first = (await readMigrations(dir))[0]!.name;
      await writeFile(path.join(dir, first, 'migration.sql'), (await readFile(path.join(dir, first, 'migration.sql'), 'utf8')) + '\n-- edited\n');
      await assert.rejects(migrate(url, dir), /was changed after it was applied/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
