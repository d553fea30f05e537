import { MockAgent } from 'undici';
import { OpentactAuthError, OpentactRequestError } from './opentact-errors';
import { EntitySearch, MAX_SEARCH_TAKE, OpentactRestClient } from './opentact-rest.client';
import {
  OpentactSubscriptionsClient,
  SUBSCRIPTION_LIFETIME_MS,
} from './opentact-subscriptions.client';

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
  /** The subscription calls share the error handling and the reading under test here. */
  const subscriptions = (): OpentactSubscriptionsClient =>
    new OpentactSubscriptionsClient({ restUrl: `${ORIGIN}/rest` }, { dispatcher: agent });

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

  describe('search', () => {
    const window = {
      modifiedFrom: new Date('2026-01-01T00:00:00.000Z'),
      modifiedTo: new Date('2026-01-01T00:05:00.000Z'),
    };

    it('pages with take and skip in the query, the window in the body and the JWT in X-Auth-Token', async () => {
      pool()
        .intercept({
          path: '/rest/sms/search/inbound?take=100&skip=200',
          method: 'POST',
          headers: { 'x-auth-token': TOKEN },
          body: JSON.stringify({
            modified_on_from: '2026-01-01T00:00:00.000Z',
            modified_on_to: '2026-01-01T00:05:00.000Z',
          }),
        })
        .reply(200, { success: true, payload: { total: 201, data: [{ uuid: 'a' }, 'junk'] } });
      await expect(
        client.search(TOKEN, EntitySearch.SmsInbound, { ...window, take: 500, skip: 200 }),
      ).resolves.toEqual({ total: 201, data: [{ uuid: 'a' }] });
    });

    it('sends created_on_to when asked, and reports a 401 with its status', async () => {
      pool()
        .intercept({
          path: '/rest/sip/app/call/search?take=100&skip=0',
          method: 'POST',
          body: JSON.stringify({
            modified_on_from: '2026-01-01T00:00:00.000Z',
            modified_on_to: '2026-01-01T00:05:00.000Z',
            created_on_to: '2026-01-01T00:04:00.000Z',
          }),
        })
        .reply(401, { message: `jwt expired ${TOKEN}` });
      const error = await client
        .search(TOKEN, EntitySearch.Calls, {
          ...window,
          createdTo: new Date('2026-01-01T00:04:00.000Z'),
          take: 100,
          skip: 0,
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'OPENTACT_REQUEST_FAILED', status: 401 });
      expect((error as Error).message).not.toContain(TOKEN);
    });

    it('refuses an answer without payload.total and payload.data', async () => {
      pool()
        .intercept({ path: '/rest/sip/app/call/search?take=10&skip=0', method: 'POST' })
        .reply(200, { success: true, payload: [] });
      await expect(
        client.search(TOKEN, EntitySearch.Calls, { ...window, take: 10, skip: 0 }),
      ).rejects.toMatchObject({ code: 'OPENTACT_BAD_RESPONSE' });
    });

    it('reports a failed search with its status and without the token', async () => {
      pool()
        .intercept({ path: '/rest/sms/search/outbound?take=1&skip=0', method: 'POST' })
        .reply(503, { message: `busy ${TOKEN}` });
      const error = await client
        .search(TOKEN, EntitySearch.SmsOutbound, { ...window, take: 1, skip: 0 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpentactRequestError);
      expect(error).toMatchObject({ code: 'OPENTACT_REQUEST_FAILED', status: 503 });
      expect((error as Error).message).not.toContain(TOKEN);
    });
  });

  describe('what an error says', () => {
    const coded = (code: string): Error => Object.assign(new Error('socket'), { code });
    const failure = (promise: Promise<unknown>): Promise<Error> =>
      promise.then(
        () => {
          throw new Error('expected a rejection');
        },
        (e: unknown) => e as Error,
      );

    it('names the cause of a login without an answer by its code, else by its name', async () => {
      pool().intercept({ path: '/rest/auth', method: 'GET' }).replyWithError(coded('ECONNRESET'));
      await expect(failure(client.login('a@b.c', PASSWORD))).resolves.toMatchObject({
        message: 'Opentact login failed: no answer (ECONNRESET)',
        status: undefined,
      });
      pool().intercept({ path: '/rest/auth', method: 'GET' }).replyWithError(new TypeError('x'));
      await expect(failure(client.login('a@b.c', PASSWORD))).resolves.toMatchObject({
        message: 'Opentact login failed: no answer (TypeError)',
      });
    });

    it('says whether the credentials were refused, with the server message, secrets redacted', async () => {
      const basic = Buffer.from(`a@b.c:${PASSWORD}`).toString('base64');
      pool()
        .intercept({ path: '/rest/auth', method: 'GET' })
        .reply(403, { message: `no (${basic})` });
      const refused = await failure(client.login('a@b.c', PASSWORD));
      expect(refused).toMatchObject({ code: 'OPENTACT_AUTH_REJECTED', status: 403 });
      expect(refused.message).toBe('Opentact rejected the credentials (HTTP 403): no ([redacted])');
    });

    it('counts 300 as a failed login and 299 as an answer', async () => {
      pool().intercept({ path: '/rest/auth', method: 'GET' }).reply(300, { message: 'moved' });
      await expect(failure(client.login('a@b.c', PASSWORD))).resolves.toMatchObject({
        code: 'OPENTACT_AUTH_FAILED',
        status: 300,
        message: 'Opentact login failed (HTTP 300): moved',
      });
      pool()
        .intercept({ path: '/rest/auth', method: 'GET' })
        .reply(299, { payload: { token: TOKEN } });
      await expect(client.login('a@b.c', PASSWORD)).resolves.toBe(TOKEN);
    });

    it('adds the server message only when it is a string in an object, cut at 200 characters', async () => {
      const answers: [string | object, string][] = [
        [{ message: 'm'.repeat(250) }, `: ${'m'.repeat(200)}`],
        [[{ message: 'in an array' }], ''],
        [{ message: 42 }, ''],
        ['not json', ''],
      ];
      for (const [body, suffix] of answers) {
        pool().intercept({ path: '/rest/auth', method: 'GET' }).reply(500, body);
        await expect(failure(client.login('a@b.c', PASSWORD))).resolves.toMatchObject({
          message: `Opentact login failed (HTTP 500)${suffix}`,
        });
      }
    });

    it('refuses a login answer whose token is empty or not under payload', async () => {
      for (const body of [{ payload: { token: '' } }, { token: TOKEN }, { payload: TOKEN }]) {
        pool().intercept({ path: '/rest/auth', method: 'GET' }).reply(200, body);
        await expect(failure(client.login('a@b.c', PASSWORD))).resolves.toMatchObject({
          code: 'OPENTACT_AUTH_BAD_RESPONSE',
          status: 200,
          message: 'Opentact login answered without payload.token',
        });
      }
    });

    it('names the method, path and status of a failed call, and a call without an answer', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(300, { message: `see ${TOKEN}` });
      await expect(failure(subscriptions().listSubscriptions(TOKEN))).resolves.toMatchObject({
        code: 'OPENTACT_REQUEST_FAILED',
        status: 300,
        message: 'Opentact GET /event/subscription failed (HTTP 300): see [redacted]',
      });
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'POST' })
        .replyWithError(coded('ETIMEDOUT'));
      await expect(
        failure(subscriptions().createSubscription(TOKEN, 'sms')),
      ).resolves.toMatchObject({
        code: 'OPENTACT_UNREACHABLE',
        message: 'Opentact POST /event/subscription: no answer (ETIMEDOUT)',
      });
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: true });
      await expect(failure(subscriptions().listSubscriptions(TOKEN))).resolves.toMatchObject({
        code: 'OPENTACT_BAD_RESPONSE',
        message: 'Opentact subscription list is neither an array nor { payload: [...] }',
      });
    });
  });

  describe('reading what Opentact answers', () => {
    it('reads each field of a listed subscription only when it has the expected type', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, {
          payload: [
            { uuid: 7, type: 'sms', is_active: 'true', expired_on: 1_700_000_000 },
            { uuid: 'u', type: 5 },
            null,
          ],
        });
      await expect(subscriptions().listSubscriptions(TOKEN)).resolves.toEqual([
        { uuid: undefined, type: 'sms', channel: '', is_active: false },
      ]);
    });

    it('sends JSON only with a body, and accepts JSON back', async () => {
      pool()
        .intercept({
          path: '/rest/event/subscription',
          method: 'GET',
          headers: (h: Record<string, string>) =>
            h.accept === 'application/json' && h['content-type'] === undefined,
        })
        .reply(200, []);
      await expect(subscriptions().listSubscriptions(TOKEN)).resolves.toEqual([]);
      pool()
        .intercept({
          path: '/rest/event/subscription',
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
        })
        .reply(200, '');
      // An empty answer: the subscription asked for stands.
      await expect(
        subscriptions().createSubscription(TOKEN, 'sms', new Date('2027-01-01T00:00:00.000Z')),
      ).resolves.toEqual({
        type: 'sms',
        channel: 'wss',
        is_active: true,
        expired_on: '2027-01-01T00:00:00.000Z',
      });
    });

    it('asks a new subscription to last a year from now unless told otherwise', async () => {
      const now = Date.parse('2026-05-01T00:00:00.000Z');
      const client = new OpentactSubscriptionsClient(
        { restUrl: `${ORIGIN}/rest` },
        { dispatcher: agent },
        { now: () => new Date(now) },
      );
      const posted: unknown[] = [];
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'POST' })
        .reply(200, (opts) => {
          posted.push(JSON.parse(opts.body as string));
          return {};
        });
      await client.createSubscription(TOKEN, 'sms');
      expect(posted).toEqual([
        expect.objectContaining({
          expired_on: new Date(now + SUBSCRIPTION_LIFETIME_MS).toISOString(),
        }),
      ]);
    });

    it('keeps take within 1..MAX_SEARCH_TAKE and skip at 0 or more, in whole numbers', async () => {
      const window = {
        modifiedFrom: new Date('2026-01-01T00:00:00.000Z'),
        modifiedTo: new Date('2026-01-01T00:05:00.000Z'),
      };
      const asked: string[] = [];
      pool()
        .intercept({
          path: (p: string) => p.startsWith('/rest/sms/search/inbound'),
          method: 'POST',
        })
        .reply(200, (opts) => {
          asked.push(opts.path);
          return { payload: { total: 0, data: [] } };
        })
        .persist();
      for (const [take, skip] of [
        [0, -5],
        [2.9, 3.7],
        [MAX_SEARCH_TAKE + 1, 0],
      ]) {
        await client.search(TOKEN, EntitySearch.SmsInbound, { ...window, take, skip });
      }
      expect(asked).toEqual([
        '/rest/sms/search/inbound?take=1&skip=0',
        '/rest/sms/search/inbound?take=2&skip=3',
        `/rest/sms/search/inbound?take=${MAX_SEARCH_TAKE}&skip=0`,
      ]);
    });

    it('refuses a search total that is not a whole number of zero or more', async () => {
      const window = {
        modifiedFrom: new Date('2026-01-01T00:00:00.000Z'),
        modifiedTo: new Date('2026-01-01T00:05:00.000Z'),
        take: 10,
        skip: 0,
      };
      for (const total of [-1, 1.5, '3']) {
        pool()
          .intercept({ path: '/rest/sip/app/call/search?take=10&skip=0', method: 'POST' })
          .reply(200, { payload: { total, data: [] } });
        await expect(client.search(TOKEN, EntitySearch.Calls, window)).rejects.toMatchObject({
          code: 'OPENTACT_BAD_RESPONSE',
          message: `Opentact POST ${EntitySearch.Calls} answered without payload.total and payload.data`,
        });
      }
      pool()
        .intercept({ path: '/rest/sip/app/call/search?take=10&skip=0', method: 'POST' })
        .reply(200, { payload: { total: 0, data: [] } });
      await expect(client.search(TOKEN, EntitySearch.Calls, window)).resolves.toEqual({
        total: 0,
        data: [],
      });
    });
  });
});
