/**
 * Requests while a job's streams pile up: `subscribers` WebSocket streams of one running job open with ?since=-1 (each
 * replays the job's `metrics` stored records), in a worker thread of their own, while the main thread measures
 * GET /v1/jobs/:id back to back and, once half the streams are open, POST /v1/jobs/:id/cancel between them. Then the job ends as a
 * worker would end it (the row cancelled, the status published), and every stream must receive that status and close.
 * Used by `npm run bench:service` (the latency figures) and by test/streams/fan-out-load.test.ts (the invariants).
 */
import type { Worker } from 'node:worker_threads';
import { startThread } from '../src/engine/thread-entry.js';
import { publishJobEvent, type MetricRecord } from '../src/queue/job-events.js';
import type { Services } from '../src/services.js';
import type { StreamLoadClientsData, StreamLoadClientsReply } from './stream-load-clients.js';

export interface StreamLoadOptions {
  subscribers: number;
  /** Stored metrics records of the job (replayed by every stream). */
  metrics: number;
  /** Streams opened at once by the clients. Default 50 */
  batch?: number;
  /** Longest wait for any phase. Default 180 s */
  timeoutMs?: number;
}

export interface StreamLoadResult {
  jobId: string;
  subscribers: number;
  metrics: number;
  /** GET /v1/jobs/:id while streams connect and replay: latencies and statuses ("200", "503 OVERLOADED", ...). */
  get: ProbeSummary;
  /** POST /v1/jobs/:id/cancel likewise (the job is running: 202). */
  cancel: ProbeSummary;
  /** Streams open when the first cancel was sent. */
  openedAtCancel: number;
  connectMs: number;
  readyMs: number;
  replayedMessages: number;
  finalStatuses: number;
  refused: number;
  closeCodes: Record<number, number>;
  /** Postgres queries the streams ran (shared reads), against the reads they asked for. */
  streamQueries: number;
  streamReads: number;
  /** The most stream queries that ever ran at once in the process. */
  streamMaxConcurrentQueries: number;
}

export interface StreamLoadTarget {
  /** http://127.0.0.1:<port> of the listening API */
  url: string;
  services: Services;
  tenant: { id: string; key: string };
}

export interface ProbeSummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
}

/** Latencies and statuses of one kind of request. */
class Probe {
  private readonly ms: number[] = [];
  private readonly statuses: Record<string, number> = {};

  add(res: { status: number; ms: number; json: Record<string, unknown> }): void {
    this.ms.push(res.ms);
    const label = res.status < 300 ? String(res.status) : `${res.status} ${String(res.json.code)}`;
    this.statuses[label] = (this.statuses[label] ?? 0) + 1;
  }

  get count(): number {
    return this.ms.length;
  }

  summary(): ProbeSummary {
    const sorted = [...this.ms].sort((a, b) => a - b);
    return { count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? NaN, statuses: { ...this.statuses } };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}

const record = (step: number): MetricRecord => ({
  step, epoch: Math.floor(step / 10), trainLoss: 1 / step, dataLoss: 1 / step, regLoss: 0, trainAccuracy: 0.5, valLoss: null, valAccuracy: null,
  valRmse: null, valR2: null, learningRate: 0.01, samplesPerSec: 5000, layers: [],
});

async function api(target: StreamLoadTarget, method: string, path: string, body?: unknown): Promise<{ status: number; ms: number; json: Record<string, unknown> }> {
  const started = performance.now();
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.tenant.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: res.status, ms: performance.now() - started, json };
}

/** A real job of the tenant (a small synthetic dataset), marked running as a worker would, with `metrics` stored records. */
async function runningJob(target: StreamLoadTarget, metrics: number): Promise<string> {
  const dataset = await api(target, 'POST', '/v1/datasets/synthetic', { kind: 'xor', n: 40, seed: 1 });
  if (dataset.status !== 201) throw new Error(`creating the dataset: ${dataset.status} ${JSON.stringify(dataset.json)}`);
  const job = await api(target, 'POST', '/v1/jobs', { datasetId: dataset.json.id, training: { epochs: 1 } });
  if (job.status !== 201) throw new Error(`creating the job: ${job.status} ${JSON.stringify(job.json)}`);
  const jobId = String(job.json.id);
  const { db } = target.services;
  await db.job.update({ where: { id: jobId }, data: { status: 'running', attempt: 1, startedAt: new Date() } });
  await db.metric.createMany({ data: Array.from({ length: metrics }, (_, i) => ({ jobId, ...record(i + 1), layers: [] })) });
  return jobId;
}

export async function measureStreamLoad(target: StreamLoadTarget, options: StreamLoadOptions): Promise<StreamLoadResult> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const jobId = await runningJob(target, options.metrics);
  const readsBefore = target.services.jobStreams.reads.stats;
  const data: StreamLoadClientsData = {
    url: `${target.url.replace(/^http/, 'ws')}/v1/jobs/${jobId}/stream`, key: target.tenant.key, subscribers: options.subscribers,
    batch: options.batch ?? 50, finalStatus: 'cancelled',
  };
  const worker: Worker = startThread(new URL('./stream-load-clients.ts', import.meta.url), { workerData: data });
  const replies: StreamLoadClientsReply[] = [];
  let failure: unknown = null;
  worker.on('message', (m: StreamLoadClientsReply) => replies.push(m));
  worker.on('error', (e) => (failure = e));
  /** The first reply of `type` (already received or to come). */
  const reply = async <T extends StreamLoadClientsReply['type']>(type: T, accept: (r: Extract<StreamLoadClientsReply, { type: T }>) => boolean = () => true) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (failure) throw failure;
      const found = replies.find((r): r is Extract<StreamLoadClientsReply, { type: T }> => r.type === type && accept(r as Extract<StreamLoadClientsReply, { type: T }>));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`stream load: no '${type}' from the clients within ${timeoutMs} ms (last: ${JSON.stringify(replies.at(-1))})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const opened = () => replies.reduce((n, r) => (r.type === 'opened' ? Math.max(n, r.opened) : n), 0);

  try {
    const get = new Probe();
    const cancel = new Probe();
    let openedAtFirstCancel = 0;
    const deadline = Date.now() + timeoutMs;
    // Probe back to back until every stream has its status: GETs, and from the moment half the streams are open a
    // cancel (of the running job: 202 each time, it only sets cancelRequested) after every fourth GET.
    while (!replies.some((r) => r.type === 'ready') || cancel.count === 0) {
      if (failure) throw failure;
      if (Date.now() > deadline) throw new Error(`stream load: the streams were not all live within ${timeoutMs} ms (opened ${opened()})`);
      if (opened() >= options.subscribers / 2 && get.count % 4 === 3 && cancel.count < get.count / 4) {
        if (cancel.count === 0) openedAtFirstCancel = opened();
        cancel.add(await api(target, 'POST', `/v1/jobs/${jobId}/cancel`));
        continue;
      }
      get.add(await api(target, 'GET', `/v1/jobs/${jobId}`));
    }
    const ready = await reply('ready');

    // The worker obeys the cancel: the row first, then the event (a worker's order).
    const job = await target.services.db.job.update({ where: { id: jobId }, data: { status: 'cancelled', finishedAt: new Date() } });
    await publishJobEvent(target.services.redis, target.services.config.queuePrefix, {
      type: 'status', jobId, attempt: job.attempt, step: job.step, epoch: job.epoch, status: 'cancelled', code: null, reason: 'cancelled', modelId: null,
    });
    const finished = await reply('finished');
    const readsAfter = target.services.jobStreams.reads.stats;
    return {
      jobId,
      subscribers: options.subscribers,
      metrics: options.metrics,
      get: get.summary(),
      cancel: cancel.summary(),
      openedAtCancel: openedAtFirstCancel,
      connectMs: ready.connectMs,
      readyMs: ready.readyMs,
      replayedMessages: ready.replayed,
      finalStatuses: finished.finalStatuses,
      refused: finished.refused,
      closeCodes: finished.closeCodes,
      streamQueries: readsAfter.queries - readsBefore.queries,
      streamReads: readsAfter.reads - readsBefore.reads,
      streamMaxConcurrentQueries: readsAfter.maxActive,
    };
  } finally {
    await worker.terminate();
  }
}
