/**
 * The fault suite's own Postgres cluster and Redis server, which it may stop and start (never the machine's
 * Postgres on 5432 or Redis on 6379: other processes use them). scripts/test-faults.ts creates both before the suite
 * and removes them after; the suite's files find them through FAULT_PG_CLUSTER and FAULT_REDIS_PORT.
 *
 * Postgres: a Debian cluster (`pg_createcluster <version> <name> -p <port>`, trust authentication), run with
 * `pg_ctlcluster --skip-systemctl-redirect`. Redis: `redis-server` without persistence, daemonized with a pid file.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A TCP port nobody listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// ---- Postgres ------------------------------------------------------------------------------------------------------

export interface PgCluster {
  version: string;
  name: string;
  port: number;
}

/** The newest installed PostgreSQL major version (as Debian lays them out). */
export function postgresVersion(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(a) - Number(b));
  if (versions.length === 0) throw new Error('no PostgreSQL under /usr/lib/postgresql (install the postgresql package)');
  return versions[versions.length - 1]!;
}

export async function createCluster(name: string): Promise<PgCluster> {
  if (name === 'main') throw new Error('the cluster "main" is the machine\'s; never touched here');
  const cluster = { version: postgresVersion(), name, port: await freePort() };
  await exec('pg_createcluster', [cluster.version, name, '-p', String(cluster.port), '--start-conf=manual', '--', '--auth=trust']);
  try {
    await startCluster(cluster);
  } catch (error) {
    await dropCluster(cluster).catch(() => undefined);
    throw error;
  }
  return cluster;
}

export async function startCluster(c: PgCluster): Promise<void> {
  await exec('pg_ctlcluster', ['--skip-systemctl-redirect', c.version, c.name, 'start']);
  await waitFor(`postgres on ${c.port}`, () => accepts(c.port));
}

/** Stops the cluster at once (`-m fast`: sessions are terminated, in-flight transactions roll back). */
export async function stopCluster(c: PgCluster): Promise<void> {
  if (c.name === 'main' || c.port === 5432) throw new Error('refusing to stop the machine\'s Postgres');
  await exec('pg_ctlcluster', ['--skip-systemctl-redirect', c.version, c.name, 'stop', '-m', 'fast']);
}

export async function dropCluster(c: PgCluster): Promise<void> {
  if (c.name === 'main' || c.port === 5432) throw new Error('refusing to drop the machine\'s Postgres');
  await exec('pg_dropcluster', [c.version, c.name, '--stop']);
}

/** The suite's cluster, from FAULT_PG_CLUSTER ("version/name/port"). */
export function suiteCluster(): PgCluster {
  const raw = process.env.FAULT_PG_CLUSTER;
  if (!raw) throw new Error('FAULT_PG_CLUSTER is not set: run the fault suite with `npm run test:faults`');
  const [version, name, port] = raw.split('/');
  return { version: version!, name: name!, port: Number(port) };
}

// ---- Redis ---------------------------------------------------------------------------------------------------------

export interface RedisServer {
  port: number;
  pidFile: string;
  /** Where `SHUTDOWN SAVE` leaves the data for the next start (nothing is saved otherwise). */
  dumpFile: string;
}

function redisServer(port: number): RedisServer {
  return { port, pidFile: `/tmp/trainyard-faults-redis-${port}.pid`, dumpFile: `/tmp/trainyard-faults-redis-${port}.rdb` };
}

/**
 * Starts redis-server on `port`, daemonized, with no persistence: it starts empty, unless `keepData` and a
 * `SHUTDOWN SAVE` left a dump (see {@link stopRedis}).
 */
export async function startRedis(port: number, options: { keepData?: boolean } = {}): Promise<RedisServer> {
  if (port === 6379) throw new Error('refusing to run on the machine\'s Redis port');
  const server = redisServer(port);
  if (!options.keepData) rmSync(server.dumpFile, { force: true });
  await exec('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
    '--pidfile', server.pidFile, '--logfile', `/tmp/trainyard-faults-redis-${port}.log`,
    '--dir', path.dirname(server.dumpFile), '--dbfilename', path.basename(server.dumpFile),
  ]);
  await waitFor(`redis on ${port}`, () => accepts(port));
  return server;
}

/** Stops the server, saving its data for the next start (`SHUTDOWN SAVE`), and waits until its port is closed. */
export async function stopRedis(server: RedisServer): Promise<void> {
  if (server.port === 6379) throw new Error('refusing to stop the machine\'s Redis');
  await redisCommand(server.port, 'SHUTDOWN', 'SAVE').catch(() => undefined); // the connection closes with the server
  await waitFor(`redis on ${server.port} to stop`, async () => !(await accepts(server.port)));
}

/** Kills the server (SIGKILL: nothing is saved, as in a crash), waits until its port is closed, and removes any dump. */
export async function killRedis(server: RedisServer): Promise<void> {
  if (server.port === 6379) throw new Error('refusing to stop the machine\'s Redis');
  let pid = 0;
  try {
    pid = Number(readFileSync(server.pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor(`redis on ${server.port} to stop`, async () => !(await accepts(server.port)));
  rmSync(server.dumpFile, { force: true });
  rmSync(server.pidFile, { force: true });
}

export async function redisCommand(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await exec('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trim();
}

/** The suite's Redis, from FAULT_REDIS_PORT. */
export function suiteRedis(): RedisServer {
  const port = Number(process.env.FAULT_REDIS_PORT);
  if (!port) throw new Error('FAULT_REDIS_PORT is not set: run the fault suite with `npm run test:faults`');
  return redisServer(port);
}
