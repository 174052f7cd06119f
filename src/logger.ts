/** pino options shared by the API and workers: JSON lines, secrets redacted. */
import type { LoggerOptions } from 'pino';
import type { LogLevel } from './config.js';

export function loggerOptions(level: LogLevel, name: string): LoggerOptions {
  return {
    level,
    name,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'key'], censor: '[redacted]' },
  };
}
