/**
 * The training loop of one job, synchronous (it runs in the trainer thread): epochs over the seeded order of the
 * training rows, an evaluation at every epoch end (train/validation; the training split is evaluated on a seeded sample
 * of at most 10,000 rows, ./prepare-data.ts) for best-epoch tracking and early stopping, metrics records (every N
 * steps and at epoch ends; only some epoch ends when epochs are much shorter than N: ./record-schedule.ts),
 * checkpoints (recording the kernel flavour: ./checkpoint-state.ts), divergence detection, and stop commands.
 *
 * Checkpoints (quiet): at the first metrics record `checkpoints.everySteps` steps or `everySeconds` seconds after the
 * last one (an epoch end is a record like the others: it checkpoints only when one of the two rules is due), at a
 * hand-back, and at the end. The best weights are kept in memory (a copy of the parameters at the best epoch) and
 * written with the next checkpoint after they change, which is marked `isBest` (./checkpoint-state.ts); a cancel that
 * finds them not yet written writes them in a last checkpoint. So storage is the `keep` newest plus one best.
 *
 * Epochs: `LoopState.epoch` is 0-based internally (the seed of the epoch's order); every epoch the loop reports is
 * 1-based, the epoch a step belongs to ({@link completedEpoch}): at an epoch end, the number of epochs completed.
 *
 * Each record also goes through the training-health monitor (./health/monitor.ts), whose warnings travel with the
 * record, and some epoch ends of 2-input classifiers carry a decision grid (./decision-grids.ts).
 *
 * Determinism: everything random comes from the seed (split, per-epoch order, the network's RNG), and checkpoints
 * are only taken at metrics-record boundaries, where the record window (mean loss since the last record, the engine's
 * dead-unit window) is empty — so a run resumed from any checkpoint produces the same weights and the same records
 * as one that never stopped. Wall-clock time only decides *when* to checkpoint, never what is computed. The health
 * monitor's state is part of the loop state, so warnings resume exactly too.
 */
import type { Network, StepStats } from '../engine/network.js';
import type { JobSpec } from '../jobs/plan.js';
import type { MonitorMetric } from '../jobs/spec-schema.js';
import type { CheckpointTrigger, JobWarning, MetricRecord } from '../queue/job-events.js';
import { completedEpoch, encodeCheckpoint, type LoopState } from './checkpoint-state.js';
import type { DecisionGrid, DecisionGrids } from './decision-grids.js';
import type { QualityMetric } from './health/curve-rules.js';
import { observeEpochEnd, observeRecord } from './health/monitor.js';
import { freshHealthState, type HealthThresholds } from './health/state.js';
import type { PreparedData } from './prepare-data.js';
import { gatherRows } from './prepare-data.js';
import { RecordSchedule } from './record-schedule.js';
import { epochOrder } from './split.js';
import { StopCommand, type EvalSummary, type StopReason, type TrainerMessage } from './trainer-protocol.js';

/** Steps whose largest gradient norm is the divergence reference. */
export const GRAD_NORM_REFERENCE_STEPS = 10;

export interface LoopIO {
  /** Hands a message to the main thread (may block while too many writes are pending). */
  emit(message: TrainerMessage): void;
  /** The current stop command (StopCommand.NONE to go on). */
  stopCommand(): StopCommand;
  /** Monotonic milliseconds. */
  now(): number;
}

export type LoopOutcome =
  | {
      kind: 'finished';
      outcome: 'completed' | 'early-stopped';
      weights: Float32Array<ArrayBuffer>;
      weightsStep: number;
      weightsSource: 'best' | 'final';
      modelMetrics: EvalSummary | null;
    }
  | { kind: 'stopped'; reason: StopReason }
  | { kind: 'diverged'; cause: 'loss' | 'grad-norm'; value: number; message: string };

const LOWER_IS_BETTER: Record<MonitorMetric, boolean> = { valLoss: true, valRmse: true, trainLoss: true, valAccuracy: false, valR2: false };

/**
 * What the loop is given besides the data and spec: the health thresholds, the decision grids (null: none), and the
 * compute context's kernel flavour, which every checkpoint records (./checkpoint-state.ts).
 */
export interface LoopSetup {
  health: HealthThresholds;
  decisions: DecisionGrids | null;
  kernel: string;
  /** Epochs (1-based) whose end must be recorded whatever the schedule (a sweep's ASHA rungs). */
  recordEpochs?: readonly number[];
}

export function freshLoopState(): LoopState {
  return {
    epoch: 0, position: 0, step: 0, best: null, badEpochs: 0, stoppedEarly: false, gradNormRef: 0, lastEval: null, health: freshHealthState(),
  };
}

export class TrainingLoop {
  private readonly batchX: Float32Array;
  private readonly batchY: Int32Array | Float32Array;
  private readonly stepsPerEpoch: number;
  private readonly schedule: RecordSchedule;
  /** Sums over the steps since the last record. */
  private window = { loss: 0, dataLoss: 0, steps: 0, samples: 0, since: 0 };
  private lastCheckpoint: { step: number; time: number };
  private atRecordBoundary = true;
  /** The best weights changed since the last checkpoint: the next one carries them. */
  private bestUnsaved = false;

  constructor(
    private readonly network: Network,
    private readonly data: PreparedData,
    private readonly spec: JobSpec,
    private readonly state: LoopState,
    private readonly io: LoopIO,
    /** Best weights so far (restored from the best checkpoint on resume), packed. */
    private bestWeights: Float32Array<ArrayBuffer> | null,
    private readonly setup: LoopSetup,
  ) {
    const B = spec.training.batchSize;
    this.batchX = new Float32Array(B * data.inputs);
    this.batchY = data.train.y instanceof Int32Array ? new Int32Array(B) : new Float32Array(B);
    this.stepsPerEpoch = Math.ceil(data.train.rows / B);
    this.schedule = new RecordSchedule(this.stepsPerEpoch, spec.metrics.everySteps, spec.training.epochs, setup.recordEpochs);
    const t = io.now();
    this.lastCheckpoint = { step: state.step, time: t };
    this.window.since = t;
  }

  run(): LoopOutcome {
    const { epochs, batchSize: B, seed } = this.spec.training;
    const state = this.state, N = this.data.train.rows;
    while (!state.stoppedEarly && state.epoch < epochs) {
      const order = epochOrder(seed, state.epoch, N);
      while (state.position < this.stepsPerEpoch) {
        const stop = this.io.stopCommand();
        if (stop === StopCommand.CANCEL) {
          // Not at a record boundary (no resume follows a cancel): written only so the best weights are not lost.
          if (this.bestUnsaved) this.checkpoint('cancel', null);
          return { kind: 'stopped', reason: 'cancel' };
        }
        if (stop === StopCommand.LEASE_LOST) return { kind: 'stopped', reason: 'lease-lost' };
        if (stop === StopCommand.HAND_BACK && this.atRecordBoundary) {
          if (this.lastCheckpoint.step !== state.step || this.bestUnsaved) this.checkpoint('hand-back', null);
          return { kind: 'stopped', reason: 'hand-back' };
        }

        const start = state.position * B;
        const n = Math.min(B, N - start);
        const rows = order.subarray(start, start + n);
        gatherRows(this.data.train.x, this.data.inputs, rows, this.batchX);
        this.gatherBatchTargets(rows);
        const epochEnd = state.position + 1 === this.stepsPerEpoch;
        // Records known in advance measure their layer statistics during the step (./record-schedule.ts).
        const scheduled = this.schedule.due(state.step + 1, state.epoch + 1, epochEnd);
        const stats = this.network.trainStep(this.batchX, this.batchY, n, { layerStats: scheduled });
        state.step++;
        state.position++;

        const divergence = this.checkDivergence(stats);
        if (divergence) return divergence;

        this.window.loss += stats.loss;
        this.window.dataLoss += stats.dataLoss;
        this.window.steps++;
        this.window.samples += n;

        const evaluation = epochEnd ? this.endEpoch() : null;
        // An epoch end the schedule skips still feeds the learning-curve warnings; it is recorded after all when it
        // ends the job early or raises one (a warning is stored with the record of the step it was raised at).
        const curveWarnings = evaluation && !scheduled ? this.observeCurve(evaluation.summary) : [];
        const record = scheduled || (evaluation !== null && (state.stoppedEarly || curveWarnings.length > 0));
        this.atRecordBoundary = record;
        if (!record) {
          if (!epochEnd) continue;
          state.epoch++;
          state.position = 0;
          break;
        }

        const windowRows = this.window.samples;
        // Not measured during the step: this step's update ratio is unknown (null; the UPDATE_RATIO rule skips it).
        const layers = stats.layers ?? this.network.layerStats().map((l) => ({ ...l, updateRatio: null }));
        const metrics = this.record(stats, layers, evaluation);
        const warnings = scheduled
          ? this.observe(metrics, windowRows, evaluation?.summary ?? null)
          : [...this.observe(metrics, windowRows, null), ...curveWarnings];
        const decision = epochEnd ? this.decisionGrid() : null;
        this.io.emit({ type: 'metrics', record: metrics, warnings, decision });
        if (epochEnd) {
          state.epoch++;
          state.position = 0;
        }
        const now = this.io.now();
        const trigger: CheckpointTrigger | null = state.step - this.lastCheckpoint.step >= this.spec.checkpoints.everySteps ? 'steps'
          : now - this.lastCheckpoint.time >= this.spec.checkpoints.everySeconds * 1000 ? 'seconds'
          : null;
        if (trigger) this.checkpoint(trigger, evaluation?.monitored ?? null);
        if (epochEnd) break;
      }
    }
    return this.finish();
  }

  private monitored(summary: EvalSummary): number | null {
    const value = summary[this.spec.training.monitor];
    return value ?? null;
  }

  private gatherBatchTargets(rows: Int32Array): void {
    const y = this.data.train.y, out = this.batchY;
    for (let i = 0; i < rows.length; i++) out[i] = y[rows[i]!]!;
  }

  private checkDivergence(stats: StepStats): LoopOutcome | null {
    const state = this.state;
    if (!Number.isFinite(stats.loss)) {
      return this.diverged('loss', stats.loss,
        `the loss became ${stats.loss} at step ${state.step}. Lower the learning rate (e.g. ÷10), standardize the inputs, or add L2 regularization`);
    }
    // The norm the update measured on its way (Σg² of the gradient it applied, penalty included): no extra pass.
    const gradNorm = stats.gradNorm;
    if (!Number.isFinite(gradNorm)) {
      return this.diverged('grad-norm', gradNorm, `the gradient norm became ${gradNorm} at step ${state.step}. Lower the learning rate (e.g. ÷10)`);
    }
    if (state.step <= GRAD_NORM_REFERENCE_STEPS || state.gradNormRef === 0) {
      state.gradNormRef = Math.max(state.gradNormRef, gradNorm);
    } else if (gradNorm > this.spec.training.maxGradNormRatio * state.gradNormRef) {
      return this.diverged('grad-norm', gradNorm,
        `the gradient norm exploded to ${gradNorm.toPrecision(3)} at step ${state.step} (${(gradNorm / state.gradNormRef).toPrecision(3)}× the start). ` +
        'Lower the learning rate (e.g. ÷10) or use an adaptive optimizer (adam)');
    }
    return null;
  }

  private diverged(cause: 'loss' | 'grad-norm', value: number, advice: string): LoopOutcome {
    return { kind: 'diverged', cause, value, message: `Training diverged: ${advice}. The last good checkpoint is kept.` };
  }

  /** Evaluates the epoch just finished, updates best and early stopping. */
  private endEpoch(): { summary: EvalSummary; monitored: number; improved: boolean } {
    const state = this.state, { trainEval: sample, validation } = this.data;
    // A seeded sample of the training split (prepare-data.ts), not its first rows: uploads may be sorted, e.g. by label.
    const trainEval = this.network.evaluate(sample.x, sample.y, sample.rows);
    const valEval = validation.rows > 0 ? this.network.evaluate(validation.x, validation.y, validation.rows) : null;
    const summary: EvalSummary = {
      epoch: completedEpoch(state),
      step: state.step,
      trainLoss: trainEval.loss,
      trainAccuracy: trainEval.accuracy,
      valLoss: valEval?.loss ?? null,
      valAccuracy: valEval?.accuracy ?? null,
      valRmse: valEval?.rmse ?? null,
      valR2: valEval?.r2 ?? null,
    };
    state.lastEval = summary;
    const monitor = this.spec.training.monitor;
    const monitored = summary[monitor] ?? Number.NaN;
    const minDelta = this.spec.training.earlyStopping?.minDelta ?? 0;
    const best = state.best?.value;
    const improved = Number.isFinite(monitored) && (best === undefined
      || (LOWER_IS_BETTER[monitor] ? monitored < best - minDelta : monitored > best + minDelta));
    if (improved) {
      state.best = { value: monitored, metrics: summary };
      state.badEpochs = 0;
      // Kept whatever `keep` says: a stopped job's best weights can be promoted to a model.
      this.bestWeights = this.network.exportWeights().values as Float32Array<ArrayBuffer>;
      this.bestUnsaved = true;
    } else {
      state.badEpochs++;
      const patience = this.spec.training.earlyStopping?.patience;
      if (patience !== undefined && state.badEpochs >= patience) state.stoppedEarly = true;
    }
    return { summary, monitored, improved };
  }

  private record(stats: StepStats, layers: MetricRecord['layers'], evaluation: { summary: EvalSummary } | null): MetricRecord {
    const w = this.window, now = this.io.now();
    const seconds = (now - w.since) / 1000;
    const record: MetricRecord = {
      step: this.state.step,
      epoch: completedEpoch(this.state),
      trainLoss: w.loss / w.steps,
      dataLoss: w.dataLoss / w.steps,
      regLoss: stats.regLoss,
      trainAccuracy: evaluation?.summary.trainAccuracy ?? null,
      valLoss: evaluation?.summary.valLoss ?? null,
      valAccuracy: evaluation?.summary.valAccuracy ?? null,
      valRmse: evaluation?.summary.valRmse ?? null,
      valR2: evaluation?.summary.valR2 ?? null,
      learningRate: stats.learningRate,
      samplesPerSec: seconds > 0 ? w.samples / seconds : 0,
      layers,
    };
    this.window = { loss: 0, dataLoss: 0, steps: 0, samples: 0, since: now };
    return record;
  }

  private observe(record: MetricRecord, windowRows: number, evaluation: EvalSummary | null): JobWarning[] {
    return observeRecord(this.state.health, {
      step: record.step,
      trainLoss: record.trainLoss,
      learningRate: record.learningRate,
      startLearningRate: this.spec.optimizer.learningRate,
      windowRows,
      layers: record.layers,
      epochEnd: evaluation && this.epochEndObservation(evaluation),
    }, this.setup.health);
  }

  /** The learning-curve rules alone, at an epoch end that is not recorded (yet). */
  private observeCurve(evaluation: EvalSummary): JobWarning[] {
    return observeEpochEnd(this.state.health, this.state.step, this.epochEndObservation(evaluation), this.setup.health);
  }

  private epochEndObservation(evaluation: EvalSummary): NonNullable<Parameters<typeof observeEpochEnd>[2]> {
    return {
      epoch: evaluation.epoch, trainLoss: evaluation.trainLoss, valLoss: evaluation.valLoss,
      quality: this.quality, qualityValue: this.quality ? evaluation[this.quality.metric] : null, validationRows: this.data.validation.rows,
    };
  }

  /**
   * The validation metric OVERFITTING requires to worsen with the loss: the monitored one when it is accuracy, RMSE or
   * R², else accuracy (classification) or RMSE (regression); null without a validation split.
   */
  private get quality(): QualityMetric | null {
    if (this.data.validation.rows === 0) return null;
    const monitor = this.spec.training.monitor;
    const metric = monitor === 'valAccuracy' || monitor === 'valRmse' || monitor === 'valR2' ? monitor
      : this.data.train.y instanceof Int32Array ? 'valAccuracy' : 'valRmse';
    return { metric, higherIsBetter: metric !== 'valRmse' };
  }

  /** At an epoch end (before `epoch` moves on): the decision grid, when this epoch gets one (1-based epoch number). */
  private decisionGrid(): DecisionGrid | null {
    const grids = this.setup.decisions, state = this.state;
    if (!grids) return null;
    const epoch = completedEpoch(state);
    const last = state.stoppedEarly || epoch >= this.spec.training.epochs;
    return grids.due(epoch, last) ? grids.compute(epoch) : null;
  }

  /** Writes a checkpoint; it carries the best weights (and is marked best) when they changed since the last one. */
  private checkpoint(trigger: CheckpointTrigger, metric: number | null): void {
    const state = this.state;
    const isBest = this.bestUnsaved && this.bestWeights !== null && state.best !== null;
    const best = isBest ? { step: state.best!.metrics.step, epoch: state.best!.metrics.epoch, weights: this.bestWeights! } : null;
    const bytes = encodeCheckpoint({
      loop: structuredClone(state), preprocessing: this.data.preprocessor.toJSON(), kernel: this.setup.kernel, engine: this.network.saveState(), best,
    });
    this.io.emit({
      type: 'checkpoint',
      step: state.step,
      epoch: completedEpoch(state),
      trigger,
      state: bytes,
      metric,
      isBest,
      bestStep: best?.step ?? null,
      best: isBest ? { metric: state.best!.value, metrics: state.best!.metrics } : null,
    });
    if (isBest) this.bestUnsaved = false;
    this.lastCheckpoint = { step: state.step, time: this.io.now() };
  }

  private finish(): LoopOutcome {
    const state = this.state;
    // The end: the last state and the best weights are stored (the job's final checkpoint).
    if (this.lastCheckpoint.step !== state.step || this.bestUnsaved) this.checkpoint('end', state.lastEval?.step === state.step ? this.monitored(state.lastEval) : null);
    const useBest = this.spec.training.keep === 'best' && this.bestWeights !== null && state.best !== null;
    return {
      kind: 'finished',
      outcome: state.stoppedEarly ? 'early-stopped' : 'completed',
      weights: useBest ? this.bestWeights! : (this.network.exportWeights().values as Float32Array<ArrayBuffer>),
      weightsStep: useBest ? state.best!.metrics.step : state.step,
      weightsSource: useBest ? 'best' : 'final',
      modelMetrics: useBest ? state.best!.metrics : state.lastEval,
    };
  }
}
