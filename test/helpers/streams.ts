/**
 * Job stream tests without a worker: Job and Metric rows written directly, events published with the contract's own
 * publishJobEvent (after the rows, as a worker does), and real WebSocket clients (`ws`) against a listening app.
 */
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import type { LayerStats } from '../../src/engine/stats.js';
import { publishJobEvent, type JobEventInput, type MetricRecord } from '../../src/queue/job-events.js';
import type { Services } from '../../src/services.js';
import { WAIT_MS } from './wait.js';

export async function listen(app: FastifyInstance): Promise<string> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return address.replace(/^http/, 'ws');
}

export async function createJobRow(services: Services, tenantId: string, status: 'queued' | 'running' | 'succeeded' = 'running'): Promise<string> {
  const job = await services.db.job.create({
    data: { tenantId, spec: {}, parameterCount: 10, totalSteps: 1_000_000, status, attempt: status === 'queued' ? 0 : 1 },
    select: { id: true },
  });
  return job.id;
}

/** A metrics record for `step`; `layers` entries of statistics make it as large as a test needs. */
export function metricRecord(step: number, layers = 1): MetricRecord {
  const stats: LayerStats[] = Array.from({ length: layers }, (_, l) => ({
    name: `dense${l}`, kind: 'dense', activation: 'relu', gradNorm: step / 7, weightNorm: 1.5, updateRatio: 0.001,
    activationMean: 0.25, activationStd: 0.5, deadFraction: 0.1, saturatedFraction: null,
  }) as LayerStats);
  return {
    step, epoch: Math.floor(step / 10), trainLoss: 1 / step, dataLoss: 1 / step, regLoss: 0, trainAccuracy: null, valLoss: null,
    valAccuracy: null, valRmse: null, valR2: null, learningRate: 0.01, samplesPerSec: 1000, layers: stats,
  };
}

/** Stores the metrics rows, then publishes their events, one step after the other (a worker's order). */
export async function writeMetrics(services: Services, jobId: string, steps: Iterable<number>, options: { publish?: boolean; layers?: number } = {}): Promise<void> {
  for (const step of steps) {
    const record = metricRecord(step, options.layers);
    await services.db.metric.upsert({
      where: { jobId_step: { jobId, step } },
      create: { jobId, ...record, layers: record.layers as object[] },
      update: {},
    });
    if (options.publish ?? true) await publish(services, { type: 'metrics', jobId, attempt: 1, step, epoch: record.epoch, record });
  }
}

export function publish(services: Services, event: JobEventInput): Promise<number> {
  return publishJobEvent(services.redis, services.config.queuePrefix, event);
}

export async function finishJob(services: Services, jobId: string, step: number): Promise<void> {
  await services.db.job.update({ where: { id: jobId }, data: { status: 'succeeded', step, finishedAt: new Date() } });
  await publish(services, { type: 'status', jobId, attempt: 1, step, epoch: 0, status: 'succeeded', code: null, reason: null, modelId: null });
}

export interface StreamMessage {
  type: string;
  step: number;
  status?: string;
  replayed?: boolean;
  skipped?: number;
  [key: string]: unknown;
}

export interface StreamClient {
  ws: WebSocket;
  messages: StreamMessage[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves when `done(messages)` holds (checked at every message); rejects after timeoutMs (default WAIT_MS), a hang turned into a failure. */
  waitFor(done: (messages: StreamMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  metricSteps(): number[];
}

export interface OpenOptions {
  key?: string;
  /** Send the key as ?access_token= instead of a header. */
  keyInQuery?: boolean;
  since?: number;
  autoPong?: boolean;
}

/** Opens a stream; rejects with Error(`HTTP <status>`) when the upgrade is refused and the server closed the connection. */
export function openStream(base: string, jobId: string, options: OpenOptions = {}): Promise<StreamClient> {
  const query = new URLSearchParams();
  if (options.since !== undefined) query.set('since', String(options.since));
  if (options.key && options.keyInQuery) query.set('access_token', options.key);
  const url = `${base}/v1/jobs/${jobId}/stream${query.size ? `?${query}` : ''}`;
  const headers = options.key && !options.keyInQuery ? { authorization: `Bearer ${options.key}` } : undefined;
  const ws = new WebSocket(url, { headers, autoPong: options.autoPong ?? true });
  const messages: StreamMessage[] = [];
  const listeners = new Set<() => void>();
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as StreamMessage);
    for (const l of listeners) l();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const client: StreamClient = {
    ws,
    messages,
    closed,
    metricSteps: () => messages.filter((m) => m.type === 'metrics').map((m) => m.step),
    waitFor(done, timeoutMs = WAIT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(messages)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out; got ${messages.length} messages: ${JSON.stringify(messages.slice(-3)).slice(0, 400)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    // A refused upgrade: wait until the server hangs up (it must: this client does not), then report the status.
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      const refused = () => reject(new Error(`HTTP ${res.statusCode}`));
      if (req.socket) req.socket.once('close', refused);
      else refused();
    });
    ws.once('error', reject);
  });
}
