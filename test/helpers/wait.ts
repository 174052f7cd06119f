/**
 * Waiting on facts, not on time. A test waits for something it can observe — a stored row, an event it subscribed to
 * before the cause, a state the system keeps — and the deadline is only there to turn a hang into a failure: it is
 * generous (about 10× or more what the thing usually takes on a loaded machine) and never part of what is tested.
 */

/** The default deadline of a wait: a failure after this long, never a pass sooner. */
export const WAIT_MS = 60_000;

/** Polls `check` until it returns a value (not undefined); rejects after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = WAIT_MS, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Waits until the wall clock has moved on by a few milliseconds. Rows are ordered by `createdAt` (millisecond
 * precision) and then by their random id: rows created back to back within one millisecond would list in id order, not
 * in creation order. Call it between creations whose order a test asserts.
 */
export async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  while (Date.now() < start + 2) await new Promise((resolve) => setTimeout(resolve, 1));
}
