/**
 * Large predictions through the real API: 2,000 MNIST rows (784 pixel values each, as the `mnist` package has them)
 * sent to POST /v1/models/:id/predict of a 784-256-256-10 network, as text/csv and as JSON (`{"rows": [[…]]}`), one
 * request at a time; the server's time is the API's own request timing (Fastify's elapsed time, from the request's
 * arrival to the response's end, read from the `trainyard_http_request_duration_seconds` sum of /metrics before and
 * after), beside the client's round trip. Target: ≤ 150 ms server time for either form.
 *
 * The client runs on the server's event loop, so its work while the body is in flight counts as server time: it sends
 * each body as bytes encoded once, with node:http (fetch encoded the 8 MB string anew and copied it chunk by chunk
 * through a web stream on every request, about 30 ms of that loop's time inside the server's measured span).
 */
import http from 'node:http';
import { createFastContext } from '../src/engine/fast-context.js';
import { createNetwork } from '../src/engine/network.js';
import { Preprocessor } from '../src/engine/preprocessing.js';
import { loadMnist } from '../src/datasets/examples/mnist.js';
import { artifactColumns, type ModelArtifact } from '../src/models/artifact.js';
import type { BenchService } from './service-setup.js';

export interface PredictLargeResult {
  rows: number;
  features: number;
  forms: { form: 'csv' | 'json'; bodyMB: number; serverMs: number; roundTripMs: number; runs: number }[];
}

const ROWS = 2000;

/** A 784-256-256-10 ReLU network (briefly trained on MNIST, standardized inputs) stored as a model. */
async function storeMnistModel(service: BenchService): Promise<{ id: string; x: Float32Array; features: number }> {
  const mnist = await loadMnist();
  const features = 784;
  const n = Math.min(mnist.y.length, 2000);
  const x = mnist.x.subarray(0, n * features);
  const y = Int32Array.from(mnist.y.subarray(0, n));
  const pre = Preprocessor.fit({ type: 'standardize' }, x, n, features);
  const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 64 });
  const network = createNetwork({ inputs: features, layers: [{ units: 256, activation: 'relu' }, { units: 256, activation: 'relu' }], outputs: 10, loss: 'softmax' }, {
    ctx, maxBatch: 100, seed: 1, optimizer: { type: 'adam', learningRate: 0.001 },
  });
  const px = pre.apply(x, n);
  for (let i = 0; i + 100 <= n; i += 100) network.trainStep(px.subarray(i * features, (i + 100) * features), y.subarray(i, i + 100), 100);
  const artifact: ModelArtifact = {
    task: 'classification', spec: network.resolved, parameterCount: network.parameterCount, weights: network.exportWeights().values,
    preprocessing: pre.toJSON(), featureNames: Array.from({ length: features }, (_, i) => `pixel${i}`), classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    metrics: { source: 'final', monitor: 'trainLoss', epoch: 1, step: n / 100, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: null, valRmse: null, valR2: null },
    inputRange: Array.from({ length: features }, () => ({ min: 0, max: 255 })),
  };
  const model = await service.services.db.model.create({ data: { tenantId: service.tenant.id, name: 'bench mnist', ...artifactColumns(artifact) }, select: { id: true } });
  ctx.close();
  return { id: model.id, x: mnist.x.subarray(0, ROWS * features), features };
}

/** The API's summed request time (seconds) so far, from its own /metrics. */
async function serverSeconds(service: BenchService): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${service.config.metrics.token ?? ''}` } })).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('trainyard_http_request_duration_seconds_sum{') && line.includes('predict')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** POST `body` (bytes) to `url`; the status and the answer's text. */
function post(url: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

export async function measurePredictLarge(service: BenchService, runs = 7): Promise<PredictLargeResult> {
  const { id, x, features } = await storeMnistModel(service);
  const rows: number[][] = [];
  for (let r = 0; r < ROWS; r++) rows.push(Array.from(x.subarray(r * features, (r + 1) * features)));
  const bodies = {
    csv: { type: 'text/csv', bytes: Buffer.from(rows.map((row) => row.join(',')).join('\n')) },
    json: { type: 'application/json', bytes: Buffer.from(JSON.stringify({ rows })) },
  };
  const forms: PredictLargeResult['forms'] = [];
  for (const form of ['csv', 'json'] as const) {
    const body = bodies[form];
    const server: number[] = [];
    const trip: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const before = await serverSeconds(service);
      const started = performance.now();
      const response = await post(`${service.url}/v1/models/${id}/predict`, { authorization: `Bearer ${service.tenant.key}`, 'content-type': body.type }, body.bytes);
      const elapsed = performance.now() - started;
      const json = JSON.parse(response.text) as { rows: number };
      if (response.status !== 200 || json.rows !== ROWS) throw new Error(`predict ${form}: ${response.status} ${response.text.slice(0, 300)}`);
      const after = await serverSeconds(service);
      if (i === 0) continue; // warm-up: the model is read and cached
      server.push((after - before) * 1000);
      trip.push(elapsed);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    forms.push({ form, bodyMB: body.bytes.length / 1e6, serverMs: median(server), roundTripMs: median(trip), runs });
  }
  return { rows: ROWS, features, forms };
}
