import type { HttpAttemptResult } from './webhook-http.client';

export type DeliveryOutcome =
  | { kind: 'success' }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  /** The receiver answered 410 Gone: Standard Webhooks says stop sending to this endpoint. */
  | { kind: 'disable'; reason: string };

export interface ClassifyOptions {
  /** Upper bound of a receiver's Retry-After, so one header cannot park a delivery for ever. */
  retryAfterMaxMs: number;
}

const HTTP_DATE_HINT = /[a-z]/i;

/**
 * `Retry-After` (RFC 9110 §10.2.3) in milliseconds from `now`: delay-seconds or an HTTP-date.
 * A date in the past gives 0; anything unreadable gives `undefined` (fall back to the schedule).
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    return Number(text) * 1000;
  }
  // Date.parse also reads bare numbers such as "-5" or "1.5" as years; only text with a
  // month or weekday name can be an HTTP-date.
  if (!HTTP_DATE_HINT.test(text)) {
    return undefined;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at)) {
    return undefined;
  }
  return Math.max(0, at - now.getTime());
}

/**
 * What one attempt means for the delivery. Only 2xx is success (Standard Webhooks, Svix): a 3xx
 * is not followed (following would bypass the connect-time address check) and counts as failure.
 * When a status arrived it decides, even if reading the body failed afterwards: the receiver has
 * already said whether it took the event.
 */
export function classifyAttempt(
  result: HttpAttemptResult,
  now: Date,
  opts: ClassifyOptions,
): DeliveryOutcome {
  const status = result.statusCode;
  if (status === undefined) {
    return classifyError(result.error);
  }
  if (status >= 200 && status <= 299) {
    return { kind: 'success' };
  }
  if (status >= 300 && status <= 399) {
    return { kind: 'retry', reason: `redirect not followed (status ${status})` };
  }
  if (status === 410) {
    return { kind: 'disable', reason: 'endpoint answered 410 Gone' };
  }
  if (status === 429 || status === 503) {
    const parsed = parseRetryAfter(result.headers['retry-after'], now);
    const retryAfterMs = parsed === undefined ? undefined : Math.min(parsed, opts.retryAfterMaxMs);
    return retryAfterMs === undefined
      ? { kind: 'retry', reason: `receiver busy (status ${status})` }
      : { kind: 'retry', reason: `receiver busy (status ${status})`, retryAfterMs };
  }
  return { kind: 'retry', reason: `status ${status}` };
}

function classifyError(error: HttpAttemptResult['error']): DeliveryOutcome {
  if (error === undefined) {
    // The client always sets one of the two; keep going rather than lose the delivery.
    return { kind: 'retry', reason: 'no response and no error recorded' };
  }
  switch (error.kind) {
    case 'ssrf':
      // Retried rather than dropped: DNS may point the name back at a public address.
      return { kind: 'retry', reason: `refused address: ${error.message}` };
    case 'timeout':
      return { kind: 'retry', reason: `timeout: ${error.message}` };
    case 'internal':
      return { kind: 'retry', reason: `not sent: ${error.message}` };
    case 'connect':
    case 'dns':
    case 'tls':
    case 'reset':
    case 'other':
      return { kind: 'retry', reason: `${error.kind} error: ${error.message}` };
  }
}
