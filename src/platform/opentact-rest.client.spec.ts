import { MockAgent } from 'undici';
import { OpentactAuthError, OpentactRequestError } from './opentact-errors';
import { OpentactRestClient } from './opentact-rest.client';

const ORIGIN = 'http://opentact.test';
const PASSWORD = 'p4ss-w0rd-secret';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln';

describe('OpentactRestClient', () => {
  let agent: MockAgent;
  let client: OpentactRestClient;

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    client = new OpentactRestClient({ restUrl: `${ORIGIN}/rest` }, { dispatcher: agent });
  });

  afterEach(async () => {
    await agent.close();
  });

  const pool = (): ReturnType<MockAgent['get']> => agent.get(ORIGIN);

  describe('login', () => {
    it('sends HTTP Basic to GET /auth and returns payload.token', async () => {
      const basic = Buffer.from(`demo@opentact.local:${PASSWORD}`).toString('base64');
      pool()
        .intercept({
          path: '/rest/auth',
          method: 'GET',
          headers: { authorization: `Basic ${basic}` },
        })
        .reply(200, { success: true, payload: { email: 'demo@opentact.local', token: TOKEN } });
      await expect(client.login('demo@opentact.local', PASSWORD)).resolves.toBe(TOKEN);
    });

    it('throws OPENTACT_AUTH_REJECTED on 401 without echoing the password', async () => {
      pool()
        .intercept({ path: '/rest/auth', method: 'GET' })
        .reply(401, { message: `bad password ${PASSWORD}` });
      const error = await client.login('a@b.c', PASSWORD).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpentactAuthError);
      expect(error).toMatchObject({ code: 'OPENTACT_AUTH_REJECTED', status: 401, rejected: true });
      expect((error as Error).message).toContain('bad password [redacted]');
      expect((error as Error).message).not.toContain(PASSWORD);
    });

    it('throws OPENTACT_AUTH_FAILED on other statuses', async () => {
      pool().intercept({ path: '/rest/auth', method: 'GET' }).reply(503, 'busy');
      await expect(client.login('a@b.c', PASSWORD)).rejects.toMatchObject({
        code: 'OPENTACT_AUTH_FAILED',
        status: 503,
        rejected: false,
      });
    });

    it('throws OPENTACT_AUTH_BAD_RESPONSE without a token', async () => {
      pool()
        .intercept({ path: '/rest/auth', method: 'GET' })
        .reply(200, { success: true, payload: {} });
      await expect(client.login('a@b.c', PASSWORD)).rejects.toMatchObject({
        code: 'OPENTACT_AUTH_BAD_RESPONSE',
      });
    });

    it('throws OPENTACT_UNREACHABLE when nobody answers', async () => {
      pool()
        .intercept({ path: '/rest/auth', method: 'GET' })
        .replyWithError(new Error('ECONNREFUSED'));
      const error = await client.login('a@b.c', PASSWORD).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'OPENTACT_UNREACHABLE' });
      expect((error as Error).message).not.toContain(PASSWORD);
    });
  });

  describe('subscriptions', () => {
    const sub = (type: string, isActive: boolean, channel = 'wss'): Record<string, unknown> => ({
      uuid: `u-${type}`,
      type,
      channel,
      is_active: isActive,
      expired_on: '2023-01-02T07:36:44.784Z',
    });

    it('lists with X-Auth-Token from the { success, payload } wrapper', async () => {
      pool()
        .intercept({
          path: '/rest/event/subscription',
          method: 'GET',
          headers: { 'x-auth-token': TOKEN },
        })
        .reply(200, { success: true, payload: [sub('sms', true), { nope: 1 }] });
      await expect(client.listSubscriptions(TOKEN)).resolves.toEqual([
        { uuid: 'u-sms', type: 'sms', channel: 'wss', is_active: true },
      ]);
    });

    it('lists from a bare array', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, [sub('call_state', false)]);
      await expect(client.listSubscriptions(TOKEN)).resolves.toEqual([
        { uuid: 'u-call_state', type: 'call_state', channel: 'wss', is_active: false },
      ]);
    });

    it('rejects an unrecognised list body', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: true });
      await expect(client.listSubscriptions(TOKEN)).rejects.toBeInstanceOf(OpentactRequestError);
    });

    it('creates a wss subscription', async () => {
      let body: unknown;
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'POST' })
        .reply(200, (opts) => {
          body = JSON.parse(opts.body as string);
          return { success: true, payload: sub('sms', true) };
        });
      await expect(client.createSubscription(TOKEN, 'sms')).resolves.toMatchObject({ type: 'sms' });
      expect(body).toEqual({ type: 'sms', channel: 'wss', is_active: true });
    });

    it('ensureSubscriptions creates only the types without an active wss subscription', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, {
          success: true,
          payload: [sub('sms', true), sub('call_state', false), sub('balance', true, 'webhook')],
        });
      const posted: string[] = [];
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'POST' })
        .reply(200, (opts) => {
          const { type } = JSON.parse(opts.body as string) as { type: string };
          posted.push(type);
          return { success: true, payload: sub(type, true) };
        })
        .times(2);
      const created = await client.ensureSubscriptions(TOKEN, [
        'sms',
        'call_state',
        'balance',
        'sms',
      ]);
      expect(posted).toEqual(['call_state', 'balance']);
      expect(created.map((s) => s.type)).toEqual(['call_state', 'balance']);
    });

    it('reports a failed call with its status and without the token', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(401, { message: `expired ${TOKEN}` });
      const error = await client.listSubscriptions(TOKEN).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'OPENTACT_REQUEST_FAILED', status: 401 });
      expect((error as Error).message).not.toContain(TOKEN);
    });
  });
});
