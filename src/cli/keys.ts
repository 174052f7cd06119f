/**
 * `npm run keys -- create --tenant <name> [--label <text>]`  prints the new key alone on its last line (shown once)
 * `npm run keys -- revoke <prefix>`
 * `npm run keys -- list`
 * `npm run keys -- --help`                                   usage (exit 0); a bad command prints usage, exit 2
 * Talks to Postgres directly (it is how the first keys are made), not to the API.
 */
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config.js';
import { createDb, type Db } from '../db/client.js';
import { publishKeyRevoked } from '../auth/key-cache.js';
import { createKey, listKeys, normalizePrefix, revokeKey } from '../db/repositories/tenants.js';
import { createRedis } from '../queue/redis.js';

const USAGE = 'usage: npm run keys -- create --tenant <name> [--label <text>] | revoke <prefix> | list';

async function withDb<T>(fn: (db: Db, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = createDb(config, { poolSize: 1, applicationName: 'trainyard-keys' });
  try {
    return await fn(db, config);
  } finally {
    await db.$disconnect();
  }
}

function program(): Command {
  const keys = new Command('npm run keys --')
    .description('Create, list and revoke API keys (in the database of DATABASE_URL).')
    .usage('<command> [options]')
    .addHelpText('after', `\n${USAGE}\nExit codes: 0 ok, 1 no such key to revoke, 2 usage.`)
    .exitOverride();
  keys.command('create').description('create a key for a tenant (created if new); the key alone is the last line, shown once')
    .requiredOption('--tenant <name>', 'the tenant')
    .option('--label <text>', 'a note shown by list')
    .exitOverride()
    .action(async (o: { tenant: string; label?: string }) => {
      const created = await withDb((db) => createKey(db, o.tenant, o.label));
      console.log(`Created key ${created.prefix} for tenant "${created.tenant.name}". It is shown once; store it now:`);
      console.log(created.key);
    });
  keys.command('revoke <prefix>').description('revoke a key by its prefix (every API replica stops accepting it)')
    .exitOverride()
    .action(async (prefix: string) => {
      await withDb(async (db, config) => {
        if (!(await revokeKey(db, prefix))) {
          console.error(`No active key with prefix ${prefix}`);
          process.exitCode = 1;
          return;
        }
        console.log(`Revoked ${prefix}`);
        await tellApiReplicas(config.redisUrl, config.queuePrefix, normalizePrefix(prefix));
      });
    });
  keys.command('list').description('keys by prefix (never the secret), tenant, state, creation time, label')
    .exitOverride()
    .action(async () => {
      for (const k of await withDb((db) => listKeys(db))) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        console.log([k.prefix, k.tenant, state, `created ${k.createdAt.toISOString()}`, k.label ?? ''].join('\t').trimEnd());
      }
    });
  return keys;
}

async function main(argv: string[]): Promise<number> {
  try {
    if (argv.length === 0) {
      console.error(USAGE);
      return 2;
    }
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') return 0;
      console.error(USAGE);
      return 2;
    }
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

/** API replicas cache keys; tell them the key is revoked. If Redis is down, their AUTH_CACHE_MS bounds the delay. */
async function tellApiReplicas(redisUrl: string, queuePrefix: string, prefix: string): Promise<void> {
  const redis = createRedis(redisUrl, { name: 'keys-cli' });
  redis.on('error', () => undefined);
  try {
    await publishKeyRevoked(redis, queuePrefix, prefix);
  } catch (error) {
    console.error(`Warning: could not notify API replicas through Redis (${(error as Error).message}); they stop accepting the key within AUTH_CACHE_MS.`);
  } finally {
    redis.disconnect();
  }
}
