/**
 * The `trainyard` command (package.json `bin` → bin/trainyard.mjs, which runs this file through tsx):
 *   trainyard login --url http://127.0.0.1:3000 --key ty_…
 *   trainyard datasets synthetic spiral --n 100 --classes 3
 *   trainyard jobs submit --dataset <id> --layers 100,50 --epochs 50 --watch
 *   trainyard models grid <model id>
 * API problems are one line on stderr (`CODE: message`) and an exit code (src/cli/exit-codes.ts), never a stack.
 */
import { Command, CommanderError, Option } from 'commander';
import { datasetsCommand } from './commands/datasets.js';
import { jobsCommand } from './commands/jobs.js';
import { loginCommands } from './commands/login.js';
import { modelsCommand } from './commands/models.js';
import { sweepsCommand } from './commands/sweeps.js';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { describeError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('trainyard')
    .description('Train fully-connected networks on a Trainyard server, watch them learn, and serve the models.')
    .addOption(new Option('--url <url>', 'the server (default: TRAINYARD_URL, the saved login, http://127.0.0.1:3000)'))
    .addOption(new Option('--key <key>', 'an API key (default: TRAINYARD_KEY, the saved login)'))
    .option('--json', 'print JSON documents (for scripts)')
    .addHelpText('after', `\nConnection: flags, else TRAINYARD_URL / TRAINYARD_KEY, else the file trainyard login writes.\n\n${EXIT_CODES_HELP}`)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureHelp({ sortSubcommands: false });
  loginCommands(program);
  datasetsCommand(program);
  jobsCommand(program);
  modelsCommand(program);
  sweepsCommand(program);
  // Every subcommand: the same error handling (exit override) and the global options after it too.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().showHelpAfterError('(add --help for usage)');
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; commander has printed them. Anything else is a usage error, already printed.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? EXIT.OK : EXIT.USAGE;
    }
    const { line, code, json } = describeError(error);
    if (argv.includes('--json')) process.stderr.write(`${JSON.stringify(json)}\n`);
    else process.stderr.write(`error: ${line}\n`);
    return code;
  }
}

process.exitCode = await run(process.argv.slice(2));
