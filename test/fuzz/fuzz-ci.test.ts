/**
 * The differential fuzzer in CI (issue 9): FUZZ_SECONDS (default 60) of generated cases from a seed derived from the
 * date (FUZZ_SEED overrides it); the seed is printed, and any finding fails the test with the seed and the shrunk case
 * (`npm run test:fuzz -- --case '<json>'` replays it). Then two self-tests: a fault planted in one thread count's
 * parameters, and one planted in every fast run (so only the float64 reference can tell), must both be found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runFuzz } from './fuzzer.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
/** yyyymmdd: a new seed every day, the same all day (a failure on CI reproduces locally with FUZZ_SEED). */
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Number(new Date().toISOString().slice(0, 10).replaceAll('-', ''));

test(`differential fuzzer: ${seconds} s from seed ${seed}`, { timeout: (seconds + 240) * 1000 }, async (t) => {
  console.log(`fuzz: seed ${seed}; reproduce with \`npm run test:fuzz -- --seconds ${seconds} --seed ${seed}\` (or FUZZ_SEED=${seed} for this test)`);
  const report = await runFuzz({ seconds, seed, shrinkSeconds: 90, log: (line) => console.log(line), progressSeconds: 30 });
  const lines = formatReport(report);
  for (const line of lines) console.log(line);
  t.diagnostic(lines[0]!);
  assert.ok(report.counters.operations > 0, 'the fuzzer ran no operation');
  assert.equal(report.findings.length, 0, lines.filter((l) => /FINDING|shrunk|replay/.test(l)).join('\n'));
});

for (const inject of ['thread', 'reference'] as const) {
  test(`differential fuzzer self-test: a planted ${inject} fault is found`, { timeout: 180_000 }, async () => {
    const report = await runFuzz({ seconds: 30, seed: 7, shrinkSeconds: 5, inject, log: () => {}, progressSeconds: 0 });
    assert.equal(report.findings.length, 1, `the planted ${inject} fault was not found in ${report.counters.cases} cases`);
    assert.match(report.findings[0]!.message, inject === 'thread' ? /2 threads vs 1|restored network/ : /vs reference/);
  });
}
