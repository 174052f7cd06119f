/**
 * Watching a job: a live progress bar (epoch, step of total, ETA, samples/s, current loss and accuracy) on a terminal,
 * plain lines otherwise; training-health warnings and their advice as they arrive; at the end the final metrics
 * table and a sparkline of the loss curve. Returns the exit code (0 succeeded, 3 otherwise).
 * Epochs are shown as the API reports them: 1-based, the epoch a step belongs to (at an epoch end, epochs completed).
 */
import cliProgress from 'cli-progress';
import type { Job, JobEvent, JobWarning, MetricRecord, Trainyard } from '../client/node.js';
import { EXIT } from './exit-codes.js';
import { formatNumber, printJson, table, type OutputOptions } from './output.js';
import { sparkline } from './sparkline.js';

interface Progress {
  update(record: MetricRecord): void;
  log(line: string): void;
  stop(): void;
}

export async function watchJob(ty: Trainyard, jobId: string, out: OutputOptions): Promise<number> {
  const job = await ty.jobs.get(jobId);
  const epochs = specEpochs(job);
  const progress: Progress = out.json ? silent() : process.stdout.isTTY ? bar(job, epochs) : lines(job, epochs);
  const seen = new Set<string>();
  const warn = (w: Pick<JobWarning, 'code' | 'layer' | 'step' | 'message' | 'advice'>) => {
    const id = `${w.code}/${w.layer ?? ''}`;
    if (seen.has(id)) return;
    seen.add(id);
    progress.log(`warning ${w.code}${w.layer ? ` (${w.layer})` : ''} at step ${w.step}: ${w.message}`);
    progress.log(`  advice: ${w.advice}`);
  };
  for (const w of job.warnings) warn(w);
  let last: string = job.status;
  const onEvent = (event: JobEvent) => {
    if (event.type === 'metrics') progress.update(event.record);
    else if (event.type === 'warning') warn({ ...event, code: event.code as JobWarning['code'] });
    else if (event.type === 'status' && event.status !== last) {
      last = event.status;
      if (event.status === 'running') progress.log(`running (attempt ${event.attempt})`);
      else if (event.status === 'queued') progress.log(`back in the queue${event.reason ? `: ${event.reason}` : ''}`);
    }
  };
  let final: Job;
  try {
    final = await ty.jobs.wait(jobId, { onEvent });
  } finally {
    progress.stop();
  }
  if (out.json) printJson(final);
  else await summary(ty, final);
  return final.status === 'succeeded' ? EXIT.OK : EXIT.JOB_NOT_SUCCEEDED;
}

function specEpochs(job: Job): number | null {
  const epochs = (job.spec as { training?: { epochs?: unknown } } | null)?.training?.epochs;
  return typeof epochs === 'number' ? epochs : null;
}

function accuracyOf(record: MetricRecord): number | null {
  return record.valAccuracy ?? record.trainAccuracy;
}

function silent(): Progress {
  return { update: () => undefined, log: () => undefined, stop: () => undefined };
}

function bar(job: Job, epochs: number | null): Progress {
  const multi = new cliProgress.MultiBar({
    stream: process.stdout,
    format: ' {bar} {percentage}% | epoch {epoch}/{epochs} | step {value}/{total} | loss {loss} | acc {acc} | {sps} samples/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    barsize: 24,
  }, cliProgress.Presets.shades_classic);
  let acc = '-';
  const b = multi.create(Math.max(1, job.totalSteps), job.step, {
    epoch: job.epoch, epochs: epochs ?? '?', loss: '-', acc, sps: '-',
  });
  return {
    update(record) {
      const a = accuracyOf(record);
      if (a !== null) acc = a.toFixed(3);
      b.update(record.step, { epoch: record.epoch, loss: formatNumber(record.trainLoss), acc, sps: Math.round(record.samplesPerSec) });
    },
    log: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}

/** Without a terminal: one line per epoch (at most one a second, and always the last). */
function lines(job: Job, epochs: number | null): Progress {
  const stepsPerEpoch = epochs ? Math.max(1, Math.round(job.totalSteps / epochs)) : 0;
  let lastPrinted = 0;
  let pending: MetricRecord | null = null;
  const write = (r: MetricRecord) => {
    const acc = accuracyOf(r);
    const parts = [
      `epoch ${r.epoch}/${epochs ?? '?'}`, `step ${r.step}/${job.totalSteps}`, `loss ${formatNumber(r.trainLoss)}`,
      ...(r.valLoss !== null ? [`val_loss ${formatNumber(r.valLoss)}`] : []), ...(acc !== null ? [`acc ${acc.toFixed(3)}`] : []),
      `${Math.round(r.samplesPerSec)} samples/s`,
    ];
    process.stdout.write(`${parts.join('  ')}\n`);
    lastPrinted = Date.now();
    pending = null;
  };
  return {
    update(record) {
      const epochEnd = stepsPerEpoch > 0 ? record.step % stepsPerEpoch === 0 || record.step === job.totalSteps : true;
      if (!epochEnd) return;
      if (Date.now() - lastPrinted >= 1000) write(record);
      else pending = record;
    },
    log: (line) => void process.stdout.write(`${line}\n`),
    stop: () => {
      if (pending) write(pending);
    },
  };
}

async function summary(ty: Trainyard, job: Job): Promise<void> {
  const out: string[] = [];
  if (job.status === 'succeeded') out.push(`succeeded: model ${job.modelId} (job ${job.id}, ${job.epoch} epochs, ${job.step} steps)`);
  else out.push(`${job.status}${job.failure ? `: ${job.failure.code ? `${job.failure.code}: ` : ''}${job.failure.reason}` : ''} (job ${job.id})`);
  const best = asNumbers(job.bestMetrics);
  const final = asNumbers(job.finalMetrics);
  const names = [...new Set([...Object.keys(best), ...Object.keys(final)])];
  if (names.length > 0) out.push('', table(names.map((n) => [n, best[n] ?? null, final[n] ?? null]), ['metric', 'best', 'final']));
  const curve = await ty.jobs.allMetrics(job.id);
  if (curve.count > 0) {
    const first = curve.trainLoss[0]!, lastLoss = curve.trainLoss.at(-1)!;
    out.push('', `train loss ${sparkline(curve.trainLoss)}  ${formatNumber(first)} → ${formatNumber(lastLoss)}`);
    const val = curve.valLoss.filter((v): v is number => v !== null);
    if (val.length > 1) out.push(`val loss   ${sparkline(val)}  ${formatNumber(val[0]!)} → ${formatNumber(val.at(-1)!)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function asNumbers(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number'));
}
