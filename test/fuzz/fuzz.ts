/**
 * The differential fuzzer of the engine (issue 9):
 *
 *   npm run test:fuzz -- --seconds N --seed S        generate and run cases for N seconds (default 60) from seed S
 *   npm run test:fuzz -- --case '<json>'             replay one case (as printed for a finding; or --case @file.json)
 *   options: --shrink-seconds N (default 120), --kernel auto|relaxed-simd|simd|… (createFastContext's choice),
 *            --inject thread|reference (self-test: plant a fault, expect a finding)
 *
 * Exit status 1 on a finding (the seed, the shrunk case and its replay command are printed), 0 otherwise.
 * What is generated, run and asserted: ./generators.ts, ./run-case.ts, ./shadow.ts.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FuzzCase } from './case.js';
import { formatReport, runFuzz } from './fuzzer.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    case: { type: 'string' },
    'shrink-seconds': { type: 'string', default: '120' },
    inject: { type: 'string' },
    kernel: { type: 'string' },
  },
});

const number = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got ${v}`);
  return n;
};

const seed = values.seed !== undefined ? Math.floor(number('seed', values.seed)) : Date.now() % 2 ** 31;
const inject = values.inject as 'thread' | 'reference' | undefined;
if (inject !== undefined && inject !== 'thread' && inject !== 'reference') throw new Error('--inject must be thread or reference');
let replay: FuzzCase | undefined;
if (values.case) replay = JSON.parse(values.case.startsWith('@') ? readFileSync(values.case.slice(1), 'utf8') : values.case) as FuzzCase;

console.log(`fuzz: seed ${seed}, ${replay ? 'replaying one case' : `${values.seconds} s`}${inject ? `, injecting a ${inject} fault` : ''}`);
const report = await runFuzz({
  seconds: number('seconds', values.seconds!), seed, shrinkSeconds: number('shrink-seconds', values['shrink-seconds']!), inject, replay,
  kernel: values.kernel,
});
for (const line of formatReport(report)) console.log(line);
process.exit(report.findings.length > 0 ? 1 : 0);
