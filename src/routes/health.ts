/** GET /health: the process is alive. GET /ready: Postgres and Redis answer and every migration is applied. */
import type { FastifyInstance } from 'fastify';
import { pendingMigrations, readMigrations, type MigrationFile } from '../db/migrations.js';
import { apiError } from '../errors.js';
import { sendProblem } from '../http/problem-handlers.js';
import { example } from '../http/openapi-docs.js';
import { Type } from 'typebox';

type Check = 'ok' | string;

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { db, redis } = app.services;
  let migrations: MigrationFile[] | undefined;

  app.get('/health', {
    schema: {
      summary: 'Liveness: the process answers', tags: ['meta'],
      response: { 200: example(Type.Object({ status: Type.Literal('ok') }), { status: 'ok' }) }, errors: [],
    },
  }, async () => ({ status: 'ok' as const }));

  app.get('/ready', {
    schema: {
      summary: 'Readiness: Postgres and Redis answer, every migration is applied (503 NOT_READY naming the failing check)', tags: ['meta'],
      response: {
        200: example(
          Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Type.String()) }),
          { status: 'ready', checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' } },
        ),
      },
      errors: ['NOT_READY'],
    },
  }, async (_request, reply) => {
    migrations ??= await readMigrations();
    const files = migrations;
    const [postgres, pending, redisCheck] = await Promise.all([
      settle(db.$queryRaw`SELECT 1`.then(() => 'ok')),
      settle(pendingMigrations((sql) => db.$queryRawUnsafe<{ migration_name: string }[]>(sql), files)),
      settle(redis.ping().then(() => 'ok')),
    ]);
    const checks: Record<string, Check> = {
      postgres,
      redis: redisCheck,
      migrations: Array.isArray(pending) ? (pending.length ? `pending: ${pending.join(', ')}` : 'ok') : pending,
    };
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failing.length === 0) return { status: 'ready', checks };
    return sendProblem(reply, apiError('NOT_READY', failing.map(([k, v]) => `${k}: ${v}`).join('; '), { checks }));
  });
}

async function settle<T>(promise: Promise<T>): Promise<T | string> {
  try {
    return await promise;
  } catch (error) {
    return `unavailable (${(error as Error).message.split('\n')[0]})`;
  }
}
