/**
 * The `trainyard` command's problems: one line on stderr (JSON with --json), never a stack, and the documented exit
 * codes; usage of both commands. Against a real API process (no worker needed: a queued job is cancelled at once), the
 * connection given by TRAINYARD_URL / TRAINYARD_KEY.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { runProcess, startProcess, type Running } from '../helpers/processes.js';
import { createKeyWithCli, runCli, type CliResult } from './run-cli.js';

describe('the trainyard CLI: usage, problems and exit codes', () => {
  let own: Installation;
  let api: Running;
  let env: Record<string, string>;
  const home = join(tmpdir(), 'trainyard-cli-none');

  function cli(args: string[]): Promise<CliResult> {
    return runCli(args, env);
  }

  async function json<T>(args: string[]): Promise<T> {
    const r = await cli([...args, '--json']);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  before(async () => {
    own = await ownInstallation('cli-errors');
    api = startProcess('src/server.ts', { ...own.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', MAX_EVENT_LOOP_DELAY_MS: '0' });
    const [, url] = (await api.waitFor(/Trainyard API listening on (http:\/\/\S+)/, 120_000)) as unknown as [string, string];
    env = { TRAINYARD_URL: url, TRAINYARD_KEY: await createKeyWithCli(own.env), XDG_CONFIG_HOME: home };
  });

  after(async () => {
    await api?.stop('SIGTERM');
    await own?.drop();
  });

  it('npm run keys -- --help prints usage, not a stack', async () => {
    const help = await runProcess('src/cli/keys.ts', ['--help']);
    assert.equal(help.code, 0, help.output);
    assert.match(help.stdout, /Usage: npm run keys -- <command>/);
    assert.match(help.stdout, /create \[options\]/);
    assert.doesNotMatch(help.output, /\n\s+at /);
    const top = await runCli(['--help'], {});
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Exit codes:/);
  });

  it('problems are one line and an exit code: API 1, usage 2, cancelled job 3, connection 4 (connection from TRAINYARD_URL/KEY)', async () => {
    const missing = await cli(['jobs', 'show', '00000000-0000-4000-8000-000000000000']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^error: JOB_NOT_FOUND: No job 00000000-0000-4000-8000-000000000000\n$/);
    const missingJson = await cli(['models', 'show', 'nope', '--json']);
    assert.equal(missingJson.code, 1);
    assert.equal((JSON.parse(missingJson.stderr) as { error: { code: string } }).error.code, 'MODEL_NOT_FOUND');

    const usage = await cli(['jobs', 'submit', '--epochs', '3']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^error: A job needs a dataset/);
    const unknown = await cli(['jobs', 'frobnicate']);
    assert.equal(unknown.code, 2);
    const badFile = await cli(['models', 'predict', 'x', join(home, 'nope.csv')]);
    assert.equal(badFile.code, 2);

    const down = await cli(['datasets', 'list', '--url', 'http://127.0.0.1:1']);
    assert.equal(down.code, 4);
    assert.match(down.stderr, /^error: CONNECTION_FAILED: Cannot reach Trainyard at http:\/\/127\.0\.0\.1:1/);
    assert.doesNotMatch(down.stderr + missing.stderr + usage.stderr, /\n\s+at /, 'never a stack');

    // No worker here: the job stays queued, and cancelling it ends it at once.
    const dataset = await json<{ id: string }>(['datasets', 'synthetic', 'xor', '--n', '50', '--seed', '1']);
    const long = await json<{ id: string; status: string }>(['jobs', 'submit', '--dataset', dataset.id, '--epochs', '5']);
    assert.equal(long.status, 'queued');
    const cancelled = await cli(['jobs', 'cancel', long.id]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const watched = await cli(['jobs', 'watch', long.id]);
    assert.equal(watched.code, 3, watched.stderr + watched.stdout);
    assert.match(watched.stdout, /^cancelled/m);
  });
});
