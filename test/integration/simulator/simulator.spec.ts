import { once } from 'node:events';
import { request } from 'undici';
import { RawData, WebSocket } from 'ws';
import { OpentactSimulator } from '../../../src/simulator/opentact-simulator';

type Json = Record<string, unknown>;

const EMAIL = 'tester@opentact.local';
const PASSWORD = 'tester-password';
const WAIT_MS = 2_000;

function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
}

function text(data: RawData): string {
  return Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Buffer.from(data as ArrayBuffer).toString();
}

async function http(
  method: 'GET' | 'POST',
  url: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: Json }> {
  const res = await request(url, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Json };
}

/** A WSS client that records every frame and how the socket ended. */
class TestClient {
  readonly frames: Json[] = [];
  closeCode?: number;
  closeReason?: string;
  private readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      // Raw frames injected on purpose may not be JSON; keep them so tests can see them.
      try {
        this.frames.push(JSON.parse(text(data)) as Json);
      } catch {
        this.frames.push({ raw: text(data) });
      }
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      });
    });
    ws.on('error', () => undefined);
  }

  static async open(url: string): Promise<TestClient> {
    const client = new TestClient(new WebSocket(url));
    await once(client.ws, 'open');
    return client;
  }

  sendAuth(token: string): void {
    this.ws.send(JSON.stringify({ type: 'auth', payload: token }));
  }

  /** Waits for a frame matching `predicate`, failing after `timeoutMs`. */
  async waitFor(predicate: (frame: Json) => boolean, timeoutMs = WAIT_MS): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.frames.find(predicate);
      if (found) {
        return found;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('timed out waiting for a frame');
  }

  async authenticate(token: string): Promise<Json> {
    this.sendAuth(token);
    return this.waitFor((frame) => frame.type === 'auth');
  }

  async waitClosed(timeoutMs = WAIT_MS): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.ws.terminate();
  }
}

describe('OpentactSimulator', () => {
  let sim: OpentactSimulator;
  const clients: TestClient[] = [];

  async function client(): Promise<TestClient> {
    const c = await TestClient.open(sim.wssUrl);
    clients.push(c);
    return c;
  }

  async function authedClient(): Promise<TestClient> {
    const c = await client();
    await c.authenticate(sim.issueToken());
    return c;
  }

  beforeEach(async () => {
    sim = new OpentactSimulator({ email: EMAIL, password: PASSWORD, controlPort: 0 });
    await sim.start();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) {
      c.close();
    }
    await sim.stop();
  });

  it('binds REST, WSS and control to 127.0.0.1 on ephemeral ports', () => {
    expect(sim.restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rest$/);
    expect(sim.wssUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/control$/);
  });

  describe('REST', () => {
    it('logs in with Basic auth and returns a 24 h HS256 token for the user', async () => {
      const { status, body } = await http('GET', `${sim.restUrl}/auth`, {
        headers: { authorization: basic(EMAIL, PASSWORD) },
      });
      expect(status).toBe(200);
      expect(body.success).toBe(true);
      const payload = body.payload as Json;
      expect(payload).toMatchObject({ email: EMAIL, role: 'User', wss_online: false });
      expect((payload.account as Json).uuid).toEqual(expect.any(String));
      const [header, claims] = String(payload.token)
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Json);
      expect(header.alg).toBe('HS256');
      expect(claims).toMatchObject({ uuid: payload.uuid, role: 'User' });
      expect(Number(claims.exp) - Number(claims.iat)).toBe(86_400);
    });

    it.each([
      ['wrong password', { authorization: basic(EMAIL, 'nope') }],
      ['no credentials', {}],
    ])('answers 401 for %s', async (_label, headers: Record<string, string>) => {
      const { status, body } = await http('GET', `${sim.restUrl}/auth`, { headers });
      expect(status).toBe(401);
      expect(body).toEqual({ success: false, message: 'Unauthorized' });
    });

    it('creates and lists subscriptions with X-Auth-Token or ?jwt=', async () => {
      const token = sim.issueToken();
      const created = await http('POST', `${sim.restUrl}/event/subscription`, {
        headers: { 'x-auth-token': token },
        body: { type: 'call_state', channel: 'wss', is_active: true },
      });
      expect(created.status).toBe(200);
      expect(created.body.payload).toMatchObject({
        type: 'call_state',
        channel: 'wss',
        is_active: true,
        uuid: expect.any(String) as string,
      });
      await http('POST', `${sim.restUrl}/event/subscription`, {
        headers: { 'x-auth-token': token },
        body: { type: 'sms', channel: 'wss', is_active: false },
      });

      const listed = await http('GET', `${sim.restUrl}/event/subscription?jwt=${token}`);
      expect(listed.status).toBe(200);
      const list = listed.body.payload as Json[];
      expect(list.map((s) => [s.type, s.is_active])).toEqual([
        ['call_state', true],
        ['sms', false],
      ]);
      for (const entry of list) {
        expect(Object.keys(entry).sort()).toEqual(
          [
            'channel',
            'created_on',
            'expired_on',
            'is_active',
            'modified_on',
            'type',
            'uuid',
          ].sort(),
        );
      }
      expect(sim.stats.subscriptions).toEqual(['call_state']);
    });

    it('gives every subscription an expiry: the one asked for, or 30 days by default', async () => {
      const token = sim.issueToken();
      const post = (body: Json) =>
        http('POST', `${sim.restUrl}/event/subscription`, {
          headers: { 'x-auth-token': token },
          body: { channel: 'wss', is_active: true, ...body },
        });
      const before = Date.now();
      const defaulted = (await post({ type: 'sms' })).body.payload as Json;
      const expiresAt = Date.parse(defaulted.expired_on as string);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000);
      const asked = (await post({ type: 'call_state', expired_on: '2030-01-01T00:00:00.000Z' }))
        .body.payload as Json;
      expect(asked.expired_on).toBe('2030-01-01T00:00:00.000Z');
      expect((await post({ type: 'balance', expired_on: null })).body.payload).toMatchObject({
        expired_on: null,
      });
      expect(sim.stats.subscriptions.sort()).toEqual(['balance', 'call_state', 'sms']);

      // An entry that lapsed no longer counts; posting it again with a new expiry renews it.
      expect(sim.expireSubscriptions(['sms'])).toBe(1);
      expect(sim.stats.subscriptions.sort()).toEqual(['balance', 'call_state']);
      const listed = (await http('GET', `${sim.restUrl}/event/subscription?jwt=${token}`)).body
        .payload as Json[];
      const sms = listed.find((entry) => entry.type === 'sms')!;
      expect(Date.parse(sms.expired_on as string)).toBeLessThan(Date.now());
      await post({ type: 'sms', expired_on: '2030-01-01T00:00:00.000Z' });
      expect(sim.stats.subscriptions.sort()).toEqual(['balance', 'call_state', 'sms']);
    });

    it('answers the chosen error status while the subscription fault is on', async () => {
      const url = `${sim.restUrl}/event/subscription`;
      const headers = { 'x-auth-token': sim.issueToken() };
      sim.setSubscriptionFault(503);
      expect((await http('GET', url, { headers })).status).toBe(503);
      const failed = await http('POST', url, {
        headers,
        body: { type: 'sms', channel: 'wss', is_active: true },
      });
      expect(failed.status).toBe(503);
      expect(failed.body.success).toBe(false);
      sim.setSubscriptionFault(undefined);
      expect((await http('GET', url, { headers })).status).toBe(200);
      expect(sim.stats.subscriptionRequests).toBe(3);
      expect(sim.stats.subscriptions).toEqual([]);
      expect(() => sim.setSubscriptionFault(200)).toThrow(RangeError);
    });

    it('answers 401 for a missing, expired or foreign JWT and 400 for a bad body', async () => {
      const url = `${sim.restUrl}/event/subscription`;
      expect((await http('GET', url)).status).toBe(401);
      expect(
        (await http('GET', url, { headers: { 'x-auth-token': sim.issueToken(-1) } })).status,
      ).toBe(401);
      const other = new OpentactSimulator();
      expect(
        (await http('GET', url, { headers: { 'x-auth-token': other.issueToken() } })).status,
      ).toBe(401);
      const bad = await http('POST', url, {
        headers: { 'x-auth-token': sim.issueToken() },
        body: { channel: 'wss' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.success).toBe(false);
    });

    it('answers 404 JSON for an unknown route', async () => {
      const { status, body } = await http('GET', `${sim.restUrl}/nothing/here`);
      expect(status).toBe(404);
      expect(body).toEqual({ success: false, message: 'Not Found' });
    });
  });

  describe('WSS', () => {
    it('acknowledges a valid auth frame with the documented shape', async () => {
      const c = await client();
      const ack = await c.authenticate(sim.issueToken());
      expect(Object.keys(ack)).toEqual([
        'uuid',
        'created_on',
        'type',
        'message',
        'payload',
        'account',
        'modified_on',
        'delivery_report',
      ]);
      const payload = ack.payload as Json;
      expect(ack.message).toBe(
        `WSS connection ${String(payload.uuid)}@127.0.0.1 - success auth ${EMAIL}`,
      );
      expect(payload).toMatchObject({ ip: '127.0.0.1' });
      expect(payload.user).toMatchObject({ email: EMAIL, role: 'User', wss_online: true });
      expect(payload.account).toEqual(ack.account);
      expect(ack.delivery_report).toEqual([]);
      expect(sim.stats).toMatchObject({ connections: 1, authenticated: 1, authAttempts: 1 });
    });

    it('ignores frames other than auth before authentication', async () => {
      const c = await client();
      c.ws.send(JSON.stringify({ type: 'hello' }));
      c.ws.send('not json');
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      const ack = await c.authenticate(sim.issueToken());
      expect(ack.type).toBe('auth');
      expect(sim.stats.authAttempts).toBe(1);
    });

    it('refuses an expired token by closing with 4001', async () => {
      const c = await client();
      c.sendAuth(sim.issueToken(-10));
      expect(await c.waitClosed()).toBe(true);
      expect(c.closeCode).toBe(4001);
      expect(c.closeReason).toBe('auth failed');
      expect(sim.stats.authRefused).toBe(1);
    });

    it.each(['close', 'silent', 'error-frame'] as const)(
      'refuses auth in %s mode as configured',
      async (authFailure) => {
        await sim.stop();
        sim = new OpentactSimulator({ authMode: 'refuse', authFailure });
        await sim.start();
        const c = await client();
        c.sendAuth(sim.issueToken());
        switch (authFailure) {
          case 'close':
            expect(await c.waitClosed()).toBe(true);
            expect(c.closeCode).toBe(4001);
            expect(c.frames).toEqual([]);
            break;
          case 'silent':
            expect(await c.waitClosed(500)).toBe(false);
            expect(c.frames).toEqual([]);
            break;
          case 'error-frame':
            expect(await c.waitClosed()).toBe(true);
            expect(c.frames).toHaveLength(1);
            expect(c.frames[0]).toMatchObject({ type: 'auth', success: false });
            expect(String(c.frames[0].message)).toMatch(
              /^WSS connection [0-9a-f-]{36}@127\.0\.0\.1 - auth failed$/,
            );
            break;
        }
        expect(sim.emit({ type: 'balance', payload: 1 })).toBe(0);
        expect(sim.stats).toMatchObject({ authenticated: 0, authRefused: 1 });
      },
    );

    it('switches between accepting and refusing at run time', async () => {
      sim.setAuthMode('refuse');
      const refused = await client();
      refused.sendAuth(sim.issueToken());
      expect(await refused.waitClosed()).toBe(true);
      sim.setAuthMode('accept');
      expect((await (await client()).authenticate(sim.issueToken())).type).toBe('auth');
    });

    it('delivers an emitted frame to every authenticated socket and no other', async () => {
      const a = await authedClient();
      const b = await authedClient();
      const stranger = await client();
      const [frame] = sim.emitScenario('balance', 'newer');
      await a.waitFor((f) => f.uuid === frame.uuid);
      await b.waitFor((f) => f.uuid === frame.uuid);
      const sentFrame = sim.sentLog.at(-1);
      expect(sentFrame).toMatchObject({ id: frame.uuid, sockets: 2 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stranger.frames).toEqual([]);
      expect(sim.stats.framesSent).toBe(2);
    });

    it('logs older frames by sim_id and raw text as given', async () => {
      const c = await authedClient();
      const frames = sim.emitScenario('inbound-call', 'older');
      expect(sim.sentLog.slice(-5).map((e) => e.id)).toEqual(frames.map((f) => f.sim_id));
      await c.waitFor((f) => f.sim_id === frames[4].sim_id);
      expect(sim.emit('{"type":"sms","sim_id":"raw-1"}')).toBe(1);
      expect(sim.sentLog.at(-1)?.id).toBe('raw-1');
      expect(sim.emit('not json at all')).toBe(1);
      expect(sim.sentLog.at(-1)?.id).toMatch(/^raw-/);
    });

    it('sends only the kinds the user subscribed to when filtering is on', async () => {
      const c = await authedClient();
      const token = sim.issueToken();
      await http('POST', `${sim.restUrl}/event/subscription`, {
        headers: { 'x-auth-token': token },
        body: { type: 'sms', channel: 'wss', is_active: true },
      });
      await http('POST', `${sim.restUrl}/event/subscription`, {
        headers: { 'x-auth-token': token },
        body: { type: 'balance', channel: 'wss', is_active: false },
      });
      sim.setSubscriptionFiltering(true);

      const [call] = sim.emitScenario('inbound-call', 'newer');
      const [balance] = sim.emitScenario('balance', 'newer');
      const [sms] = sim.emitScenario('inbound-sms', 'newer');
      expect(sim.emit('not json at all')).toBe(1);
      await c.waitFor((f) => f.uuid === sms.uuid);
      expect(sim.stats.framesFiltered).toBe(6);
      const sent = new Map(sim.sentLog.map((e) => [e.id, e.sockets]));
      expect([sent.get(call.uuid as string), sent.get(balance.uuid as string)]).toEqual([0, 0]);
      expect(sent.get(sms.uuid as string)).toBe(1);

      // A lapsed subscription delivers nothing either.
      sim.expireSubscriptions(['sms']);
      const [late] = sim.emitScenario('inbound-sms', 'newer');
      expect(sim.sentLog.at(-1)).toMatchObject({ id: late.uuid, sockets: 0 });

      // Rate runs are filtered too, and turning filtering off sends everything again.
      const run = await sim.emitAtRate({ ratePerSecond: 1_000, count: 10, kind: 'sms' });
      expect(run).toEqual({ sent: 0, frames: 10 });
      sim.setSubscriptionFiltering(false);
      const [after] = sim.emitScenario('balance', 'newer');
      await c.waitFor((f) => f.uuid === after.uuid);
      expect(c.frames.some((f) => f.uuid === call.uuid || f.uuid === late.uuid)).toBe(false);
    });

    it('filters from the start when constructed to', async () => {
      const filtering = new OpentactSimulator({ filterBySubscription: true });
      await filtering.start();
      try {
        const ws = await TestClient.open(filtering.wssUrl);
        clients.push(ws);
        await ws.authenticate(filtering.issueToken());
        expect(filtering.emitScenario('balance', 'older').length).toBe(1);
        expect(filtering.sentLog.at(-1)?.sockets).toBe(0);
        expect(filtering.stats.framesFiltered).toBe(1);
      } finally {
        await filtering.stop();
      }
    });

    it('sends binary frames when asked', async () => {
      const c = await authedClient();
      const binary = new Promise<boolean>((resolve) => {
        c.ws.on('message', (_data: RawData, isBinary: boolean) => resolve(isBinary));
      });
      sim.emit({ type: 'sms' }, { binary: true });
      expect(await binary).toBe(true);
    });

    it('emits at 1,000 frames/s for 1 s with increasing sim_seq', async () => {
      const c = await authedClient();
      const startedAt = Date.now();
      const result = await sim.emitAtRate({
        ratePerSecond: 1_000,
        durationMs: 1_000,
        kind: 'mixed',
      });
      const elapsed = Date.now() - startedAt;
      expect(result).toEqual({ frames: 1_000, sent: 1_000 });
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(1_500);
      await c.waitFor((f) => f.sim_seq === 999);
      const data = c.frames.filter((f) => f.type !== 'auth');
      expect(data.map((f) => f.sim_seq)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
      const sentAt = data.map((f) => Number(f.sim_sent_at));
      expect(sentAt).toEqual([...sentAt].sort((x, y) => x - y));
      expect(new Set(data.map((f) => f.uuid)).size).toBe(1_000);
    });

    it('interleaves call lifecycles: each call goes init to destroyed in order', async () => {
      const c = await authedClient();
      const result = await sim.emitAtRate({ ratePerSecond: 2_000, count: 15, calls: 3 });
      expect(result.frames).toBe(15);
      await c.waitFor((f) => f.sim_seq === 14);
      const data = c.frames.filter((f) => f.type !== 'auth');
      const byCall = new Map<string, unknown[]>();
      for (const frame of data) {
        const call = frame.call as { uuid: string; state: string };
        byCall.set(call.uuid, [...(byCall.get(call.uuid) ?? []), call.state]);
      }
      expect([...byCall.values()]).toEqual(
        Array.from({ length: 3 }, () => ['init', 'ringing', 'live', 'hangup', 'destroyed']),
      );
      // Interleaved: consecutive frames belong to different calls.
      const first = data.slice(0, 3).map((f) => (f.call as { uuid: string }).uuid);
      expect(new Set(first).size).toBe(3);
    });

    it('pads frames to payloadBytes and stops early on abort', async () => {
      const c = await authedClient();
      const controller = new AbortController();
      const run = sim.emitAtRate({
        ratePerSecond: 200,
        count: 10_000,
        payloadBytes: 4_096,
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 100);
      const result = await run;
      expect(result.frames).toBeGreaterThan(0);
      expect(result.frames).toBeLessThan(100);
      await c.waitFor((f) => f.sim_seq === result.frames - 1);
      const size = JSON.stringify(c.frames[1]).length;
      expect(Math.abs(size - 4_096)).toBeLessThan(64);
    });

    it('rejects unbounded or invalid rate runs', async () => {
      await expect(sim.emitAtRate({ ratePerSecond: 10 })).rejects.toThrow(/count or durationMs/);
      await expect(sim.emitAtRate({ ratePerSecond: 0, count: 1 })).rejects.toThrow(RangeError);
    });

    it('dropAll terminates every connection', async () => {
      const a = await authedClient();
      const b = await client();
      sim.dropAll();
      expect(await a.waitClosed()).toBe(true);
      expect(await b.waitClosed()).toBe(true);
      expect(a.closeCode).toBe(1006);
      expect(sim.stats).toMatchObject({ connections: 0, authenticated: 0, connectionsTotal: 2 });
    });

    it('answers pings only while pongs are enabled', async () => {
      const c = await authedClient();
      const pongWithin = (ms: number): Promise<boolean> =>
        new Promise((resolve) => {
          const timer = setTimeout(() => {
            c.ws.off('pong', onPong);
            resolve(false);
          }, ms);
          const onPong = (): void => {
            clearTimeout(timer);
            resolve(true);
          };
          c.ws.once('pong', onPong);
          c.ws.ping();
        });
      expect(await pongWithin(1_000)).toBe(true);
      sim.setPongs(false);
      expect(await pongWithin(1_000)).toBe(false);
      sim.setPongs(true);
      expect(await pongWithin(1_000)).toBe(true);
    });

    it('closes sockets with 1001 on stop, and stop is idempotent', async () => {
      const c = await authedClient();
      await Promise.all([sim.stop(), sim.stop()]);
      expect(await c.waitClosed()).toBe(true);
      expect(c.closeCode).toBe(1001);
      await sim.stop();
    });
  });

  describe('reference behaviour (opentact.md)', () => {
    it('answers an auth frame with the exact bytes set, and lets the socket in only when told', async () => {
      const ack =
        '{\n    "type": "auth",\n    "message": "WSS connection x@127.0.0.1 - success auth a@b"\n}';
      sim.setAuthAck(ack);
      const accepted = await client();
      const raw: string[] = [];
      accepted.ws.on('message', (data: RawData) => raw.push(text(data)));
      await accepted.authenticate(sim.issueToken());
      expect(raw[0]).toBe(ack);
      expect(sim.emit('{"type":"balance","payload":1}')).toBe(1);

      sim.setAuthAck('{"type":"auth","message":"auth not successful"}', { accepted: false });
      const refused = await client();
      await refused.authenticate(sim.issueToken());
      expect(sim.stats.authRefused).toBe(1);
      expect(sim.emit('{"type":"balance","payload":2}')).toBe(1);
    });

    it('outbound-sms sends the documented pair: one message, success, delivered false then true', async () => {
      const c = await authedClient();
      sim.emitScenario('outbound-sms', 'older');
      await c.waitFor(
        (frame) => frame.type === 'sms' && (frame.payload as Json).delivered === true,
      );
      const sms = c.frames.filter((frame) => frame.type === 'sms').map((f) => f.payload as Json);
      expect(sms.map((e) => [e.type, e.state, e.delivered])).toEqual([
        ['smso', 'success', false],
        ['smso', 'success', true],
      ]);
      expect(sms[0].uuid).toBe(sms[1].uuid);
    });

    it("sends a rate run's outbound SMS as the documented sent state, as its REST entity stands", async () => {
      // One frame per message: the first event of §4.9 (success, not delivered yet). A delivered
      // frame with no sent frame before it is no documented sequence, and recovery, finding the
      // message delivered, would rightly add the sent state the socket never carried.
      const c = await authedClient();
      await sim.emitAtRate({ ratePerSecond: 1_000, count: 8, kind: 'sms' });
      await c.waitFor((f) => f.sim_seq === 7);
      const outbound = c.frames
        .filter((f) => f.type === 'sms' && (f.payload as Json).type === 'smso')
        .map((f) => f.payload as Json);
      expect(outbound).toHaveLength(4);
      expect(outbound.map((e) => [e.state, e.delivered])).toEqual(
        Array.from({ length: 4 }, () => ['success', false]),
      );
      const login = await http('GET', `${sim.restUrl}/auth`, {
        headers: { authorization: basic(EMAIL, PASSWORD) },
      });
      const token = String((login.body.payload as Json).token);
      const found = await http('POST', `${sim.restUrl}/sms/search/outbound?take=100&skip=0`, {
        headers: { 'x-auth-token': token },
        body: {},
      });
      const entities = (found.body.payload as { data: Json[] }).data;
      // The newer envelope carries the message under `sms`, the older one as the payload.
      const sent = new Set(
        c.frames
          .filter((f) => f.type === 'sms' && (f.payload as Json).type === 'smso')
          .map((f) => ((f.sms ?? f.payload) as Json).uuid),
      );
      const same = entities.filter((e) => sent.has(e.uuid));
      expect(same).toHaveLength(4);
      expect(same.every((e) => e.state === 'success' && e.delivered === false)).toBe(true);
    });

    it('searches as §7.1 says: take/skip in the query, filters in the body, { total, data }', async () => {
      const login = await http('GET', `${sim.restUrl}/auth`, {
        headers: { authorization: basic(EMAIL, PASSWORD) },
      });
      const token = String((login.body.payload as Json).token);
      const headers = { 'x-auth-token': token };
      sim.emitScenario('outbound-sms', 'older');
      sim.emitScenario('outbound-sms', 'newer');
      sim.emitScenario('inbound-sms', 'older');
      sim.emitScenario('inbound-call', 'newer');
      const search = (path: string, body: Json, query = 'take=100&skip=0') =>
        http('POST', `${sim.restUrl}${path}?${query}`, { headers, body });

      const all = await search('/sms/search/outbound', {});
      expect(all.status).toBe(200);
      expect(all.body.success).toBe(true);
      const page = all.body.payload as { total: number; data: Json[] };
      // The latest state of each message: both delivered now.
      expect(page.total).toBe(2);
      expect(page.data.map((e) => e.delivered)).toEqual([true, true]);
      // The entity as §7.1 lists it: no smsi/smso (the path says the direction).
      expect(Object.keys(page.data[0]).sort()).toEqual(
        [
          'account',
          'created_on',
          'delivered',
          'from',
          'message',
          'modified_on',
          'readed',
          'reference_id',
          'state',
          'thread',
          'tn',
          'to',
          'uuid',
        ].sort(),
      );
      const second = await search('/sms/search/outbound', {}, 'take=1&skip=1');
      expect((second.body.payload as { total: number; data: Json[] }).data).toEqual([page.data[1]]);
      const byThread = await search('/sms/search/outbound', { thread: page.data[0].thread });
      expect((byThread.body.payload as { total: number }).total).toBe(1);
      const undelivered = await search('/sms/search/outbound', { delivered: false });
      expect((undelivered.body.payload as { total: number }).total).toBe(0);
      // `tn` is a JSON number on the entity; the filter matches it with or without `+`.
      const byTn = await search('/sms/search/inbound', { tn: '+18382049000' });
      expect((byTn.body.payload as { total: number }).total).toBe(1);
      const created = await search('/sms/search/inbound', {
        created_on_to: '2000-01-01T00:00:00.000Z',
      });
      expect((created.body.payload as { total: number }).total).toBe(0);

      const calls = await search('/sip/app/call/search', { state: 'destroyed' });
      expect((calls.body.payload as { total: number }).total).toBe(1);
      const none = await search('/sip/app/call/search', { state: 'live' });
      expect((none.body.payload as { total: number }).total).toBe(0);

      expect((await search('/sms/search/outbound', { delivered: 'yes' })).status).toBe(400);
      expect((await search('/sms/search/outbound', {}, 'take=101')).status).toBe(400);
    });
  });

  describe('control API', () => {
    const control = (path: string): string => `${sim.controlUrl ?? ''}${path}`;

    it('emits frames, raw text and scenarios', async () => {
      const c = await authedClient();
      const one = await http('POST', control('/emit'), {
        body: { frame: { type: 'balance', uuid: 'one', payload: 5 } },
      });
      expect(one).toEqual({ status: 200, body: { sent: 1, frames: 1 } });
      const many = await http('POST', control('/emit'), {
        body: { frames: [{ uuid: 'two' }, { uuid: 'three' }] },
      });
      expect(many.body).toEqual({ sent: 2, frames: 2 });
      const raw = await http('POST', control('/emit'), { body: { raw: '{"broken"' } });
      expect(raw.body).toEqual({ sent: 1, frames: 1 });
      const scenario = await http('POST', control('/emit'), {
        body: { scenario: 'inbound-call', generation: 'older' },
      });
      expect(scenario.body).toEqual({ sent: 5, frames: 5 });
      await c.waitFor((f) => (f.payload as Json | undefined)?.state === 'destroyed');
      expect(sim.sentLog.slice(0, 3).map((e) => e.id)).toEqual(['one', 'two', 'three']);
    });

    it('runs, reports and stops a background rate run', async () => {
      await authedClient();
      const started = await http('POST', control('/rate'), {
        body: { ratePerSecond: 500, durationMs: 10_000, kind: 'sms', generation: 'older' },
      });
      expect(started).toEqual({ status: 202, body: { started: true } });
      const busy = await http('POST', control('/rate'), { body: { ratePerSecond: 1, count: 1 } });
      expect(busy.status).toBe(409);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await http('POST', control('/rate/stop'))).body).toEqual({ stopped: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stats = await http('GET', control('/stats'));
      expect(stats.status).toBe(200);
      const rate = stats.body.rate as Json;
      expect(rate.running).toBe(false);
      expect(Number((rate.last as Json).frames)).toBeGreaterThan(50);
      expect(stats.body).toMatchObject({ connections: 1, authenticated: 1 });
      expect(stats.body.sentCount).toBe(sim.sentCount);
    });

    it('switches pongs and auth mode, and drops connections', async () => {
      const c = await authedClient();
      expect((await http('POST', control('/pongs'), { body: { enabled: false } })).body).toEqual({
        enabled: false,
      });
      expect((await http('POST', control('/auth'), { body: { mode: 'refuse' } })).body).toEqual({
        mode: 'refuse',
      });
      const refused = await client();
      refused.sendAuth(sim.issueToken());
      expect(await refused.waitClosed()).toBe(true);
      expect((await http('POST', control('/drop'))).body).toEqual({ dropped: 1 });
      expect(await c.waitClosed()).toBe(true);
    });

    it('switches subscription filtering and faults, and lets subscriptions lapse', async () => {
      const filter = await http('POST', control('/subscriptions/filter'), {
        body: { enabled: true },
      });
      expect(filter.body).toEqual({ enabled: true });
      await authedClient();
      expect(sim.emitScenario('balance').length).toBe(1);
      expect(sim.sentLog.at(-1)?.sockets).toBe(0);

      const fault = await http('POST', control('/subscriptions/fault'), { body: { status: 500 } });
      expect(fault.body).toEqual({ status: 500 });
      const url = `${sim.restUrl}/event/subscription`;
      const headers = { 'x-auth-token': sim.issueToken() };
      expect((await http('GET', url, { headers })).status).toBe(500);
      await http('POST', control('/subscriptions/fault'), { body: { status: null } });
      await http('POST', url, { headers, body: { type: 'sms', channel: 'wss', is_active: true } });
      expect(sim.stats.subscriptions).toEqual(['sms']);

      const expired = await http('POST', control('/subscriptions/expire'), { body: {} });
      expect(expired.body).toEqual({ expired: 1 });
      expect(sim.stats.subscriptions).toEqual([]);
    });

    it.each([
      ['/subscriptions/filter', { enabled: 1 }],
      ['/subscriptions/fault', { status: 200 }],
      ['/subscriptions/fault', {}],
      ['/subscriptions/expire', { types: 'sms' }],
      ['/emit', {}],
      ['/emit', { scenario: 'nope' }],
      ['/emit', { frame: 'not an object' }],
      ['/rate', { ratePerSecond: -1, count: 1 }],
      ['/rate', { ratePerSecond: 10 }],
      ['/rate', { ratePerSecond: 10, count: 1, kind: 'video' }],
      ['/pongs', { enabled: 'yes' }],
      ['/auth', { mode: 'maybe' }],
      ['/emit', 'not json'],
    ])('answers 400 to POST %s %j', async (path, body) => {
      const res = await http('POST', control(path), { body });
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(expect.any(String));
    });

    it('answers 404 to an unknown control route', async () => {
      expect((await http('GET', control('/nothing'))).status).toBe(404);
    });
  });
});
