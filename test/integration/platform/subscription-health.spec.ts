import { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  deletePrefix,
  metricTotal,
  readiness,
  startApp,
  type StartedApp,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { opentactEnv, SIMULATOR_LOGIN } from '../../support/simulator-login';

const subscriptionErrors = (app: StartedApp): Promise<number> =>
  metricTotal(app, 'otb_opentact_subscription_errors_total');

describe('ingest readiness and metrics while the event subscriptions cannot be ensured', () => {
  let sim: OpentactSimulator;
  let app: StartedApp | undefined;
  const prefix = uniquePrefix('subscription-health');

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0 });
    await sim.start();
  });

  afterAll(async () => {
    await app?.app.close();
    await sim.stop();
    await deletePrefix(prefix);
  });

  it('is unready and counts each failed attempt, then ready once a retry succeeds', async () => {
    sim.setSubscriptionFault(503);
    app = await startApp({
      APP_ROLE: 'ingest',
      ...opentactEnv(sim),
      OPENTACT_SUBSCRIBE: 'call_state,sms',
      OPENTACT_RECONNECT_BASE_MS: '50',
      OPENTACT_RECONNECT_MAX_MS: '200',
      QUEUE_PREFIX: prefix,
    });
    const started = app;
    await waitFor(async () => (await subscriptionErrors(started)) >= 2, 10_000, 'two failures');

    const unready = await readiness(started);
    expect(unready.status).toBe(503);
    expect(unready.body.details?.opentact.status).toBe('up');
    const check = unready.body.details?.opentact_subscriptions;
    expect(check?.status).toBe('down');
    expect(check?.message).toMatch(/could not ensure the Opentact event subscriptions/);
    expect(check?.message).toContain('HTTP 503');
    expect(check?.message).not.toContain(SIMULATOR_LOGIN.password);
    expect(check?.message).not.toContain('eyJ');

    sim.setSubscriptionFault(undefined);
    const ready = await waitFor(
      async () => {
        const r = await readiness(started);
        return r.status === 200 ? r : undefined;
      },
      10_000,
      'ready after recovery',
    );
    expect(ready.body.details?.opentact_subscriptions.status).toBe('up');
    expect([...sim.stats.subscriptions].sort()).toEqual(['call_state', 'sms']);
    const counted = await subscriptionErrors(started);
    expect(counted).toBeGreaterThanOrEqual(2);
    expect(
      started.logs.some((l) => l.includes('could not ensure Opentact event subscriptions')),
    ).toBe(true);
  });
});
