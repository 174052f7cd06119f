/**
 * `trainyard sweeps …`: create (from a sweep file, optionally watching), watch (one line per trial event worth
 * showing, until the sweep ends), show (the leaderboard), list, cancel. Exit code of create --watch and watch: 0 when
 * the sweep succeeded, 3 when it failed or was cancelled.
 */
import type { Command } from 'commander';
import type { MetricRecord, Sweep, SweepEvent, SweepSpec, Trainyard, Trial } from '../../client/node.js';
import { contextOf, integer, parseJsonInput, readInput } from '../context.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { cell, fields, formatNumber, print, printJson, table, type OutputOptions } from '../output.js';

/** A trial's epoch progress is printed at most this often (ms); its last epoch always is. */
const PROGRESS_EVERY_MS = 1000;
const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'pruned']);

/** `regularization.l2=0.01 network.layers[0].units=32`: a trial's parameters by spec path. */
export function parameterText(parameters: Record<string, unknown>): string {
  return Object.entries(parameters).map(([path, value]) => `${path}=${cell(value)}`).join(' ');
}

export function leaderboard(sweep: Sweep): string {
  const rows = sweep.trials.map((t) => [
    t.best ? '*' : '', t.trial, parameterText(t.parameters), t.status, t.metric, t.bestEpoch, t.epochs, t.jobId, t.failure ? `${t.failure.code ?? ''} ${t.failure.reason}`.trim() : '',
  ]);
  return table(rows, ['best', 'trial', 'parameters', 'status', sweep.metric, 'best epoch', 'epochs', 'job', 'failure']);
}

function describe(sweep: Sweep): string {
  const done = sweep.counts.succeeded + sweep.counts.failed + sweep.counts.cancelled + sweep.counts.pruned + sweep.counts.deleted;
  const best = sweep.best ? `trial ${sweep.best.trial}: ${sweep.metric} ${formatNumber(sweep.best.metric)}, model ${sweep.best.modelId}` : null;
  return fields([
    ['id', sweep.id], ['name', sweep.name], ['status', sweep.status], ['method', sweep.method], ['metric', `${sweep.metric} (${sweep.direction})`],
    ['trials', `${done}/${sweep.trialCount} ended, ${sweep.counts.running} running, ${sweep.counts.queued} queued, ${sweep.counts.pending} pending`],
    ['best', best], ['created', sweep.createdAt], ['finished', sweep.finishedAt],
  ]);
}

/** The last epoch-end record's figures: `epoch 3/5  loss 1.02  val_loss 1.05  acc 0.45`. */
function progressText(r: Pick<MetricRecord, 'epoch' | 'trainLoss' | 'valLoss' | 'valAccuracy' | 'trainAccuracy'>, epochs: number | null): string {
  const acc = r.valAccuracy ?? r.trainAccuracy;
  return [
    `epoch ${r.epoch}/${epochs ?? '?'}`, `loss ${formatNumber(r.trainLoss)}`,
    ...(r.valLoss !== null ? [`val_loss ${formatNumber(r.valLoss)}`] : []), ...(acc !== null ? [`acc ${acc.toFixed(3)}`] : []),
  ].join('  ');
}

/**
 * Follows a sweep until it ends: a line when a trial is released, starts, reaches an epoch (at most once a second per
 * trial), warns, and ends (with its metric and best epoch from the leaderboard); then the leaderboard. Returns the exit
 * code.
 */
export async function watchSweep(ty: Trainyard, sweepId: string, out: OutputOptions): Promise<number> {
  const start = await ty.sweeps.get(sweepId);
  const say = (line: string) => {
    if (!out.json) process.stdout.write(`${line}\n`);
  };
  const epochs = (start.spec as { training?: { epochs?: unknown } } | null)?.training?.epochs;
  const parameters = new Map(start.trials.map((t) => [t.trial, parameterText(t.parameters)]));
  const trialEpochs = new Map(start.trials.map((t) => [t.trial, typeof t.parameters['training.epochs'] === 'number' ? t.parameters['training.epochs'] : typeof epochs === 'number' ? epochs : null]));
  const progress = new Map<number, { printedAt: number; pending: MetricRecord | null; printedEpoch: number }>();
  const announced = new Set<number>();
  const ended = new Set<number>();
  const flush = (trial: number) => {
    const p = progress.get(trial);
    if (!p?.pending) return;
    say(`trial ${trial}  ${progressText(p.pending, trialEpochs.get(trial) ?? null)}`);
    p.printedEpoch = p.pending.epoch;
    p.pending = null;
  };
  /**
   * A trial's end: its last epoch when the stream did not show it (it ended before the watch connected, or its events
   * came before the stream followed it), then its status with its metric and best epoch from the leaderboard.
   */
  const ending = async (trial: number, status: string, reason: string | null) => {
    try {
      const now = await ty.sweeps.get(sweepId);
      const row = now.trials.find((t) => t.trial === trial);
      if (row && row.epochs > (progress.get(trial)?.printedEpoch ?? 0)) say(`trial ${trial}  epoch ${row.epochs}/${trialEpochs.get(trial) ?? '?'}  (from the leaderboard)`);
      say(trialEnd(now, trial, status, reason ?? row?.failure?.reason ?? null));
    } catch {
      say(`trial ${trial} ${status}${reason ? `: ${reason}` : ''}`);
    }
  };
  const release = (trial: number, jobId: string) => {
    if (announced.has(trial)) return;
    announced.add(trial);
    say(`trial ${trial} released: job ${jobId} (${parameters.get(trial) ?? ''})`);
  };
  const endings: Promise<void>[] = [];
  const onEvent = (event: SweepEvent) => {
    switch (event.type) {
      case 'sweep':
        // The trials released before this watch began: each one's story so far (it may have ended already).
        for (const t of event.trials) {
          release(t.trial, t.jobId);
          if (!TERMINAL.has(t.status) || ended.has(t.trial)) continue;
          ended.add(t.trial);
          endings.push(ending(t.trial, t.status, null));
        }
        return;
      case 'trial':
        return release(event.trial, event.jobId);
      case 'metrics': {
        const r = event.record;
        const p = progress.get(event.trial) ?? { printedAt: 0, pending: null, printedEpoch: 0 };
        progress.set(event.trial, p);
        // Epoch ends carry the epoch's evaluation; the records in between are not shown.
        if (r.valLoss === null && r.trainAccuracy === null && r.valRmse === null) return;
        p.pending = r;
        if (Date.now() - p.printedAt < PROGRESS_EVERY_MS) return;
        flush(event.trial);
        p.printedAt = Date.now();
        return;
      }
      case 'warning':
        return say(`trial ${event.trial}  warning ${event.code}${event.layer ? ` (${event.layer})` : ''}: ${event.message}`);
      case 'status': {
        if (event.status === 'running') return say(`trial ${event.trial} running (attempt ${event.attempt})`);
        if (event.status === 'queued') return say(`trial ${event.trial} back in the queue${event.reason ? `: ${event.reason}` : ''}`);
        if (ended.has(event.trial)) return;
        ended.add(event.trial);
        flush(event.trial);
        endings.push(ending(event.trial, event.status, event.reason));
        return;
      }
      default:
        return;
    }
  };
  say(`sweep ${start.id} (${start.name}): ${start.status}, ${start.trialCount} trials, ${start.method}, ${start.metric} (${start.direction})`);
  const final = await ty.sweeps.wait(sweepId, { onEvent });
  for (const trial of progress.keys()) flush(trial);
  await Promise.all(endings);
  if (out.json) printJson(final);
  else {
    const best = final.best ? `; best trial ${final.best.trial} (${parameters.get(final.best.trial) ?? ''}): ${final.metric} ${formatNumber(final.best.metric)}, model ${final.best.modelId}` : '';
    say(`sweep ${final.status}${best}`);
    say('');
    say(leaderboard(final));
  }
  return final.status === 'succeeded' ? EXIT.OK : EXIT.JOB_NOT_SUCCEEDED;
}

function trialEnd(sweep: Sweep, trial: number, status: string, reason: string | null): string {
  const row: Trial | undefined = sweep.trials.find((t) => t.trial === trial);
  const metric = row && row.metric !== null ? `: ${sweep.metric} ${formatNumber(row.metric)}${row.bestEpoch !== null ? ` at epoch ${row.bestEpoch}` : ''}` : '';
  const why = status !== 'succeeded' && reason ? ` (${reason})` : '';
  return `trial ${trial} ${status}${metric}${why}`;
}

export function sweepsCommand(program: Command): void {
  const sweeps = program.command('sweeps').description('hyperparameter sweeps: create, watch, show the leaderboard');

  sweeps.command('create <sweep>').description('create a sweep from a JSON file (- for stdin): the body of POST /v1/sweeps')
    .option('--watch', 'follow the sweep until it ends (exit 3 unless it succeeds)')
    .action(async (file: string, o: { watch?: boolean }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const body = parseJsonInput(await readInput(file), file === '-' ? 'standard input' : file);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError('The sweep file must hold a JSON object');
      const sweep = await ty.sweeps.create(body as SweepSpec); // the server validates it
      const line = `created sweep ${sweep.id} (${sweep.trialCount} trials, ${sweep.method}, ${sweep.metric} ${sweep.direction}, ${sweep.maxConcurrent} at a time)`;
      if (!o.watch) return print(out, sweep, () => console.log(`${line}; watch it: trainyard sweeps watch ${sweep.id}`));
      if (!out.json) console.log(line);
      process.exitCode = await watchSweep(ty, sweep.id, out);
    });

  sweeps.command('watch <id>').description('follow a sweep live until it ends (exit 3 unless it succeeds)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      process.exitCode = await watchSweep(ty, id, out);
    });

  sweeps.command('show <id>').description('the sweep and its leaderboard (best first; * marks the best trial with a model)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const sweep = await ty.sweeps.get(id);
      print(out, sweep, () => console.log(`${describe(sweep)}\n\n${leaderboard(sweep)}`));
    });

  sweeps.command('list').description('sweeps, newest first')
    .option('--limit <n>', 'at most this many (1-100)', integer, 20)
    .option('--cursor <cursor>', 'the next page')
    .action(async (o: { limit: number; cursor?: string }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const page = await ty.sweeps.list({ limit: o.limit, cursor: o.cursor });
      print(out, page, () => {
        console.log(table(page.items.map((s) => {
          const ended = s.counts.succeeded + s.counts.failed + s.counts.cancelled + s.counts.pruned + s.counts.deleted;
          return [s.id, s.name, s.status, s.method, `${s.metric} (${s.direction})`, `${ended}/${s.trialCount}`, s.createdAt];
        }), ['id', 'name', 'status', 'method', 'metric', 'ended', 'created']));
        if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
      });
    });

  sweeps.command('cancel <id>').description('release no more trials and cancel every trial not finished')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const sweep = await ty.sweeps.cancel(id);
      print(out, sweep, () => console.log(sweep.status === 'cancelled'
        ? `cancelled sweep ${id}`
        : `cancel requested for sweep ${id}; ${sweep.counts.running + sweep.counts.queued} trials stop at their next step`));
    });
}
