import { classifyAttempt, parseRetryAfter } from './delivery-outcome';
import type { HttpAttemptResult } from './webhook-http.client';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const OPTS = { retryAfterMaxMs: 3_600_000 };

function response(statusCode: number, headers: Record<string, string> = {}): HttpAttemptResult {
  return { statusCode, headers, body: '', bodyTruncated: false, durationMs: 12 };
}

function failure(
  kind: NonNullable<HttpAttemptResult['error']>['kind'],
  message: string,
): HttpAttemptResult {
  return { headers: {}, body: '', bodyTruncated: false, durationMs: 12, error: { kind, message } };
}

describe('classifyAttempt', () => {
  it.each([200, 201, 204, 299])('%i is success', (status) => {
    expect(classifyAttempt(response(status), NOW, OPTS)).toEqual({ kind: 'success' });
  });

  it.each([300, 301, 302, 307, 308, 399])('%i is retried as a redirect not followed', (status) => {
    expect(
      classifyAttempt(response(status, { location: 'http://169.254.169.254/' }), NOW, OPTS),
    ).toEqual({
      kind: 'retry',
      reason: `redirect not followed (status ${status})`,
    });
  });

  it.each([100, 199, 400, 401, 404, 500, 502, 504])(
    '%i is retried without Retry-After',
    (status) => {
      const outcome = classifyAttempt(response(status, { 'retry-after': '30' }), NOW, OPTS);
      expect(outcome).toEqual({ kind: 'retry', reason: `status ${status}` });
    },
  );

  it('410 disables the endpoint', () => {
    expect(classifyAttempt(response(410), NOW, OPTS)).toEqual({
      kind: 'disable',
      reason: 'endpoint answered 410 Gone',
    });
  });

  it('429 with Retry-After in seconds', () => {
    expect(classifyAttempt(response(429, { 'retry-after': '120' }), NOW, OPTS)).toEqual({
      kind: 'retry',
      reason: 'receiver busy (status 429)',
      retryAfterMs: 120_000,
    });
  });

  it('429 with Retry-After as an HTTP-date', () => {
    const outcome = classifyAttempt(
      response(429, { 'retry-after': 'Sun, 01 Mar 2026 12:05:00 GMT' }),
      NOW,
      OPTS,
    );
    expect(outcome).toEqual({
      kind: 'retry',
      reason: 'receiver busy (status 429)',
      retryAfterMs: 300_000,
    });
  });

  it('503 with Retry-After', () => {
    expect(classifyAttempt(response(503, { 'retry-after': '7' }), NOW, OPTS)).toEqual({
      kind: 'retry',
      reason: 'receiver busy (status 503)',
      retryAfterMs: 7000,
    });
  });

  it('clamps Retry-After to retryAfterMaxMs', () => {
    const outcome = classifyAttempt(response(503, { 'retry-after': '999999' }), NOW, OPTS);
    expect(outcome).toMatchObject({ kind: 'retry', retryAfterMs: OPTS.retryAfterMaxMs });
  });

  it('429 without or with an unreadable Retry-After leaves it undefined', () => {
    const cases: Record<string, string>[] = [
      {},
      { 'retry-after': 'soon' },
      { 'retry-after': '-5' },
    ];
    for (const headers of cases) {
      const outcome = classifyAttempt(response(429, headers), NOW, OPTS);
      // No retryAfterMs key at all, not one set to undefined.
      expect(outcome).toStrictEqual({ kind: 'retry', reason: 'receiver busy (status 429)' });
    }
  });

  it('a status decides even when reading the body failed afterwards', () => {
    const result = { ...response(200), error: { kind: 'reset' as const, message: 'ECONNRESET' } };
    expect(classifyAttempt(result, NOW, OPTS)).toEqual({ kind: 'success' });
  });

  it('timeout is retried', () => {
    expect(classifyAttempt(failure('timeout', 'headers timeout'), NOW, OPTS)).toEqual({
      kind: 'retry',
      reason: 'timeout: headers timeout',
    });
  });

  it('connection refused is retried', () => {
    expect(
      classifyAttempt(failure('connect', 'connect ECONNREFUSED 127.0.0.1:9'), NOW, OPTS),
    ).toEqual({
      kind: 'retry',
      reason: 'connect error: connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it.each(['dns', 'tls', 'reset', 'other'] as const)('%s error is retried', (kind) => {
    expect(classifyAttempt(failure(kind, 'boom'), NOW, OPTS)).toEqual({
      kind: 'retry',
      reason: `${kind} error: boom`,
    });
  });

  it('an attempt that could not be made is retried as not sent', () => {
    expect(classifyAttempt(failure('internal', 'secret cannot sign'), NOW, OPTS)).toEqual({
      kind: 'retry',
      reason: 'not sent: secret cannot sign',
    });
  });

  it('a result with neither status nor error is retried, not lost', () => {
    const result = { headers: {}, body: '', bodyTruncated: false, durationMs: 1 };
    expect(classifyAttempt(result, NOW, OPTS)).toEqual({
      kind: 'retry',
      reason: 'no response and no error recorded',
    });
  });

  it('an SSRF refusal is retried and says the address was refused', () => {
    const outcome = classifyAttempt(
      failure('ssrf', '10.0.0.5 is in 10.0.0.0/8 (private)'),
      NOW,
      OPTS,
    );
    expect(outcome).toEqual({
      kind: 'retry',
      reason: 'refused address: 10.0.0.5 is in 10.0.0.0/8 (private)',
    });
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['0', 0],
    ['5', 5000],
    [' 60 ', 60_000],
    ['Sun, 01 Mar 2026 12:00:30 GMT', 30_000],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0],
    ['Sunday, 01-Mar-26 12:01:00 GMT', 60_000],
    ['', undefined],
    ['1.5', undefined],
    ['-1', undefined],
    ['2027', 2_027_000],
    ['12:00', undefined],
    ['tomorrow', undefined],
  ])('%p → %p', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});
