/**
 * The dashboard's HTTP side: GET / answers the page (index.html) and GET /assets/* its bundled script and styles, from
 * `dist/dashboard/` (built at install; built here when missing or older than its sources, see ./build.ts). Both are
 * unauthenticated: the page holds no data, it asks the API with the key the user pastes. Hidden from the OpenAPI
 * document (they are not API routes). The page loads nothing but these, so the API's CSP (`'self'`) suits it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { DASHBOARD_DIST, ensureDashboardBuilt } from './build.js';

export interface DashboardOptions {
  /** Where the built page is. Default dist/dashboard/. */
  dir?: string;
}

export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions = {}): Promise<void> {
  const dir = options.dir ?? DASHBOARD_DIST;
  await ensureDashboardBuilt(dir);

  await app.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    // Revalidated on every load (ETag / Last-Modified), so a new build shows at once.
    cacheControl: true,
    maxAge: 0,
  });

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const html = await readFile(path.join(dir, 'index.html'));
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });
}
