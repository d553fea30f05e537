export type OpentactAuthErrorCode =
  /** Opentact answered 401/403: the credentials are wrong or the account is blocked. */
  | 'OPENTACT_AUTH_REJECTED'
  /** Any other non-2xx answer from `GET /auth`. */
  | 'OPENTACT_AUTH_FAILED'
  /** 2xx, but no token in the body. */
  | 'OPENTACT_AUTH_BAD_RESPONSE'
  /** No HTTP answer at all (DNS, refused, timeout). */
  | 'OPENTACT_UNREACHABLE';

/** Logging in failed. Messages carry the status and code only, never credentials or tokens. */
export class OpentactAuthError extends Error {
  constructor(
    readonly code: OpentactAuthErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'OpentactAuthError';
  }

  /** True when retrying soon with the same credentials is pointless. */
  get rejected(): boolean {
    return this.code === 'OPENTACT_AUTH_REJECTED';
  }
}

export type OpentactRequestErrorCode =
  | 'OPENTACT_REQUEST_FAILED'
  | 'OPENTACT_BAD_RESPONSE'
  | 'OPENTACT_UNREACHABLE'
  /** A 2xx answer whose body says `success: false`, or a subscription answered inactive. */
  | 'OPENTACT_REFUSED';

/** A REST call other than login failed. */
export class OpentactRequestError extends Error {
  constructor(
    readonly code: OpentactRequestErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'OpentactRequestError';
  }
}
