/**
 * The `trainyard` command as a user runs it: the package's bin launcher (bin/trainyard.mjs) as a child process against
 * a real API process and a real worker process, with a key made by `npm run keys` and saved by `trainyard login`.
 * Errors and exit codes: ./trainyard-errors.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { startProcess, type Running } from '../helpers/processes.js';
import { createKeyWithCli, runCli, type CliResult } from './run-cli.js';

const WORKER_ENV = { ENGINE_THREADS: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '60000', LOG_LEVEL: 'info' };

describe('the trainyard CLI against a running service: the journey', () => {
  let own: Installation;
  let api: Running;
  let worker: Running;
  let url: string;
  let home: string;
  /** The CLI's environment: its own config directory, and no TRAINYARD_* from outside. */
  let env: Record<string, string>;

  function cli(args: string[], options: { input?: string } = {}): Promise<CliResult> {
    return runCli(args, env, options.input);
  }

  async function json<T>(args: string[], input?: string): Promise<T> {
    const r = await cli([...args, '--json'], { input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  before(async () => {
    own = await ownInstallation('cli');
    home = await mkdtemp(join(tmpdir(), 'trainyard-cli-'));
    env = { XDG_CONFIG_HOME: home, NO_COLOR: '' };
    api = startProcess('src/server.ts', { ...own.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', MAX_EVENT_LOOP_DELAY_MS: '0' });
    worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env });
    [, url] = (await api.waitFor(/Trainyard API listening on (http:\/\/\S+)/, 120_000)) as unknown as [string, string];
    await worker.waitFor(/worker ready/, 120_000);
  });

  after(async () => {
    await Promise.all([worker?.stop('SIGTERM'), api?.stop('SIGTERM')]);
    await own?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('a key, login, an upload, a spiral, a watched job to success, its metrics as CSV, predictions from a file and stdin, the grid', async () => {
    const key = await createKeyWithCli(own.env);

    const login = await cli(['login', '--url', url, '--key', key]);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Logged in to .* as tenant "cli-/);
    const configFile = join(home, 'trainyard', 'config.json');
    assert.equal((await stat(configFile)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(configFile, 'utf8')), { url, key });
    // From here on, the saved login alone.
    const me = await json<{ url: string; tenant: { name: string } }>(['whoami']);
    assert.equal(me.url, url);

    const dataset = await json<{ id: string; rows: number; classNames: string[] }>(['datasets', 'synthetic', 'spiral', '--n', '40', '--classes', '3', '--seed', '5']);
    assert.equal(dataset.rows, 120);
    const csvFile = join(home, 'flowers.csv');
    await writeFile(csvFile, 'species,length,width\nsetosa,1.4,0.2\nvirginica,5.1,1.9\nsetosa,1.3,0.3\n');
    const uploaded = await json<{ name: string; rows: number; targetName: string; featureNames: string[] }>(['datasets', 'upload', csvFile, '--target', 'species']);
    assert.deepEqual([uploaded.name, uploaded.rows, uploaded.targetName, uploaded.featureNames], ['flowers', 3, 'species', ['length', 'width']]);
    const rows = await json<{ items: { row: number }[] }>(['datasets', 'rows', dataset.id, '--offset', '3', '--limit', '2']);
    assert.deepEqual(rows.items.map((r) => r.row), [3, 4]);

    const watched = await cli(['jobs', 'submit', '--dataset', dataset.id, '--layers', '16,8', '--epochs', '8', '--batch-size', '16', '--seed', '3', '--watch']);
    assert.equal(watched.code, 0, watched.stderr + watched.stdout);
    assert.equal(watched.stderr, '');
    const jobId = watched.stdout.match(/submitted job (\S+)/)![1]!;
    assert.match(watched.stdout, /epoch 8\/8 {2}step \d+\/\d+ {2}loss [\d.]+/, 'plain progress lines when stdout is not a terminal');
    assert.doesNotMatch(watched.stdout, /\x1b\[/, 'no progress bar or colour without a terminal');
    const modelId = watched.stdout.match(/succeeded: model (\S+)/)![1]!;
    assert.match(watched.stdout, /metric\s+best\s+final/);
    assert.match(watched.stdout, /train loss [▁▂▃▄▅▆▇█]{8,}/);

    const job = await json<{ status: string; modelId: string; step: number }>(['jobs', 'show', jobId]);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.modelId, modelId);
    const csv = await cli(['jobs', 'metrics', jobId, '--csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'step,epoch,trainLoss,dataLoss,regLoss,trainAccuracy,valLoss,valAccuracy,valRmse,valR2,learningRate,samplesPerSec');
    const metrics = await json<{ step: number[] }>(['jobs', 'metrics', jobId]);
    assert.deepEqual(lines.slice(1).map((l) => Number(l.split(',')[0])), metrics.step);
    assert.equal(metrics.step.at(-1), job.step);

    const inputFile = join(home, 'points.csv');
    await writeFile(inputFile, 'x1,x2\n0.1,0.2\n-0.5,0.3\n0.7,-0.4\n');
    const fromFile = await cli(['models', 'predict', modelId, inputFile]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const tableLines = fromFile.stdout.trimEnd().split('\n');
    assert.match(tableLines[0]!, /^row\s+class\s+p$/);
    assert.equal(tableLines.length, 4);
    const fromStdin = await json<{ predictions: { class: string }[] }>(['models', 'predict', modelId, '-'], JSON.stringify({ rows: [[0.1, 0.2], [-0.5, 0.3], [0.7, -0.4]] }));
    assert.equal(fromStdin.predictions.length, 3);
    assert.deepEqual(tableLines.slice(1).map((l) => l.trim().split(/\s+/)[1]), fromStdin.predictions.map((p) => p.class));

    const grid = await cli(['models', 'grid', modelId, '--resolution', '10']);
    assert.equal(grid.code, 0, grid.stderr);
    const gridLines = grid.stdout.trimEnd().split('\n');
    assert.equal(gridLines.slice(0, 5).filter((l) => /^[abc]{10}$/.test(l)).length, 5, grid.stdout);
    assert.match(gridLines.at(-1)!, /a 0 {3}b 1 {3}c 2/);
  });

});
