/**
 * GET /v1/jobs/:id/stream — a job's live progress over a WebSocket (protocol: src/streams/job-stream.ts, README).
 * Authentication and the job's existence are checked before the upgrade, so a bad key is a 401, an unknown job a 404
 * and a Redis outage a 503 QUEUE_UNAVAILABLE HTTP answer. Clients send nothing but pings and pongs: frames are limited to MAX_PAYLOAD bytes, and any data
 * frame closes the connection (1008).
 */
import type { Duplex } from 'node:stream';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { apiError } from '../../errors.js';
import type { Redis } from 'ioredis';
import { CLOSE } from '../../streams/job-stream.js';
import { example } from '../../http/openapi-docs.js';
import { isUpgradeRequest } from './upgrade-requests.js';
import { sweepStreamRoutes } from '../sweeps/stream.js';

/** Largest frame a client may send (control frames carry at most 125 bytes). */
export const MAX_PAYLOAD = 1024;
/** ioredis states of a connection that is down (lost, or given up). */
const REDIS_DOWN: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

/** Whether Redis answers: ready now, or within `ms` when a connect is under way (the first one, or a retry). */
function redisUsable(redis: Redis, ms = 1000): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  if (REDIS_DOWN.has(redis.status)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (usable: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(usable);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.once('ready', onReady);
  });
}
/** How long shutdown waits for clients to answer the close frame before cutting them off. */
const CLOSE_GRACE_MS = 1000;

const Params = Type.Object({ id: Type.String({ maxLength: 100 }) });
/** One message of the stream (documentation: the contract is src/queue/job-events.ts). */
const StreamMessage = Type.Object({
  v: Type.Integer(),
  type: Type.String({ description: 'metrics | status | checkpoint | warning | decision' }),
  jobId: Type.String(),
  attempt: Type.Integer(),
  step: Type.Integer(),
  at: Type.String(),
}, { additionalProperties: true, description: 'Switching Protocols: the WebSocket is open; each message is one JSON event like this one' });

const STREAM_MESSAGE_EXAMPLE = {
  v: 1, type: 'status', jobId: '3f0b9a52-8c1e-4a57-9d6f-2b7e0c4d1a93', attempt: 1, step: 120, at: '2026-01-01T12:00:00.000Z', status: 'running',
};

const Query = Type.Object({
  /** Replay stored metrics with a step above this; all when absent (or -1), as in GET /v1/jobs/:id/metrics. */
  since: Type.Optional(Type.Integer({ minimum: -1 })),
  /** The API key, for browsers (see ./upgrade-requests.ts). */
  access_token: Type.Optional(Type.String()),
});

export async function jobStreamRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { jobStreams, redis } = app.services;

  // Every socket an upgrade request arrived on (Node hands them over to us): at shutdown, whatever a client left open
  // (a WebSocket, or an upgrade answered with an error on any path) is cut, so that the server can close.
  const upgraded = new Set<Duplex>();
  const track = (_request: unknown, socket: Duplex) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  };
  app.server.on('upgrade', track);

  await app.register(websocket, {
    options: { maxPayload: MAX_PAYLOAD, perMessageDeflate: false },
    preClose(done) {
      app.server.off('upgrade', track);
      const clients = [...this.websocketServer.clients];
      for (const client of clients) client.close(CLOSE.goingAway, 'server shutting down');
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(cutOff);
        for (const socket of upgraded) socket.destroy();
        done();
      };
      const cutOff = setTimeout(() => {
        for (const client of clients) client.terminate();
        finish();
      }, CLOSE_GRACE_MS);
      const check = () => {
        if (clients.every((c) => c.readyState === c.CLOSED)) finish();
      };
      for (const client of clients) client.once('close', check);
      check();
    },
  });

  app.route({
    method: 'GET',
    url: '/jobs/:id/stream',
    schema: {
      summary: "A job's live progress (WebSocket)",
      description: 'Upgrades to a WebSocket (`Connection: Upgrade`, `Upgrade: websocket`). Each message is one JSON event: the stored '
        + '`metrics` records after `?since` (marked `replayed`), one `status`, then live `metrics`, `status`, `checkpoint`, `warning` and '
        + '`decision` events; the server closes with 1000 after the final status. Browsers pass the key as `?access_token=`. '
        + 'A plain HTTP request answers 426 `UPGRADE_REQUIRED`.',
      tags: ['streams'],
      params: Params,
      querystring: Query,
      response: { 101: example(StreamMessage, STREAM_MESSAGE_EXAMPLE) },
      errors: ['UPGRADE_REQUIRED', 'JOB_NOT_FOUND', 'QUEUE_UNAVAILABLE'],
    },
    preHandler: async (request, reply) => {
      const { id } = request.params;
      if (!isUpgradeRequest(request)) {
        reply.header('upgrade', 'websocket').header('connection', 'Upgrade');
        throw apiError('UPGRADE_REQUIRED', `GET /v1/jobs/${clippedId(id)}/stream is a WebSocket: send Connection: Upgrade and Upgrade: websocket (from a browser: new WebSocket(url))`);
      }
      // Live events come through Redis: while it is away, say so before the upgrade rather than open a silent stream.
      if (!(await redisUsable(redis))) throw apiError('QUEUE_UNAVAILABLE', 'Live events (Redis) are unavailable right now; retry later');
      // Through the streams' shared, bounded reads: a thousand upgrades for one job are one query.
      const exists = isUuid(id) && (await jobStreams.reads.jobExists(tenantOf(request).id, id, jobStreams.reads.mark()));
      if (!exists) throw apiError('JOB_NOT_FOUND', `No job ${id}`);
    },
    // Reached by plain HTTP requests only if the preHandler let one through (it does not): the same 426.
    handler: async () => {
      throw apiError('UPGRADE_REQUIRED', 'This route is a WebSocket: send Connection: Upgrade and Upgrade: websocket');
    },
    wsHandler: (socket, request) => {
      const target = { tenantId: tenantOf(request).id, jobId: request.params.id, since: request.query.since ?? -1 };
      void jobStreams.open(socket, target, request.log);
    },
  });
  // GET /v1/sweeps/:id/stream shares this plugin's WebSocket server (src/routes/sweeps/stream.ts).
  await app.register(sweepStreamRoutes);
}

/** An id as echoed in a message: at most 100 characters (the schema's limit). */
function clippedId(id: string): string {
  return id.length <= 100 ? id : `${id.slice(0, 100)}…`;
}
