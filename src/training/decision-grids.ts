/**
 * Live decision grids of a 2-input classification job (the `decision` event): the predicted class at resolution²
 * points spanning the dataset's bounding box in the raw feature space (src/models/grid.ts). The points are
 * preprocessed once — the preprocessing is fixed for the whole job — so a grid costs one forward pass over them.
 * Network.predict uses its own inference buffers and draws nothing from the RNG: grids never change what is trained.
 *
 * How many: one every `everyEpochs` epochs (DECISION_GRID_EVERY_EPOCHS) and after the last, but at most about
 * {@link MAX_LIVE_GRIDS} per job (a longer job spaces them out), and only at recorded epoch ends (a grid travels with
 * its epoch's metrics record; ./record-schedule.ts): the spacing is a multiple of the record schedule's.
 */
import type { Network } from '../engine/network.js';
import type { LossKind } from '../engine/spec.js';
import type { Config } from '../config.js';
import { gridPoints, gridSpan, predictedClass } from '../models/grid.js';
import type { PreparedData } from './prepare-data.js';
import type { TrainerDataset } from './trainer-protocol.js';

export type DecisionGridSettings = Config['decisionGrid'];

/** Live grids per job at most (plus the last one): a 1,000-epoch job gets one every 20 epochs, not every 5. */
export const MAX_LIVE_GRIDS = 50;

/** One grid, as the `decision` event carries it (src/queue/job-events.ts). */
export interface DecisionGrid {
  /** The epoch (1-based: epochs completed) whose end it shows. */
  epoch: number;
  resolution: number;
  xRange: [number, number];
  yRange: [number, number];
  /** resolution² class indices, row-major with y varying slowest. */
  classes: number[];
}

export class DecisionGrids {
  private constructor(
    private readonly network: Network,
    private readonly loss: LossKind,
    private readonly outputs: number,
    private readonly settings: DecisionGridSettings,
    /** Epochs between two grids (the last epoch aside). */
    readonly spacing: number,
    private readonly xRange: [number, number],
    private readonly yRange: [number, number],
    /** The grid's points, preprocessed: (resolution², inputs). */
    private readonly inputs: Float32Array,
  ) {}

  /**
   * The grids of a job, or null when it gets none (not 2 raw features, not classification, or turned off). `epochs`:
   * the job's epochs; `recordEvery`: every how many epoch ends are recorded (./record-schedule.ts).
   */
  static forJob(
    network: Network, loss: LossKind, outputs: number, dataset: TrainerDataset, data: PreparedData, settings: DecisionGridSettings,
    schedule: { epochs: number; recordEvery: number } = { epochs: 0, recordEvery: 1 },
  ): DecisionGrids | null {
    if (dataset.features !== 2 || loss === 'l2' || settings.everyEpochs === 0 || dataset.rows === 0) return null;
    const min = [Infinity, Infinity], max = [-Infinity, -Infinity];
    for (let r = 0; r < dataset.rows; r++) {
      for (let f = 0; f < 2; f++) {
        const v = dataset.x[r * 2 + f]!;
        if (v < min[f]!) min[f] = v;
        if (v > max[f]!) max[f] = v;
      }
    }
    const xRange = gridSpan(min[0]!, max[0]!), yRange = gridSpan(min[1]!, max[1]!);
    const n = settings.resolution * settings.resolution;
    const inputs = data.preprocessor.apply(gridPoints(xRange, yRange, settings.resolution), n);
    const k = Math.max(1, schedule.recordEvery);
    const spacing = k * Math.ceil(Math.max(settings.everyEpochs, Math.ceil(schedule.epochs / MAX_LIVE_GRIDS)) / k);
    return new DecisionGrids(network, loss, outputs, settings, spacing, xRange, yRange, inputs);
  }

  /** Whether the epoch just finished (1-based) gets a grid: every `spacing` epochs, and the last one. */
  due(epoch: number, last: boolean): boolean {
    return last || epoch % this.spacing === 0;
  }

  /** The grid of the network as it is now, at the end of `epoch`. */
  compute(epoch: number): DecisionGrid {
    const { resolution } = this.settings, n = resolution * resolution;
    const out = this.network.predict(this.inputs, n);
    const classes = new Array<number>(n);
    for (let p = 0; p < n; p++) classes[p] = predictedClass(out, p, this.outputs, this.loss);
    return { epoch, resolution, xRange: [...this.xRange], yRange: [...this.yRange], classes };
  }
}
