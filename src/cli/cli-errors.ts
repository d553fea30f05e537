/** Exit codes: scripts can tell a refused request from a mistyped command line. */
export enum ExitCode {
  Ok = 0,
  /** The API refused or failed the request, the service could not be reached, or `status` is not ready. */
  Failure = 1,
  /** The command line itself is wrong; nothing was sent. */
  Usage = 2,
}

/** A command line that cannot be turned into a request: nothing was sent. */
export class UsageError extends Error {
  readonly code = 'CLI_USAGE';
}

/** One field the API named in a 400, with every rule it broke. */
export interface ApiFieldProblems {
  field: string;
  problems: string[];
}

/** The API answered with an error status; `message` is the API's own, for the person at the terminal. */
export class ApiError extends Error {
  readonly code = 'CLI_API_ERROR';

  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly apiMessage: string,
    readonly fieldProblems: ApiFieldProblems[] = [],
    readonly body?: unknown,
  ) {
    super(`${status} ${statusText}: ${apiMessage}`);
  }
}

/** No HTTP answer at all: refused, unknown host, timed out, reset. */
export class UnreachableError extends Error {
  readonly code = 'CLI_UNREACHABLE';

  constructor(
    readonly baseUrl: string,
    readonly reason: string,
  ) {
    super(`cannot reach opentact-bridge at ${baseUrl}: ${reason}`);
  }
}

/** The service answered, but not with something this tool can read (wrong URL, a proxy page, too large). */
export class ProtocolError extends Error {
  readonly code = 'CLI_PROTOCOL';
}

/** The one place errors become exit codes. */
export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof UsageError ? ExitCode.Usage : ExitCode.Failure;
}
