import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { dropDatabase } from '../../src/db/ensure-database.js';
import { withDatabase } from '../../src/db/postgres-url.js';
import { testConfig, uniqueName } from '../helpers/app.js';
import { startProcess, type Running } from '../helpers/processes.js';

const running: Running[] = [];
function start(file: string, env: Record<string, string>): Running {
  const p = startProcess(file, env);
  running.push(p);
  return p;
}

describe('processes', () => {
  after(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
  });

  it('the API refuses a bad setting with a message naming the variable', async () => {
    const p = start('src/server.ts', { PORT: 'abc' });
    assert.equal((await p.exited).code, 1);
    assert.match(p.output(), /PORT must be an integer/);
  });

  it('the API and worker fail fast naming an unreachable Postgres or Redis and how to start them', async () => {
    const api = start('src/server.ts', { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' });
    const worker = start('workers/training-worker.ts', { REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal((await api.exited).code, 1);
    assert.equal((await worker.exited).code, 1);
    assert.match(api.output(), /Cannot reach Postgres at postgresql:\/\/postgres@127\.0\.0\.1:1\/nowhere.*docker compose up -d postgres redis/);
    assert.match(worker.output(), /Cannot reach Redis at redis:\/\/127\.0\.0\.1:1.*docker compose up -d postgres redis/);
  });

  it('the worker connects, then stops cleanly on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const worker = start('workers/training-worker.ts', { LOG_LEVEL: 'info' });
      await worker.waitFor(/worker ready/);
      const exit = await worker.stop(signal);
      assert.equal(exit.code, 0, worker.output());
      assert.match(worker.output(), /worker stopped/);
    }
  });

  it('npm start prepares a new database, runs API + worker, prints the URL and the default key, and stops on Ctrl-C', async () => {
    const databaseUrl = withDatabase(testConfig().databaseUrl, uniqueName('ty_start').replaceAll('-', '_'));
    try {
      const p = start('src/start.ts', { DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'info' });
      const [, url] = await p.waitFor(/Trainyard is running at (http:\/\/\S+)/, 180_000); // creates and migrates a database first
      await p.waitFor(/worker ready/);
      const key = p.output().match(/store it now:\n(ty_\S+)/)?.[1];
      assert.ok(key, p.output());
      const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { tenant: { name: string } }).tenant.name, 'default');
      const ready = await fetch(`${url}/ready`);
      assert.equal(ready.status, 200);
      const exit = await p.stop('SIGINT');
      assert.equal(exit.code, 0, p.output());
      assert.match(p.output(), /worker stopped/);
    } finally {
      await dropDatabase(databaseUrl);
    }
  });
});
