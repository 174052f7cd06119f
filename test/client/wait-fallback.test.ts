/**
 * `ty.jobs.wait()` and `ty.sweeps.wait()` when the stream never brings the end: live events are best-effort (a worker
 * whose publish to Redis fails logs it and trains on), so a terminal `status` can be lost and the stream stays open.
 * A small real HTTP + WebSocket server plays the API: its stream sends `running` and then nothing, while the REST
 * route answers the finished job (or sweep). wait() must still resolve, and close its socket.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { Trainyard, type JobEvent, type SweepEvent } from '../../src/client/node.js';

const JOB = '3f0b9a52-8c1e-4a57-9d6f-2b7e0c4d1a93';
const SWEEP = '7d4f2c1e-3b5a-4e8f-9a1b-2c3d4e5f6a7b';

describe('wait() when the stream never says the end', () => {
  let server: Server;
  let sockets: WebSocketServer;
  let ty: Trainyard;
  let status = { job: 'running', sweep: 'running' };
  const open = new Set<WebSocket>();
  const closedByClient: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      const kind = request.url?.startsWith(`/v1/jobs/${JOB}`) ? 'job' : request.url?.startsWith(`/v1/sweeps/${SWEEP}`) ? 'sweep' : null;
      if (!kind) return void response.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'ROUTE_NOT_FOUND', status: 404 }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: kind === 'job' ? JOB : SWEEP, status: status[kind] }));
    });
    sockets = new WebSocketServer({ server });
    sockets.on('connection', (socket, request) => {
      open.add(socket);
      socket.on('close', () => {
        open.delete(socket);
        closedByClient.push(request.url!.split('?')[0]!);
      });
      if (request.url?.startsWith(`/v1/jobs/${JOB}/stream`)) {
        socket.send(JSON.stringify({ v: 1, type: 'status', jobId: JOB, attempt: 1, step: 0, at: new Date().toISOString(), status: 'running', epoch: 0, code: null, reason: null, modelId: null }));
      } else {
        socket.send(JSON.stringify({ type: 'sweep', sweepId: SWEEP, status: 'running', trials: [{ trial: 0, jobId: JOB, status: 'running' }] }));
      }
      // …and then nothing: the terminal event was lost.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ty = new Trainyard({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, key: 'ty_test' });
  });

  after(async () => {
    for (const socket of open) socket.terminate();
    sockets.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('jobs.wait resolves with the job once a read shows it ended, and closes its stream', async () => {
    status = { job: 'running', sweep: 'running' };
    const events: JobEvent[] = [];
    const waiting = ty.jobs.wait(JOB, { onEvent: (e) => events.push(e), checkEveryMs: 50 });
    // It keeps waiting while the job runs: a few reads answered `running` do not end it.
    let settled = false;
    void waiting.finally(() => (settled = true));
    while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(settled, false, 'wait() returned while the job was running');
    status.job = 'succeeded';
    const job = await waiting;
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(events.map((e) => e.type === 'status' && e.status), ['running']);
    await waitUntil(() => closedByClient.includes(`/v1/jobs/${JOB}/stream`));
  });

  it('sweeps.wait resolves with the sweep once a read shows it ended, and closes its stream', async () => {
    status = { job: 'running', sweep: 'running' };
    const events: SweepEvent[] = [];
    const waiting = ty.sweeps.wait(SWEEP, { onEvent: (e) => events.push(e), checkEveryMs: 50 });
    let settled = false;
    void waiting.finally(() => (settled = true));
    while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(settled, false, 'wait() returned while the sweep was running');
    status.sweep = 'succeeded';
    const sweep = await waiting;
    assert.equal(sweep.status, 'succeeded');
    assert.equal(events[0]?.type, 'sweep');
    await waitUntil(() => closedByClient.includes(`/v1/sweeps/${SWEEP}/stream`));
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
