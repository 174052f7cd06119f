/** Helpers for the dataset tests: building bodies, uploading, and counting what a tenant has stored. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { Db } from '../../src/db/client.js';
import type { TestTenant } from '../helpers/app.js';

export function csvOf(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

/** POST /v1/datasets with a raw body. */
export function upload(app: FastifyInstance, tenant: TestTenant, body: string | Buffer, contentType = 'text/csv', query = '') {
  return request(app.server).post(`/v1/datasets${query}`).set(tenant.auth).set('content-type', contentType).send(body);
}

/** Datasets and chunks the tenant has: what a rejected upload must leave unchanged. */
export async function stored(db: Db, tenantId: string): Promise<{ datasets: number; chunks: number }> {
  const [datasets, chunks] = await Promise.all([db.dataset.count({ where: { tenantId } }), db.datasetChunk.count({ where: { dataset: { tenantId } } })]);
  return { datasets, chunks };
}

export interface StreamedResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * POSTs a body produced piece by piece (never held whole) over real HTTP to a listening app (or a base URL on
 * 127.0.0.1), honouring backpressure.
 * Resolves with the answer even when the server answers before the body is fully sent.
 */
export async function streamPost(
  target: FastifyInstance | string,
  path: string,
  headers: Record<string, string>,
  pieces: Iterable<string | Buffer>,
): Promise<StreamedResponse> {
  const port = typeof target === 'string' ? Number(new URL(target).port) : (target.server.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown> }));
      res.on('error', reject);
    });
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const iterator = pieces[Symbol.iterator]();
    const pump = () => {
      for (;;) {
        if (answered) return req.end();
        const next = iterator.next();
        if (next.done) return req.end();
        if (!req.write(next.value)) return req.once('drain', pump);
      }
    };
    pump();
  });
}
