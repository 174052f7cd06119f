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

  app.get(
    '/jobs/:id/stream',
    {
      websocket: true,
      schema: { params: Params, querystring: Query },
      preHandler: async (request) => {
        const { id } = request.params;
        // Live events come through Redis: while it is away, say so before the upgrade rather than open a silent stream.
        if (!(await redisUsable(redis))) throw apiError('QUEUE_UNAVAILABLE', 'Live events (Redis) are unavailable right now; retry later');
        // Through the streams' shared, bounded reads: a thousand upgrades for one job are one query.
        const exists = isUuid(id) && (await jobStreams.reads.jobExists(tenantOf(request).id, id, jobStreams.reads.mark()));
        if (!exists) throw apiError('JOB_NOT_FOUND', `No job ${id}`);
      },
    },
    (socket, request) => {
      const target = { tenantId: tenantOf(request).id, jobId: request.params.id, since: request.query.since ?? -1 };
      void jobStreams.open(socket, target, request.log);
    },
  );
}
