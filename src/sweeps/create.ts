/**
 * POST /v1/sweeps: checks the request, expands the trials, plans every one of them against the dataset exactly as
 * POST /v1/jobs would (src/jobs/plan.ts) and — only when all of them plan — writes the Sweep row and releases its
 * first `maxConcurrent` trials as queued Jobs in one transaction (under the tenant's queued-jobs lock: a tenant whose
 * queue is full gets 429 TENANT_QUEUE_FULL and nothing is written). Problems are reported all at once as SWEEP_INVALID
 * (400) with `errors: [{trial, path, message}]` (trial null for the request as a whole).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Prisma } from '../db/client.js';
import { lockTenant } from '../db/tenant-locks.js';
import { apiError } from '../errors.js';
import type { Services } from '../services.js';
import type { Sweep } from '../generated/prisma/client.js';
import { ashaRungs } from './asha.js';
import { canonicalMetric, defaultDirection, type SweepBody } from './body-schema.js';
import { expandTrials, type SweepIssue } from './expand.js';
import { enqueueReleased, planningFacts, releaseLocked } from './release.js';
import { sweepFacts, trialOptions, type MethodOptions, type StoredTrial } from './stored.js';
import { planTrial } from './trial-spec.js';

/** Issues reported at most (the count of all is in the message). */
const MAX_REPORTED = 100;
/** Parameters a trial may not change: every trial trains on the sweep's dataset. */
const FIXED_PATHS = ['datasetId', 'warmStartModelId'];

export async function createSweep(services: Services, tenantId: string, body: SweepBody, log: FastifyBaseLogger): Promise<Sweep> {
  const { db, config } = services;
  const limits = { ...config.limits, tenantQueuedJobs: config.limits.tenantQueuedJobs };
  const issues: SweepIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ trial: null, path, message });
  const metric = canonicalMetric(body.metric);
  const direction = body.direction ?? defaultDirection(metric);

  for (const path of Object.keys(body.parameters)) {
    if (FIXED_PATHS.some((f) => path === f || path.startsWith(`${f}.`))) bad(`parameters.${path}`, 'every trial trains on the sweep’s dataset and warm start; set it in spec');
  }
  let asha: MethodOptions['asha'] = null;
  if (body.method === 'asha') {
    if (!body.asha) bad('asha', 'asha needs {minEpochs, maxEpochs}');
    else {
      const { minEpochs, maxEpochs, reductionFactor = 3 } = body.asha;
      if (minEpochs >= maxEpochs) bad('asha.minEpochs', `must be less than maxEpochs (${maxEpochs})`);
      asha = { minEpochs, maxEpochs, reductionFactor, rungs: ashaRungs(minEpochs, maxEpochs, reductionFactor) };
    }
    if (metric === 'trainLoss') bad('metric', 'asha compares trials at epoch ends: use a validation metric (valLoss, valAccuracy, valRmse, valR2)');
    if ('training.epochs' in body.parameters) bad('parameters.training.epochs', 'asha sets every trial’s epochs to asha.maxEpochs');
  } else if (body.asha) bad('asha', `asha options need method asha, not ${body.method}`);
  if (body.method === 'grid' && body.seed !== undefined) bad('seed', 'grid has no randomness; seed is for random and asha with trials');

  const seed = body.seed ?? Math.floor(Math.random() * 2 ** 31);
  const expansion = expandTrials(body.parameters, body.method, { trials: body.trials, seed });
  issues.push(...expansion.issues);
  if (issues.length) throw invalid(issues);

  const facts = await planningFacts(db, { tenantId, datasetId: body.spec.datasetId, baseSpec: body.spec });
  if (!facts.dataset) throw apiError('DATASET_NOT_FOUND', `No dataset ${body.spec.datasetId}`, { datasetId: body.spec.datasetId });
  if (body.spec.warmStartModelId && !facts.warmStart) throw apiError('MODEL_NOT_FOUND', `No usable model ${body.spec.warmStartModelId}`, { modelId: body.spec.warmStartModelId });

  const name = body.name ?? body.spec.name ?? facts.dataset.name;
  const options: MethodOptions = { sampling: expansion.sampling, seed: expansion.sampling === 'random' ? seed : null, asha };
  const trials: StoredTrial[] = expansion.trials.map((parameters, index) => ({ index, parameters }));
  for (const trial of trials) {
    const planned = planTrial(body.spec, trial.parameters, trialOptions({ name, options, metric }, trial.index), trial.index, facts.dataset, limits, facts.warmStart);
    if (!planned.ok) issues.push(...planned.issues);
  }
  if (issues.length) throw invalid(issues);

  const maxConcurrent = body.maxConcurrent ?? 2;
  const { sweep, released } = await db.$transaction(async (tx) => {
    await lockTenant(tx, 'queuedJobs', tenantId);
    const queued = await tx.job.count({ where: { tenantId, status: 'queued' } });
    if (queued >= limits.tenantQueuedJobs) {
      throw apiError('TENANT_QUEUE_FULL', `The tenant already has ${queued} queued jobs; the limit is ${limits.tenantQueuedJobs}. Create the sweep when some have started.`, {
        limit: limits.tenantQueuedJobs, queued,
      });
    }
    const row = await tx.sweep.create({
      data: {
        tenantId, name, datasetId: body.spec.datasetId, baseSpec: body.spec as unknown as Prisma.InputJsonValue,
        parameters: body.parameters as unknown as Prisma.InputJsonValue, method: body.method, methodOptions: options as unknown as Prisma.InputJsonValue,
        metric, direction, maxConcurrent, trials: trials as unknown as Prisma.InputJsonValue, trialCount: trials.length,
      },
    });
    const released = await releaseLocked(tx, sweepFacts(row), false, facts, limits);
    return { sweep: row, released };
  }, { maxWait: 10_000, timeout: 20_000 });
  await enqueueReleased({ queue: services.trainingQueue, log }, released);
  return sweep;
}

function invalid(issues: SweepIssue[]) {
  const first = issues[0]!;
  const where = first.trial === null ? first.path : `trial ${first.trial}: ${first.path}`;
  return apiError('SWEEP_INVALID', `${where}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, {
    errors: issues.slice(0, MAX_REPORTED), count: issues.length,
  });
}
