/**
 * Example values shown in /openapi.json and Swagger UI (through `example(schema, value)` of ./openapi-docs.ts, which
 * fills in what an example leaves out). A spiral dataset, a job trained on it, and its model.
 */
const DATASET_ID = '8d3c1f2e-5b6a-4c7d-9e8f-0a1b2c3d4e5f';
const JOB_ID = '3f0b9a52-8c1e-4a57-9d6f-2b7e0c4d1a93';
const MODEL_ID = 'b7e2d4c6-1a3f-4e5d-8c9b-7a6f5e4d3c2b';
const AT = '2026-01-01T12:00:00.000Z';

export const EXAMPLE_IDS = { dataset: DATASET_ID, job: JOB_ID, model: MODEL_ID } as const;

export const DATASET_EXAMPLE = {
  id: DATASET_ID,
  name: 'spiral (seed 42)',
  source: 'synthetic',
  sourceParams: { kind: 'spiral', n: 100, classes: 3, noise: 0.2, seed: 42 },
  task: 'classification',
  rows: 300,
  features: 2,
  featureNames: ['x', 'y'],
  targetName: 'class',
  classNames: ['0', '1', '2'],
  classCounts: [100, 100, 100],
  stats: [{ mean: 0.01, std: 0.52, min: -1.1, max: 1.08 }, { mean: -0.02, std: 0.5, min: -1.05, max: 1.1 }],
  targetStats: null,
  byteSize: 3600,
  contentHash: 'sha256:9f2c…',
  chunkCount: 1,
  createdAt: AT,
};

export const DATASET_SUMMARY_EXAMPLE = {
  id: DATASET_ID, name: 'spiral (seed 42)', source: 'synthetic', task: 'classification', rows: 300, features: 2, classes: 3,
  byteSize: 3600, contentHash: 'sha256:9f2c…', createdAt: AT,
};

export const ROWS_EXAMPLE = {
  offset: 0,
  total: 300,
  featureNames: ['x', 'y'],
  targetName: 'class',
  items: [{ row: 0, x: [0, 0], y: 0, label: '0' }, { row: 1, x: [0.01, 0.003], y: 0, label: '0' }],
};

const SPEC = {
  datasetId: DATASET_ID,
  name: 'spiral 2×100',
  network: { layers: [{ units: 100, activation: 'relu', dropout: 0 }, { units: 100, activation: 'relu', dropout: 0 }], loss: 'softmax' },
  optimizer: { type: 'adam', learningRate: 0.001 },
  training: { epochs: 200, batchSize: 32, validationSplit: 0.2, seed: 7 },
};

export const JOB_SPEC_EXAMPLE = {
  datasetId: DATASET_ID,
  name: 'spiral 2×100',
  network: { layers: [{ units: 100 }, { units: 100 }] },
  optimizer: { type: 'adam', learningRate: 0.001 },
  training: { epochs: 200, batchSize: 32, validationSplit: 0.2 },
};

export const JOB_EXAMPLE = {
  id: JOB_ID,
  name: 'spiral 2×100',
  datasetId: DATASET_ID,
  warmStartModelId: null,
  status: 'running',
  attempt: 1,
  cancelRequested: false,
  epoch: 12,
  step: 96,
  totalSteps: 1600,
  parameterCount: 10_603,
  bestMetric: 0.41,
  bestMetrics: { epoch: 11, valLoss: 0.41, valAccuracy: 0.87 },
  finalMetrics: null,
  warnings: [],
  failure: null,
  modelId: null,
  worker: { id: 'worker-1', leaseExpiresAt: AT },
  spec: SPEC,
  createdAt: AT,
  startedAt: AT,
  finishedAt: null,
  updatedAt: AT,
};

export const DRY_RUN_EXAMPLE = {
  dryRun: true,
  parameterCount: 10_603,
  layers: [
    { name: 'fc1', kind: 'dense', activation: 'relu', inputs: 2, outputs: 100, params: 300 },
    { name: 'fc2', kind: 'dense', activation: 'relu', inputs: 100, outputs: 100, params: 10_100 },
    { name: 'out', kind: 'dense', activation: null, inputs: 100, outputs: 3, params: 303 },
  ],
  inputs: 2,
  outputs: 3,
  loss: 'softmax',
  trainRows: 240,
  validationRows: 60,
  stepsPerEpoch: 8,
  totalSteps: 1600,
  spec: SPEC,
};

export const METRICS_EXAMPLE = {
  jobId: JOB_ID,
  count: 2,
  nextSince: 16,
  step: [8, 16],
  epoch: [1, 2],
  trainLoss: [1.02, 0.93],
  dataLoss: [1.01, 0.92],
  regLoss: [0.01, 0.01],
  trainAccuracy: [0.48, 0.55],
  valLoss: [0.99, 0.9],
  valAccuracy: [0.5, 0.58],
  valRmse: [null, null],
  valR2: [null, null],
  learningRate: [0.001, 0.001],
  samplesPerSec: [52_000, 54_100],
  layers: [[], []],
};

export const CHECKPOINTS_EXAMPLE = {
  items: [{ id: '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d', attempt: 1, step: 1600, epoch: 200, metric: 0.21, isBest: true, isFinal: true, bytes: 42_412, createdAt: AT }],
};

export const MODEL_SUMMARY_EXAMPLE = {
  id: MODEL_ID, name: 'spiral 2×100', task: 'classification', parameterCount: 10_603, inputs: 2, classes: 3, jobId: JOB_ID,
  datasetId: DATASET_ID, createdAt: AT, version: 1, aliases: ['production'], description: null, tags: ['spiral'],
};

export const MODEL_EXAMPLE = {
  ...MODEL_SUMMARY_EXAMPLE,
  spec: { inputs: 2, outputs: 3, loss: 'softmax', layers: [{ units: 100, activation: 'relu' }, { units: 100, activation: 'relu' }] },
  layers: DRY_RUN_EXAMPLE.layers,
  featureNames: ['x', 'y'],
  classNames: ['0', '1', '2'],
  preprocessing: { type: 'standardize', inputs: 2, outputs: 2, standardize: true, components: null, epsilon: null },
  metrics: { epoch: 200, valLoss: 0.21, valAccuracy: 0.95 },
  inputRange: [{ min: -1.1, max: 1.08 }, { min: -1.05, max: 1.1 }],
};

export const PREDICT_BODY_EXAMPLE = { rows: [[0.5, -0.2], [-0.7, 0.1]] };

export const PREDICTION_EXAMPLE = {
  modelId: MODEL_ID,
  task: 'classification',
  rows: 2,
  predictions: [
    { class: '2', probabilities: { 0: 0.02, 1: 0.03, 2: 0.95 } },
    { class: '0', probabilities: { 0: 0.91, 1: 0.06, 2: 0.03 } },
  ],
};

export const DECISION_GRID_EXAMPLE = {
  modelId: MODEL_ID,
  task: 'classification',
  featureNames: ['x', 'y'],
  classNames: ['0', '1', '2'],
  resolution: 2,
  xRange: [-1.1, 1.08],
  yRange: [-1.05, 1.1],
  classes: [0, 0, 2, 1],
  outputs: [[0.9, 0.05, 0.05], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1]],
  values: null,
};

export const MODEL_DOCUMENT_EXAMPLE = { format: 'trainyard-model', version: 1, name: 'spiral 2×100' };
