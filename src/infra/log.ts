/** Logging for errors that repeat while a dependency is away (every reconnect attempt reports one). */
import type { Logger } from 'pino';

/** At most one log line per distinct message per minute: a down Redis or Postgres would otherwise log every retry. */
export function throttledErrorLog(logger: Logger, msg: string, everyMs = 60_000): (error: Error) => void {
  const last = new Map<string, number>();
  return (error) => {
    const now = Date.now();
    if ((last.get(error.message) ?? 0) > now - everyMs) return;
    last.set(error.message, now);
    // Only what describes the error: drivers attach their connection objects to it.
    const { name, message, stack } = error;
    logger.warn({ err: { type: name, message, code: (error as { code?: unknown }).code, stack } }, msg);
  };
}
