/**
 * Every error the API can answer with, declared once: a stable code (clients and tests match on it), an HTTP status
 * and a title. Responses use one shape (RFC 9457 problem details, application/problem+json):
 *   { type, code, title, status, detail, requestId, ...fields }
 * where `fields` carries machine-readable specifics (row, column, limit, ...). No stack traces, ever.
 */

export const ERRORS = {
  // Generic HTTP
  MALFORMED_REQUEST: { status: 400, title: 'The request is malformed' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  NOT_ACCEPTABLE: { status: 406, title: 'No acceptable representation' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request took too long to arrive' },
  URI_TOO_LONG: { status: 414, title: 'The URL or one of its parameters is too long' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  VALIDATION_FAILED: { status: 400, title: 'The request is invalid' },
  INVALID_JSON: { status: 400, title: 'The body is not valid JSON' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  UPGRADE_REQUIRED: { status: 426, title: 'This route speaks WebSocket only' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  NOT_READY: { status: 503, title: 'A dependency is unavailable' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'The database is unavailable; retry later' },
  QUEUE_UNAVAILABLE: { status: 503, title: 'The queue (Redis) is unavailable; retry later' },
  OVERLOADED: { status: 503, title: 'The server is overloaded; retry later' },

  // Authentication
  UNAUTHENTICATED: { status: 401, title: 'Missing or invalid API key' },

  // Datasets
  DATASET_NOT_FOUND: { status: 404, title: 'Dataset not found' },
  DATASET_IN_USE: { status: 409, title: 'Dataset is used by a queued or running job' },
  DATASET_EMPTY: { status: 400, title: 'The dataset is empty' },
  DATASET_HEADER_ONLY: { status: 400, title: 'The dataset has a header but no rows' },
  DATASET_RAGGED_ROW: { status: 400, title: 'A row has the wrong number of columns' },
  DATASET_NON_NUMERIC: { status: 400, title: 'A feature value is not a number' },
  DATASET_MISSING_VALUE: { status: 400, title: 'A value is missing or not finite' },
  DATASET_TARGET_NOT_FOUND: { status: 400, title: 'The target column does not exist' },
  DATASET_SINGLE_CLASS: { status: 400, title: 'Classification needs at least two classes' },
  DATASET_TOO_MANY_CLASSES: { status: 400, title: 'Too many classes' },
  DATASET_TOO_MANY_ROWS: { status: 413, title: 'Too many rows' },
  DATASET_TOO_MANY_FEATURES: { status: 413, title: 'Too many columns' },
  DATASET_MALFORMED: { status: 400, title: 'The upload could not be parsed' },
  EXAMPLE_NOT_FOUND: { status: 404, title: 'No such example dataset' },
  TENANT_STORAGE_FULL: { status: 403, title: "The tenant's dataset storage is full" },

  // Jobs
  JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  JOB_SPEC_INVALID: { status: 400, title: 'The job spec does not fit the dataset' },
  JOB_TOO_LARGE: { status: 400, title: 'The job exceeds a configured size limit' },
  JOB_NOT_CANCELLABLE: { status: 409, title: 'The job has already finished' },
  JOB_NOT_DELETABLE: { status: 409, title: 'The job is queued or running; cancel it first' },
  CHECKPOINT_NOT_FOUND: { status: 404, title: 'Checkpoint not found' },
  CHECKPOINT_ALREADY_PROMOTED: { status: 409, title: 'This checkpoint is already a model' },
  CHECKPOINT_NOT_PROMOTABLE: { status: 409, title: 'This checkpoint cannot become a model' },
  TENANT_QUEUE_FULL: { status: 429, title: 'The tenant has too many queued jobs' },

  // Sweeps
  SWEEP_NOT_FOUND: { status: 404, title: 'Sweep not found' },
  SWEEP_INVALID: { status: 400, title: 'The sweep or one of its trials is invalid' },
  SWEEP_NOT_CANCELLABLE: { status: 409, title: 'The sweep has already finished' },

  // Models
  MODEL_NOT_FOUND: { status: 404, title: 'Model not found' },
  MODEL_IN_USE: { status: 409, title: 'A queued or running job warm-starts from this model' },
  MODEL_VERSION_NOT_FOUND: { status: 404, title: 'No model of that name and version or alias' },
  MODEL_IMPORT_INVALID: { status: 400, title: 'The model document is invalid' },
  PREDICT_INPUT_INVALID: { status: 400, title: 'The prediction input is invalid' },
  EVALUATION_NOT_FOUND: { status: 404, title: 'Evaluation not found' },
  EVALUATION_DATA_MISMATCH: { status: 400, title: 'The evaluation data does not fit the model' },
  MODEL_NOT_2D: { status: 400, title: 'Decision grids need a model with exactly two inputs' },
  MODEL_OVERFLOW: { status: 400, title: 'The model overflows float32 on its own data range' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Extra machine-readable members of a problem (row, column, limit, ...). */
export type ProblemFields = Readonly<Record<string, unknown>>;

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly fields: ProblemFields = {},
  ) {
    super(detail);
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
  }
}

/** Shorthand: `throw apiError('DATASET_NOT_FOUND', \`No dataset ${id}\`)`. */
export function apiError(code: ErrorCode, detail: string, fields?: ProblemFields): ApiError {
  return new ApiError(code, detail, fields);
}

export interface Problem {
  type: string;
  code: ErrorCode;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  [field: string]: unknown;
}

export function problemOf(error: ApiError, requestId: string): Problem {
  return {
    ...error.fields,
    type: `urn:trainyard:problem:${error.code.toLowerCase().replaceAll('_', '-')}`,
    code: error.code,
    title: error.title,
    status: error.status,
    detail: error.detail,
    requestId,
  };
}
