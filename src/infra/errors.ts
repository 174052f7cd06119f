/**
 * Which errors are worth waiting out: the work itself is fine, a dependency is away or busy. Workers retry these
 * (./retry.ts) instead of failing a job. Two kinds:
 * - an outage of Postgres or Redis, or a lock/statement/idle timeout of ours: recognized in one place for the API and
 *   the workers alike, ./dependency-errors.ts (the API answers them with 503);
 * - contention a retry resolves: serialization failures and deadlocks (SQLSTATE 40001, 40P01; Prisma P2034, the
 *   adapter's TransactionWriteConflict).
 */
import { unavailableDependency } from './dependency-errors.js';

export { unavailableDependency, type Dependency } from './dependency-errors.js';

const CONTENTION_CODES: ReadonlySet<string> = new Set(['40001', '40P01', 'P2034']);

/** Serialization failure or deadlock, wherever it is in the error's causes (Prisma, its pg adapter, pg). */
export function isContention(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 16; seen++) {
    const e = pending.shift() as Record<string, unknown> | null | undefined;
    if (e === null || typeof e !== 'object') continue;
    if (CONTENTION_CODES.has(String(e.code)) || CONTENTION_CODES.has(String(e.originalCode)) || e.kind === 'TransactionWriteConflict') return true;
    const meta = e.meta as Record<string, unknown> | undefined;
    pending.push(e.cause, meta?.driverAdapterError);
  }
  return false;
}

/** Whether `error` is a dependency's outage or contention (retry later), as opposed to a fault of the work itself. */
export function isTransient(error: unknown): boolean {
  return unavailableDependency(error) !== null || isContention(error);
}
