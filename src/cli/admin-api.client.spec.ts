import { AdminApiClient, type AdminApiClientOptions } from './admin-api.client';
import { ApiError, ProtocolError, UnreachableError, UsageError } from './cli-errors';

const KEY = 'k3y-that-must-never-be-printed-0123456789';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function clientWith(
  answer: (sent: Sent) => Response | Promise<Response>,
  options: Partial<AdminApiClientOptions> = {},
): { client: AdminApiClient; sent: Sent[]; trace: string[] } {
  const sent: Sent[] = [];
  const trace: string[] = [];
  const fakeFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request: Sent = {
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    sent.push(request);
    return Promise.resolve(answer(request));
  };
  const client = new AdminApiClient({
    baseUrl: 'http://127.0.0.1:3000',
    apiKey: KEY,
    timeoutMs: 1_000,
    userAgent: 'opentact-bridge-cli/test',
    fetch: fakeFetch,
    trace: (line) => trace.push(line),
    ...options,
  });
  return { client, sent, trace };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

function networkFailure(code: string): () => never {
  return () => {
    throw new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
  };
}

describe('AdminApiClient', () => {
  it('sends the key as a bearer token, JSON bodies, and ids as one path segment', async () => {
    const { client, sent } = clientWith(() => json(200, { id: 'sub_1' }), {
      baseUrl: 'https://ops.example:8443/bridge/',
    });
    await client.updateSubscription('../../health/live?x=1', { enabled: false });
    expect(sent[0]).toEqual({
      url: 'https://ops.example:8443/bridge/v1/subscriptions/..%2F..%2Fhealth%2Flive%3Fx%3D1',
      method: 'PATCH',
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/json',
        'user-agent': 'opentact-bridge-cli/test',
      },
      body: '{"enabled":false}',
    });
  });

  it('puts only the given filters in the query', async () => {
    const { client, sent } = clientWith(() => json(200, { data: [] }));
    await client.listDeliveries({ status: 'dead', limit: 20, subscriptionId: undefined });
    expect(sent[0].url).toBe('http://127.0.0.1:3000/v1/deliveries?status=dead&limit=20');
  });

  it('sends no authorization header without a key', async () => {
    const { client, sent } = clientWith(() => json(200, {}), { apiKey: undefined });
    await client.getEvent('e1');
    expect(sent[0].headers.authorization).toBeUndefined();
  });

  it("turns a 4xx into an ApiError carrying the API's message and every bad field", async () => {
    const { client } = clientWith(() =>
      json(400, {
        statusCode: 400,
        error: 'Bad Request',
        message: 'validation failed',
        errors: [{ field: 'url', problems: ['url must be an absolute http:// or https:// URL'] }],
      }),
    );
    const error = await client.createSubscription({ url: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 400,
      statusText: 'Bad Request',
      apiMessage: 'validation failed',
      fieldProblems: [
        { field: 'url', problems: ['url must be an absolute http:// or https:// URL'] },
      ],
    });
  });

  it('keeps the start of a non-JSON error page, and says where a redirect points', async () => {
    const { client } = clientWith(
      () =>
        new Response('<html>\n<h1>502 Bad Gateway</h1></html>', {
          status: 502,
          statusText: 'Bad Gateway',
        }),
    );
    await expect(client.getDelivery('d1')).rejects.toMatchObject({
      status: 502,
      apiMessage: '<html> <h1>502 Bad Gateway</h1></html>',
    });
    const moved = clientWith(
      () =>
        new Response(null, { status: 301, headers: { location: 'https://elsewhere.example/' } }),
    );
    await expect(moved.client.getDelivery('d1')).rejects.toMatchObject({
      status: 301,
      apiMessage: expect.stringContaining('redirected to https://elsewhere.example/') as unknown,
    });
  });

  it('takes a 503 from readiness as an answer, not an error', async () => {
    const { client } = clientWith(() => json(503, { status: 'error', details: {} }));
    await expect(client.readiness()).resolves.toEqual({
      status: 503,
      body: { status: 'error', details: {} },
    });
    await expect(client.listQuarantine(10)).rejects.toBeInstanceOf(ApiError);
  });

  it('says in words why the service could not be reached, without the key', async () => {
    const refused = clientWith(networkFailure('ECONNREFUSED'));
    const error = await refused.client.listSubscriptions(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as Error).message).toBe(
      'cannot reach opentact-bridge at http://127.0.0.1:3000: connection refused (is the service running, and on this address?)',
    );
    const unknownHost = clientWith(networkFailure('ENOTFOUND'));
    await expect(unknownHost.client.listSubscriptions(10)).rejects.toThrow(/host not found/);
    const slow = clientWith(() => {
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    });
    await expect(slow.client.listSubscriptions(10)).rejects.toThrow(/no answer within 1000 ms/);
  });

  it('refuses an answer larger than its bound, declared or streamed', async () => {
    const declared = clientWith(
      () => new Response('x'.repeat(2_000), { status: 200, headers: { 'content-length': '2000' } }),
      { maxResponseBytes: 1_000 },
    );
    await expect(declared.client.getEvent('e1')).rejects.toThrow(ProtocolError);
    const streamed = clientWith(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 5; i++) {
                controller.enqueue(new Uint8Array(400));
              }
              controller.close();
            },
          }),
        ),
      { maxResponseBytes: 1_000 },
    );
    await expect(streamed.client.getEvent('e1')).rejects.toThrow(/larger than the 1000 bytes/);
  });

  it('says so when a 200 is not JSON (not the service)', async () => {
    const { client } = clientWith(() => new Response('<html>welcome</html>', { status: 200 }));
    await expect(client.getEvent('e1')).rejects.toThrow(
      /not JSON; is http:\/\/127.0.0.1:3000 the opentact-bridge service/,
    );
  });

  it('traces each request and answer without the key', async () => {
    const { client, trace } = clientWith(() => json(200, { data: [], nextCursor: null }));
    await client.listSubscriptions(5);
    expect(trace).toEqual([
      '> GET http://127.0.0.1:3000/v1/subscriptions?limit=5 (authorization: Bearer <redacted>)',
      expect.stringMatching(/^< 200 in \d+ ms, 29 bytes$/) as unknown,
    ]);
    expect(trace.join('\n')).not.toContain(KEY);
  });

  it('refuses a key that cannot travel in a header without echoing it, and a URL that is not http(s)', () => {
    const make = (options: Partial<AdminApiClientOptions>) => () =>
      new AdminApiClient({
        baseUrl: 'http://127.0.0.1:3000',
        timeoutMs: 1,
        userAgent: 'x',
        ...options,
      });
    let caught: unknown;
    try {
      make({ apiKey: `${KEY}\n` })();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).not.toContain(KEY);
    expect(make({ baseUrl: 'localhost:3000' })).toThrow(/must start with http:\/\/ or https:\/\//);
    expect(make({ baseUrl: 'not a url' })).toThrow(/is not a URL/);
  });

  it('leaves user info out of the address it shows', () => {
    const { client } = clientWith(() => json(200, {}), {
      baseUrl: 'http://ops:hunter22@127.0.0.1:3000/',
    });
    expect(client.displayUrl).toBe('http://127.0.0.1:3000');
  });
});
