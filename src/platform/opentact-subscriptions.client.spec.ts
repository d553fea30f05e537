import { MockAgent } from 'undici';
import { OpentactRequestError } from './opentact-errors';
import { SUBSCRIPTION_LIST } from '../../test/fixtures/opentact-frames';
import {
  OpentactSubscriptionsClient,
  SUBSCRIPTION_LIFETIME_MS,
  SUBSCRIPTION_RENEW_MARGIN_MS,
} from './opentact-subscriptions.client';

const ORIGIN = 'http://opentact.test';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln';

describe('OpentactSubscriptionsClient', () => {
  let agent: MockAgent;
  let subscriptions: OpentactSubscriptionsClient;

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    subscriptions = new OpentactSubscriptionsClient(
      { restUrl: `${ORIGIN}/rest` },
      { dispatcher: agent },
    );
  });

  afterEach(async () => {
    await agent.close();
  });

  const pool = (): ReturnType<MockAgent['get']> => agent.get(ORIGIN);

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
      await expect(subscriptions.listSubscriptions(TOKEN)).resolves.toEqual([
        { uuid: 'u-sms', type: 'sms', channel: 'wss', is_active: true, expired_on: LATER },
      ]);
    });

    it('lists from a bare array', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, [sub('call_state', false, 'wss', null)]);
      await expect(subscriptions.listSubscriptions(TOKEN)).resolves.toEqual([
        { uuid: 'u-call_state', type: 'call_state', channel: 'wss', is_active: false },
      ]);
    });

    it('rejects an unrecognised list body', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: true });
      await expect(subscriptions.listSubscriptions(TOKEN)).rejects.toBeInstanceOf(
        OpentactRequestError,
      );
    });

    it('creates a wss subscription with the expiry asked for', async () => {
      const posted = serve([]);
      await expect(
        subscriptions.createSubscription(TOKEN, 'sms', new Date(LATER)),
      ).resolves.toMatchObject({ type: 'sms', uuid: 'new-sms', expired_on: LATER });
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
      const ensured = await subscriptions.ensureSubscriptions(
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
      const ensured = await subscriptions.ensureSubscriptions(
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
      const ensured = await subscriptions.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(api.calls).toEqual(['GET', 'PATCH u-sms', 'POST sms', 'DELETE u-sms']);
      expect(ensured).toMatchObject({ removed: ['u-sms'], reactivated: [] });
      expect(api.list.map((e) => e.uuid)).toEqual(['new-1']);
      // The server has no PATCH: it is not asked again.
      api.list[0].is_active = false;
      await subscriptions.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(api.calls.slice(4)).toEqual(['GET', 'POST sms', 'DELETE new-1']);
      expect(api.list.map((e) => e.uuid)).toEqual(['new-2']);
    });

    it('with neither call, creates one entry per lapse and stops asking for the missing calls', async () => {
      const api = fakeApi([sub('sms', false)], {});
      await subscriptions.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(api.calls).toEqual(['GET', 'PATCH u-sms', 'POST sms', 'DELETE u-sms']);
      for (let round = 0; round < 5; round++) {
        await subscriptions.ensureSubscriptions(TOKEN, ['sms'], NOW);
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
      const ensured = await subscriptions.ensureSubscriptions(TOKEN, ['sms'], NOW);
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
        subscriptions = new OpentactSubscriptionsClient(
          { restUrl: `${ORIGIN}/rest` },
          { dispatcher: agent },
        );
        const api = fakeApi([], has);
        for (let round = 0; round < 20; round++) {
          await subscriptions.ensureSubscriptions(TOKEN, ['sms', 'call_state'], NOW);
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
      await expect(subscriptions.ensureSubscriptions(TOKEN, ['sms'], NOW)).resolves.toEqual({
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
      const error = await subscriptions
        .ensureSubscriptions(TOKEN, ['sms'], NOW)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpentactRequestError);
      expect(error).toMatchObject({ code: 'OPENTACT_REFUSED' });
    });

    it('treats a list answered 200 with success: false as a failure, quoting the message', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(200, { success: false, message: `no access for ${TOKEN}`, payload: [] });
      const error = await subscriptions.listSubscriptions(TOKEN).catch((e: unknown) => e);
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
      const ensured = await subscriptions.ensureSubscriptions(TOKEN, ['sms'], NOW);
      expect(ensured.expiresAtMs).toBe(NOW + SUBSCRIPTION_LIFETIME_MS);
    });

    it('reports a failed call with its status and without the token', async () => {
      pool()
        .intercept({ path: '/rest/event/subscription', method: 'GET' })
        .reply(401, { message: `expired ${TOKEN}` });
      const error = await subscriptions.listSubscriptions(TOKEN).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'OPENTACT_REQUEST_FAILED', status: 401 });
      expect((error as Error).message).not.toContain(TOKEN);
    });
  });
});
