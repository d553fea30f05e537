import type { LookupAddress } from 'node:dns';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { classifyAttempt } from '../../../src/delivery/delivery-outcome';
import {
  WebhookHttpClient,
  type WebhookHttpClientOptions,
} from '../../../src/delivery/webhook-http.client';
import { generateSecret, WebhookSigner } from '../../../src/webhook-security/webhook-signer';
import {
  closedPort,
  ProgrammableReceiver,
  type RecordedRequest,
  type ScriptedReply,
} from '../../support/webhook-receivers';

describe('WebhookHttpClient (real receivers on 127.0.0.1)', () => {
  const receivers: ProgrammableReceiver[] = [];
  const clients: WebhookHttpClient[] = [];

  async function receiver(reply: ScriptedReply): Promise<ProgrammableReceiver> {
    // Node's default keep-alive (5 s), so undici reuses connections as it would with most servers.
    const started = await new ProgrammableReceiver(reply, { keepAliveTimeoutMs: 5_000 }).start();
    receivers.push(started);
    return started;
  }

  function client(overrides: Partial<WebhookHttpClientOptions> = {}): WebhookHttpClient {
    const created = new WebhookHttpClient({
      timeoutMs: 3000,
      connectionsPerOrigin: 4,
      maxResponseBytes: 16_384,
      allowCidrs: ['127.0.0.1/32'],
      userAgent: 'opentact-bridge-test/1.0',
      ...overrides,
    });
    clients.push(created);
    return created;
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });

  it('delivers a POST and returns status, headers and body', async () => {
    const target = await receiver({
      status: 200,
      headers: { 'content-type': 'text/plain', 'x-receiver': 'yes' },
      body: 'thanks ✓',
    });
    const result = await client().post(target.url(), { 'x-extra': '1' }, '{"id":"evt_1"}');

    expect(result.error).toBeUndefined();
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('thanks ✓');
    expect(result.bodyTruncated).toBe(false);
    expect(result.headers['x-receiver']).toBe('yes');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]).toMatchObject({
      method: 'POST',
      path: '/hook',
      body: '{"id":"evt_1"}',
    });
    expect(target.requests[0].headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'opentact-bridge-test/1.0',
      'x-extra': '1',
    });
  });

  describe('Standard Webhooks signature', () => {
    const signer = new WebhookSigner();

    async function sendSigned(secrets: string[]): Promise<RecordedRequest> {
      const target = await receiver({ status: 204 });
      const body = JSON.stringify({
        id: 'evt_42',
        type: 'call.answered',
        data: { from: '+15550100', to: 'ß☎' },
      });
      const msgId = 'evt_42';
      const timestampSec = Math.floor(Date.now() / 1000);
      const result = await client().post(
        target.url(),
        {
          'webhook-id': msgId,
          'webhook-timestamp': String(timestampSec),
          'webhook-signature': signer.sign({ msgId, timestampSec, body, secrets }),
        },
        body,
      );
      expect(result.statusCode).toBe(204);
      expect(result).toMatchObject({ body: '', bodyTruncated: false });
      return target.requests[0];
    }

    it('verifies with the standardwebhooks and svix libraries', async () => {
      const secret = generateSecret();
      const received = await sendSigned([secret]);
      const { headers } = received;

      expect(new StandardWebhook(secret).verify(received.body, headers)).toMatchObject({
        id: 'evt_42',
      });
      expect(new SvixWebhook(secret).verify(received.body, headers)).toMatchObject({
        id: 'evt_42',
      });
    });

    it('verifies with either secret during a rotation, and not with a third', async () => {
      const [oldSecret, newSecret, stranger] = [
        generateSecret(),
        generateSecret(),
        generateSecret(),
      ];
      const received = await sendSigned([oldSecret, newSecret]);
      const { headers } = received;

      expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
      for (const secret of [oldSecret, newSecret]) {
        expect(() => new StandardWebhook(secret).verify(received.body, headers)).not.toThrow();
        expect(() => new SvixWebhook(secret).verify(received.body, headers)).not.toThrow();
      }
      expect(() => new StandardWebhook(stranger).verify(received.body, headers)).toThrow();
      expect(() => new SvixWebhook(stranger).verify(received.body, headers)).toThrow();
    });
  });

  it('does not follow a 302: the Location target is never hit', async () => {
    const elsewhere = await receiver({ status: 200 });
    const redirecting = await receiver({
      status: 302,
      headers: { location: `http://127.0.0.1:${elsewhere.port}/stolen` },
    });
    const result = await client().post(redirecting.url(), {}, '{}');

    expect(result.statusCode).toBe(302);
    expect(result.headers.location).toContain('/stolen');
    expect(elsewhere.requests).toHaveLength(0);
    expect(elsewhere.connections).toBe(0);
    expect(classifyAttempt(result, new Date(), { retryAfterMaxMs: 60_000 })).toEqual({
      kind: 'retry',
      reason: 'redirect not followed (status 302)',
    });
  });

  it('gives up on a receiver that never answers within timeoutMs', async () => {
    const silent = await receiver({ hang: true });
    const timeoutMs = 500;
    const started = Date.now();
    const result = await client({ timeoutMs }).post(silent.url(), {}, '{}');
    const wall = Date.now() - started;

    expect(result.statusCode).toBeUndefined();
    expect(result.error?.kind).toBe('timeout');
    expect(silent.requests).toHaveLength(1);
    expect(result.durationMs).toBeLessThan(timeoutMs + 1000);
    expect(wall).toBeLessThan(timeoutMs + 1000);
    expect(wall).toBeGreaterThanOrEqual(timeoutMs - 50);
  });

  it('reports a refused connection as kind connect', async () => {
    const port = await closedPort();
    const result = await client().post(`http://127.0.0.1:${port}/hook`, {}, '{}');

    expect(result.statusCode).toBeUndefined();
    expect(result.error?.kind).toBe('connect');
    expect(result.error?.message).toContain('ECONNREFUSED');
  });

  it('joins a repeated response header, and lower-cases the names', async () => {
    const target = await receiver({
      status: 200,
      headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Trace': 'T1' },
      body: 'ok',
    });
    const result = await client().post(target.url(), {}, '{}');

    expect(result.headers['set-cookie']).toBe('a=1, b=2');
    expect(result.headers['x-trace']).toBe('T1');
  });

  it('keeps the status and reports the error when the body breaks off', async () => {
    const target = await receiver({ status: 200, body: 'x'.repeat(10_000), dropMidBody: true });
    const result = await client().post(target.url(), {}, '{}');

    expect(result.statusCode).toBe(200);
    expect(result.error?.kind).toBe('reset');
    expect(result.error?.message).toContain('UND_ERR_SOCKET');
    expect(result.body).toBe('');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reads at most maxResponseBytes of the body', async () => {
    const chatty = await receiver({ status: 500, body: 'é'.repeat(50_000) });
    const result = await client({ maxResponseBytes: 1001 }).post(chatty.url(), {}, '{}');

    expect(result.statusCode).toBe(500);
    expect(result.bodyTruncated).toBe(true);
    expect(Buffer.byteLength(result.body)).toBeLessThanOrEqual(1003);
    // 1001 bytes = 500 two-byte characters and half of one, decoded as a replacement character
    expect(result.body).toBe(`${'é'.repeat(500)}\uFFFD`);
  });

  it('stops inside the part that crosses the cap, counting what earlier parts used', async () => {
    const parts = await receiver({ status: 500, bodyParts: ['a'.repeat(600), 'b'.repeat(600)] });
    const result = await client({ maxResponseBytes: 1000 }).post(parts.url(), {}, '{}');

    expect(result.body).toBe(`${'a'.repeat(600)}${'b'.repeat(400)}`);
    expect(result.bodyTruncated).toBe(true);
  });

  it('does not flag a body that fits exactly', async () => {
    const exact = await receiver({ status: 200, body: 'x'.repeat(1000) });
    const result = await client({ maxResponseBytes: 1000 }).post(exact.url(), {}, '{}');

    expect(result.body).toHaveLength(1000);
    expect(result.bodyTruncated).toBe(false);
  });

  it('reuses one keep-alive connection for sequential posts', async () => {
    const target = await receiver({ status: 200, body: 'ok' });
    const sender = client();
    const first = await sender.post(target.url(), {}, '{"n":1}');
    // With pipelining 1 undici hands a socket back to the pool one event-loop turn after the
    // response ends (client-h1 onMessageComplete: setImmediate(resume)), to catch receivers that
    // close despite keep-alive. A worker always has Redis I/O between jobs; here we yield once.
    await new Promise((resolve) => setImmediate(resolve));
    const second = await sender.post(target.url(), {}, '{"n":2}');

    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(target.requests).toHaveLength(2);
    expect(target.connections).toBe(1);
  });

  describe('SSRF at connect time', () => {
    it('refuses 127.0.0.1 with an empty allow-list, and the receiver sees nothing', async () => {
      const target = await receiver({ status: 200 });
      const result = await client({ allowCidrs: [] }).post(target.url(), {}, '{}');

      expect(result.statusCode).toBeUndefined();
      expect(result.error?.kind).toBe('ssrf');
      expect(result.error?.message).toContain('loopback');
      expect(target.requests).toHaveLength(0);
      expect(target.connections).toBe(0);
    });

    it('lets 127.0.0.1 through when the allow-list holds 127.0.0.1/32', async () => {
      const target = await receiver({ status: 200 });
      const result = await client({ allowCidrs: ['127.0.0.1/32'] }).post(target.url(), {}, '{}');

      expect(result.statusCode).toBe(200);
      expect(target.requests).toHaveLength(1);
    });

    it('refuses localhost after resolving it', async () => {
      const target = await receiver({ status: 200 });
      const result = await client({ allowCidrs: [] }).post(
        `http://localhost:${target.port}/hook`,
        {},
        '{}',
      );

      expect(result.error?.kind).toBe('ssrf');
      expect(result.error?.message).toMatch(/^refused to connect to localhost: .*loopback/);
      expect(target.connections).toBe(0);
    });

    it.each([
      'http://[::1]:{port}/',
      'http://2130706433:{port}/',
      'http://0x7f.1:{port}/',
      'http://[::ffff:127.0.0.1]:{port}/',
    ])('refuses the literal %s', async (template) => {
      const target = await receiver({ status: 200 });
      const result = await client({ allowCidrs: [] }).post(
        template.replace('{port}', String(target.port)),
        {},
        '{}',
      );

      expect(result.error?.kind).toBe('ssrf');
      expect(target.connections).toBe(0);
    });

    it('dials the checked address and keeps the name in the Host header', async () => {
      const target = await receiver({ status: 200 });
      const asked: string[] = [];
      const lookup = (hostname: string): Promise<LookupAddress[]> => {
        asked.push(hostname);
        return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
      };
      const result = await client({ lookup }).post(
        `http://receiver.test:${target.port}/hook`,
        {},
        '{}',
      );

      expect(result.statusCode).toBe(200);
      expect(asked).toEqual(['receiver.test']);
      expect(target.requests[0].headers.host).toBe(`receiver.test:${target.port}`);
    });

    it('falls back to the next checked address when one refuses the connection', async () => {
      const target = await receiver({ status: 200 });
      // Nothing listens on 127.0.0.2 (the receiver binds 127.0.0.1 only), so it refuses.
      const lookup = (): Promise<LookupAddress[]> =>
        Promise.resolve([
          { address: '127.0.0.2', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]);
      const result = await client({ allowCidrs: ['127.0.0.0/8'], lookup }).post(
        `http://receiver.test:${target.port}/hook`,
        {},
        '{}',
      );

      expect(result.statusCode).toBe(200);
      expect(target.requests).toHaveLength(1);
    });

    it('refuses a name when any of its addresses is blocked', async () => {
      const target = await receiver({ status: 200 });
      const lookup = (): Promise<LookupAddress[]> =>
        Promise.resolve([
          { address: '127.0.0.1', family: 4 },
          { address: '169.254.169.254', family: 4 },
        ]);
      const result = await client({ lookup }).post(
        `http://receiver.test:${target.port}/hook`,
        {},
        '{}',
      );

      expect(result.error).toEqual({
        kind: 'ssrf',
        message: expect.stringContaining('169.254.169.254') as unknown,
      });
      expect(target.connections).toBe(0);
    });

    it('checks again on a new connection, so a rebinding answer is refused', async () => {
      const target = await receiver({ status: 200, headers: { connection: 'close' } });
      const answers = ['127.0.0.1', '10.0.0.7'];
      let calls = 0;
      const lookup = (): Promise<LookupAddress[]> =>
        Promise.resolve([{ address: answers[Math.min(calls++, answers.length - 1)], family: 4 }]);
      const sender = client({ lookup });
      const url = `http://rebind.test:${target.port}/hook`;

      expect((await sender.post(url, {}, '{}')).statusCode).toBe(200);
      const second = await sender.post(url, {}, '{}');
      expect(second.error?.kind).toBe('ssrf');
      expect(second.error?.message).toContain('10.0.0.7');
      expect(target.requests).toHaveLength(1);
    });

    it('reports a name that does not resolve as kind dns', async () => {
      const result = await client().post('http://no-such-host.invalid/hook', {}, '{}');
      expect(result.error?.kind).toBe('dns');
    });
  });
});
