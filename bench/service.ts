/**
 * `npm run bench:service [-- --json] [-- --only http|fanout|streams|jobs] [-- --duration S] [-- --rounds N]
 *                        [-- --connections N] [-- --subscribers N] [-- --messages N] [-- --interval-ms MS] [-- --replayed N]`
 *
 * The API under load, in one process on loopback, against its own fresh database (created and dropped here):
 *   1. single-row predictions (POST /v1/models/:id/predict, a 4-100-3 network trained here) with autocannon, beside a
 *      bare Fastify JSON route measured in the same run, in interleaved rounds (targets: predict ≥ 0.7× the bare
 *      route's requests/s, authentication alone, GET /v1/me, ≥ 0.9×), predict without authentication and GET /health
 *      of the full API (diagnostics: the model route alone; the API's stack without authentication);
 *      then 2,000 MNIST rows predicted at once as CSV and as JSON (target ≤ 150 ms server time: bench/service-predict-large.ts);
 *   2. WebSocket fan-out: 1,000 streams of one job, 100 metrics events published through Redis, one every 50 ms
 *      (20 events/s: a live chart's rate); publish → receive latency (target: p99 ≤ 100 ms) and every message
 *      delivered, and the time to open the 1,000 streams (target ≤ 3 s). Each event costs the API one socket write per
 *      subscriber, the bulk of its fan-out time (profiled with --cpu-prof); --interval-ms 20 gives a heavier rate;
 *   3. requests under a pile of streams: `--subscribers` (1,000) streams of one running job open with ?since=-1, each
 *      replaying `--replayed` (600) stored metrics, while GET /v1/jobs/:id is measured back to back and
 *      POST /v1/jobs/:id/cancel once half of them are open (target: both ≤ 200 ms at p99; bench/stream-load.ts);
 *   4. many small jobs (bench/service-jobs.ts).
 * Prints tables; with --json the last line is one JSON object for other tools. The machine may be shared: rerun to
 * confirm a figure.
 */
import os from 'node:os';
import { measureFanout, type FanoutResult } from './service-fanout.js';
import { measureJobs, type JobsResult } from './service-jobs.js';
import { measureStreamLoad, type StreamLoadResult } from './stream-load.js';
import { measure, startBare, startUnauthenticated, type HttpResult } from './service-http.js';
import { measurePredictLarge, type PredictLargeResult } from './service-predict-large.js';
import { startService, storeBenchModel } from './service-setup.js';

function argNumber(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!(value > 0)) throw new RangeError(`${name} must be a positive number, got ${process.argv[at + 1]}`);
  return value;
}

const json = process.argv.includes('--json');
const http = { durationSec: argNumber('--duration', 9), connections: argNumber('--connections', 10), rounds: argNumber('--rounds', 3) };
const fanout = { subscribers: argNumber('--subscribers', 1000), messages: argNumber('--messages', 100), intervalMs: argNumber('--interval-ms', 50) };
const streamLoad = { subscribers: fanout.subscribers, metrics: argNumber('--replayed', 600) };
const jobsOptions = {
  jobs: argNumber('--jobs', 32), steps: argNumber('--steps', 1000), concurrency: argNumber('--concurrency', os.availableParallelism()),
  latencyRuns: argNumber('--latency-runs', 20),
};
const JOBS_RATIO_TARGET = 0.5;
const LATENCY_P50_TARGET_MS = 300;
const PREDICT_TARGET = 0.7;
const AUTH_TARGET = 0.9;
const PREDICT_LARGE_TARGET_MS = 150;
const CONNECT_TARGET_S = 3;
const FANOUT_P99_TARGET_MS = 100;
const STREAM_LOAD_TARGET_MS = 200;

const log = (line = ''): void => {
  if (json) process.stderr.write(`${line}\n`);
  else console.log(line);
};
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

function table(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const [r, row] of cells.entries()) {
    log(row.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  '));
    if (r === 0) log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  log();
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && !['http', 'fanout', 'streams', 'jobs'].includes(only)) throw new RangeError(`--only must be http, fanout, streams or jobs, got ${only}`);

type Service = Awaited<ReturnType<typeof startService>>;

async function benchHttp(service: Service): Promise<{ results: HttpResult[]; predictVsBare: number; authVsBare: number; large: PredictLargeResult }> {
  const bare = await startBare();
  const noAuth = await startUnauthenticated(service.services, { id: service.tenant.id, name: 'bench' });
  try {
    const model = await storeBenchModel(service);
    log(`HTTP: model ${model.describe}; autocannon in a worker thread, ${http.connections} connections, ${http.rounds} interleaved rounds of ${round(http.durationSec / http.rounds, 1)} s per row (median shown), each after 1 s of warm-up\n`);
    const body = JSON.stringify({ rows: [model.row] });
    const auth = { authorization: `Bearer ${service.tenant.key}` };
    const targets: { name: string; target: Parameters<typeof measure>[1] }[] = [
      { name: 'bare Fastify POST (JSON in, JSON out)', target: { url: `${bare.url}/echo`, method: 'POST', body } },
      { name: 'GET /v1/me (authentication only)', target: { url: `${service.url}/v1/me`, method: 'GET', headers: auth } },
      { name: 'predict 1 row (full API: auth + model)', target: { url: `${service.url}/v1/models/${model.id}/predict`, method: 'POST', headers: auth, body } },
      { name: 'predict 1 row, no auth (diagnostic)', target: { url: `${noAuth.url}/v1/models/${model.id}/predict`, method: 'POST', body } },
      // The full API's stack (security headers, hooks, metrics) without authentication and rate limit: GET /v1/me ÷ this
      // is what authentication and the per-key count cost on their own.
      { name: 'GET /health, full API (diagnostic)', target: { url: `${service.url}/health`, method: 'GET' } },
    ];
    // Rounds interleave the rows, so that a shared machine's slow spell falls on all of them; each row's median round.
    const rounds: HttpResult[][] = targets.map(() => []);
    for (let round = 0; round < http.rounds; round++) {
      for (const [i, { name, target }] of targets.entries()) rounds[i]!.push(await measure(name, target, { ...http, durationSec: http.durationSec / http.rounds }));
    }
    const results = rounds.map((r) => [...r].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[r.length >> 1]!);
    const baseline = results[0]!.requestsPerSec;
    table(['route', 'req/s', 'mean ms', 'p50 ms', 'p99 ms', '× bare', 'failures'], results.map((r) => [
      r.name, Math.round(r.requestsPerSec), round(r.meanMs, 2), r.p50Ms, r.p99Ms, round(r.requestsPerSec / baseline, 2), r.failures,
    ]));
    log(`large predictions: 2,000 MNIST rows (784 values each) to a 784-256-256-10 network, one request at a time; server time from the API's own request timing\n`);
    const large = await measurePredictLarge(service);
    table(['body', 'MB', 'server ms (median)', 'round trip ms', 'runs'], large.forms.map((f) => [f.form === 'csv' ? 'text/csv' : 'JSON {"rows"}', round(f.bodyMB, 1), round(f.serverMs, 1), round(f.roundTripMs, 1), f.runs]));
    return { results, predictVsBare: results[2]!.requestsPerSec / baseline, authVsBare: results[1]!.requestsPerSec / baseline, large };
  } finally {
    await noAuth.app.close();
    await bare.app.close();
  }
}

async function benchFanout(service: Service): Promise<FanoutResult> {
  log(`fan-out: ${fanout.subscribers} WebSocket streams of one job on one API process (subscribers in a worker thread), ` +
    `${fanout.messages} metrics events every ${fanout.intervalMs} ms through Redis\n`);
  const f = await measureFanout(service, fanout);
  table(['subscribers', 'messages', 'delivered', 'expected', 'p50 ms', 'p99 ms', 'max ms', 'connect s'], [[
    f.subscribers, f.messages, f.delivered, f.expected, round(f.p50Ms, 2), round(f.p99Ms, 2), round(f.maxMs, 2), round(f.connectMs / 1000, 2),
  ]]);
  return f;
}

async function benchStreamLoad(service: Service): Promise<StreamLoadResult> {
  log(`requests under streams: ${streamLoad.subscribers} streams of one running job open with ?since=-1 (${streamLoad.metrics} stored metrics each), ` +
    'GET /v1/jobs/:id back to back meanwhile, POST /v1/jobs/:id/cancel once half are open\n');
  const r = await measureStreamLoad({ url: service.url, services: service.services, tenant: service.tenant }, streamLoad);
  table(['request', 'count', 'p50 ms', 'p99 ms', 'max ms', 'statuses'], [r.get, r.cancel].map((p, i) => [
    i === 0 ? 'GET /v1/jobs/:id' : 'POST /v1/jobs/:id/cancel', p.count, round(p.p50Ms, 1), round(p.p99Ms, 1), round(p.maxMs, 1), JSON.stringify(p.statuses),
  ]));
  log(`${r.subscribers} streams all live in ${round(r.readyMs / 1000, 1)} s; first cancel with ${r.openedAtCancel} open; ` +
    `stream queries ${r.streamQueries} for ${r.streamReads} reads, at most ${r.streamMaxConcurrentQueries} at once\n`);
  return r;
}

async function benchJobs(service: Service): Promise<JobsResult> {
  log(`many small jobs: ${jobsOptions.jobs} spiral jobs (2-100-3, ${jobsOptions.steps} full-batch steps each) through the API and one worker ` +
    `(WORKER_CONCURRENCY=${jobsOptions.concurrency}), against the same networks in a PyTorch loop; then ${jobsOptions.latencyRuns} tiny jobs one at a time\n`);
  const r = await measureJobs(service, jobsOptions);
  const torch = 'wallS' in r.torch ? `${round(r.torch.wallS, 2)} s (${r.torch.threads} thread(s), torch ${r.torch.version})` : `skipped: ${r.torch.skipped}`;
  table(['row', 'value'], [
    [`Trainyard, ${r.jobs} jobs to models`, `${round(r.trainyardWallS, 2)} s`],
    [`PyTorch loop, same ${r.jobs} networks`, torch],
    ['ratio (Trainyard / PyTorch)', r.ratio === null ? 'n/a' : round(r.ratio, 2)],
    ['tiny job submit → succeeded p50 / p90 / max', `${r.latency.p50Ms} / ${r.latency.p90Ms} / ${r.latency.maxMs} ms`],
  ]);
  return r;
}

async function main(): Promise<void> {
  // The rate limit stays on (its cost is part of every request) but out of reach of one bench key.
  const service = await startService({ RATE_LIMIT_PER_MINUTE: '1000000000' });
  try {
    log(`service bench: Node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})\n`);
    const h = only === undefined || only === 'http' ? await benchHttp(service) : null;
    const f = only === undefined || only === 'fanout' ? await benchFanout(service) : null;
    const s = only === undefined || only === 'streams' ? await benchStreamLoad(service) : null;
    const j = only === undefined || only === 'jobs' ? await benchJobs(service) : null;
    const targets = {
      predictVsBare: h && { ratio: round(h.predictVsBare, 2), target: PREDICT_TARGET, met: h.predictVsBare >= PREDICT_TARGET },
      authVsBare: h && { ratio: round(h.authVsBare, 2), target: AUTH_TARGET, met: h.authVsBare >= AUTH_TARGET },
      predictLargeMs: h && {
        csv: round(h.large.forms[0]!.serverMs, 1), json: round(h.large.forms[1]!.serverMs, 1), target: PREDICT_LARGE_TARGET_MS,
        met: h.large.forms.every((f) => f.serverMs <= PREDICT_LARGE_TARGET_MS),
      },
      connectS: f && { s: round(f.connectMs / 1000, 2), target: CONNECT_TARGET_S, met: f.connectMs / 1000 <= CONNECT_TARGET_S },
      fanoutP99: f && { ms: round(f.p99Ms, 2), delivered: f.delivered === f.expected, target: FANOUT_P99_TARGET_MS, met: f.p99Ms <= FANOUT_P99_TARGET_MS && f.delivered === f.expected },
      streamLoad: s && {
        getP99Ms: round(s.get.p99Ms, 1), cancelP99Ms: round(s.cancel.p99Ms, 1), target: STREAM_LOAD_TARGET_MS,
        met: s.get.p99Ms <= STREAM_LOAD_TARGET_MS && s.cancel.p99Ms <= STREAM_LOAD_TARGET_MS
          && Object.keys(s.cancel.statuses).join() === '202' && Object.keys(s.get.statuses).join() === '200',
      },
    };
    const jobsTargets = j && {
      ratio: j.ratio === null ? null : round(j.ratio, 2), ratioTarget: JOBS_RATIO_TARGET, ratioMet: j.ratio !== null && j.ratio <= JOBS_RATIO_TARGET,
      latencyP50Ms: j.latency.p50Ms, latencyTarget: LATENCY_P50_TARGET_MS, latencyMet: j.latency.p50Ms <= LATENCY_P50_TARGET_MS,
    };
    if (jobsTargets) {
      log(`target ${j!.jobs} spiral jobs ≤ ${JOBS_RATIO_TARGET}× PyTorch's wall time: ${jobsTargets.ratio ?? 'n/a'}× (${jobsTargets.ratioMet ? 'met' : 'NOT met'}); ` +
        `target tiny job p50 ≤ ${LATENCY_P50_TARGET_MS} ms: ${j!.latency.p50Ms} ms (${jobsTargets.latencyMet ? 'met' : 'NOT met'}).`);
    }
    if (h) {
      const [bare, authOnly, , noAuth, health] = h.results;
      log(`target predict 1 row ≥ ${PREDICT_TARGET}× bare: ${round(h.predictVsBare, 2)}× (${targets.predictVsBare!.met ? 'met' : 'NOT met'}); ` +
        `target authentication ≥ ${AUTH_TARGET}× bare (GET /v1/me): ${round(authOnly!.requestsPerSec / bare!.requestsPerSec, 2)}× (${targets.authVsBare!.met ? 'met' : 'NOT met'}); ` +
        `predict without authentication: ${round(noAuth!.requestsPerSec / bare!.requestsPerSec, 2)}×; ` +
        `GET /v1/me × GET /health of the same API (authentication and the per-key count alone): ${round(authOnly!.requestsPerSec / health!.requestsPerSec, 2)}×.`);
      log(`target 2,000 × 784 predict ≤ ${PREDICT_LARGE_TARGET_MS} ms server time: CSV ${targets.predictLargeMs!.csv} ms, JSON ${targets.predictLargeMs!.json} ms (${targets.predictLargeMs!.met ? 'met' : 'NOT met'}).`);
    }
    if (f) {
      log(`target fan-out p99 ≤ ${FANOUT_P99_TARGET_MS} ms, every message delivered: ${round(f.p99Ms, 2)} ms, ${f.delivered}/${f.expected} (${targets.fanoutP99!.met ? 'met' : 'NOT met'}); ` +
        `target ${f.subscribers} streams open ≤ ${CONNECT_TARGET_S} s: ${targets.connectS!.s} s (${targets.connectS!.met ? 'met' : 'NOT met'}).`);
    }
    if (s) {
      log(`target GET /v1/jobs/:id p99 and cancel ≤ ${STREAM_LOAD_TARGET_MS} ms under ${s.subscribers} replaying streams: GET p99 ${round(s.get.p99Ms, 1)} ms, ` +
        `cancel p99 ${round(s.cancel.p99Ms, 1)} ms (${targets.streamLoad!.met ? 'met' : 'NOT met'}).`);
    }
    if (json) {
      console.log(JSON.stringify({ bench: 'service', node: process.version, cores: os.availableParallelism(), http: h && { ...http, results: h.results, predictLarge: h.large }, fanout: f, streamLoad: s, jobs: j, targets: { ...targets, jobs: jobsTargets } }));
    }
  } finally {
    await service.close();
  }
}

await main();
