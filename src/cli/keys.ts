/**
 * `npm run keys -- create --tenant <name> [--label <text>]`  prints the new key alone on its last line (shown once)
 * `npm run keys -- revoke <prefix>`
 * `npm run keys -- list`
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createDb } from '../db/client.js';
import { publishKeyRevoked } from '../auth/key-cache.js';
import { createKey, listKeys, normalizePrefix, revokeKey } from '../db/repositories/tenants.js';
import { createRedis } from '../queue/redis.js';

const USAGE = 'usage: npm run keys -- create --tenant <name> [--label <text>] | revoke <prefix> | list';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, label: { type: 'string' } },
  });
  const [command, argument] = positionals;
  const config = loadConfig();
  const db = createDb(config, { poolSize: 1, applicationName: 'trainyard-keys' });
  try {
    switch (command) {
      case 'create': {
        if (!values.tenant) break;
        const created = await createKey(db, values.tenant, values.label);
        console.log(`Created key ${created.prefix} for tenant "${created.tenant.name}". It is shown once; store it now:`);
        console.log(created.key);
        return 0;
      }
      case 'revoke': {
        if (!argument) break;
        if (await revokeKey(db, argument)) {
          console.log(`Revoked ${argument}`);
          await tellApiReplicas(config.redisUrl, config.queuePrefix, normalizePrefix(argument));
          return 0;
        }
        console.error(`No active key with prefix ${argument}`);
        return 1;
      }
      case 'list': {
        for (const k of await listKeys(db)) {
          const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
          console.log([k.prefix, k.tenant, state, `created ${k.createdAt.toISOString()}`, k.label ?? ''].join('\t').trimEnd());
        }
        return 0;
      }
    }
    console.error(USAGE);
    return 2;
  } finally {
    await db.$disconnect();
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
