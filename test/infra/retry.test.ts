/**
 * Waiting out outages (src/infra/retry.ts) on a fake clock: transient errors are retried with capped, jittered
 * exponential pauses until the budget is spent; other errors a few times; final ones never. And which errors count
 * as transient (src/infra/errors.ts), on the shapes Prisma 7 + @prisma/adapter-pg, node-postgres and ioredis give.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isTransient } from '../../src/infra/errors.js';
import { backoffDelay, OutageBudgetExceededError, waitOut, type WaitOutOptions } from '../../src/infra/retry.js';

const prisma = (code: string, cause?: object) =>
  Object.assign(new Error(`prisma ${code}`), { name: 'PrismaClientKnownRequestError', code, meta: cause ? { driverAdapterError: { name: 'DriverAdapterError', cause } } : {} });

const TRANSIENT: [string, unknown][] = [
  ['server shutting down (P2039, 57P01)', prisma('P2039', { kind: 'postgres', code: '57P01', originalCode: '57P01', message: 'terminating connection due to administrator command' })],
  ['server unreachable (raw query)', prisma('P2010', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 })],
  ['server unreachable (P1001)', prisma('P1001', { kind: 'DatabaseNotReachable' })],
  ['lock_timeout', prisma('P2010', { kind: 'postgres', code: '55P03', originalCode: '55P03', message: 'canceling statement due to lock timeout' })],
  ['idle-in-transaction timeout', prisma('P2010', { kind: 'postgres', code: '25P03', originalCode: '25P03' })],
  ['expired interactive transaction', prisma('P2028')],
  ['broken pg client', new Error('Client has encountered a connection error and is not queryable')],
  ['pg connection ended', new Error('Connection terminated unexpectedly')],
  ['deadlock', prisma('P2010', { kind: 'postgres', code: '40P01', originalCode: '40P01' })],
  ['write conflict', prisma('P2034')],
  ['ioredis gave up a command', Object.assign(new Error('Reached the max retries per request limit (which is 3).'), { name: 'MaxRetriesPerRequestError' })],
  ['ioredis connection closed', new Error('Connection is closed.')],
];
const NOT_TRANSIENT: [string, unknown][] = [
  ['unique violation', prisma('P2002', { kind: 'UniqueConstraintViolation' })],
  ['a bug', new TypeError('cannot read properties of undefined')],
  ['a string', 'boom'],
  ['null', null],
];

describe('transient errors', () => {
  for (const [what, error] of TRANSIENT) it(`${what} is transient`, () => assert.equal(isTransient(error), true));
  for (const [what, error] of NOT_TRANSIENT) it(`${what} is not`, () => assert.equal(isTransient(error), false));
});

/** A fake clock: sleeping advances it. */
function clock() {
  let now = 0;
  const pauses: number[] = [];
  return {
    pauses,
    options: { sleep: async (ms: number) => { pauses.push(ms); now += ms; }, now: () => now } satisfies Partial<WaitOutOptions>,
  };
}

const OUTAGE = prisma('P1001', { kind: 'DatabaseNotReachable' });
const BACKOFF = { initialMs: 100, maxMs: 5000 };

describe('waitOut', () => {
  it('pauses grow exponentially to the cap, with the upper half random', () => {
    fc.assert(fc.property(fc.nat(60), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, r) => {
      const capped = Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** retry);
      const delay = backoffDelay(retry, BACKOFF, () => r);
      return delay >= Math.floor(capped / 2) && delay <= capped;
    }));
  });

  it('retries an outage until it ends, and reports how long it waited', async () => {
    const c = clock();
    let calls = 0;
    let recovered: { retries: number; elapsedMs: number } | null = null;
    const result = await waitOut(async () => {
      if (++calls <= 20) throw OUTAGE;
      return 'written';
    }, { what: 'w', budgetMs: 15 * 60_000, backoff: BACKOFF, ...c.options, onRecovered: (r) => (recovered = r) });
    assert.equal(result, 'written');
    assert.equal(calls, 21);
    assert.ok(Math.max(...c.pauses) <= BACKOFF.maxMs);
    assert.deepEqual(recovered, { retries: 20, elapsedMs: c.pauses.reduce((a, b) => a + b, 0) });
  });

  it('gives up when the outage outlasts the budget, never later', async () => {
    const c = clock();
    const budgetMs = 60_000;
    const error = await waitOut(async () => { throw OUTAGE; }, { what: 'claim', budgetMs, backoff: BACKOFF, ...c.options }).catch((e: unknown) => e);
    assert.ok(error instanceof OutageBudgetExceededError);
    assert.equal(error.cause, OUTAGE);
    const waited = c.pauses.reduce((a, b) => a + b, 0);
    assert.ok(waited <= budgetMs && waited > budgetMs - BACKOFF.maxMs, `waited ${waited} ms`);
  });

  it('retries other errors only `otherRetries` times, and final errors never', async () => {
    const c = clock();
    let calls = 0;
    const bug = new TypeError('bug');
    await assert.rejects(waitOut(async () => { calls++; throw bug; }, { what: 'w', budgetMs: 1e9, backoff: BACKOFF, otherRetries: 3, ...c.options }), bug);
    assert.equal(calls, 4);
    calls = 0;
    const final = new Error('lease lost');
    await assert.rejects(waitOut(async () => { calls++; throw final; }, { what: 'w', budgetMs: 1e9, backoff: BACKOFF, isFinal: (e) => e === final, ...c.options }), final);
    assert.equal(calls, 1);
  });
});
