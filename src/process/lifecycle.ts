/** Process plumbing shared by the API and worker entry points: config errors, fail-fast checks, signal handling. */
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DependencyUnavailableError, checkPostgres, checkRedis } from '../preflight.js';

/** Loads the config and checks Postgres and Redis; on failure prints one clear line and exits 1. */
export async function startupOrExit(role: string, options: { databaseMayBeMissing?: boolean } = {}): Promise<Config> {
  try {
    const config = loadConfig();
    await Promise.all([checkPostgres(config.databaseUrl, { serverOnly: options.databaseMayBeMissing }), checkRedis(config.redisUrl)]);
    return config;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DependencyUnavailableError) {
      console.error(`trainyard ${role}: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (or 1 if stop failed).
 * A second signal while stopping exits at once.
 */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => Promise<void>, log: (message: string) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`received ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`received ${signal}, shutting down`);
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log(`shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  // Started by src/start.ts: when that parent goes away, stop too.
  if (process.send) process.on('disconnect', () => handler('SIGTERM'));
}

/** Tells a parent process (src/start.ts) something, when there is one. */
export function notifyParent(message: { type: 'listening'; url: string } | { type: 'worker-ready' }): void {
  process.send?.(message);
}
