import { keyFingerprint } from '../../../src/api/admin-api-key.guard';
import {
  adminHeaders,
  deletePrefix,
  startApp,
  type StartedApp,
  TEST_ADMIN_KEY,
  uniquePrefix,
  waitFor,
} from '../../support/harness';

const VALID = { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] };

async function create(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/v1/subscriptions`, {
    method: 'POST',
    headers: adminHeaders(),
    body: JSON.stringify(VALID),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function logLines(started: StartedApp): Record<string, unknown>[] {
  return started.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('MAX_SUBSCRIPTIONS', () => {
  const prefix = uniquePrefix('max-subs');
  let started: StartedApp;

  beforeAll(async () => {
    started = await startApp({ APP_ROLE: 'api', QUEUE_PREFIX: prefix, MAX_SUBSCRIPTIONS: '3' });
  });
  afterAll(async () => {
    await started?.app.close();
    await deletePrefix(prefix);
  });

  it('refuses the one too many with 409 and a message that says what to do, even when raced', async () => {
    const replies = await Promise.all(Array.from({ length: 8 }, () => create(started.url)));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409, 409, 409]);
    const refused = replies.find((r) => r.status === 409)!;
    expect(refused.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: expect.stringMatching(
        /MAX_SUBSCRIPTIONS \(3\).*delete one.*raise MAX_SUBSCRIPTIONS/,
      ) as unknown,
    });

    const id = replies.find((r) => r.status === 201)!.body.id as string;
    const deleted = await fetch(`${started.url}/v1/subscriptions/${id}`, {
      method: 'DELETE',
      headers: adminHeaders(),
    });
    expect(deleted.status).toBe(204);
    expect((await create(started.url)).status).toBe(201);
    expect((await create(started.url)).status).toBe(409);
  });
});

describe('failed admin authentications per client address', () => {
  const prefix = uniquePrefix('auth-limit');
  let started: StartedApp;

  beforeAll(async () => {
    started = await startApp({
      APP_ROLE: 'api',
      QUEUE_PREFIX: prefix,
      ADMIN_AUTH_MAX_FAILURES: '3',
      ADMIN_AUTH_FAILURE_WINDOW_SECONDS: '2',
    });
  });
  afterAll(async () => {
    await started?.app.close();
    await deletePrefix(prefix);
  });

  const status = (key: string): Promise<Response> =>
    fetch(`${started.url}/v1/status`, { headers: { authorization: `Bearer ${key}` } });

  it('answers 429 with Retry-After past the limit, to the right key too, until the window ends', async () => {
    expect((await status(TEST_ADMIN_KEY)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await status(`wrong-key-${i}`)).status).toBe(401);
    }
    const blocked = await status(TEST_ADMIN_KEY);
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(((await blocked.json()) as { message: string }).message).toMatch(
      /too many failed admin API authentications from this address; retry after \d s/,
    );
    const wrongWhileBlocked = await status('wrong-key');
    expect(wrongWhileBlocked.status).toBe(429);
    // Without TRUST_PROXY a caller cannot pick another address with X-Forwarded-For.
    const spoofed = await fetch(`${started.url}/v1/status`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'x-forwarded-for': '203.0.113.9' },
    });
    expect(spoofed.status).toBe(429);

    await waitFor(
      async () => (await status(TEST_ADMIN_KEY)).status === 200,
      5_000,
      'the failure window to end',
    );
  });
});

describe('request logs and the audit trail', () => {
  const prefix = uniquePrefix('audit');
  let started: StartedApp;

  beforeAll(async () => {
    started = await startApp({ APP_ROLE: 'api', QUEUE_PREFIX: prefix });
  });
  afterAll(async () => {
    await started?.app.close();
    await deletePrefix(prefix);
  });

  it('logs each request with its id, echoing the caller’s X-Request-Id when it is sane', async () => {
    const given = await fetch(`${started.url}/v1/subscriptions?limit=5`, {
      headers: { ...adminHeaders(), 'x-request-id': 'trace-0123.abc' },
    });
    expect(given.headers.get('x-request-id')).toBe('trace-0123.abc');
    const forged = await fetch(`${started.url}/v1/subscriptions`, {
      headers: { ...adminHeaders(), 'x-request-id': `"},{"level":"fatal ${'x'.repeat(200)}` },
    });
    const replaced = forged.headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    const unauthorized = await fetch(`${started.url}/v1/subscriptions`);
    expect(unauthorized.status).toBe(401);

    await waitFor(
      () => logLines(started).some((l) => l.msg === 'request' && l.status === 401),
      5_000,
      'the 401 request line',
    );
    const requests = logLines(started).filter((l) => l.msg === 'request');
    expect(requests).toContainEqual(
      expect.objectContaining({
        requestId: 'trace-0123.abc',
        method: 'GET',
        path: '/v1/subscriptions',
        status: 200,
        durationMs: expect.any(Number) as unknown,
      }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ requestId: replaced }));
    expect(requests.every((l) => !String(l.path).includes('?'))).toBe(true);
  });

  it('writes one audit line per change: who (key fingerprint), what, which id; never a secret', async () => {
    const created = await create(started.url);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const secret = created.body.secret as string;
    const call = (method: string, path: string, body?: unknown): Promise<Response> =>
      fetch(`${started.url}${path}`, {
        method,
        headers: { ...adminHeaders(), 'x-request-id': `req-${method}-${path.length}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await call('PATCH', `/v1/subscriptions/${id}`, { enabled: false })).status).toBe(200);
    const rotated = await call('POST', `/v1/subscriptions/${id}/rotate-secret`);
    const newSecret = ((await rotated.json()) as { secret: string }).secret;
    expect((await call('GET', `/v1/subscriptions/${id}/secret`)).status).toBe(200);
    expect((await call('GET', `/v1/subscriptions/${id}`)).status).toBe(200);
    expect((await call('DELETE', `/v1/subscriptions/${id}`)).status).toBe(204);
    // A refused change is not a change.
    expect((await call('DELETE', `/v1/subscriptions/${id}`)).status).toBe(404);

    const audit = await waitFor(
      () => {
        const lines = logLines(started).filter((l) => l.msg === 'audit');
        return lines.length >= 5 ? lines : undefined;
      },
      5_000,
      'five audit lines',
    );
    const fingerprint = keyFingerprint(TEST_ADMIN_KEY);
    expect(audit.map((l) => [l.action, l.target, l.actor])).toEqual([
      ['subscription.create', id, fingerprint],
      ['subscription.update', id, fingerprint],
      ['subscription.rotate-secret', id, fingerprint],
      ['subscription.read-secret', id, fingerprint],
      ['subscription.delete', id, fingerprint],
    ]);
    expect(audit[1].requestId).toBe(`req-PATCH-${`/v1/subscriptions/${id}`.length}`);
    const everything = started.logs.join('\n');
    for (const value of [secret, newSecret, TEST_ADMIN_KEY]) {
      expect(everything).not.toContain(value);
    }
  });
});

describe('failed admin authentications behind a trusted proxy (TRUST_PROXY)', () => {
  const prefix = uniquePrefix('auth-proxy');
  let started: StartedApp;

  beforeAll(async () => {
    // The test's own requests come from 127.0.0.1: the "proxy" is loopback.
    started = await startApp({
      APP_ROLE: 'api',
      QUEUE_PREFIX: prefix,
      ADMIN_AUTH_MAX_FAILURES: '2',
      ADMIN_AUTH_FAILURE_WINDOW_SECONDS: '60',
      TRUST_PROXY: 'loopback',
    });
  });
  afterAll(async () => {
    await started?.app.close();
    await deletePrefix(prefix);
  });

  const statusFrom = (client: string, key: string): Promise<Response> =>
    fetch(`${started.url}/v1/status`, {
      headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': client },
    });

  it('counts failures per client the proxy names, so one client does not lock out the rest', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await statusFrom('203.0.113.5', 'wrong-key')).status).toBe(401);
    }
    expect((await statusFrom('203.0.113.5', TEST_ADMIN_KEY)).status).toBe(429);
    expect((await statusFrom('203.0.113.6', TEST_ADMIN_KEY)).status).toBe(200);
    // The client is the last address the trusted proxies did not add themselves.
    expect((await statusFrom('198.51.100.1, 203.0.113.5', TEST_ADMIN_KEY)).status).toBe(429);
  });
});
