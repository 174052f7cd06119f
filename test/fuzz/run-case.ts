/**
 * Runs one fuzz case: the same network (spec, optimizer, seed) on the fast context with 1, 2 and 3 threads and on the
 * float64 reference, the case's operations in order, and after each operation every check:
 *
 *   1. all fast runs bit-identical: results (step stats but timings, evaluate results, predictions, layer statistics,
 *      saved bytes, exported weights, grid classes) and state (parameters, gradients, optimizer moments, step, RNG);
 *   2. invariants: evaluate, predict, layerStats, saveState, exportWeights and decision grids leave parameters,
 *      gradients, optimizer moments, step and RNG state bit-unchanged (on the fast networks and on the reference);
 *      a training step draws exactly the noise and dropout values the model predicts; a state restored into a fresh
 *      network equals the saved one, and the restored network and the one it was saved from continue bit-identically
 *      (the pair is kept side by side to the end of the case); restoreState of an older save returns to it exactly;
 *   3. fast against the float64 reference, within the tolerance model of ./shadow.ts: the reference is re-synchronized
 *      to the fast state before each operation (so every comparison covers one operation), and the model itself is
 *      checked against the reference with the same allowances (it must compute the same function).
 * A failed check throws a Finding (./compare.ts).
 */
import type { Real } from '../../src/engine/backend.js';
import type { FastContext } from '../../src/engine/fast-context.js';
import { createNetwork, restoreNetwork, type Network, type StepStats } from '../../src/engine/network.js';
import { pack } from '../../src/engine/params.js';
import { Rng } from '../../src/engine/rng.js';
import { gridPoints, gridSpan, predictedClass } from '../../src/models/grid.js';
import { DecisionGrids } from '../../src/training/decision-grids.js';
import type { PreparedData } from '../../src/training/prepare-data.js';
import { diffStates, snapshot, type NetworkState } from '../engine/network-state.js';
import { describeCase, type FuzzCase, type Op, type OpKind } from './case.js';
import { Finding, sameBits, sameBytes, sameValue, scalarWithin, within, type ToleranceStats } from './compare.js';
import { generateData, targetRows, type CaseData } from './data.js';
import type { Engines } from './engines.js';
import { largest, Shadow, type ShadowState } from './shadow.js';
import { FLOAT32_SAFE } from './tolerance.js';
import { ambiguousClasses, evaluateBounds, layerStatsBounds, predictBounds } from './shadow-inference.js';

export interface Counters {
  cases: number;
  operations: number;
  perKind: Record<OpKind, number>;
  /** Operations compared against the float64 reference. */
  referenceChecks: number;
  /** Of those, operations whose values left float32's safe range (diverged training): not compared. */
  outOfScope: number;
  /** Time spent per kind of operation (all runs and checks), and setting cases up (data, networks). */
  millis: Record<OpKind | 'setup', number>;
}

export function newCounters(): Counters {
  return {
    cases: 0, operations: 0, referenceChecks: 0, outOfScope: 0,
    perKind: { train: 0, evaluate: 0, predict: 0, layerStats: 0, save: 0, restore: 0, rewind: 0, export: 0, grid: 0 },
    millis: { setup: 0, train: 0, evaluate: 0, predict: 0, layerStats: 0, save: 0, restore: 0, rewind: 0, export: 0, grid: 0 },
  };
}

export interface CaseOptions {
  /** Self-test: plant a fault after the first training step (in the 2-thread run, or in every fast run) to check it is found. */
  inject?: 'thread' | 'reference' | null;
}

interface Run {
  threads: number;
  ctx: FastContext;
  net: Network;
  /** After a 'restore': the network the state was saved from, carrying on beside the restored one. */
  twin: Network | null;
  /** Whether the twin's gradients are comparable (not until a training step after the restore: gradients are not saved). */
  twinGrads: boolean;
  saved: Uint8Array | null;
  savedState: NetworkState | null;
}

const omitTimings = (s: StepStats) => {
  const { timings: _, ...rest } = s;
  return rest;
};

/** Layer statistics without the fields a restored network legitimately has afresh (dead-unit window, last update ratio). */
const portableStats = (layers: StepStats['layers']) => layers?.map(({ deadFraction: _d, updateRatio: _u, ...rest }) => rest);

function compareStates(check: string, a: Network, b: Network, grads: boolean): void {
  sameBits(`${check}: parameters`, a.params, b.params);
  if (grads) sameBits(`${check}: gradients`, a.grads, b.grads);
  a.optimizer.buffers.forEach((buf, i) => sameBits(`${check}: optimizer.buffers[${i}]`, buf, b.optimizer.buffers[i]));
  sameValue(`${check}: step`, a.step, b.step);
  sameValue(`${check}: rng state`, a.rng.state(), b.rng.state());
}

/** Runs f on a network and throws unless its parameters, gradients, moments, step and RNG are bit-unchanged. */
function pure<R>(what: string, label: string, net: Network<Real>, f: () => R): R {
  const before = snapshot(net);
  const result = f();
  const diff = diffStates(before, snapshot(net), net.params.BYTES_PER_ELEMENT);
  if (diff.length) throw new Finding(`invariant: ${what} changes no state`, `${label}: ${diff.join('; ')}`);
  return result;
}

export async function runCase(c: FuzzCase, engines: Engines, tol: ToleranceStats, counters: Counters, options: CaseOptions = {}): Promise<void> {
  const setupStarted = performance.now();
  const data = generateData(c);
  const spec = data.spec, K = c.outputs, D = data.inputs;
  const shadow = new Shadow(spec);
  const P = shadow.layout.bufferLength;
  const widths = shadow.plans.reduce((s, p) => s + p.outputs * p.pieces, D);
  const needBytes = 4 * (P * 12 + c.maxBatch * widths * 8) + (1 << 20);
  const contexts = await engines.fast(needBytes);
  const netOptions = { maxBatch: c.maxBatch, seed: c.seed, optimizer: c.optimizer };
  const runs: Run[] = contexts.map((ctx) => ({
    threads: ctx.threads, ctx, net: createNetwork(spec, { ctx, ...netOptions }), twin: null, twinGrads: false, saved: null, savedState: null,
  }));
  const ref = createNetwork<Float64Array>(spec, { ctx: engines.float64, ...netOptions });
  counters.cases++;
  tol.context = `case ${counters.cases} [${describeCase(c)}]`;

  // Initialization: bit-identical across threads, and the float32 rounding of the float64 reference's draws.
  for (const r of runs.slice(1)) compareStates(`init: ${r.threads} threads vs 1`, r.net, runs[0].net, true);
  const first = runs[0].net.params;
  for (let i = 0; i < P; i++) {
    if (first[i] !== Math.fround(ref.params[i])) throw new Finding('init: float32 rounding of the float64 initialization', `param [${i}]: ${first[i]} vs fround(${ref.params[i]})`);
  }

  let injected = false;
  counters.millis.setup += performance.now() - setupStarted;
  for (const [index, op] of c.ops.entries()) {
    const where = `op ${index} (${op.kind})`;
    counters.operations++;
    counters.perKind[op.kind]++;
    const t0 = performance.now();
    runOp(op, where);
    // after every operation: all fast runs hold the same state; a twin the same as its restored network
    for (const r of runs) {
      if (r !== runs[0]) compareStates(`${where}: ${r.threads} threads vs 1`, r.net, runs[0].net, true);
      if (r.twin) compareStates(`${where}: restored network vs the one it was saved from (${r.threads} threads)`, r.net, r.twin, r.twinGrads);
    }
    counters.millis[op.kind] += performance.now() - t0;
  }

  function rowsOf(op: { rows: number; start: number }): { x: Float32Array; t: ReturnType<typeof targetRows>; n: number } {
    const n = Math.min(op.rows, c.rows), start = Math.min(op.start, c.rows - n);
    return { x: data.x.subarray(start * D, (start + n) * D), t: targetRows(data.targets, K, start, n), n };
  }

  /** The reference takes the fast networks' exact state (parameters, moments, step, RNG) before an operation. */
  function syncReference(): ShadowState {
    const fast = runs[0].net;
    ref.restoreState(fast.saveState());
    counters.referenceChecks++;
    return {
      params: Float64Array.from(fast.params), buffers: fast.optimizer.buffers.map((b) => Float64Array.from(b)),
      step: fast.step, optimizer: c.optimizer,
    };
  }

  /**
   * f on every fast network (each twin too); view(result) compared bit for bit across threads, twinView(result)
   * between a restored network and its twin.
   */
  function onAll<R>(what: string, f: (net: Network, label: string) => R, view: (r: R) => unknown = (r) => r, twinView: (r: R, run: Run) => unknown = view): R[] {
    const results = runs.map((r) => {
      const label = `${what}, ${r.threads} threads`;
      const main = f(r.net, label);
      if (r.twin) {
        const other = f(r.twin, `${label} (twin)`);
        sameValue(`${what}: restored network vs the one it was saved from (${r.threads} threads)`, twinView(main, r), twinView(other, r));
      }
      return main;
    });
    for (const [i, r] of results.entries()) if (i > 0) sameValue(`${what}: ${runs[i].threads} threads vs 1`, view(r), view(results[0]));
    return results;
  }

  function runOp(op: Op, where: string): void {
    switch (op.kind) {
      case 'train': {
        const { x, t, n } = rowsOf(op);
        const state = syncReference();
        const rng = Rng.fromState(runs[0].net.rng.state());
        const statsOf = onAll(where, (net) => net.trainStep(x, t, n, { layerStats: op.stats }), omitTimings,
          (s) => ({ ...omitTimings(s), layers: portableStats(s.layers) }));
        for (const r of runs) if (r.twin) r.twinGrads = true;
        const fastStats = omitTimings(statsOf[0]);
        if (options.inject && !injected) {
          injected = true;
          const victims = options.inject === 'thread' ? runs.filter((r) => r.threads === 2) : runs;
          for (const r of victims) {
            let at = 0;
            for (let i = 0; i < P; i++) if (Math.abs(r.net.params[i]) > Math.abs(r.net.params[at])) at = i;
            r.net.params[at] = options.inject === 'thread' ? r.net.params[at] * (1 + 2 ** -22) : r.net.params[at] * 1.01 + 1e-3;
          }
        }
        const refStats = ref.trainStep(x, t, n, { layerStats: op.stats });
        const model = shadow.trainStep(state, x, t, n, rng);
        const fast = runs[0].net;
        // the RNG drew exactly the noise and dropout values of the model
        sameValue(`${where}: RNG draws of a training step (noise, dropout)`, fast.rng.state(), rng.state());
        sameValue(`${where}: learning rate`, fastStats.learningRate, refStats.learningRate);
        sameValue(`${where}: learning rate of the model`, model.update.learningRate, refStats.learningRate);
        sameValue(`${where}: step`, [fastStats.step, fastStats.batchSize], [refStats.step, refStats.batchSize]);
        if (outOfScope(model.magnitude, state.params)) return;
        const modelStats = { loss: model.loss.v, dataLoss: model.dataLoss.v, regLoss: model.regLoss.v, gradNorm: model.gradNorm.v };
        for (const [name, a] of [['model', modelStats], ['fast', fastStats]] as const) {
          scalarWithin(`train: ${name} loss vs reference`, a.loss, refStats.loss, model.loss.s, tol, where);
          scalarWithin(`train: ${name} dataLoss vs reference`, a.dataLoss, refStats.dataLoss, model.dataLoss.s, tol, where);
          scalarWithin(`train: ${name} regLoss vs reference`, a.regLoss, refStats.regLoss, model.regLoss.s, tol, where);
          scalarWithin(`train: ${name} gradNorm vs reference`, a.gradNorm, refStats.gradNorm, model.gradNorm.s, tol, where);
        }
        within('train: model gradients vs reference', model.grads.v, ref.grads, model.grads.s, tol, where);
        within('train: fast gradients vs reference', fast.grads, ref.grads, model.grads.s, tol, where);
        within('train: model parameters vs reference', model.update.params.v, ref.params, model.update.params.s, tol, where);
        within('train: fast parameters vs reference', fast.params, ref.params, model.update.params.s, tol, where);
        model.update.buffers.forEach((b, i) => {
          within(`train: model optimizer.buffers[${i}] vs reference`, b.v, ref.optimizer.buffers[i], b.s, tol, where);
          within(`train: fast optimizer.buffers[${i}] vs reference`, fast.optimizer.buffers[i], ref.optimizer.buffers[i], b.s, tol, where);
        });
        if (op.stats) {
          const bounds = layerStatsBounds(shadow, model, state.params);
          const fl = fastStats.layers!, rl = refStats.layers!;
          sameValue(`${where}: layer names`, fl.map((l) => l.name), rl.map((l) => l.name));
          bounds.forEach((b, i) => {
            for (const key of ['gradNorm', 'weightNorm', 'updateRatio', 'activationMean', 'activationStd'] as const) {
              scalarWithin(`train: layer ${key} vs reference`, fl[i][key] as number, rl[i][key] as number, b[key] as number, tol, `${where}, ${b.name}`);
            }
          });
        }
        return;
      }
      case 'evaluate': {
        const { x, t, n } = rowsOf(op);
        const results = onAll(where, (net, label) => pure('evaluate', label, net, () => net.evaluate(x, t, n)));
        {
          const state = syncReference();
          const r = pure('evaluate', 'float64 reference', ref, () => ref.evaluate(x, t, n));
          const b = evaluateBounds(shadow, state.params, x, t, n);
          if (outOfScope(b.magnitude, state.params)) return;
          const f = results[0];
          scalarWithin('evaluate: loss vs reference', f.loss, r.loss, b.loss.s, tol, where);
          scalarWithin('evaluate: dataLoss vs reference', f.dataLoss, r.dataLoss, b.dataLoss.s, tol, where);
          scalarWithin('evaluate: regLoss vs reference', f.regLoss, r.regLoss, b.regLoss.s, tol, where);
          scalarWithin('evaluate: model dataLoss vs reference', b.dataLoss.v, r.dataLoss, b.dataLoss.s, tol, where);
          if (r.accuracy !== null) {
            const err = Math.abs(f.accuracy! - r.accuracy);
            if (!(err <= b.accuracySlack + 1e-12)) throw new Finding('evaluate: accuracy vs reference', `${f.accuracy} vs ${r.accuracy}, but only ${b.accuracySlack} of the predictions are ambiguous; ${where}`);
          }
          if (r.rmse !== null && b.rmseAllowance !== null) checkAllowance('evaluate: rmse vs reference', f.rmse!, r.rmse, b.rmseAllowance, where);
          if (r.r2 !== null && b.r2Allowance !== null) checkAllowance('evaluate: r2 vs reference', f.r2!, r.r2, b.r2Allowance, where);
        }
        return;
      }
      case 'predict': {
        const { x, n } = rowsOf(op);
        const results = onAll(where, (net, label) => pure('predict', label, net, () => net.predict(x, n)));
        const state = syncReference();
        const r = pure('predict', 'float64 reference', ref, () => ref.predict(x, n));
        const b = predictBounds(shadow, state.params, x, n);
        if (outOfScope(b.magnitude, state.params)) return;
        within('predict: fast outputs vs reference', results[0], r, b.s, tol, where);
        within('predict: model outputs vs reference', b.v, r, b.s, tol, where);
        return;
      }
      case 'layerStats': {
        // A restored network has no gradients or activations until it trains (they are not part of a saved state).
        onAll(where, (net, label) => pure('layerStats', label, net, () => net.layerStats()), (s) => s,
          (s, run) => (run.twinGrads ? portableStats(s) : s.map((l) => [l.name, l.weightNorm])));
        return;
      }
      case 'save': {
        const bytes = onAll(where, (net, label) => pure('saveState', label, net, () => net.saveState()));
        for (const [i, r] of runs.entries()) {
          r.saved = bytes[i];
          r.savedState = snapshot(r.net);
        }
        return;
      }
      case 'restore': {
        for (const r of runs) {
          const bytes = pure('saveState', `${r.threads} threads`, r.net, () => r.net.saveState());
          const fresh = restoreNetwork(bytes, { ctx: r.ctx, maxBatch: c.maxBatch });
          compareStates(`${where}: restored network vs the saved one (${r.threads} threads)`, fresh, r.net, false);
          sameBytes(`${where}: saveState of the restored network (${r.threads} threads)`, fresh.saveState(), bytes);
          r.twin = r.net;
          r.net = fresh;
          r.twinGrads = false;
        }
        return;
      }
      case 'rewind': {
        for (const r of runs) {
          if (!r.saved) return;
          for (const net of r.twin ? [r.net, r.twin] : [r.net]) {
            net.restoreState(r.saved);
            const diff = diffStates({ ...r.savedState!, grads: snapshot(net).grads }, snapshot(net));
            if (diff.length) throw new Finding('invariant: restoreState returns to the saved state', `${where}, ${r.threads} threads: ${diff.join('; ')}`);
          }
        }
        return;
      }
      case 'export': {
        const exported = onAll(where, (net, label) => pure('exportWeights', label, net, () => net.exportWeights()));
        const packed = new Float32Array(runs[0].net.parameterCount);
        pack(runs[0].net.params, runs[0].net.layout, packed);
        sameBits(`${where}: exported weights vs the packed parameters`, exported[0].values, packed);
        return;
      }
      case 'grid': {
        if (c.features !== 2 || c.loss === 'l2') return;
        const settings = { resolution: op.resolution, everyEpochs: 1 };
        const dataset = { rows: c.rows, features: 2, x: data.raw, y: data.targets as Int32Array | Float32Array };
        const prepared = { preprocessor: data.preprocessor } as PreparedData;
        const grids = onAll(where, (net, label) => pure('decision grid', label, net, () => DecisionGrids.forJob(net, c.loss, K, dataset, prepared, settings)!.compute(0)));
        const state = syncReference();
        const refGrid = pure('decision grid', 'float64 reference', ref, () => DecisionGrids.forJob(ref as unknown as Network, c.loss, K, dataset, prepared, settings)!.compute(0));
        const points = gridInputs(data, op.resolution);
        const m = op.resolution * op.resolution;
        const out = predictBounds(shadow, state.params, points, m);
        if (outOfScope(out.magnitude, state.params)) return;
        const ambiguous = ambiguousClasses(out, m, K, c.loss === 'logistic' ? 0.5 : 0);
        for (let p = 0; p < m; p++) {
          const mine = grids[0].classes[p], theirs = refGrid.classes[p];
          if (mine !== theirs && !ambiguous[p]) throw new Finding('grid: classes vs reference', `point ${p}: class ${mine} vs ${theirs} (not ambiguous); ${where}`);
          if (!ambiguous[p] && predictedClass(out.v, p, K, c.loss) !== theirs) throw new Finding('grid: model classes vs reference', `point ${p}; ${where}`);
        }
        return;
      }
    }
  }

  /** Whether an operation's values leave the tolerance model's scope (FLOAT32_SAFE): then it is not compared (and counted). */
  function outOfScope(magnitude: number, params: Float64Array): boolean {
    if (magnitude <= FLOAT32_SAFE && largest(params) <= FLOAT32_SAFE) return false;
    counters.outOfScope++;
    return true;
  }

  function checkAllowance(check: string, a: number, r: number, allow: number, where: string): void {
    const err = Math.abs(a - r);
    if (!(err <= allow) && Number.isFinite(r)) throw new Finding(check, `${a} vs ${r}: error ${err.toExponential(3)} > allowance ${allow.toExponential(3)}; ${where}`);
    if (allow > 0 && Number.isFinite(r)) tol.note(check, err / allow, where);
  }
}

/** The preprocessed points of a decision grid, as DecisionGrids.forJob makes them. */
function gridInputs(data: CaseData, resolution: number): Float32Array {
  const min = [Infinity, Infinity], max = [-Infinity, -Infinity], rows = data.raw.length / 2;
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < 2; f++) {
      min[f] = Math.min(min[f], data.raw[r * 2 + f]);
      max[f] = Math.max(max[f], data.raw[r * 2 + f]);
    }
  }
  const pts = gridPoints(gridSpan(min[0], max[0]), gridSpan(min[1], max[1]), resolution);
  return data.preprocessor.apply(pts, resolution * resolution);
}
