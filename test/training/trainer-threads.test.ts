/**
 * A worker's trainer threads are kept between jobs (src/training/trainer-host.ts TrainerThreads): job after job runs
 * on one thread with its engine context kept and reset, and gives the same bits as each job on a thread of its own;
 * a thread whose job failed is replaced, not reused.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { generateSynthetic } from '../../src/datasets/synthetic/index.js';
import { planJob, type JobSpec } from '../../src/jobs/plan.js';
import { startTrainer, TrainerThreads, type TrainerHost } from '../../src/training/trainer-host.js';
import type { TrainerInput, TrainerMessage } from '../../src/training/trainer-protocol.js';

const spiral = generateSynthetic('spiral', { n: 60, classes: 3, noise: 0.2 }, 5);
const DATASET = { id: '00000000-0000-4000-8000-000000000001', name: 'spiral', task: 'classification' as const, rows: 180, features: 2, classes: 3 };
const DEFAULTS = loadConfig({});

function inputFor(body: object, threads = 2): Omit<TrainerInput, 'control'> {
  const plan = planJob({ datasetId: DATASET.id, ...body }, DATASET, { parameters: 1e9, epochRows: 1e12 }, { randomSeed: () => 99 });
  return {
    jobId: 'job', attempt: 1, spec: plan.spec, network: plan.network,
    dataset: { rows: 180, features: 2, x: spiral.x.slice(), y: (spiral.y as Int32Array).slice() },
    resume: null, warmStart: null, engineThreads: threads, health: DEFAULTS.health, decisionGrid: DEFAULTS.decisionGrid,
  };
}

type Final = Extract<TrainerMessage, { type: 'finished' | 'stopped' | 'diverged' | 'error' }>;

function collect(start: (onMessage: (m: TrainerMessage) => void) => TrainerHost): Promise<Final> {
  return new Promise((resolve) => {
    let final: Final | null = null;
    const host = start((m) => {
      if (m.type === 'metrics' || m.type === 'checkpoint') host.acknowledge(m.type === 'checkpoint');
      if (['finished', 'stopped', 'diverged', 'error'].includes(m.type)) final = m as Final;
    });
    void host.exited.then(() => resolve(final!));
  });
}

const weightsOf = (m: Final): Uint8Array => {
  assert.equal(m.type, 'finished', m.type === 'error' ? m.message : m.type);
  const w = (m as Extract<Final, { type: 'finished' }>).weights;
  return new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
};

const JOBS = [
  { network: { layers: [{ units: 40, activation: 'relu' }] }, optimizer: { type: 'adam', learningRate: 0.01 }, training: { epochs: 8, batchSize: 32, seed: 1 } },
  { network: { layers: [{ units: 24, activation: 'tanh' }, { units: 16, activation: 'prelu' }] }, optimizer: { type: 'momentum', learningRate: 0.05, momentum: 0.9 }, regularization: { l2: 0.001 }, training: { epochs: 6, batchSize: 50, seed: 2 } },
  { network: { layers: [{ units: 30, activation: 'maxout', pieces: 2, dropout: 0.2 }] }, training: { epochs: 5, batchSize: 162, seed: 3 } },
];

describe('trainer threads kept between jobs', () => {
  const threads = new TrainerThreads({ threads: 2, kernel: 'auto', initialMemoryMiB: 16, maxMemoryMiB: 256 });
  after(() => threads.close());

  it('run job after job on one thread, each bit-identical to the same job on a thread of its own', async () => {
    threads.prestart(1);
    for (const body of [...JOBS, JOBS[0]!]) {
      const kept = await collect((on) => threads.start(inputFor(body), on));
      const alone = await collect((on) => startTrainer(inputFor(body), on));
      assert.deepEqual(weightsOf(kept), weightsOf(alone));
    }
    assert.deepEqual(threads.stats(), { started: 1, idle: 1 });
  });

  it('replace a thread whose job failed', async () => {
    const bad = inputFor(JOBS[0]!);
    const failed = await collect((on) => threads.start({ ...bad, spec: { ...bad.spec, preprocessing: { type: 'pca', components: 5 } } as JobSpec }, on));
    assert.equal(failed.type, 'error');
    assert.equal(threads.stats().idle, 0, 'the failed job\'s thread is not kept');
    weightsOf(await collect((on) => threads.start(inputFor(JOBS[1]!), on)));
    assert.deepEqual(threads.stats(), { started: 2, idle: 1 });
  });
});
