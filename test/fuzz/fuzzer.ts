/**
 * The differential fuzzer's driver: fast-check generates cases (./generators.ts) from a seed for a time budget, each
 * runs on the fast context with 1, 2 and 3 threads and on the float64 reference (./run-case.ts); the first failing
 * case is shrunk by fast-check (replaying its path, for up to `shrinkSeconds`) and reported with the seed, the path and
 * the shrunk case as JSON (which `--case` replays).
 */
import fc from 'fast-check';
import { describeCase, type FuzzCase } from './case.js';
import { ToleranceStats } from './compare.js';
import { Engines } from './engines.js';
import { caseArb } from './generators.js';
import { newCounters, runCase, type CaseOptions, type Counters } from './run-case.js';
import { ABS_SLACK, MULT, REL_SLACK } from './tolerance.js';

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Time for shrinking a failure (default 120 s). */
  shrinkSeconds?: number;
  log?: (line: string) => void;
  /** Progress line every this many seconds (0: none). Default 15. */
  progressSeconds?: number;
  inject?: CaseOptions['inject'];
  /** Replay this case only (no generation, no shrinking). */
  replay?: FuzzCase;
  /** createFastContext's kernel choice (default: its own default, 'auto'). */
  kernel?: string;
}

export interface FuzzFinding {
  seed: number;
  path: string | null;
  message: string;
  /** The smallest failing case found. */
  shrunk: FuzzCase;
  original: FuzzCase;
  shrinkSteps: number;
}

export interface FuzzReport {
  seed: number;
  counters: Counters;
  /** Runs made while shrinking (not in counters). */
  shrinkRuns: number;
  elapsedSeconds: number;
  /** Of which generating and running cases (the rest: starting contexts, shrinking). */
  searchSeconds: number;
  /** CPU seconds of the process (all its threads) over the whole run: on a busy machine, much less than elapsed. */
  cpuSeconds: number;
  findings: FuzzFinding[];
  tolerance: ToleranceStats;
  contextsCreated: number;
  /** Kernel flavour of the fast contexts. */
  flavour: string;
}

const messageOf = (e: unknown) => (e instanceof Error ? `${e.name === 'Finding' ? '' : `${e.name}: `}${e.message}` : String(e));

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const cpuStarted = process.cpuUsage();
  const engines = await Engines.start(options.kernel);
  const tolerance = new ToleranceStats();
  const counters = newCounters();
  const findings: FuzzFinding[] = [];
  let shrinkRuns = 0;
  let searchStarted = Date.now(), searchEnded = 0;
  const progressEvery = (options.progressSeconds ?? 15) * 1000;
  let nextProgress = started + progressEvery;
  const progress = () => {
    if (progressEvery > 0 && Date.now() >= nextProgress) {
      nextProgress = Date.now() + progressEvery;
      log(`fuzz: ${((Date.now() - started) / 1000).toFixed(0)} s, ${counters.cases} cases, ${counters.operations} operations`);
    }
  };
  try {
    if (options.replay) {
      log(`fuzz: replaying ${describeCase(options.replay)}`);
      try {
        await runCase(options.replay, engines, tolerance, counters, { inject: options.inject });
      } catch (e) {
        findings.push({ seed: options.seed, path: null, message: messageOf(e), shrunk: options.replay, original: options.replay, shrinkSteps: 0 });
      }
    } else {
      let searching = true;
      const property = fc.asyncProperty(caseArb, async (c) => {
        if (searching) {
          progress();
          await runCase(c, engines, tolerance, counters, { inject: options.inject });
        } else {
          shrinkRuns++;
          await runCase(c, engines, new ToleranceStats(), newCounters(), { inject: options.inject });
        }
      });
      searchStarted = Date.now();
      const search = await fc.check(property, {
        seed: options.seed, numRuns: 1_000_000_000, interruptAfterTimeLimit: options.seconds * 1000, endOnFailure: true,
      });
      searchEnded = Date.now();
      if (search.failed && search.counterexample) {
        searching = false;
        const original = search.counterexample[0];
        log(`fuzz: FAILED on case ${counters.cases} after ${((Date.now() - started) / 1000).toFixed(0)} s: ${messageOf(search.errorInstance)}`);
        log(`fuzz: shrinking (seed ${options.seed}, path ${search.counterexamplePath})…`);
        const shrink = await fc.check(property, {
          seed: options.seed, path: search.counterexamplePath ?? undefined, interruptAfterTimeLimit: (options.shrinkSeconds ?? 120) * 1000,
        });
        const best = shrink.failed && shrink.counterexample ? shrink : search;
        findings.push({
          seed: options.seed, path: best.counterexamplePath, message: messageOf(best.errorInstance),
          shrunk: best.counterexample![0], original, shrinkSteps: shrink.numShrinks,
        });
      }
    }
  } finally {
    await engines.close();
  }
  return {
    seed: options.seed, counters, shrinkRuns, elapsedSeconds: (Date.now() - started) / 1000,
    searchSeconds: ((searchEnded || Date.now()) - searchStarted) / 1000, findings, tolerance,
    cpuSeconds: ((cpu) => (cpu.user + cpu.system) / 1e6)(process.cpuUsage(cpuStarted)),
    contextsCreated: engines.created, flavour: engines.flavour,
  };
}

/** The report as lines of text. */
export function formatReport(r: FuzzReport): string[] {
  const c = r.counters;
  const lines = [
    `fuzz: seed ${r.seed}: ${c.cases} cases, ${c.operations} operations in ${r.searchSeconds.toFixed(1)} s ` +
      `(${(c.operations / (r.searchSeconds / 60)).toFixed(0)} operations/min; ${r.elapsedSeconds.toFixed(1)} s in all, ${r.cpuSeconds.toFixed(1)} CPU s), ` +
      `${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}`,
    `fuzz: operations by kind: ${Object.entries(c.perKind).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `fuzz: seconds by kind: ${Object.entries(c.millis).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}`).join(', ')}`,
    `fuzz: ${c.referenceChecks - c.outOfScope} operations compared with the float64 reference (${r.tolerance.compared} values; ` +
      `${c.outOfScope} operations beyond float32's safe range, |values| > 1e15, not compared); ` +
      `fast contexts (${r.flavour} kernels, 1/2/3 threads) created: ${r.contextsCreated}${r.shrinkRuns ? `; ${r.shrinkRuns} runs while shrinking` : ''}`,
    `fuzz: tolerance: |fast − float64| ≤ ${MULT}·s + ${ABS_SLACK} + ${REL_SLACK}·|ref|, s the error scale of the float32 computation derived operation by operation ` +
      `(test/fuzz/shadow.ts: matmul rounding u·√Σ(partial sums²), operand errors in quadrature over features and linearly over batch rows, ` +
      `u per element-wise float32 rounding, ambiguous kinks given their full jump); training compared after one step from the same float32 state`,
    'fuzz: worst error / allowance per check (1 = at the limit):',
    ...r.tolerance.report().slice(0, 40).map((l) => `  ${l}`),
  ];
  for (const f of r.findings) {
    lines.push(
      `fuzz: FINDING (seed ${f.seed}${f.path ? `, path ${f.path}` : ''}, ${f.shrinkSteps} shrink steps): ${f.message}`,
      `fuzz: shrunk case: ${describeCase(f.shrunk)}`,
      `fuzz: replay with: npm run test:fuzz -- --case '${JSON.stringify(f.shrunk)}'`,
    );
  }
  return lines;
}
