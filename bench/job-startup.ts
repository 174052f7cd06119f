/**
 * `npm run bench:startup` — where the time of one MNIST job goes before its first step, through the real service:
 * the API (in this process) and one real worker process against a fresh database. Prints the worker's timeline
 * (claimed → training started → first metrics) read from its JSON log lines and the stream.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startService } from './service-setup.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const service = await startService();
const headers = { authorization: `Bearer ${service.tenant.key}`, 'content-type': 'application/json' };
const worker = spawn(process.execPath, ['--import', 'tsx', 'workers/training-worker.ts'], {
  cwd: ROOT, env: { ...process.env, DATABASE_URL: service.config.databaseUrl, QUEUE_PREFIX: service.config.queuePrefix, LOG_LEVEL: 'debug' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const lines: { time: number; msg: string }[] = [];
let buffered = '';
const waiters: (() => void)[] = [];
worker.stdout.on('data', (chunk: Buffer) => {
  buffered += chunk.toString();
  let at;
  while ((at = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, at); buffered = buffered.slice(at + 1);
    try { const j = JSON.parse(line) as { time: number; msg: string }; lines.push({ time: j.time, msg: j.msg }); } catch { /* not json */ }
    for (const w of waiters.splice(0)) w();
  }
});
const waitFor = (msg: string) => new Promise<number>((resolve) => {
  const check = () => { const l = lines.find((x) => x.msg === msg); if (l) resolve(l.time); else waiters.push(check); };
  check();
});
try {
  await waitFor('worker ready');
  const created = await fetch(`${service.url}/v1/datasets/examples/mnist`, { method: 'POST', headers: { authorization: headers.authorization } });
  const dataset = (await created.json()) as { id: string };
  const submittedAt = Date.now();
  const submitted = await fetch(`${service.url}/v1/jobs`, {
    method: 'POST', headers,
    body: JSON.stringify({ datasetId: dataset.id, network: { layers: [{ units: 256, activation: 'relu' }] }, training: { epochs: 1, batchSize: 128 } }),
  });
  const job = (await submitted.json()) as { id: string };
  if (!submitted.ok) throw new Error(JSON.stringify(job));
  const claimed = await waitFor('job started');
  const loaded = await waitFor('job inputs loaded');
  const started = await waitFor('training started');
  const finished = await waitFor('job finished');
  const stored = await service.services.db.job.findUniqueOrThrow({ where: { id: job.id } });
  const firstMetric = await service.services.db.metric.findFirst({ where: { jobId: job.id }, orderBy: { step: 'asc' } });
  console.log({
    submitToClaimMs: claimed - submittedAt,
    claimToInputsLoadedMs: loaded - claimed,
    inputsLoadedToTrainingStartedMs: started - loaded,
    trainingStartedToFinishedMs: finished - started,
    status: stored.status, firstMetricStep: firstMetric?.step,
  });
} finally {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.on('exit', r));
  await service.close();
}
