/** `trainyard jobs …`: submit (from a spec file and/or flags, optionally watching), watch, list, show, metrics, cancel. */
import type { Command } from 'commander';
import type { Job, JobSpec, MetricColumns } from '../../client/node.js';
import { contextOf, integer, number, parseJsonInput, readInput } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { cell, fields, print, printJson, table } from '../output.js';
import { watchJob } from '../watch.js';

interface SubmitFlags {
  dataset?: string;
  name?: string;
  layers?: string;
  activation?: string;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: string;
  seed?: number;
  watch?: boolean;
  dryRun?: boolean;
}

/** The spec file (if any) with the flags laid over it; the server validates the result. */
export function specFrom(file: Record<string, unknown>, o: SubmitFlags): JobSpec {
  const spec = structuredClone(file) as Record<string, Record<string, unknown> | unknown>;
  const section = (name: string): Record<string, unknown> => {
    const current = spec[name];
    if (typeof current === 'object' && current !== null && !Array.isArray(current)) return current as Record<string, unknown>;
    const created: Record<string, unknown> = {};
    spec[name] = created;
    return created;
  };
  if (o.dataset) spec.datasetId = o.dataset;
  if (o.name) spec.name = o.name;
  if (o.layers !== undefined) {
    const units = o.layers.trim() === '' ? [] : o.layers.split(',').map((u) => Number(u.trim()));
    if (units.some((u) => !Number.isInteger(u) || u < 1)) throw new UsageError(`--layers takes units per hidden layer, e.g. 100,50 (got ${o.layers})`);
    section('network').layers = units.map((u) => ({ units: u, ...(o.activation && { activation: o.activation }) }));
  } else if (o.activation) {
    const layers = section('network').layers;
    if (!Array.isArray(layers)) throw new UsageError('--activation needs --layers (or layers in the spec file)');
    for (const layer of layers as Record<string, unknown>[]) layer.activation = o.activation;
  }
  if (o.epochs !== undefined) section('training').epochs = o.epochs;
  if (o.batchSize !== undefined) section('training').batchSize = o.batchSize;
  if (o.seed !== undefined) section('training').seed = o.seed;
  if (o.optimizer) section('optimizer').type = o.optimizer;
  if (o.learningRate !== undefined) section('optimizer').learningRate = o.learningRate;
  if (typeof spec.datasetId !== 'string') throw new UsageError('A job needs a dataset: --dataset <id> or "datasetId" in the spec file');
  return spec as unknown as JobSpec;
}

function describe(job: Job): string {
  const progress = `${job.step}/${job.totalSteps} steps, epoch ${job.epoch}`;
  const lines = fields([
    ['id', job.id], ['name', job.name], ['status', job.status], ['progress', progress], ['dataset', job.datasetId],
    ['parameters', job.parameterCount], ['attempt', job.attempt], ['model', job.modelId],
    ['failure', job.failure ? `${job.failure.code ? `${job.failure.code}: ` : ''}${job.failure.reason}` : null],
    ['created', job.createdAt], ['finished', job.finishedAt],
  ]);
  const best = job.bestMetrics && typeof job.bestMetrics === 'object' ? `\nbest:       ${cell(job.bestMetrics)}` : '';
  const warnings = job.warnings.map((w) => `\nwarning ${w.code}${w.layer ? ` (${w.layer})` : ''} at step ${w.step}: ${w.message}\n  advice: ${w.advice}`).join('');
  return `${lines}${best}${warnings}`;
}

const CSV_COLUMNS = [
  'step', 'epoch', 'trainLoss', 'dataLoss', 'regLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'valRmse', 'valR2', 'learningRate', 'samplesPerSec',
] as const satisfies readonly (keyof MetricColumns)[];

export function metricsCsv(m: MetricColumns): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (let i = 0; i < m.count; i++) lines.push(CSV_COLUMNS.map((c) => m[c][i] ?? '').join(','));
  return `${lines.join('\n')}\n`;
}

export function jobsCommand(program: Command): void {
  const jobs = program.command('jobs').description('submit, watch and inspect training jobs');

  jobs.command('submit [spec]').description('submit a training job: a spec file (JSON, - for stdin) and/or flags')
    .option('--dataset <id>', 'the dataset to train on')
    .option('--name <name>', 'the job (and model) name')
    .option('--layers <units>', 'hidden layers, e.g. 100,50 ("" for none)')
    .option('--activation <name>', 'activation of every hidden layer (relu, tanh, sigmoid, leaky-relu, …)')
    .option('--epochs <n>', 'passes over the training split', integer)
    .option('--batch-size <n>', 'rows per step', integer)
    .option('--learning-rate <x>', 'the optimizer learning rate', number)
    .option('--optimizer <type>', 'sgd, momentum, nesterov, adagrad, rmsprop, adam')
    .option('--seed <n>', 'training seed', integer)
    .option('--dry-run', 'show the layer table and parameter count; queue nothing')
    .option('--watch', 'follow the job until it ends (exit 3 unless it succeeds)')
    .action(async (file: string | undefined, o: SubmitFlags, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const base = file ? parseJsonInput(await readInput(file), file === '-' ? 'standard input' : file) : {};
      if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new UsageError('The spec file must hold a JSON object');
      const spec = specFrom(base as Record<string, unknown>, o);
      if (o.dryRun) {
        const plan = await ty.jobs.dryRun(spec);
        return print(out, plan, () => {
          console.log(table(plan.layers.map((l) => [l.name, l.kind, l.activation, l.inputs, l.outputs, l.params]), ['layer', 'kind', 'activation', 'inputs', 'outputs', 'params']));
          console.log(`${plan.parameterCount} parameters; ${plan.trainRows} training rows, ${plan.validationRows} validation; ${plan.stepsPerEpoch} steps/epoch, ${plan.totalSteps} steps`);
        });
      }
      const job = await ty.jobs.submit(spec);
      if (!o.watch) return print(out, job, () => console.log(`submitted job ${job.id} (${job.parameterCount} parameters, ${job.totalSteps} steps); watch it: trainyard jobs watch ${job.id}`));
      if (!out.json) console.log(`submitted job ${job.id} (${job.parameterCount} parameters, ${job.totalSteps} steps)`);
      process.exitCode = await watchJob(ty, job.id, out);
    });

  jobs.command('watch <id>').description('follow a job live until it ends (exit 3 unless it succeeds)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      process.exitCode = await watchJob(ty, id, out);
    });

  jobs.command('list').description('jobs, newest first')
    .option('--status <status>', 'queued, running, succeeded, failed, cancelled')
    .option('--dataset <id>', 'jobs of this dataset')
    .option('--limit <n>', 'at most this many (1-100)', integer, 20)
    .option('--cursor <cursor>', 'the next page')
    .action(async (o: { status?: Job['status']; dataset?: string; limit: number; cursor?: string }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const page = await ty.jobs.list({ status: o.status, datasetId: o.dataset, limit: o.limit, cursor: o.cursor });
      print(out, page, () => {
        console.log(table(page.items.map((j) => [j.id, j.name, j.status, `${j.totalSteps ? Math.floor((100 * j.step) / j.totalSteps) : 0}%`, j.epoch, j.modelId, j.createdAt]),
          ['id', 'name', 'status', 'progress', 'epoch', 'model', 'created']));
        if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
      });
    });

  jobs.command('show <id>').description('status, progress, metrics, warnings')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const job = await ty.jobs.get(id);
      print(out, job, () => console.log(describe(job)));
    });

  jobs.command('metrics <id>').description('the learning curve (every stored record)')
    .option('--csv', 'as CSV (one line per record)')
    .action(async (id: string, o: { csv?: boolean }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const metrics = await ty.jobs.allMetrics(id);
      if (out.json) return printJson(metrics);
      if (o.csv) return void process.stdout.write(metricsCsv(metrics));
      const rows = Array.from({ length: metrics.count }, (_, i) => [
        metrics.step[i], metrics.epoch[i], metrics.trainLoss[i], metrics.valLoss[i], metrics.trainAccuracy[i], metrics.valAccuracy[i], metrics.learningRate[i],
      ]);
      console.log(table(rows, ['step', 'epoch', 'trainLoss', 'valLoss', 'trainAcc', 'valAcc', 'lr']));
    });

  jobs.command('cancel <id>').description('cancel a queued or running job')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const job = await ty.jobs.cancel(id);
      print(out, job, () => console.log(job.status === 'cancelled' ? `cancelled job ${id}` : `cancel requested for job ${id}; it stops at its next step`));
    });
}
