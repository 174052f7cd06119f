import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { dropDatabase, ensureDatabase } from '../../src/db/ensure-database.js';
import { migrate } from '../../src/db/migrations.js';
import { withDatabase } from '../../src/db/postgres-url.js';
import { testConfig, uniqueName } from '../helpers/app.js';
import { startProcess, type Running } from '../helpers/processes.js';

const running: Running[] = [];

/** The key of the first-start box (src/process/first-start-banner.ts): alone on its line inside the box. */
function firstStartKey(output: string): string | undefined {
  return /^│\s+(ty_[a-z2-7]{10}_\S+)\s+│$/m.exec(output)?.[1];
}
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
      const key = firstStartKey(p.output());
      assert.ok(key, p.output());
      // A process that just started may still be busy (compiling, building the dashboard) and answer 503 OVERLOADED
      // with Retry-After, as a client should expect; honour it.
      const me = await fetchHonouringRetryAfter(`${url}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { tenant: { name: string } }).tenant.name, 'default');
      const ready = await fetchHonouringRetryAfter(`${url}/ready`);
      assert.equal(ready.status, 200);
      const exit = await p.stop('SIGINT');
      assert.equal(exit.code, 0, p.output());
      assert.match(p.output(), /worker stopped/);

      // The next start of the same database prints no key.
      const again = start('src/server.ts', { DATABASE_URL: databaseUrl, PORT: '0' });
      await again.waitFor(/Trainyard API listening on/);
      assert.doesNotMatch(again.output(), /ty_[a-z2-7]{10}_|FIRST START/);
      assert.equal((await again.stop('SIGTERM')).code, 0);
    } finally {
      await dropDatabase(databaseUrl);
    }
  });

  it('the first-start key stands out: one box, the key alone on its line, shown once, and how to make more keys', async () => {
    const databaseUrl = withDatabase(testConfig().databaseUrl, uniqueName('ty_banner').replaceAll('-', '_'));
    await ensureDatabase(databaseUrl);
    try {
      await migrate(databaseUrl);
      // MAX_EVENT_LOOP_DELAY_MS=0: a just-started process on a loaded machine may answer 503 OVERLOADED otherwise.
      const api = start('src/server.ts', { DATABASE_URL: databaseUrl, PORT: '0', MAX_EVENT_LOOP_DELAY_MS: '0' });
      await api.waitFor(/Trainyard API listening on/);
      const lines = api.output().split('\n');
      const top = lines.findIndex((l) => l.startsWith('┌'));
      const bottom = lines.findIndex((l) => l.startsWith('└'));
      assert.ok(top >= 0 && bottom > top + 3, api.output());
      assert.equal(lines.filter((l) => l.startsWith('┌')).length, 1, 'one box');
      const box = lines.slice(top, bottom + 1);
      assert.ok(box.every((l) => /^[┌│└].*[┐│┘]$/.test(l) && [...l].length === [...box[0]!].length), `a closed box:\n${box.join('\n')}`);
      const text = box.join('\n');
      assert.match(text, /will not be shown again/);
      assert.match(text, /npm run keys -- create --tenant <name>/);
      assert.match(text, /docker compose exec api npm run keys -- create/);
      const key = firstStartKey(api.output());
      assert.ok(key);
      assert.equal(api.output().split(key).length - 1, 1, 'the key is printed once');
      assert.ok(box.some((l) => new RegExp(`^│\\s+${key}\\s+│$`).test(l)), 'alone on its line');
      assert.ok(bottom < lines.findIndex((l) => l.includes('Trainyard API listening on')), 'before the listening line');
      const me = await fetch(`${api.output().match(/listening on (http:\/\/\S+)/)![1]}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(me.status, 200, await me.text());
      assert.equal((await api.stop('SIGTERM')).code, 0);
    } finally {
      await dropDatabase(databaseUrl);
    }
  });

  for (const file of ['src/server.ts', 'src/start.ts']) {
    it(`${file}: a taken PORT is one line naming PORT and the port, exit 1, no stack`, async () => {
      const holder: Server = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const port = (holder.address() as { port: number }).port;
      try {
        const p = start(file, { PORT: String(port), HOST: '127.0.0.1' });
        const exit = await p.exited;
        assert.equal(exit.code, 1, p.output());
        const naming = p.output().split('\n').filter((l) => l.includes('PORT'));
        assert.equal(naming.length, 1, p.output());
        assert.match(naming[0]!, new RegExp(`^trainyard (api|start): port ${port} on 127\\.0\\.0\\.1 is already in use \\(PORT=${port}\\)`));
        assert.doesNotMatch(p.output(), /^\s+at /m, 'no stack');
        assert.doesNotMatch(p.output(), /ty_[a-z2-7]{10}_/, 'no key printed');
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    });
  }
});

/** fetch, retried (at most 10 times) while the answer is a 503 with Retry-After, after waiting that long. */
async function fetchHonouringRetryAfter(url: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, init);
    const retryAfter = Number(response.headers.get('retry-after'));
    if (response.status !== 503 || !(retryAfter > 0) || attempt === 10) return response;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
  }
}
