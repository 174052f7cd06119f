/**
 * `npm run keys -- create --tenant <name> [--label <text>]`  prints the new key alone on its last line (shown once)
 * `npm run keys -- revoke <prefix>`
 * `npm run keys -- list`
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createDb } from '../db/client.js';
import { createKey, listKeys, revokeKey } from '../db/repositories/tenants.js';

const USAGE = 'usage: npm run keys -- create --tenant <name> [--label <text>] | revoke <prefix> | list';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, label: { type: 'string' } },
  });
  const [command, argument] = positionals;
  const db = createDb(loadConfig().databaseUrl, { poolSize: 1 });
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
