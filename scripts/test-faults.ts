/**
 * `npm run test:faults`: the fault suite (test/faults/*.fault.ts, not part of `npm test`). Creates a Postgres
 * cluster and a Redis server of its own on free ports (the suite stops and restarts them; the machine's Postgres on
 * 5432 and Redis on 6379 are never touched), runs the files one at a time with node's test runner against them, then
 * removes both, also when interrupted. `npm run test:faults -- test/faults/freeze.fault.ts` runs one file.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createCluster, dropCluster, freePort, killRedis, startRedis, type PgCluster, type RedisServer } from '../test/faults/infra.js';

const requested = process.argv.slice(2);
const files = requested.length ? requested : readdirSync('test/faults').filter((f) => f.endsWith('.fault.ts')).sort().map((f) => path.join('test/faults', f));

const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
let cluster: PgCluster | null = null;
let redis: RedisServer | null = null;
let child: ReturnType<typeof spawn> | null = null;
let cleaning: Promise<void> | null = null;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    if (redis) await killRedis(redis).catch((error: unknown) => console.error(`could not stop redis on ${redis!.port}: ${(error as Error).message}`));
    if (cluster) await dropCluster(cluster).catch((error: unknown) => console.error(`could not drop cluster ${cluster!.name}: ${(error as Error).message}`));
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (child) child.kill(signal);
    else void cleanUp().then(() => process.exit(1));
  });
}

let code = 1;
try {
  const started = Date.now();
  cluster = await createCluster(`ty_faults_${suffix}`);
  redis = await startRedis(await freePort());
  console.log(`fault suite: own Postgres ${cluster.version}/${cluster.name} on port ${cluster.port}, own Redis on port ${redis.port} (${Date.now() - started} ms)`);
  child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files], {
    stdio: 'inherit',
    env: {
      ...process.env,
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${cluster.port}/trainyard_faults`,
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      FAULT_PG_CLUSTER: `${cluster.version}/${cluster.name}/${cluster.port}`,
      FAULT_REDIS_PORT: String(redis.port),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
  });
  code = await new Promise<number>((resolve) => child!.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
} finally {
  await cleanUp();
}
process.exit(code);
