import { request } from 'undici';
import { OpentactSubscriptionsClient } from '../../../src/platform/opentact-subscriptions.client';
import { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { StatusDto } from '../../../src/status/dto/status.dto';
import { api } from '../../support/delivery-app';
import {
  deletePrefix,
  metricTotal,
  readiness,
  startApp,
  type StartedApp,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { opentactEnv } from '../../support/simulator-login';

const subscriptionErrors = (app: StartedApp): Promise<number> =>
  metricTotal(app, 'otb_opentact_subscription_errors_total');

describe('Opentact refusing an event subscription with HTTP 200 { success: false }', () => {
  let sim: OpentactSimulator;
  let app: StartedApp | undefined;
  const prefix = uniquePrefix('subscription-refused');

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0 });
    await sim.start();
  });

  afterAll(async () => {
    await app?.app.close();
    await sim.stop();
    await deletePrefix(prefix);
  });

  it('is counted, unready and failing in /v1/status after one attempt, retried until it is taken', async () => {
    sim.setSubscriptionApi({ refuseCreates: 2 });
    app = await startApp({
      APP_ROLE: 'all',
      ...opentactEnv(sim),
      OPENTACT_SUBSCRIBE: 'call_state,sms',
      OPENTACT_RECONNECT_BASE_MS: '400',
      OPENTACT_RECONNECT_MAX_MS: '800',
      QUEUE_PREFIX: prefix,
    });
    const started = app;
    await waitFor(async () => (await subscriptionErrors(started)) >= 1, 10_000, 'one failure');

    const unready = await readiness(started);
    expect(unready.status).toBe(503);
    expect(unready.body.details?.opentact.status).toBe('up');
    expect(unready.body.details?.opentact_subscriptions.status).toBe('down');
    expect(unready.body.details?.opentact_subscriptions.message).toContain('success: false');

    const failing = await waitFor(
      async () => {
        const reply = await api<StatusDto>(started, 'GET', '/v1/status');
        const c = reply.body.opentact?.connections?.[0];
        return c?.opentactSubscriptions?.state === 'failing' ? c.opentactSubscriptions : undefined;
      },
      5_000,
      '/v1/status to show the subscriptions failing',
    );
    expect(failing.lastError).toContain('success: false');
    expect(failing.failures).toBeGreaterThanOrEqual(1);

    const ready = await waitFor(
      async () => {
        const r = await readiness(started);
        return r.status === 200 ? r : undefined;
      },
      10_000,
      'ready once a retry is taken',
    );
    expect(ready.body.details?.opentact_subscriptions.status).toBe('up');
    expect(await subscriptionErrors(started)).toBe(2);
    expect([...sim.stats.subscriptions].sort()).toEqual(['call_state', 'sms']);
    // The refused creates left nothing behind: one entry per type.
    expect(sim.subscriptionRecords.map((r) => r.type).sort()).toEqual(['call_state', 'sms']);
  });
});

describe('renewing lapsed subscriptions against the simulator', () => {
  let sim: OpentactSimulator;

  beforeEach(async () => {
    sim = new OpentactSimulator({ port: 0 });
    await sim.start();
  });

  afterEach(async () => {
    await sim.stop();
  });

  it.each([
    ['update and remove', 'keeps one entry per type', { update: true, remove: true }, 0],
    ['update only', 'keeps one entry per type', { update: true, remove: false }, 0],
    ['remove only', 'keeps one entry per type', { update: false, remove: true }, 0],
    // Nothing can be done about a lapsed entry but leave it: one more per lapse, not per round.
    ['neither', 'gains one entry per lapse, not per round', { update: false, remove: false }, 1],
  ])('with %s, over many rounds the list %s', async (_name, _outcome, calls, growthPerLapse) => {
    sim.setSubscriptionApi(calls);
    const client = new OpentactSubscriptionsClient({ restUrl: sim.restUrl });
    const token = sim.issueToken();
    const types = ['call_state', 'sms'];
    await client.ensureSubscriptions(token, types);
    const lapses = 5;
    for (let lapse = 0; lapse < lapses; lapse++) {
      sim.expireSubscriptions();
      // Several rounds per lapse: reconnects and renewals.
      for (let round = 0; round < 4; round++) {
        const ensured = await client.ensureSubscriptions(token, types);
        expect(ensured.expiresAtMs).toBeGreaterThan(Date.now());
      }
      expect([...sim.stats.subscriptions].sort()).toEqual(types);
    }
    expect(sim.subscriptionRecords).toHaveLength(types.length * (1 + growthPerLapse * lapses));
  });
});

describe('the simulator control hook for the subscription API', () => {
  let sim: OpentactSimulator;

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0, controlPort: 0 });
    await sim.start();
  });

  afterAll(async () => {
    await sim.stop();
  });

  async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const res = await request(`${sim.controlUrl ?? ''}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, body: await res.body.json() };
  }

  it('refuses the next creates with 200 { success: false } and withdraws update or remove', async () => {
    expect(await post('/subscriptions/api', { refuseCreates: 1, update: false })).toEqual({
      status: 200,
      body: { refuseCreates: 1, update: false, remove: true },
    });
    const client = new OpentactSubscriptionsClient({ restUrl: sim.restUrl });
    const token = sim.issueToken();
    await expect(client.createSubscription(token, 'sms')).rejects.toMatchObject({
      code: 'OPENTACT_REFUSED',
      status: 200,
    });
    const created = await client.createSubscription(token, 'sms');
    expect(sim.subscriptionRecords.map((r) => r.uuid)).toEqual([created.uuid]);
    await expect(
      client.reactivateSubscription(
        token,
        { ...created, uuid: created.uuid! },
        new Date(Date.now() + 60_000),
      ),
    ).resolves.toBeUndefined();
    await expect(client.removeSubscription(token, created.uuid!)).resolves.toBe(true);
    expect(sim.subscriptionRecords).toEqual([]);
    expect((await post('/subscriptions/api', { refuseCreates: -1 })).status).toBe(400);
    expect((await post('/subscriptions/api', { update: 'yes' })).status).toBe(400);
  });
});
