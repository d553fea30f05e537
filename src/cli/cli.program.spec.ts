import { ExitCode } from './cli-errors';
import { runCli } from './cli.program';

const KEY = 'admin-key-that-must-never-be-printed-000000';

interface Call {
  method: string;
  url: URL;
  authorization?: string;
  body?: unknown;
}

type Route = (call: Call) => Response;

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const SUBSCRIPTION = {
  id: 'sub_1',
  url: 'https://example.com/hook',
  eventTypes: ['*'],
  headers: {},
  enabled: true,
  source: 'api',
  createdAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-11-30T10:00:00.000Z',
  secretPreview: 'whsec_abc…',
  previousSecrets: [],
};

/** Runs one command line in-process against routes keyed `METHOD /path`. */
async function run(
  argv: string[],
  routes: Record<string, Route> = {},
  env: Record<string, string> = { OPENTACT_BRIDGE_API_KEY: KEY },
): Promise<{ code: ExitCode; stdout: string; stderr: string; calls: Call[] }> {
  let stdout = '';
  let stderr = '';
  const calls: Call[] = [];
  const fakeFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const call: Call = {
      method: init?.method ?? 'GET',
      url,
      authorization: headers.authorization,
      body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${url.pathname}`];
    if (!route) {
      return Promise.reject(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
        }),
      );
    }
    return Promise.resolve(route(call));
  };
  const code = await runCli(argv, {
    env,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    fetch: fakeFetch,
    timeZone: 'UTC',
  });
  return { code, stdout, stderr, calls };
}

describe('runCli', () => {
  it("prints the API's JSON unchanged with --json, before or after the command", async () => {
    const routes = { 'GET /v1/subscriptions/sub_1': () => json(200, SUBSCRIPTION) };
    for (const argv of [
      ['--json', 'subscriptions', 'get', 'sub_1'],
      ['subs', 'get', 'sub_1', '--json'],
    ]) {
      const result = await run(argv, routes);
      expect(result.code).toBe(ExitCode.Ok);
      expect(JSON.parse(result.stdout)).toEqual(SUBSCRIPTION);
      expect(result.stderr).toBe('');
    }
  });

  it('prints a table without --json, times in the given zone', async () => {
    const result = await run(['subscriptions', 'list'], {
      'GET /v1/subscriptions': () => json(200, { data: [SUBSCRIPTION], nextCursor: null }),
    });
    expect(result.code).toBe(ExitCode.Ok);
    expect(result.stdout.split('\n')[1]).toMatch(
      /^sub_1\s+enabled\s+https:\/\/example\.com\/hook\s+\*\s+2026-11-30 10:00:00$/,
    );
  });

  it('takes the service URL from --url, else the environment, else the default', async () => {
    const routes = { 'GET /v1/events/e1': () => json(200, {}) };
    const byFlag = await run(
      ['--url', 'http://127.0.0.2:4000', 'events', 'get', 'e1', '--json'],
      routes,
    );
    expect(byFlag.calls[0].url.origin).toBe('http://127.0.0.2:4000');
    const byEnv = await run(['events', 'get', 'e1', '--json'], routes, {
      OPENTACT_BRIDGE_URL: 'http://127.0.0.3:5000',
    });
    expect(byEnv.calls[0].url.origin).toBe('http://127.0.0.3:5000');
    expect(byEnv.calls[0].authorization).toBeUndefined();
    const byDefault = await run(['events', 'get', 'e1', '--json'], routes);
    expect(byDefault.calls[0].url.origin).toBe('http://127.0.0.1:3000');
    expect(byDefault.calls[0].authorization).toBe(`Bearer ${KEY}`);
  });

  it('creates with every field of the command line, and every event type by default', async () => {
    const result = await run(
      [
        'subscriptions',
        'create',
        '--url',
        'https://example.com/hook',
        '--header',
        'X-Tenant=acme',
        '--header',
        'X-Env=prod',
        '--filter',
        'direction=inbound',
        '--description',
        'crm',
      ],
      { 'POST /v1/subscriptions': () => json(201, { ...SUBSCRIPTION, secret: 'whsec_full' }) },
    );
    expect(result.code).toBe(ExitCode.Ok);
    expect(result.calls[0].body).toEqual({
      url: 'https://example.com/hook',
      eventTypes: ['*'],
      description: 'crm',
      headers: { 'X-Tenant': 'acme', 'X-Env': 'prod' },
      filter: { direction: 'inbound' },
    });
    expect(result.stdout).toContain('Signing secret: whsec_full');
  });

  it('sets ordering and limits, shows them, and clears the limits with null', async () => {
    const shown = {
      ...SUBSCRIPTION,
      ordering: 'per-key',
      rateLimitPerSecond: 20,
      maxInFlight: 4,
      pausedUntil: '2026-11-30T10:05:00.000Z',
    };
    const created = await run(
      [
        'subscriptions',
        'create',
        '--url',
        'https://example.com/hook',
        '--ordering',
        'per-key',
        '--rate-limit',
        '20',
        '--max-in-flight',
        '4',
      ],
      { 'POST /v1/subscriptions': () => json(201, { ...shown, secret: 'whsec_full' }) },
    );
    expect(created.code).toBe(ExitCode.Ok);
    expect(created.calls[0].body).toEqual({
      url: 'https://example.com/hook',
      eventTypes: ['*'],
      ordering: 'per-key',
      rateLimitPerSecond: 20,
      maxInFlight: 4,
    });
    expect(created.stdout).toMatch(/Ordering:\s+per-key/);
    expect(created.stdout).toMatch(/Rate limit:\s+20\/s/);
    expect(created.stdout).toMatch(/Max in flight:\s+4/);
    expect(created.stdout).toMatch(/Paused until:\s+2026-11-30 10:05:00/);
    const cleared = await run(['subs', 'update', 'sub_1', '--clear-limits'], {
      'PATCH /v1/subscriptions/sub_1': () => json(200, SUBSCRIPTION),
    });
    expect(cleared.calls[0].body).toEqual({ rateLimitPerSecond: null, maxInFlight: null });
  });

  it('sends only what update changes, null to clear', async () => {
    const result = await run(
      ['subs', 'update', 'sub_1', '--types', 'call.*,sms.inbound', '--clear-description'],
      { 'PATCH /v1/subscriptions/sub_1': () => json(200, SUBSCRIPTION) },
    );
    expect(result.code).toBe(ExitCode.Ok);
    expect(result.calls[0].body).toEqual({
      eventTypes: ['call.*', 'sms.inbound'],
      description: null,
    });
    const disable = await run(['subs', 'disable', 'sub_1'], {
      'PATCH /v1/subscriptions/sub_1': () => json(200, { ...SUBSCRIPTION, enabled: false }),
    });
    expect(disable.calls[0].body).toEqual({ enabled: false });
    expect(disable.stdout).toMatch(/State:\s+disabled/);
  });

  it.each([
    [['subscriptions', 'list', '--bogus']],
    [['deliveries', 'list', '--status', 'lost']],
    [['deliveries', 'list', '--limit', '5000']],
    [['deliveries', 'list', '--since', '2026-11-30T12:00Z', '--until', '2026-11-30T11:00Z']],
    [['replay', '--subscription', 'sub_1']],
    [['subscriptions', 'create']],
    [['subscriptions', 'update', 'sub_1']],
    [['subscriptions', 'update', 'sub_1', '--description', 'x', '--clear-description']],
    [['subscriptions', 'get']],
    [['subscriptions', 'create', '--url', 'https://e.com', '--ordering', 'sorted']],
    [['subscriptions', 'create', '--url', 'https://e.com', '--rate-limit', '0']],
    [['subscriptions', 'update', 'sub_1', '--rate-limit', '5', '--clear-limits']],
    [['subscriptions']],
    [[]],
    [['--timeout', '5', 'status']],
  ])('exits 2 and sends nothing for a wrong command line: %j', async (argv) => {
    const result = await run(argv);
    expect(result.code).toBe(ExitCode.Usage);
    expect(result.calls).toEqual([]);
    expect(result.stderr).not.toBe('');
  });

  it('exits 0 for --help and --version', async () => {
    const help = await run(['deliveries', 'list', '--help']);
    expect(help.code).toBe(ExitCode.Ok);
    expect(help.stdout).toContain('--status <status>');
    const version = await run(['--version']);
    expect(version.code).toBe(ExitCode.Ok);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("exits 1 with the API's own message for a 4xx", async () => {
    const result = await run(['deliveries', 'show', 'd_x'], {
      'GET /v1/deliveries/d_x': () =>
        json(404, { statusCode: 404, error: 'Not Found', message: 'delivery d_x not found' }),
    });
    expect(result.code).toBe(ExitCode.Failure);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: 404 Not Found: delivery d_x not found\n');
  });

  it('exits 1 for a wrong key, with a hint and never the key, even if the answer echoed it', async () => {
    const routes = {
      'GET /v1/subscriptions': () =>
        json(401, {
          statusCode: 401,
          error: 'Unauthorized',
          message: `invalid admin API key ${KEY}`,
        }),
    };
    const byFlag = await run(['--key', KEY, '--verbose', 'subscriptions', 'list'], routes, {});
    const byEnv = await run(['subscriptions', 'list', '-v', '--json'], routes);
    for (const result of [byFlag, byEnv]) {
      expect(result.code).toBe(ExitCode.Failure);
      expect(result.stderr).toContain('error: 401 Unauthorized: invalid admin API key <redacted>');
      expect(result.stderr).toContain('hint: pass the service');
      expect(result.stderr).toContain('(authorization: Bearer <redacted>)');
      expect(result.stdout + result.stderr).not.toContain(KEY);
    }
    expect(byFlag.calls[0].authorization).toBe(`Bearer ${KEY}`);
  });

  it('exits 1 saying the service cannot be reached, and where it looked', async () => {
    const result = await run(['--url', 'http://127.0.0.1:3999', 'subscriptions', 'list']);
    expect(result.code).toBe(ExitCode.Failure);
    expect(result.stderr).toContain(
      'error: cannot reach opentact-bridge at http://127.0.0.1:3999: connection refused',
    );
    expect(result.stderr).toContain('OPENTACT_BRIDGE_URL');
  });

  it('lists failed deliveries as failing and dead together', async () => {
    const at = (n: number): string => new Date(Date.UTC(2026, 10, 30, 10, n)).toISOString();
    const delivery = (id: string, status: string, n: number): Record<string, unknown> => ({
      id,
      eventId: `e_${id}`,
      eventType: 'call.live',
      subscriptionId: 'sub_1',
      status,
      createdAt: at(n),
      updatedAt: at(n),
      attemptCount: 1,
    });
    const result = await run(['deliveries', 'list', '--status', 'failed', '--json'], {
      'GET /v1/deliveries': (call) =>
        json(200, {
          data:
            call.url.searchParams.get('status') === 'dead'
              ? [delivery('d_dead', 'dead', 1)]
              : [delivery('d_failing', 'failing', 2)],
        }),
    });
    expect(result.code).toBe(ExitCode.Ok);
    expect((JSON.parse(result.stdout) as { data: { id: string }[] }).data.map((d) => d.id)).toEqual(
      ['d_failing', 'd_dead'],
    );
    expect(result.calls.map((c) => c.url.searchParams.get('status')).sort()).toEqual([
      'dead',
      'failing',
    ]);
  });

  describe('status', () => {
    const readiness =
      (ready: boolean): Route =>
      () =>
        json(ready ? 200 : 503, {
          status: ready ? 'ok' : 'error',
          details: {
            redis: ready ? { status: 'up' } : { status: 'down', message: 'no answer to PING' },
          },
        });
    const outcomes = { success: 7, retry: 1, dead: 0, disabled: 0, skipped: 0 };
    const serviceStatus = {
      version: '1.0.0',
      time: '2026-11-30T10:00:00.000Z',
      opentact: {
        state: 'open',
        connections: [
          {
            instance: 'ingest-a',
            state: 'open',
            authenticated: true,
            reconnects: 1,
            paused: false,
            reportedAt: '2026-11-30T09:59:58.000Z',
          },
        ],
      },
      events: { backlog: 2, inFanOut: 1, retained: 50 },
      deliveries: { queue: { waiting: 3, delayed: 1 }, lastHour: outcomes, perMinute: [] },
      subscriptions: { total: 2, enabled: 2, disabled: 0, failing: 0 },
      quarantine: { total: 0 },
      recovery: { lastGap: null, openGaps: 0 },
    };

    it('exits 1 when the service is not ready, 0 when it is', async () => {
      const routes = (ready: boolean): Record<string, Route> => ({
        'GET /health/ready': readiness(ready),
        'GET /v1/status': () => json(200, serviceStatus),
      });
      const down = await run(['status'], routes(false));
      expect(down.code).toBe(ExitCode.Failure);
      expect(down.stdout).toMatch(/Ready:\s+NO/);
      expect(down.stdout).toMatch(/redis\s+DOWN\s+no answer to PING/);
      const up = await run(['status', '--json'], routes(true));
      expect(up.code).toBe(ExitCode.Ok);
      expect(JSON.parse(up.stdout)).toMatchObject({ ready: true });
    });

    it('reads the whole service from GET /v1/status, without /metrics', async () => {
      const result = await run(['status', '--json'], {
        'GET /health/ready': readiness(true),
        'GET /v1/status': () => json(200, serviceStatus),
      });
      expect(result.code).toBe(ExitCode.Ok);
      expect(result.calls.map((c) => c.url.pathname)).toEqual(['/health/ready', '/v1/status']);
      expect(JSON.parse(result.stdout)).toMatchObject({
        connection: { state: 'open', instances: [{ instance: 'ingest-a', reconnects: 1 }] },
        queues: [{ name: 'deliveries', jobs: { waiting: 3, delayed: 1 } }],
        deliveries: outcomes,
        deliveriesCountedBy: 'last-hour',
        pipeline: { backlog: 2, inFanOut: 1, retained: 50 },
        subscriptions: { total: 2, failing: 0 },
        quarantined: 0,
        recovery: { openGaps: 0 },
      });
    });

    it('shows the event log against its budget and the skipped deliveries, where the service reports them', async () => {
      const withRetention = {
        ...serviceStatus,
        events: {
          ...serviceStatus.events,
          retention: {
            bytes: 2_097_152,
            budgetBytes: 1_073_741_824,
            heldDeliveries: 7,
            overBudget: {
              since: '2026-11-30T09:50:00.000Z',
              last: '2026-11-30T09:59:00.000Z',
              evicted: 3,
            },
          },
        },
        deliveries: { ...serviceStatus.deliveries, skipped: 3 },
      };
      const routes = {
        'GET /health/ready': readiness(true),
        'GET /v1/status': () => json(200, withRetention),
      };
      const result = await run(['status', '--json'], routes);
      expect(JSON.parse(result.stdout)).toMatchObject({
        pipeline: {
          retention: { heldDeliveries: 7, overBudget: { evicted: 3 } },
          skipped: 3,
        },
      });
      const human = await run(['status'], routes);
      expect(human.stdout).toMatch(/EVENT LOG OVER BUDGET since .*: 3 events evicted/);
      expect(human.stdout).toContain('Skipped deliveries, retention window: 3');
    });

    it('falls back to /metrics when the service has no GET /v1/status (404)', async () => {
      const result = await run(['status', '--json'], {
        'GET /health/ready': readiness(true),
        'GET /v1/status': () =>
          json(404, { statusCode: 404, error: 'Not Found', message: 'Cannot GET /v1/status' }),
        'GET /metrics': () => new Response('otb_queue_jobs{queue="events",state="waiting"} 3\n'),
      });
      expect(result.code).toBe(ExitCode.Ok);
      expect(JSON.parse(result.stdout)).toMatchObject({
        ready: true,
        queues: [{ name: 'events', jobs: { waiting: 3 } }],
        deliveriesCountedBy: 'process',
      });
    });

    it('fails with the API error when GET /v1/status answers anything else', async () => {
      const result = await run(['status'], {
        'GET /health/ready': readiness(true),
        'GET /v1/status': () =>
          json(401, { statusCode: 401, error: 'Unauthorized', message: 'bad key' }),
      });
      expect(result.code).toBe(ExitCode.Failure);
      expect(result.stderr).toContain('401');
      expect(result.calls.map((c) => c.url.pathname)).not.toContain('/metrics');
    });
  });
});
