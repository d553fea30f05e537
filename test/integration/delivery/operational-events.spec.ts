import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import { SubscriptionRegistry } from '../../../src/subscriptions/subscription-registry.service';
import {
  createSubscription,
  MAX_ATTEMPTS,
  startBridge,
  startSimulator,
  verifyWithBothLibraries,
  waitForIdle,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

interface OpsEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

describe('operational events: bridge.*', () => {
  const prefix = uniquePrefix('delivery-ops');
  let sim: OpentactSimulator;
  const apps: StartedApp[] = [];
  const receivers: ProgrammableReceiver[] = [];
  let ops: ProgrammableReceiver;
  let catchAll: ProgrammableReceiver;
  let opsSecret: string;

  const opsEvents = (): OpsEvent[] => ops.requests.map((r) => JSON.parse(r.body) as OpsEvent);

  async function start(): Promise<ProgrammableReceiver> {
    const r = await new ProgrammableReceiver({ status: 200 }).start();
    receivers.push(r);
    return r;
  }

  async function subscribe(body: Record<string, unknown>) {
    const created = await createSubscription(apps[0], body);
    for (const app of apps) {
      const registry = app.app.get(SubscriptionRegistry);
      await waitFor(async () => (await registry.findEnabled(created.id)) !== undefined, 5_000);
    }
    return created;
  }

  beforeAll(async () => {
    sim = await startSimulator();
    // Two worker processes: every notice must still be sent once.
    apps.push(await startBridge(sim, prefix));
    apps.push(await startBridge(sim, prefix, { APP_ROLE: 'worker' }));
    ops = await start();
    catchAll = await start();
    opsSecret = (await subscribe({ url: ops.url(), eventTypes: ['bridge.*'] })).secret;
    await subscribe({ url: catchAll.url(), eventTypes: ['*'] });
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.app.close()));
    await sim?.stop();
    await Promise.all(receivers.map((r) => r.stop()));
    await deletePrefix(prefix);
  });

  it('tells the operator, once, that an endpoint answered 410 and its subscription was disabled', async () => {
    const gone = await new ProgrammableReceiver({ status: 410 }).start();
    receivers.push(gone);
    const sub = await subscribe({ url: gone.url(), eventTypes: ['account.*'] });
    sim.emitScenario('balance', 'newer');
    sim.emitScenario('balance', 'newer');
    await waitFor(
      () => opsEvents().some((e) => e.type === 'bridge.subscription.disabled'),
      10_000,
      'the disabled notice',
    );
    await waitForIdle(apps[0]);
    const notices = opsEvents().filter(
      (e) => e.type === 'bridge.subscription.disabled' && e.data.subscriptionId === sub.id,
    );
    expect(notices).toHaveLength(1);
    expect(notices[0].data.cause).toBe('gone');
    expect(notices[0].data.reason).toMatch(/410/);
    verifyWithBothLibraries(opsSecret, ops.requests[0]);
  });

  it('tells the operator that a delivery died, with its last status', async () => {
    const failing = await new ProgrammableReceiver({ status: 500 }).start();
    receivers.push(failing);
    const sub = await subscribe({ url: failing.url(), eventTypes: ['sms.inbound'] });
    const [frame] = sim.emitScenario('inbound-sms', 'newer');
    await waitFor(() => failing.requests.length >= MAX_ATTEMPTS, 15_000, 'every attempt');
    await waitFor(
      () => opsEvents().some((e) => e.type === 'bridge.delivery.dead'),
      10_000,
      'the dead notice',
    );
    const dead = opsEvents().filter((e) => e.type === 'bridge.delivery.dead');
    expect(dead).toHaveLength(1);
    expect(dead[0].data).toMatchObject({
      eventId: frame.uuid,
      eventType: 'sms.inbound',
      subscriptionId: sub.id,
      attempts: MAX_ATTEMPTS,
      lastStatusCode: 500,
    });
  });

  it('sends operational events only to subscriptions that name them, never to "*"', () => {
    const types = catchAll.requests.map((r) => (JSON.parse(r.body) as OpsEvent).type);
    expect(types.length).toBeGreaterThan(0);
    expect(types.filter((t) => t.startsWith('bridge.'))).toEqual([]);
  });
});
