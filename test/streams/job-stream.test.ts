import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { jobEventsChannel } from '../../src/queue/job-events.js';
import { buildTestApp as buildApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import {
  createJobRow, finishJob, listen, metricRecord, openStream, publish, writeMetrics, type StreamClient, type StreamMessage,
} from '../helpers/streams.js';
import { WAIT_MS, waitFor } from '../helpers/wait.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Hand-made jobs stay queued or running here: keep them in a database of this file's own, away from other files' workers.
let own: Installation;
before(async () => {
  own = await ownInstallation('streams');
});
after(() => own.drop());
const buildTestApp = (env: Record<string, string> = {}) => buildApp({ ...own.env, ...env });

describe('GET /v1/jobs/:id/stream', () => {
  let t: TestApp;
  let base: string;
  let tenant: TestTenant;

  before(async () => {
    t = await buildTestApp();
    base = await listen(t.app);
    tenant = await createTenant(t.services);
  });
  after(() => t.close());

  it('needs a key (header or ?access_token=) and an existing job of the tenant', async () => {
    const jobId = await createJobRow(t.services, tenant.id);
    await assert.rejects(openStream(base, jobId), /HTTP 401/);
    await assert.rejects(openStream(base, jobId, { key: 'ty_nope_nope' }), /HTTP 401/);
    const other = await createTenant(t.services);
    await assert.rejects(openStream(base, jobId, { key: other.key }), /HTTP 404/);
    await assert.rejects(openStream(base, 'not-a-uuid', { key: tenant.key }), /HTTP 404/);
    await assert.rejects(openStream(base, jobId, { key: tenant.key, since: -5 }), /HTTP 400/);
    const viaQuery = await openStream(base, jobId, { key: tenant.key, keyInQuery: true });
    await viaQuery.waitFor((m) => m.some((x) => x.type === 'status'));
    viaQuery.ws.close();
  });

  it('replays stored metrics after ?since, then the status, then live events without duplicates, and closes on the final status', async () => {
    const jobId = await createJobRow(t.services, tenant.id);
    await writeMetrics(t.services, jobId, range(1, 30), { publish: false });
    const client = await openStream(base, jobId, { key: tenant.key, since: 10 });
    await client.waitFor((m) => m.some((x) => x.type === 'status'));
    assert.deepEqual(client.metricSteps(), range(11, 30));
    assert.ok(client.messages.slice(0, 20).every((m) => m.replayed === true));
    assert.deepEqual(client.messages[0]!.record, JSON.parse(JSON.stringify(metricRecord(11))));
    assert.deepEqual(client.messages[20], { ...client.messages[20], type: 'status', status: 'running', attempt: 1 });

    await writeMetrics(t.services, jobId, range(31, 35));
    await writeMetrics(t.services, jobId, [33, 34]); // a resumed attempt publishing again
    await publish(t.services, { type: 'checkpoint', jobId, attempt: 1, step: 35, epoch: 3, checkpointId: crypto.randomUUID(), trigger: 'steps', metric: null, isBest: false, bytes: 10 });
    await publish(t.services, { type: 'warning', jobId, attempt: 1, step: 35, code: 'DEAD_RELU', layer: 'dense0', message: '60% dead', advice: 'lower the learning rate' });
    await publish(t.services, { type: 'decision', jobId, attempt: 1, step: 35, epoch: 3, resolution: 2, xRange: [0, 1], yRange: [0, 1], classes: [0, 1, 1, 0] });
    await writeMetrics(t.services, jobId, [36]);
    await finishJob(t.services, jobId, 36);
    const { code } = await client.closed;
    assert.equal(code, 1000);
    assert.deepEqual(client.metricSteps(), range(11, 36));
    assert.deepEqual(client.messages.slice(21).map((m) => m.type), ['metrics', 'metrics', 'metrics', 'metrics', 'metrics', 'checkpoint', 'warning', 'decision', 'metrics', 'status']);
    assert.equal(client.messages.at(-1)!.status, 'succeeded');
    assert.ok(client.messages.slice(21).every((m) => m.replayed === undefined));
  });

  it('replays and closes at once when the job had already finished', async () => {
    const jobId = await createJobRow(t.services, tenant.id, 'succeeded');
    await writeMetrics(t.services, jobId, range(1, 5), { publish: false });
    const client = await openStream(base, jobId, { key: tenant.key });
    assert.equal((await client.closed).code, 1000);
    assert.deepEqual(client.messages.map((m) => m.type), ['metrics', 'metrics', 'metrics', 'metrics', 'metrics', 'status']);
    assert.equal(client.messages.at(-1)!.status, 'succeeded');
  });

  it('switches from replay to live without gaps or duplicates while the job keeps publishing', async () => {
    const jobId = await createJobRow(t.services, tenant.id);
    await writeMetrics(t.services, jobId, range(1, 200), { publish: false });
    let step = 200;
    let writing = true;
    const writer = (async () => {
      while (writing) await writeMetrics(t.services, jobId, [++step]);
    })();
    const clients: { client: StreamClient; since: number }[] = [];
    for (const since of [0, 50, 150, 199, 210]) {
      await sleep(15); // spreads the openings over the writes; correctness does not depend on it
      clients.push({ client: await openStream(base, jobId, { key: tenant.key, since }), since });
    }
    // Past every client's `since` and then some, however slowly the writer went meanwhile.
    await waitFor('the writer past step 240', () => (step >= 240 ? true : undefined));
    writing = false;
    await writer;
    await finishJob(t.services, jobId, step);
    for (const { client, since } of clients) {
      assert.equal((await client.closed).code, 1000);
      assert.deepEqual(client.metricSteps(), range(since + 1, step), `since ${since}`);
    }
  });

  it('catches up from Postgres after the Redis subscriber reconnects (events published meanwhile are lost)', async () => {
    const jobId = await createJobRow(t.services, tenant.id);
    const client = await openStream(base, jobId, { key: tenant.key });
    await writeMetrics(t.services, jobId, range(1, 5));
    await client.waitFor((m) => m.filter((x) => x.type === 'metrics').length === 5);
    // Steps 6–10 committed but their events never reach this process: what a dropped connection loses.
    await writeMetrics(t.services, jobId, range(6, 10), { publish: false });
    const clients = String(await t.services.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const id = new RegExp(`id=(\\d+) [^\\n]*name=trainyard:${t.services.subscriber.name}( |$)`, 'm').exec(clients)?.[1];
    assert.ok(id, 'the subscriber connection is listed');
    await t.services.redis.call('CLIENT', 'KILL', 'ID', id);
    await client.waitFor((m) => m.filter((x) => x.type === 'metrics').length === 10);
    assert.ok(client.messages.filter((m) => m.step > 5 && m.type === 'metrics').every((m) => m.replayed === true), 'read from Postgres');
    await writeMetrics(t.services, jobId, range(11, 12));
    await finishJob(t.services, jobId, 12);
    assert.equal((await client.closed).code, 1000);
    assert.deepEqual(client.metricSteps(), range(1, 12));
    assert.equal(client.messages.filter((m) => m.type === 'status').length, 2, 'the unchanged status is not repeated');
  });

  it('rejects data frames from the client (1008) and frames above maxPayload (1009), answers pings', async () => {
    const jobId = await createJobRow(t.services, tenant.id);
    const pinger = await openStream(base, jobId, { key: tenant.key });
    const pong = new Promise((resolve) => pinger.ws.once('pong', resolve));
    pinger.ws.ping('hello');
    await pong;
    const talker = await openStream(base, jobId, { key: tenant.key });
    talker.ws.send('subscribe please');
    assert.equal((await talker.closed).code, 1008);
    const big = await openStream(base, jobId, { key: tenant.key });
    big.ws.send(Buffer.alloc(4096));
    assert.equal((await big.closed).code, 1009);
    assert.equal(pinger.ws.readyState, pinger.ws.OPEN);
    pinger.ws.close();
  });

  it('drops a client that stops answering pings, keeps one that answers', async () => {
    // 1 s beats: a client is dropped when its pong has not been read by the next beat, so a beat much shorter than the
    // pauses a loaded machine imposes on this process (server and clients alike) would drop the healthy client too.
    const fast = await buildTestApp({ WS_HEARTBEAT_MS: '1000' });
    try {
      const fastBase = await listen(fast.app);
      const jobId = await createJobRow(fast.services, tenant.id);
      const deaf = await openStream(fastBase, jobId, { key: tenant.key, autoPong: false });
      const healthy = await openStream(fastBase, jobId, { key: tenant.key });
      let pings = 0;
      healthy.ws.on('ping', () => pings++);
      const { code } = await deaf.closed;
      assert.equal(code, 1006); // terminated: no close frame
      // Two more beats, counted by the pings the healthy client answers (not by a sleep): it is kept through them.
      const seen = pings;
      await waitFor('two more pings to the healthy client', () => (pings >= seen + 2 ? true : undefined));
      assert.equal(healthy.ws.readyState, healthy.ws.OPEN);
      healthy.ws.close();
    } finally {
      await fast.close();
    }
  });

  it('closes streams with 1001 when the server shuts down', async () => {
    const other = await buildTestApp();
    const otherBase = await listen(other.app);
    const jobId = await createJobRow(other.services, tenant.id);
    const client = await openStream(otherBase, jobId, { key: tenant.key });
    await client.waitFor((m) => m.length > 0);
    // A client that asked to upgrade elsewhere, got an HTTP answer, and keeps the connection open regardless.
    const lingering = new WebSocket(`${otherBase}/health`);
    await new Promise((resolve) => lingering.once('unexpected-response', resolve));
    const closing = other.close();
    const timeout = sleep(WAIT_MS).then(() => 'timed out');
    assert.notEqual(await Promise.race([closing.then(() => 'closed'), timeout]), 'timed out', 'the server shut down');
    assert.equal((await client.closed).code, 1001);
  });
});

describe('fan-out through Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let baseA: string;
  let baseB: string;
  let tenant: TestTenant;

  before(async () => {
    [a, b] = await Promise.all([buildTestApp(), buildTestApp()]);
    [baseA, baseB] = await Promise.all([listen(a.app), listen(b.app)]);
    tenant = await createTenant(a.services);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('delivers every event to streams on two API instances, one Redis subscription per job and process', async () => {
    const jobId = await createJobRow(a.services, tenant.id);
    const onA = [await openStream(baseA, jobId, { key: tenant.key }), await openStream(baseA, jobId, { key: tenant.key })];
    const onB = await openStream(baseB, jobId, { key: tenant.key });
    for (const c of [...onA, onB]) await c.waitFor((m) => m.some((x) => x.type === 'status'));
    assert.deepEqual(a.services.jobStreams.stats.hub, { jobs: 1, listeners: 2 });
    assert.deepEqual(a.services.subscriber.listening().filter((c) => c.includes(':job:')), [jobEventsChannel(a.config.queuePrefix, jobId)]);

    await writeMetrics(a.services, jobId, range(1, 100));
    await finishJob(a.services, jobId, 100);
    for (const c of [...onA, onB]) {
      assert.equal((await c.closed).code, 1000);
      assert.deepEqual(c.metricSteps(), range(1, 100));
    }
    assert.deepEqual(onB.messages, onA[0]!.messages);
    // The last stream gone, the subscription goes too.
    assert.deepEqual(a.services.jobStreams.stats.hub, { jobs: 0, listeners: 0 });
    assert.deepEqual(a.services.subscriber.listening().filter((c) => c.includes(':job:')), []);
  });
});

describe('a slow consumer', () => {
  let t: TestApp;
  let base: string;
  let tenant: TestTenant;
  const MAX_BUFFERED = 16 * 1024;

  before(async () => {
    t = await buildTestApp({ WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) });
    base = await listen(t.app);
    tenant = await createTenant(t.services);
  });
  after(() => t.close());

  it('gets coalesced metrics within a bounded buffer, and never holds up a fast one', async () => {
    const jobId = await createJobRow(t.services, tenant.id);
    const fast = await openStream(base, jobId, { key: tenant.key });
    const slow = await openStream(base, jobId, { key: tenant.key });
    for (const c of [fast, slow]) await c.waitFor((m) => m.some((x) => x.type === 'status'));
    slow.ws.pause(); // stops reading: the kernel buffers fill, then the server's

    const EVENTS = 1500;
    const LAYERS = 60; // ≈ 12 KB per metrics message: ≈ 18 MB in all, well past the socket buffers
    const record = metricRecord(1, LAYERS);
    let maxBuffered = 0;
    let maxWaiting = 0;
    for (let step = 1; step <= EVENTS; step++) {
      await publish(t.services, { type: 'metrics', jobId, attempt: 1, step, epoch: 0, record: { ...record, step } });
      if (step % 50 === 0) {
        await publish(t.services, { type: 'checkpoint', jobId, attempt: 1, step, epoch: 0, checkpointId: crypto.randomUUID(), trigger: 'steps', metric: null, isBest: false, bytes: 1 });
        const stats = t.services.jobStreams.stats.streams.find((s) => s.coalesced > 0);
        if (stats) {
          maxBuffered = Math.max(maxBuffered, stats.bufferedAmount);
          maxWaiting = Math.max(maxWaiting, stats.waiting);
        }
      }
    }
    await fast.waitFor((m) => m.filter((x) => x.type === 'metrics').length === EVENTS, 120_000);
    assert.deepEqual(fast.metricSteps(), range(1, EVENTS));

    const slowStats = t.services.jobStreams.stats.streams.find((s) => s.coalesced > 0);
    assert.ok(slowStats, 'the slow stream coalesced metrics');
    const messageBytes = JSON.stringify(record).length + 200;
    assert.ok(maxBuffered <= MAX_BUFFERED + messageBytes, `socket buffer ${maxBuffered} bytes`);
    // One metrics message waits at most, plus the checkpoints published meanwhile (bounded by MAX_WAITING_EVENTS).
    assert.ok(maxWaiting <= 1 + EVENTS / 50, `${maxWaiting} messages waiting`);

    await finishJob(t.services, jobId, EVENTS);
    assert.equal((await fast.closed).code, 1000);
    slow.ws.resume();
    assert.equal((await slow.closed).code, 1000);
    const steps = slow.metricSteps();
    assert.ok(steps.length < EVENTS, `the slow client got ${steps.length} of ${EVENTS} metrics`);
    assert.equal(steps.at(-1), EVENTS, 'the newest metrics reached it');
    assert.deepEqual(steps, [...steps].sort((x, y) => x - y), 'in step order');
    const skipped = slow.messages.filter((m) => m.type === 'metrics').reduce((sum, m) => sum + (m.skipped ?? 0), 0);
    assert.equal(steps.length + skipped, EVENTS, 'every dropped metrics message is counted in `skipped`');
    assert.equal(slow.messages.filter((m) => m.type === 'checkpoint').length, EVENTS / 50, 'no checkpoint event lost');
    assert.equal(slow.messages.at(-1)!.status, 'succeeded');
  });
});
