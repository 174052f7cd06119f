/**
 * `npm start`: one command for a laptop or a single box. Checks Postgres and Redis, creates the database and applies
 * migrations when needed, then runs the API and one worker as child processes, prints the URL, and stops both on
 * Ctrl-C (SIGINT/SIGTERM are forwarded once; children run in their own process group so the terminal's SIGINT does not
 * reach them twice, and they stop by themselves if this process dies). If either child dies, the other is stopped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ensureDatabase } from './db/ensure-database.js';
import { migrate } from './db/migrations.js';
import { startupOrExit } from './process/lifecycle.js';
import { listenProblem } from './process/listen-problem.js';

const config = await startupOrExit('start', { databaseMayBeMissing: true });
// A taken PORT is said in one line before anything starts (the API would say the same, after the worker started).
const portProblem = await portTaken(config.host, config.port);
if (portProblem) {
  console.error(`trainyard start: ${portProblem}`);
  process.exit(1);
}
try {
  await ensureDatabase(config.databaseUrl);
  const applied = await migrate(config.databaseUrl);
  if (applied.length) console.log(`Applied ${applied.length} migration(s): ${applied.join(', ')}`);
} catch (error) {
  console.error(`trainyard start: could not prepare the database: ${(error as Error).message}`);
  process.exit(1);
}

const entry = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const children = new Map<string, ChildProcess>();
let stopping = false;

function launch(name: string, file: string): ChildProcess {
  const child = fork(file, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit', detached: true });
  children.set(name, child);
  child.on('message', (message: { type?: string; url?: string }) => {
    if (message.type === 'listening') console.log(`\nTrainyard is running at ${message.url}  (Ctrl-C to stop)\n`);
  });
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`trainyard start: the ${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
      process.exitCode = 1;
      stop('SIGTERM');
    }
    if (children.size === 0) process.exit();
  });
  return child;
}

function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) child.kill(signal === 'SIGINT' ? 'SIGTERM' : signal);
}

process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

launch('api', entry('./server.ts'));
launch('worker', entry('../workers/training-worker.ts'));

/** Whether HOST:PORT can be listened on now: null if so, else one line naming PORT (or HOST). */
async function portTaken(host: string, port: number): Promise<string | null> {
  if (port === 0) return null;
  const probe = createServer();
  return new Promise((resolve) => {
    // Anything else (e.g. a HOST that is no address here) is not checked here: the API reports it.
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? listenProblem(error.code, host, port) : null));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}
