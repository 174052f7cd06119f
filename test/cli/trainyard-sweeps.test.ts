/**
 * `trainyard sweeps …` as a user runs it (the bin launcher as a child process) against a real API process and a real
 * worker process: a 2-trial grid sweep on a small spiral, created from a file and watched to the end, its leaderboard
 * as JSON (the API's own answer) and as a table, the list, a finished sweep watched again, and problems as one line.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { startProcess, type Running } from '../helpers/processes.js';
import { createKeyWithCli, runCli, type CliResult } from './run-cli.js';

const WORKER_ENV = { ENGINE_THREADS: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '60000', LOG_LEVEL: 'info' };

interface Trial {
  trial: number;
  parameters: Record<string, unknown>;
  status: string;
  metric: number | null;
  bestEpoch: number | null;
  best: boolean;
  jobId: string | null;
}

describe('trainyard sweeps against a running service', () => {
  let own: Installation;
  let api: Running;
  let worker: Running;
  let url: string;
  let key: string;
  let home: string;
  let env: Record<string, string>;

  const cli = (args: string[], input?: string): Promise<CliResult> => runCli(args, env, input);
  async function json<T>(args: string[], input?: string): Promise<T> {
    const r = await cli([...args, '--json'], input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  before(async () => {
    own = await ownInstallation('cli-sweeps');
    home = await mkdtemp(join(tmpdir(), 'trainyard-cli-sweeps-'));
    api = startProcess('src/server.ts', { ...own.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', MAX_EVENT_LOOP_DELAY_MS: '0' });
    worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env });
    [, url] = (await api.waitFor(/Trainyard API listening on (http:\/\/\S+)/, 120_000)) as unknown as [string, string];
    key = await createKeyWithCli(own.env);
    env = { XDG_CONFIG_HOME: home, NO_COLOR: '', TRAINYARD_URL: url, TRAINYARD_KEY: key };
    await worker.waitFor(/worker ready/, 120_000);
  });

  after(async () => {
    await Promise.all([worker?.stop('SIGTERM'), api?.stop('SIGTERM')]);
    await own?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('create --watch follows both trials to the end; show --json is the API leaderboard; show, list, watch again', async () => {
    const dataset = await json<{ id: string }>(['datasets', 'synthetic', 'spiral', '--n', '30', '--classes', '3', '--seed', '5']);
    const file = join(home, 'sweep.json');
    await writeFile(file, JSON.stringify({
      name: 'cli λ',
      spec: { datasetId: dataset.id, network: { layers: [{ units: 8 }] }, training: { epochs: 3, batchSize: 16, seed: 3 } },
      parameters: { 'regularization.l2': { values: [0.001, 0.1] } },
      method: 'grid',
      metric: 'validation.loss',
      maxConcurrent: 2,
    }));

    const watched = await cli(['sweeps', 'create', file, '--watch']);
    assert.equal(watched.code, 0, watched.stderr + watched.stdout);
    assert.equal(watched.stderr, '');
    const id = watched.stdout.match(/created sweep (\S+) \(2 trials, grid, valLoss min/)?.[1];
    assert.ok(id, watched.stdout);
    for (const trial of [0, 1]) {
      assert.match(watched.stdout, new RegExp(`^trial ${trial} released: job [0-9a-f-]{36} \\(regularization\\.l2=0\\.${trial === 0 ? '001' : '1'}\\)$`, 'm'));
      // The last epoch of each trial: live (with its losses), or from the leaderboard when the stream did not show it.
      assert.match(watched.stdout, new RegExp(`^trial ${trial} {2}epoch 3/3 {2}(loss [\\d.]+ {2}val_loss [\\d.]+|\\(from the leaderboard\\)$)`, 'm'));
      assert.match(watched.stdout, new RegExp(`^trial ${trial} succeeded: valLoss [\\d.e-]+ at epoch \\d+$`, 'm'));
    }
    assert.match(watched.stdout, /^sweep succeeded; best trial [01] \(regularization\.l2=0\.1?0*1\): valLoss [\d.e-]+, model [0-9a-f-]{36}$/m);
    assert.doesNotMatch(watched.stdout, /\x1b\[/);

    const shown = await json<{ status: string; trials: Trial[]; best: { trial: number } }>(['sweeps', 'show', id]);
    const fromApi = await (await fetch(`${url}/v1/sweeps/${id}`, { headers: { authorization: `Bearer ${key}` } })).json();
    assert.deepEqual(shown, fromApi, 'show --json prints GET /v1/sweeps/:id');
    assert.equal(shown.status, 'succeeded');
    assert.deepEqual(shown.trials.map((t) => t.status), ['succeeded', 'succeeded']);
    assert.equal(shown.trials.filter((t) => t.best).length, 1);

    const table = await cli(['sweeps', 'show', id]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^status:\s+succeeded$/m);
    assert.match(table.stdout, /^best\s+trial\s+parameters\s+status\s+valLoss\s+best epoch\s+epochs\s+job/m);
    for (const t of shown.trials) {
      const row = table.stdout.split('\n').find((l) => l.includes(t.jobId!));
      assert.ok(row, `a row for trial ${t.trial}:\n${table.stdout}`);
      assert.match(row, new RegExp(`^${t.best ? '\\*' : ' '}\\s+${t.trial}\\s+regularization\\.l2=${String(t.parameters['regularization.l2']).replace('.', '\\.')}\\s+succeeded\\s+[\\d.e-]+\\s+${t.bestEpoch}\\s+3\\s`));
    }

    const list = await json<{ items: { id: string; status: string }[] }>(['sweeps', 'list']);
    assert.deepEqual(list.items.map((s) => [s.id, s.status]), [[id, 'succeeded']]);
    const listed = await cli(['sweeps', 'list']);
    assert.match(listed.stdout, new RegExp(`^${id}\\s+cli λ\\s+succeeded\\s+grid\\s+valLoss \\(min\\)\\s+2/2`, 'm'));

    const again = await cli(['sweeps', 'watch', id]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^sweep succeeded; best trial/m);

    const cancel = await cli(['sweeps', 'cancel', id]);
    assert.equal(cancel.code, 1);
    assert.match(cancel.stderr, /^error: SWEEP_NOT_CANCELLABLE: .+\n$/);
  });

  it('problems are one line: an invalid sweep from stdin, a missing sweep, --json errors', async () => {
    const invalid = await cli(['sweeps', 'create', '-'], JSON.stringify({ spec: { datasetId: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d' }, parameters: {}, method: 'grid', metric: 'valLoss' }));
    assert.equal(invalid.code, 1, invalid.stdout);
    assert.match(invalid.stderr, /^error: [A-Z_]+: .+\n$/);
    const notJson = await cli(['sweeps', 'create', '-'], '{ nope');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /^error: standard input is not valid JSON/);
    const missing = await cli(['sweeps', 'show', '7d4f2c1e-3b5a-4e8f-9a1b-2c3d4e5f6a7b', '--json']);
    assert.equal(missing.code, 1);
    assert.equal((JSON.parse(missing.stderr) as { error: { code: string } }).error.code, 'SWEEP_NOT_FOUND');
  });
});
