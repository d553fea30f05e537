import { MockAgent } from 'undici';
import { OpentactAuthError, OpentactRequestError } from './opentact-errors';
import { SUBSCRIPTION_LIST } from '../../test/fixtures/opentact-frames';
import {
  EntitySearch,
  MAX_SEARCH_TAKE,
  OpentactRestClient,
  SUBSCRIPTION_LIFETIME_MS,
  SUBSCRIPTION_RENEW_MARGIN_MS,
} from './opentact-rest.client';

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
    const NOW = Date.parse('2024-03-01T12:00:00.000Z');
    const LATER = '2024-06-01T00:00:00.000Z';
    const sub = (
      type: string,
      isActive: boolean,
      channel = 'wss',
      expiredOn: string | null = LATER,
    ): Record<string, unknown> => ({
      uuid: `u-${type}`,
      type,
      channel,
      is_active: isActive,
      expired_on: expiredOn,
    });

    /** Answers the list with `entries` and records every POST body. */
    function serve(entries: unknown[]): Record<string, unknown>[] {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: true, payload: entries });
      const posted: Record<string, unknown>[] = [];
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'POST' })
        .reply(200, (opts) => {
          const body = JSON.parse(opts.body as string) as Record<string, unknown>;
          posted.push(body);
          return { success: true, payload: { ...body, uuid: `new-${String(body.type)}` } };
        })
        .persist();
      return posted;
    }

    it('lists with X-Auth-Token from the { success, payload } wrapper', async () => {
      pool()
        .intercept({
          path: '/rest/event/subscription',
          method: 'GET',
          headers: { 'x-auth-token': TOKEN },
        })
        .reply(200, { success: true, payload: [sub('sms', true), { nope: 1 }] });
      await expect(client.listSubscriptions(TOKEN)).resolves.toEqual([
        { uuid: 'u-sms', type: 'sms', channel: 'wss', is_active: true, expired_on: LATER },
      ]);
    });

    it('lists from a bare array', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, [sub('call_state', false, 'wss', null)]);
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

    it('creates a wss subscription with the expiry asked for', async () => {
      const posted = serve([]);
      await expect(client.createSubscription(TOKEN, 'sms', new Date(LATER))).resolves.toMatchObject(
        { type: 'sms', uuid: 'new-sms', expired_on: LATER },
      );
      expect(posted).toEqual([{ type: 'sms', channel: 'wss', is_active: true, expired_on: LATER }]);
    });

    /**
     * An in-memory subscription API: GET lists, POST appends a new entry (each create is a new
     * uuid), PATCH and DELETE on /{uuid} only when `update` / `remove` say the server has them.
     */
    function fakeApi(
      entries: Record<string, unknown>[],
      has: { update?: boolean; remove?: boolean } = { update: true, remove: true },
    ): { calls: string[]; list: Record<string, unknown>[] } {
      const api = { calls: [] as string[], list: entries.map((e) => ({ ...e })) };
      let n = 0;
      const base = '/rest/event/subscription';
      pool()
        .intercept({ path: base, method: 'GET' })
        .reply(200, () => {
          api.calls.push('GET');
          return { success: true, payload: api.list };
        })
        .persist();
      pool()
        .intercept({ path: base, method: 'POST' })
        .reply(200, (opts) => {
          const body = JSON.parse(opts.body as string) as Record<string, unknown>;
          const entry = { ...body, uuid: `new-${++n}` };
          api.list.push(entry);
          api.calls.push(`POST ${String(body.type)}`);
          return { success: true, payload: entry };
        })
        .persist();
      const byUuid = (path: string): number =>
        api.list.findIndex((e) => `${base}/${String(e.uuid)}` === path);
      pool()
        .intercept({ path: (p) => p.startsWith(`${base}/`), method: 'PATCH' })
        .reply<Record<string, unknown>>((opts) => {
          api.calls.push(`PATCH ${opts.path.slice(base.length + 1)}`);
          const i = byUuid(opts.path);
          if (!has.update || i < 0) {
            return { statusCode: has.update ? 404 : 405, data: { success: false } };
          }
          Object.assign(api.list[i], JSON.parse(opts.body as string));
          return { statusCode: 200, data: { success: true, payload: api.list[i] } };
        })
        .persist();
      pool()
        .intercept({ path: (p) => p.startsWith(`${base}/`), method: 'DELETE' })
        .reply<Record<string, unknown>>((opts) => {
          api.calls.push(`DELETE ${opts.path.slice(base.length + 1)}`);
          const i = byUuid(opts.path);
          if (!has.remove || i < 0) {
            return { statusCode: has.remove ? 404 : 405, data: { success: false } };
          }
          api.list.splice(i, 1);
          return { statusCode: 200, data: { success: true } };
        })
        .persist();
      return api;
    }

    it('ensureSubscriptions creates only the types without an active wss subscription', async () => {
      const api = fakeApi([sub('sms', true), sub('balance', true, 'webhook')]);
      const ensured = await client.ensureSubscriptions(
        TOKEN,
        ['sms', 'call_state', 'balance', 'sms'],
        NOW,
      );
      expect(api.calls).toEqual(['GET', 'POST call_state', 'POST balance']);
      expect(ensured.created.map((s) => s.type)).toEqual(['call_state', 'balance']);
      // The kept sms entry lapses first; the new ones were asked to last a year.
      expect(ensured.expiresAtMs).toBe(Date.parse(LATER));
      for (const entry of api.list.slice(2)) {
        expect(Date.parse(entry.expired_on as string)).toBe(NOW + SUBSCRIPTION_LIFETIME_MS);
      }
    });

    it('makes a lapsed entry active again rather than creating one beside it', async () => {
      const api = fakeApi([
        // The documented list (§5.1): both entries expired long ago, one inactive.
        ...(SUBSCRIPTION_LIST.payload as Record<string, unknown>[]),
        sub('sms', true, 'wss', new Date(NOW + SUBSCRIPTION_RENEW_MARGIN_MS - 1).toISOString()),
        sub('call_state', true, 'wss', null),
        sub('balance', true, 'wss', 'not a date'),
      ]);
      const ensured = await client.ensureSubscriptions(
        TOKEN,
        ['auth', 'call_record', 'sms', 'call_state', 'balance'],
        NOW,
      );
      expect(api.calls.filter((c) => c.startsWith('POST'))).toEqual([]);
      expect(ensured.created).toEqual([]);
      expect(ensured.reactivated?.map((s) => s.type)).toEqual(['auth', 'call_record', 'sms']);
      expect(api.list).toHaveLength(5);
      for (const entry of api.list) {
        expect(entry.is_active).toBe(true);
      }
      expect(ensured.expiresAtMs).toBe(NOW + SUBSCRIPTION_LIFETIME_MS);
    });

    it('without an update call, removes the lapsed entry once its replacement exists', async () => {
      const api = fakeApi([sub('sms', false, 'wss', '2020-01-01T00:00:00.000Z')], {
        remove: true,
      });
      const ensured = await client.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(api.calls).toEqual(['GET', 'PATCH u-sms', 'POST sms', 'DELETE u-sms']);
      expect(ensured).toMatchObject({ removed: ['u-sms'], reactivated: [] });
      expect(api.list.map((e) => e.uuid)).toEqual(['new-1']);
      // The server has no PATCH: it is not asked again.
      api.list[0].is_active = false;
      await client.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(api.calls.slice(4)).toEqual(['GET', 'POST sms', 'DELETE new-1']);
      expect(api.list.map((e) => e.uuid)).toEqual(['new-2']);
    });

    it('with neither call, creates one entry per lapse and stops asking for the missing calls', async () => {
      const api = fakeApi([sub('sms', false)], {});
      await client.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(api.calls).toEqual(['GET', 'PATCH u-sms', 'POST sms', 'DELETE u-sms']);
      for (let round = 0; round < 5; round++) {
        await client.ensureSubscriptions(TOKEN, ['sms'], NOW);
      }
      // Nothing lapsed since: five lists, nothing else.
      expect(api.calls.slice(4)).toEqual(['GET', 'GET', 'GET', 'GET', 'GET']);
      expect(api.list).toHaveLength(2);
    });

    it('keeps one unexpired entry of a type and removes the expired and duplicate ones', async () => {
      const api = fakeApi([
        { ...sub('sms', true, 'wss', '2020-01-01T00:00:00.000Z'), uuid: 'old' },
        { ...sub('sms', true, 'wss', LATER), uuid: 'short' },
        { ...sub('sms', true, 'wss', '2025-01-01T00:00:00.000Z'), uuid: 'long' },
      ]);
      const ensured = await client.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(api.calls).toEqual(['GET', 'DELETE old', 'DELETE short']);
      expect(ensured).toEqual({
        created: [],
        reactivated: [],
        removed: ['old', 'short'],
        expiresAtMs: Date.parse('2025-01-01T00:00:00.000Z'),
      });
    });

    it('does not grow the list over many rounds of lapsing and ensuring', async () => {
      for (const has of [{ update: true, remove: true }, { update: true }, { remove: true }]) {
        await agent.close();
        agent = new MockAgent();
        agent.disableNetConnect();
        client = new OpentactRestClient({ restUrl: `${ORIGIN}/rest` }, { dispatcher: agent });
        const api = fakeApi([], has);
        for (let round = 0; round < 20; round++) {
          await client.ensureSubscriptions(TOKEN, ['sms', 'call_state'], NOW);
          // Time passes: every entry lapses before the next round.
          for (const entry of api.list) {
            entry.expired_on = '2020-01-01T00:00:00.000Z';
          }
        }
        expect({ has, entries: api.list.length }).toEqual({ has, entries: 2 });
      }
    });

    it('reports no expiry when none of the ensured entries expires', async () => {
      fakeApi([sub('sms', true, 'wss', null)]);
      await expect(client.ensureSubscriptions(TOKEN, ['sms'], NOW)).resolves.toEqual({
        created: [],
        reactivated: [],
        removed: [],
        expiresAtMs: undefined,
      });
    });

    it.each([
      ['success: false', { success: false, message: 'limit reached' }],
      ['success: "false"', { success: 'false' }],
      ['SUCCESS: 0', { SUCCESS: 0 }],
      ['an inactive entry', { success: true, payload: { type: 'sms', is_active: false } }],
    ])('treats a create answered 200 with %s as a failure', async (_name, body) => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: true, payload: [] });
      pool().intercept({ path: '/rest/event/subscription', method: 'POST' }).reply(200, body);
      const error = await client.ensureSubscriptions(TOKEN, ['sms'], NOW).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpentactRequestError);
      expect(error).toMatchObject({ code: 'OPENTACT_REFUSED' });
    });

    it('treats a list answered 200 with success: false as a failure, quoting the message', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: false, message: `no access for ${TOKEN}`, payload: [] });
      const error = await client.listSubscriptions(TOKEN).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'OPENTACT_REFUSED',
        status: 200,
        message:
          'Opentact GET /event/subscription answered success: false (HTTP 200): no access for [redacted]',
      });
    });

    it('trusts the expiry it asked for when the server answers with one already past', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: true, payload: [] });
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'POST' })
        .reply(200, {
          success: true,
          payload: sub('sms', true, 'wss', '2023-01-02T07:36:44.784Z'),
        });
      const ensured = await client.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(ensured.expiresAtMs).toBe(NOW + SUBSCRIPTION_LIFETIME_MS);
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
      await expect(failure(client.listSubscriptions(TOKEN))).resolves.toMatchObject({
        code: 'OPENTACT_REQUEST_FAILED',
        status: 300,
        message: 'Opentact GET /event/subscription failed (HTTP 300): see [redacted]',
      });
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'POST' })
        .replyWithError(coded('ETIMEDOUT'));
      await expect(failure(client.createSubscription(TOKEN, 'sms'))).resolves.toMatchObject({
        code: 'OPENTACT_UNREACHABLE',
        message: 'Opentact POST /event/subscription: no answer (ETIMEDOUT)',
      });
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: true });
      await expect(failure(client.listSubscriptions(TOKEN))).resolves.toMatchObject({
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
      await expect(client.listSubscriptions(TOKEN)).resolves.toEqual([
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
      await expect(client.listSubscriptions(TOKEN)).resolves.toEqual([]);
      pool()
        .intercept({
          path: '/rest/event/subscription',
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
        })
        .reply(200, '');
      // An empty answer: the subscription asked for stands.
      await expect(
        client.createSubscription(TOKEN, 'sms', new Date('2027-01-01T00:00:00.000Z')),
      ).resolves.toEqual({
        type: 'sms',
        channel: 'wss',
        is_active: true,
        expired_on: '2027-01-01T00:00:00.000Z',
      });
    });

    it('asks a new subscription to last a year from now unless told otherwise', async () => {
      const now = Date.parse('2026-05-01T00:00:00.000Z');
      jest.spyOn(Date, 'now').mockReturnValue(now);
      try {
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
      } finally {
        jest.restoreAllMocks();
      }
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
