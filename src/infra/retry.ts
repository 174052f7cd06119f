/**
 * Waiting out an outage: an operation is retried with capped exponential backoff (with jitter, so that the workers
 * of a fleet do not come back in step) for as long as its errors are transient (./errors.ts), up to a time budget.
 * Other errors are retried a few times at most (a fault of the work itself does not go away by waiting).
 */
import { isTransient } from './errors.js';

export interface Backoff {
  /** The first pause. */
  initialMs: number;
  /** The longest pause. */
  maxMs: number;
}

/** The pause before retry number `retry` (0-based): min(max, initial·2^retry), of which the upper half is random. */
export function backoffDelay(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const capped = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(retry, 30));
  return Math.round(capped / 2 + (random() * capped) / 2);
}

/** An outage lasted longer than the budget: the operation is given up (its caller decides what that means). */
export class OutageBudgetExceededError extends Error {
  override name = 'OutageBudgetExceededError';
  constructor(readonly what: string, readonly elapsedMs: number, override readonly cause: unknown) {
    super(`${what}: gave up after waiting ${Math.round(elapsedMs / 1000)} s for a dependency to come back (${(cause as Error)?.message ?? cause})`);
  }
}

export interface RetryInfo {
  error: unknown;
  /** Retries so far, this one included. */
  retry: number;
  delayMs: number;
  /** Since the first failure. */
  elapsedMs: number;
  transient: boolean;
}

export interface WaitOutOptions {
  /** What is being done, for errors and logs. */
  what: string;
  /** Longest time from the first failure to giving up on transient errors. */
  budgetMs: number;
  backoff: Backoff;
  /** How often any other error is retried. Default 0 */
  otherRetries?: number;
  /** Errors that end the operation at once, whatever they are (e.g. a lost lease). */
  isFinal?: (error: unknown) => boolean;
  /** Called before each pause. */
  onRetry?: (info: RetryInfo) => void;
  /** Called when the operation succeeded after failures. */
  onRecovered?: (info: { retries: number; elapsedMs: number }) => void;
  /** Resolves after `ms` (tests pass a fake clock). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` until it succeeds, retrying as described above; throws OutageBudgetExceededError when the budget is spent. */
export async function waitOut<T>(fn: () => Promise<T>, options: WaitOutOptions): Promise<T> {
  const { budgetMs, backoff, otherRetries = 0, isFinal, onRetry, onRecovered } = options;
  const pause = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  let since = 0;
  let others = 0;
  for (let retry = 0; ; retry++) {
    try {
      const result = await fn();
      if (retry > 0) onRecovered?.({ retries: retry, elapsedMs: now() - since });
      return result;
    } catch (error) {
      if (isFinal?.(error)) throw error;
      if (retry === 0) since = now();
      const transient = isTransient(error);
      if (!transient && others++ >= otherRetries) throw error;
      const elapsedMs = now() - since;
      const delayMs = backoffDelay(retry, backoff);
      if (transient && elapsedMs + delayMs > budgetMs) throw new OutageBudgetExceededError(options.what, elapsedMs, error);
      onRetry?.({ error, retry: retry + 1, delayMs, elapsedMs, transient });
      await pause(delayMs);
    }
  }
}
