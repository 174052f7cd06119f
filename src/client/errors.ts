/**
 * The one error the client throws: an API problem (application/problem+json, src/errors.ts on the server) or a
 * failure to reach the server at all (status 0, code CONNECTION_FAILED).
 */

/** Codes the client itself produces (the API's own codes are in src/errors.ts). */
export type ClientErrorCode = 'CONNECTION_FAILED' | 'STREAM_FAILED' | 'UNEXPECTED_RESPONSE';

export class TrainyardError extends Error {
  override name = 'TrainyardError';

  constructor(
    /** HTTP status; 0 when no answer came (connection refused, DNS, reset). */
    readonly status: number,
    /** Stable code: the API's (`JOB_NOT_FOUND`, `VALIDATION_FAILED`, …) or a {@link ClientErrorCode}. */
    readonly code: string,
    message: string,
    /** The problem's other members (`row`, `column`, `errors`, `limit`, …). */
    readonly details: Readonly<Record<string, unknown>> = {},
    /** The server's x-request-id, when it answered. */
    readonly requestId: string | null = null,
  ) {
    super(message);
  }

  /** From a problem+json body (or any JSON an error status came with). */
  static fromProblem(status: number, body: unknown, requestId: string | null): TrainyardError {
    if (typeof body !== 'object' || body === null) return new TrainyardError(status, `HTTP_${status}`, `HTTP ${status}`, {}, requestId);
    const { type: _type, code, title, status: _status, detail, requestId: bodyRequestId, ...details } = body as Record<string, unknown>;
    const message = typeof detail === 'string' ? detail : typeof title === 'string' ? title : `HTTP ${status}`;
    const id = typeof bodyRequestId === 'string' ? bodyRequestId : requestId;
    return new TrainyardError(status, typeof code === 'string' ? code : `HTTP_${status}`, message, details, id);
  }
}

export function isTrainyardError(error: unknown): error is TrainyardError {
  return error instanceof TrainyardError;
}
