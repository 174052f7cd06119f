/**
 * A checkpoint becomes a model (POST /v1/jobs/:id/checkpoints/:step/promote): any stored checkpoint of any job, a
 * cancelled, failed or still running one included. The weights are the best weights the checkpoint carries (quiet
 * checkpoints write them with the checkpoint after they change: the job's `isBest` checkpoint) or the checkpoint's own
 * parameters (`weights: "current"`); by default the best when it carries them, else its own. The model is the next
 * version of its name (default the job's name), has the job's fitted preprocessing (from the checkpoint) and the
 * dataset's feature and class names, and records where it came from (`promotedFrom`). One model per checkpoint: a
 * second promotion of the same checkpoint is refused (CHECKPOINT_ALREADY_PROMOTED, with the model's id).
 */
import type { Db } from '../db/client.js';
import { Prisma } from '../db/client.js';
import { createModel, type ModelInfo } from '../db/repositories/models.js';
import { toMeta } from '../datasets/meta.js';
import { decodeState } from '../engine/state-codec.js';
import type { ResolvedSpec } from '../engine/spec.js';
import type { JobSpec } from '../jobs/plan.js';
import { completedEpoch, decodeCheckpoint } from '../training/checkpoint-state.js';
import { modelRow } from '../training/model-write.js';
import type { EvalSummary } from './artifact.js';

export interface PromoteOptions {
  /** Which weights: the best ones the checkpoint carries, or its own parameters. Default: best when it has them. */
  weights?: 'best' | 'current';
  /** The model's name. Default: the job's name. */
  name?: string;
}

export type PromoteOutcome =
  | { kind: 'created'; model: ModelInfo }
  | { kind: 'job-not-found' }
  | { kind: 'checkpoint-not-found' }
  | { kind: 'already-promoted'; modelId: string }
  | { kind: 'not-promotable'; reason: string };

export async function promoteCheckpoint(db: Db, tenantId: string, jobId: string, step: number, options: PromoteOptions = {}): Promise<PromoteOutcome> {
  const job = await db.job.findFirst({ where: { id: jobId, tenantId }, select: { id: true, spec: true, datasetId: true } });
  if (!job) return { kind: 'job-not-found' };
  const checkpoint = await db.checkpoint.findUnique({ where: { jobId_step: { jobId, step } }, select: { state: true } });
  if (!checkpoint) return { kind: 'checkpoint-not-found' };
  const existing = await db.model.findFirst({ where: { promotedFromJobId: jobId, promotedFromStep: step }, select: { id: true } });
  if (existing) return { kind: 'already-promoted', modelId: existing.id };

  const state = decodeCheckpoint(checkpoint.state);
  const useBest = options.weights === 'best' || (options.weights === undefined && state.best !== null);
  if (useBest && !state.best) {
    return { kind: 'not-promotable', reason: `checkpoint ${step} carries no best weights (only the job's best checkpoint does); promote it with "weights": "current"` };
  }
  const engine = decodeState(state.engine);
  const resolvedSpec = (engine.meta as { resolvedSpec?: ResolvedSpec }).resolvedSpec;
  const params = engine.sections.get('params');
  if (!resolvedSpec || !params) return { kind: 'not-promotable', reason: `checkpoint ${step} has no network state` };
  const dataset = job.datasetId ? await db.dataset.findFirst({ where: { id: job.datasetId, tenantId } }) : null;
  if (!dataset) return { kind: 'not-promotable', reason: 'the job\'s dataset was deleted: the model\'s feature and class names are unknown' };

  const spec = job.spec as unknown as JobSpec;
  const loop = state.loop;
  const empty = (epoch: number, at: number): EvalSummary => ({
    epoch, step: at, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: null, valRmse: null, valR2: null,
  });
  const best = state.best;
  const weights = useBest ? best!.weights : Float32Array.from(params);
  const metrics = useBest
    ? (loop.best?.metrics.step === best!.step ? loop.best.metrics : empty(best!.epoch, best!.step))
    : (loop.lastEval?.step === loop.step ? loop.lastEval : empty(completedEpoch(loop), loop.step));
  const row = modelRow({
    name: options.name ?? spec.name, monitor: spec.training.monitor, resolvedSpec, weights, preprocessing: state.preprocessing,
    source: useBest ? 'best' : 'final', metrics,
  }, toMeta(dataset));
  try {
    const model = await createModel(db, tenantId, { ...row, jobId: null, promotedFromJobId: jobId, promotedFromStep: step });
    return { kind: 'created', model };
  } catch (error) {
    // Promoted twice at once: the unique (promotedFromJobId, promotedFromStep) index lets one through.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      const winner = await db.model.findFirst({ where: { promotedFromJobId: jobId, promotedFromStep: step }, select: { id: true } });
      if (winner) return { kind: 'already-promoted', modelId: winner.id };
    }
    throw error;
  }
}
