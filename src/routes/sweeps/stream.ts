/**
 * GET /v1/sweeps/:id/stream — every trial's live events over one WebSocket (protocol: src/sweeps/stream.ts). Registered
 * inside the WebSocket routes' plugin (src/routes/streams/job-stream.ts), which owns @fastify/websocket; checks the key
 * and the sweep before the upgrade, like the job stream.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { apiError } from '../../errors.js';
import { example } from '../../http/openapi-docs.js';
import { serveSweepStream } from '../../sweeps/stream.js';
import { isUpgradeRequest } from '../streams/upgrade-requests.js';

const Params = Type.Object({ id: Type.String({ maxLength: 100 }) });
const Query = Type.Object({ access_token: Type.Optional(Type.String({ description: 'The API key, for browsers.' })) });
const StreamMessage = Type.Object({
  type: Type.String({ description: 'sweep | trial | metrics | status | checkpoint | warning | decision' }),
  sweepId: Type.String(),
  trial: Type.Optional(Type.Integer()),
  jobId: Type.Optional(Type.String()),
}, { additionalProperties: true, description: 'Switching Protocols: each message is one JSON event like this one' });

export async function sweepStreamRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, jobStreams, config } = app.services;
  app.route({
    method: 'GET',
    url: '/sweeps/:id/stream',
    schema: {
      summary: "A sweep's live events, every trial's (WebSocket)",
      description: 'Upgrades to a WebSocket. First a `sweep` message (status, trials), then every trial’s job events (as on '
        + 'GET /v1/jobs/:id/stream) tagged with `sweepId` and `trial`, a `trial` message when a trial is released, and a final `sweep` '
        + 'message before the server closes with 1000.',
      tags: ['streams'],
      params: Params,
      querystring: Query,
      response: { 101: example(StreamMessage, { type: 'metrics', sweepId: '7d4f2c1e-3b5a-4e8f-9a1b-2c3d4e5f6a7b', trial: 1, jobId: '3f0b9a52-8c1e-4a57-9d6f-2b7e0c4d1a93' }) },
      errors: ['UPGRADE_REQUIRED', 'SWEEP_NOT_FOUND'],
    },
    preHandler: async (request, reply) => {
      if (!isUpgradeRequest(request)) {
        reply.header('upgrade', 'websocket').header('connection', 'Upgrade');
        throw apiError('UPGRADE_REQUIRED', 'GET /v1/sweeps/:id/stream is a WebSocket: send Connection: Upgrade and Upgrade: websocket');
      }
      const { id } = request.params;
      const exists = isUuid(id) && (await db.sweep.count({ where: { id, tenantId: tenantOf(request).id } })) > 0;
      if (!exists) throw apiError('SWEEP_NOT_FOUND', `No sweep ${id}`, { sweepId: id });
    },
    handler: async () => {
      throw apiError('UPGRADE_REQUIRED', 'This route is a WebSocket: send Connection: Upgrade and Upgrade: websocket');
    },
    wsHandler: (socket, request) => {
      const deps = { db, hub: jobStreams.hub, maxBufferedBytes: config.stream.maxBufferedBytes, log: request.log };
      serveSweepStream(socket, deps, tenantOf(request).id, request.params.id).catch((error: unknown) => {
        request.log.warn({ err: error }, 'sweep stream failed');
        socket.close(1011, 'internal error');
      });
    },
  });
}
