/**
 * The engine's public surface for the rest of Trainyard (training loop, routes, inference). Pure numerics: nothing here
 * imports anything else from src/. Compute contexts: ./reference-context.ts (baseline) and ./fast-context.ts (WASM SIMD
 * over a thread pool), both implementing ./compute.ts.
 */
export type { ComputeContext, GemmForm, KernelFlavour } from './compute.js';
export { createReferenceContext } from './reference-context.js';
export { createFloat64Backend, type Backend, type Real } from './backend.js';
export { Rng, type RngState } from './rng.js';
export {
  describeNetwork, resolveSpec, validateSpec, SpecError,
  type Activation, type HiddenLayerSpec, type InitScheme, type LayerInfo, type LayerKind, type LossKind,
  type NetworkDescription, type NetworkSpec, type RegularizationSpec, type ResolvedSpec, type SpecIssue,
} from './spec.js';
export type { Targets } from './losses.js';
export {
  resolveOptimizer, scheduledRate, validateOptimizer,
  type OptimizerConfig, type OptimizerType, type ResolvedOptimizer, type ScheduleConfig, type UpdateRule,
} from './optimizers.js';
export { Preprocessor, validatePreprocessing, type FittedPreprocessing, type PreprocessingSpec } from './preprocessing.js';
export type { LayerStats } from './stats.js';
export {
  createNetwork, Network, readStateMeta, restoreNetwork,
  type EvaluateResult, type ExportedWeights, type LossResult, type NetworkOptions, type StateMeta, type StepStats,
  type StepTimings, type TrainStepOptions,
} from './network.js';
