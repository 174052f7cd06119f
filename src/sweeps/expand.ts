/**
 * From a sweep's parameter domains to its list of trial configurations (parameter values by spec path):
 *   grid    every combination of the `values` lists, the first parameter varying slowest;
 *   random  `trials` draws from a seeded generator (src/engine/rng.ts): a value of a list, uniform or log-uniform;
 *   asha    grid, or random when `trials` is given.
 * Problems are returned as {trial: null, path, message} (they are about the request, not one trial).
 */
import { Rng } from '../engine/rng.js';
import { MAX_TRIALS, type ParameterDomain, type ParameterValue, type SweepMethod } from './body-schema.js';

export type TrialParameters = Record<string, ParameterValue>;

export interface SweepIssue {
  /** The trial (0-based) the problem is in; null for the request as a whole. */
  trial: number | null;
  path: string;
  message: string;
}

export interface Expansion {
  trials: TrialParameters[];
  sampling: 'grid' | 'random';
  issues: SweepIssue[];
}

export function expandTrials(parameters: Record<string, ParameterDomain>, method: SweepMethod, options: { trials?: number | undefined; seed: number }): Expansion {
  const issues: SweepIssue[] = [];
  const sampling = method === 'random' || (method === 'asha' && options.trials !== undefined) ? 'random' : 'grid';
  const entries = Object.entries(parameters);
  for (const [path, domain] of entries) {
    const range = 'uniform' in domain ? domain.uniform : 'logUniform' in domain ? domain.logUniform : null;
    if (range && !(range[0]! <= range[1]!)) issues.push({ trial: null, path: `parameters.${path}`, message: `[low, high] needs low ≤ high, got [${range.join(', ')}]` });
    if (range && sampling === 'grid') issues.push({ trial: null, path: `parameters.${path}`, message: `${method} (grid sampling) needs a list of values; uniform and logUniform need random sampling (give \`trials\`)` });
  }
  if (method === 'random' && options.trials === undefined) issues.push({ trial: null, path: 'trials', message: 'random needs the number of trials' });
  if (method !== 'random' && method !== 'asha' && options.trials !== undefined) issues.push({ trial: null, path: 'trials', message: 'grid tries every combination; trials is for random and asha' });
  if (issues.length) return { trials: [], sampling, issues };

  if (sampling === 'random') {
    const rng = new Rng(options.seed);
    const trials = Array.from({ length: options.trials! }, () => Object.fromEntries(entries.map(([path, domain]) => [path, draw(domain, rng)])));
    return { trials, sampling, issues };
  }
  const size = entries.reduce((n, [, d]) => n * ('values' in d ? d.values.length : 1), 1);
  if (size > MAX_TRIALS) return { trials: [], sampling, issues: [{ trial: null, path: 'parameters', message: `the grid has ${size} combinations; at most ${MAX_TRIALS}` }] };
  let trials: TrialParameters[] = [{}];
  for (const [path, domain] of entries) {
    const values = 'values' in domain ? domain.values : [];
    trials = trials.flatMap((t) => values.map((v) => ({ ...t, [path]: v })));
  }
  return { trials, sampling, issues };
}

function draw(domain: ParameterDomain, rng: Rng): ParameterValue {
  if ('values' in domain) return domain.values[rng.int(domain.values.length)]!;
  if ('uniform' in domain) {
    const [low, high] = domain.uniform as [number, number];
    return low + rng.uniform() * (high - low);
  }
  const [low, high] = domain.logUniform as [number, number];
  return Math.exp(Math.log(low) + rng.uniform() * (Math.log(high) - Math.log(low)));
}
