import {
  adminHeaders,
  deletePrefix,
  startApp,
  type StartedApp,
  TEST_ADMIN_KEY,
  uniquePrefix,
} from '../../support/harness';

/**
 * Requests an attacker (or a buggy client) sends: each gets a 4xx that says what is wrong, never
 * a 500. Regression tests for what attacking every admin endpoint found.
 */
const prefix = uniquePrefix('hostile');
let started: StartedApp;
let subscriptionId: string;

interface Reply {
  status: number;
  body: { message?: string; errors?: { field: string; problems: string[] }[] };
}

async function send(method: string, path: string, body?: string): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${started.url}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Reply['body'] };
}

const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const cursorOf = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const VALID = { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] };

beforeAll(async () => {
  started = await startApp({ APP_ROLE: 'api', QUEUE_PREFIX: prefix });
  const res = await fetch(`${started.url}/v1/subscriptions`, {
    method: 'POST',
    headers: adminHeaders(),
    body: JSON.stringify(VALID),
  });
  subscriptionId = ((await res.json()) as { id: string }).id;
});

afterAll(async () => {
  await started?.app.close();
  await deletePrefix(prefix);
});

describe('bodies nested 2,000 deep', () => {
  it.each([
    ['POST', '/v1/subscriptions', () => nestedArrays(2000)],
    ['POST', '/v1/subscriptions', () => nestedObjects(2000)],
    [
      'POST',
      '/v1/subscriptions',
      () =>
        `{"url":"http://127.0.0.1:9/","eventTypes":["*"],"filter":{"to":${nestedArrays(2000)}}}`,
    ],
    ['PATCH', '/v1/subscriptions/:id', () => nestedArrays(2000)],
    ['POST', '/v1/subscriptions/:id/replay', () => nestedArrays(2000)],
  ])('%s %s is a 400 naming the depth', async (method, path, body) => {
    const reply = await send(method, path.replace(':id', subscriptionId), body());
    expect(reply.status).toBe(400);
    expect(reply.body.message).toMatch(/more than 16 levels deep/);
  });

  it('still takes a body as deep as a real one', async () => {
    const reply = await send(
      'POST',
      '/v1/subscriptions',
      JSON.stringify({ ...VALID, filter: { to: ['+15550001111'] } }),
    );
    expect(reply.status).toBe(201);
  });
});

describe('query strings and bodies that used to reach Redis or Date.parse unchecked', () => {
  it.each([
    ['/v1/quarantine?offset=99999999999999999999', 'offset'],
    ['/v1/quarantine?offset=1e20', 'offset'],
    ['/v1/quarantine?limit=0x10', 'limit'],
    ['/v1/deliveries?limit=1e2', 'limit'],
    ['/v1/deliveries?since=2026-W01', 'since'],
    ['/v1/deliveries?until=2026-W01-1', 'until'],
    ['/v1/deliveries?cursor=garbage', 'cursor'],
    [`/v1/deliveries?cursor=${Buffer.from('[1e400,"x"]').toString('base64url')}`, 'cursor'],
    [`/v1/deliveries?cursor=${cursorOf({ a: 1 })}`, 'cursor'],
    [`/v1/subscriptions?cursor=${cursorOf(['1', ''])}`, 'cursor'],
    ['/v1/subscriptions?limit=1&limit=2', 'limit'],
  ])('GET %s is a 400 naming %s', async (path, field) => {
    const reply = await send('GET', path);
    expect(reply.status).toBe(400);
    expect(reply.body.errors?.map((e) => e.field)).toContain(field);
  });

  it.each([
    [{ since: '2026-01-01T00:00:00Z', until: '2026-W01' }, 'until'],
    [{ since: '2026-W01' }, 'since'],
    [{ since: '+275760-09-13T00:00:00.000Z' }, 'since'],
  ])('a replay of %j is a 400 naming %s', async (body, field) => {
    const reply = await send(
      'POST',
      `/v1/subscriptions/${subscriptionId}/replay`,
      JSON.stringify(body),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.errors?.map((e) => e.field)).toContain(field);
  });

  it('a well-formed cursor from another listing gives a page, not an error', async () => {
    const foreign = cursorOf(['1764320400000', subscriptionId]);
    expect((await send('GET', `/v1/deliveries?cursor=${foreign}`)).status).toBe(200);
  });
});

describe('custom headers the HTTP client would refuse or that are hop-by-hop', () => {
  const refused = [
    'Keep-Alive',
    'Upgrade',
    'Expect',
    'TE',
    'Trailer',
    'Proxy-Authorization',
    'Proxy-Anything',
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
  ];

  it.each(refused)('%s is refused on create and on update', async (name) => {
    const body = JSON.stringify({ ...VALID, headers: { [name]: 'x' } });
    const created = await send('POST', '/v1/subscriptions', body);
    expect(created.status).toBe(400);
    expect(created.body.errors).toEqual([
      { field: `headers.${name}`, problems: [expect.stringMatching(/cannot/) as unknown] },
    ]);
    const updated = await send(
      'PATCH',
      `/v1/subscriptions/${subscriptionId}`,
      JSON.stringify({ headers: { [name]: 'x' } }),
    );
    expect(updated.status).toBe(400);
  });

  it('an ordinary custom header is still taken', async () => {
    const reply = await send(
      'PATCH',
      `/v1/subscriptions/${subscriptionId}`,
      JSON.stringify({ headers: { 'X-Tenant': 'acme', 'X-Proxied-By': 'edge' } }),
    );
    expect(reply.status).toBe(200);
  });
});

describe('every endpoint against odd input', () => {
  it('answers no 5xx', async () => {
    const long = 'x'.repeat(5000);
    const attacks: [string, string, string?][] = [
      ['POST', '/v1/subscriptions', '[]'],
      ['POST', '/v1/subscriptions', 'null'],
      ['POST', '/v1/subscriptions', '{bad'],
      ['POST', '/v1/subscriptions', '{"__proto__":{"x":1},"url":1}'],
      ['POST', '/v1/subscriptions', '{"url":"http://127.0.0.1:9/","eventTypes":[{"a":1}]}'],
      ['POST', '/v1/subscriptions', '{"url":"http://[::1]:99999/","eventTypes":["*"]}'],
      ['POST', '/v1/subscriptions', `{"url":"http://127.0.0.1:9/","eventTypes":["*"],"x":1e400}`],
      ['GET', '/v1/subscriptions?limit[a]=1'],
      ['GET', '/v1/subscriptions?cursor=%25%25'],
      ['GET', `/v1/subscriptions/${long}`],
      ['GET', '/v1/subscriptions/%ZZ'],
      ['PATCH', `/v1/subscriptions/${long}`, '{}'],
      ['DELETE', `/v1/subscriptions/${long}`],
      ['POST', `/v1/subscriptions/${long}/rotate-secret`],
      ['GET', `/v1/subscriptions/${long}/secret`],
      ['POST', `/v1/subscriptions/${long}/test`],
      ['POST', `/v1/subscriptions/${long}/replay`, '{"since":"2026-01-01T00:00:00Z"}'],
      ['GET', '/v1/deliveries?status=bad&eventType=*%3F%5B%5D&subscriptionId=a%3Ab*'],
      ['GET', `/v1/deliveries/${long}`],
      ['GET', '/v1/deliveries/%ZZ'],
      ['POST', `/v1/deliveries/${encodeURIComponent('~~~~')}/retry`],
      ['GET', `/v1/events/${long}`],
      ['GET', `/v1/events/${encodeURIComponent('\u0000\uffff')}`],
      ['GET', '/v1/quarantine?offset=-1&limit=501'],
      ['GET', `/v1/stream?since=${long}`],
    ];
    const failures: string[] = [];
    for (const [method, path, body] of attacks) {
      const reply = await send(method, path, body);
      if (reply.status >= 500 || reply.status < 400) {
        failures.push(`${method} ${path.slice(0, 60)} ${body ?? ''} → ${reply.status}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
