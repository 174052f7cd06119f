/**
 * Which steps of a job end in a metrics record (`metrics.everySteps`, N).
 *
 * Epochs of about N steps or more (the usual case): a record every N steps and at every epoch end, as always.
 *
 * Shorter epochs (N / stepsPerEpoch rounds to k ≥ 2; a full-batch job has one step per epoch): a record at every k-th
 * epoch end, so about one per N steps, each with its train/validation evaluation — rather than one at every epoch
 * end, which made such a job spend most of its time on bookkeeping (evaluation, statistics, a stored row and a live
 * event per step). The first epoch, the last one and the `mustRecord` epochs (a sweep's ASHA rungs, which are judged
 * from their stored epoch-end rows) are recorded too. Every epoch end is still evaluated — best-epoch tracking, early
 * stopping and the learning-curve warnings see every epoch — and one that stops the job early or raises a warning is
 * recorded as well (the loop decides that after the step: {@link TrainingLoop}).
 *
 * The schedule depends on the step and the epoch alone, so a job resumed from a checkpoint records exactly the steps
 * an uninterrupted run records.
 */
export class RecordSchedule {
  /** k: every how many epoch ends are recorded (1: all of them, and every N steps too). */
  readonly everyEpochs: number;
  private readonly mustRecord: ReadonlySet<number>;

  constructor(
    readonly stepsPerEpoch: number,
    private readonly everySteps: number,
    private readonly epochs: number,
    mustRecord: readonly number[] = [],
  ) {
    this.everyEpochs = recordEveryEpochs(stepsPerEpoch, everySteps);
    this.mustRecord = new Set(mustRecord);
  }

  /** Whether epochs are short enough that only some epoch ends are recorded. */
  get thinned(): boolean {
    return this.everyEpochs > 1;
  }

  /**
   * Whether the step about to be trained ends in a record known in advance (its layer statistics are then measured
   * during the step). `step` is the step's number (1-based: steps done after it), `epoch` the 1-based epoch it belongs
   * to, `epochEnd` whether it is that epoch's last step.
   */
  due(step: number, epoch: number, epochEnd: boolean): boolean {
    if (!this.thinned) return epochEnd || step % this.everySteps === 0;
    return epochEnd && (epoch === 1 || epoch % this.everyEpochs === 0 || epoch >= this.epochs || this.mustRecord.has(epoch));
  }
}

/** k = N / stepsPerEpoch rounded to the nearest integer, at least 1. */
export function recordEveryEpochs(stepsPerEpoch: number, everySteps: number): number {
  return Math.max(1, Math.round(everySteps / Math.max(1, stepsPerEpoch)));
}
