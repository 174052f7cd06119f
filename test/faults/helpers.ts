/**
 * What the fault suite's files share: a job long enough to be hit mid-training, real worker processes against the
 * suite's own Postgres and Redis, finding the process that holds a job's lease, and an audit of who wrote what.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Db, Job } from '../../src/db/client.js';
import type { Running } from '../helpers/processes.js';
import { startWorker, waitUntil, type Installation } from '../training/helpers.js';

/**
 * A job on the 6,000-point spiral (createSpiral(…, 2000)): 150 steps per epoch, about 130 steps a second on one engine
 * thread here. Dropout and input noise draw from the RNG (an exact resume must restore it); a metrics record every
 * step, a checkpoint every 40 steps.
 */
export function jobBody(datasetId: string, epochs: number) {
  return {
    datasetId,
    network: { layers: [{ units: 192, activation: 'relu' }, { units: 192, activation: 'relu', dropout: 0.1 }], inputNoise: 0.01 },
    regularization: { l2: 0.001 },
    optimizer: { type: 'adam', learningRate: 0.003 },
    training: { epochs, batchSize: 32, validationFraction: 0.2, seed: 4321 },
    checkpoints: { everySteps: 40, everySeconds: 3600, keep: 2 },
    metrics: { everySteps: 1 },
  };
}

/** Workers of the suite: fast stall detection unless `env` says otherwise; they log at info (the figures come from there). */
export async function faultWorker(own: Installation, workers: Running[], env: Record<string, string> = {}): Promise<Running> {
  const worker = await startWorker(own, { RECONCILE_INTERVAL_MS: '1000', ...env });
  workers.push(worker);
  return worker;
}

/** Stops the workers; with FAULT_LOG_DIR set, their logs are kept there (one file per worker process). */
export async function stopWorkers(workers: readonly Running[], file: string): Promise<void> {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  const dir = process.env.FAULT_LOG_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  for (const w of workers) writeFileSync(path.join(dir, `${file}-worker-${w.child.pid}.log`), w.output());
}

/** The pid in a lease owner (`host:pid:random`). */
export function ownerPid(leaseOwner: string | null): number {
  return Number(leaseOwner?.split(':')[1] ?? 0);
}

/** Waits until the job is running at step ≥ `step` (a stored fact, not a sampled position: it stays true). */
export async function runningAt(db: Db, jobId: string, step: number, timeoutMs = 180_000): Promise<Job> {
  return waitUntil(`job ${jobId} running at step ${step}`, async () => {
    const row = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    assert.ok(row.status === 'running' || row.status === 'queued', `job ${jobId} is ${row.status} (${row.failureReason ?? ''}) before step ${step}`);
    return row.status === 'running' && row.step >= step && row.leaseOwner ? row : undefined;
  }, timeoutMs, 20);
}

/** Waits until a worker claimed the job after `attempt` (the failover); returns the row and when it was seen. */
export async function claimedAfter(db: Db, jobId: string, attempt: number, timeoutMs = 120_000): Promise<{ row: Job; at: number }> {
  return waitUntil(`job ${jobId} claimed after attempt ${attempt}`, async () => {
    const row = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    return row.attempt > attempt ? { row, at: Date.now() } : undefined;
  }, timeoutMs, 20);
}

export function holder(workers: readonly Running[], job: Job): Running {
  const pid = ownerPid(job.leaseOwner);
  const worker = workers.find((w) => w.child.pid === pid);
  assert.ok(worker, `the lease holder ${job.leaseOwner} is one of our workers`);
  return worker;
}

/**
 * Records every row written to Job, Metric, Checkpoint and Model with the writing session's application_name (a
 * worker's is `trainyard-worker:<workerId>`, see workers/training-worker.ts) and the time of the write.
 */
export async function installWriteAudit(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`
      CREATE TABLE fault_audit (app text NOT NULL, tbl text NOT NULL, op text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE FUNCTION fault_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO fault_audit (app, tbl, op) VALUES (current_setting('application_name'), TG_TABLE_NAME, TG_OP);
        RETURN NULL;
      END $$;
      CREATE TRIGGER fault_audit AFTER INSERT OR UPDATE OR DELETE ON "Job" FOR EACH ROW EXECUTE FUNCTION fault_audit_row();
      CREATE TRIGGER fault_audit AFTER INSERT OR UPDATE OR DELETE ON "Metric" FOR EACH ROW EXECUTE FUNCTION fault_audit_row();
      CREATE TRIGGER fault_audit AFTER INSERT OR UPDATE OR DELETE ON "Checkpoint" FOR EACH ROW EXECUTE FUNCTION fault_audit_row();
      CREATE TRIGGER fault_audit AFTER INSERT OR UPDATE OR DELETE ON "Model" FOR EACH ROW EXECUTE FUNCTION fault_audit_row();`);
  } finally {
    await client.end();
  }
}

/** Rows the worker with this lease owner id wrote after `since` (committed ones: a rolled-back write leaves none). */
export async function writesAfter(db: Db, leaseOwner: string, since: Date): Promise<{ tbl: string; op: string; at: Date }[]> {
  const app = `trainyard-worker:${leaseOwner}`.slice(0, 63);
  return db.$queryRaw<{ tbl: string; op: string; at: Date }[]>`SELECT tbl, op, at FROM fault_audit WHERE app = ${app} AND at > ${since} ORDER BY at`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
