/**
 * One trial's job spec: the sweep's base spec with its defaults filled, the trial's parameter values set at their
 * paths, and for ASHA the epochs set to maxEpochs. The job's monitored metric is the sweep's unless the spec chose
 * one, so the trial's best epoch (and the weights its model keeps) are the sweep metric's best. Checked like a
 * submitted job: the body schema, then the planner (src/jobs/plan.ts); problems carry the trial and the spec path.
 */
import { Value } from 'typebox/value';
import { ApiError } from '../errors.js';
import { planJob, withDefaults, type DatasetFacts, type JobPlan, type PlanLimits, type WarmStartFacts } from '../jobs/plan.js';
import { JobSpecBodySchema, type JobSpecBody, type MonitorMetric } from '../jobs/spec-schema.js';
import type { TrialParameters, SweepIssue } from './expand.js';
import { PathError, setAtPath } from './spec-paths.js';

export interface TrialSpecOptions {
  /** ASHA: every trial's training.epochs. */
  epochs: number | null;
  metric: MonitorMetric;
  /** The trial's job name when neither the base spec nor a parameter names it. */
  name: string;
}

export type TrialPlan = { ok: true; body: JobSpecBody; plan: JobPlan } | { ok: false; body: JobSpecBody; issues: SweepIssue[] };

export function trialBody(base: JobSpecBody, parameters: TrialParameters, options: TrialSpecOptions, trial: number): { body: JobSpecBody; issues: SweepIssue[] } {
  const body = withDefaults(base) as JobSpecBody & Record<string, unknown>;
  const issues: SweepIssue[] = [];
  if (options.epochs !== null) body.training!.epochs = options.epochs;
  if (base.training?.monitor === undefined) body.training!.monitor = options.metric;
  if (base.name === undefined) body.name = options.name;
  for (const [path, value] of Object.entries(parameters)) {
    try {
      setAtPath(body, path, value);
    } catch (error) {
      if (!(error instanceof PathError)) throw error;
      issues.push({ trial, path, message: error.message });
    }
  }
  return { body, issues };
}

/** Plans one trial as POST /v1/jobs would; never throws for a spec problem. */
export function planTrial(
  base: JobSpecBody, parameters: TrialParameters, options: TrialSpecOptions, trial: number,
  dataset: DatasetFacts, limits: PlanLimits, warmStart: WarmStartFacts | null,
): TrialPlan {
  const { body, issues } = trialBody(base, parameters, options, trial);
  if (issues.length) return { ok: false, body, issues };
  const schemaIssues = Value.Errors(JobSpecBodySchema, body).map((e) => ({ trial, path: specPath(e.instancePath), message: e.message }));
  if (schemaIssues.length) return { ok: false, body, issues: dedupe(schemaIssues) };
  try {
    return { ok: true, body, plan: planJob(body, dataset, limits, { warmStart }) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === 'JOB_SPEC_INVALID') {
      const errors = (error.fields.errors as { path: string; message: string }[] | undefined) ?? [{ path: '', message: error.detail }];
      return { ok: false, body, issues: errors.map((e) => ({ trial, path: e.path, message: e.message })) };
    }
    if (error.code === 'JOB_TOO_LARGE') {
      return { ok: false, body, issues: [{ trial, path: error.fields.setting === 'MAX_PARAMETERS' ? 'network' : 'training.epochs', message: error.detail }] };
    }
    throw error;
  }
}

/** `/network/layers/0/units` → `network.layers[0].units`. */
function specPath(pointer: string): string {
  return pointer.split('/').filter(Boolean).map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function dedupe(issues: SweepIssue[]): SweepIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(i.path) && (seen.add(i.path), true));
}
