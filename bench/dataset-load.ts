/**
 * `npx tsx bench/dataset-load.ts` — how fast a worker gets a dataset into memory: MNIST (10,000 × 784, 31 MB)
 * stored in a fresh database, then read back by `loadDataset` without a cache (Postgres every time), through a
 * worker's DatasetCache (a miss, then hits), and beside it a bare node-postgres query of the same chunks (the floor
 * for the wire and bytea decoding) in the same run. Prints MB/s; the machine may be shared: rerun to confirm.
 */
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { DatasetCache } from '../src/datasets/dataset-cache.js';
import { loadMnist } from '../src/datasets/examples/mnist.js';
import { loadDataset } from '../src/datasets/load.js';
import { saveDataset } from '../src/datasets/store.js';
import { createDb } from '../src/db/client.js';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.js';
import { migrate } from '../src/db/migrations.js';
import { databaseName, withDatabase } from '../src/db/postgres-url.js';
import { createKey } from '../src/db/repositories/tenants.js';

const REPEATS = 5;
const base = loadConfig();
const databaseUrl = withDatabase(base.databaseUrl, `${databaseName(base.databaseUrl)}_bench_load_${Date.now().toString(36)}`);
await ensureDatabase(databaseUrl);
await migrate(databaseUrl);
const db = createDb({ ...base, databaseUrl });
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();

async function best(label: string, bytes: number, run: () => Promise<unknown>): Promise<void> {
  let fastest = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  console.log(`${label.padEnd(34)} ${fastest.toFixed(1).padStart(8)} ms  ${(bytes / 1e6 / (fastest / 1000)).toFixed(0).padStart(7)} MB/s`);
}

try {
  const { tenant } = await createKey(db, 'bench-load');
  const mnist = await loadMnist();
  const meta = await saveDataset(db, tenant.id, { ...mnist, task: 'classification', y: mnist.y as Int32Array, name: 'mnist', source: 'example', features: 784 });
  const bytes = meta.rows * (meta.features + 1) * 4;
  console.log(`MNIST: ${meta.rows} rows × ${meta.features} features, ${(bytes / 1e6).toFixed(1)} MB in ${meta.chunkCount} chunks\n`);
  await best('node-postgres, one query (floor)', bytes, () => client.query({ text: 'SELECT features, targets FROM "DatasetChunk" WHERE "datasetId" = $1 ORDER BY index', values: [meta.id] }));
  await best('node-postgres, binary rows', bytes, () => client.query({ text: 'SELECT features, targets FROM "DatasetChunk" WHERE "datasetId" = $1 ORDER BY index', values: [meta.id], binary: true } as never));
  await best('loadDataset, no cache', bytes, () => loadDataset(db, tenant.id, meta.id));
  await best('loadDataset, cache miss', bytes, () => loadDataset(db, tenant.id, meta.id, new DatasetCache(1 << 30)));
  const cache = new DatasetCache(1 << 30);
  await loadDataset(db, tenant.id, meta.id, cache);
  await best('loadDataset, cache hit', bytes, () => loadDataset(db, tenant.id, meta.id, cache));
  console.log(`\ncache: ${JSON.stringify(cache.stats())}`);
} finally {
  await client.end();
  await db.$disconnect();
  await dropDatabase(databaseUrl);
}
