/**
 * `ty.jobs.wait()` in Node (the `ws` package) against a real API process and a real worker process: it resolves with
 * the finished job both when it starts before the job ends and when the job had ended long before (a full replay of
 * the stored curve, then the terminal status, then close 1000).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Trainyard, type JobEvent } from '../../src/client/node.js';
import { createDb } from '../../src/db/client.js';
import { createKey } from '../../src/db/repositories/tenants.js';
import { testConfig, uniqueName } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { startProcess, type Running } from '../helpers/processes.js';

const WORKER_ENV = { ENGINE_THREADS: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '60000', LOG_LEVEL: 'info' };
/** A hang becomes a failure after this long (never a pass sooner). */
const LONG = 180_000;

function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not return within ${LONG} ms`)), LONG)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('ty.jobs.wait in Node', () => {
  let own: Installation;
  let api: Running;
  let worker: Running;
  let ty: Trainyard;

  before(async () => {
    own = await ownInstallation('client-wait');
    api = startProcess('src/server.ts', { ...own.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' });
    worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env });
    const url = (await api.waitFor(/Trainyard API listening on (http:\/\/\S+)/, LONG))[1]!;
    const db = createDb(testConfig(own.env));
    const { key } = await createKey(db, uniqueName('wait')).finally(() => db.$disconnect());
    await worker.waitFor(/worker ready/, LONG);
    ty = new Trainyard({ url, key });
  });

  after(async () => {
    await Promise.all([worker?.stop('SIGTERM'), api?.stop('SIGTERM')]);
    await own?.drop();
  });

  it('resolves with the succeeded job, while it trains and long after it ended', async () => {
    const dataset = await ty.datasets.synthetic({ kind: 'spiral', n: 60, classes: 3, seed: 4 });
    const job = await ty.jobs.submit({ datasetId: dataset.id, network: { layers: [{ units: 24 }] }, training: { epochs: 30, seed: 3 } });
    const live: JobEvent[] = [];
    const done = await within('wait() on a running job', ty.jobs.wait(job.id, { onEvent: (e) => live.push(e) }));
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    assert.ok(live.some((e) => e.type === 'status' && e.status === 'succeeded'));

    const replayed: JobEvent[] = [];
    const again = await within('wait() on a finished job', ty.jobs.wait(job.id, { onEvent: (e) => replayed.push(e) }));
    assert.equal(again.status, 'succeeded');
    const metrics = replayed.filter((e) => e.type === 'metrics');
    assert.equal(metrics.length, (await ty.jobs.allMetrics(job.id)).count, 'the whole stored curve is replayed');
    assert.equal(replayed.at(-1)?.type, 'status');
  });
});
