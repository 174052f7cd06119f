/** The `trainyard` command's exit codes (documented in the README and in `trainyard --help`). */
export const EXIT = {
  OK: 0,
  /** The API answered with a problem (4xx/5xx): shown as one line, `CODE: message`. */
  API_ERROR: 1,
  /** Bad arguments or options, or an unreadable input file. */
  USAGE: 2,
  /** A watched job ended failed, cancelled or pruned. */
  JOB_NOT_SUCCEEDED: 3,
  /** The server could not be reached. */
  CONNECTION: 4,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the API answered with a problem (shown as one line: CODE: message)
  2  usage: bad arguments, options or input file
  3  a watched job ended failed, cancelled or pruned
  4  the server could not be reached`;

/** A usage problem found by the CLI itself (not by commander): exit 2 with one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}
