/**
 * pino options shared by the API and workers: JSON lines, secrets redacted. API keys never reach a log line, at one
 * place for every line of the process (Fastify's own included):
 *   - `redact` censors Authorization headers wherever a logged object carries them;
 *   - the `req` serializer and the request log line (src/app.ts) log URLs through {@link redactUrl}: the value of any
 *     query parameter whose name, once percent-decoded (repeatedly) and lower-cased, mentions a token, key, secret or
 *     password is replaced (`access_token`, `ACCESS_TOKEN`, `access%5Ftoken`, `%61ccess_token`, repeated or not), and
 *     any API key in the path or in another parameter too;
 *   - a logMethod hook and the `err` serializer pass every logged string (messages, error messages and stacks, fields)
 *     through {@link scrubSecrets}: API keys (`ty_<prefix>_<secret>` keeps its prefix, the secret goes), `Bearer`
 *     credentials and token-like query parameters inside free text.
 *
 * Where the lines go ({@link logDestination}): JSON lines on stdout, for log collectors, unless stdout is a terminal:
 * then pino-pretty's coloured, human-readable lines (in-process and synchronous, no transport thread). Redaction
 * happens before either (the serializers and hooks above run when a line is made).
 */
import { pino, stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogLevel } from './config.js';

export const REDACTED = '[redacted]';

/** An API key (src/auth/api-keys.ts), also with percent-encoded separators. The secret part is 43 characters. */
const KEY = /ty(?:_|%5[Ff])([a-z2-7]{10})(?:_|%5[Ff])[A-Za-z0-9_%-]{6,}/g;
const BEARER = /\b(Bearer|Basic)\s+[^\s"',;]+/gi;
/** A query-string parameter inside free text: [?&;]name=value. */
const PARAM = /(^|[?&;\s"'(,])([^=&;?#\s"'<>(),]{1,100})=([^&;#\s"'<>]*)/g;
const SENSITIVE_NAME = /token|key|secret|passw|authori[sz]ation|credential|signature/;

/** Percent-decodes up to 3 times (double-encoded names), leaving malformed escapes as they are. */
function decode(text: string): string {
  let current = text;
  for (let i = 0; i < 3 && current.includes('%'); i++) {
    const next = current.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
    if (next === current) break;
    current = next;
  }
  return current;
}

function isSensitiveName(rawName: string): boolean {
  return SENSITIVE_NAME.test(decode(rawName.replaceAll('+', ' ')).toLowerCase());
}

function matches(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}

/** Whether `text` holds an API key, as it is or once percent-decoded. */
function hasKey(text: string): boolean {
  return matches(KEY, text) || (text.includes('%') && matches(KEY, decode(text)));
}

/** A URL (path and query) fit for a log line: credentials in the query and API keys anywhere are replaced. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const safePath = hasKey(path) ? scrubSecrets(decode(path)) : path;
  if (at < 0) return clip(safePath);
  const query = url
    .slice(at + 1)
    .split(/([&;])/)
    .map((part) => {
      if (part === '&' || part === ';' || part === '') return part;
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (isSensitiveName(name)) return `${name}=${REDACTED}`;
      return hasKey(part) ? (eq < 0 ? REDACTED : `${hasKey(name) ? REDACTED : name}=${REDACTED}`) : part;
    })
    .join('');
  return clip(`${safePath}?${query}`);
}

/** Log lines stay readable: a 10,000-character URL is cut (what is cut is not logged at all). */
function clip(text: string, max = 2048): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[${text.length - max} more characters]`;
}

/** Free text (a message, an error's message or stack) without API keys, bearer credentials or token parameters. */
export function scrubSecrets(text: string): string {
  if (text.length === 0) return text;
  let out = text;
  if (out.includes('=')) {
    out = out.replace(PARAM, (whole, sep: string, name: string) => (isSensitiveName(name) ? `${sep}${name}=${REDACTED}` : whole));
  }
  if (/bearer|basic/i.test(out)) out = out.replace(BEARER, `$1 ${REDACTED}`);
  if (out.includes('ty')) out = out.replace(KEY, (_whole, prefix: string) => `ty_${prefix}_${REDACTED}`);
  if (out.includes('%') && hasKey(out)) out = scrubSecrets(decode(out));
  return out;
}

/** Strings scrubbed in plain objects and arrays, a few levels deep; other values (errors, buffers, ...) as they are. */
function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth - 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, depth - 1);
  return out;
}

function scrubError(error: unknown): unknown {
  const serialized = stdSerializers.err(error as Error) as unknown;
  // pino's serialized error is not a plain object (its prototype is pino's): its fields are scrubbed one by one.
  if (serialized === null || typeof serialized !== 'object' || Array.isArray(serialized)) return scrubValue(serialized, 4);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(serialized)) out[k] = scrubValue(v, 3);
  return out;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: unknown;
  ip?: string;
  raw?: { url?: string; method?: string };
}

export function loggerOptions(level: LogLevel, name: string): LoggerOptions {
  return {
    level,
    name,
    redact: {
      paths: [
        'key',
        'authorization',
        'headers.authorization',
        'req.headers.authorization',
        'request.headers.authorization',
        '*.headers.authorization',
        'headers.cookie',
        'req.headers.cookie',
      ],
      censor: REDACTED,
    },
    serializers: {
      err: scrubError,
      error: scrubError,
      req: (req: LoggedRequest) => ({
        method: req.method ?? req.raw?.method,
        url: redactUrl(String(req.url ?? req.raw?.url ?? '')),
        id: req.id,
      }),
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => scrubValue(a, 4)) as typeof args;
        return method.apply(this, scrubbed);
      },
    },
  };
}

/** Request log lines (src/app.ts) as one readable line: `GET /v1/jobs/… 200 3.2 ms (tenant)`. */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  if (message !== 'request' || typeof log.method !== 'string') return message;
  const tenant = typeof log.tenant === 'string' ? ` (${log.tenant})` : '';
  return `${log.method} ${String(log.url)} ${String(log.statusCode)} ${String(log.durationMs)} ms${tenant}`;
}

/**
 * Where a process's log lines go: stdout as JSON (pino's default: undefined) unless stdout is a terminal, where they
 * are pretty-printed. `tty` and `output` (instead of stdout, uncoloured) are for tests.
 */
export function logDestination(tty: boolean = process.stdout.isTTY === true, output?: NodeJS.WritableStream): DestinationStream | undefined {
  if (!tty) return undefined;
  return pinoPretty({
    ...(output ? { destination: output } : {}),
    colorize: output === undefined,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,method,url,statusCode,durationMs,tenant',
    singleLine: true,
    messageFormat: prettyMessage,
  });
}

/** A process's logger: {@link loggerOptions} written to {@link logDestination}. */
export function createLogger(level: LogLevel, name: string): Logger {
  const destination = logDestination();
  return destination ? pino(loggerOptions(level, name), destination) : pino(loggerOptions(level, name));
}
