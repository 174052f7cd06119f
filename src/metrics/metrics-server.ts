/**
 * A worker's GET /metrics on a port of its own (WORKER_METRICS_PORT, WORKER_METRICS_HOST): a bare node:http server,
 * since a worker has no HTTP API. With METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>`.
 * Each worker process needs its own port: in Docker each container has its own address (compose's Prometheus finds
 * them all through the service's DNS name); several workers on one host need one port each.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { metricsTokenCheck } from './token.js';
import { workerRegistry } from './worker-metrics.js';

export interface MetricsServer {
  /** http://host:port/metrics */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(options: { registry: Registry; host: string; port: number; token: string | null }): Promise<MetricsServer> {
  const authorized = metricsTokenCheck(options.token);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics here\n');
      return;
    }
    if (!authorized(request.headers.authorization)) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="trainyard-metrics"' }).end('GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`\n');
      return;
    }
    options.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`),
    );
  });
  server.keepAliveTimeout = 65_000; // longer than Prometheus' scrape interval: one connection per scraper
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * A worker's metrics port per the config (WORKER_METRICS_PORT; 0: none). A port that cannot be opened (taken, not
 * allowed) is logged as one warning naming WORKER_METRICS_PORT, and the worker trains on without it.
 */
export async function serveWorkerMetrics(
  config: Pick<Config, 'metrics'>,
  logger: { info(object: object, message: string): void; warn(object: object, message: string): void },
): Promise<MetricsServer | null> {
  const { workerPort: port, workerHost: host, token } = config.metrics;
  if (port === 0) return null;
  try {
    const server = await startMetricsServer({ registry: workerRegistry, host, port, token });
    logger.info({ url: server.url }, 'worker metrics served');
    return server;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'is not allowed' : `failed (${(error as Error).message})`;
    logger.warn({ host, port }, `WORKER_METRICS_PORT=${port} on ${host} ${why}: this worker's metrics are not served (give each worker on a host its own port)`);
    return null;
  }
}
