/**
 * WebSocket fan-out: `subscribers` streams of one job on one API process (so one Redis subscription, fanned out in
 * memory), `messages` metrics events published through Redis every `intervalMs`; latency = arrival at a subscriber
 * minus the moment just before PUBLISH. Every (subscriber, message) pair must arrive.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startThread } from '../src/engine/thread-entry.js';
import { publishJobEvent, type MetricRecord } from '../src/queue/job-events.js';
import type { BenchService } from './service-setup.js';
import type { ClientsData, ClientsReply } from './service-fanout-clients.js';

export interface FanoutOptions {
  subscribers: number;
  messages: number;
  intervalMs: number;
}

export interface FanoutResult extends FanoutOptions {
  expected: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  connectMs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}

const record = (step: number): MetricRecord => ({
  step, epoch: 0, trainLoss: 1 / step, dataLoss: 1 / step, regLoss: 0, trainAccuracy: null, valLoss: null, valAccuracy: null,
  valRmse: null, valR2: null, learningRate: 0.01, samplesPerSec: 5000, layers: [],
});

export async function measureFanout(service: BenchService, options: FanoutOptions): Promise<FanoutResult> {
  const { services, tenant } = service;
  const job = await services.db.job.create({ data: { tenantId: tenant.id, spec: {}, parameterCount: 1, totalSteps: options.messages, status: 'running', attempt: 1 } });
  const data: ClientsData = { url: `${service.url.replace(/^http/, 'ws')}/v1/jobs/${job.id}/stream`, key: tenant.key, subscribers: options.subscribers, messages: options.messages };
  const worker = startThread(new URL('./service-fanout-clients.ts', import.meta.url), { workerData: data });
  const replies: ClientsReply[] = [];
  worker.on('message', (m: ClientsReply) => replies.push(m));
  const next = async (): Promise<ClientsReply> => {
    while (replies.length === 0) await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => Promise.reject(e))]);
    return replies.shift()!;
  };
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('fan-out clients: expected ready');

  const published = new Float64Array(options.messages);
  for (let step = 1; step <= options.messages; step++) {
    published[step - 1] = performance.timeOrigin + performance.now();
    await publishJobEvent(services.redis, services.config.queuePrefix, { type: 'metrics', jobId: job.id, attempt: 1, step, epoch: 0, record: record(step) });
    await sleep(options.intervalMs);
  }
  await sleep(1000); // stragglers
  worker.postMessage('finish');
  const done = await next();
  await worker.terminate();
  if (done.type !== 'arrivals') throw new Error('fan-out clients: expected arrivals');

  const latencies: number[] = [];
  for (const row of done.arrivals) row.forEach((at, i) => Number.isNaN(at) || latencies.push(at - published[i]!));
  const sorted = Float64Array.from(latencies).sort();
  return {
    ...options,
    expected: options.subscribers * options.messages,
    delivered: latencies.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? NaN,
    connectMs: ready.connectMs,
  };
}
