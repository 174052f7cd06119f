/**
 * `npx tsx bench/dataset-load.ts` — how fast a worker gets a dataset into memory: MNIST (10,000 × 784, 31.4 MB)
 * stored in a fresh database, then read back by `loadDataset` without a cache (Postgres every time), through a
 * worker's DatasetCache (a miss, then hits), by the Prisma chunk reader (the path loadDataset took before the binary
 * COPY reader), and beside them two bare node-postgres reads of the same chunks in the same run: the ordinary query
 * (bytea as hex text, decoded by node-postgres: the baseline) and the binary COPY with the bytes dropped (the floor
 * of the COPY reader). The methods take turns, REPEATS rounds; each line prints the median, the spread (min–max) and
 * MB/s at the median, and the ratio of its median to the baseline's. Each run starts after a full garbage collection,
 * so that no method pays for the garbage of the one before it. The machine may be shared: rerun to confirm.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { readChunksWithPrisma } from '../src/datasets/chunk-reader-prisma.js';
import { DatasetCache } from '../src/datasets/dataset-cache.js';
import { loadMnist } from '../src/datasets/examples/mnist.js';
import { loadDataset } from '../src/datasets/load.js';
import { MatrixAssembly } from '../src/datasets/matrix-assembly.js';
import { saveDataset } from '../src/datasets/store.js';
import { createDb } from '../src/db/client.js';
import { copyBinaryOut } from '../src/db/copy-binary-out.js';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.js';
import { migrate } from '../src/db/migrations.js';
import { databaseName, withDatabase } from '../src/db/postgres-url.js';
import { createKey } from '../src/db/repositories/tenants.js';

const REPEATS = Number(process.env.REPEATS ?? 7);
const base = loadConfig();
const databaseUrl = withDatabase(base.databaseUrl, `${databaseName(base.databaseUrl)}_bench_load_${Date.now().toString(36)}`);
await ensureDatabase(databaseUrl);
await migrate(databaseUrl);
const db = createDb({ ...base, databaseUrl });
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();

interface Method {
  label: string;
  run: () => Promise<unknown>;
  times: number[];
}

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

try {
  const { tenant } = await createKey(db, 'bench-load');
  const mnist = await loadMnist();
  const meta = await saveDataset(db, tenant.id, { ...mnist, task: 'classification', y: mnist.y as Int32Array, name: 'mnist', source: 'example', features: 784 });
  const bytes = meta.rows * (meta.features + 1) * 4;
  console.log(`MNIST: ${meta.rows} rows × ${meta.features} features, ${(bytes / 1e6).toFixed(1)} MB in ${meta.chunkCount} chunks; ${REPEATS} rounds\n`);
  const select = { text: 'SELECT features, targets FROM "DatasetChunk" WHERE "datasetId" = $1 ORDER BY index', values: [meta.id] };
  const copy = `COPY (SELECT index, "rowStart", "rowCount", features, targets FROM "DatasetChunk" WHERE "datasetId" = ${pg.escapeLiteral(meta.id)}::uuid ORDER BY index) TO STDOUT (FORMAT binary)`;
  const dropped = new Uint8Array(bytes);
  const warm = new DatasetCache(1 << 30);
  await loadDataset(db, tenant.id, meta.id, warm);
  const methods: Method[] = [
    { label: 'node-postgres SELECT (baseline)', run: () => client.query(select), times: [] },
    { label: 'node-postgres binary COPY (floor)', run: () => copyBinaryOut(client, copy, { target: (_column, length) => dropped.subarray(0, Math.max(0, length)), tupleEnd: () => undefined }), times: [] },
    {
      label: 'Prisma chunk reader (before)',
      run: async () => {
        const assembly = new MatrixAssembly(meta, 'own');
        await readChunksWithPrisma(db, meta, assembly);
        return assembly.finish();
      },
      times: [],
    },
    { label: 'loadDataset, no cache', run: () => loadDataset(db, tenant.id, meta.id), times: [] },
    { label: 'loadDataset, cache miss', run: () => loadDataset(db, tenant.id, meta.id, new DatasetCache(1 << 30)), times: [] },
    { label: 'loadDataset, cache hit', run: () => loadDataset(db, tenant.id, meta.id, warm), times: [] },
  ];
  for (const method of methods) await method.run(); // warm-up: connections, code paths
  for (let round = 0; round < REPEATS; round++) {
    for (const method of methods) {
      collectGarbage();
      const t0 = performance.now();
      await method.run();
      method.times.push(performance.now() - t0);
    }
  }
  const baseline = median(methods[0]!.times);
  console.log(`${'method'.padEnd(36)} ${'median ms'.padStart(10)} ${'min–max ms'.padStart(16)} ${'MB/s'.padStart(7)} ${'vs baseline'.padStart(12)}`);
  for (const { label, times } of methods) {
    const mid = median(times);
    const spread = `${Math.min(...times).toFixed(1)}–${Math.max(...times).toFixed(1)}`;
    console.log(`${label.padEnd(36)} ${mid.toFixed(1).padStart(10)} ${spread.padStart(16)} ${(bytes / 1e6 / (mid / 1000)).toFixed(0).padStart(7)} ${`${(baseline / mid).toFixed(2)}×`.padStart(12)}`);
  }
  console.log(`\ncache: ${JSON.stringify(warm.stats())}`);
} finally {
  await client.end();
  await db.$disconnect();
  await dropDatabase(databaseUrl);
}
