/**
 * What the trainer thread does with one job: builds the engine (a fast compute context with the configured threads,
 * the network), prepares the data, restores a checkpoint or a warm start, runs the loop and reports the outcome.
 * The thread's entry (./trainer-thread.ts) only wires this to its parent port.
 */
import { createNetwork, type Network } from '../engine/network.js';
import { planLayers, resolveSpec, type ResolvedSpec } from '../engine/spec.js';
import type { FittedPreprocessing } from '../engine/preprocessing.js';
import { completedEpoch, decodeCheckpoint, type LoopState } from './checkpoint-state.js';
import { DecisionGrids } from './decision-grids.js';
import { newContextPerJob, type ContextSource } from './engine-contexts.js';
import { freshLoopState, TrainingLoop, type LoopIO, type LoopOutcome } from './loop.js';
import { prepareData } from './prepare-data.js';
import { recordEveryEpochs } from './record-schedule.js';
import { NETWORK_STREAM, streamSeed } from './split.js';
import {
  ControlSlot, isWriteMessage, MAX_PENDING_CHECKPOINTS, MAX_PENDING_WRITES, StopCommand, type ControlBlock, type TrainerInput, type TrainerMessage,
} from './trainer-protocol.js';

export type Post = (message: TrainerMessage, transfer?: ArrayBuffer[]) => void;

export async function runTrainer(input: TrainerInput, post: Post, contexts: ContextSource = newContextPerJob): Promise<void> {
  const { spec } = input;
  const resolved = resolveSpec(input.network);
  const lease = await contexts({ threads: input.engineThreads, kernel: input.engineKernel ?? 'auto', ...memoryFor(resolved, spec.training.batchSize) });
  const { ctx } = lease;
  let healthy = false;
  try {
    const resumed = input.resume ? decodeCheckpoint(input.resume.latest) : null;
    const fitted = resumed?.preprocessing ?? input.warmStart?.preprocessing ?? null;
    const data = prepareData(input.dataset, spec.training.validationFraction, spec.training.seed, spec.preprocessing, fitted);
    if (data.inputs !== resolved.inputs) throw new RangeError(`the preprocessing gives ${data.inputs} inputs, the network takes ${resolved.inputs}`);
    const network = createNetwork(input.network, {
      ctx, maxBatch: spec.training.batchSize, seed: streamSeed(spec.training.seed, NETWORK_STREAM), optimizer: spec.optimizer,
    });

    let state = freshLoopState();
    let bestWeights: Float32Array<ArrayBuffer> | null = null;
    if (resumed && input.resume) {
      // The best weights: carried by the newest checkpoint, or by the one marked best (version 1 checkpoints: its
      // own parameters were the best).
      bestWeights = resumed.best?.weights ?? null;
      if (!bestWeights && input.resume.best) {
        const marked = decodeCheckpoint(input.resume.best);
        if (marked.best) bestWeights = marked.best.weights;
        else {
          network.restoreState(marked.engine);
          bestWeights = exported(network);
        }
      }
      network.restoreState(resumed.engine);
      state = resumed.loop;
      if (!bestWeights && state.best?.metrics.step === state.step) bestWeights = exported(network);
    } else if (input.warmStart) {
      const layout = network.layout.entries.map((e) => ({ name: e.name, rows: e.rows, cols: e.cols, offset: e.packedOffset }));
      network.importWeights({ layout, values: input.warmStart.weights });
    }
    post({ type: 'started', step: state.step, epoch: completedEpoch(state), parameterCount: network.parameterCount, resumed: resumed !== null, flavour: ctx.flavour, checkpointKernel: resumed?.kernel ?? null, threads: ctx.threads });

    const recordEvery = recordEveryEpochs(Math.ceil(data.train.rows / spec.training.batchSize), spec.metrics.everySteps);
    const decisions = DecisionGrids.forJob(network, resolved.loss, resolved.outputs, input.dataset, data, input.decisionGrid, { epochs: spec.training.epochs, recordEvery });
    const loop = new TrainingLoop(network, data, spec, state, threadIO(input.control, post), bestWeights, {
      health: input.health, decisions, kernel: ctx.flavour, recordEpochs: input.recordEpochs ?? [],
    });
    const outcome = loop.run();
    post(...finalMessage(outcome, state, data.preprocessor.toJSON(), resolved));
    healthy = true;
  } finally {
    await lease.release(healthy);
  }
}

function exported(network: Network): Float32Array<ArrayBuffer> {
  return network.exportWeights().values as Float32Array<ArrayBuffer>;
}

function finalMessage(outcome: LoopOutcome, state: LoopState, preprocessing: FittedPreprocessing, resolved: ResolvedSpec): [TrainerMessage, ArrayBuffer[]] {
  const { step } = state, epoch = completedEpoch(state);
  switch (outcome.kind) {
    case 'stopped':
      return [{ type: 'stopped', reason: outcome.reason, step, epoch }, []];
    case 'diverged':
      return [{ type: 'diverged', step, epoch, cause: outcome.cause, value: outcome.value, message: outcome.message }, []];
    case 'finished':
      return [{
        type: 'finished', outcome: outcome.outcome, step, epoch, weights: outcome.weights, weightsStep: outcome.weightsStep, weightsSource: outcome.weightsSource, preprocessing,
        resolvedSpec: resolved, loss: resolved.loss, modelMetrics: outcome.modelMetrics, finalMetrics: state.lastEval,
      }, [outcome.weights.buffer]];
  }
}

/**
 * The loop's IO in the thread: messages go to the parent (checkpoint bytes transferred, not copied); before a write
 * message, it waits (Atomics.wait: this is not the main thread) while too many writes are pending, unless it is told
 * to stop.
 */
function threadIO(control: ControlBlock, post: Post): LoopIO {
  let writes = 0;
  let checkpoints = 0;
  const mustStop = () => {
    const c = Atomics.load(control, ControlSlot.STOP);
    return c === StopCommand.CANCEL || c === StopCommand.LEASE_LOST;
  };
  return {
    emit(message) {
      if (isWriteMessage(message)) {
        const checkpoint = message.type === 'checkpoint';
        for (;;) {
          const acked = Atomics.load(control, ControlSlot.ACKED);
          const full = writes - acked >= MAX_PENDING_WRITES
            || (checkpoint && checkpoints - Atomics.load(control, ControlSlot.CHECKPOINTS_ACKED) >= MAX_PENDING_CHECKPOINTS);
          if (!full || mustStop()) break;
          Atomics.wait(control, ControlSlot.ACKED, acked, 100);
        }
        writes++;
        if (checkpoint) checkpoints++;
      }
      post(message, message.type === 'checkpoint' ? [message.state.buffer] : []);
    },
    stopCommand: () => Atomics.load(control, ControlSlot.STOP) as StopCommand,
    now: () => performance.now(),
  };
}

/** Shared memory for the network's buffers: parameters, gradients, optimizer state and activations, with headroom. */
function memoryFor(spec: ResolvedSpec, batch: number): { initialMemoryMiB: number; maxMemoryMiB: number } {
  const plans = planLayers(spec);
  const params = plans.reduce((s, p) => s + p.parameterCount + 3 * p.params.length, 0);
  const widths = spec.inputs + plans.reduce((s, p) => s + p.outputs * Math.max(1, p.pieces) * (p.kind === 'maxout' ? 2 : 1), 0);
  const bytes = 4 * (5 * params + 4 * batch * widths);
  const mib = Math.ceil(bytes / 2 ** 20);
  return { initialMemoryMiB: Math.min(4096, 16 + Math.ceil(mib * 1.25)), maxMemoryMiB: Math.min(4096, Math.max(256, 64 + mib * 2)) };
}
