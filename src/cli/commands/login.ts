/** `trainyard login` (checks the key against the server, then saves URL and key, mode 0600), `logout`, `whoami`. */
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { Trainyard } from '../../client/node.js';
import { configPath, readConfig, resolveConnection, writeConfig } from '../connection.js';
import { contextOf, type GlobalFlags } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { print } from '../output.js';

export function loginCommands(program: Command): void {
  program.command('login').description(`check a key against the server and save both to ${configPath()} (mode 0600)`)
    .action(async (_o: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const connection = await resolveConnection(flags);
      if (!connection.key) throw new UsageError('No key: pass --key <key> or set TRAINYARD_KEY (npm run keys -- create --tenant <name> makes one)');
      const me = await new Trainyard(connection).me();
      const path = configPath();
      await writeConfig({ url: connection.url, key: connection.key }, path);
      print({ json: flags.json === true }, { url: connection.url, tenant: me.tenant, config: path }, () =>
        console.log(`Logged in to ${connection.url} as tenant "${me.tenant.name}"; saved to ${path}`));
    });

  program.command('logout').description('forget the saved key')
    .action(async (_o: unknown, cmd: Command) => {
      const path = configPath();
      const had = (await readConfig(path)).key !== undefined;
      await rm(path, { force: true });
      print({ json: cmd.optsWithGlobals<GlobalFlags>().json === true }, { loggedOut: had, config: path }, () =>
        console.log(had ? `Removed ${path}` : 'Not logged in'));
    });

  program.command('whoami').description('the server and the tenant of the key')
    .action(async (_o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const me = await ty.me();
      print(out, { url: ty.url, tenant: me.tenant }, () => console.log(`tenant "${me.tenant.name}" (${me.tenant.id}) at ${ty.url}`));
    });
}
